"""Markdown view of a recommendation (for notes, tickets and the CDS card detail).

Pure and deterministic.
"""

from __future__ import annotations

from typing import Any

from workup.render.text import _REASON_HEAD, _STATUS_WORD, _value_text, assumption_groups, understood_items
from workup.types import Recommendation, Status


def _cites(ns) -> str:
    return "".join(f"[{n}]" for n in sorted(set(ns)))


def _cell(s: str) -> str:
    return s.replace("|", "\\|")


def _section(w, title: str, lines: list[str]) -> None:
    """Write a ``###`` section of pre-formatted lines (nothing when there are none)."""
    if lines:
        w("")
        w(f"### {title}")
        w("")
        for line in lines:
            w(line)


def render_markdown(rec: Recommendation, reading: Any = None, *, include_unrated: bool = True) -> str:
    """Render a recommendation as GitHub-flavoured Markdown."""
    out: list[str] = []
    w = out.append
    if rec.status is Status.RATED and rec.topic and rec.variant:
        w(f"## {rec.topic.source_title} — Variant {rec.variant.source_variant}")
        w("")
        w(f"**{rec.variant.title}**  ")
        w(f"Source: {rec.topic.publisher}, ACR Appropriateness Criteria, {rec.topic.version} · content `{rec.content_version}` · as of {rec.as_of.isoformat()}")
    elif rec.status is Status.NEEDS_INFORMATION:
        w("## Needs information")
        w("")
        w("No rating until the questions below are answered.")
    else:
        w("## No criteria apply")
        w("")
        if rec.reason is not None and rec.reason.code != "no-variant":
            w(f"Outside the packs: {_REASON_HEAD.get(rec.reason.code, rec.reason.code)} (`{rec.reason.code}`).")
        else:
            w("No loaded guideline scenario fits these facts.")
    w("")
    w("### Why")
    w("")
    w(rec.rationale)
    if rec.reason is not None and rec.reason.covered_by:
        w("")
        w("Covered by the ACR topic" + ("s " if len(rec.reason.covered_by) > 1 else " ") + "; ".join(rec.reason.covered_by) + ".")
    items = understood_items(reading) if reading is not None else []
    if items:
        w("")
        w("### What was understood")
        w("")
        for it in items:
            word = _STATUS_WORD.get(it.get("status", "affirmed"), it.get("status", ""))
            w(f"- `{it['fact']}`{_value_text(it.get('value'))} — {word}: “{it['words']}”")
    if rec.order is not None:
        o = rec.order
        w("")
        w("### Your order")
        w("")
        if o.procedure is not None:
            pr = o.procedure
            w(f"- **{pr.name}**: rated {pr.rating} — {pr.category.label} · {pr.rrl.level} {pr.rrl.adult_dose}")
        else:
            w(f"- {o.note}")
        for a in o.alternatives:
            w(f"  - better: {a.name} — {a.rating} ({a.category.label}) · {a.rrl.level} {a.rrl.adult_dose}")
    if rec.procedures:
        w("")
        w("### Rated procedures")
        w("")
        w("| Rating | Category | Procedure | Radiation | Adult dose |")
        w("|---:|---|---|---|---|")
        for pr in rec.procedures:
            if not include_unrated and pr.rating <= 3:
                continue
            w(f"| {pr.rating} | {pr.category.label} | {_cell(pr.name)} | {pr.rrl.level} | {pr.rrl.adult_dose} |")
    if rec.next_steps:
        w("")
        w("### Next steps")
        w("")
        for i, s in enumerate(rec.next_steps, 1):
            head = f"**{s.kind.value}{' · ' + s.urgency if s.urgency else ''}**"
            if s.reference_name:
                head += f" — {s.reference_name}"
            w(f"{i}. {head}: {s.text} {_cites(s.citations)}")
    _section(w, "Questions that would decide" if rec.status is not Status.RATED else "Still to find out",
             [f"- {m.question} (`{m.fact}`)" for m in rec.missing_facts])
    _section(w, "Not mentioned, so assumed absent",
             [f"- {head}: " + ", ".join(labels) for head, labels in assumption_groups(rec.assumptions)])
    _section(w, "Pitfalls", [f"- {text} {_cites(cites)}" for text, cites in rec.pitfalls])
    _section(w, "Payer rules (coverage, not part of the ACR rating)",
             [f"- {text} {_cites(cites)}" for text, cites in rec.payer_notes])
    if rec.citations:
        w("")
        w("### References")
        w("")
        for c in rec.citations:
            w(f"{c.n}. {c.text}" + (f" <{c.url}>" if c.url else ""))
    return "\n".join(out) + "\n"
