"""Answering a CDS Hooks order call: draft orders + prefetch → advice per order.

Reads what the EHR sent (draft ServiceRequests, their reason codes and notes, the
prefetched Patient, Conditions and Procedures) through the FHIR intake, identifies each
ordered study in the knowledge pack (LOINC code, exact name, or an unambiguous modality +
region + contrast reading of the order's text), evaluates the scenario once per order, and leaves the
rendering to :mod:`workup.render.cds`. workup never fetches from the EHR's FHIR server
(it runs offline): when the patient cannot be read from the prefetch or the notes, the
call is refused with 412.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from workup.engine import evaluate
from workup.errors import ServiceError
from workup.intake.fhir import facts_from_resources
from workup.intake.procedures import match_order
from workup.kb.load import KnowledgeBase
from workup.kb.schema import ProcedureDef
from workup.render.cds import OrderAdvice
from workup.types import Evidence, Fact, FactOrigin, Facts

LOINC = "http://loinc.org"

@dataclass(frozen=True)
class DraftOrder:
    """One draft ServiceRequest, identified (or not) as a packed procedure."""

    request: dict[str, Any]
    label: str
    codes: tuple[str, ...]  # "system|code" of the order
    procedure: ProcedureDef | None
    spine: bool  # looks like spine imaging even when not identified exactly


def _codings(concept: Any) -> list[dict]:
    if not isinstance(concept, dict):
        return []
    return [c for c in concept.get("coding") or [] if isinstance(c, dict)]


def _text(v: Any) -> str | None:
    return v if isinstance(v, str) and v.strip() else None


def loinc_index(kb: KnowledgeBase) -> dict[str, ProcedureDef]:
    """LOINC code → procedure, from the knowledge pack's procedure catalogue."""
    return {p.loinc: p for p in kb.procedures.values() if p.loinc}


def read_order_text(kb: KnowledgeBase, text: str) -> tuple[ProcedureDef | None, bool]:
    """Identify a study from order text when modality, region and contrast are unambiguous.

    Uses the one order matcher (:func:`workup.intake.procedures.match_order`) over the pack's
    catalogue. Returns the procedure (or None) and whether the text looks like spine imaging at all.
    """
    m = match_order(text, [p.reference_name for p in kb.procedures.values()])
    if m.status == "matched":
        return kb.procedure_by_name(m.names[0]), True
    return None, m.reading.spine and m.reading.modality is not None


def identify(kb: KnowledgeBase, request: dict[str, Any], loinc: dict[str, ProcedureDef]) -> DraftOrder:
    """Identify the study a draft ServiceRequest orders."""
    code = request.get("code")
    codings = _codings(code)
    codes = tuple(f"{c.get('system', '')}|{c.get('code', '')}" for c in codings if c.get("code"))
    texts = [t for t in [_text(code.get("text")) if isinstance(code, dict) else None,
                         *(_text(c.get("display")) for c in codings)] if t]
    label = texts[0] if texts else (codes[0] if codes else "the ordered study")
    for c in codings:
        if c.get("system") == LOINC and isinstance(c.get("code"), str) and c["code"] in loinc:
            return DraftOrder(request, label, codes, loinc[c["code"]], True)
    for t in texts:
        p = kb.procedure_by_name(t)
        if p is not None:
            return DraftOrder(request, label, codes, p, True)
    spine = False
    for t in texts:
        p, looks = read_order_text(kb, t)
        if p is not None:
            return DraftOrder(request, label, codes, p, True)
        spine = spine or looks
    return DraftOrder(request, label, codes, None, spine)


def draft_requests(context: dict[str, Any], hook: str) -> tuple[list[dict], list[dict]]:
    """(focused, all) ServiceRequests of the draftOrders Bundle.

    ``order-select`` focuses on the ``selections``; ``order-sign`` on every draft order.
    """
    bundle = context.get("draftOrders")
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ServiceError("context.draftOrders must be a FHIR Bundle", code="SV420")
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise ServiceError("context.draftOrders.entry must be a list", code="SV421")
    requests = [e["resource"] for e in entries
                if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                and e["resource"].get("resourceType") == "ServiceRequest"]
    if hook == "order-select":
        selections = context.get("selections")
        if not isinstance(selections, list):
            raise ServiceError("order-select needs context.selections", code="SV422")
        wanted = {s for s in selections if isinstance(s, str)}
        return [r for r in requests if f"ServiceRequest/{r.get('id')}" in wanted], requests
    return requests, requests


def _resources(value: Any) -> list[dict]:
    """Resources of a prefetch value (a resource, a Bundle, null or an OperationOutcome)."""
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        return [e["resource"] for e in value.get("entry") or []
                if isinstance(e, dict) and isinstance(e.get("resource"), dict)
                and e["resource"].get("resourceType") != "OperationOutcome"]
    if value.get("resourceType") in (None, "OperationOutcome"):
        return []
    return [value]


def patient_facts(
    prefetch: dict[str, Any] | None, order: DraftOrder, kb: KnowledgeBase, as_of: date, require_patient: bool
) -> Facts:
    """What is known about the patient for one order.

    The prefetched Patient, Conditions and Procedures and the draft ServiceRequest (its
    reason codes, reason references and notes) are read together by the FHIR intake.

    Raises:
        ServiceError: SV412 when the patient was not prefetched and the age is not in the notes.
        IntakeError: a prefetched resource or the order is not valid FHIR R4.
    """
    prefetch = prefetch if isinstance(prefetch, dict) else {}
    resources = [r for r in _resources(prefetch.get("patient")) if r.get("resourceType") == "Patient"][:1]
    resources += [r for r in _resources(prefetch.get("conditions")) if r.get("resourceType") == "Condition"]
    resources += [r for r in _resources(prefetch.get("procedures")) if r.get("resourceType") == "Procedure"]
    facts, _orders = facts_from_resources([*resources, order.request], kb, as_of)
    if require_patient and "patient" not in prefetch and facts.value("age") is None:
        raise ServiceError("the patient was not prefetched and workup does not fetch from the EHR", code="SV412")
    p = order.procedure
    if facts.value("region") is None and p is not None and p.region in ("cervical", "thoracic", "lumbar"):
        # the order names the region of the complaint when nothing else does
        ev = Evidence(order.label, source=f"fhir:ServiceRequest/{order.request.get('id', '')}")
        facts = facts.with_facts(Fact("region", p.region, FactOrigin.DERIVED, (ev,)))
    return facts


def advise(
    kb: KnowledgeBase, hook: str, context: dict[str, Any], prefetch: dict[str, Any] | None, as_of: date,
    *, require_patient: bool = True, page_base: str | None = None, imported=None,
) -> list[tuple[DraftOrder, OrderAdvice]]:
    """Advice for each focused draft order that is spine imaging (others get no card).

    ``page_base`` (the service's public base URL) gives each card a link to the clinician page
    with the facts used, where a misread or assumed fact is corrected in one click. With an
    imported ACR table, an order the curated catalogue does not know is rated in the imported
    variant its reasons route to (:func:`imported_advice`), when they route anywhere.
    """
    focused, _all = draft_requests(context, hook)
    loinc = loinc_index(kb)
    names = {p.reference_name: p.loinc for p in kb.procedures.values() if p.loinc}
    out = []
    for req in focused:
        order = identify(kb, req, loinc)
        if order.procedure is None and imported is not None:
            rec = imported_advice(kb, imported, prefetch, order, as_of)
            if rec is not None:
                out.append((order, OrderAdvice(req, order.label, rec)))
                continue
        if order.procedure is None:
            if order.spine:
                out.append((order, OrderAdvice(req, order.label, None)))
            continue
        facts = patient_facts(prefetch, order, kb, as_of, require_patient)
        rec = evaluate(facts, kb, as_of, order.procedure.reference_name)
        auc = None
        if rec.topic is not None:
            topic = kb.topics[rec.topic.id]
            c = kb.citations.get(topic.source.citation)
            auc = c.url if c is not None and c.url else None
        out.append((order, OrderAdvice(req, order.label, rec, auc, names, _page_link(page_base, rec, as_of))))
    return out


def _page_link(base: str | None, rec: Any, as_of: date) -> str | None:
    """The clinician page for these facts (given and derived, not assumed), or None without a base URL."""
    if not base:
        return None
    from workup.service.web import page_url, url_value
    from workup.types import FactOrigin

    raw = {f.id: url_value(f.value) for f in rec.facts.values() if f.origin is not FactOrigin.ASSUMED}
    return base.rstrip("/") + page_url(None, raw, as_of.isoformat())


def _reason_text(prefetch: dict[str, Any] | None, order: DraftOrder, kb: KnowledgeBase, as_of: date) -> str:
    """The words an order's reasons and notes give, with the patient's age and sex first."""
    req = order.request
    words: list[str] = []
    for cc in req.get("reasonCode") or []:
        if isinstance(cc, dict):
            words.extend(t for t in [_text(cc.get("text")), *(_text(c.get("display")) for c in _codings(cc))] if t)
    words.extend(t for n in req.get("note") or [] if isinstance(n, dict) for t in [_text(n.get("text"))] if t)
    pre = prefetch if isinstance(prefetch, dict) else {}
    for r in _resources(pre.get("conditions")):
        if r.get("resourceType") == "Condition" and isinstance(r.get("code"), dict):
            t = _text(r["code"].get("text")) or next((_text(c.get("display")) for c in _codings(r["code"])), None)
            if t:
                words.append(t)
    if not words:
        return ""
    patient = [r for r in _resources(pre.get("patient")) if r.get("resourceType") == "Patient"][:1]
    facts, _o = facts_from_resources(patient, kb, as_of) if patient else (Facts(), [])
    head = []
    if isinstance(facts.value("age"), (int, float)):
        head.append(f"{int(facts.value('age'))} yo")
    if facts.value("sex") in ("male", "female"):
        head.append(str(facts.value("sex")))
    return ". ".join([" ".join(head), *words]) if head else ". ".join(words)


def imported_advice(kb: KnowledgeBase, pack, prefetch: dict[str, Any] | None, order: DraftOrder, as_of: date):
    """The imported variant an order's reasons route to, with the order rated there; None when none fits."""
    from workup.imported.answer import routed_answer
    from workup.imported.table import topic_key

    text = _reason_text(prefetch, order, kb, as_of)
    if not text:
        return None
    curated = frozenset(topic_key(t.source.title) for t in kb.topics.values())
    return routed_answer(pack, text, curated, as_of, order.label)
