"""Routing: rated, needs-information when a higher-ranked variant is unknown, no-criteria-apply."""

from __future__ import annotations

from datetime import date

import pytest

from workup.engine import evaluate
from workup.engine.criteria import CriteriaEvaluator
from workup.engine.match import match
from workup.engine.resolve import resolve
from workup.kb import build, default
from workup.types import Fact, Facts, Status

AS_OF = date(2025, 6, 1)

TOPIC = """\
schema_version: 1
topic:
  id: zz
  title: Test topic
  source: {publisher: Test, title: Test Topic, version: "1", citation: acr-cervical-pain}
  precedence: 1
  applies_when: {type: fact, fact: region, equals: cervical}
  summary: A topic for routing tests.
"""

VARIANTS = """\
schema_version: 1
variants:
- id: zz-1
  number: 1
  title: Tender midline with radiculopathy
  summary: First tried.
  rank: 10
  citations: [acr-cervical-pain]
  criteria:
    type: all
    of:
    - {type: fact, fact: radiculopathy}
    - {type: fact, fact: midline_tenderness}
  ratings:
  - {procedure: radiography-cervical-spine, rating: 8, category: usually-appropriate, rrl: ☢☢ 0.1-1 mSv}
- id: zz-2
  number: 2
  title: Any neck pain
  summary: Tried second.
  rank: 20
  citations: [acr-cervical-pain]
  criteria: {type: fact, fact: pain}
  ratings:
  - {procedure: mri-cervical-spine-without-iv-contrast, rating: 6, category: may-be-appropriate, rrl: O 0 mSv}
- id: zz-3
  number: 3
  title: Lowest rank, never blocks
  summary: Tried last.
  rank: 30
  citations: [acr-cervical-pain]
  criteria: {type: fact, fact: dangerous_mechanism}
  ratings:
  - {procedure: ct-cervical-spine-without-iv-contrast, rating: 9, category: usually-appropriate, rrl: ☢☢☢ 1-10 mSv}
"""


@pytest.fixture(scope="module")
def kb():
    files = {k: v for k, v in default().files.items() if not k.startswith(("topics/", "cases/"))}
    files["topics/zz/topic.yaml"] = TOPIC
    files["topics/zz/variants.yaml"] = VARIANTS
    return build(files)


def route(kb, **values):
    res = resolve(kb, Facts([Fact(k, v) for k, v in values.items()]), AS_OF)
    return match(kb, CriteriaEvaluator(kb, res.facts, res.unknown_inputs))


def test_variants_are_tried_in_rank_order(kb):
    assert kb.order == ("zz-1", "zz-2", "zz-3")


def test_first_true_variant_is_rated(kb):
    m = route(kb, region="cervical", radiculopathy=True, midline_tenderness=True, pain=True)
    assert (m.status, m.variant_id) == (Status.RATED, "zz-1")
    assert m.because == ("radiculopathy=true", "midline_tenderness=true")


def test_false_higher_variant_falls_through_to_the_next(kb):
    m = route(kb, region="cervical", radiculopathy=True, midline_tenderness=False, pain=True)
    assert (m.status, m.variant_id) == (Status.RATED, "zz-2")


def test_unknown_that_cannot_decide_does_not_block(kb):
    # radiculopathy false makes zz-1 false whatever the tenderness is.
    m = route(kb, region="cervical", radiculopathy=False, pain=True)
    assert (m.status, m.variant_id) == (Status.RATED, "zz-2")


def test_unknown_higher_ranked_variant_gives_needs_information(kb):
    m = route(kb, region="cervical", radiculopathy=True, pain=True)
    assert m.status is Status.NEEDS_INFORMATION
    assert m.variant_id is None
    assert m.blockers == (("zz-1", frozenset({"midline_tenderness"})),)


def test_needs_information_asks_the_vocabulary_question(kb):
    rec = evaluate(Facts([Fact("region", "cervical"), Fact("radiculopathy", True), Fact("pain", True)]), kb, AS_OF)
    assert rec.status is Status.NEEDS_INFORMATION
    assert [(m.fact, m.question, m.decides) for m in rec.missing_facts] == [
        ("midline_tenderness", kb.facts["midline_tenderness"].question, ("zz-1",))
    ]
    assert rec.variant is None and rec.procedures == () and rec.next_steps == ()


def test_unknown_lower_ranked_variant_after_a_match_is_ignored(kb):
    m = route(kb, region="cervical", radiculopathy=False, pain=True)  # dangerous_mechanism unknown
    assert m.status is Status.RATED
    assert "variant:zz-3" not in [t.node for t in m.trace]


def test_nothing_true_and_nothing_unknown_gives_no_criteria_apply(kb):
    m = route(kb, region="cervical", radiculopathy=False, pain=False, dangerous_mechanism=False)
    assert (m.status, m.variant_id, m.blockers) == (Status.NO_CRITERIA_APPLY, None, ())


def test_topic_that_does_not_apply_gives_no_criteria_apply(kb):
    m = route(kb, region="lumbar", radiculopathy=True, midline_tenderness=True, pain=True)
    assert m.status is Status.NO_CRITERIA_APPLY
    assert [(t.node, t.result) for t in m.trace] == [("topic:zz", "false")]


def test_unknown_topic_condition_asks_for_it(kb):
    m = route(kb, radiculopathy=True, midline_tenderness=True, pain=True)
    assert m.status is Status.NEEDS_INFORMATION
    assert m.blockers[0] == ("zz-1", frozenset({"region"}))


def test_trace_records_every_variant_tried_with_its_result(kb):
    m = route(kb, region="cervical", radiculopathy=True, midline_tenderness=False, pain=True)
    assert [(t.node, t.result) for t in m.trace] == [("topic:zz", "true"), ("variant:zz-1", "false"), ("variant:zz-2", "true")]
    assert m.trace[1].why == "midline_tenderness=false"


# ---------------------------------------------------------------- the built-in pack


def test_builtin_seed_patient_routes_to_cervical_pain_3():
    facts = Facts([
        Fact("age", 58.0), Fact("region", "cervical"), Fact("pain", True), Fact("radiculopathy", True),
        Fact("symptom_duration_days", 30.0), Fact("symptoms_increasing", True), Fact("prior_surgery_cervical", True),
        Fact("days_since_surgery", 730.0), Fact("trauma", False),
    ])
    rec = evaluate(facts, default(), AS_OF)
    assert (rec.status, rec.variant.id if rec.variant else None) == (Status.RATED, "cervical-pain-3")


def test_builtin_region_outside_the_spine_gives_no_criteria_apply():
    rec = evaluate(Facts([Fact("region", "other"), Fact("pain", True)]), default(), AS_OF)
    assert rec.status is Status.NO_CRITERIA_APPLY
    assert rec.missing_facts == ()


def test_builtin_empty_facts_ask_for_the_region():
    rec = evaluate(Facts(), default(), AS_OF)
    assert rec.status is Status.NEEDS_INFORMATION
    assert "region" in [m.fact for m in rec.missing_facts]


@pytest.mark.parametrize(("days", "said"), [(14.0, "2 weeks"), (10.0, "10 days"), (91.3125, "3 months")])
def test_the_rationale_names_a_deciding_duration_as_a_clinician_would(days, said):
    facts = Facts([Fact("age", 40.0), Fact("region", "cervical"), Fact("pain", True), Fact("radiculopathy", False),
                   Fact("symptom_duration_days", days), Fact("trauma", False)])
    rec = evaluate(facts, default(), AS_OF)
    assert f"Duration of symptoms: {said}" in rec.rationale, rec.rationale
    assert f"Duration of symptoms: {days}" not in rec.rationale


def test_no_criteria_apply_names_the_red_flags_present():
    """Sciatica with a new foot drop fits no packed low back scenario; the answer says which red flag took it out."""
    facts = Facts([Fact("age", 45.0), Fact("region", "lumbar"), Fact("pain", True), Fact("radiculopathy", True),
                   Fact("neuro_deficit", True), Fact("symptom_duration_days", 10.0), Fact("trauma", False)])
    rec = evaluate(facts, default(), AS_OF)
    assert rec.status is Status.NO_CRITERIA_APPLY
    assert "Red flag present: new focal neurologic deficit." in rec.rationale


def test_no_criteria_apply_without_a_red_flag_says_no_more():
    """Two months of thoracic pain, nothing tried yet: the pack has no such scenario, and no red flag explains it."""
    facts = Facts([Fact("age", 45.0), Fact("region", "thoracic"), Fact("pain", True), Fact("radiculopathy", False),
                   Fact("symptom_duration_days", 60.0), Fact("conservative_care_tried", False)])
    rec = evaluate(facts, default(), AS_OF)
    assert rec.status is Status.NO_CRITERIA_APPLY
    assert "Red flag" not in rec.rationale
