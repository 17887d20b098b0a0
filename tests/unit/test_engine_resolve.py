"""Fact resolution: derivation, policy assumptions, given facts kept, surgery date → days since."""

from __future__ import annotations

from datetime import date

import pytest

from workup.engine.resolve import resolve
from workup.kb import default
from workup.types import Fact, FactOrigin, Facts

AS_OF = date(2025, 6, 1)


def given(**values: object) -> Facts:
    return Facts([Fact(k, v) for k, v in values.items()])  # type: ignore[arg-type]


def test_adult_is_derived_from_age():
    res = resolve(default(), given(age=40.0), AS_OF)
    f = res.facts["adult"]
    assert (f.value, f.origin) == (True, FactOrigin.DERIVED)
    assert res.facts["elderly"].value is False
    assert "age=40" in f.evidence[0].text
    assert any(t.node == "fact:adult" and t.result == "true" for t in res.trace)


def test_child_is_derived_not_adult_and_not_assumed():
    res = resolve(default(), given(age=12.0), AS_OF)
    assert res.facts["adult"].value is False
    assert "adult" not in {a.fact for a in res.assumptions}


def test_missing_age_gives_the_listed_assumption():
    kb = default()
    res = resolve(kb, given(), AS_OF)
    adult = next(a for a in res.assumptions if a.fact == "adult")
    assert adult.value is (kb.facts["adult"].when_unknown == "assume-true")
    assert adult.text == kb.facts["adult"].assumption
    assert res.facts["adult"].origin is FactOrigin.ASSUMED


def test_unmentioned_red_flags_are_assumed_absent_and_listed():
    kb = default()
    res = resolve(kb, given(region="cervical", pain=True), AS_OF)
    assumed = {a.fact: a for a in res.assumptions}
    flags = [fid for fid, fd in kb.facts.items() if fd.red_flag and fd.when_unknown == "assume-false"]
    assert flags, "the vocabulary has red flags assumed absent when unmentioned"
    for fid in flags:
        assert res.facts[fid].value is False, fid
        if kb.facts[fid].derive is None:
            assert assumed[fid].value is False, fid
            assert assumed[fid].text == kb.facts[fid].assumption
            assert res.facts[fid].origin is FactOrigin.ASSUMED
        else:  # derived from other (assumed) facts, or assumed when the rule stays unknown
            assert res.facts[fid].origin in (FactOrigin.DERIVED, FactOrigin.ASSUMED), fid


def test_assumptions_follow_vocabulary_order():
    kb = default()
    res = resolve(kb, given(), AS_OF)
    order = list(kb.facts)
    idx = [order.index(a.fact) for a in res.assumptions]
    assert idx == sorted(idx)


@pytest.mark.parametrize("fid,v", [("trauma", True), ("trauma", False), ("fever", True), ("adult", False), ("elderly", True)])
def test_given_facts_are_never_overridden(fid, v):
    res = resolve(default(), given(age=40.0, **{fid: v}), AS_OF)
    assert res.facts[fid].value is v
    assert res.facts[fid].origin is FactOrigin.GIVEN
    assert fid not in {a.fact for a in res.assumptions}


def test_asked_facts_stay_unknown():
    kb = default()
    res = resolve(kb, given(), AS_OF)
    for fid, fd in kb.facts.items():
        if fd.when_unknown == "ask" and fd.derive is None:
            assert fid not in res.facts, fid


def test_unknown_derived_fact_records_the_inputs_to_ask_for():
    res = resolve(default(), given(), AS_OF)
    assert "sudden_onset" not in res.facts
    assert res.unknown_inputs["sudden_onset"] == frozenset({"symptom_duration_days"})


def test_surgery_date_gives_days_since_surgery_as_of_the_consultation():
    res = resolve(default(), given(surgery_date=date(2025, 4, 2)), AS_OF)
    d = res.facts["days_since_surgery"]
    assert (d.value, d.origin) == (60.0, FactOrigin.DERIVED)
    assert "2025-04-02" in d.evidence[0].text and "2025-06-01" in d.evidence[0].text
    assert res.facts["fusion_early"].value is True
    assert res.facts["fusion_early"].origin is FactOrigin.DERIVED


def test_days_since_surgery_depends_on_as_of():
    later = resolve(default(), given(surgery_date=date(2025, 4, 2)), date(2026, 4, 2))
    assert later.facts["days_since_surgery"].value == 365.0
    assert later.facts["fusion_early"].value is False


def test_given_days_since_surgery_wins_over_surgery_date():
    res = resolve(default(), given(surgery_date=date(2025, 4, 2), days_since_surgery=400.0), AS_OF)
    assert res.facts["days_since_surgery"].value == 400.0
    assert res.facts["days_since_surgery"].origin is FactOrigin.GIVEN


@pytest.mark.parametrize("extra", [{}, {"days_since_surgery": 30.0}], ids=["alone", "beside-days-since"])
def test_surgery_date_after_the_consultation_is_ev304_even_beside_days_since_surgery(extra):
    from workup.errors import EvaluationError

    with pytest.raises(EvaluationError) as e:
        resolve(default(), given(surgery_date=date(2025, 6, 2), **extra), AS_OF)
    assert e.value.code == "EV304"
    assert "2025-06-02" in e.value.message and "2025-06-01" in e.value.message


def test_resolution_does_not_change_the_input_facts():
    fs = given(age=40.0)
    resolve(default(), fs, AS_OF)
    assert list(fs) == ["age"]


# derive_gives: a derive rule that is an implication gives only one value


def test_progressive_cord_signs_are_cord_signs():
    res = resolve(default(), given(myelopathy_progressive=True), AS_OF)
    assert (res.facts["myelopathy"].value, res.facts["myelopathy"].origin) == (True, FactOrigin.DERIVED)


@pytest.mark.parametrize(("fact", "base"), [("myelopathy", "myelopathy_progressive"), ("immunosuppressed", "hiv"),
                                           ("recent_intervention", "days_since_surgery")])
def test_a_false_input_of_a_true_only_rule_leaves_the_fact_to_its_policy(fact, base):
    """No progression is not no myelopathy, no HIV not no immunosuppression, an old operation not no injection
    since: each stays an assumption the clinician sees."""
    res = resolve(default(), given(**{base: 2000.0 if base == "days_since_surgery" else False}), AS_OF)
    assert (res.facts[fact].value, res.facts[fact].origin) == (False, FactOrigin.ASSUMED)
    assert fact in [a.fact for a in res.assumptions]
    assert not any(t.node == f"fact:{fact}" for t in res.trace)


def test_a_given_value_is_never_overridden_by_a_one_way_rule():
    res = resolve(default(), given(myelopathy_progressive=False, myelopathy=True), AS_OF)
    assert (res.facts["myelopathy"].value, res.facts["myelopathy"].origin) == (True, FactOrigin.GIVEN)


def test_collar_follow_up_is_false_without_a_negative_study_and_asked_with_one():
    kb = default()
    without = resolve(kb, given(trauma=True), AS_OF)
    assert (without.facts["collar_followup"].value, without.facts["collar_followup"].origin) == (False, FactOrigin.DERIVED)
    with_ct = resolve(kb, given(trauma=True, ct_negative=True), AS_OF)
    assert "collar_followup" not in with_ct.facts  # unknown: its policy is to ask
    assert "collar_followup" not in with_ct.unknown_inputs  # the question is the fact's own, not its inputs'


def test_derive_gives_needs_a_bool_fact_with_a_rule():
    from pydantic import ValidationError

    from workup.kb.schema import FactDef

    base = {"id": "x", "type": "bool", "label": "X", "question": "X?", "group": "g", "when_unknown": "ask"}
    assert FactDef(**base, derive={"type": "fact", "fact": "y"}, derive_gives="true").derive_gives == "true"
    with pytest.raises(ValidationError, match="derive_gives"):
        FactDef(**base, derive_gives="true")
    with pytest.raises(ValidationError, match="derive_gives"):
        FactDef(**{**base, "type": "number"}, derive={"type": "fact", "fact": "y"}, derive_gives="false")
