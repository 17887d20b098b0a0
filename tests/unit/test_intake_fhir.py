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


# Memos: validated resources and text readings are reused, never changing the answer.


def _uncached(bundle, kb=KB, as_of=AS_OF):
    """facts_from_bundle with both memos emptied first."""
    from workup.intake import fhir

    fhir._RESOURCES.resources.clear()
    fhir._text_memo.clear()
    fhir._bundle_memo.clear()
    return facts_from_bundle(copy.deepcopy(bundle), kb, as_of)


def test_a_repeated_bundle_reuses_its_resources_and_reading_with_the_same_facts(monkeypatch):
    import fhir.resources.R4B as r4b

    from workup.intake import fhir, text

    first = _uncached(BUNDLE)
    reads, built = [], []
    real_read, real_class = text.read, r4b.get_fhir_model_class
    monkeypatch.setattr(text, "read", lambda *a, **kw: reads.append(a[0]) or real_read(*a, **kw))
    monkeypatch.setattr(r4b, "get_fhir_model_class", lambda name: built.append(name) or real_class(name))
    again = facts_from_bundle(copy.deepcopy(BUNDLE), KB, AS_OF)
    assert again[0].to_list() == first[0].to_list() and again[1] == first[1]
    assert reads == [] and built == []  # read and validated once, on the first call
    assert len(fhir._RESOURCES.resources) == len(BUNDLE["entry"]) and len(fhir._bundle_memo) == 1


def test_a_bundle_with_more_than_resources_is_validated_whole_each_time_around_memoised_resources():
    from workup.intake import fhir

    first = _uncached(BUNDLE)
    fuller = copy.deepcopy(BUNDLE)
    fuller["id"] = "b1"
    fuller["entry"][0]["fullUrl"] = "urn:uuid:5f0c1a52-8a0e-4a52-9a57-5a3e1f1f0001"
    again = facts_from_bundle(fuller, KB, AS_OF)
    assert again[0].to_list() == first[0].to_list()
    assert len(fhir._bundle_memo) == 1 and len(fhir._RESOURCES.resources) == len(BUNDLE["entry"])
    fuller["timestamp"] = "not a time"
    with pytest.raises(IntakeError) as e:
        facts_from_bundle(fuller, KB, AS_OF)
    assert e.value.code == "IN242" and e.value.details[0]["where"] == "timestamp"


def test_a_changed_resource_is_validated_again():
    from workup.intake import fhir

    _uncached(BUNDLE)
    older = copy.deepcopy(BUNDLE)
    older["entry"][0]["resource"]["birthDate"] = "1940-03-01"
    facts, _ = facts_from_bundle(older, KB, AS_OF)
    assert facts.value("age") == 86.0
    assert len(fhir._RESOURCES.resources) == len(BUNDLE["entry"]) + 1


@pytest.mark.parametrize("where", [0, 2])
def test_an_invalid_resource_gets_the_same_error_whether_or_not_its_neighbours_are_memoised(where):
    bad = copy.deepcopy(BUNDLE)
    bad["entry"][where]["resource"]["id"] = 12  # an id must be a string
    bad["entry"][where]["resource"]["meta"] = {"lastUpdated": "yesterday"}
    with pytest.raises(IntakeError) as cold:
        _uncached(bad)
    facts_from_bundle(copy.deepcopy(BUNDLE), KB, AS_OF)  # every valid resource is now memoised
    with pytest.raises(IntakeError) as warm:
        facts_from_bundle(copy.deepcopy(bad), KB, AS_OF)
    assert (warm.value.code, warm.value.message, warm.value.details) == (cold.value.code, cold.value.message, cold.value.details)
    assert cold.value.code == "IN242" and any(str(where) in d["where"] for d in cold.value.details)


def test_memoised_reading_is_per_knowledge_pack():
    from workup.intake import fhir

    _uncached(BUNDLE)
    other = copy.copy(KB)  # another pack object: its reading must not come from KB's memo entry
    before = len(fhir._text_memo)
    facts_from_bundle(copy.deepcopy(BUNDLE), other, AS_OF)
    assert len(fhir._text_memo) == before + 1


def test_memos_are_bounded(monkeypatch):
    from workup.intake import fhir

    monkeypatch.setattr(fhir._RESOURCES.resources, "size", 3)
    monkeypatch.setattr(fhir._text_memo, "size", 2)
    monkeypatch.setattr(fhir._bundle_memo, "size", 2)
    _uncached(BUNDLE)
    for year in range(1950, 1960):
        b = copy.deepcopy(BUNDLE)
        b["entry"][0]["resource"]["birthDate"] = f"{year}-01-01"
        b["entry"][2]["resource"]["code"]["text"] = f"Lumbar laminectomy in {year}"
        facts_from_bundle(b, KB, AS_OF)
    assert len(fhir._RESOURCES.resources) == 3 and len(fhir._text_memo) == 2 and len(fhir._bundle_memo) == 2


def test_a_year_in_a_note_becomes_a_duration_on_the_consultation_date():
    """"since 2019" in a note is read against the consultation date, like free text is."""
    b = copy.deepcopy(BUNDLE)
    b["entry"][4]["resource"]["note"] = [{"text": "Neck pain since 2019. Denies trauma."}]
    facts, _ = _uncached(b)
    assert facts.value("symptom_duration_days") == float((AS_OF - date(2019, 1, 1)).days)
    later = date(2027, 5, 1)
    facts_later, _ = facts_from_bundle(copy.deepcopy(b), KB, later)  # another date: not the memoised reading
    assert facts_later.value("symptom_duration_days") == float((later - date(2019, 1, 1)).days)


# Loose resources (a CDS call) and element-level validation memo.


def _resources(bundle=BUNDLE):
    return [copy.deepcopy(e["resource"]) for e in bundle["entry"]]


def test_loose_resources_read_as_the_same_resources_in_a_bundle():
    from workup.intake.fhir import facts_from_resources

    in_bundle = _uncached(BUNDLE)
    loose = facts_from_resources(_resources(), KB, AS_OF)
    assert loose[0].to_list() == in_bundle[0].to_list() and loose[1] == in_bundle[1]


def test_an_invalid_loose_resource_is_located_by_its_type_and_id():
    from workup.intake.fhir import facts_from_resources

    bad = _resources()
    bad[1]["code"] = {"coding": [{"system": 5}]}
    bad[1]["onsetDateTime"] = "last spring"
    with pytest.raises(IntakeError) as e:
        facts_from_resources(bad, KB, AS_OF)
    assert e.value.code == "IN242" and "Condition" in e.value.message
    wheres = [d["where"] for d in e.value.details]
    assert all(w.startswith("Condition/c1.") for w in wheres) and any(w.startswith("Condition/c1.code") for w in wheres)
    assert any(w.startswith("Condition/c1.onsetDateTime") for w in wheres)


@pytest.mark.parametrize("item", [None, "Patient", {"id": "p1"}, {"resourceType": 7}])
def test_an_item_that_is_not_a_resource_is_a_coded_error(item):
    from workup.intake.fhir import facts_from_resources

    with pytest.raises(IntakeError) as e:
        facts_from_resources([*_resources(), item], KB, AS_OF)
    assert e.value.code == "IN244"


@pytest.mark.parametrize("kind", ["NotAThing", "CodeableConcept", "Reference"])
def test_an_unknown_resource_type_is_a_coded_error(kind):
    """Data types are not resources, though fhir.resources has a model for them."""
    from workup.intake.fhir import facts_from_resources

    with pytest.raises(IntakeError) as e:
        facts_from_resources([{"resourceType": kind, "id": "x"}], KB, AS_OF)
    assert e.value.code == "IN242" and e.value.details[0]["where"] == f"{kind}/x"


def _fresh_model(resource):
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource["resourceType"]).model_validate(copy.deepcopy(resource))


def test_a_new_resource_built_around_memoised_elements_equals_one_validated_whole():
    """Another patient's Condition reuses the code element validated for the first one."""
    from workup.intake import fhir

    fhir._RESOURCES.resources.clear()
    fhir._RESOURCES.elements.clear()
    first = _resources()
    for r in first:
        fhir._RESOURCES.get(r)
    elements = len(fhir._RESOURCES.elements)
    assert elements > 0
    for r in _resources():
        other = {**r, "id": f"{r['id']}-other"}
        if "subject" in other:
            other["subject"] = {"reference": "Patient/other"}
        built = fhir._RESOURCES.get(other)
        assert not isinstance(built, dict)
        assert built.model_dump() == _fresh_model(other).model_dump()
    assert len(fhir._RESOURCES.elements) == elements + 1  # only the new subject reference was validated


@pytest.mark.parametrize(
    "change",
    [
        {"code": {"coding": [{"system": 5}]}},  # an invalid element
        {"code": {"coding": [None]}},  # a null inside a list of complex elements
        {"category": [None, {"text": "x"}]},
        {"onsetDateTime": "2020-01-01", "onsetString": "in 2020"},  # two values for one choice element
        {"subject": {"reference": 5}},  # a wrong type inside an element that varies per patient
        {"recordedDate": "yesterday"},  # an invalid primitive beside memoised elements
        {"unknownElement": {"text": "x"}},
    ],
)
def test_an_invalid_resource_fails_alike_with_or_without_memoised_elements(change):
    from workup.intake import fhir
    from workup.intake.fhir import facts_from_resources

    bad = _resources()
    bad[1] = {**bad[1], **change}
    fhir._RESOURCES.resources.clear()
    fhir._RESOURCES.elements.clear()
    fhir._bundle_memo.clear()
    with pytest.raises(IntakeError) as cold:
        facts_from_resources(copy.deepcopy(bad), KB, AS_OF)
    facts_from_resources(_resources(), KB, AS_OF)  # every valid element is now memoised
    fhir._bundle_memo.clear()
    with pytest.raises(IntakeError) as warm:
        facts_from_resources(copy.deepcopy(bad), KB, AS_OF)
    assert (warm.value.code, warm.value.message, warm.value.details) == (cold.value.code, cold.value.message, cold.value.details)
    assert cold.value.code == "IN242"


def test_the_element_memo_is_bounded(monkeypatch):
    from workup.intake import fhir

    monkeypatch.setattr(fhir._RESOURCES.elements, "size", 3)
    for i in range(10):
        r = copy.deepcopy(BUNDLE["entry"][1]["resource"])
        r["code"]["text"] = f"Neck pain {i}"
        fhir._RESOURCES.get(r)
    assert len(fhir._RESOURCES.elements) == 3


def test_unknown_element_names_do_not_grow_the_element_class_table():
    from workup.intake import fhir

    before = len(fhir._ELEMENT_CLASSES)
    for i in range(50):
        r = {**copy.deepcopy(BUNDLE["entry"][1]["resource"]), f"madeUp{i}": {"text": "x"}}
        assert isinstance(fhir._RESOURCES.get(r), dict)  # refused by fhir.resources, left for the error report
    assert len(fhir._ELEMENT_CLASSES) <= before + len(BUNDLE["entry"][1]["resource"])
