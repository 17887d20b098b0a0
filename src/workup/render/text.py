"""The clinician's text view of a recommendation (Rich, fixed width when asked).

Pure: the same recommendation and width always give the same text.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from workup.types import Category, Recommendation, Status

_MARK = {
    Category.USUALLY_APPROPRIATE: "●",
    Category.MAY_BE_APPROPRIATE: "◐",
    Category.MAY_BE_APPROPRIATE_DISAGREEMENT: "◐",
    Category.USUALLY_NOT_APPROPRIATE: "○",
}
_STATUS_WORD = {
    "affirmed": "present",
    "negated": "denied",
    "historical": "history",
    "hypothetical": "hypothetical — ignored",
    "family": "family history — not the patient",
    "possible": "suspected",
}


def _cites(ns: tuple[int, ...] | list[int]) -> str:
    return "".join(f"[{n}]" for n in sorted(set(ns)))


_GROUPS = {
    "red-flag": "Red flags",
    "fracture-risk": "Fracture risk",
    "findings": "Imaging results",
    "trauma-findings": "Trauma findings",
    "trauma-rules": "Trauma rule elements",
    "contraindications": "Contraindications",
    "history": "History",
    "management": "Treatment so far",
    "presentation": "Presentation",
    "demographics": "Demographics",
}


_REASON_HEAD = {
    "outside-population": "the patient is outside the population the packs cover",
    "not-spine": "not a spine presentation",
    "referred-pain": "pain referred from outside the spine",
    "not-understood": "no clinical complaint recognised",
}


def understood_items(reading: Any) -> list[dict]:
    """The reading's items for display with the matched words; each (fact, value, status) once, first mention kept."""
    out: list[dict] = []
    seen: set[tuple] = set()
    for it in reading.to_list():
        if it.get("fact") is None:
            continue
        words = it.get("phrase") or it.get("evidence", "")
        key = (it["fact"], repr(it.get("value")), it.get("status"))
        if key in seen:
            continue
        seen.add(key)
        out.append({**it, "words": words})
    return out


def _value_text(value: Any) -> str:
    if value is True:
        return ""
    if value is False:
        return " = no"
    if isinstance(value, float) and value.is_integer():
        return f" = {int(value)}"
    return f" = {value}"


def assumption_head(a) -> str:
    """The heading an assumption is listed under ("Red flags", "Presentation" …)."""
    key = "red-flag" if a.group.startswith("red-flag") else a.group
    return _GROUPS.get(key, key.replace("-", " ").capitalize() or "Other")


def assumption_groups(assumptions) -> list[tuple[str, list[str]]]:
    """Group assumptions for display: [(heading, [short label, ...])], in first-seen order."""
    out: dict[str, list[str]] = {}
    for a in assumptions:
        head = assumption_head(a)
        label = a.label or a.fact
        out.setdefault(head, []).append(label if a.value is False else f"{label} (assumed yes)")
    return list(out.items())


def render_text(rec: Recommendation, reading: Any = None, *, width: int | None = None, show_unrated: bool = True) -> str:
    """Render the text a clinician reads: variant and why, rated table, next steps, references.

    Args:
        rec: the recommendation.
        reading: the free-text reading (``workup.intake.text.TextReading``) if the input was text.
        width: fixed width in columns (default: the terminal's, or 100 when not a terminal).
        show_unrated: include usually-not-appropriate procedures in the table.
    """
    buf = StringIO()
    con = Console(file=buf, width=width or 100, color_system=None, force_terminal=False, highlight=False,
                  emoji=False, soft_wrap=False)
    p = con.print
    if rec.status is Status.RATED and rec.topic and rec.variant:
        p(Text(f"{rec.topic.source_title} — Variant {rec.variant.source_variant} ({rec.topic.publisher}, {rec.topic.version})", style="bold"))
        p(Text(rec.variant.title))
    elif rec.status is Status.NEEDS_INFORMATION:
        p(Text("Needs information — no rating until the questions below are answered", style="bold"))
    elif rec.reason is not None and rec.reason.code != "no-variant":
        p(Text(f"No criteria apply — {_REASON_HEAD.get(rec.reason.code, rec.reason.code)}", style="bold"))
    else:
        p(Text("No criteria apply — no loaded guideline scenario fits these facts", style="bold"))
    p(Text(f"status {rec.status.value} · as of {rec.as_of.isoformat()} · content {rec.content_version}", style="dim"))
    p()
    p(Text("Why", style="bold underline"))
    p(Text(rec.rationale))
    if rec.reason is not None and rec.reason.covered_by:
        p(Text("Covered by the ACR topic" + ("s " if len(rec.reason.covered_by) > 1 else " ")
               + "; ".join(rec.reason.covered_by) + "."))
    if reading is not None:
        items = understood_items(reading)
        if items:
            p()
            p(Text("What was understood", style="bold underline"))
            for it in items:
                word = _STATUS_WORD.get(it.get("status", "affirmed"), it.get("status", ""))
                p(Padding(Text(f"• {it['fact']}{_value_text(it.get('value'))} — {word}: “{it['words']}”"), (0, 0, 0, 2)))
    if rec.order is not None:
        p()
        p(Text("Your order", style="bold underline"))
        o = rec.order
        if o.procedure is not None:
            pr = o.procedure
            p(Text(f"  {pr.name}: rated {pr.rating} — {pr.category.label} · {pr.rrl.level} {pr.rrl.adult_dose}"))
        else:
            p(Text(f"  {o.note}"))
        if o.alternatives:
            p(Text("  Better-rated alternatives (least radiation first):"))
            for a in o.alternatives:
                p(Text(f"    – {a.name}: {a.rating} ({a.category.label}) · {a.rrl.level} {a.rrl.adult_dose}"))
        for c in o.candidates:
            cp = c.procedure
            p(Text(f"    – if {c.read_as}: " + (f"rated {cp.rating} — {cp.category.label}" if cp is not None
                                               else "not rated for this scenario")))
    if rec.candidates:
        p()
        p(Text("Scenarios that could apply", style="bold underline"))
        for topic, number in rec.candidates:
            p(Text(f"  • {topic} — Variant {number}"))
    if rec.procedures:
        p()
        p(Text("Rated procedures", style="bold underline"))
        t = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
        t.add_column("", width=1)
        t.add_column("Rating", justify="right")
        t.add_column("Category")
        t.add_column("Procedure")
        t.add_column("Radiation")
        t.add_column("Adult dose")
        for pr in rec.procedures:
            if not show_unrated and pr.category is Category.USUALLY_NOT_APPROPRIATE:
                continue
            t.add_row(_MARK[pr.category], str(pr.rating), pr.category.label, pr.name, pr.rrl.level, pr.rrl.adult_dose)
        p(t)
        p(Text("● usually appropriate  ◐ may be appropriate  ○ usually not appropriate · O none, ☢ <0.1, ☢☢ 0.1-1, ☢☢☢ 1-10, ☢☢☢☢ 10-30 mSv", style="dim"))
    if rec.next_steps:
        p()
        p(Text("Next steps", style="bold underline"))
        for i, s in enumerate(rec.next_steps, 1):
            head = f"{i}. [{s.kind.value}{', ' + s.urgency if s.urgency else ''}]"
            if s.reference_name:
                head += f" {s.reference_name}"
            p(Text(head, style="bold"))
            p(Padding(Text(f"{s.text} {_cites(s.citations)}"), (0, 0, 0, 3)))
    if rec.missing_facts:
        p()
        p(Text("Questions that would decide" if rec.status is not Status.RATED else "Still to find out", style="bold underline"))
        for m in rec.missing_facts:
            p(Text(f"  ? {m.question}  ({m.fact})"))
    if rec.assumptions:
        p()
        p(Text("Not mentioned, so assumed absent (say so if any is present)", style="bold underline"))
        for head, labels in assumption_groups(rec.assumptions):
            p(Padding(Text(f"{head}: " + ", ".join(x[0].lower() + x[1:] if x[:2] != x[:2].upper() else x for x in labels) + "."), (0, 0, 0, 2)))
    if rec.pitfalls:
        p()
        p(Text("Pitfalls", style="bold underline"))
        for text, cites in rec.pitfalls:
            p(Padding(Text(f"! {text} {_cites(cites)}"), (0, 0, 0, 2)))
    if rec.payer_notes:
        p()
        p(Text("Payer rules (coverage, not part of the ACR rating)", style="bold underline"))
        for text, cites in rec.payer_notes:
            p(Padding(Text(f"$ {text} {_cites(cites)}"), (0, 0, 0, 2)))
    if rec.citations:
        p()
        p(Text("References", style="bold underline"))
        for c in rec.citations:
            p(Padding(Text(f"[{c.n}] {c.text}" + (f" {c.url}" if c.url else "")), (0, 0, 0, 2)))
    return "\n".join(line.rstrip() for line in buf.getvalue().rstrip("\n").splitlines())
