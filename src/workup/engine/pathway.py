"""Walking a declarative pathway to the next steps for the patient's current state.

From the start node, decision nodes take the first transition whose condition is true
(or ``else`` when all are false). A condition that is unknown stops that branch and
records the facts that would decide it. Action nodes emit a next step and continue with
each node in ``then``. The walk never visits a node twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

from workup.engine.criteria import (
    CACHE_BOUND,
    Compiled,
    CriteriaEvaluator,
    compiled,
    kept,
)
from workup.engine.rate import display_name
from workup.kb.load import KnowledgeBase
from workup.kb.schema import PathwayDef, ProcedureDef
from workup.types import NextStep, StepKind, TraceEntry

STEP_KINDS = {  # a pathway or scope node's type → the kind of step it gives
    "imaging": StepKind.IMAGING,
    "referral": StepKind.REFERRAL,
    "labs": StepKind.LABS,
    "assessment": StepKind.CLINICAL_ASSESSMENT,
    "conservative-care": StepKind.CONSERVATIVE_CARE,
    "escalate": StepKind.ESCALATE,
    "defer": StepKind.DEFER,
}


class Walk(NamedTuple):
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
    nodes = _compiled_nodes(kb, pathway)
    # Steps and trace entries are functions of the node and what decided it (outcomes name
    # facts, rarely the patient's numbers): kept per pack, bounded, never cleared.
    taken: dict[tuple, TraceEntry] = kb.cache.setdefault("walk-taken", {})
    emitted: dict[tuple, tuple[NextStep, TraceEntry]] = kb.cache.setdefault("walk-emitted", {})
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
        node = nodes[nid]
        where = node.where
        path.append(nid)
        if node.kind is None:  # decision
            nxt: str | None = None
            stopped = False
            for i, (when, to) in enumerate(node.transitions):
                o = ev.run(when)
                if o.value is True:
                    nxt = to
                    key = (where, to, o.because)
                    trace.append(taken.get(key) or kept(
                        taken, key, TraceEntry(where, "taken", f"→ {to} because {', '.join(o.because)}"), CACHE_BOUND))
                    break
                if o.value is None:
                    unknown.append((nid, o.unknown))
                    trace.append(TraceEntry(where, "unknown", f"transition {i} → {to} needs {', '.join(sorted(o.unknown))}"))
                    stopped = True
                    break
            if stopped:
                continue
            if nxt is None:
                nxt = node.else_
                trace.append(node.otherwise)
            if nxt:
                queue.append(nxt)
            continue
        if node.kind == "end":
            trace.append(TraceEntry(where, "emitted", "end of pathway"))
            continue
        ref = pid = None
        if node.procedure is not None:
            name, concrete = display_name(kb, node.procedure, region)
            ref, pid = name, concrete.id
        numbers = cite(node.citations)
        key = (where, numbers, ref)
        hit = emitted.get(key) or kept(emitted, key, (
            NextStep(node.kind, node.text, nid, numbers, ref, pid, node.urgency),
            TraceEntry(where, "emitted", node.action + (f" {ref}" if ref else "")),
        ), CACHE_BOUND)
        steps.append(hit[0])
        trace.append(hit[1])
        queue.extend(node.then)
    return Walk(tuple(steps), tuple(path), tuple(unknown), tuple(trace))


class _Node(NamedTuple):
    """A pathway node as the walk uses it: criteria compiled, names resolved (per pack, once)."""

    where: str  # trace node name, "pathway:<id>/<node>"
    kind: StepKind | Literal["end"] | None  # None for a decision node
    action: str  # the node's type as written in the pack
    transitions: tuple[tuple[Compiled, str], ...]
    else_: str | None
    otherwise: TraceEntry  # the trace entry when no transition holds
    then: tuple[str, ...]
    text: str
    citations: list[str]
    procedure: ProcedureDef | None
    urgency: str | None


def _compiled_nodes(kb: KnowledgeBase, pathway: PathwayDef) -> dict[str, _Node]:
    per_pathway: dict[str, tuple[PathwayDef, dict[str, _Node]]] = kb.cache.setdefault("pathway-nodes", {})
    hit = per_pathway.get(pathway.id)
    if hit is not None and hit[0] is pathway:
        return hit[1]
    nodes = {
        nid: _Node(
            where=f"pathway:{pathway.id}/{nid}",
            kind=None if n.type == "decision" else ("end" if n.type == "end" else STEP_KINDS[n.type]),
            action=n.type,
            transitions=tuple((compiled(kb, t.when), t.to) for t in n.transitions),
            else_=n.else_,
            otherwise=TraceEntry(f"pathway:{pathway.id}/{nid}", "taken", f"→ {n.else_} (else)"),
            then=tuple(n.then),
            text=n.text,
            citations=n.citations,
            procedure=kb.procedures[n.procedure] if n.procedure else None,
            urgency=n.urgency,
        )
        for nid, n in pathway.nodes.items()
    }
    per_pathway[pathway.id] = (pathway, nodes)
    return nodes
