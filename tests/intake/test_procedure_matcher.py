"""One reading of procedure names and orders; one matcher that never picks one of several."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from workup.consult import rate_ordered
from workup.intake import parse_facts
from workup.intake.procedures import match_order, parse_procedure_words, read_procedure
from workup.kb import default
from workup.errors import KnowledgeError

CATALOGUE = [  # names in the ACR style, written here for the tests
    "MRI Cervical Spine Without IV Contrast", "MRI Cervical Spine With IV Contrast",
    "MRI Cervical Spine Without and With IV Contrast", "CT Abdomen and Pelvis With IV Contrast",
    "CT Abdomen and Pelvis Without IV Contrast", "CT Abdomen and Pelvis Without and With IV Contrast",
    "US Abdomen", "US Abdomen RLQ", "Radiography Knee", "Radiography Knee Stress Views", "MRI Knee Without IV Contrast",
    "CT Head Without IV Contrast", "Image-Guided Biopsy Kidney", "US-Guided Biopsy Liver", "US Liver",
    "Mammography Screening", "Mammography Diagnostic", "Radiography Cervical Spine Flexion Extension Lateral Views",
    "Radiography Cervical Spine",
]


@pytest.mark.parametrize("order, expected", [
    ("MRI C-spine w/o", "MRI Cervical Spine Without IV Contrast"),
    ("mri c spine w/wo", "MRI Cervical Spine Without and With IV Contrast"),
    ("CT abd/pelvis with contrast", "CT Abdomen and Pelvis With IV Contrast"),
    ("CT A/P non-contrast", "CT Abdomen and Pelvis Without IV Contrast"),
    ("US RUQ", "US Abdomen"),
    ("US right lower quadrant", "US Abdomen RLQ"),
    ("XR L knee 3 views", "Radiography Knee"),
    ("knee stress views xr", "Radiography Knee Stress Views"),
    ("screening mammogram", "Mammography Screening"),
    ("x-ray c-spine flex/ext", "Radiography Cervical Spine Flexion Extension Lateral Views"),
    ("ultrasound guided liver biopsy", "US-Guided Biopsy Liver"),
    ("us liver", "US Liver"),
    ("ct head without and with contrast", None),  # not in the catalogue
])
def test_orders_name_one_study(order, expected):
    m = match_order(order, CATALOGUE)
    if expected is None:
        assert m.status == "unknown" and m.names == ()
    else:
        assert (m.status, m.names) == ("matched", (expected,))


@pytest.mark.parametrize("order", ["MRI cervical spine", "CT abdomen pelvis", "CT head"])
def test_ct_or_mri_without_a_contrast_phase_is_never_guessed(order):
    m = match_order(order, CATALOGUE)
    assert m.status == "undecided" and m.undecided_by == "contrast"
    assert all(read_procedure(n).modality == m.reading.modality for n in m.names)
    if order == "CT head":  # even one candidate is not a match: the order may be for another phase
        assert m.names == ("CT Head Without IV Contrast",)
    else:
        assert len(m.names) == 3


def test_mammogram_without_screening_or_diagnostic_asks_which():
    m = match_order("mammogram", CATALOGUE)  # screening or diagnostic: the order does not say
    assert m.status == "unknown"


def test_laterality_and_view_count_are_read_but_do_not_change_the_study():
    r = read_procedure("XR L knee 3 views")
    assert (r.modality, r.regions, r.laterality, r.view_count) == ("radiography", frozenset({"knee"}), "left", 3)
    assert read_procedure("US RUQ").laterality is None  # a quadrant is not a side


def test_guidance_is_read_apart_from_the_modality():
    r = read_procedure("US-Guided Biopsy Liver")
    assert (r.modality, r.guidance, r.regions) == ("intervention", "us", frozenset({"liver"}))


def test_the_curated_catalogue_matches_itself_by_reading():
    kb = default()
    names = [p.reference_name for p in kb.procedures.values()]
    for n in names:
        assert match_order(n.upper(), names).names == (n,)
    # every curated spine study is read with the modality family and region the catalogue gives it
    family = {"mri": "mri", "ct": "ct", "radiography": "radiography", "myelography": "myelography"}
    region = {"cervical": "cervical-spine", "thoracic": "thoracic-spine", "lumbar": "lumbar-spine"}
    checked = 0
    for p in kb.procedures.values():
        if p.modality in family and p.region in region:
            r = read_procedure(p.reference_name)
            assert (r.modality, region[p.region] in r.regions) == (family[p.modality], True), p.reference_name
            checked += 1
    assert checked >= 20


def test_bad_procedure_words_are_refused_with_their_paths():
    with pytest.raises(KnowledgeError) as e:
        parse_procedure_words("schema_version: 1\nguidance: {}\nmodality: [{id: ct, pattern: '('}]\nphased: [xr]\n"
                              "contrast: {}\nregions: []\ntechniques: {}\nviews: {}\nview_count: 'x'\nlaterality: {}\n")
    assert {d["where"] for d in e.value.details} >= {"intake/rules/procedures.yaml:modality.0.pattern"}


def test_cli_and_api_rate_an_order_written_as_clinicians_write_it():
    kb = default()
    facts = parse_facts({"age": 58, "region": "cervical", "pain": True, "radiculopathy": True,
                         "prior_surgery_cervical": True, "surgery_type": "ACDF", "days_since_surgery": "2y",
                         "trauma": False, "symptom_duration_days": "1mo", "symptoms_increasing": True}, kb)
    from datetime import date

    rec = rate_ordered(facts, kb, date(2026, 1, 1), "MRI C-spine w/o")
    assert rec.order.ordered == "MRI C-spine w/o" and rec.order.read_as == "MRI Cervical Spine Without IV Contrast"
    assert rec.order.procedure is not None
    both = rate_ordered(facts, kb, date(2026, 1, 1), "MRI c-spine")
    assert both.order.undecided_by == "contrast" and both.order.procedure is None
    assert {c.read_as for c in both.order.candidates} == {
        "MRI Cervical Spine Without IV Contrast", "MRI Cervical Spine With IV Contrast",
        "MRI Cervical Spine Without and With IV Contrast"}


ACR_CSV = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "acr-ac-2025" / "acr_criteria.csv"


def test_most_imaging_names_in_the_licensed_table_are_read():
    if not ACR_CSV.is_file():
        pytest.skip("ACR table not present (ACR copyright, not shipped)")
    with ACR_CSV.open(encoding="utf-8", newline="") as fh:
        names = sorted({" ".join(r["Procedure"].split()) for r in csv.DictReader(fh)})
    read = [read_procedure(n) for n in names]
    imaging = [r for r in read if r.modality not in (None, "intervention")]
    assert len(imaging) / len(names) >= 0.75
    assert sum(1 for r in imaging if r.regions) / len(imaging) >= 0.9
