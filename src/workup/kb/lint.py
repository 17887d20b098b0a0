"""Lint a knowledge pack: every problem that schema validation alone cannot see.

:func:`lint` checks cross-references (facts, named criteria, variants, procedures,
citations, pathway nodes), pathway reachability, citations on every clinical statement,
rating/category consistency, variant numbering, exclusions on every variant that has
siblings, and the golden cases. Each problem is a
``{"where": "<file>:<path>", "message": ...}`` dict; the list is sorted so that the same
pack always gives the same report. An empty list means the pack is clean.

Paths use the same dotted form as schema errors (``variants.2.criteria.of.1.fact``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import yaml

from workup.kb.load import KnowledgeBase
from workup.kb.schema import (
    AgeRange,
    AllOf,
    AnyOf,
    CriteriaFile,
    Criterion,
    DurationRange,
    FactIs,
    FactsFile,
    NotOf,
    NumberRange,
    PathwaysFile,
    ProceduresFile,
    RefTo,
    ScopeFile,
    TopicFile,
    VariantsFile,
    duration_days,
)
from workup.types import Status, StepKind

# ACR: 7-9 usually appropriate, 4-6 may be appropriate (with or without disagreement), 1-3 usually not.
_CATEGORY_RATINGS = {
    "usually-appropriate": range(7, 10),
    "may-be-appropriate": range(4, 7),
    "may-be-appropriate-disagreement": range(4, 7),
    "usually-not-appropriate": range(1, 4),
}
_STATUSES = frozenset(s.value for s in Status)
_STEP_KINDS = frozenset(k.value for k in StepKind)
_RRL = re.compile(r"^(O 0 mSv|☢+ \S.* mSv|Varies)$")

Problem = dict[str, str]


def lint(kb: KnowledgeBase) -> list[Problem]:
    """Report every problem in ``kb``, sorted by place then message.

    Args:
        kb: a pack that passed schema validation (see :func:`workup.kb.build`).

    Returns:
        ``[{"where": "<file>:<path>", "message": ...}, ...]``; empty when the pack is clean.
    """
    lin = _Linter(kb)
    lin.run()
    unique = {(p["where"], p["message"]) for p in lin.problems}
    return [{"where": w, "message": m} for w, m in sorted(unique, key=_sort_key)]


def _sort_key(item: tuple[str, str]) -> tuple:
    # Natural order so that "variants.10" sorts after "variants.9".
    where, message = item
    return tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", where)), message


def _parse(text: str, model: type) -> Any:
    return model.model_validate(yaml.safe_load(text))


def walk_criteria(c: Criterion, path: str) -> Iterator[tuple[str, Criterion]]:
    """Yield ``(path, node)`` for ``c`` and every criterion nested in it."""
    yield path, c
    if isinstance(c, (AllOf, AnyOf)):
        for i, child in enumerate(c.of):
            yield from walk_criteria(child, f"{path}.of.{i}")
    elif isinstance(c, NotOf):
        yield from walk_criteria(c.of, f"{path}.of")


class _Linter:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.problems: list[Problem] = []

    def add(self, file: str, path: str, message: str) -> None:
        self.problems.append({"where": f"{file}:{path}" if path else file, "message": message})

    def run(self) -> None:
        files = self.kb.files
        if not files:
            # Locations come from the source files; a pack without them cannot be checked.
            self.add("(pack)", "", "no source files to lint (build the pack with workup.kb.build or load)")
            return
        if "facts.yaml" in files:
            self.facts_file(_parse(files["facts.yaml"], FactsFile))
        if "criteria.yaml" in files:
            self.criteria_file(_parse(files["criteria.yaml"], CriteriaFile))
        if "procedures.yaml" in files:
            self.procedures_file(_parse(files["procedures.yaml"], ProceduresFile))
        for name in sorted(files):
            parts = name.split("/")
            if len(parts) != 3 or parts[0] != "topics":
                continue
            if parts[2] == "topic.yaml":
                self.topic_file(name, _parse(files[name], TopicFile))
            elif parts[2] == "variants.yaml":
                self.variants_file(name, parts[1], _parse(files[name], VariantsFile))
            elif parts[2] == "pathway.yaml":
                self.pathways_file(name, _parse(files[name], PathwaysFile))
        if "scope.yaml" in files:
            self.scope_file(_parse(files["scope.yaml"], ScopeFile))
        for case in self.kb.cases:
            self.case(case)

    # ------------------------------------------------------------- shared checks

    def criterion(self, file: str, path: str, c: Criterion) -> None:
        """Check every fact and named criterion a criterion tree refers to."""
        facts = self.kb.facts
        for p, node in walk_criteria(c, path):
            if isinstance(node, FactIs):
                fd = facts.get(node.fact)
                if fd is None:
                    self.add(file, f"{p}.fact", f"unknown fact {node.fact!r}")
                    continue
                if node.is_ is not None and fd.type != "bool":
                    self.add(file, f"{p}.is", f"'is' tests a bool fact, but {node.fact!r} is {fd.type}")
                if node.equals is None and node.in_ is None and node.is_ is None and fd.type != "bool":
                    self.add(file, p, f"{node.fact!r} is {fd.type}: test it with equals or in, not as true/false")
                if node.equals is not None or node.in_ is not None:
                    key = "equals" if node.equals is not None else "in"
                    if fd.type != "enum":
                        self.add(file, f"{p}.{key}", f"{key!r} tests an enum fact, but {node.fact!r} is {fd.type}")
                    else:
                        wanted = [node.equals] if node.equals is not None else list(node.in_ or [])
                        for v in wanted:
                            if v not in (fd.values or []):
                                self.add(file, f"{p}.{key}", f"{v!r} is not a value of {node.fact!r} ({', '.join(fd.values or [])})")
            elif isinstance(node, (NumberRange, DurationRange)):
                kind = "number" if isinstance(node, NumberRange) else "duration"
                fd = facts.get(node.fact)
                if fd is None:
                    self.add(file, f"{p}.fact", f"unknown fact {node.fact!r}")
                elif fd.type != "number":
                    self.add(file, f"{p}.fact", f"a {kind} range needs a number fact, but {node.fact!r} is {fd.type}")
                elif kind == "duration" and fd.unit != "days":
                    self.add(file, f"{p}.fact", f"a duration range needs a fact in days, but {node.fact!r} is in {fd.unit}")
                self.bounds(file, p, node)
            elif isinstance(node, AgeRange):
                if "age" not in facts:
                    self.add(file, p, "an age criterion needs the fact 'age' in the vocabulary")
                self.bounds(file, p, node)
            elif isinstance(node, RefTo):
                if node.ref not in self.kb.criteria:
                    self.add(file, f"{p}.ref", f"unknown named criterion {node.ref!r}")

    def bounds(self, file: str, path: str, node: AgeRange | NumberRange | DurationRange) -> None:
        if node.gte is None and node.lt is None:
            self.add(file, path, "a range needs gte and/or lt")
            return
        if node.gte is not None and node.lt is not None:
            lo, hi = (duration_days(node.gte), duration_days(node.lt)) if isinstance(node, DurationRange) else (node.gte, node.lt)
            if lo >= hi:
                self.add(file, path, f"empty range: gte {node.gte} is not below lt {node.lt}")

    def citations(self, file: str, path: str, ids: list[str], what: str, required: bool = True) -> None:
        if required and not ids:
            self.add(file, f"{path}.citations" if path else "citations", f"{what} has no citation")
        for i, cid in enumerate(ids):
            if cid not in self.kb.citations:
                self.add(file, f"{path}.citations.{i}" if path else f"citations.{i}", f"unknown citation {cid!r}")

    # ------------------------------------------------------------- files

    def facts_file(self, ff: FactsFile) -> None:
        position = {fd.id: i for i, fd in enumerate(ff.facts)}
        for i, fd in enumerate(ff.facts):
            if fd.values is not None and fd.type != "enum":
                self.add("facts.yaml", f"facts.{i}.values", f"only enum facts have values ({fd.id!r} is {fd.type})")
            if fd.derive is None:
                continue
            path = f"facts.{i}.derive"
            self.criterion("facts.yaml", path, fd.derive)
            for p, used in self._facts_used(fd.derive, path, set()):
                if used in position and position[used] >= i:
                    self.add("facts.yaml", p, f"{fd.id!r} is derived from {used!r}, which is defined at or after it")

    def _facts_used(self, c: Criterion, path: str, seen: set[str]) -> Iterator[tuple[str, str]]:
        """Facts a criterion reads, following named criteria (each once)."""
        for p, node in walk_criteria(c, path):
            if isinstance(node, (FactIs, NumberRange, DurationRange)):
                yield f"{p}.fact", node.fact
            elif isinstance(node, AgeRange):
                yield p, "age"
            elif isinstance(node, RefTo) and node.ref in self.kb.criteria and node.ref not in seen:
                seen.add(node.ref)
                yield from ((f"{p}.ref", f) for _, f in self._facts_used(self.kb.criteria[node.ref], p, seen))

    def criteria_file(self, cf: CriteriaFile) -> None:
        for i, nc in enumerate(cf.criteria):
            self.criterion("criteria.yaml", f"criteria.{i}.criterion", nc.criterion)
            if self._refers_to(nc.id, nc.criterion, set()):
                self.add("criteria.yaml", f"criteria.{i}", f"named criterion {nc.id!r} refers to itself")

    def _refers_to(self, target: str, c: Criterion, seen: set[str]) -> bool:
        for _, node in walk_criteria(c, ""):
            if isinstance(node, RefTo):
                if node.ref == target:
                    return True
                if node.ref in self.kb.criteria and node.ref not in seen:
                    seen.add(node.ref)
                    if self._refers_to(target, self.kb.criteria[node.ref], seen):
                        return True
        return False

    def procedures_file(self, pf: ProceduresFile) -> None:
        for i, p in enumerate(pf.procedures):
            for region, target in sorted((p.resolves or {}).items()):
                if target not in self.kb.procedures:
                    self.add("procedures.yaml", f"procedures.{i}.resolves.{region}", f"unknown procedure {target!r}")

    def topic_file(self, file: str, tf: TopicFile) -> None:
        t = tf.topic
        if t.source.citation not in self.kb.citations:
            self.add(file, "topic.source.citation", f"unknown citation {t.source.citation!r}")
        self.criterion(file, "topic.applies_when", t.applies_when)
        for i, d in enumerate(t.differentials):
            self.citations(file, f"topic.differentials.{i}", d.citations, "differential")
        for i, s in enumerate(t.pitfalls):
            self.citations(file, f"topic.pitfalls.{i}", s.citations, "pitfall")
        for i, f in enumerate(t.faq):
            self.citations(file, f"topic.faq.{i}", f.citations, "FAQ answer")
        for i, s in enumerate(t.payer_notes):
            self.citations(file, f"topic.payer_notes.{i}", s.citations, "payer note")
        for i, rid in enumerate(t.related):
            if rid not in self.kb.topics:
                self.add(file, f"topic.related.{i}", f"unknown topic {rid!r}")

    def variants_file(self, file: str, topic_id: str, vf: VariantsFile) -> None:
        numbers: dict[int, str] = {}
        for i, v in enumerate(vf.variants):
            path = f"variants.{i}"
            if v.number in numbers:
                self.add(file, f"{path}.number", f"variant number {v.number} is also used by {numbers[v.number]!r}")
            else:
                numbers[v.number] = v.id
            if v.id != f"{topic_id}-{v.number}":
                self.add(file, f"{path}.id", f"variant {v.number} of topic {topic_id!r} must have id '{topic_id}-{v.number}'")
            self.criterion(file, f"{path}.criteria", v.criteria)
            self.citations(file, path, v.citations, "variant")
            if not v.exclusions and len(vf.variants) > 1:
                # A clinician guide must say who does not fit and where they go; with sibling
                # variants there is always someone who belongs to one of them instead.
                self.add(file, f"{path}.exclusions",
                         f"variant {v.id!r} has no exclusions (its topic has other variants): say who does not fit and where they go")
            for j, ex in enumerate(v.exclusions):
                self.citations(file, f"{path}.exclusions.{j}", ex.citations, "exclusion")
                if ex.routes_to is not None and ex.routes_to not in self.kb.variants:
                    self.add(file, f"{path}.exclusions.{j}.routes_to", f"unknown variant {ex.routes_to!r}")
                elif ex.routes_to == v.id:
                    self.add(file, f"{path}.exclusions.{j}.routes_to", f"an exclusion of {v.id!r} routes back to {v.id!r}")
            seen: dict[str, int] = {}
            for j, r in enumerate(v.ratings):
                rp = f"{path}.ratings.{j}"
                if r.procedure not in self.kb.procedures:
                    self.add(file, f"{rp}.procedure", f"unknown procedure {r.procedure!r}")
                if r.procedure in seen:
                    self.add(file, f"{rp}.procedure", f"procedure {r.procedure!r} is already rated at ratings.{seen[r.procedure]}")
                else:
                    seen[r.procedure] = j
                if not 1 <= r.rating <= 9:
                    self.add(file, f"{rp}.rating", f"rating {r.rating} is outside 1-9")
                elif r.rating not in _CATEGORY_RATINGS[r.category]:
                    span = _CATEGORY_RATINGS[r.category]
                    self.add(file, f"{rp}.category",
                             f"rating {r.rating} is inconsistent with {r.category} ({span.start}-{span.stop - 1})")
                if not _RRL.match(" ".join(r.rrl.split())):
                    self.add(file, f"{rp}.rrl", f"not an ACR adult RRL: {r.rrl!r}")
                if r.rationale is not None:
                    self.citations(file, f"{rp}.rationale", r.rationale.citations, "rating rationale")

    def scope_file(self, sf: ScopeFile) -> None:
        """Scope rules and caveats: criteria, citations, and the placeholders of their texts."""
        for key, items in (("rules", sf.rules), ("urgent", sf.urgent), ("caveats", sf.caveats)):
            seen: set[str] = set()
            for i, item in enumerate(items):
                path = f"{key}.{i}"
                if item.id in seen:
                    self.add("scope.yaml", f"{path}.id", f"duplicate id {item.id!r}")
                seen.add(item.id)
                self.criterion("scope.yaml", f"{path}.when", item.when)
                self.citations("scope.yaml", path, list(getattr(item, "citations", ())), f"scope {key} {item.id!r}",
                               required=key == "caveats")
                for j, st in enumerate(getattr(item, "steps", ())):
                    self.citations("scope.yaml", f"{path}.steps.{j}", list(st.citations), "a scope step")
                unknown = set(re.findall(r"\{(\w+)\}", getattr(item, "text", ""))) - {"complaint"}
                if unknown:
                    self.add("scope.yaml", f"{path}.text", f"unknown placeholder(s) {sorted(unknown)}")

    def pathways_file(self, file: str, pf: PathwaysFile) -> None:
        for i, pw in enumerate(pf.pathways):
            path = f"pathways.{i}"
            for j, vid in enumerate(pw.variants):
                if vid not in self.kb.variants:
                    self.add(file, f"{path}.variants.{j}", f"unknown variant {vid!r}")
            if pw.applies_when is not None:
                self.criterion(file, f"{path}.applies_when", pw.applies_when)
            if pw.start not in pw.nodes:
                self.add(file, f"{path}.start", f"unknown node {pw.start!r}")
            edges: dict[str, list[str]] = {}
            for nid, node in pw.nodes.items():
                np = f"{path}.nodes.{nid}"
                # An "end" node only closes a branch; every other node states something clinical.
                self.citations(file, np, node.citations, "pathway node", required=node.type != "end")
                targets: list[tuple[str, str]] = []
                for k, t in enumerate(node.transitions):
                    self.criterion(file, f"{np}.transitions.{k}.when", t.when)
                    targets.append((f"{np}.transitions.{k}.to", t.to))
                if node.else_ is not None:
                    targets.append((f"{np}.else", node.else_))
                targets.extend((f"{np}.then.{k}", t) for k, t in enumerate(node.then))
                for tp, target in targets:
                    if target not in pw.nodes:
                        self.add(file, tp, f"unknown node {target!r}")
                edges[nid] = [t for _, t in targets if t in pw.nodes]
                if node.procedure is not None and node.procedure not in self.kb.procedures:
                    self.add(file, f"{np}.procedure", f"unknown procedure {node.procedure!r}")
            reached: set[str] = set()
            stack = [pw.start] if pw.start in pw.nodes else []
            while stack:
                nid = stack.pop()
                if nid not in reached:
                    reached.add(nid)
                    stack.extend(edges.get(nid, []))
            for nid in pw.nodes:
                if nid not in reached:
                    self.add(file, f"{path}.nodes.{nid}", f"node {nid!r} is not reachable from {pw.start!r}")

    # ------------------------------------------------------------- golden cases

    def case(self, case: dict[str, Any]) -> None:
        """Check the ids a golden case refers to.

        A case has ``facts`` (fact id → value), optionally ``order`` (a procedure name), and
        ``expect`` with any of: ``status``, ``variant``, ``topic``, ``pathway``;
        ``usually_appropriate`` / ``may_be_appropriate`` / ``procedures`` (procedure names,
        a list or the keys of a mapping); ``first_step``, ``next_steps``, ``forbid_next``
        (steps naming a ``kind``, ``node``, ``reference_name``); ``missing_facts`` (fact
        ids); ``path`` (pathway node ids); ``order`` (``category``, ``alternatives``).
        """
        file, base = case["_file"], f"cases.{case['_index']}"
        facts = case.get("facts")
        if isinstance(facts, dict):
            for k in facts:
                if k not in self.kb.facts:
                    self.add(file, f"{base}.facts.{k}", f"unknown fact {k!r}")
        elif facts is not None:
            self.add(file, f"{base}.facts", "facts must be a mapping of fact id to value")
        order = case.get("order")
        if isinstance(order, str) and self.kb.procedure_by_name(order) is None:
            self.add(file, f"{base}.order", f"unknown procedure {order!r}")
        expect = case.get("expect")
        if not isinstance(expect, dict):
            self.add(file, f"{base}.expect", "a case needs an expect mapping")
            return
        ep = f"{base}.expect"
        status = expect.get("status")
        if status is not None and status not in _STATUSES:
            self.add(file, f"{ep}.status", f"unknown status {status!r}")
        for key, known, kind in (("variant", self.kb.variants, "variant"), ("topic", self.kb.topics, "topic"),
                                 ("pathway", self.kb.pathways, "pathway")):
            v = expect.get(key)
            if v is not None and v not in known:
                self.add(file, f"{ep}.{key}", f"unknown {kind} {v!r}")
        pw = self.kb.pathways.get(expect.get("pathway", ""))
        nodes = set(pw.nodes) if pw is not None else {n for p in self.kb.pathways.values() for n in p.nodes}
        where_nodes = f"pathway {pw.id!r}" if pw is not None else "any pathway"

        def procedure(path: str, name: Any) -> None:
            if isinstance(name, str) and self.kb.procedure_by_name(name) is None:
                self.add(file, path, f"unknown procedure {name!r}")

        def step(path: str, st: Any) -> None:
            if not isinstance(st, dict):
                self.add(file, path, "a step must be a mapping (kind, node, reference_name, urgency)")
                return
            if "kind" in st and st["kind"] not in _STEP_KINDS:
                self.add(file, f"{path}.kind", f"unknown step kind {st['kind']!r}")
            for nk in ("reference_name", "procedure"):
                procedure(f"{path}.{nk}", st.get(nk))
            node = st.get("node")
            if isinstance(node, str) and node not in nodes and not node.startswith("default:"):
                self.add(file, f"{path}.node", f"unknown node {node!r} in {where_nodes}")

        for key in ("usually_appropriate", "may_be_appropriate", "procedures", "ratings"):
            items = expect.get(key)
            if isinstance(items, dict):
                for k in items:
                    procedure(f"{ep}.{key}.{k}", k)
            elif isinstance(items, list):
                for j, it in enumerate(items):
                    if isinstance(it, dict):
                        for nk in ("procedure", "reference_name", "name", "id"):
                            procedure(f"{ep}.{key}.{j}.{nk}", it.get(nk))
                    else:
                        procedure(f"{ep}.{key}.{j}", it)
        if "first_step" in expect:
            step(f"{ep}.first_step", expect["first_step"])
        for key in ("next_steps", "forbid_next"):
            items = expect.get(key)
            if isinstance(items, list):
                for j, st in enumerate(items):
                    step(f"{ep}.{key}.{j}", st)
        missing = expect.get("missing_facts")
        if isinstance(missing, list):
            for j, m in enumerate(missing):
                fid = m.get("fact") if isinstance(m, dict) else m
                if isinstance(fid, str) and fid not in self.kb.facts:
                    self.add(file, f"{ep}.missing_facts.{j}", f"unknown fact {fid!r}")
        path = expect.get("path")
        if isinstance(path, list):
            for j, nid in enumerate(path):
                if isinstance(nid, str) and nid not in nodes:
                    self.add(file, f"{ep}.path.{j}", f"unknown node {nid!r} in {where_nodes}")
        eo = expect.get("order")
        if isinstance(eo, dict):
            if "category" in eo and eo["category"] not in _CATEGORY_RATINGS:
                self.add(file, f"{ep}.order.category", f"unknown category {eo['category']!r}")
            if isinstance(eo.get("alternatives"), list):
                for j, name in enumerate(eo["alternatives"]):
                    procedure(f"{ep}.order.alternatives.{j}", name)
