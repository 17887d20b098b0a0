"""The JSON API: recommendation, topics, variants, one error shape, limits, CORS, OpenAPI."""

from __future__ import annotations

import pytest

from service_helpers import fixture, seed_facts

MRI = "MRI Cervical Spine Without IV Contrast"


def _error(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"}
    assert set(body["error"]) <= {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in resp.text
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_health_reports_versions_and_auth_mode(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["content_version"].startswith("0.")
    assert body["auth"] == "off"


def test_recommend_rates_the_seed_patients_mri_as_usually_appropriate(client):
    r = client.post("/v1/recommend", json={"facts": seed_facts(), "order": MRI, "as_of": "2026-01-01"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["variant"]["id"] == "cervical-pain-3"
    assert doc["order"]["procedure"]["rating"] == 7
    assert doc["order"]["procedure"]["category"] == "usually-appropriate"
    assert r.headers["x-workup-consult-id"] == "urn:uuid:00000000-0000-4000-8000-000000000001"


def test_recommend_matches_the_cli_consult_path(client):
    from datetime import date

    from workup.cli import consult
    from workup.kb import load
    from workup.render.document import to_document

    rec, _ = consult({"facts": seed_facts(), "order": MRI}, load(), date(2026, 1, 1))
    r = client.post("/v1/recommend", json={"facts": seed_facts(), "order": MRI, "as_of": "2026-01-01"})
    assert r.json() == to_document(rec)


def test_recommend_is_audited_before_the_response(client):
    r = client.post("/v1/recommend", json={"facts": seed_facts(), "order": MRI, "as_of": "2026-01-01"})
    store = client.app.state.workup.store
    rec = store.consultation(r.headers["x-workup-consult-id"])
    assert rec["hook"] == "api"
    assert rec["variant"] == "cervical-pain-3"
    assert rec["ratings"][0]["rating"] == 7 and rec["ratings"][0]["pama"] == "appropriate"
    assert rec["order_codes"] == [MRI]


def test_recommend_defaults_as_of_to_the_service_clock(client):
    r = client.post("/v1/recommend", json={"facts": seed_facts()})
    assert r.json()["as_of"] == "2026-01-01"


@pytest.mark.parametrize(
    "body, status, code",
    [
        ({"facts": {"not_a_fact": True}}, 422, "IN202"),
        ({"unknown": 1}, 422, "SV400"),
        ({}, 422, "IN205"),
        ({"facts": seed_facts(), "order": ""}, 422, "IN206"),
        ({"facts": {"age": "old"}}, 422, None),
        ({"fhir": {"resourceType": "Patient"}}, 422, "IN219"),
        ({"facts": [1, 2]}, 422, "SV400"),
    ],
)
def test_recommend_input_errors_share_one_shape(client, body, status, code):
    _error(client.post("/v1/recommend", json=body), status, code)


@pytest.mark.parametrize("extra", [{}, {"days_since_surgery": 30}], ids=["alone", "beside-days-since"])
def test_surgery_date_after_as_of_is_a_coded_422(client, extra):
    facts = {**seed_facts(), "surgery_date": "2026-12-01", **extra}
    if not extra:
        facts.pop("days_since_surgery", None)
    err = _error(client.post("/v1/recommend", json={"facts": facts, "as_of": "2026-11-25"}), 422, "EV304")
    assert "2026-12-01" in err["message"] and "2026-11-25" in err["message"]


def test_validation_errors_never_echo_the_input(client):
    secret = "Jane Q. Patient 1955-02-03"
    r = client.post("/v1/recommend", json={"facts": seed_facts(), "unexpected": secret})
    err = _error(r, 422, "SV400")
    assert secret not in r.text
    assert err["details"][0]["where"] == "body.unexpected"


def test_malformed_json_is_a_coded_422(client):
    r = client.post("/v1/recommend", content=b"{not json", headers={"content-type": "application/json"})
    _error(r, 422, "SV400")


def test_unknown_route_and_method_use_the_error_shape(client):
    _error(client.get("/nope"), 404, "SV404")
    _error(client.get("/v1/recommend"), 405, "SV405")


def test_oversized_body_is_refused_with_413(make_client):
    c = make_client(max_body_bytes=2_000)
    _error(c.post("/v1/recommend", json={"text": "neck pain " * 500}), 413, "SV413")


def test_oversized_streamed_body_is_refused_with_413(make_client):
    c = make_client(max_body_bytes=2_000)

    def chunks():
        yield b'{"text": "'
        for _ in range(50):
            yield b"neck pain " * 10
        yield b'"}'

    r = c.post("/v1/recommend", content=chunks(), headers={"content-type": "application/json"})
    _error(r, 413, "SV413")


def test_internal_errors_are_coded_500_without_traceback(client, monkeypatch):
    import workup.service.routes.api as api

    def boom(*_a, **_k):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(api, "consult_payload", boom)
    r = client.post("/v1/recommend", json={"facts": seed_facts()})
    _error(r, 500, "SV500")
    assert "secret internal detail" not in r.text


def test_topics_list_every_packed_topic_with_its_variants(client):
    from workup.kb import load

    kb = load()
    body = client.get("/v1/topics").json()
    assert {t["id"] for t in body["topics"]} == set(kb.topics)
    cervical = next(t for t in body["topics"] if t["id"] == "cervical-pain")
    assert "cervical-pain-3" in cervical["variants"]


def test_topic_and_variant_pages(client):
    t = client.get("/v1/topics/cervical-pain").json()["topic"]
    assert t["id"] == "cervical-pain" and any(v["id"] == "cervical-pain-3" for v in t["variants"])
    v = client.get("/v1/variants/cervical-pain-3").json()["variant"]
    assert v["topic"] == "cervical-pain"
    assert any(r["procedure"] == "mri-cervical-spine-without-iv-contrast" and r["rating"] == 7 for r in v["ratings"])
    _error(client.get("/v1/topics/nope"), 404, "SV404")
    _error(client.get("/v1/variants/nope"), 404, "SV404")


def test_openapi_is_served_and_lists_the_routes(client):
    spec = client.get("/openapi.json").json()
    for path in ("/v1/recommend", "/v1/topics", "/cds-services", "/cds-services/{service_id}",
                 "/cds-services/{service_id}/feedback", "/healthz"):
        assert path in spec["paths"]


def test_cors_preflight_allows_browser_ehrs(client):
    r = client.options("/cds-services/workup-order-sign", headers={
        "Origin": "https://sandbox.cds-hooks.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    })
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] in ("*", "https://sandbox.cds-hooks.org")
    assert "authorization" in r.headers["access-control-allow-headers"].lower()


def test_importing_the_service_reads_no_settings():
    import os
    import subprocess
    import sys

    code = (
        "import workup.service.app, workup.service.config as c, workup.service.routes.hooks\n"
        "assert c.get_settings.cache_info().currsize == 0\n"
        "try:\n    c.get_settings()\nexcept Exception:\n    print('settings-invalid')\n"
    )
    env = {**os.environ, "WORKUP_PORT": "not-a-port"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "settings-invalid"  # read only when asked for, not at import


def test_recommend_from_a_fhir_bundle(client):
    seed = fixture("seed-post-acdf-order-sign.json")
    entries = [{"resource": seed["prefetch"]["patient"]}]
    entries += seed["prefetch"]["conditions"]["entry"] + seed["prefetch"]["procedures"]["entry"]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    r = client.post("/v1/recommend", json={"fhir": bundle, "as_of": "2026-01-01"})
    assert r.status_code == 200, r.text
    facts = {f["id"]: f["value"] for f in r.json()["facts"]}
    assert facts["age"] == 58


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1" + "0" * 400])
@pytest.mark.parametrize("fact", ["age", "symptom_duration_days"])
def test_a_number_fact_that_is_not_finite_is_a_coded_422_not_a_500(client, fact, literal):
    body = b'{"facts": {"region": "cervical", "%s": %s}}' % (fact.encode(), literal.encode())
    r = client.post("/v1/recommend", content=body, headers={"content-type": "application/json"})
    err = _error(r, 422, "IN202")
    assert [d["where"] for d in err["details"]] == [fact]
