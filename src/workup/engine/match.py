"""Routing: find the variant that applies, or say which facts would decide it.

Variants are tried in the knowledge base's order (global ``rank``: red-flag variants
first). The first variant whose criteria are true is selected — unless a variant tried
before it is *unknown*, in which case the answer is ``needs-information`` with the
facts that would decide. Nothing true and nothing unknown → ``no-criteria-apply``.
"""

from __future__ import annotations

from typing import NamedTuple

from workup.engine.criteria import (
    CACHE_BOUND,
    Compiled,
    CriteriaEvaluator,
    Outcome,
    compiled,
    kept,
)
from workup.kb.load import KnowledgeBase
from workup.types import Status, TraceEntry


def tri(v: bool | None) -> str:
    return "unknown" if v is None else ("true" if v else "false")


class Match(NamedTuple):
    """The routing result."""

    status: Status
    variant_id: str | None
    because: tuple[str, ...]
    blockers: tuple[tuple[str, frozenset[str]], ...]  # (variant id, unknown facts) tried before the match
    trace: tuple[TraceEntry, ...]


def match(kb: KnowledgeBase, ev: CriteriaEvaluator) -> Match:
    """Route resolved facts to a variant (see the module docstring for the rule)."""
    trace: list[TraceEntry] = []
    topic_outcome: dict[str, Outcome] = {}
    blockers: list[tuple[str, frozenset[str]]] = []
    entries: dict[tuple[str, Outcome], TraceEntry] = kb.cache.setdefault("match-trace", {})
    for vid, tid, topic_fn, variant_fn in _routes(kb):
        to = topic_outcome.get(tid)
        if to is None:
            to = topic_outcome[tid] = ev.run(topic_fn)
            trace.append(_entry(entries, f"topic:{tid}", to))
        if to.value is False:
            continue
        o = ev.run(variant_fn)
        if o.value is not False and to.value is None:
            o = Outcome(None, o.unknown | to.unknown, o.because)
        trace.append(_entry(entries, f"variant:{vid}", o))
        if o.value is True:
            if blockers:
                return Match(Status.NEEDS_INFORMATION, None, (), tuple(blockers), tuple(trace))
            return Match(Status.RATED, vid, o.because, (), tuple(trace))
        if o.value is None:
            blockers.append((vid, o.unknown))
    if blockers:
        return Match(Status.NEEDS_INFORMATION, None, (), tuple(blockers), tuple(trace))
    return Match(Status.NO_CRITERIA_APPLY, None, (), (), tuple(trace))


def _routes(kb: KnowledgeBase) -> tuple[tuple[str, str, Compiled, Compiled], ...]:
    """Per pack, once: in routing order, each variant with its topic and both compiled criteria."""
    routes = kb.cache.get("routes")
    if routes is None:
        routes = kb.cache["routes"] = tuple(
            (vid, tid, compiled(kb, kb.topics[tid].applies_when), compiled(kb, kb.variants[vid].criteria))
            for vid in kb.order
            for tid in (kb.variant_topic[vid],)
        )
    return routes


def _entry(entries: dict[tuple[str, Outcome], TraceEntry], node: str, o: Outcome) -> TraceEntry:
    """The trace entry for ``node`` with outcome ``o``: a function of the two, kept per pack.

    Most outcomes recur (they name facts, not the patient's numbers); the cache is bounded
    and never cleared.
    """
    key = (node, o)
    return entries.get(key) or kept(entries, key, TraceEntry(node, tri(o.value), _why(o)), CACHE_BOUND)


def _why(o: Outcome) -> str:
    if o.value is None:
        return "unknown: " + ", ".join(sorted(o.unknown))
    return ", ".join(o.because) if o.because else ("no condition failed" if o.value else "no condition held")
