"""Scope: what the packs do not cover, decided before any variant is tried.

The rules live in the pack's ``scope.yaml``. The first rule whose criterion is *true* ends
the consultation as ``no-criteria-apply`` with a coded reason, the complaint named in the
note's words and, where a non-spine emergency must be excluded first, its cited steps. A rule
that is unknown or false lets routing go on: scope is never guessed, so structured facts that
carry no scope facts are routed exactly as before.

Caveats (pregnancy …) are cited statements added to a rated answer when their criterion holds.
"""

from __future__ import annotations

from typing import NamedTuple

from workup.engine.criteria import CriteriaEvaluator, compiled
from workup.kb.load import KnowledgeBase
from workup.kb.schema import Caveat, ScopeRule, ScopeStep
from workup.types import Reason, TraceEntry

_TEXT_FACT = "other_complaint_text"


class Verdict(NamedTuple):
    """The scope rule that took the consultation out of the packs, and why."""

    rule: ScopeRule
    reason: Reason
    trace: tuple[TraceEntry, ...]


def outside(kb: KnowledgeBase, ev: CriteriaEvaluator) -> Verdict | None:
    """The first scope rule that holds for these facts, or None when routing should go on."""
    if kb.scope is None or not kb.scope.rules:
        return None
    trace: list[TraceEntry] = []
    for rule, fn in _rules(kb):
        o = ev.run(fn)
        if o.value is True:
            trace.append(TraceEntry(f"scope:{rule.id}", "true", ", ".join(o.because) or "holds"))
            return Verdict(rule, _reason(rule, ev), tuple(trace))
    return None


def caveats(kb: KnowledgeBase, ev: CriteriaEvaluator) -> tuple[Caveat, ...]:
    """The caveats whose criterion is true for these facts, in file order."""
    if kb.scope is None or not kb.scope.caveats:
        return ()
    return tuple(c for c, fn in _caveats(kb) if ev.run(fn).value is True)


def urgent(kb: KnowledgeBase, ev: CriteriaEvaluator) -> tuple[tuple[str, ScopeStep], ...]:
    """The urgent steps whose rule holds for these facts, each with its rule id, in file order."""
    if kb.scope is None or not kb.scope.urgent:
        return ()
    got = _compiled(kb, "scope-urgent", kb.scope.urgent)
    return tuple((r.id, st) for r, fn in got if ev.run(fn).value is True for st in r.steps)


def _reason(rule: ScopeRule, ev: CriteriaEvaluator) -> Reason:
    said = ev.facts.get(_TEXT_FACT)
    complaint = said.value if said is not None and isinstance(said.value, str) and said.value.strip() else None
    words = complaint if complaint is not None else rule.complaint_label
    text = rule.text.replace("{complaint}", _capital(words)) if "{complaint}" in rule.text else rule.text
    return Reason(rule.reason, rule.id, text, tuple(rule.covered_by), complaint)


def _capital(words: str) -> str:
    words = " ".join(words.split())
    return words[:1].upper() + words[1:]


def _compiled(kb: KnowledgeBase, key: str, items) -> tuple:
    """Per pack, once: each scope item with its criterion compiled."""
    got = kb.cache.get(key)
    if got is None:
        got = kb.cache[key] = tuple((item, compiled(kb, item.when)) for item in items)
    return got


def _rules(kb: KnowledgeBase) -> tuple[tuple[ScopeRule, object], ...]:
    assert kb.scope is not None
    return _compiled(kb, "scope-rules", kb.scope.rules)


def _caveats(kb: KnowledgeBase) -> tuple[tuple[Caveat, object], ...]:
    assert kb.scope is not None
    return _compiled(kb, "scope-caveats", kb.scope.caveats)
