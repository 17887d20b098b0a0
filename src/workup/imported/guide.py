"""Guides for imported variants, built at run time from the user's own table.

The page has the seed guide's shape — who fits, the neighbouring variants and what separates
them, the rated table, why per procedure — but its wording is the user's licensed table's,
shown on their machine and labelled as theirs; nothing of it is part of workup.
"""

from __future__ import annotations

import re

from workup.imported.answer import find_topic, find_variant, rated_procedures
from workup.imported.conditions import Reading, read
from workup.imported.pack import ImportedPack, ImportedVariant
from workup.types import Category

__all__ = ["render_imported_guide", "imported_variant"]

_LEGEND = ("Radiation (adult): O none, ☢ <0.1 mSv, ☢☢ 0.1-1 mSv, ☢☢☢ 1-10 mSv, ☢☢☢☢ 10-30 mSv, "
           "☢☢☢☢☢ 30-100 mSv. Ratings: 7-9 usually appropriate, 4-6 may be appropriate, 1-3 usually not appropriate.")


def imported_variant(pack: ImportedPack, variant_id: str) -> tuple[str, int] | None:
    """(topic id, variant number) of an imported variant id such as ``acr-acute-trauma-to-the-knee-1``."""
    m = re.match(r"^(acr-[a-z0-9-]+)-(\d+)$", variant_id)
    if m is None or m.group(1) not in pack.topics:
        return None
    return m.group(1), int(m.group(2))


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.;])\s+", text) if s.strip()]


def _separates(v: ImportedVariant, other: ImportedVariant) -> str:
    """What the two variants' wordings say differently, sentence by sentence."""
    mine, theirs = _sentences(v.text), _sentences(other.text)
    only_mine = [s for s in mine if s not in theirs]
    only_theirs = [s for s in theirs if s not in mine]
    if not only_mine and not only_theirs:
        return "the same wording"
    parts = []
    if only_theirs:
        parts.append("there: " + " ".join(only_theirs))
    if only_mine:
        parts.append("here: " + " ".join(only_mine))
    return " · ".join(parts)


def conditions_text(r: Reading) -> str:
    """The compiled conditions of a variant in words."""
    who = []
    if r.child is True and r.adult is not True:
        who.append("children")
    elif r.adult is True and r.child is not True:
        who.append("adults")
    if r.female is True and r.male is not True:
        who.append("female patients")
    if r.pregnant is True:
        who.append("pregnant patients")
    elif r.pregnant is False:
        who.append("not pregnant")
    if r.age_min is not None or r.age_max is not None:
        lo = f"{r.age_min:g}" if r.age_min is not None else "any age"
        hi = f"below {r.age_max:g}" if r.age_max is not None else "and older"
        who.append(f"age {lo} {hi} years")
    parts = [f"population: {', '.join(who)}" if who else "population: anyone"]
    if r.phases:
        parts.append(f"phase: {', '.join(sorted(r.phases))}")
    if r.risk:
        parts.append(f"risk: {r.risk}")
    if r.qualifiers:
        parts.append(f"qualifiers: {', '.join(sorted(r.qualifiers))}")
    if r.terms:
        parts.append(f"concepts: {'; '.join(r.terms)}")
    return " · ".join(parts)


def _cell(s: str) -> str:
    return s.replace("|", "\\|")


def render_imported_guide(pack: ImportedPack, topic: str, number: int) -> str:
    """The Markdown guide for one imported variant.

    Raises:
        EvaluationError: EV320/EV321 when the topic or variant is not imported.
    """
    t = find_topic(pack, topic)
    v = find_variant(t, number)
    procs = rated_procedures(v)
    out: list[str] = []
    w = out.append
    w(f"# {t.title} — Variant {v.number}")
    w("")
    w(f"*From your imported ACR Appropriateness Criteria table ({pack.source_name}, sha256 {pack.sha256[:12]}) [1]. "
      "The scenario wording and the notes below are your table's, shown on your machine; they are not part of workup.*")
    w("")
    w("## Who fits")
    w("")
    w(f"> {v.text}")
    w("")
    w(f"Read by workup for routing as: {conditions_text(read(v.text, note=False))}.")
    others = [o for o in t.variants if o.number != v.number]
    if others:
        w("")
        w("## Neighbouring variants, and what separates them")
        w("")
        for o in others:
            w(f"- [Variant {o.number}]({o.id}.md) — {_separates(v, o)}")
    w("")
    w("## Rated procedures")
    w("")
    w("| Rating | Category | Procedure | Radiation | Adult dose | Paediatric | Median | Evidence |")
    w("|---:|---|---|---|---|---|---:|---|")
    for p in procs:
        peds = f"{p.peds_rrl.level} {p.peds_rrl.adult_dose}".strip() if p.peds_rrl else ""
        median = f"{p.median:g}" if p.median is not None else ""
        w(f"| {p.rating} | {p.category.label} | {_cell(p.name)} | {p.rrl.level} | {p.rrl.adult_dose} | {peds} | "
          f"{median} | {_cell(p.soe or '')} |")
    w("")
    w(_LEGEND)
    notes = {r.procedure: r.recommendation for r in v.ratings if r.recommendation}
    if notes:
        w("")
        w("### Why these studies (your table's notes)")
        for p in procs:
            if p.name in notes:
                w("")
                w(f"- **{p.name}** — {p.category.label.lower()} ({p.rating}).")
                w(f"  > {notes[p.name]}")
    best = [p for p in procs if p.category is Category.USUALLY_APPROPRIATE]
    w("")
    w("## Downstream workflow")
    w("")
    if best:
        top = min(best, key=lambda p: (-p.rating, p.rrl_rank, p.name))
        w(f"No pathway is defined for imported content; {top.name} is the highest-rated study (rating {top.rating}) [1].")
    else:
        w("No pathway is defined for imported content and no study is usually appropriate; manage clinically "
          "and reassess [1].")
    w("")
    w("## References")
    w("")
    w(f"1. ACR Appropriateness Criteria®: {t.title}, from your imported table (content {pack.version}).")
    return "\n".join(out) + "\n"
