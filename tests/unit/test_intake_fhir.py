"""FHIR R4 Bundle → facts and orders."""

from __future__ import annotations

import copy
from datetime import date

import pytest

from workup.engine import evaluate
from workup.errors import IntakeError
from workup.intake.fhir import facts_from_bundle
from workup.kb import load

KB = load()
AS_OF = date(2026, 5, 1)

BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {"resource": {"resourceType": "Patient", "id": "p1", "birthDate": "1968-03-01", "gender": "male"}},
        {
            "resource": {
                "resourceType": "Condition",
                "id": "c1",
                "subject": {"reference": "Patient/p1"},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.2", "display": "Cervicalgia"}]},
            }
        },
        {
            "resource": {
                "resourceType": "Procedure",
                "id": "pr1",
                "status": "completed",
                "subject": {"reference": "Patient/p1"},
                "code": {"text": "Anterior cervical discectomy and fusion C5-C6"},
                "performedDateTime": "2024-05-02",
            }
        },
        {
            "resource": {
                "resourceType": "Observation",
                "id": "o1",
                "status": "final",
                "code": {"text": "C-reactive protein"},
                "interpretation": [{"coding": [{"code": "N"}]}],
            }
        },
        {
            "resource": {
                "resourceType": "ServiceRequest",
                "id": "sr1",
                "status": "draft",
                "intent": "order",
                "subject": {"reference": "Patient/p1"},
                "code": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "72141", "display": "MRI cervical spine without contrast"}]},
                "reasonReference": [{"reference": "Condition/c1"}],
                "note": [{"text": "Tingling down the right arm for a month. Denies trauma."}],
            }
        },
    ],
}


def test_bundle_gives_facts_and_orders():
    facts, orders = facts_from_bundle(copy.deepcopy(BUNDLE), KB, as_of=AS_OF)
    got = {k: f.value for k, f in facts.items()}
    assert got["age"] == 58.0 and got["sex"] == "male"
    assert got["region"] == "cervical" and got["pain"] is True
    assert got["prior_surgery_cervical"] is True and got["anterior_hardware"] is True
    assert got["surgery_date"] == date(2024, 5, 2)
    assert got["radiculopathy"] is True and got["trauma"] is False
    assert "inflammatory_markers_elevated" not in got
    assert orders == ["MRI cervical spine without contrast"]
    assert all(f.origin.value == "fhir" for f in facts.values())
    assert facts["radiculopathy"].evidence[0].source == "fhir:ServiceRequest/sr1"
    assert facts["surgery_date"].evidence[0].source == "fhir:Procedure/pr1"


def test_bundle_routes_to_postop_cervical_variant():
    facts, _ = facts_from_bundle(copy.deepcopy(BUNDLE), KB, as_of=AS_OF)
    rec = evaluate(facts, KB, AS_OF)
    assert rec.variant is not None and rec.variant.id == "cervical-pain-3"


def test_bundle_without_type_is_accepted():
    b = copy.deepcopy(BUNDLE)
    del b["type"]
    facts, orders = facts_from_bundle(b, KB, as_of=AS_OF)
    assert facts["region"].value == "cervical" and orders


def test_high_observation_and_refuted_condition():
    b = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "Observation", "id": "o", "status": "final", "code": {"text": "CRP"}, "interpretation": [{"coding": [{"code": "H"}]}]}},
            {
                "resource": {
                    "resourceType": "Condition",
                    "id": "c",
                    "subject": {"reference": "Patient/p"},
                    "verificationStatus": {"coding": [{"code": "refuted"}]},
                    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Z85.3"}]},
                }
            },
        ],
    }
    facts, _ = facts_from_bundle(b, KB)
    assert facts["inflammatory_markers_elevated"].value is True
    assert "malignancy_history" not in facts


def test_age_needs_as_of():
    facts, _ = facts_from_bundle(copy.deepcopy(BUNDLE), KB)
    assert "age" not in facts


@pytest.mark.parametrize(
    "bad",
    [
        None,
        [],
        "Bundle",
        {"resourceType": "Patient"},
        {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Condition", "code": 5}}]},
        {"resourceType": "Bundle", "entry": "nope"},
        {"resourceType": "Bundle", "type": "not-a-type"},
    ],
)
def test_invalid_bundle_is_a_clear_intake_error(bad):
    with pytest.raises(IntakeError) as e:
        facts_from_bundle(bad, KB)
    assert e.value.code.startswith("IN24")
    assert e.value.message
