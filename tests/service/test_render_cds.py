"""The pure CDS renderer: deterministic, short summaries, updates that only add PAMA extensions."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from service_helpers import Ids, seed_facts

from workup.render.cds import (
    EXT_RATING,
    PAMA_EXTENSIONS,
    Labels,
    OrderAdvice,
    Source,
    _clip,
    cds_response,
    pama_code,
)
from workup.types import Category

SR = {"resourceType": "ServiceRequest", "id": "sr-1", "status": "draft", "intent": "order",
      "code": {"text": "CT cervical spine with contrast"}, "subject": {"reference": "Patient/p"},
      "extension": [{"url": "http://example.org/other", "valueString": "kept"},
                    {"url": EXT_RATING, "valueCodeableConcept": {"coding": [{"code": "stale"}]}}]}


def _rec(order: str, extra: dict | None = None):
    from workup.engine import evaluate
    from workup.intake import parse_facts
    from workup.kb import load

    kb = load()
    return evaluate(parse_facts({**seed_facts(), **(extra or {})}, kb), kb, date(2026, 1, 1), order)


def _render(rec, mirror=False):
    labels = Labels({"age": "Age"})
    return cds_response([OrderAdvice(SR, "CT cervical spine with contrast", rec, "https://acsearch.acr.org/list")],
                        labels, Source("workup test (content v)"), "urn:uuid:c-1", Ids(), mirror=mirror)


def test_same_input_same_response():
    rec = _rec("CT Cervical Spine With IV Contrast")
    assert _render(rec) == _render(rec)


def test_update_replaces_stale_pama_extensions_and_keeps_the_others():
    rec = _rec("CT Cervical Spine With IV Contrast")
    res = _render(rec)["systemActions"][0]["resource"]
    assert {k: v for k, v in res.items() if k != "extension"} == {k: v for k, v in SR.items() if k != "extension"}
    urls = [e["url"] for e in res["extension"]]
    assert urls[0] == "http://example.org/other"
    assert set(urls[1:]) <= PAMA_EXTENSIONS and urls.count(EXT_RATING) == 1
    assert SR["extension"][1]["valueCodeableConcept"]["coding"][0]["code"] == "stale"  # input not mutated


def test_ids_come_from_the_caller():
    res = _render(_rec("CT Cervical Spine With IV Contrast"))
    card = res["cards"][0]
    assert card["uuid"] == "00000000-0000-4000-8000-000000000001"
    assert [s["uuid"] for s in card["suggestions"]] == [
        f"00000000-0000-4000-8000-{n:012d}" for n in range(2, 2 + len(card["suggestions"]))]


def test_pama_mapping_keeps_the_fine_rating():
    rec = _rec("CT Myelography Cervical Spine")  # rated 5, may be appropriate, for variant 3
    assert rec.order.procedure.category is Category.MAY_BE_APPROPRIATE
    assert pama_code(rec) == "appropriate"
    coding = _render(rec)["systemActions"][0]["resource"]["extension"]
    rating = next(e for e in coding if e["url"] == EXT_RATING)["valueCodeableConcept"]["coding"]
    assert [c["code"] for c in rating] == ["appropriate", "5", "may-be-appropriate"]


def test_needs_information_gets_no_rating():
    from workup.engine import evaluate
    from workup.intake import parse_facts
    from workup.kb import load

    kb = load()
    rec = evaluate(parse_facts({"age": 58}, kb), kb, date(2026, 1, 1), "MRI Cervical Spine Without IV Contrast")
    assert pama_code(rec) is None
    assert "systemActions" not in _render(rec)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=400))
def test_summaries_always_fit_under_140_characters(text):
    out = _clip(text)
    assert len(out) < 140
    if len(" ".join(text.split())) < 140:
        assert out == " ".join(text.split())


def test_mirror_copies_actions():
    res = _render(_rec("CT Cervical Spine With IV Contrast"), mirror=True)
    assert res["extension"]["systemActions"] == res["systemActions"]
