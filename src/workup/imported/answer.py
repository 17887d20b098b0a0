"""Answers for imported variants: the same recommendation document as the curated packs.

A caller names an imported topic (its normalised ACR title or id) and a variant number;
:func:`answer` rates every procedure the user's table rates for that variant (the table's
ratings, never rewritten), with adult and paediatric radiation, the median and the strength
of evidence, and rates an ordered study through the one order matcher
(:func:`workup.intake.procedures.match_order`) with better-rated alternatives.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from datetime import date
from functools import lru_cache

from workup.errors import EvaluationError
from workup.imported.pack import ImportedPack, ImportedTopic, ImportedVariant
from workup.imported.table import topic_key
from workup.intake.procedures import match_order, read_procedure
from workup.types import (
    Category,
    Citation,
    Facts,
    OrderRating,
    RatedProcedure,
    Radiation,
    Recommendation,
    Status,
    TopicRef,
    TraceEntry,
    VariantRef,
)

__all__ = ["find_topic", "find_variant", "rated_procedures", "rate_imported_order", "answer"]

PUBLISHER = "American College of Radiology"
_LEVEL = re.compile(r"^\s*(O|☢+)\s*(.*?)\s*$")
_RANK = {"O": 0, "☢": 1, "☢☢": 2, "☢☢☢": 3, "☢☢☢☢": 4, "☢☢☢☢☢": 5}


def _radiation(cell: str) -> tuple[Radiation, int]:
    """A radiation cell as the table gives it: level and dose band; rank 99 when varying or not given."""
    if not cell:
        return Radiation("not-given", "not given in the table"), 99
    m = _LEVEL.match(cell)
    if m is None:
        return Radiation("varies", cell), 99
    return Radiation(m.group(1), m.group(2) or ""), _RANK[m.group(1)]


def find_topic(pack: ImportedPack, name: str) -> ImportedTopic:
    """An imported topic by id, normalised title, or a spelling that differs only in punctuation.

    Raises:
        EvaluationError: EV320 naming the closest titles.
    """
    if name in pack.topics:
        return pack.topics[name]
    key = topic_key(name)
    for t in pack.topics.values():
        if topic_key(t.title) == key:
            return t
    titles = [t.title for t in pack.topics.values()]
    near = difflib.get_close_matches(name, titles, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else "; see `workup kb imported`"
    raise EvaluationError(f"no imported topic {name!r}{hint}", code="EV320")


def find_variant(topic: ImportedTopic, number: int) -> ImportedVariant:
    """One variant of an imported topic by its ACR number.

    Raises:
        EvaluationError: EV321 listing the numbers there are.
    """
    for v in topic.variants:
        if v.number == number:
            return v
    raise EvaluationError(f"{topic.title} has no variant {number}; it has "
                          f"{', '.join(str(v.number) for v in topic.variants)}", code="EV321")


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@lru_cache(maxsize=4096)
def rated_procedures(variant: ImportedVariant) -> tuple[RatedProcedure, ...]:
    """Every procedure the table rates for ``variant``, best first (ties: less radiation first)."""
    out = []
    for r in variant.ratings:
        rad, rank = _radiation(r.adult_rrl)
        peds = _radiation(r.peds_rrl)[0] if r.peds_rrl else None
        out.append(RatedProcedure(
            procedure_id=_slug(r.procedure), name=r.procedure, reference_name=r.procedure, rating=r.rating,
            category=Category(r.category), rrl=rad, rrl_rank=rank,
            modality=read_procedure(r.procedure).modality or "other",
            peds_rrl=peds, median=r.median, soe=r.soe or None))
    out.sort(key=lambda p: (-p.rating, p.rrl_rank, p.name))
    return tuple(out)


def _rate_one(procedures: tuple[RatedProcedure, ...], ordered: str, name: str | None) -> OrderRating:
    hit = next((p for p in procedures if p.reference_name == name), None)
    if hit is None:
        best = tuple(sorted((p for p in procedures if p.category is Category.USUALLY_APPROPRIATE),
                            key=lambda p: (p.rrl_rank, -p.rating, p.name)))
        return OrderRating(ordered, None, best, f"{ordered!r} is not a procedure rated for this scenario")
    better = tuple(sorted((p for p in procedures if p.rating > hit.rating), key=lambda p: (p.rrl_rank, -p.rating, p.name)))
    return OrderRating(ordered, hit, better, read_as=name if name != ordered else None)


def rate_imported_order(procedures: tuple[RatedProcedure, ...], ordered: str) -> OrderRating:
    """Rate an order against an imported variant's procedures, as the one order matcher reads it."""
    m = match_order(ordered, [p.reference_name for p in procedures])
    if m.status == "matched":
        return _rate_one(procedures, ordered, m.names[0])
    if m.status == "unknown":
        return _rate_one(procedures, ordered, None)
    what = "whether contrast is given" if m.undecided_by == "contrast" else "which of these studies it is"
    cands = tuple(replace(_rate_one(procedures, ordered, n), read_as=n) for n in m.names)
    return OrderRating(ordered, None, (), f"the order does not say {what}; each study it could be is rated below",
                       undecided_by=m.undecided_by, candidates=cands)


def answer(pack: ImportedPack, topic: str, number: int, as_of: date, order: str | None = None) -> Recommendation:
    """The recommendation for one imported variant chosen by the caller.

    Raises:
        EvaluationError: EV320/EV321 when the topic or variant is not imported.
    """
    t = find_topic(pack, topic)
    v = find_variant(t, number)
    procedures = rated_procedures(v)
    cite = Citation(1, f"imported:{t.id}", f"ACR Appropriateness Criteria®: {t.title} — ratings from your "
                    f"imported table ({pack.source_name}, sha256 {pack.sha256[:12]}); not part of workup")
    return Recommendation(
        status=Status.RATED,
        content_version=pack.version,
        as_of=as_of,
        topic=TopicRef(t.id, t.title, PUBLISHER, t.title, f"imported table {pack.sha256[:12]}"),
        variant=VariantRef(v.id, v.text, v.number),
        rationale=f"{t.title}, Variant {v.number}, as chosen; every rating is your imported table's.",
        procedures=procedures,
        next_steps=(),
        missing_facts=(),
        assumptions=(),
        facts=Facts(),
        citations=(cite,),
        trace=(TraceEntry(f"variant:{v.id}", "taken", "chosen by the caller"),),
        order=rate_imported_order(procedures, order) if order else None,
    )


def routed_answer(pack: ImportedPack, text: str, exclude: frozenset[str], as_of: date,
                  order: str | None = None) -> Recommendation | None:
    """Route free text into the imported topics (never one in ``exclude``); ``None`` when none fits.

    A rated route gives :func:`answer` for its variant, with why; an undecided one gives
    ``needs-information`` with its ``candidates`` and the questions that separate them.
    """
    from workup.imported.route import router
    from workup.types import MissingFact

    r = router(pack, exclude).route(text)
    if r.status == "no-criteria-apply":
        return None
    if r.status == "rated" and r.topic is not None and r.variant is not None:
        rec = answer(pack, r.topic.id, r.variant.number, as_of, order)
        said = ", ".join(r.note.terms) or "the words of the note"
        return replace(rec, rationale=f"Routed from the note to {r.topic.title}, Variant {r.variant.number} "
                       f"(read: {said}); every rating is your imported table's.",
                       trace=(TraceEntry(f"variant:{r.variant.id}", "true", r.reason),))
    decides = tuple(f"{slug_topic(pack, t)}-{n}" for t, n in r.candidates)
    return Recommendation(
        status=Status.NEEDS_INFORMATION, content_version=pack.version, as_of=as_of, topic=None, variant=None,
        rationale=f"More information is needed: {r.reason}.", procedures=(), next_steps=(),
        missing_facts=tuple(MissingFact(k, q, decides) for k, q in r.questions), assumptions=(), facts=Facts(),
        citations=(), trace=tuple(TraceEntry(f"variant:{d}", "unknown", r.reason) for d in decides),
        candidates=r.candidates)


def slug_topic(pack: ImportedPack, title: str) -> str:
    """The id of an imported topic by its normalised title."""
    return find_topic(pack, title).id
