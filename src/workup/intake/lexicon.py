"""The free-text reader's rules, loaded from the data files in ``workup/intake/rules/``.

Pure data and validation: no spaCy here. :func:`load_lexicon` reads ``targets.yaml``
(what a phrase means), ``context.yaml`` (ConText cues: negation, family, hypothetical,
possible, historical) and ``values.yaml`` (age, sex, durations), checks every fact id
against the vocabulary and every pattern for syntax, and caches the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

import yaml

from workup.errors import KnowledgeError

REGION_RANKS = {"complaint": 1, "symptom": 2, "finding": 3, "surgery": 4, "body": 5}
REGIONS = ("cervical", "thoracic", "lumbar", "other", "level", "words", "limb")
# the fact that records prior surgery on each spinal region (shared by the text and ICD-10 readers)
PRIOR_SURGERY_FACT = {"cervical": "prior_surgery_cervical", "thoracic": "prior_surgery_thoracic", "lumbar": "prior_surgery_lumbar"}
LAYERS = ("main", "course", "value")
CONTEXT_CATEGORIES = (
    "NEGATED_EXISTENCE",
    "POSSIBLE_EXISTENCE",
    "HISTORICAL",
    "HYPOTHETICAL",
    "FAMILY",
    "TERMINATE",
    "PSEUDO",
    "NEGATION_STOP",
    "AFFIRMATIVE",
)


@dataclass(frozen=True)
class SurgerySpec:
    """What a prior-surgery mention says: the operation, and its region when the words fix it."""

    type: str
    region: str | None = None


@dataclass(frozen=True)
class TargetSpec:
    """One target rule: a pattern and what an affirmed, negated or possible mention means."""

    id: str
    pattern: str
    layer: str = "main"
    facts: Mapping[str, Any] = field(default_factory=dict)
    negated: Mapping[str, Any] = field(default_factory=dict)
    possible: Mapping[str, Any] = field(default_factory=dict)
    historical: str = "keep"
    region: str | None = None
    region_rank: int = 9
    surgery: SurgerySpec | None = None
    value: str | None = None
    blanket: str | None = None
    default: Mapping[str, Any] = field(default_factory=dict)
    list_negation: bool = True
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContextSpec:
    """One ConText cue."""

    literal: str
    category: str
    direction: str
    max_scope: int | None = None


@dataclass(frozen=True)
class Lexicon:
    """Everything the reader knows, as loaded from the rule files."""

    targets: tuple[TargetSpec, ...]
    context: tuple[ContextSpec, ...]
    values: Mapping[str, Any]
    suspected_forms: Mapping[str, str]

    by_id: Mapping[str, TargetSpec]
    # Words that give a finding its own affirmative polarity ("elevated", "positive", "new"):
    # context.yaml's AFFIRMATIVE cues, read by the reader itself (not by medspaCy's ConText).
    affirmative: frozenset[str] = frozenset()


def _read(name: str) -> Any:
    text = resources.files("workup.intake").joinpath("rules", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _default_negated(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {k: False for k, v in facts.items() if v is True}


def _default_possible(facts: Mapping[str, Any], forms: Mapping[str, str]) -> dict[str, Any]:
    return {forms.get(k, k): True for k, v in facts.items() if v is True}


def _check_pattern(where: str, pattern: str, problems: list[dict]) -> None:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as e:
        problems.append({"where": where, "message": f"bad regular expression: {e}"})


@lru_cache(maxsize=1)
def load_lexicon(fact_ids: frozenset[str] | None = None) -> Lexicon:
    """Load and check the rule files (cached).

    Args:
        fact_ids: the vocabulary to check fact ids against (``None`` skips the check).

    Raises:
        KnowledgeError: listing every problem, with the rule it is in.
    """
    problems: list[dict] = []
    raw = _read("targets.yaml")
    forms = dict(raw.get("suspected_forms") or {})
    targets: list[TargetSpec] = []
    seen: set[str] = set()
    for i, r in enumerate(raw.get("rules") or []):
        where = f"intake/rules/targets.yaml rules[{i}] {r.get('id', '?')}"
        rid = r.get("id")
        if not rid or rid in seen:
            problems.append({"where": where, "message": "missing or duplicate id"})
            continue
        seen.add(rid)
        unknown = set(r) - {
            "id", "pattern", "layer", "facts", "negated", "possible", "historical", "region",
            "region_rank", "surgery", "value", "blanket", "default", "list_negation", "examples",
        }
        if unknown:
            problems.append({"where": where, "message": f"unknown key(s) {sorted(unknown)}"})
        _check_pattern(where, r.get("pattern", ""), problems)
        facts = dict(r.get("facts") or {})
        negated = dict(r["negated"]) if "negated" in r else _default_negated(facts)
        possible = dict(r["possible"]) if "possible" in r else _default_possible(facts, forms)
        default = dict(r.get("default") or {})
        if r.get("layer", "main") not in LAYERS:
            problems.append({"where": where, "message": f"layer must be one of {LAYERS}"})
        if r.get("region") is not None and r["region"] not in REGIONS:
            problems.append({"where": where, "message": f"region must be one of {REGIONS}"})
        rank = r.get("region_rank")
        if rank is not None and rank not in REGION_RANKS:
            problems.append({"where": where, "message": f"region_rank must be one of {sorted(REGION_RANKS)}"})
        if fact_ids is not None:
            for part in (facts, negated, possible, default):
                for k in part:
                    if k not in fact_ids:
                        problems.append({"where": where, "message": f"unknown fact {k!r}"})
        surgery = None
        if r.get("surgery"):
            s = r["surgery"]
            surgery = SurgerySpec(str(s.get("type", "spine surgery")), s.get("region"))
        targets.append(
            TargetSpec(
                id=rid,
                pattern=r.get("pattern", ""),
                layer=r.get("layer", "main"),
                facts=facts,
                negated=negated,
                possible=possible,
                historical=r.get("historical", "keep"),
                region=r.get("region"),
                region_rank=REGION_RANKS.get(rank, 9) if rank else (2 if r.get("region") else 9),
                surgery=surgery,
                value=r.get("value"),
                blanket=r.get("blanket"),
                default=default,
                list_negation=bool(r.get("list_negation", True)),
                examples=tuple(str(x) for x in r.get("examples") or ()),
            )
        )
    craw = _read("context.yaml")
    defaults = craw.get("defaults") or {}
    context: list[ContextSpec] = []
    seen_cues: set[str] = set()
    for i, r in enumerate(craw.get("rules") or []):
        cat = r.get("category")
        if cat not in CONTEXT_CATEGORIES:
            problems.append({"where": f"intake/rules/context.yaml rules[{i}]", "message": f"unknown category {cat!r}"})
            continue
        scope = r.get("max_scope", (defaults.get(cat) or {}).get("max_scope"))
        for lit in r.get("literals") or []:
            key = str(lit).lower()
            if key in seen_cues:
                problems.append({"where": f"intake/rules/context.yaml rules[{i}]", "message": f"cue {lit!r} is listed twice (use BIDIRECTIONAL)"})
            seen_cues.add(key)
            context.append(ContextSpec(str(lit), cat, r.get("direction", "BIDIRECTIONAL"), scope))
    values = _read("values.yaml")
    if problems:
        raise KnowledgeError(f"{len(problems)} problem(s) in the intake rules", code="KB150", details=problems)
    affirmative = frozenset(c.literal.lower() for c in context if c.category == "AFFIRMATIVE")
    return Lexicon(tuple(targets), tuple(context), values, forms, {t.id: t for t in targets}, affirmative)
