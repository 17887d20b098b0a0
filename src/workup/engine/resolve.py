"""Fact resolution: given facts → derived facts → policy assumptions.

Facts are processed in the order of the vocabulary (``facts.yaml``). A fact that was
given is kept. Otherwise its ``derive`` rule is tried; if that stays unknown, its
``when_unknown`` policy may fill it in (recorded as an :class:`~workup.types.Assumption`).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from workup.engine.criteria import (
    CACHE_BOUND,
    Compiled,
    CriteriaEvaluator,
    compiled,
    kept,
)
from workup.errors import EvaluationError
from workup.kb.load import KnowledgeBase
from workup.types import Assumption, Evidence, Fact, FactOrigin, Facts, TraceEntry


class Resolved(NamedTuple):
    """Facts after derivation and assumptions, with what was assumed and what stayed unknown."""

    facts: Facts
    assumptions: tuple[Assumption, ...]
    unknown_inputs: dict[str, frozenset[str]]
    trace: tuple[TraceEntry, ...]


def resolve(kb: KnowledgeBase, facts: Facts, as_of: date) -> Resolved:
    """Derive and assume facts according to the vocabulary's rules.

    Args:
        kb: the knowledge base whose ``facts.yaml`` defines derivations and policies.
        facts: the facts given by the caller or extracted by intake.
        as_of: the consultation date, used for time since a dated surgery.
    """
    items: dict[str, Fact] = dict(facts.items())
    surgery_date = items.get("surgery_date")
    if surgery_date is not None and isinstance(surgery_date.value, date):
        days = (as_of - surgery_date.value).days
        if days < 0:
            # refused even beside a given days_since_surgery (which is kept otherwise): a date after the
            # consultation is a wrong date or a wrong as_of, and either may be the one misread
            raise EvaluationError(
                f"surgery_date {surgery_date.value.isoformat()} is after the consultation date {as_of.isoformat()}:"
                " an operation cannot date from after the consultation; check the surgery date and the"
                " consultation date (as_of)",
                code="EV304",
            )
        if "days_since_surgery" not in items:
            items["days_since_surgery"] = Fact(
                "days_since_surgery",
                float(days),
                FactOrigin.DERIVED,
                (Evidence(f"surgery on {surgery_date.value.isoformat()}, {days} days before {as_of.isoformat()}", source="rule"),),
            )
    assumptions, unknown_inputs, trace = _apply_rules(kb, _rules(kb), items)
    return Resolved(Facts.wrap(items), assumptions, unknown_inputs, trace)


def _apply_rules(
    kb: KnowledgeBase, rules: "_Rules", items: dict[str, Fact]
) -> tuple[tuple[Assumption, ...], dict[str, frozenset[str]], tuple[TraceEntry, ...]]:
    """Run the policies and derive rules over ``items`` (which it extends).

    A fact with a policy and no derive rule is filled in exactly when it is absent, and a derive
    rule reads only facts defined above it (``workup kb lint`` reports any that does not), so such
    facts are all filled in first; derive rules then run in vocabulary order, and the assumptions
    come out in vocabulary order.
    """
    filled = [p for p in rules.policies if p[0] not in items]
    for fid, fact, _, _ in filled:
        items[fid] = fact
    unknown_inputs: dict[str, frozenset[str]] = {}
    ev = CriteriaEvaluator(kb, Facts.wrap(items), unknown_inputs)
    late: list[tuple[str, Fact, Assumption, int]] = []  # derived facts that stayed unknown and were assumed
    trace: list[TraceEntry] = []
    derived: dict[tuple, tuple[Fact, TraceEntry]] = kb.cache.setdefault("derived", {})
    for fid, derive, gives, assumed, position in rules.derives:
        if fid in items:
            continue
        o = ev.run(derive)
        if o.value is not None and o.value in gives:
            # The derived fact and its trace entry are frozen and depend only on this key.
            key = (fid, o.value, o.because)
            hit = derived.get(key)
            if hit is None:
                why = ", ".join(o.because)
                hit = kept(derived, key, (
                    Fact(fid, o.value, FactOrigin.DERIVED, (Evidence(why, source="rule"),)),
                    TraceEntry(f"fact:{fid}", "true" if o.value else "false", f"derived from {why}"),
                ), CACHE_BOUND)
            items[fid] = hit[0]
            trace.append(hit[1])
            continue
        if o.value is None:  # a value the rule may not give leaves the fact to its own policy
            unknown_inputs[fid] = o.unknown
        if assumed is not None:
            items[fid] = assumed[0]
            late.append((fid, assumed[0], assumed[1], position))
    if late:
        filled = sorted(filled + late, key=_position)
    return tuple([p[2] for p in filled]), unknown_inputs, tuple(trace)


def _position(policy: tuple[str, Fact, Assumption, int]) -> int:
    return policy[3]


class _Rules(NamedTuple):
    """The vocabulary's rules, per pack: facts filled in by policy alone, and facts with a derive rule."""

    policies: tuple[tuple[str, Fact, Assumption, int], ...]  # (fact id, assumed fact, assumption, position)
    derives: tuple[tuple[str, Compiled, tuple[bool, ...], tuple[Fact, Assumption] | None, int], ...]  # (…, compiled rule, values it may give, policy, …)


def _rules(kb: KnowledgeBase) -> _Rules:
    """Per pack, once: in vocabulary order, the policies (with their immutable assumed facts and
    assumptions) and the compiled derive rules."""
    rules = kb.cache.get("resolve")
    if rules is None:
        policies: list[tuple[str, Fact, Assumption, int]] = []
        derives: list[tuple[str, Compiled, tuple[bool, ...], tuple[Fact, Assumption] | None, int]] = []
        for position, fd in enumerate(kb.facts.values()):
            assumed = None
            if fd.when_unknown in ("assume-false", "assume-true"):
                value = fd.when_unknown == "assume-true"
                assumed = (
                    Fact(fd.id, value, FactOrigin.ASSUMED),
                    Assumption(fd.id, value, fd.assumption or "", fd.label.split(" (")[0], fd.group),
                )
            if fd.derive is not None:
                gives = {"both": (True, False), "true": (True,), "false": (False,)}[fd.derive_gives]
                derives.append((fd.id, compiled(kb, fd.derive), gives, assumed, position))
            elif assumed is not None:
                policies.append((fd.id, *assumed, position))
        rules = kb.cache["resolve"] = _Rules(tuple(policies), tuple(derives))
    return rules
