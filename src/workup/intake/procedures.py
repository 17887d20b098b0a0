"""One reading of procedure names, and one order matcher built on it.

:func:`read_procedure` reads a name — an ACR reference name in a catalogue, or what a
clinician or an EHR writes in an order — into its modality, regions, contrast phase,
techniques, views, guidance and laterality, by the rules in ``intake/rules/procedures.yaml``.
:func:`match_order` compares an order's reading with every name of a catalogue and says
which study it names, or, when it cannot tell (CT or MRI without a contrast phase, two
studies that fit), which candidates remain and what would decide between them. It never
picks one of several.

The CLI's ``--order``, ``POST /v1/recommend`` and CDS Hooks all identify orders through
:func:`match_order` (via :func:`workup.consult.resolve_order` and
:func:`workup.service.hooks.identify`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import Field

from workup.errors import KnowledgeError
from workup.intake.schema import Regex, Strict
from workup.problems import Problems

__all__ = ["ProcedureReading", "OrderMatch", "read_procedure", "match_order", "SPINE_REGIONS"]

SPINE_REGIONS = frozenset({"cervical-spine", "thoracic-spine", "lumbar-spine", "spine", "sacrum"})


class _Modality(Strict):
    id: str
    pattern: Regex


class _Region(Strict):
    id: str
    pattern: Regex
    drop: list[str] = Field(default_factory=list)  # regions this phrase already says
    drop_if: list[str] = Field(default_factory=list)  # this region is dropped when one of these is read


class ProcedureWordsFile(Strict):
    """``intake/rules/procedures.yaml``."""

    schema_version: Literal[1]
    guidance: dict[str, Regex]
    modality: list[_Modality]
    phased: list[str]
    contrast: dict[str, Regex]
    regions: list[_Region]
    techniques: dict[str, Regex]
    views: dict[str, Regex]
    view_count: Regex
    laterality: dict[str, Regex]


@dataclass(frozen=True)
class ProcedureReading:
    """What a procedure name or an order's text says; ``None``/empty where it says nothing."""

    modality: str | None
    regions: frozenset[str]
    contrast: str | None  # "none", "with", "without-and-with"; None: not said (and needed)
    techniques: frozenset[str]
    views: frozenset[str]
    view_count: int | None
    guidance: str | None
    laterality: str | None
    phased: bool  # the modality needs a contrast phase to name one study

    @property
    def spine(self) -> bool:
        """Whether the name reads as spine imaging."""
        return bool(self.regions & SPINE_REGIONS)


@dataclass(frozen=True)
class OrderMatch:
    """The studies of a catalogue an order can be.

    ``status`` is ``matched`` (exactly one study, ``names[0]``), ``undecided`` (several, or
    one that the order's words do not pin down; ``undecided_by`` says what would decide:
    ``contrast`` or ``study``) or ``unknown`` (none fits).
    """

    status: Literal["matched", "undecided", "unknown"]
    names: tuple[str, ...]
    undecided_by: str | None
    reading: ProcedureReading


@dataclass(frozen=True)
class _Rules:
    guidance: tuple[tuple[str, re.Pattern[str]], ...]
    modality: tuple[tuple[str, re.Pattern[str]], ...]
    phased: frozenset[str]
    contrast: tuple[tuple[str, re.Pattern[str]], ...]
    regions: tuple[tuple[str, re.Pattern[str], frozenset[str], frozenset[str]], ...]
    techniques: tuple[tuple[str, re.Pattern[str]], ...]
    views: tuple[tuple[str, re.Pattern[str]], ...]
    view_count: re.Pattern[str]
    laterality: tuple[tuple[str, re.Pattern[str]], ...]


_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}


def parse_procedure_words(text: str) -> ProcedureWordsFile:
    """Validate ``procedures.yaml`` given as text.

    Raises:
        KnowledgeError: KB151, listing every problem with its path.
    """
    problems = Problems(prefix="intake/rules/")
    words = problems.model("procedures.yaml", problems.yaml("procedures.yaml", text), ProcedureWordsFile)
    if words is not None:
        known = {m.id for m in words.modality}
        for i, m in enumerate(words.phased):
            if m not in known:
                problems.add("procedures.yaml", f"phased.{i}", f"unknown modality {m!r}")
        regions = {r.id for r in words.regions}
        for i, r in enumerate(words.regions):
            for j, other in enumerate([*r.drop, *r.drop_if]):
                if other not in regions:
                    problems.add("procedures.yaml", f"regions.{i}", f"unknown region {other!r}")
    if problems.items or words is None:
        raise KnowledgeError(f"procedure words are invalid: {len(problems.items)} problem(s)", code="KB151",
                             details=problems.items)
    return words


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    w = parse_procedure_words(
        resources.files("workup.intake").joinpath("rules", "procedures.yaml").read_text(encoding="utf-8"))
    f = re.IGNORECASE

    def comp(d: dict[str, str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
        return tuple((k, re.compile(p, f)) for k, p in d.items())

    return _Rules(
        guidance=comp(w.guidance),
        modality=tuple((m.id, re.compile(m.pattern, f)) for m in w.modality),
        phased=frozenset(w.phased),
        contrast=comp(w.contrast),
        regions=tuple((r.id, re.compile(r.pattern, f), frozenset(r.drop), frozenset(r.drop_if)) for r in w.regions),
        techniques=comp(w.techniques),
        views=comp(w.views),
        view_count=re.compile(w.view_count, f),
        laterality=comp(w.laterality),
    )


@lru_cache(maxsize=8192)
def read_procedure(text: str) -> ProcedureReading:
    """Read a procedure name or an order's text."""
    r = _rules()
    t = " ".join(text.lower().split())
    guidance = next((g for g, rx in r.guidance if rx.search(t)), None)
    bare = t
    for _g, rx in r.guidance:
        bare = rx.sub(" ", bare)
    modality = next((m for m, rx in r.modality if rx.search(bare)), None)
    phased = modality in r.phased
    contrast = next((c for c, rx in r.contrast if rx.search(t)), None)
    if contrast is None and not phased:
        contrast = "none"
    found: set[str] = set()
    dropped: set[str] = set()
    for rid, rx, drop, _drop_if in r.regions:
        if rx.search(t):
            found.add(rid)
            dropped |= drop
    for rid, _rx, _drop, drop_if in r.regions:
        if rid in found and drop_if & found:
            dropped.add(rid)
    count = r.view_count.search(t)
    n = None
    if count is not None:
        word = count.group(1)
        n = int(word) if word.isdigit() else _NUMBERS.get(word)
    lat = [k for k, rx in r.laterality if rx.search(t)]
    return ProcedureReading(
        modality=modality,
        regions=frozenset(found - dropped),
        contrast=contrast,
        techniques=frozenset(k for k, rx in r.techniques if rx.search(t)),
        views=frozenset(k for k, rx in r.views if rx.search(t)),
        view_count=n,
        guidance=guidance,
        laterality=lat[0] if len(lat) == 1 else ("bilateral" if "bilateral" in lat else None),
        phased=phased,
    )


def _fits(order: ProcedureReading, name: ProcedureReading) -> bool:
    """Whether a catalogue name can be the ordered study (contrast aside)."""
    return (order.modality == name.modality and bool(order.regions) and order.regions == name.regions
            and order.techniques == name.techniques and order.views == name.views
            and order.guidance == name.guidance)


def match_order(text: str, names: Iterable[str]) -> OrderMatch:
    """Which of ``names`` (a catalogue's reference names) the order ``text`` names.

    An exact name (case and spacing aside) always matches. Otherwise the order must say the
    modality and region; a CT or MRI order that does not say the contrast phase is
    ``undecided`` by ``contrast`` with every phase the catalogue has as candidates, even
    when it has only one: the order may be for a phase the catalogue does not rate.
    """
    pool = sorted(dict.fromkeys(names))
    key = " ".join(text.lower().split())
    for n in pool:
        if " ".join(n.lower().split()) == key:
            return OrderMatch("matched", (n,), None, read_procedure(n))
    order = read_procedure(text)
    if order.modality is None or not order.regions:
        return OrderMatch("unknown", (), None, order)
    fits = [n for n in pool if _fits(order, read_procedure(n))]
    if order.contrast is None:
        if not fits:
            return OrderMatch("unknown", (), None, order)
        return OrderMatch("undecided", tuple(fits), "contrast", order)
    exact = [n for n in fits if read_procedure(n).contrast == order.contrast]
    loose = [n for n in fits if read_procedure(n).contrast is None]
    hits = exact or loose
    if len(hits) == 1:
        return OrderMatch("matched", (hits[0],), None, order)
    if hits:
        return OrderMatch("undecided", tuple(hits), "study", order)
    return OrderMatch("unknown", (), None, order)
