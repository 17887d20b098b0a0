"""The consultation routes answered in front of FastAPI: same bytes, same errors, same security.

Each request is sent twice to two identical apps (fixed clock and ids, separate audit
logs): once as ``Content-Type: application/json`` (answered by ``DirectRoutes``) and once
as ``application/json; charset=utf-8`` (which ``DirectRoutes`` leaves to the FastAPI
route). Status, headers, body bytes and the audit log must be the same.
"""

from __future__ import annotations

import json

import pytest

from service_helpers import fixture, seed_facts
from test_security import ISSUERS, token

from workup.audit.store import export_text
from workup.service.direct import DirectRoutes

MRI = "MRI Cervical Spine Without IV Contrast"
DIRECT = {"content-type": "application/json"}
VIA_FASTAPI = {"content-type": "application/json; charset=utf-8"}
SIGN = "/cds-services/workup-order-sign"
SELECT = "/cds-services/workup-order-select"

CASES = {
    "recommend-facts": ("/v1/recommend", {"facts": seed_facts(), "order": MRI}),
    "recommend-no-order": ("/v1/recommend", {"facts": seed_facts()}),
    "recommend-text": ("/v1/recommend", {"text": "45-year-old with three weeks of low back pain, no red flags.", "order": "MRI Lumbar Spine Without IV Contrast"}),
    "recommend-bad-fact": ("/v1/recommend", {"facts": {"age": "old"}}),  # intake error raised in the handler
    "recommend-extra-field": ("/v1/recommend", {"facts": {}, "colour": "blue"}),  # refused by the model
    "recommend-empty": ("/v1/recommend", {}),  # valid for the model, refused by the intake
    "recommend-not-an-object": ("/v1/recommend", [1, 2]),
    "sign-seed": (SIGN, fixture("seed-post-acdf-order-sign.json")),
    "sign-official": (SIGN, fixture("order-sign-official.json")),
    "select-official": (SELECT, fixture("order-select-official.json")),
    "sign-wrong-hook": (SIGN, fixture("order-select-official.json")),  # SV423 from the handler
    "sign-no-context": (SIGN, {"hook": "order-sign", "hookInstance": "x"}),
    "unknown-service": ("/cds-services/nobody", fixture("order-sign-official.json")),
}


@pytest.fixture
def pair(make_client, tmp_path, monkeypatch):
    calls = []
    answer = DirectRoutes._answer

    async def counting(self, *a, **kw):
        calls.append(a[3])
        return await answer(self, *a, **kw)

    monkeypatch.setattr(DirectRoutes, "_answer", counting)
    direct = make_client(audit_path=tmp_path / "direct.sqlite3")
    routed = make_client(audit_path=tmp_path / "routed.sqlite3")
    return direct, routed, calls


def _send(client, path, body, headers):
    return client.post(path, content=json.dumps(body).encode(), headers=headers)


@pytest.mark.parametrize("case", sorted(CASES))
def test_direct_answers_are_byte_identical_to_the_fastapi_route(pair, case):
    direct, routed, calls = pair
    path, body = CASES[case]
    a = _send(direct, path, body, DIRECT)
    b = _send(routed, path, body, VIA_FASTAPI)
    assert (a.status_code, a.content) == (b.status_code, b.content)
    assert {k: v for k, v in a.headers.items()} == {k: v for k, v in b.headers.items()}
    store_a, store_b = (c.app.state.workup.store for c in (direct, routed))
    assert export_text(store_a, "jsonl") == export_text(store_b, "jsonl")
    # the plain cases are answered directly; the rest fall through to FastAPI
    answered_directly = case not in ("recommend-extra-field", "recommend-not-an-object",
                                     "sign-no-context", "unknown-service")
    assert bool(calls) == answered_directly


def test_the_plain_cases_succeed_and_are_audited(pair):
    direct, _routed, calls = pair
    r = _send(direct, "/v1/recommend", {"facts": seed_facts(), "order": MRI}, DIRECT)
    assert r.status_code == 200 and r.headers["x-workup-consult-id"].startswith("urn:uuid:")
    assert r.json()["variant"]["id"] == "cervical-pain-3"
    assert direct.app.state.workup.store.consultation(r.headers["x-workup-consult-id"])["status"] == "rated"
    assert calls == [None]


def test_malformed_json_gets_fastapis_422(pair):
    direct, routed, _calls = pair
    a = direct.post("/v1/recommend", content=b'{"facts": ', headers=DIRECT)
    b = routed.post("/v1/recommend", content=b'{"facts": ', headers=VIA_FASTAPI)
    assert a.status_code == 422 and a.json()["error"]["code"] == "SV400"
    assert a.content == b.content


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"facts": {"age": 123456789012345678901234567890}}',
                                  b'{"facts": {"age": NaN}}', "\ufeff{}".encode(), '{"facts": {}}'.encode("utf-16")])
def test_odd_bodies_are_answered_as_fastapi_answers_them(pair, body):
    direct, routed, _calls = pair
    a = direct.post("/v1/recommend", content=body, headers=DIRECT)
    b = routed.post("/v1/recommend", content=body, headers=VIA_FASTAPI)
    assert (a.status_code, a.content) == (b.status_code, b.content)
    assert a.status_code < 500
    if b"NaN" in body:  # a NaN fact value is a coded intake error on both paths; nothing is recorded
        assert a.status_code == 422 and a.json()["error"]["code"] == "IN202"
        assert direct.app.state.workup.store.consult_ids() == routed.app.state.workup.store.consult_ids() == set()


def test_cors_headers_are_added_to_direct_answers(pair):
    direct, _routed, calls = pair
    r = direct.post("/v1/recommend", json={"facts": seed_facts()}, headers={"Origin": "https://ehr.example.org"})
    assert r.status_code == 200 and calls
    assert r.headers["access-control-allow-origin"] == "*"
    assert "X-Workup-Consult-Id" in r.headers["access-control-expose-headers"]


@pytest.fixture
def secured(make_client):
    return make_client(dev_insecure=False, jwt_issuers=ISSUERS)


def test_direct_answers_need_a_token(secured):
    r = secured.post(SIGN, json=fixture("order-sign-official.json"))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert r.json() == {"error": {"code": "SV401", "message": "unauthorized"}}
    assert secured.app.state.workup.store.consult_ids() == set()


def test_a_token_is_accepted_once_on_the_direct_path(secured):
    tok = token()
    headers = {"Authorization": f"Bearer {tok}", **DIRECT}
    assert secured.post(SIGN, content=json.dumps(fixture("order-sign-official.json")), headers=headers).status_code == 200
    assert secured.post(SIGN, content=json.dumps(fixture("order-sign-official.json")), headers=headers).status_code == 401


def test_a_request_that_falls_through_checks_its_token_once(secured):
    # a body the model refuses goes to FastAPI, whose dependency checks the token: had the
    # direct path recorded the jti first, FastAPI would see a replay and answer 401
    headers = {"Authorization": f"Bearer {token()}", **DIRECT}
    r = secured.post(SIGN, content=json.dumps({"hook": "order-sign", "hookInstance": "x"}), headers=headers)
    assert r.status_code == 422
