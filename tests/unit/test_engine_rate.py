"""Rating a variant's procedures and an ordered study."""

from __future__ import annotations

import pytest

from workup.engine.rate import radiation, rate, rate_order
from workup.kb import build, default
from workup.types import Category, Radiation

TOPIC = """\
schema_version: 1
topic:
  id: zz
  title: Test topic
  source: {publisher: Test, title: Test Topic, version: "1", citation: acr-low-back-pain}
  precedence: 1
  applies_when: {type: fact, fact: pain}
  summary: A topic for rating tests.
"""

VARIANTS = """\
schema_version: 1
variants:
- id: zz-1
  number: 1
  title: Rated
  summary: Ratings in a deliberately unsorted order.
  rank: 10
  citations: [acr-low-back-pain]
  criteria: {type: fact, fact: pain}
  ratings:
  - {procedure: ct-lumbar-spine-without-iv-contrast, rating: 7, category: usually-appropriate, rrl: ☢☢☢ 1-10 mSv}
  - {procedure: mri-lumbar-spine-with-iv-contrast, rating: 3, category: usually-not-appropriate, rrl: O 0 mSv}
  - {procedure: radiography-spine-area-of-interest, rating: 5, category: may-be-appropriate, rrl: Varies}
  - {procedure: mri-lumbar-spine-without-iv-contrast, rating: 7, category: usually-appropriate, rrl: O 0 mSv}
  - {procedure: ct-myelography-lumbar-spine, rating: 5, category: may-be-appropriate-disagreement, rrl: ☢☢☢☢ 10-30 mSv}
  - {procedure: bone-scan-whole-body-with-spect-or-spect-ct-complete-spine, rating: 9, category: usually-appropriate, rrl: ☢☢☢ 1-10 mSv}
- id: zz-2
  number: 2
  title: Gives the lumbar radiograph its RRL
  summary: Not routed to.
  rank: 20
  citations: [acr-low-back-pain]
  criteria: {type: fact, fact: pain, is: false}
  ratings:
  - {procedure: radiography-lumbar-spine, rating: 1, category: usually-not-appropriate, rrl: ☢☢☢ 1-10 mSv}
"""


@pytest.fixture(scope="module")
def kb():
    files = {k: v for k, v in default().files.items() if not k.startswith(("topics/", "cases/"))}
    files["topics/zz/topic.yaml"] = TOPIC
    files["topics/zz/variants.yaml"] = VARIANTS
    return build(files)


@pytest.mark.parametrize(
    "cell,level,dose,rank",
    [
        ("O 0 mSv", "O", "0 mSv", 0),
        ("☢ <0.1 mSv", "☢", "<0.1 mSv", 1),
        ("☢☢  0.1-1mSv", "☢☢", "0.1-1 mSv", 2),
        ("☢☢☢ 1-10 mSv", "☢☢☢", "1-10 mSv", 3),
        ("☢☢☢☢ 10-30 mSv", "☢☢☢☢", "10-30 mSv", 4),
        ("☢☢☢☢☢ 30-100 mSv", "☢☢☢☢☢", "30-100 mSv", 5),
        ("Varies", "varies", "varies by region", 99),
    ],
)
def test_radiation_parses_acr_rrl_cells(cell, level, dose, rank):
    assert radiation(cell) == (Radiation(level, dose), rank)


def test_rate_sorts_best_first_and_ties_by_lower_radiation(kb):
    got = [(p.procedure_id, p.rating, p.rrl_rank) for p in rate(kb, kb.variants["zz-1"], "lumbar")]
    assert got == [
        ("bone-scan-whole-body-with-spect-or-spect-ct-complete-spine", 9, 3),
        ("mri-lumbar-spine-without-iv-contrast", 7, 0),
        ("ct-lumbar-spine-without-iv-contrast", 7, 3),
        ("radiography-spine-area-of-interest", 5, 3),  # resolved to the lumbar radiograph's RRL
        ("ct-myelography-lumbar-spine", 5, 4),
        ("mri-lumbar-spine-with-iv-contrast", 3, 0),
    ]


def test_rate_keeps_category_and_acr_reference_name(kb):
    by_id = {p.procedure_id: p for p in rate(kb, kb.variants["zz-1"], "lumbar")}
    assert by_id["ct-myelography-lumbar-spine"].category is Category.MAY_BE_APPROPRIATE_DISAGREEMENT
    assert by_id["mri-lumbar-spine-with-iv-contrast"].category is Category.USUALLY_NOT_APPROPRIATE
    assert by_id["mri-lumbar-spine-without-iv-contrast"].rrl == Radiation("O", "0 mSv")


def test_area_of_interest_is_named_for_the_region(kb):
    aoi = {p.procedure_id: p for p in rate(kb, kb.variants["zz-1"], "lumbar")}["radiography-spine-area-of-interest"]
    assert aoi.name == "Radiography Lumbar Spine"
    assert aoi.reference_name == "Radiography Spine Area of Interest"
    assert aoi.rrl.level.startswith("varies") and "☢☢☢" in aoi.rrl.level
    assert aoi.rrl.adult_dose == "1-10 mSv"


@pytest.mark.parametrize("region", [None, "other"])
def test_area_of_interest_without_a_spine_region_keeps_the_acr_name(kb, region):
    aoi = {p.procedure_id: p for p in rate(kb, kb.variants["zz-1"], region)}["radiography-spine-area-of-interest"]
    assert aoi.name == "Radiography Spine Area of Interest"
    assert (aoi.rrl.level, aoi.rrl_rank) == ("varies", 99)


def test_area_of_interest_resolves_per_region(kb):
    for region, name in [("cervical", "Radiography Cervical Spine"), ("thoracic", "Radiography Thoracic Spine")]:
        aoi = {p.procedure_id: p for p in rate(kb, kb.variants["zz-1"], region)}["radiography-spine-area-of-interest"]
        assert aoi.name == name


def test_order_rated_lower_lists_better_alternatives_lowest_radiation_first(kb):
    procs = rate(kb, kb.variants["zz-1"], "lumbar")
    o = rate_order(kb, procs, "CT Myelography Lumbar Spine", "lumbar")
    assert o.procedure is not None and o.procedure.rating == 5
    assert [p.procedure_id for p in o.alternatives] == [
        "mri-lumbar-spine-without-iv-contrast",  # O
        "bone-scan-whole-body-with-spect-or-spect-ct-complete-spine",  # ☢☢☢, rated 9
        "ct-lumbar-spine-without-iv-contrast",  # ☢☢☢, rated 7
    ]
    assert o.note == ""


def test_order_of_the_best_rated_study_has_no_alternatives(kb):
    procs = rate(kb, kb.variants["zz-1"], "lumbar")
    o = rate_order(kb, procs, "bone-scan-whole-body-with-spect-or-spect-ct-complete-spine", "lumbar")
    assert o.procedure is not None and o.procedure.rating == 9
    assert o.alternatives == ()


def test_order_name_is_case_and_space_insensitive(kb):
    procs = rate(kb, kb.variants["zz-1"], "lumbar")
    o = rate_order(kb, procs, "  mri   lumbar spine WITHOUT iv contrast ", "lumbar")
    assert o.procedure is not None and o.procedure.procedure_id == "mri-lumbar-spine-without-iv-contrast"
    assert [p.procedure_id for p in o.alternatives] == ["bone-scan-whole-body-with-spect-or-spect-ct-complete-spine"]


def test_order_of_a_regional_study_matches_the_area_of_interest_rating(kb):
    procs = rate(kb, kb.variants["zz-1"], "lumbar")
    o = rate_order(kb, procs, "Radiography Lumbar Spine", "lumbar")
    assert o.procedure is not None
    assert (o.procedure.procedure_id, o.procedure.rating) == ("radiography-spine-area-of-interest", 5)
    assert all(p.rating > 5 for p in o.alternatives)


def test_unknown_order_says_so_and_offers_usually_appropriate_studies(kb):
    procs = rate(kb, kb.variants["zz-1"], "lumbar")
    o = rate_order(kb, procs, "Full-body MRI scan", "lumbar")
    assert o.procedure is None
    assert "not a procedure workup knows" in o.note
    assert [p.procedure_id for p in o.alternatives] == [
        "mri-lumbar-spine-without-iv-contrast",
        "bone-scan-whole-body-with-spect-or-spect-ct-complete-spine",
        "ct-lumbar-spine-without-iv-contrast",
    ]
    assert o.to_dict()["procedure"] is None


def test_known_order_not_rated_for_the_scenario_says_so(kb):
    procs = rate(kb, kb.variants["zz-1"], "lumbar")
    o = rate_order(kb, procs, "MRI Cervical Spine Without IV Contrast", "lumbar")
    assert o.procedure is None
    assert "not a procedure rated for this scenario" in o.note
    assert all(p.category is Category.USUALLY_APPROPRIATE for p in o.alternatives)


def test_builtin_seed_order_alternatives_are_rated_higher_and_sorted_by_radiation():
    kb = default()
    procs = rate(kb, kb.variants["cervical-pain-3"], "cervical")
    o = rate_order(kb, procs, "CT Myelography Cervical Spine", "cervical")
    assert o.procedure is not None
    better = {p.procedure_id for p in procs if p.rating > o.procedure.rating}
    assert {p.procedure_id for p in o.alternatives} == better and better
    ranks = [p.rrl_rank for p in o.alternatives]
    assert ranks == sorted(ranks)
    assert o.alternatives[0].procedure_id == "mri-cervical-spine-without-iv-contrast"
