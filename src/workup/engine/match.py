"""Routing: find the variant that applies, or say which facts would decide it.

Variants are tried in the knowledge base's order (global ``rank``: red-flag variants
first). The first variant whose criteria are true is selected — unless a variant tried
before it is *unknown*, in which case the answer is ``needs-information`` with the
facts that would decide. Nothing true and nothing unknown → ``no-criteria-apply``.
"""

from __future__ import annotations

from dataclasses import dataclass

from workup.engine.criteria import CriteriaEvaluator, Outcome
from workup.kb.load import KnowledgeBase
from workup.types import Status, TraceEntry


def tri(v: bool | None) -> str:
    return "unknown" if v is None else ("true" if v else "false")


@dataclass(frozen=True, slots=True)
class Match:
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
    for vid in kb.order:
        tid = kb.variant_topic[vid]
        to = topic_outcome.get(tid)
        if to is None:
            to = ev.evaluate(kb.topics[tid].applies_when)
            topic_outcome[tid] = to
            trace.append(TraceEntry(f"topic:{tid}", tri(to.value), _why(to)))
        if to.value is False:
            continue
        o = ev.evaluate(kb.variants[vid].criteria)
        if o.value is not False and to.value is None:
            o = Outcome(None, o.unknown | to.unknown, o.because)
        trace.append(TraceEntry(f"variant:{vid}", tri(o.value), _why(o)))
        if o.value is True:
            if blockers:
                return Match(Status.NEEDS_INFORMATION, None, (), tuple(blockers), tuple(trace))
            return Match(Status.RATED, vid, o.because, (), tuple(trace))
        if o.value is None:
            blockers.append((vid, o.unknown))
    if blockers:
        return Match(Status.NEEDS_INFORMATION, None, (), tuple(blockers), tuple(trace))
    return Match(Status.NO_CRITERIA_APPLY, None, (), (), tuple(trace))


def _why(o: Outcome) -> str:
    if o.value is None:
        return "unknown: " + ", ".join(sorted(o.unknown))
    return ", ".join(o.because) if o.because else ("no condition failed" if o.value else "no condition held")
