"""The JSON API: a recommendation for a scenario, and the packed topics and variants."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from workup.audit.record import consultation_record, rating_entry
from workup.consult import MAX_TEXT, Consultation, consult_payload
from workup.errors import ServiceError
from workup.render.cds import pama_code
from workup.render.document import dumps_bytes, to_document
from workup.service.deps import State, require_ehr, state

router = APIRouter(prefix="/v1", tags=["api"])
log = logging.getLogger("workup.service")


class RecommendRequest(BaseModel):
    """A scenario as facts, free text and/or a FHIR Bundle, with an optional ordered study."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=MAX_TEXT, description="The scenario in free text.")
    facts: dict[str, Any] | None = Field(default=None, description="Fact id → value (see `workup kb facts`).")
    fhir: dict[str, Any] | None = Field(default=None, description="A FHIR R4 Bundle (Patient, Condition, Procedure, ServiceRequest…).")
    order: str | None = Field(default=None, max_length=300, description="An ordered procedure to rate, by name.")
    as_of: date | None = Field(default=None, description="Consultation date; default today.")
    topic: str | None = Field(default=None, max_length=300, description="An imported ACR topic (its title or id), with variant.")
    variant: int | None = Field(default=None, ge=1, le=1000, description="The ACR variant number within the imported topic.")


@router.post("/recommend", summary="Route a scenario to its ACR variant and rate the procedures")
async def recommend(body: RecommendRequest, request: Request, _claims=Depends(require_ehr)) -> Response:
    return await recommend_response(state(request), body)


async def recommend_response(st: State, body: RecommendRequest) -> Response:
    """Answer ``POST /v1/recommend`` once the caller is authenticated and the body validated."""
    payload = body.model_dump(exclude_none=True)
    now = st.clock()
    if body.topic is not None or body.variant is not None:
        c = _imported_variant(st, body, now.date())
    else:
        c = consult_payload(payload, st.kb, now.date(), imported=st.imported)
    doc = to_document(c.recommendation)
    if c.reading is not None:
        doc["understood"] = c.reading.to_list()
    consult_id = f"urn:uuid:{st.new_id()}"
    order = c.order or ""
    # encoded before the consultation is recorded: a document that cannot be sent is not audited as answered
    body_bytes = dumps_bytes(doc)
    await st.store.arecord_consultation(consultation_record(
        consult_id=consult_id, at=now, content_version=st.kb.version, hook="api", service="v1/recommend",
        hook_instance=None, order_codes=[order] if order else [],
        ratings=[rating_entry(order, c.recommendation, pama_code(c.recommendation) if order else None)], cards=[],
    ))
    log.info("consultation %s api status=%s", consult_id, c.recommendation.status.value)
    # serialised once, as the document's own dumps would (not re-encoded by FastAPI)
    return Response(body_bytes, media_type="application/json", headers={"X-Workup-Consult-Id": consult_id})


def _imported_variant(st: State, body: RecommendRequest, today: date) -> Consultation:
    """The answer for an imported variant named by ``topic`` and ``variant``."""
    from workup.errors import EvaluationError
    from workup.imported.answer import answer

    if body.topic is None or body.variant is None:
        raise EvaluationError("'topic' and 'variant' go together", code="EV322")
    if body.text is not None or body.facts is not None or body.fhir is not None:
        raise EvaluationError("'topic' and 'variant' name the scenario: give no text, facts or fhir with them",
                              code="EV324")
    if st.imported is None:
        raise EvaluationError("no ACR table is imported on this server (`workup kb import acr FILE`)", code="EV323")
    return Consultation(answer(st.imported, body.topic, body.variant, body.as_of or today, body.order), None, body.order)


@router.get("/topics", summary="The packed topics")
def topics(request: Request) -> dict:
    kb = state(request).kb
    out = []
    for t in sorted(kb.topics.values(), key=lambda t: (t.precedence, t.id)):
        out.append({
            "id": t.id,
            "title": t.title,
            "source": t.source.model_dump(),
            "variants": [v for v in kb.order if kb.variant_topic[v] == t.id],
        })
    doc: dict = {"content_version": kb.version, "topics": out}
    pack = state(request).imported
    if pack is not None:
        from workup.imported.answer import PUBLISHER

        doc["imported"] = {"content_version": pack.version, "topics": [
            {"id": t.id, "title": t.title, "panels": list(t.panels),
             "source": {"publisher": PUBLISHER, "title": t.title, "version": f"imported table {pack.sha256[:12]}"},
             "variants": [{"id": v.id, "number": v.number} for v in t.variants]}
            for t in pack.topics.values()]}
    return doc


@router.get("/topics/{topic_id}", summary="One topic with its variants")
def topic(topic_id: str, request: Request) -> dict:
    kb = state(request).kb
    t = kb.topics.get(topic_id)
    if t is None:
        raise ServiceError(f"unknown topic {topic_id!r}", code="SV404")
    doc = t.model_dump(by_alias=True, exclude_none=True)
    doc["variants"] = [
        {"id": v, "number": kb.variants[v].number, "title": kb.variants[v].title}
        for v in kb.order if kb.variant_topic[v] == t.id
    ]
    return {"content_version": kb.version, "topic": doc}


@router.get("/variants/{variant_id}", summary="One variant: criteria, ratings and citations")
def variant(variant_id: str, request: Request) -> dict:
    kb = state(request).kb
    v = kb.variants.get(variant_id)
    if v is None:
        raise ServiceError(f"unknown variant {variant_id!r}", code="SV404")
    doc = v.model_dump(by_alias=True, exclude_none=True)
    doc["topic"] = kb.variant_topic[v.id]
    return {"content_version": kb.version, "variant": doc}
