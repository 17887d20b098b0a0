"""Walking a declarative pathway to the next steps for the patient's current state.

From the start node, decision nodes take the first transition whose condition is true
(or ``else`` when all are false). A condition that is unknown stops that branch and
records the facts that would decide it. Action nodes emit a next step and continue with
each node in ``then``. The walk never visits a node twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from workup.engine.criteria import CriteriaEvaluator
from workup.engine.rate import display_name
from workup.kb.load import KnowledgeBase
from workup.kb.schema import PathwayDef
from workup.types import NextStep, StepKind, TraceEntry

_KIND = {
    "imaging": StepKind.IMAGING,
    "referral": StepKind.REFERRAL,
    "labs": StepKind.LABS,
    "assessment": StepKind.CLINICAL_ASSESSMENT,
    "conservative-care": StepKind.CONSERVATIVE_CARE,
    "escalate": StepKind.ESCALATE,
    "defer": StepKind.DEFER,
}


@dataclass(frozen=True, slots=True)
class Walk:
    """The steps emitted, the nodes visited, and what stopped the walk."""

    steps: tuple[NextStep, ...]
    path: tuple[str, ...]
    unknown: tuple[tuple[str, frozenset[str]], ...]  # (decision node, facts that would decide it)
    trace: tuple[TraceEntry, ...]


def walk(
    kb: KnowledgeBase,
    pathway: PathwayDef,
    ev: CriteriaEvaluator,
    region: str | None,
    cite: Callable[[list[str]], tuple[int, ...]],
) -> Walk:
    """Walk ``pathway`` for the facts in ``ev``; ``cite`` numbers citation ids."""
    steps: list[NextStep] = []
    path: list[str] = []
    unknown: list[tuple[str, frozenset[str]]] = []
    trace: list[TraceEntry] = []
    queue = [pathway.start]
    seen: set[str] = set()
    while queue:
        nid = queue.pop(0)
        if nid in seen:
            continue
        seen.add(nid)
        node = pathway.nodes[nid]
        path.append(nid)
        if node.type == "decision":
            nxt: str | None = None
            stopped = False
            for i, t in enumerate(node.transitions):
                o = ev.evaluate(t.when)
                if o.value is True:
                    nxt = t.to
                    trace.append(TraceEntry(f"pathway:{pathway.id}/{nid}", "taken", f"→ {t.to} because {', '.join(o.because)}"))
                    break
                if o.value is None:
                    unknown.append((nid, o.unknown))
                    trace.append(TraceEntry(f"pathway:{pathway.id}/{nid}", "unknown", f"transition {i} → {t.to} needs {', '.join(sorted(o.unknown))}"))
                    stopped = True
                    break
            if stopped:
                continue
            if nxt is None:
                nxt = node.else_
                trace.append(TraceEntry(f"pathway:{pathway.id}/{nid}", "taken", f"→ {nxt} (else)"))
            if nxt:
                queue.append(nxt)
            continue
        if node.type == "end":
            trace.append(TraceEntry(f"pathway:{pathway.id}/{nid}", "emitted", "end of pathway"))
            continue
        ref = pid = None
        if node.procedure:
            name, concrete = display_name(kb, kb.procedures[node.procedure], region)
            ref, pid = name, concrete.id
        steps.append(
            NextStep(
                kind=_KIND[node.type],
                text=node.text,
                node_id=nid,
                citations=cite(node.citations),
                reference_name=ref,
                procedure_id=pid,
                urgency=node.urgency,
            )
        )
        trace.append(TraceEntry(f"pathway:{pathway.id}/{nid}", "emitted", node.type + (f" {ref}" if ref else "")))
        queue.extend(node.then)
    return Walk(tuple(steps), tuple(path), tuple(unknown), tuple(trace))
