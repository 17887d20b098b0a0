"""Phrasing families the free-text reader must read (found with the blind paraphrase set 13).

Each row is one realistic clinician phrasing and the facts it must give (a subset); the
second table holds phrasings that must NOT give a fact (a value read wrongly before).
"""

from __future__ import annotations

from datetime import date

import pytest

from workup.intake.lexicon import load_lexicon
from workup.intake.text import read
from workup.intake.values import age_of
from workup.kb import load

KB = load()
LEX = load_lexicon(frozenset(KB.facts))


def facts_of(text: str) -> dict:
    return {k: f.value for k, f in read(text, KB).facts.items()}


READS = [
    # British duration shorthand and number words
    ("29F c/o neck pain x5/7.", {"symptom_duration_days": 5.0}),
    ("R arm pain, 3/52, with neck ache.", {"symptom_duration_days": 21.0}),
    ("Now 2/12 of increasing neck pain.", {"symptom_duration_days": pytest.approx(60.875)}),
    ("Back pain for 2/12.", {"symptom_duration_days": pytest.approx(60.875)}),
    ("Eighteen months of progressive clumsiness.", {"symptom_duration_days": pytest.approx(547.875)}),
    ("Back pain for half a year.", {"symptom_duration_days": pytest.approx(182.625)}),
    ("Back pain for one and a half months.", {"symptom_duration_days": pytest.approx(45.65625, abs=0.01)}),
    # ages in words, other forms, decades
    ("Sixty-eight year old woman with neck pain.", {"age": 68.0, "sex": "female"}),
    ("Aged seventy, low back pain.", {"age": 70.0}),
    ("Pt is 72. Back pain.", {"age": 72.0}),
    ("Age: 45. Neck pain.", {"age": 45.0}),
    ("45 y.o. male, LBP.", {"age": 45.0, "sex": "male"}),
    ("F, 45, LBP.", {"age": 45.0, "sex": "female"}),
    ("Mr Smith (54) with LBP.", {"age": 54.0, "sex": "male"}),
    ("A woman in her seventies with back pain.", {"elderly": True, "adult": True}),
    ("A man in his early 40s with back pain.", {"elderly": False, "adult": True}),
    ("Octogenarian with low back pain.", {"elderly": True}),
    # infection signs as values
    ("Neck pain; temp 38.6; CRP 140.", {"fever": True, "inflammatory_markers_elevated": True}),
    ("Tmax 101.5F, WBC 16.2.", {"fever": True, "inflammatory_markers_elevated": True}),
    ("ESR 85.", {"inflammatory_markers_elevated": True}),
    ("Three weeks after decompression the wound is oozing.", {"wound_drainage": True}),
    ("Post-op day 10 following L3-5 decompression; febrile, wound erythematous.", {"wound_drainage": True, "days_since_surgery": 10.0}),
    ("Spinal cord stimulator inserted 3 weeks ago; now fever and back pain.", {"recent_intervention": True}),
    ("Epidural steroid injection last month; now fever and back pain.", {"recent_intervention": True}),
    ("Facet joint injections 2/52 ago; now febrile with back pain.", {"recent_intervention": True}),
    # management
    ("Ten weeks of pain despite physio. LBP.", {"symptom_duration_days": 70.0}),
    ("LBP for 3 months; physio x 8/52.", {"conservative_care_days": 56.0}),
    ("LBP for 3 months; PT x 6 wks.", {"conservative_care_days": 42.0}),
    ("LBP for 3 months; 8 weeks physio.", {"conservative_care_days": 56.0}),
    ("Neck pain 2 weeks, treatment nil.", {"conservative_care_tried": False, "pain": True}),
    ("Neck pain 2/12.", {"symptom_duration_days": pytest.approx(60.875)}),
    ("Back pain; known IE on IV antibiotics.", {"bacteremia": True}),
    ("Back pain, apyrexial.", {"fever": False}),
    ("Plain film: destruction of the L3/4 endplates.", {"imaging_suggests_infection": True, "region": "lumbar"}),
    ("CT: erosive changes at the T10/11 disc space with a paravertebral soft tissue mass.",
     {"imaging_suggests_infection": True, "region": "thoracic"}),
    # region words
    ("Chest wall pain wrapping around from the back at T6.", {"radiculopathy": True, "region": "thoracic"}),
    ("Dorsal spine pain 3/52.", {"pain": True, "region": "thoracic"}),
    ("T-spine pain 3/52.", {"pain": True, "region": "thoracic"}),
    ("Pain in the thoracic region.", {"pain": True, "region": "thoracic"}),
    ("Pain in the cervical region.", {"pain": True, "region": "cervical"}),
    # myelopathy and cervicogenic headache
    ("Woke this morning unable to walk; sensory level at T10.", {"myelopathy": True, "symptom_duration_days": 0.5}),
    ("Spastic paraparesis developing over two years.", {"myelopathy": True}),
    ("Electric shocks down the spine on neck flexion.", {"myelopathy": True}),
    ("Headaches arising from the back of the neck for 3 months.", {"cervicogenic_headache": True, "region": "cervical"}),
    ("Occipital headache provoked by neck posture, 2 months.", {"cervicogenic_headache": True}),
    ("Suboccipital pain radiating to the forehead, triggered by neck movement.", {"cervicogenic_headache": True}),
    # sentence ends after "44M." (its full stop is in the age's token)
    ("Neck pain 4/12, stable, axial only, no trauma, 44M. Physio ongoing.",
     {"conservative_care_tried": True, "radiculopathy": False, "trauma": False}),
    # planned operations are candidacy, not history
    ("For consideration of L4/5 microdiscectomy; LBP 3/12.", {"intervention_candidate": True, "prior_surgery_lumbar": None}),
    ("Awaiting ACDF at C5/6. Neck pain 3/12.", {"intervention_candidate": True, "prior_surgery_cervical": None}),
    ("Neck pain 5/7 after a rear-end shunt at low speed.", {"trauma": True, "low_risk_feature": True}),
    ("?CES. LBP with bilateral sciatica 3 days.", {"cauda_equina": True}),
    ("Query cord compression. Thoracic pain 3 days, known breast ca.", {"myelopathy": True}),
    ("Fever - yes. LBP 2/52.", {"fever": True}),
    # trauma
    ("Dived into a shallow pool, now unable to move his legs.", {"trauma": True, "dangerous_mechanism": True, "neuro_deficit": True}),
    ("Fell about four metres from scaffolding; tender over the thoracolumbar junction.",
     {"dangerous_mechanism": True, "midline_tenderness": True, "region": "thoracic"}),
    ("CT C-spine at the time showed no fracture; remains in an Aspen collar because of ongoing neck pain.",
     {"ct_negative": True, "collar_followup": True}),
    ("Headbutted in a fight; neck pain.", {"trauma": True}),
    ("Rolled his car on the motorway. Neck pain.", {"dangerous_mechanism": True}),
    ("Knocked off his bike by a car. Neck pain.", {"dangerous_mechanism": True}),
    ("ETOH on board. Neck pain after a fall down 10 stairs.", {"intoxication": True, "dangerous_mechanism": True}),
    ("Unable to clear c-spine clinically due to intoxication.", {"intoxication": True}),
    ("Rugby tackle, neck pain, tingling both arms.", {"extremity_paresthesias": True}),
    ("CTA neck shows dissection of the left ICA after RTC.", {"arterial_injury_suspected": True}),
    ("Seatbelt abrasion across the neck after MVC.", {"arterial_injury_suspected": True, "region": "cervical"}),
    ("Ventilated on ICU after a high-speed RTC.", {"obtunded": True}),
    # cauda equina
    ("Sphincter disturbance and perianal numbness. LBP 2 days.", {"cauda_equina": True}),
    ("PR: reduced anal tone. LBP.", {"cauda_equina": True}),
    ("Retention of urine 800 ml on bladder scan. LBP.", {"cauda_equina": True}),
    ("Numbness around the back passage. LBP.", {"cauda_equina": True}),
    # deficit and its absence
    ("Power 4/5 in right EHL. LBP.", {"neuro_deficit": True}),
    ("Reduced power in L ankle dorsiflexion. LBP.", {"neuro_deficit": True}),
    ("Weak in both hands.", {"neuro_deficit": True}),
    ("Neuro: power 5/5 throughout. LBP.", {"neuro_deficit": False}),
    # radiculopathy and its absence
    ("Positive straight leg raise on the left. LBP.", {"radiculopathy": True, "region": "lumbar"}),
    ("Spurling's positive on the right. Neck pain.", {"radiculopathy": True}),
    ("Brachialgia with neck pain.", {"radiculopathy": True, "region": "cervical"}),
    ("Band-like pain wrapping around the right chest wall.", {"radiculopathy": True, "region": "thoracic"}),
    ("Thoracic back pain; no band-like radiation.", {"radiculopathy": False}),
    ("Neck pain without radiation.", {"radiculopathy": False, "pain": True}),
    ("Mid-back pain that doesn't radiate.", {"radiculopathy": False, "region": "thoracic"}),
    ("Non-radiating pain in the neck.", {"radiculopathy": False}),
    ("Pain confined to the neck.", {"radiculopathy": False, "pain": True, "region": "cervical"}),
    ("Neck pain only.", {"radiculopathy": False, "pain": True}),
    ("Axial neck pain only.", {"radiculopathy": False, "region": "cervical"}),
    # night pain, cancer, steroids, radiographs
    ("Neck pain for 3 weeks, worse at night.", {"night_pain": True, "pain": True}),
    ("Neck pain that is worse at night.", {"night_pain": True, "pain": True, "region": "cervical"}),
    ("Ca breast 2015, in remission. LBP.", {"malignancy_history": True}),
    ("On pred 10mg od for RA. LBP.", {"chronic_steroid_use": True}),
    ("Thoracic X-ray shows wedge compression of T9 with loss of height.", {"radiograph_bone_abnormality": True}),
    # negations
    ("Not known to have cancer. LBP.", {"malignancy_history": False}),
    ("Chronic LBP; has not had physio or any analgesia yet.", {"conservative_care_tried": False}),
]


@pytest.mark.parametrize(("text", "want"), READS, ids=[t for t, _ in READS])
def test_phrasing_is_read(text, want):
    got = facts_of(text)
    assert {k: got.get(k) for k in want} == want, got


NOT_READ = [
    # durations of other things are not the symptoms' duration
    ("Type 2 diabetic for 10 years. LBP 2/52.", "symptom_duration_days", 14.0),
    ("Smoker for twenty years. Neck pain for 2 weeks.", "symptom_duration_days", 14.0),
    ("On prednisolone 5 mg daily for five years. LBP 2/52.", "symptom_duration_days", 14.0),
    # a date is not a duration; a disc's height is not a vertebra's
    ("Seen 3/12/2024 with back pain.", "symptom_duration_days", None),
    ("X-ray: loss of disc height at L4/5.", "radiograph_bone_abnormality", None),
    ("Radiograph: L4/5 disc height loss.", "radiograph_bone_abnormality", None),
    # a fall of two feet is not a dangerous mechanism; CT negative for fracture is not a fracture
    ("Fell 2 feet off a step.", "dangerous_mechanism", None),
    ("CT C-spine negative for fracture or malalignment.", "radiograph_bone_abnormality", None),
    ("Fell down 3 steps. Neck pain.", "dangerous_mechanism", None),
    # "no acute abnormality" says nothing of how long the pain has lasted
    ("CT C-spine no acute abnormality.", "symptom_duration_days", None),
    ("Facet joint injection 2 years ago. Back pain 3 weeks.", "symptom_duration_days", 21.0),
    ("Facet joint injection 2 years ago. Back pain 3 weeks.", "recent_intervention", None),
    ("Seen on 2/12 with back pain.", "symptom_duration_days", None),
    ("Wound clean and dry, post-op day 10.", "wound_drainage", None),
    ("Headache not triggered by neck movement.", "cervicogenic_headache", None),
    ("Headaches that do not start in the neck.", "cervicogenic_headache", None),
    # advice, worry, other people and checklists
    ("Safety-netted for cauda equina symptoms. LBP 1/52.", "cauda_equina", None),
    ("Given CES warning card. LBP 1/52.", "cauda_equina", None),
    ("Anxious that this may be cancer. LBP 1/52.", "malignancy_history", None),
    ("Worried about a tumour because her friend had one. Neck pain.", "malignancy_history", None),
    ("Previously on steroids for a short course in 2019. LBP.", "chronic_steroid_use", None),
    ("Fever - no. Weight loss - no. Trauma - no. LBP 2/52.", "fever", False),
    ("Fever: N. Trauma: N. LBP 2/52.", "trauma", False),
    ("Trauma ✗ Fever ✗ LBP 2/52.", "fever", False),
    # a checklist answer closes its own item and looks back only: the next item keeps its own answer
    ("LBP 3/52. Fever: no, weight loss: yes.", "weight_loss", True),
    ("LBP 3/52. Fever - no; weight loss - yes.", "weight_loss", True),
    ("LBP 3/52. Trauma: N. Cancer history: Y.", "malignancy_history", True),
    ("LBP 3/52. Trauma: N. Cancer history: Y.", "trauma", False),
    ("LBP 3/52. Fever: no, night pain: yes.", "fever", False),
    ("LBP 3/52. Weight loss ✗, night pain ✓.", "night_pain", True),
    # after a heading the plain "no" reads the list
    ("LBP 3/52. ROS: no fever, no weight loss.", "weight_loss", False),
    ("LBP 3/52. Exam: no weakness.", "neuro_deficit", False),
    ("Query cord compression. Thoracic pain 3 days, known breast ca.", "cord_injury_suspected", None),
    # how the pain behaves is not a worsening course
    ("Neck pain for 3 months, worse on working.", "symptoms_increasing", None),
    # a CRP below 10 could be either unit: not read as raised
    ("CRP 8.5.", "inflammatory_markers_elevated", None),
    # negated, family and hypothetical mentions
    ("Denies being unable to move his legs.", "neuro_deficit", False),
    ("Mother cannot move her legs.", "neuro_deficit", None),
    ("Advised to return if sphincter disturbance develops.", "cauda_equina", None),
    ("No numbness around the back passage, no retention of urine.", "cauda_equina", False),
    ("Neck pain for 3 weeks, not worse at night.", "night_pain", False),
    ("Father had neck pain that wakes him from sleep.", "night_pain", None),
    ("No ESR 85, elevated ESR or ESR 85.", "inflammatory_markers_elevated", False),
    ("No fever, elevated ESR or CRP elevated.", "inflammatory_markers_elevated", False),
]


@pytest.mark.parametrize(("text", "fact", "value"), NOT_READ, ids=[t for t, _, _ in NOT_READ])
def test_phrasing_gives_only_this_value(text, fact, value):
    assert facts_of(text).get(fact) == value


@pytest.mark.parametrize(("words", "age"), [("sixty-eight year old", 68.0), ("aged ninety", 90.0), ("nineteen-year-old", 19.0),
                                            ("a seventy-two-year-old", 72.0), ("58M", 58.0)])
def test_age_in_words(words, age):
    assert age_of(words, LEX) == age


def test_age_in_words_needs_the_lexicon():
    assert age_of("sixty-eight year old") is None


AS_OF = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("Low back pain since March.", 239.0),  # the latest March, to its last day
        ("Back pain since May.", 178.0),
        ("LBP since early October.", 46.0),  # 1-10 October: over 6 weeks either way
        ("Neck pain since December 2025.", 329.0),
        ("LBP since October.", None),  # 25 to 55 days: 6 weeks falls within, not guessed
        ("Neck pain since November.", None),  # this month: a week falls within
        ("Since may have been injured. LBP.", None),  # not a month
        ("LBP since mid-June 2027.", None),  # after the consultation date
    ],
)
def test_since_a_month(text, days):
    f = read(text, KB, AS_OF).facts.get("symptom_duration_days")
    assert (f.value if f else None) == days


def test_since_a_month_needs_the_consultation_date():
    assert read("Low back pain since March.", KB).facts.get("symptom_duration_days") is None
