"""Fact resolution: given facts → derived facts → policy assumptions.

Facts are processed in the order of the vocabulary (``facts.yaml``). A fact that was
given is kept. Otherwise its ``derive`` rule is tried; if that stays unknown, its
``when_unknown`` policy may fill it in (recorded as an :class:`~workup.types.Assumption`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workup.engine.criteria import CriteriaEvaluator
from workup.kb.load import KnowledgeBase
from workup.types import Assumption, Evidence, Fact, FactOrigin, Facts, TraceEntry


@dataclass(frozen=True, slots=True)
class Resolved:
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
    trace: list[TraceEntry] = []
    surgery_date = items.get("surgery_date")
    if surgery_date is not None and "days_since_surgery" not in items and isinstance(surgery_date.value, date):
        days = (as_of - surgery_date.value).days
        items["days_since_surgery"] = Fact(
            "days_since_surgery",
            float(days),
            FactOrigin.DERIVED,
            (Evidence(f"surgery on {surgery_date.value.isoformat()}, {days} days before {as_of.isoformat()}", source="rule"),),
        )
    view = Facts.wrap(items)
    unknown_inputs: dict[str, frozenset[str]] = {}
    ev = CriteriaEvaluator(kb, view, unknown_inputs)
    assumptions: list[Assumption] = []
    for fd in kb.facts.values():
        if fd.id in items:
            continue
        if fd.derive is not None:
            o = ev.evaluate(fd.derive)
            if o.value is not None:
                why = ", ".join(o.because)
                items[fd.id] = Fact(fd.id, o.value, FactOrigin.DERIVED, (Evidence(why, source="rule"),))
                trace.append(TraceEntry(f"fact:{fd.id}", "true" if o.value else "false", f"derived from {why}"))
                continue
            unknown_inputs[fd.id] = o.unknown
        if fd.when_unknown in ("assume-false", "assume-true"):
            value = fd.when_unknown == "assume-true"
            items[fd.id] = Fact(fd.id, value, FactOrigin.ASSUMED)
            assumptions.append(Assumption(fd.id, value, fd.assumption or "", fd.label.split(" (")[0], fd.group))
    return Resolved(Facts.wrap(items), tuple(assumptions), unknown_inputs, tuple(trace))
