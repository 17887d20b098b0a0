"""What-if findings for a pathway, derived from the knowledge pack (never hand-listed).

A pathway node with a ``finding`` label ("Radiographs: hardware failure", "MRI
contraindicated") is a result a clinician may come back with. The facts that lead there
are the conditions of the decision transitions on a route from the start node. For each
labelled node this module proposes fact overrides that satisfy one such route; the caller
then lets the engine decide whether the node is really reached (see :func:`offers`), so
a what-if is only offered when the engine agrees that it changes the path.

A what-if may change a fact the scenario *stated* (given, read from the text or codes, or
derived from those) rather than one the engine assumed: "within about 3 months of surgery"
for a patient whose note says two years. Such a change is a :class:`Contradiction`, and
:func:`warning` words it for the page, so nobody takes the hypothetical for the record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from workup.kb.load import KnowledgeBase
from workup.kb.schema import Criterion, PathwayDef, duration_days
from workup.service.values import format_value
from workup.types import Fact, FactOrigin, Facts, Recommendation

MAX_ROUTES = 400  # simple routes explored per pathway; pathways are small trees
_STOP = {"the", "and", "with", "or", "on", "of", "no", "not", "a", "an", "in", "to", "for", "after", "done", "shown"}


@dataclass(frozen=True, slots=True)
class Candidate:
    """Fact overrides that should lead the walk to ``node``."""

    node: str
    label: str
    facts: tuple[tuple[str, Any], ...]  # (fact id, JSON value), sorted by fact id


@dataclass(frozen=True, slots=True)
class Contradiction:
    """A change to a fact the scenario stated: ``fact`` was ``was`` and becomes ``now`` (JSON values)."""

    fact: str
    was: Any
    now: Any


@dataclass(frozen=True, slots=True)
class WhatIf:
    """A what-if the engine confirmed: applying ``facts`` puts ``node`` on the path.

    ``contradictions`` are the changes among ``facts`` to facts the scenario stated.
    """

    node: str
    label: str
    facts: tuple[tuple[str, Any], ...]
    rec: Recommendation
    contradictions: tuple[Contradiction, ...] = ()


_LEAF = re.compile(r"([a-z][a-z0-9_]*)=")  # the "fact=value" leaves a derived fact's rule evidence names
_MAX_DEPTH = 16  # derived facts read facts defined above them: chains are short


def stated(facts: Facts, fid: str) -> bool:
    """True when ``fid`` has a value the scenario stated rather than one the engine assumed.

    Given, read from text, coded (ICD-10, FHIR) and derived from any of those are stated.
    An assumed fact is not, nor a derived one whose rule read only assumed facts (no fever,
    no drainage, … so "infection not suspected"). An unknown fact is not stated.
    """
    return _stated(facts, facts.get(fid), 0)


def _stated(facts: Facts, fact: Fact | None, depth: int) -> bool:
    if fact is None or fact.origin is FactOrigin.ASSUMED:
        return False
    if fact.origin is not FactOrigin.DERIVED:
        return True
    rule = [e for e in fact.evidence if e.source == "rule"]
    leaves = {m for e in rule for m in _LEAF.findall(e.text) if m in facts and m != fact.id}
    if not rule or not leaves or depth >= _MAX_DEPTH:
        return True  # derived from something other than facts (a surgery date, an order): stated
    return any(_stated(facts, facts.get(m), depth + 1) for m in leaves)


def contradictions(
    facts: Facts, changes: tuple[tuple[str, Any], ...], record: Mapping[str, Any] | None = None
) -> tuple[Contradiction, ...]:
    """The ``changes`` (fact id, JSON value) that would contradict a stated fact.

    Args:
        facts: the scenario's facts as the engine resolved them (with their origins).
        changes: the what-if's fact values.
        record: values the scenario stated for facts that earlier what-ifs already changed;
            these are what a change contradicts (or restores), not the earlier what-if's value.
    """
    record = record or {}
    out = []
    for fid, now in changes:
        if fid in record:
            was = record[fid]
        elif stated(facts, fid):
            was = _json(facts[fid].value)
        else:
            continue  # assumed or unknown: changing it says nothing against the record
        if was != now:
            out.append(Contradiction(fid, was, now))
    return tuple(out)


def warning(kb: KnowledgeBase, c: Contradiction, applied: bool = True) -> str:
    """The page's words for a contradiction: what the scenario stated, for a what-if applied or offered."""
    fd = kb.facts.get(c.fact)
    label = fd.label if fd is not None else c.fact
    was = format_value(c.was, fd.unit if fd is not None else None)
    lead = "You changed a fact the note stated" if applied else "This what-if changes a fact the note stated"
    return f"{lead}: {label} was {was}."


def satisfy(kb: KnowledgeBase, c: Criterion) -> dict[str, Any] | None:
    """Return one assignment of facts (JSON values) that makes ``c`` true, or None."""
    kind = c.type
    if kind == "fact":
        if c.equals is not None:
            out: dict[str, Any] | None = {c.fact: c.equals}
        elif c.in_:
            out = {c.fact: c.in_[0]}
        else:
            out = {c.fact: True if c.is_ is None else c.is_}
        return _underlying(kb, out)
    if kind == "ref":
        ref = kb.criteria.get(c.ref)
        return None if ref is None else satisfy(kb, ref)
    if kind == "not":
        inner = c.of
        if inner.type == "fact" and inner.equals is None and inner.in_ is None:
            return _underlying(kb, {inner.fact: not (True if inner.is_ is None else inner.is_)})
        return None
    if kind == "all":
        merged: dict[str, Any] = {}
        for child in c.of:
            part = satisfy(kb, child)
            if part is None or any(k in merged and merged[k] != v for k, v in part.items()):
                return None
            merged.update(part)
        return merged
    if kind == "any":
        for child in c.of:
            part = satisfy(kb, child)
            if part is not None:
                return part
        return None
    if kind in ("age", "number"):
        fact = "age" if kind == "age" else c.fact
        value = c.gte if c.gte is not None else (c.lt / 2 if c.lt is not None else None)
        return None if value is None else {fact: value}
    if kind == "duration":
        if c.gte is not None:
            return {c.fact: duration_days(c.gte)}
        if c.lt is not None:
            return {c.fact: duration_days(c.lt) / 2}
    return None


def _underlying(kb: KnowledgeBase, facts: dict[str, Any]) -> dict[str, Any]:
    """Replace a derived fact by base facts that derive it, so the scenario stays coherent."""
    out: dict[str, Any] = {}
    for fid, value in facts.items():
        fd = kb.facts.get(fid)
        if fd is not None and fd.derive is not None and value is True:
            base = satisfy(kb, fd.derive)
            if base is not None:
                out.update(base)
                continue
        out[fid] = value
    return out


def _routes(pathway: PathwayDef) -> Iterator[tuple[str, list[Criterion]]]:
    """Yield (node, conditions taken on the way) for simple routes from the start node."""
    count = 0
    stack: list[tuple[str, list[Criterion], frozenset[str]]] = [(pathway.start, [], frozenset([pathway.start]))]
    while stack and count < MAX_ROUTES:
        nid, conds, seen = stack.pop()
        count += 1
        yield nid, conds
        node = pathway.nodes[nid]
        nxt: list[tuple[str, list[Criterion]]] = [(t.to, conds + [t.when]) for t in node.transitions]
        if node.else_:
            nxt.append((node.else_, conds))
        nxt.extend((n, conds) for n in node.then)
        for to, cs in reversed(nxt):
            if to in pathway.nodes and to not in seen:
                stack.append((to, cs, seen | {to}))


def candidates(kb: KnowledgeBase, pathway: PathwayDef) -> tuple[Candidate, ...]:
    """Every distinct route-derived override set for every node with a ``finding`` label."""
    out: list[Candidate] = []
    seen: set[tuple[str, tuple]] = set()
    for nid, conds in _routes(pathway):
        label = pathway.nodes[nid].finding
        if not label or not conds:
            continue
        merged: dict[str, Any] = {}
        ok = True
        for c in conds:
            part = satisfy(kb, c)
            if part is None or any(k in merged and merged[k] != v for k, v in part.items()):
                ok = False
                break
            merged.update(part)
        if not ok:
            continue
        facts = tuple(sorted(merged.items()))
        if (nid, facts) in seen:
            continue
        seen.add((nid, facts))
        out.append(Candidate(nid, label, facts))
    return tuple(out)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2 and w not in _STOP}


def _overlap(kb: KnowledgeBase, label: str, facts: tuple[tuple[str, Any], ...]) -> int:
    want = _words(label)
    have: set[str] = set()
    for fid, _ in facts:
        have |= _words(fid.replace("_", " "))
        fd = kb.facts.get(fid)
        if fd is not None:
            have |= _words(fd.label)
    return len(want & have)


def offers(
    kb: KnowledgeBase,
    rec: Recommendation,
    current: dict[str, Any],
    run: Callable[[dict[str, Any]], Recommendation],
    record: Mapping[str, Any] | None = None,
) -> tuple[WhatIf, ...]:
    """The what-ifs worth offering for ``rec``, each confirmed by running the engine.

    Args:
        kb: the knowledge base.
        rec: the current recommendation (its pathway is the one explored).
        current: the fact overrides (JSON values) already applied by the clinician.
        run: evaluates the same scenario with the given overrides.
        record: the stated values of facts earlier what-ifs changed (see :func:`contradictions`).

    Returns:
        One what-if per finding label, in pathway order: the candidate with the fewest
        newly changed facts, then the one whose facts best match the label's words.
        Candidates that would change a fact the label does not name are left out. Each
        carries its contradictions of facts the scenario stated.
    """
    if not rec.pathway_id or rec.pathway_id not in kb.pathways:
        return ()
    pathway = kb.pathways[rec.pathway_id]
    on_path = set(rec.path)
    best: dict[str, tuple[tuple[int, int, int], WhatIf]] = {}
    order: list[str] = []
    for i, cand in enumerate(candidates(kb, pathway)):
        if cand.node in on_path:
            continue
        changed = [(f, v) for f, v in cand.facts if _json_value(rec, f) != v]
        if not changed or any(not _named(kb, cand.label, f) for f, _ in changed):
            continue
        key = (len(changed), -_overlap(kb, cand.label, cand.facts), i)
        if cand.label in best and best[cand.label][0] <= key:
            continue
        overrides = {**current, **dict(cand.facts)}
        out = run(overrides)
        if out.pathway_id != rec.pathway_id or cand.node not in out.path:
            continue
        if cand.label not in best:
            order.append(cand.label)
        best[cand.label] = (key, WhatIf(cand.node, cand.label, cand.facts, out,
                                        contradictions(rec.facts, tuple(changed), record)))
    return tuple(best[label][1] for label in order)


def _named(kb: KnowledgeBase, label: str, fid: str) -> bool:
    """True when the finding label names the fact (shares a word with its id or label).

    A what-if changes only what it says: "MRI contraindicated" must not quietly add a
    radiograph result or a red flag to reach its node. Such findings are offered once
    the scenario already has the other facts (what-ifs are cumulative).
    """
    fd = kb.facts.get(fid)
    words = _words(fid.replace("_", " ")) | (_words(fd.label) if fd is not None else set())
    return bool(_words(label) & words)


def _json_value(rec: Recommendation, fid: str) -> Any:
    fact = rec.facts.get(fid)
    return None if fact is None else _json(fact.value)


def _json(v: Any) -> Any:
    return v.isoformat() if hasattr(v, "isoformat") else v
