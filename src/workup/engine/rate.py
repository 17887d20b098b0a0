"""Rating: a variant's procedures as rated by ACR, and the rating of an ordered study."""

from __future__ import annotations

import re

from workup.kb.load import KnowledgeBase
from workup.kb.schema import ProcedureDef, VariantDef
from workup.types import Category, OrderRating, Radiation, RatedProcedure

_RRL = re.compile(r"^\s*(O|☢+)\s*(.*?)\s*$")
_LEVEL_RANK = {"O": 0, "☢": 1, "☢☢": 2, "☢☢☢": 3, "☢☢☢☢": 4, "☢☢☢☢☢": 5}
_DOSE_BANDS = {"O": "0 mSv", "☢": "<0.1 mSv", "☢☢": "0.1-1 mSv", "☢☢☢": "1-10 mSv", "☢☢☢☢": "10-30 mSv", "☢☢☢☢☢": "30-100 mSv"}


def radiation(rrl: str) -> tuple[Radiation, int]:
    """Parse an ACR adult RRL cell ("☢☢ 0.1-1 mSv", "O 0 mSv", "Varies") into level, dose band and rank."""
    m = _RRL.match(rrl)
    if not m:
        return Radiation("varies", "varies by region"), 99
    level = m.group(1)
    return Radiation(level, _DOSE_BANDS[level]), _LEVEL_RANK[level]


def display_name(kb: KnowledgeBase, proc: ProcedureDef, region: str | None) -> tuple[str, ProcedureDef]:
    """Resolve an "area of interest" procedure to the region in question."""
    if proc.resolves and region and region in proc.resolves:
        concrete = kb.procedures[proc.resolves[region]]
        return concrete.reference_name, concrete
    return proc.reference_name, proc


def rate(kb: KnowledgeBase, variant: VariantDef, region: str | None) -> tuple[RatedProcedure, ...]:
    """Every procedure of ``variant`` with its rating, best first (ties: less radiation first)."""
    # A pure function of the pack, the variant and the region, built from frozen values: computed
    # once per (variant, region) and cached on the pack.
    cache: dict[tuple[int, str | None], tuple[VariantDef, tuple[RatedProcedure, ...]]] = kb.cache.setdefault("rate", {})
    hit = cache.get((id(variant), region))
    if hit is not None and hit[0] is variant:
        return hit[1]
    rated = _rate(kb, variant, region)
    cache[(id(variant), region)] = (variant, rated)  # keeps ``variant`` alive, so its id is not reused
    return rated


def _rate(kb: KnowledgeBase, variant: VariantDef, region: str | None) -> tuple[RatedProcedure, ...]:
    out = []
    for r in variant.ratings:
        proc = kb.procedures[r.procedure]
        name, concrete = display_name(kb, proc, region)
        rad, rank = radiation(r.rrl)
        if rank == 99 and concrete is not proc:
            typical = _typical_rrl(kb, concrete)
            if typical is not None:
                rad, rank = Radiation(f"varies ({typical[0].level} for this region)", typical[0].adult_dose), typical[1]
        out.append(
            RatedProcedure(
                procedure_id=proc.id,
                name=name,
                reference_name=r.reference_name or proc.reference_name,
                rating=r.rating,
                category=Category(r.category),
                rrl=rad,
                rrl_rank=rank,
                modality=proc.modality,
            )
        )
    out.sort(key=lambda p: (-p.rating, p.rrl_rank, p.name))
    return tuple(out)


def _typical_rrl(kb: KnowledgeBase, proc: ProcedureDef) -> tuple[Radiation, int] | None:
    """The RRL ACR gives the concrete regional procedure in any packed variant."""
    for v in kb.variants.values():
        for r in v.ratings:
            if r.procedure == proc.id:
                rad, rank = radiation(r.rrl)
                if rank != 99:
                    return rad, rank
    return None


def rate_order(
    kb: KnowledgeBase, procedures: tuple[RatedProcedure, ...], ordered: str, region: str | None
) -> OrderRating:
    """Rate an ordered study against the matched variant and list better-rated alternatives.

    Alternatives are the procedures rated higher than the order, least radiation first.
    """
    proc = kb.procedure_by_name(ordered)
    hit: RatedProcedure | None = None
    if proc is not None:
        for p in procedures:
            aoi = kb.procedures[p.procedure_id]
            if p.procedure_id == proc.id or (aoi.resolves and region and aoi.resolves.get(region) == proc.id):
                hit = p
                break
    if hit is None:
        note = (
            f"{ordered!r} is not a procedure rated for this scenario"
            if proc is not None
            else f"{ordered!r} is not a procedure workup knows"
        )
        best = tuple(sorted((p for p in procedures if p.category is Category.USUALLY_APPROPRIATE),
                            key=lambda p: (p.rrl_rank, -p.rating, p.name)))
        return OrderRating(ordered, None, best, note)
    better = tuple(sorted((p for p in procedures if p.rating > hit.rating), key=lambda p: (p.rrl_rank, -p.rating, p.name)))
    return OrderRating(ordered, hit, better)
