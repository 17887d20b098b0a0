"""CDS Hooks rendering: recommendations for draft orders → cards and systemActions.

Pure: ids (consultation id, card and suggestion uuids) come in from the service, so the
same input gives the same response. The rating goes onto each draft ServiceRequest
through a ``systemActions`` ``update`` that only adds the Argonaut PAMA extensions; the
better-rated alternatives go in suggestions, each carrying its own rating; an order we
cannot rate for lack of information gets no rating and a card asking the deciding
questions. Optional fields are omitted rather than emitted empty.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

from workup.durations import spoken
from workup.types import Category, FactOrigin, RatedProcedure, Recommendation, Status

EXT_RATING = "http://fhir.org/argonaut/Extension/pama-rating"
EXT_CONSULT_ID = "http://fhir.org/argonaut/Extension/pama-rating-consult-id"
EXT_QCDSM = "http://fhir.org/argonaut/Extension/pama-rating-qcdsm-consulted"
EXT_AUC_APPLIED = "http://fhir.org/argonaut/Extension/pama-rating-auc-applied"
PAMA_SYSTEM = "http://fhir.org/argonaut/CodeSystem/pama-rating"
RATING_SYSTEM = "urn:workup:codesystem:acr-rating"  # our finer coding: the ACR 1-9 rating
CATEGORY_SYSTEM = "urn:workup:codesystem:acr-category"  # our finer coding: the ACR category
OVERRIDE_SYSTEM = "urn:workup:codesystem:override-reason"
LOINC = "http://loinc.org"
PAMA_EXTENSIONS = frozenset({EXT_RATING, EXT_CONSULT_ID, EXT_QCDSM, EXT_AUC_APPLIED})
SUMMARY_MAX = 139  # CDS Hooks: summary under 140 characters

# Our design (no spec maps ACR categories onto PAMA): "may be appropriate" counts as
# adhering to the criteria, as the qualified CDS mechanisms reported it; the finer
# codings always carry the exact rating and category so nothing is hidden.
PAMA_CODE = {
    Category.USUALLY_APPROPRIATE: "appropriate",
    Category.MAY_BE_APPROPRIATE: "appropriate",
    Category.MAY_BE_APPROPRIATE_DISAGREEMENT: "appropriate",
    Category.USUALLY_NOT_APPROPRIATE: "not-appropriate",
}
PAMA_DISPLAY = {"appropriate": "Appropriate", "not-appropriate": "Not appropriate", "no-criteria-apply": "No criteria apply"}
INDICATOR = {
    Category.USUALLY_APPROPRIATE: "info",
    Category.MAY_BE_APPROPRIATE: "info",
    Category.MAY_BE_APPROPRIATE_DISAGREEMENT: "warning",
    Category.USUALLY_NOT_APPROPRIATE: "warning",
}
OVERRIDE_REASONS = (
    ("patient-specific", "Patient-specific factors not captured by these facts"),
    ("facts-incorrect", "The facts shown here are wrong or incomplete"),
    ("prior-imaging", "Prior imaging is unavailable or inadequate"),
    ("specialist-request", "Requested by the treating specialist"),
)


@dataclass(frozen=True)
class OrderAdvice:
    """One draft order as the service understood it."""

    request: dict[str, Any]  # the draft ServiceRequest as received
    ordered: str  # what was ordered, as the EHR named it
    rec: Recommendation | None  # None: a spine study we could not identify exactly
    auc_url: str | None = None  # the guideline applied (pama-rating-auc-applied)
    loinc: dict[str, str] | None = None  # procedure name → LOINC code, for suggested orders
    page_url: str | None = None  # the clinician page with these facts, where each can be corrected


@dataclass(frozen=True)
class Source:
    """Where the cards say their advice comes from."""

    label: str
    url: str | None = None


@dataclass(frozen=True)
class Labels:
    """Fact labels and units from the knowledge pack (fact id → text)."""

    facts: dict[str, str]
    units: dict[str, str] = field(default_factory=dict)


def _clip(text: str, limit: int = SUMMARY_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def pama_code(rec: Recommendation) -> str | None:
    """The PAMA rating code for an order's recommendation, or None when it must not be rated."""
    if rec.status is Status.NEEDS_INFORMATION:
        return None
    if rec.status is Status.NO_CRITERIA_APPLY:
        return "no-criteria-apply"
    if rec.order is None:
        return None
    if rec.order.procedure is None:
        return "no-criteria-apply"  # the scenario applies but the study is not rated in it
    return PAMA_CODE[rec.order.procedure.category]


def rating_extensions(
    code: str, proc: RatedProcedure | None, consult_id: str, auc_url: str | None, gcode: str | None
) -> list[dict[str, Any]]:
    """The Argonaut PAMA extensions for one rating."""
    codings: list[dict[str, Any]] = [{"system": PAMA_SYSTEM, "code": code, "display": PAMA_DISPLAY[code]}]
    if proc is not None:
        codings.append({"system": RATING_SYSTEM, "code": str(proc.rating), "display": f"ACR rating {proc.rating} of 9"})
        codings.append({"system": CATEGORY_SYSTEM, "code": proc.category.value, "display": proc.category.label})
    exts: list[dict[str, Any]] = [
        {"url": EXT_RATING, "valueCodeableConcept": {"coding": codings}},
        {"url": EXT_CONSULT_ID, "valueUri": consult_id},
    ]
    if gcode:
        exts.append({"url": EXT_QCDSM, "valueString": gcode})
    if auc_url:
        exts.append({"url": EXT_AUC_APPLIED, "valueUri": auc_url})
    return exts


def with_extensions(request: dict[str, Any], exts: list[dict[str, Any]]) -> dict[str, Any]:
    """A copy of ``request`` whose PAMA extensions are ``exts``; nothing else changes."""
    out = copy.deepcopy(request)
    kept = [e for e in out.get("extension") or [] if not (isinstance(e, dict) and e.get("url") in PAMA_EXTENSIONS)]
    out["extension"] = kept + exts
    return out


def _rated_line(p: RatedProcedure) -> str:
    return f"| {p.name} | {p.rating} | {p.category.label} | {p.rrl.level} |"


def _value(v: Any, unit: str | None = None) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if unit == "days" and isinstance(v, (int, float)):
        return spoken(float(v))
    if isinstance(v, float):
        v = int(v) if v.is_integer() else round(v, 1)
    return f"{v} {unit}" if unit and isinstance(v, (int, float)) else str(v)


def detail_markdown(advice: OrderAdvice, labels: Labels) -> str:
    """The basis of the advice, kept short for the order screen: the rating, the next step first,
    why, the questions that would change it, and what was assumed as a count with a link to the
    page where each fact can be corrected (a misreading costs one click, not a wrong order)."""
    rec = advice.rec
    if rec is None:
        return f"**Ordered:** {advice.ordered}\n"
    lines: list[str] = []
    proc = rec.order.procedure if rec.order else None
    if proc is not None:
        lines.append(f"**Ordered:** {proc.name} — **{proc.category.label}** (rating {proc.rating} of 9)")
    else:
        lines.append(f"**Ordered:** {advice.ordered}")
    if rec.order is not None and rec.order.note:
        lines.append(f"_{rec.order.note}._")
    lines.append("")
    if rec.next_steps:
        s = rec.next_steps[0]
        urgency = f" ({s.urgency})" if s.urgency else ""
        ref = f" {s.reference_name}:" if s.reference_name else ""
        lines.append(f"**Next step{urgency}:**{ref} {s.text} [{', '.join(map(str, s.citations))}]")
        lines.append("")
    if rec.topic is not None and rec.variant is not None:
        lines.append(
            f"**Scenario:** {rec.topic.source_title} ({rec.topic.publisher} {rec.topic.version}), "
            f"variant {rec.variant.source_variant}: {rec.variant.title}"
        )
        lines.append("")
    lines.append(f"**Why:** {rec.rationale}")
    lines.append("")
    better = [p for p in (rec.order.alternatives if rec.order else ()) if p.category is Category.USUALLY_APPROPRIATE][:3]
    if better:
        lines.append("**Usually appropriate instead:** " + "; ".join(f"{p.name} ({p.rating}/9, {p.rrl.level})" for p in better))
        lines.append("")
    if rec.missing_facts:
        lines.append("**Would change the answer**")
        lines += [f"- {m.question}" for m in rec.missing_facts]
        lines.append("")
    n = len(rec.assumptions)
    used = sum(1 for f in rec.facts.values() if f.origin is not FactOrigin.ASSUMED)
    basis = f"Based on {used} fact{'s' if used != 1 else ''} from the record"
    if n:
        basis += f" and {n} assumed because not mentioned (red flags taken as absent)"
    basis += "."
    if advice.page_url:
        basis += f" [Review or correct them]({advice.page_url})."
    lines.append(basis)
    if rec.payer_notes:
        lines.append("")
        lines.append(f"_Payer rules apply ({len(rec.payer_notes)}); they are not part of the ACR rating._")
    if rec.citations:
        lines.append("")
        lines.append("Sources: " + "; ".join(f"[{c.n}] {c.text}" for c in rec.citations[:3])
                     + (f" (+{len(rec.citations) - 3} more)" if len(rec.citations) > 3 else ""))
    lines.append("")
    lines.append(f"_Content version {rec.content_version}; consultation date {rec.as_of.isoformat()}._")
    return "\n".join(lines).strip() + "\n"


def _suggested_request(advice: OrderAdvice, alt: RatedProcedure, exts: list[dict[str, Any]]) -> dict[str, Any]:
    out = with_extensions(advice.request, exts)
    code: dict[str, Any] = {}
    loinc = (advice.loinc or {}).get(alt.name)
    if loinc:
        code["coding"] = [{"system": LOINC, "code": loinc, "display": alt.name}]
    code["text"] = alt.name
    out["code"] = code
    return out


def _suggestions(advice: OrderAdvice, consult_id: str, gcode: str | None, new_id: Callable[[], str]) -> list[dict]:
    rec = advice.rec
    if rec is None or rec.order is None:
        return []
    hit = rec.order.procedure
    if hit is not None and hit.category is Category.USUALLY_APPROPRIATE:
        return []
    alts = [p for p in rec.order.alternatives if p.category is Category.USUALLY_APPROPRIATE][:3]
    out = []
    for alt in alts:
        code = PAMA_CODE[alt.category]
        exts = rating_extensions(code, alt, consult_id, advice.auc_url, gcode)
        out.append({
            "label": _clip(f"Order {alt.name} instead ({alt.category.label}, {alt.rating}/9)"),
            "uuid": new_id(),
            "actions": [{
                "type": "update",
                "description": _clip(f"Replace the draft order with {alt.name}", 200),
                "resource": _suggested_request(advice, alt, exts),
            }],
        })
    return out


def order_card(
    advice: OrderAdvice, labels: Labels, source: Source, consult_id: str, gcode: str | None, new_id: Callable[[], str]
) -> dict[str, Any]:
    """The card for one draft order."""
    src: dict[str, Any] = {"label": source.label}
    if source.url:
        src["url"] = source.url
    rec = advice.rec
    card: dict[str, Any] = {"uuid": new_id()}
    if rec is None:
        card.update({
            "summary": _clip(f"workup could not tell exactly which study '{advice.ordered}' is; no rating given"),
            "indicator": "info",
            "detail": (
                f"**Ordered:** {advice.ordered}\n\nThe order does not say the modality, region and contrast clearly "
                "enough to match one rated study. Order it by its full name (for example "
                "'MRI Cervical Spine Without IV Contrast') or a LOINC code to get a rating.\n"
            ),
            "source": src,
        })
        return card
    code = pama_code(rec)
    proc = rec.order.procedure if rec.order else None
    if rec.status is Status.NEEDS_INFORMATION:
        n = len(rec.missing_facts)
        card["summary"] = _clip(f"Not rated yet: {n} question{'s' if n != 1 else ''} decide whether {advice.ordered} is appropriate")
        card["indicator"] = "info"
    elif rec.status is Status.NO_CRITERIA_APPLY and rec.reason is not None and rec.reason.code != "no-variant":
        card["summary"] = _clip(f"{advice.ordered} is not rated: {rec.reason.text.split(' — ')[-1].split(';')[0]}")
        card["indicator"] = "warning" if any(s.urgency in ("urgent", "emergent") for s in rec.next_steps) else "info"
    elif rec.status is Status.NO_CRITERIA_APPLY:
        card["summary"] = _clip(f"No packed ACR scenario fits this patient; {advice.ordered} is not rated")
        card["indicator"] = "info"
    elif proc is None:
        card["summary"] = _clip(f"{advice.ordered} is not rated for this scenario; see the usually appropriate studies")
        card["indicator"] = "info"
    else:
        card["summary"] = _clip(f"{proc.name}: {proc.category.label.lower()} ({proc.rating}/9) for this scenario")
        card["indicator"] = INDICATOR[proc.category]
    card["detail"] = detail_markdown(advice, labels)
    card["source"] = src
    suggestions = _suggestions(advice, consult_id, gcode, new_id) if code is not None else []
    if suggestions:
        card["suggestions"] = suggestions
        card["selectionBehavior"] = "at-most-one"
    if code is not None:
        card["overrideReasons"] = [{"system": OVERRIDE_SYSTEM, "code": c, "display": d} for c, d in OVERRIDE_REASONS]
    links = []
    if advice.page_url and advice.page_url.startswith(("https://", "http://")):
        links.append({"label": "Review or correct the facts (workup page)", "url": advice.page_url, "type": "absolute"})
    if advice.auc_url:
        links.append({"label": "ACR Appropriateness Criteria (source)", "url": advice.auc_url, "type": "absolute"})
    if links:
        card["links"] = links
    return card


def cds_response(
    advice: list[OrderAdvice],
    labels: Labels,
    source: Source,
    consult_id: str,
    new_id: Callable[[], str],
    *,
    gcode: str | None = None,
    mirror: bool = False,
) -> dict[str, Any]:
    """The CDS Hooks response for a set of draft orders.

    Args:
        advice: one entry per draft order workup recognised as spine imaging.
        labels: fact labels for the Markdown detail.
        source: the card source (label with content version, optional URL).
        consult_id: the consultation id (``urn:uuid:…``) put on every rating.
        new_id: makes card and suggestion uuids (the caller's; keeps this function pure).
        gcode: the qCDSM G-code, when configured.
        mirror: also put the system actions under ``extension.systemActions`` (CDS Hooks sandbox).
    """
    cards = []
    actions = []
    for a in advice:
        cards.append(order_card(a, labels, source, consult_id, gcode, new_id))
        if a.rec is None:
            continue
        code = pama_code(a.rec)
        if code is None:
            continue
        proc = a.rec.order.procedure if a.rec.order else None
        exts = rating_extensions(code, proc, consult_id, a.auc_url if code != "no-criteria-apply" else None, gcode)
        actions.append({
            "type": "update",
            "description": _clip(f"Appropriateness rating: {PAMA_DISPLAY[code]}", 200),
            "resource": with_extensions(a.request, exts),
        })
    out: dict[str, Any] = {"cards": cards}
    if actions:
        out["systemActions"] = actions
        if mirror:
            out["extension"] = {"systemActions": copy.deepcopy(actions)}
    return out
