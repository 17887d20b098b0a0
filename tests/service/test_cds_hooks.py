"""CDS Hooks 2.0 conformance: discovery, cards, systemActions (Argonaut PAMA), 412, feedback.

Replays the Hook Library's official order-select / order-sign examples, the Argonaut PAMA
example, the CDS Hooks sandbox PAMA scenario and the seed patient's MRI order.
"""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

import pytest

from service_helpers import fixture, seed_facts

from workup.render.cds import EXT_CONSULT_ID, EXT_RATING, PAMA_EXTENSIONS, PAMA_SYSTEM

SIGN = "/cds-services/workup-order-sign"
SELECT = "/cds-services/workup-order-select"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def assert_no_empty_optionals(node: Any, path: str = "$") -> None:
    """CDS Hooks: never null, "", [] or {} for optional fields (cards: [] is the one exception)."""
    if isinstance(node, dict):
        for k, v in node.items():
            here = f"{path}.{k}"
            if here == "$.cards":
                assert isinstance(v, list)
            else:
                assert v is not None and v != "" and v != [] and v != {}, f"empty value at {here}"
            assert_no_empty_optionals(v, here)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            assert_no_empty_optionals(v, f"{path}[{i}]")


def assert_card_conforms(card: dict) -> None:
    assert isinstance(card["summary"], str) and 0 < len(card["summary"]) < 140
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"]
    assert UUID.match(card["uuid"])
    for s in card.get("suggestions", []):
        assert s["label"] and UUID.match(s["uuid"])
        assert card["selectionBehavior"] in ("at-most-one", "any")
        for a in s["actions"]:
            assert a["type"] in ("create", "update", "delete")
    for r in card.get("overrideReasons", []):
        assert r["code"] and r["display"]
    for link in card.get("links", []):
        assert link["type"] in ("absolute", "smart") and link["url"] and link["label"]
        assert "appContext" not in link or link["type"] == "smart"


def with_seed_facts(monkeypatch, extra: dict | None = None) -> None:
    """Stand in for the EHR intakes: the seed patient's facts, whatever the prefetch says."""
    import workup.service.hooks as hooks
    from workup.intake import parse_facts

    def fake(prefetch, order, kb, as_of, require_patient):
        facts = {**seed_facts(), **(extra or {})}
        return parse_facts(facts, kb)

    monkeypatch.setattr(hooks, "patient_facts", fake)


def seed_request(code: dict | None = None) -> dict:
    req = fixture("seed-post-acdf-order-sign.json")
    if code is not None:
        req["context"]["draftOrders"]["entry"][0]["resource"]["code"] = code
    return req


# ----------------------------------------------------------------------------- discovery


def test_discovery_lists_order_select_and_order_sign_with_prefetch(client):
    body = client.get("/cds-services").json()
    services = {s["hook"]: s for s in body["services"]}
    assert set(services) == {"order-select", "order-sign"}
    ids = [s["id"] for s in body["services"]]
    assert len(ids) == len(set(ids))
    for s in body["services"]:
        assert s["description"] and s["id"] and s["title"]
        assert s["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert s["prefetch"]["conditions"] == "Condition?patient={{context.patientId}}"
        assert s["prefetch"]["procedures"] == "Procedure?patient={{context.patientId}}"
    assert_no_empty_optionals(body)


def test_discovery_is_open_even_when_jwt_is_required(make_client):
    c = make_client(dev_insecure=False)
    assert c.get("/cds-services").status_code == 200
    assert c.post(SIGN, json=fixture("order-sign-official.json")).status_code == 401


# ----------------------------------------------------------------------------- official examples


@pytest.mark.parametrize("name, path", [
    ("order-select-official.json", SELECT),
    ("order-sign-official.json", SIGN),
    ("argonaut-pama-knee.json", SELECT),
])
def test_examples_without_spine_imaging_get_an_empty_card_list(client, name, path):
    r = client.post(path, json=fixture(name))
    assert r.status_code == 200, r.text
    assert r.json() == {"cards": []}


def test_sandbox_lumbar_ct_without_contrast_phase_is_not_rated(client):
    r = client.post(SELECT, json=fixture("sandbox-pama-lumbar-ct.json"))
    body = r.json()
    assert r.status_code == 200
    assert "systemActions" not in body
    [card] = body["cards"]
    assert_card_conforms(card)
    assert "no rating" in card["summary"]
    assert_no_empty_optionals(body)


# ----------------------------------------------------------------------------- seed patient


def test_seed_patient_mri_is_rated_appropriate_on_the_order(client, monkeypatch):
    with_seed_facts(monkeypatch)
    req = seed_request()
    r = client.post(SIGN, json=req)
    assert r.status_code == 200, r.text
    body = r.json()
    assert_no_empty_optionals(body)
    [card] = body["cards"]
    assert_card_conforms(card)
    assert card["indicator"] == "info"
    assert "usually appropriate (7/9)" in card["summary"]
    assert "suggestions" not in card  # already a usually-appropriate study
    detail = card["detail"]
    assert "variant 3" in detail and "Cervical Pain or Cervical Radiculopathy" in detail
    # short on the order screen: the next step first, the basis as counts, the sources in one line
    assert detail.index("**Next step") < detail.index("**Scenario:**") < detail.index("**Why:**")
    assert "Radiography Cervical Spine" in detail.split("**Scenario:**")[0]
    assert "Based on " in detail and "assumed because not mentioned" in detail
    assert "Sources: [1] " in detail and "**References**" not in detail
    [action] = body["systemActions"]
    assert action["type"] == "update"
    original = req["context"]["draftOrders"]["entry"][0]["resource"]
    updated = action["resource"]
    # the update only adds the PAMA extensions; nothing else changes
    assert {k: v for k, v in updated.items() if k != "extension"} == original
    assert {e["url"] for e in updated["extension"]} <= PAMA_EXTENSIONS
    rating = next(e for e in updated["extension"] if e["url"] == EXT_RATING)["valueCodeableConcept"]["coding"]
    assert rating[0] == {"system": PAMA_SYSTEM, "code": "appropriate", "display": "Appropriate"}
    assert {c["code"] for c in rating[1:]} == {"7", "usually-appropriate"}
    consult = next(e for e in updated["extension"] if e["url"] == EXT_CONSULT_ID)["valueUri"]
    assert consult.startswith("urn:uuid:") and uuid.UUID(consult[9:])
    assert "extension" not in body  # sandbox mirror is off by default


def test_seed_order_is_written_to_the_audit_log(client, monkeypatch):
    with_seed_facts(monkeypatch)
    body = client.post(SIGN, json=seed_request()).json()
    consult = next(e for e in body["systemActions"][0]["resource"]["extension"] if e["url"] == EXT_CONSULT_ID)["valueUri"]
    rec = client.app.state.workup.store.consultation(consult)
    assert rec["hook"] == "order-sign" and rec["service"] == "workup-order-sign"
    assert rec["order_codes"] == ["http://loinc.org|30667-0"]
    assert rec["variant"] == "cervical-pain-3"
    assert rec["ratings"][0]["pama"] == "appropriate" and rec["ratings"][0]["rating"] == 7
    assert rec["cards"][0]["uuid"] == body["cards"][0]["uuid"]
    assert "SECRET-TOKEN" not in str(rec)  # fhirAuthorization is never stored


def test_poorly_rated_order_gets_a_warning_and_better_rated_suggestions(client, monkeypatch):
    with_seed_facts(monkeypatch)
    req = seed_request({"coding": [{"system": "http://loinc.org", "code": "24933-4"}], "text": "CT c-spine with contrast"})
    body = client.post(SIGN, json=req).json()
    assert_no_empty_optionals(body)
    [card] = body["cards"]
    assert_card_conforms(card)
    assert card["indicator"] == "warning"
    assert card["overrideReasons"]
    assert card["selectionBehavior"] == "at-most-one"
    names = []
    for s in card["suggestions"]:
        [action] = s["actions"]
        assert action["type"] == "update"
        res = action["resource"]
        names.append(res["code"]["text"])
        coding = next(e for e in res["extension"] if e["url"] == EXT_RATING)["valueCodeableConcept"]["coding"]
        assert coding[0]["code"] == "appropriate"  # each suggestion carries its own rating
        assert int(coding[1]["code"]) >= 7
    assert "MRI Cervical Spine Without IV Contrast" in names
    [action] = body["systemActions"]
    rating = next(e for e in action["resource"]["extension"] if e["url"] == EXT_RATING)["valueCodeableConcept"]["coding"]
    assert rating[0]["code"] == "not-appropriate" and rating[1]["code"] == "1"


def test_unknown_deciding_fact_gives_questions_and_no_rating(client, monkeypatch):
    import workup.service.hooks as hooks
    from workup.intake import parse_facts

    monkeypatch.setattr(hooks, "patient_facts", lambda p, o, kb, a, r: parse_facts({"age": 58}, kb))
    body = client.post(SIGN, json=seed_request()).json()
    assert "systemActions" not in body
    [card] = body["cards"]
    assert_card_conforms(card)
    assert card["summary"].startswith("Not rated yet")
    assert "**Would change the answer**" in card["detail"]
    assert "overrideReasons" not in card and "suggestions" not in card


def test_mirror_flag_copies_system_actions_for_the_sandbox(make_client, monkeypatch):
    with_seed_facts(monkeypatch)
    body = make_client(mirror_system_actions=True).post(SIGN, json=seed_request()).json()
    assert body["extension"]["systemActions"] == body["systemActions"]


def test_order_select_focuses_on_the_selected_orders(client, monkeypatch):
    with_seed_facts(monkeypatch)
    req = seed_request()
    req["hook"] = "order-select"
    other = copy.deepcopy(req["context"]["draftOrders"]["entry"][0])
    other["resource"]["id"] = "other"
    req["context"]["draftOrders"]["entry"].append(other)
    req["context"]["selections"] = ["ServiceRequest/other"]
    body = client.post(SELECT, json=req).json()
    assert [a["resource"]["id"] for a in body["systemActions"]] == ["other"]


def test_draft_orders_bundle_without_type_is_accepted(client, monkeypatch):
    with_seed_facts(monkeypatch)
    req = seed_request()
    req["context"]["draftOrders"].pop("type", None)
    assert "type" not in req["context"]["draftOrders"]
    assert client.post(SIGN, json=req).status_code == 200


def test_text_order_is_read_when_modality_region_and_contrast_are_clear(client, monkeypatch):
    with_seed_facts(monkeypatch)
    req = seed_request({"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "72141"}],
                        "text": "MRI C-spine w/o contrast"})
    body = client.post(SIGN, json=req).json()
    assert "usually appropriate (7/9)" in body["cards"][0]["summary"]


# ----------------------------------------------------------------------------- errors


def test_missing_patient_prefetch_is_412(client):
    req = seed_request()
    del req["prefetch"]["patient"]
    req["context"]["draftOrders"]["entry"][0]["resource"].pop("note")
    r = client.post(SIGN, json=req)
    assert r.status_code == 412
    assert r.json()["error"]["code"] == "SV412"


def test_null_patient_prefetch_is_not_412(client):
    req = seed_request()
    req["prefetch"]["patient"] = None
    assert client.post(SIGN, json=req).status_code == 200


@pytest.mark.parametrize("mutate, status", [
    (lambda r: r.update(hook="patient-view"), 400),
    (lambda r: r["context"].update(draftOrders={"resourceType": "Patient"}), 400),
    (lambda r: r["context"].pop("patientId"), 422),
    (lambda r: r.pop("hookInstance"), 422),
])
def test_malformed_calls_are_refused_with_the_error_shape(client, mutate, status):
    req = seed_request()
    mutate(req)
    r = client.post(SIGN, json=req)
    assert r.status_code == status
    assert set(r.json()) == {"error"}


def test_order_select_needs_selections(client):
    req = fixture("order-select-official.json")
    del req["context"]["selections"]
    r = client.post(SELECT, json=req)
    assert r.status_code == 400 and r.json()["error"]["code"] == "SV422"


def test_unknown_service_is_404(client):
    r = client.post("/cds-services/nope", json=seed_request())
    assert r.status_code == 404 and r.json()["error"]["code"] == "SV404"


# ----------------------------------------------------------------------------- feedback


def _feedback(card: str, outcome: str = "overridden", **extra) -> dict:
    item = {"card": card, "outcome": outcome, "outcomeTimestamp": "2026-01-01T12:05:00Z", **extra}
    return {"feedback": [item]}


def test_feedback_is_idempotent_and_stored_with_the_override_reason(client, monkeypatch):
    with_seed_facts(monkeypatch)
    body = client.post(SIGN, json=seed_request()).json()
    card = body["cards"][0]["uuid"]
    reason = {"reason": {"system": "urn:workup:codesystem:override-reason", "code": "patient-specific",
                         "display": "Patient-specific factors"}, "userComment": "free text that must not be stored"}
    fb = _feedback(card, overrideReason=reason)
    first = client.post(SIGN + "/feedback", json=fb)
    second = client.post(SIGN + "/feedback", json=fb)
    assert first.status_code == second.status_code == 200
    assert first.json()["new"] == 1 and second.json()["new"] == 0
    consult = next(e for e in body["systemActions"][0]["resource"]["extension"] if e["url"] == EXT_CONSULT_ID)["valueUri"]
    rec = client.app.state.workup.store.consultation(consult)
    [item] = rec["feedback"]
    assert item["outcome"] == "overridden" and item["override_code"] == "patient-specific"
    assert "free text" not in str(rec)


def test_accepted_feedback_keeps_the_accepted_suggestion(client, monkeypatch):
    with_seed_facts(monkeypatch)
    req = seed_request({"coding": [{"system": "http://loinc.org", "code": "24933-4"}]})
    card = client.post(SIGN, json=req).json()["cards"][0]
    sid = card["suggestions"][0]["uuid"]
    r = client.post(SIGN + "/feedback", json=_feedback(card["uuid"], "accepted", acceptedSuggestions=[{"id": sid}]))
    assert r.status_code == 200
    [rec] = [c for c in client.app.state.workup.store.consultations() if c["feedback"]]
    assert rec["feedback"][0]["accepted_suggestions"] == [sid]


@pytest.mark.parametrize("body", [
    {"feedback": []},
    {"feedback": [{"card": "x", "outcome": "ignored", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]},
    {"feedback": [{"outcome": "accepted", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]},
    {},
])
def test_malformed_feedback_is_422(client, body):
    r = client.post(SIGN + "/feedback", json=body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "SV400"


# ----------------------------------------------------------------------------- with the real intakes


def test_seed_order_end_to_end_through_the_intakes(client):
    r = client.post(SIGN, json=seed_request())
    assert r.status_code == 200, r.text
    body = r.json()
    assert_no_empty_optionals(body)
    [card] = body["cards"]
    assert "usually appropriate (7/9)" in card["summary"], card["detail"]


def test_prefetch_operation_outcomes_are_tolerated(client):
    req = seed_request()
    oo = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "not-found"}]}
    req["prefetch"]["conditions"] = oo
    req["prefetch"]["procedures"] = None
    r = client.post(SIGN, json=req)
    assert r.status_code == 200, r.text
    assert_no_empty_optionals(r.json())


def test_an_invalid_prefetched_resource_is_refused_and_located(client):
    """A Condition fhir.resources refuses: 422 with the coded intake error naming the resource and element."""
    req = seed_request()
    condition = req["prefetch"]["conditions"]["entry"][0]["resource"]
    condition["code"]["coding"][0]["system"] = 5
    r = client.post(SIGN, json=req)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "IN242"
    assert err["details"] and all(d["where"].startswith(f"Condition/{condition['id']}.code") for d in err["details"])


def test_a_procedure_dated_after_the_order_is_a_coded_422_not_a_card(client):
    """The note says two years since the ACDF; a completed Procedure dated after the call is refused, not ignored."""
    req = seed_request()
    req["prefetch"]["procedures"]["entry"][0]["resource"]["performedDateTime"] = "2099-12-01"
    r = client.post(SIGN, json=req)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "EV304" and "2099-12-01" in err["message"]


def test_a_prefetch_entry_that_is_not_a_resource_is_skipped_not_a_crash(client):
    req = seed_request()
    req["prefetch"]["conditions"]["entry"].append({"resource": "Condition/c9"})
    req["prefetch"]["procedures"]["entry"].append({"fullUrl": "urn:uuid:0"})
    r = client.post(SIGN, json=req)
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]  # the rest of the prefetch is read as before: the seed order is still rated
    assert "usually appropriate (7/9)" in card["summary"], card["detail"]
