"""The free-text reader: facts, assertion status, evidence and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from workup.errors import IntakeError
from workup.intake import assertion
from workup.intake.text import read
from workup.kb import load
from workup.types import Assertion, FactOrigin

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / ".." / "shared"
KB = load()


def facts_of(text: str) -> dict:
    return {k: f.value for k, f in read(text, KB).facts.items()}


# (text, expected subset of facts) — one realistic sentence per behaviour
CASES = [
    # demographics
    ("A 58-year-old man with neck pain.", {"age": 58.0, "sex": "male"}),
    ("72 yo F with back pain", {"age": 72.0, "sex": "female"}),
    ("45M with LBP", {"age": 45.0, "sex": "male", "region": "lumbar"}),
    ("She is 20 weeks pregnant with low back pain.", {"pregnant": True, "region": "lumbar"}),
    # durations and course
    ("Neck pain x6 wks.", {"symptom_duration_days": 42.0}),
    ("Low back pain for 3 months.", {"symptom_duration_days": pytest.approx(91.3125)}),
    ("Neck stiffness for the past 8 months.", {"symptom_duration_days": pytest.approx(243.5)}),
    ("A year of progressive gait imbalance.", {"symptom_duration_days": 365.25, "symptoms_increasing": True, "myelopathy": True}),
    ("10 days of neck pain.", {"symptom_duration_days": 10.0}),
    ("Worsening neck pain.", {"symptoms_increasing": True}),
    ("Stable neck pain.", {"symptoms_increasing": False}),
    ("Sudden onset of leg weakness over 24 hours.", {"sudden_onset": True, "symptom_duration_days": 1.0, "neuro_deficit": True}),
    # region
    ("Mid-back pain for 4 days.", {"region": "thoracic", "pain": True}),
    ("Upper back pain.", {"region": "thoracic"}),
    ("LBP after lifting.", {"region": "lumbar"}),
    ("Sciatica down the left leg.", {"region": "lumbar", "radiculopathy": True}),
    ("Ankle swelling after twisting it on a curb.", {"region": "other"}),
    ("Knee pain and low back pain.", {"region": "lumbar"}),
    # prior surgery
    ("Two years after C5-6 ACDF with neck pain.", {"prior_surgery_cervical": True, "anterior_hardware": True, "days_since_surgery": 730.5, "surgery_levels": "C5-6"}),
    ("Four weeks after ACDF.", {"days_since_surgery": 28.0}),
    ("Three weeks after an L4-5 laminectomy.", {"prior_surgery_lumbar": True, "days_since_surgery": 21.0}),
    ("Neck pain; s/p L4-5 fusion in 2019.", {"prior_surgery_lumbar": True, "region": "cervical"}),
    ("No prior spine surgery.", {"prior_surgery_cervical": False, "prior_surgery_thoracic": False, "prior_surgery_lumbar": False}),
    ("Never had neck surgery.", {"prior_surgery_cervical": False}),
    # radiculopathy
    ("New tingling radiating down his right arm.", {"radiculopathy": True, "region": "cervical"}),
    ("Numbness in a C6 distribution.", {"radiculopathy": True, "region": "cervical"}),
    ("Band-like pain around the chest wall.", {"radiculopathy": True, "region": "thoracic"}),
    ("L5 radiculopathy.", {"radiculopathy": True, "region": "lumbar"}),
    ("No radicular symptoms.", {"radiculopathy": False}),
    ("No arm symptoms.", {"radiculopathy": False}),
    # myelopathy and deficits
    ("Hand clumsiness and a positive Hoffmann sign.", {"myelopathy": True}),
    ("Hyperreflexia with a sensory level at T6.", {"myelopathy": True, "region": "thoracic"}),
    ("New foot drop.", {"neuro_deficit": True}),
    ("Paraplegic patient with a sacral ulcer.", {"decubitus_ulcer": True}),
    ("The neurologic examination is normal.", {"neuro_deficit": False, "myelopathy": False}),
    ("Saddle anaesthesia and urinary retention.", {"cauda_equina": True}),
    ("Occipital headaches that she feels start in her neck.", {"cervicogenic_headache": True, "region": "cervical"}),
    ("New trouble swallowing.", {"dysphagia": True}),
    ("Painful swallowing.", {"odynophagia": True}),
    # trauma and the C-spine rules
    ("Restrained driver in an MVC.", {"trauma": True}),
    ("Fell down a flight of stairs.", {"trauma": True, "dangerous_mechanism": True}),
    ("Minor fall from standing.", {"trauma_low_velocity": True}),
    ("Low-speed rear-end collision.", {"trauma": True, "low_risk_feature": True, "dangerous_mechanism": False}),
    ("Midline cervical tenderness.", {"midline_tenderness": True}),
    ("Alert and not intoxicated.", {"altered_alertness": False, "intoxication": False}),
    ("Walking around the emergency department.", {"low_risk_feature": True}),
    ("Able to rotate the neck 45 degrees to both sides.", {"can_rotate_neck": True}),
    ("Unable to rotate the neck.", {"can_rotate_neck": False}),
    ("CT of the cervical spine showed no fracture.", {"ct_negative": True}),
    ("Concern for vertebral artery injury.", {"arterial_injury_suspected": True}),
    ("Obtunded after the crash.", {"obtunded": True}),
    ("Still in a collar for neck pain.", {"collar_followup": True}),
    # infection
    ("Fever to 38.9 C and an elevated CRP.", {"fever": True, "inflammatory_markers_elevated": True}),
    ("Active IV drug use.", {"ivdu": True}),
    ("Diabetic on hemodialysis.", {"diabetes": True, "dialysis": True}),
    ("Patient with HIV.", {"hiv": True}),
    ("Wound drainage after surgery.", {"wound_drainage": True}),
    ("Rising inflammatory markers.", {"inflammatory_markers_elevated": True}),
    ("Discitis is suspected.", {"infection_suspected": True}),
    ("r/o abscess", {"infection_suspected": True}),
    ("Concern for osteomyelitis of the spine.", {"infection_suspected": True}),
    # malignancy and fracture risk
    ("History of breast cancer.", {"malignancy_history": True}),
    ("Metastatic prostate cancer.", {"malignancy_history": True}),
    ("Unexplained weight loss and night pain.", {"weight_loss": True, "night_pain": True}),
    ("Suspected malignancy.", {"malignancy_suspected": True}),
    ("Osteoporosis.", {"osteoporosis": True}),
    ("Afebrile.", {"fever": False}),
    ("On long-term prednisone.", {"chronic_steroid_use": True}),
    # management
    ("After 8 weeks of physical therapy and NSAIDs.", {"conservative_care_tried": True, "conservative_care_days": 56.0}),
    ("No treatment so far.", {"conservative_care_tried": False}),
    ("Has not tried any therapy yet.", {"conservative_care_tried": False}),
    ("Considered for an epidural steroid injection or surgery.", {"intervention_candidate": True}),
    # imaging findings
    ("Radiographs show a broken screw and the plate has displaced.", {"hardware_failure": True}),
    ("A screw backing out anteriorly.", {"hardware_failure": True}),
    ("The X-ray report notes resecured inferior screws.", {"hardware_equivocal": True}),
    ("Questionable lucency around the screws.", {"hardware_equivocal": True}),
    ("Radiographs are normal.", {"xray_normal": True}),
    ("Instability on flexion-extension views.", {"flexext_instability": True}),
    ("A failed fusion is suspected.", {"pseudarthrosis_suspected": True}),
    ("Adjacent segment disease at C4-5.", {"adjacent_segment_disease": True}),
    ("Endplate erosion at T11-T12.", {"imaging_suggests_infection": True, "region": "thoracic"}),
    ("Compression deformity at T8.", {"radiograph_bone_abnormality": True}),
    ("Cannot have MRI because of a cochlear implant.", {"mri_contraindicated": True}),
    ("Non-conditional pacemaker.", {"mri_contraindicated": True}),
    ("Metallic foreign body in the eye.", {"mri_contraindicated": True}),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_read_understands_clinical_sentence(text, expected):
    got = facts_of(text)
    for k, v in expected.items():
        assert got.get(k) == v, f"{k}: got {got.get(k)!r}, want {v!r} from {text!r}"


ABSENT = [
    ("Her father had a cervical fusion.", "prior_surgery_cervical"),
    ("She worries it could be cancer.", "malignancy_history"),
    ("She worries it could be cancer.", "malignancy_suspected"),
    ("Mother had breast cancer.", "malignancy_history"),
    ("Return if fever develops.", "fever"),
    ("Paraplegic since a remote injury.", "neuro_deficit"),
    ("Numbness in a C6 distribution.", "neuro_deficit"),
    ("After lifting boxes.", "trauma"),
    ("Considered for an epidural steroid injection or surgery.", "prior_surgery_lumbar"),
    ("Similar to his pre-operative symptoms.", "prior_surgery_cervical"),
]


@pytest.mark.parametrize(("text", "fact"), ABSENT)
def test_read_gives_no_fact_for_family_hypothetical_or_unrelated_words(text, fact):
    assert fact not in read(text, KB).facts


NEGATED = [
    ("He denies any recent trauma.", "trauma"),
    ("No fever or night sweats.", "fever"),
    ("No history of cancer.", "malignancy_history"),
    ("No arm symptoms, no fever, no trauma.", "trauma"),
    ("No red flags.", "cauda_equina"),
    ("No red flags.", "malignancy_history"),
    ("Without weight loss.", "weight_loss"),
    ("No saddle anesthesia.", "cauda_equina"),
    ("Never febrile.", "fever"),
]


@pytest.mark.parametrize(("text", "fact"), NEGATED)
def test_read_sets_negated_red_flag_false(text, fact):
    f = read(text, KB).facts[fact]
    assert f.value is False
    assert f.evidence and f.evidence[0].assertion is Assertion.NEGATED


def test_negation_stops_at_but():
    got = facts_of("CT showed no fracture, but the patient has new weakness in both hands.")
    assert got["neuro_deficit"] is True and got["ct_negative"] is True


def test_negated_list_does_not_cross_comma_into_self_polar_finding():
    got = facts_of("No midline cervical tenderness, normal neurologic examination, able to rotate the neck 45 degrees.")
    assert got["midline_tenderness"] is False
    assert got["neuro_deficit"] is False
    assert got["can_rotate_neck"] is True


def test_possible_gives_suspected_form():
    got = facts_of("Concerning for spinal cord injury.")
    assert got["cord_injury_suspected"] is True
    got = facts_of("Possible hardware failure on the radiograph.")
    assert got.get("hardware_equivocal") is True and "hardware_failure" not in got


def test_positive_mention_wins_over_negated_one():
    got = facts_of("No fever at first. Now febrile to 39 C.")
    assert got["fever"] is True


def test_facts_carry_text_origin_and_sentence_evidence():
    text = "A 58-year-old man has neck pain. He denies any recent trauma."
    r = read(text, KB)
    trauma = r.facts["trauma"]
    assert trauma.origin is FactOrigin.TEXT
    ev = trauma.evidence[0]
    assert ev.text == "He denies any recent trauma."
    assert text[ev.start : ev.end] == ev.text
    assert all(f.origin is FactOrigin.TEXT for f in r.facts.values())


def test_to_list_shows_each_item_with_status_words_and_offsets():
    text = "Neck pain. He denies any recent trauma. His father had a cervical fusion."
    items = read(text, KB).to_list()
    trauma = [i for i in items if i["fact"] == "trauma"][0]
    assert trauma == {
        "fact": "trauma",
        "value": False,
        "status": "negated",
        "evidence": "He denies any recent trauma.",
        "phrase": "trauma",
        "start": text.index("trauma"),
        "end": text.index("trauma") + len("trauma"),
    }
    family = [i for i in items if i["status"] == "family"]
    assert family and all(i["value"] is None for i in family)
    assert [i["start"] for i in items] == sorted(i["start"] for i in items)


def test_mentions_include_family_and_hypothetical_ones():
    r = read("Father had a cervical fusion. She worries it could be cancer.", KB)
    statuses = {(m.rule, m.status) for m in r.mentions}
    assert ("surgery-fusion", Assertion.FAMILY) in statuses
    assert ("malignancy", Assertion.HYPOTHETICAL) in statuses
    assert "malignancy_history" not in r.facts and "prior_surgery_cervical" not in r.facts


def test_read_is_deterministic():
    text = "58M 2 yrs after ACDF, worsening neck pain x1 month, tingling down the right arm; denies trauma."
    a = json.dumps(read(text, KB).to_list(), sort_keys=True)
    b = json.dumps(read(text, KB).to_list(), sort_keys=True)
    assert a == b


def test_since_year_needs_the_consultation_date():
    assert "symptom_duration_days" not in read("Neck pain since 2019.", KB).facts
    r = read("Neck pain since 2019.", KB, as_of=date(2026, 1, 1))
    assert r.facts["symptom_duration_days"].value == (date(2026, 1, 1) - date(2019, 1, 1)).days


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "IN221"),
        ("   \n\t ", "IN221"),
        ("x" * 1_000_001, "IN222"),
        ("neck\x00pain", "IN223"),
        ("\x01\x02\x03\x04\x05\x06\x07\x08 pain", "IN223"),
        (b"neck pain", "IN220"),
        (None, "IN220"),
        (42, "IN220"),
        (["neck pain"], "IN220"),
    ],
    ids=["empty", "blank", "1MB", "nul", "control", "bytes", "none", "int", "list"],
)
def test_read_rejects_bad_input_with_coded_error(text, code):
    with pytest.raises(IntakeError) as e:
        read(text, KB)
    assert e.value.code == code


@pytest.mark.parametrize(
    ("sentence", "phrase", "flag"),
    [
        ("He denies any recent trauma.", "trauma", "negated"),
        ("No fever or night sweats.", "night sweats", "negated"),
        ("Her father had a cervical fusion.", "cervical fusion", "family"),
        ("She worries it could be cancer.", "cancer", "hypothetical"),
        ("r/o epidural abscess", "epidural abscess", "possible"),
        ("History of breast cancer.", "breast cancer", "historical"),
        ("Fever and chills.", "chills", None),
    ],
)
def test_assertion_api(sentence, phrase, flag):
    got = assertion(sentence, phrase)
    assert set(got) == {"negated", "historical", "hypothetical", "family", "possible"}
    for k, v in got.items():
        assert v is (k == flag), (k, got)


def test_assertion_rejects_missing_phrase():
    with pytest.raises(IntakeError):
        assertion("Neck pain.", "fever")


def test_importing_intake_does_not_import_spacy():
    code = "import sys, workup.intake; print('spacy' in sys.modules or 'medspacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _seed_case(name: str) -> str:
    path = SHARED / "seeds" / name
    if not path.exists():
        pytest.skip(f"seed {name} not available at {path}")
    return path.read_text(encoding="utf-8")


def test_seed_article_case_paragraph():
    text = _seed_case("000_52c9fd081688d214.txt")
    para = next(p for p in text.split("\n\n") if "58-year-old" in p)
    case = para.split(" You suspect")[0]
    got = facts_of(case)
    assert got["age"] == 58.0
    assert got["prior_surgery_cervical"] is True and got["anterior_hardware"] is True
    assert got["days_since_surgery"] == 730.5
    assert got["radiculopathy"] is True and got["symptoms_increasing"] is True
    assert got["trauma"] is False
    assert got["region"] == "cervical"


def test_seed_question():
    text = _seed_case("001_01708fc8348ef64e.txt")
    question = text.strip().splitlines()[0]
    got = facts_of(question)
    assert got["prior_surgery_cervical"] is True
    assert got["pain"] is True and got["region"] == "cervical"
    assert got["hardware_equivocal"] is True
    assert "hardware_failure" not in got


@pytest.mark.parametrize(
    ("text", "variant"),
    [
        (
            "A 58-year-old man, two years after anterior cervical discectomy and fusion (ACDF) at C5-C6, has had a month of "
            "increasing, achy neck pain with new tingling radiating down his right arm, similar to his pre-operative "
            "symptoms. He denies any recent trauma.",
            "cervical-pain-3",
        ),
        (
            "Patient with a prior C5-7 anterior cervical fusion presenting with cervicalgia; the recent X-ray report notes "
            "resecured inferior screws.",
            "cervical-pain-3",
        ),
    ],
    ids=["d01", "d02"],
)
def test_seed_vignettes_route_to_postop_cervical_variant(text, variant):
    from workup.engine import evaluate

    rec = evaluate(read(text, KB).facts, KB, date(2026, 11, 25))
    assert rec.variant is not None and rec.variant.id == variant


def test_negation_runs_along_a_long_list():
    got = facts_of("Denies arm numbness, tingling, weakness, fever, weight loss, night sweats, bowel incontinence, trauma.")
    for k in ("radiculopathy", "neuro_deficit", "fever", "weight_loss", "cauda_equina", "trauma"):
        assert got[k] is False, k


def test_negated_list_stops_at_a_positive_clause():
    got = facts_of("No fever or chills, has new leg weakness.")
    assert got["fever"] is False
    assert got["neuro_deficit"] is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("34F, neck pain x10d; denies arm sx, fever, trauma; no tx so far.", {"radiculopathy": False, "fever": False, "trauma": False, "conservative_care_tried": False, "symptom_duration_days": 10.0}),
        ("Hx C5-7 ACF, now cervicalgia.", {"prior_surgery_cervical": True, "anterior_hardware": True}),
        ("29F occipital HA she feels originates in the neck.", {"cervicogenic_headache": True}),
        ("Neck pain with RUE numbness.", {"radiculopathy": True, "region": "cervical"}),
        ("BLE weakness and urinary retention.", {"neuro_deficit": True, "cauda_equina": True}),
        ("c/o LBP w/ LLE pain x2 wks, h/o prostate ca.", {"region": "lumbar", "radiculopathy": True, "symptom_duration_days": 14.0, "malignancy_history": True}),
        ("s/p MVC, CT C-spine neg for fx.", {"trauma": True, "ct_negative": True}),
        ("Gradually worsening gait over the past year.", {"myelopathy": True, "symptom_duration_days": 365.25}),
    ],
)
def test_abbreviations(text, expected):
    got = facts_of(text)
    for k, v in expected.items():
        assert got.get(k) == v, (k, got.get(k), text)
