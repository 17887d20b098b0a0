"""Routing free text into imported topics: population gates, three-valued variant choice, candidates."""

from __future__ import annotations

from datetime import date

import pytest

from tables import MBA, UA, UNA, row, write_csv
from workup.consult import consult_payload
from workup.imported.answer import routed_answer
from workup.imported.conditions import phase_fits, population_gate, read
from workup.imported.pack import import_table
from workup.imported.route import Router
from workup.kb import default
from workup.render.document import to_document

# An invented table in our own words.
ROWS = [
    row("Sore Elbow After a Fall", 1, "Radiography Elbow", UA, 9,
        wording="Adult. Fall onto the elbow. Point tenderness and swelling. Initial imaging."),
    row("Sore Elbow After a Fall", 2, "MRI Elbow Without IV Contrast", UA, 8,
        wording="Adult. Fall onto the elbow. Radiographs normal. Persistent locking. Next study."),
    row("Sore Elbow After a Fall", 3, "US Elbow", UA, 8,
        wording="Child younger than 5 years. Fall onto the elbow. Initial imaging."),
    row("Bleeding in Early Pregnancy", 1, "US Pelvis Transvaginal", UA, 9,
        wording="Pregnant patient. First trimester vaginal bleeding. Initial imaging."),
    row("Bleeding in Early Pregnancy", 2, "US Pelvis Transabdominal", MBA, 6,
        wording="Pregnant patient. First trimester vaginal bleeding and severe pain with shock. Initial imaging."),
    row("Bleeding in Early Pregnancy", 2, "CT Abdomen and Pelvis With IV Contrast", UNA, 2,
        wording="Pregnant patient. First trimester vaginal bleeding and severe pain with shock. Initial imaging."),
]


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    d = tmp_path_factory.mktemp("route")
    return import_table(write_csv(d / "t.csv", ROWS), d / "data")


def test_population_gate_is_three_valued():
    child_only = read("Child younger than 5 years. Initial imaging.", note=False)
    assert population_gate(child_only, read("40 yo man", note=True)) is False
    assert population_gate(child_only, read("3 year old girl", note=True)) is True
    assert population_gate(child_only, read("fell on the elbow", note=True)) is None
    pregnant = read("Pregnant patient.", note=False)
    assert population_gate(pregnant, read("30 yo man", note=True)) is False
    assert population_gate(pregnant, read("30 yo woman, not pregnant", note=True)) is False
    male = read("Evaluation of the male breast", note=False)
    assert population_gate(male, read("25 yo woman with a breast lump", note=True)) is False
    assert population_gate(male, read("25 yo man with a breast lump", note=True)) is True


def test_ages_in_days_weeks_and_months_are_not_years():
    v = read("Infant older than 2 weeks and up to 3 months old.", note=False)
    assert v.age_min == pytest.approx(2 / 52.18) and v.age_max == pytest.approx(0.25)
    assert population_gate(v, read("5 week old boy", note=True)) is True
    assert population_gate(v, read("2 year old boy", note=True)) is False


def test_a_note_that_names_no_phase_is_taken_as_initial_imaging():
    later = read("Radiographs normal. Next study.", note=False)
    assert phase_fits(later, read("fell on elbow", note=True)) is False
    assert phase_fits(later, read("fell on elbow, x-rays normal", note=True)) is True


def test_one_fitting_variant_is_rated(pack):
    rec = routed_answer(pack, "45 yo man fell onto his elbow, point tenderness and swelling", frozenset(),
                        date(2026, 1, 1))
    assert rec.status.value == "rated" and rec.topic.title == "Sore Elbow After a Fall" and rec.variant.source_variant == 1


def test_the_next_study_after_normal_radiographs(pack):
    rec = routed_answer(pack, "45 yo man fell onto his elbow 3 weeks ago, radiographs normal, now locking",
                        frozenset(), date(2026, 1, 1))
    assert rec.status.value == "rated" and rec.variant.source_variant == 2


def test_a_child_is_never_rated_with_an_adult_variant(pack):
    rec = routed_answer(pack, "3 year old boy fell onto his elbow, swelling", frozenset(), date(2026, 1, 1))
    assert rec.status.value == "rated" and rec.variant.source_variant == 3


def test_when_variants_tie_it_asks_with_candidates(pack):
    rec = routed_answer(pack, "pregnant woman, 8 weeks, vaginal bleeding", frozenset(), date(2026, 1, 1))
    doc = to_document(rec)
    assert doc["status"] == "needs-information"
    assert doc["candidates"] == [{"topic": "Bleeding in Early Pregnancy", "variant": 1},
                                 {"topic": "Bleeding in Early Pregnancy", "variant": 2}]
    assert doc["missing_facts"] and doc["procedures"] == []


def test_a_man_is_never_routed_to_a_pregnancy_topic(pack):
    rec = routed_answer(pack, "60 yo man with vaginal bleeding", frozenset(), date(2026, 1, 1))
    assert rec is None or all(t != "Bleeding in Early Pregnancy" for t, _n in rec.candidates)


def test_excluded_topics_are_never_routed_to(pack):
    from workup.imported.table import topic_key

    assert routed_answer(pack, "45 yo man fell onto his elbow, point tenderness and swelling",
                         frozenset({topic_key("Sore Elbow After a Fall")}), date(2026, 1, 1)) is None


def test_unrelated_text_gets_no_imported_answer(pack):
    assert routed_answer(pack, "routine dental cleaning", frozenset(), date(2026, 1, 1)) is None


def test_the_import_reports_wording_it_could_not_compile(pack):
    r = Router(pack)
    assert all(isinstance(s, str) for c in r.uncompiled() for s in c.uncompiled)
    assert {c.variant.id for c in r.compiled} == {"acr-sore-elbow-after-a-fall-1", "acr-sore-elbow-after-a-fall-2",
                                                   "acr-sore-elbow-after-a-fall-3", "acr-bleeding-in-early-pregnancy-1",
                                                   "acr-bleeding-in-early-pregnancy-2"}


def test_consult_routes_only_when_the_curated_packs_say_no_criteria_apply(pack):
    kb = default()
    seed = ("58-year-old, two years after C5-C6 ACDF, a month of increasing neck pain and new right arm tingling. "
            "Denies trauma.")
    with_import = consult_payload({"text": seed}, kb, date(2026, 1, 1), imported=pack).recommendation
    without = consult_payload({"text": seed}, kb, date(2026, 1, 1)).recommendation
    assert to_document(with_import) == to_document(without)
    note = "45 yo man fell onto his elbow, point tenderness and swelling"
    plain = consult_payload({"text": note}, kb, date(2026, 1, 1)).recommendation
    routed = consult_payload({"text": note}, kb, date(2026, 1, 1), imported=pack).recommendation
    if plain.status.value == "no-criteria-apply":
        assert routed.topic is not None and routed.topic.title == "Sore Elbow After a Fall"
    else:  # the curated packs answered: nothing changes
        assert to_document(routed) == to_document(plain)
