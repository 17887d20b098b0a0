"""What-if findings derived from pathway data (workup.service.whatif)."""

from __future__ import annotations

from datetime import date

import pytest

from workup.consult import consult_payload
from workup.kb import load
from workup.service.whatif import candidates, offers, satisfy

SEED = {"age": 58, "sex": "male", "region": "cervical", "pain": True, "mechanical_pain": True, "radiculopathy": True,
        "symptom_duration_days": "1mo", "prior_surgery_cervical": True, "days_since_surgery": "2y",
        "anterior_hardware": True, "trauma": False}


@pytest.fixture(scope="module")
def kb():
    return load()


def run_with(kb, extra):
    return consult_payload({"facts": {**SEED, **extra}}, kb, date(2026, 5, 30)).recommendation


@pytest.mark.parametrize("criterion, expected", [
    ({"type": "fact", "fact": "hardware_failure"}, {"hardware_failure": True}),
    ({"type": "fact", "fact": "trauma", "is": False}, {"trauma": False}),
    ({"type": "fact", "fact": "region", "equals": "lumbar"}, {"region": "lumbar"}),
    ({"type": "not", "of": {"type": "fact", "fact": "trauma"}}, {"trauma": False}),
    ({"type": "all", "of": [{"type": "fact", "fact": "fever"}, {"type": "fact", "fact": "trauma", "is": False}]},
     {"fever": True, "trauma": False}),
    ({"type": "all", "of": [{"type": "fact", "fact": "fever"}, {"type": "fact", "fact": "fever", "is": False}]}, None),
    ({"type": "duration", "fact": "symptom_duration_days", "gte": "6w"}, {"symptom_duration_days": 42.0}),
    # A derived fact is replaced by the base fact behind it (fusion_early ← days_since_surgery < 90).
    ({"type": "fact", "fact": "fusion_early"}, {"days_since_surgery": 45.0}),
])
def test_satisfy_finds_facts_that_make_a_criterion_true(kb, criterion, expected):
    from pydantic import TypeAdapter

    from workup.kb.schema import Criterion

    c = TypeAdapter(Criterion).validate_python(criterion)
    assert satisfy(kb, c) == expected


def test_candidates_carry_their_node_finding_label_and_known_facts(kb):
    for cand in candidates(kb, kb.pathways["cervical-postop"]):
        assert kb.pathways["cervical-postop"].nodes[cand.node].finding == cand.label
        assert all(fid in kb.facts for fid, _ in cand.facts)


def test_offers_are_confirmed_by_the_engine(kb):
    rec = run_with(kb, {})
    got = offers(kb, rec, {}, lambda o: run_with(kb, o))
    assert got
    for w in got:
        again = run_with(kb, dict(w.facts))
        assert w.node in again.path and w.node not in rec.path
        assert [s.node_id for s in again.next_steps] == [s.node_id for s in w.rec.next_steps]


def test_no_offer_without_a_pathway(kb):
    from dataclasses import replace

    rec = replace(run_with(kb, {}), pathway_id=None, path=())
    assert offers(kb, rec, {}, lambda o: pytest.fail("nothing to evaluate without a pathway")) == ()


def test_an_offer_never_changes_facts_its_label_does_not_name(kb):
    rec = run_with(kb, {})
    labels = {w.label for w in offers(kb, rec, {}, lambda o: run_with(kb, o))}
    assert "Radiographs: hardware failure (broken screw, plate migration, loosening)" in labels
    # Reaching CT myelography needs a film result as well; the label names only the contraindication.
    assert "MRI contraindicated" not in labels
    after = run_with(kb, {"xray_normal": True})
    labels = {w.label for w in offers(kb, after, {"xray_normal": True}, lambda o: run_with(kb, o))}
    assert "MRI contraindicated" in labels
