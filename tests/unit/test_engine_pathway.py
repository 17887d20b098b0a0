"""Pathway walk: next steps for the current state, stopping to ask at unknown decisions."""

from __future__ import annotations

from datetime import date

import pytest

from workup.engine import evaluate
from workup.engine.criteria import CriteriaEvaluator
from workup.engine.pathway import walk
from workup.engine.recommend import Citer
from workup.engine.resolve import resolve
from workup.kb import build, default
from workup.types import Fact, Facts, Status, StepKind

AS_OF = date(2025, 6, 1)

TOPIC = """\
schema_version: 1
topic:
  id: zz
  title: Test topic
  source: {publisher: Test, title: Test Topic, version: "1", citation: acr-low-back-pain}
  precedence: 1
  applies_when: {type: fact, fact: pain}
  summary: A topic for pathway tests.
"""

VARIANTS = """\
schema_version: 1
variants:
- id: zz-1
  number: 1
  title: Any pain
  summary: Always applies.
  rank: 10
  citations: [acr-low-back-pain]
  criteria: {type: fact, fact: pain}
  ratings:
  - {procedure: radiography-spine-area-of-interest, rating: 7, category: usually-appropriate, rrl: Varies}
"""

PATHWAY = """\
schema_version: 1
pathways:
- id: zz-path
  title: Test pathway
  variants: [zz-1]
  start: first
  nodes:
    first:
      type: decision
      text: Tender?
      citations: [guide-postop-cervical]
      transitions:
      - {when: {type: fact, fact: radiculopathy}, to: films}
      - {when: {type: fact, fact: midline_tenderness}, to: films}
      else: labs
    films:
      type: imaging
      procedure: radiography-spine-area-of-interest
      text: Films.
      citations: [guide-postop-cervical]
      then: [labs, labs, done]
    labs:
      type: labs
      text: Labs.
      citations: [answer-resecured-hardware]
      then: [films]
    done:
      type: end
      text: Done.
"""


@pytest.fixture(scope="module")
def kb():
    files = {k: v for k, v in default().files.items() if not k.startswith(("topics/", "cases/"))}
    files["topics/zz/topic.yaml"] = TOPIC
    files["topics/zz/variants.yaml"] = VARIANTS
    files["topics/zz/pathway.yaml"] = PATHWAY
    return build(files)


def run(kb, pathway_id: str, region: str | None = None, **values):
    res = resolve(kb, Facts([Fact(k, v) for k, v in values.items()]), AS_OF)
    cite = Citer(kb)
    return walk(kb, kb.pathways[pathway_id], CriteriaEvaluator(kb, res.facts, res.unknown_inputs), region, cite), cite


def test_unknown_decision_stops_the_walk_and_asks(kb):
    w, _ = run(kb, "zz-path", radiculopathy=False)
    assert w.steps == ()
    assert w.path == ("first",)
    assert w.unknown == (("first", frozenset({"midline_tenderness"})),)
    assert [(t.node, t.result) for t in w.trace] == [("pathway:zz-path/first", "unknown")]


def test_unknown_first_transition_stops_even_if_a_later_one_is_true(kb):
    w, _ = run(kb, "zz-path", midline_tenderness=True)
    assert w.steps == () and w.unknown == (("first", frozenset({"radiculopathy"})),)


def test_true_transition_is_taken_and_nodes_are_visited_once(kb):
    w, cite = run(kb, "zz-path", "lumbar", radiculopathy=True)
    assert w.path == ("first", "films", "labs", "done")
    assert [(s.node_id, s.kind) for s in w.steps] == [("films", StepKind.IMAGING), ("labs", StepKind.LABS)]
    assert w.unknown == ()
    assert w.steps[0].reference_name == "Radiography Lumbar Spine"
    assert w.steps[0].procedure_id == "radiography-lumbar-spine"
    assert w.steps[0].citations == (1,) and w.steps[1].citations == (2,)
    assert list(cite.numbers) == ["guide-postop-cervical", "answer-resecured-hardware"]


def test_all_false_takes_else(kb):
    w, _ = run(kb, "zz-path", radiculopathy=False, midline_tenderness=False)
    assert [s.node_id for s in w.steps] == ["labs", "films"]
    assert w.trace[0].why == "→ labs (else)"


def test_area_of_interest_step_without_region_keeps_the_acr_name(kb):
    w, _ = run(kb, "zz-path", radiculopathy=True)
    assert w.steps[0].reference_name == "Radiography Spine Area of Interest"


# ---------------------------------------------------------------- the built-in post-operative cervical pathway

SEED = dict(age=58.0, region="cervical", pain=True, mechanical_pain=True, radiculopathy=True,
            symptom_duration_days=30.0, symptoms_increasing=True, prior_surgery_cervical=True,
            anterior_hardware=True, trauma=False)


def steps(**values) -> tuple[list[str], object]:
    rec = evaluate(Facts([Fact(k, v) for k, v in values.items()]), default(), AS_OF)
    return [s.node_id for s in rec.next_steps], rec


def test_postop_without_films_gets_radiographs_then_flexion_extension_when_fusion_mature():
    ids, rec = steps(**SEED, days_since_surgery=730.0)
    assert rec.pathway_id == "cervical-postop"
    assert ids == ["radiographs", "flexext"]
    assert rec.missing_facts == ()


def test_postop_flexion_extension_deferred_early_after_surgery():
    ids, _ = steps(**SEED, surgery_date=date(2025, 5, 1))
    assert ids == ["radiographs", "defer-flexext"]


def test_postop_unknown_time_since_surgery_stops_and_asks_for_it():
    ids, rec = steps(**SEED)
    assert rec.status is Status.RATED
    assert ids == ["radiographs"]
    assert [(m.fact, m.decides) for m in rec.missing_facts] == [("days_since_surgery", ("flexext-timing",))]


@pytest.mark.parametrize(
    "finding,expected",
    [
        ({"hardware_failure": True}, ["refer-hardware-failure", "ct-planning"]),
        ({"hardware_equivocal": True}, ["ct-equivocal", "check-swallowing-neuro", "check-infection-labs"]),
        ({"flexext_instability": True}, ["refer-instability"]),
        ({"xray_normal": True}, ["mri-noncontrast"]),
        ({"xray_normal": True, "mri_contraindicated": True}, ["ct-myelography"]),
        ({"xray_normal": True, "radiculopathy": False}, ["ct-fusion"]),
        ({"fusion_solid": True, "radiculopathy": False}, ["conservative"]),
    ],
)
def test_postop_findings_route_to_the_seed_next_steps(finding, expected):
    ids, _ = steps(**{**SEED, "days_since_surgery": 730.0, **finding})
    assert ids == expected


def test_postop_imaging_steps_name_the_procedure():
    _, rec = steps(**SEED, days_since_surgery=730.0, hardware_equivocal=True)
    first = rec.next_steps[0]
    assert (first.kind, first.reference_name) == (StepKind.IMAGING, "CT Cervical Spine Without IV Contrast")
    assert all(s.citations for s in rec.next_steps)
