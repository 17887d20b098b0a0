"""CDS Hooks 2.0: discovery, the order-select / order-sign services, and feedback."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request, Response

from workup.audit.record import consultation_record, feedback_record, rating_entry
from workup.errors import ServiceError
from workup.render.cds import Labels, Source, cds_response, pama_code
from workup.render.document import dumps_bytes
from workup.service.cds import SERVICES, FeedbackRequest, HookRequest, discovery
from workup.service.deps import State, require_ehr, state
from workup.service.hooks import advise

router = APIRouter(prefix="/cds-services", tags=["cds-hooks"])
log = logging.getLogger("workup.service")


_LABELS: dict[int, tuple[object, Labels]] = {}


def _labels(kb) -> Labels:
    """The fact labels and units of a knowledge pack, built once per pack (renderers only read them)."""
    hit = _LABELS.get(id(kb))
    if hit is None or hit[0] is not kb:
        hit = (kb, Labels({fid: fd.label for fid, fd in kb.facts.items()},
                          {fid: fd.unit for fid, fd in kb.facts.items() if fd.unit}))
        _LABELS[id(kb)] = hit
        while len(_LABELS) > 8:  # tests build a few packs; a server has one
            del _LABELS[next(iter(_LABELS))]
    return hit[1]


def _service(service_id: str) -> dict:
    s = SERVICES.get(service_id)
    if s is None:
        raise ServiceError(f"unknown CDS service {service_id!r}", code="SV404")
    return s


@router.get("", summary="CDS Hooks discovery")
def cds_discovery() -> dict:
    return discovery()


@router.post("/{service_id}", summary="Call a CDS service (order-select or order-sign)")
async def cds_call(service_id: str, body: HookRequest, request: Request, _claims=Depends(require_ehr)) -> Response:
    return await cds_response_for(state(request), service_id, body)


async def cds_response_for(st: State, service_id: str, body: HookRequest) -> Response:
    """Answer a CDS service call once the caller is authenticated and the body validated."""
    svc = _service(service_id)
    if body.hook != svc["hook"]:
        raise ServiceError(f"service {service_id} answers the {svc['hook']} hook, not {body.hook!r}", code="SV423")
    now = st.clock()
    context = body.context.model_dump()
    pairs = advise(st.kb, body.hook, context, body.prefetch, now.date(),
                   require_patient=st.settings.require_patient_prefetch, page_base=st.settings.public_base_url,
                   imported=st.imported)
    consult_id = f"urn:uuid:{st.new_id()}"
    labels = _labels(st.kb)
    source = Source(f"{st.settings.source_label} (content {st.kb.version})", st.settings.source_url)
    resp = cds_response([a for _o, a in pairs], labels, source, consult_id, st.new_id,
                        gcode=st.settings.qcdsm_gcode, mirror=st.settings.mirror_system_actions)
    ratings = []
    codes = []
    for order, adv in pairs:
        code = order.codes[0] if order.codes else order.label
        codes.append(code)
        if adv.rec is None:
            ratings.append({"order": code, "status": "unidentified"})
        else:
            ratings.append(rating_entry(code, adv.rec, pama_code(adv.rec)))
    cards = [{"uuid": c["uuid"], "indicator": c["indicator"], "suggestions": len(c.get("suggestions", []))}
             for c in resp["cards"]]
    body_bytes = dumps_bytes(resp)  # encoded before the consultation is recorded as answered
    await st.store.arecord_consultation(consultation_record(
        consult_id=consult_id, at=now, content_version=st.kb.version, hook=body.hook, service=service_id,
        hook_instance=body.hookInstance, order_codes=codes, ratings=ratings, cards=cards,
    ))
    log.info("consultation %s %s orders=%d cards=%d", consult_id, body.hook, len(pairs), len(cards))
    return Response(body_bytes, media_type="application/json")


@router.post("/{service_id}/feedback", summary="Card outcomes (accepted / overridden); idempotent")
async def cds_feedback(service_id: str, body: FeedbackRequest, request: Request, _claims=Depends(require_ehr)) -> dict:
    st = state(request)
    _service(service_id)
    now = st.clock()
    new = 0
    for item in body.feedback:
        raw = item.model_dump(exclude_none=True)
        if await st.store.arecord_feedback(feedback_record(raw, consult_id=None, at=now)):
            new += 1
    return {"received": len(body.feedback), "new": new}
