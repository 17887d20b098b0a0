"""Loading knowledge packs: the built-in pack via importlib.resources, or one from a path.

A pack is a directory::

    facts.yaml  criteria.yaml  citations.yaml  procedures.yaml
    topics/<topic-id>/topic.yaml  variants.yaml  [pathway.yaml]
    cases/*.yaml                 (golden cases; read by tests and `kb lint`, not the engine)

Every file is validated by the models in :mod:`workup.kb.schema`; all problems are
collected and raised together as one :class:`~workup.errors.KnowledgeError` whose
``details`` name the file and the path inside it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from workup import __version__
from workup.errors import KnowledgeError
from workup.kb.schema import (
    CitationDef,
    CitationsFile,
    CriteriaFile,
    Criterion,
    FactDef,
    FactsFile,
    PathwayDef,
    PathwaysFile,
    ProcedureDef,
    ProceduresFile,
    ScopeFile,
    TopicDef,
    TopicFile,
    VariantDef,
    VariantsFile,
)
from workup.problems import Problems

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class KnowledgeBase:
    """A loaded, validated knowledge pack, indexed for the engine."""

    version: str
    facts: dict[str, FactDef]
    criteria: dict[str, Criterion]
    citations: dict[str, CitationDef]
    procedures: dict[str, ProcedureDef]
    topics: dict[str, TopicDef]
    variants: dict[str, VariantDef]  # by variant id
    variant_topic: dict[str, str]  # variant id → topic id
    pathways: dict[str, PathwayDef]
    cases: list[dict[str, Any]] = field(default_factory=list)
    scope: ScopeFile | None = None  # scope.yaml: what the packs do not cover (tried before any variant)
    files: dict[str, str] = field(default_factory=dict)  # logical name → raw YAML text
    order: tuple[str, ...] = ()  # variant ids in the order they are tried
    variant_pathways: dict[str, tuple[str, ...]] = field(default_factory=dict)  # variant → pathway ids, by priority
    # Structures the engine derives from this pack once (e.g. the resolution plan), keyed by name.
    cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def topic_of(self, variant_id: str) -> TopicDef:
        return self.topics[self.variant_topic[variant_id]]

    def procedure_by_name(self, name: str) -> ProcedureDef | None:
        """Find a procedure by reference name, id or alias (case- and space-insensitive)."""
        key = " ".join(name.lower().split())
        return _name_index(self).get(key)


def _name_index(kb: KnowledgeBase) -> dict[str, ProcedureDef]:
    # Kept on the pack itself: a module-level dict keyed by id(kb) could hand a new pack the
    # index of a garbage-collected one that had the same id.
    idx = kb.cache.get("names")
    if idx is None:
        idx = {}
        for p in kb.procedures.values():
            for n in [p.id, p.reference_name, *p.aliases]:
                idx.setdefault(" ".join(n.lower().split()), p)
        kb.cache["names"] = idx
    return idx


def _parse(problems: Problems, file: str, text: str, model: type[M]) -> M | None:
    """A pack file: a YAML mapping with ``schema_version``, validated by ``model``."""
    data = problems.yaml(file, text)
    if data is not None and "schema_version" not in data:
        problems.add(file, "schema_version", "missing schema_version")
    return problems.model(file, data, model)


def _read_tree(root: Traversable | Path) -> dict[str, str]:
    """Read every YAML file under ``root`` into {relative path: text}, sorted."""
    out: dict[str, str] = {}

    def walk(node: Traversable | Path, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, rel + "/")
            elif child.name.endswith((".yaml", ".yml")):
                out[rel] = child.read_text(encoding="utf-8")

    walk(root, "")
    return out


def build(files: dict[str, str]) -> KnowledgeBase:
    """Validate and index a pack given as {relative path: YAML text}."""
    c = Problems()
    required = ["facts.yaml", "criteria.yaml", "citations.yaml", "procedures.yaml"]
    for name in required:
        if name not in files:
            c.add(name, "", "required file is missing")

    facts_f = _parse(c, "facts.yaml", files["facts.yaml"], FactsFile) if "facts.yaml" in files else None
    crit_f = _parse(c, "criteria.yaml", files["criteria.yaml"], CriteriaFile) if "criteria.yaml" in files else None
    cit_f = _parse(c, "citations.yaml", files["citations.yaml"], CitationsFile) if "citations.yaml" in files else None
    proc_f = _parse(c, "procedures.yaml", files["procedures.yaml"], ProceduresFile) if "procedures.yaml" in files else None
    scope_f = _parse(c, "scope.yaml", files["scope.yaml"], ScopeFile) if "scope.yaml" in files else None

    topics: dict[str, TopicDef] = {}
    variants: dict[str, VariantDef] = {}
    variant_topic: dict[str, str] = {}
    pathways: dict[str, PathwayDef] = {}
    topic_dirs = sorted({p.split("/")[1] for p in files if p.startswith("topics/") and p.count("/") == 2})
    for d in topic_dirs:
        tpath, vpath, ppath = f"topics/{d}/topic.yaml", f"topics/{d}/variants.yaml", f"topics/{d}/pathway.yaml"
        if tpath not in files or vpath not in files:
            c.add(f"topics/{d}", "", "a topic directory needs topic.yaml and variants.yaml")
            continue
        tf = _parse(c, tpath, files[tpath], TopicFile)
        vf = _parse(c, vpath, files[vpath], VariantsFile)
        if tf is not None:
            if tf.topic.id != d:
                c.add(tpath, "topic.id", f"topic id {tf.topic.id!r} must equal its directory name {d!r}")
            if tf.topic.id in topics:
                c.add(tpath, "topic.id", f"duplicate topic id {tf.topic.id!r}")
            topics[tf.topic.id] = tf.topic
        if vf is not None:
            for i, v in enumerate(vf.variants):
                if v.id in variants:
                    c.add(vpath, f"variants.{i}.id", f"duplicate variant id {v.id!r}")
                variants[v.id] = v
                variant_topic[v.id] = d
        if ppath in files:
            pf = _parse(c, ppath, files[ppath], PathwaysFile)
            if pf is not None:
                for i, p in enumerate(pf.pathways):
                    if p.id in pathways:
                        c.add(ppath, f"pathways.{i}.id", f"duplicate pathway id {p.id!r}")
                    pathways[p.id] = p

    cases: list[dict[str, Any]] = []
    for name in sorted(p for p in files if p.startswith("cases/")):
        data = c.yaml(name, files[name])
        if data is None:
            continue
        if data.get("schema_version") != 1 or not isinstance(data.get("cases"), list):
            c.add(name, "", "a cases file needs schema_version: 1 and a list under cases")
            continue
        for i, case in enumerate(data["cases"]):
            if isinstance(case, dict):
                cases.append({**case, "_file": name, "_index": i})
            else:
                c.add(name, f"cases.{i}", "a case must be a mapping")

    def _ids(items: list[Any] | None, file: str, kind: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, it in enumerate(items or []):
            if it.id in out:
                c.add(file, f"{kind}.{i}.id", f"duplicate id {it.id!r}")
            out[it.id] = it
        return out

    if c.items:
        raise KnowledgeError(
            f"knowledge pack is invalid: {len(c.items)} problem(s)", code="KB101", details=c.items
        )

    assert facts_f and crit_f and cit_f and proc_f  # guaranteed by the checks above
    facts = _ids(facts_f.facts, "facts.yaml", "facts")
    citations = _ids(cit_f.citations, "citations.yaml", "citations")
    procedures = _ids(proc_f.procedures, "procedures.yaml", "procedures")
    criteria: dict[str, Criterion] = {}
    for i, nc in enumerate(crit_f.criteria):
        if nc.id in criteria:
            c.add("criteria.yaml", f"criteria.{i}.id", f"duplicate id {nc.id!r}")
        criteria[nc.id] = nc.criterion
    if c.items:
        raise KnowledgeError(
            f"knowledge pack is invalid: {len(c.items)} problem(s)", code="KB102", details=c.items
        )

    order = tuple(
        v.id
        for v in sorted(
            variants.values(),
            key=lambda v: (v.rank, topics[variant_topic[v.id]].precedence if variant_topic[v.id] in topics else 999,
                           variant_topic[v.id], v.number),
        )
    )
    vp: dict[str, list[PathwayDef]] = {}
    for p in pathways.values():
        for vid in p.variants:
            vp.setdefault(vid, []).append(p)
    variant_pathways = {vid: tuple(p.id for p in sorted(ps, key=lambda p: (p.priority, p.id))) for vid, ps in vp.items()}
    digest = hashlib.sha256()
    for name in sorted(files):
        if name.startswith("cases/"):
            continue
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].encode())
        digest.update(b"\0")
    version = f"{__version__}+kb.{digest.hexdigest()[:12]}"
    return KnowledgeBase(
        version=version,
        facts=facts,
        criteria=criteria,
        citations=citations,
        procedures=procedures,
        topics=topics,
        variants=variants,
        variant_topic=variant_topic,
        pathways=pathways,
        cases=cases,
        scope=scope_f,
        files=files,
        order=order,
        variant_pathways=variant_pathways,
    )


def load(path: str | Path | None = None) -> KnowledgeBase:
    """Load and validate a knowledge pack.

    Args:
        path: a pack directory; ``None`` loads the pack shipped inside the package.

    Raises:
        KnowledgeError: listing every problem with its file and path.
    """
    if path is None:
        return default()
    p = Path(path)
    if not p.is_dir():
        raise KnowledgeError(f"knowledge pack directory not found: {p}", code="KB100")
    return build(_read_tree(p))


@lru_cache(maxsize=1)
def default() -> KnowledgeBase:
    """The built-in knowledge pack (loaded once per process)."""
    return build(_read_tree(resources.files("workup") / "knowledge"))
