"""A complaint of another body system is never rated with a spine variant.

Notes are composed from a complaint of another system (our own phrasings, one or more per system
of ``intake/rules/scope.yaml``), an adult age and sex, a duration and negated spine red flags and
neutral sentences around them, in random order of the parts. Without an imported ACR table the
answer must never be ``rated`` (every curated variant is a spine one); it is ``no-criteria-apply``
or, at most, ``needs-information``. The same note read twice gives byte-identical JSON.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workup.consult import consult
from workup.kb import load
from workup.render.document import dumps_bytes, to_document
from workup.types import Status

KB = load()
AS_OF = date(2026, 12, 3)

# Complaints of other systems, and pains referred to the back or arm from outside the spine.
COMPLAINTS = [
    "crushing central chest pain radiating to the left arm, sweaty",
    "exertional chest tightness relieved by rest",
    "sudden tearing pain between the shoulder blades, unequal arm blood pressures",
    "left loin to groin pain with blood in the urine",
    "fever, rigors and right flank pain, CVA tenderness",
    "epigastric pain boring through to the back after a binge, lipase raised",
    "right upper quadrant pain after fatty meals, positive Murphy's sign",
    "a band-like blistering rash around the left chest with burning pain",
    "pleuritic chest pain and haemoptysis after a long flight",
    "thunderclap headache, worst of her life",
    "new slurred speech and facial droop",
    "right lower quadrant pain with vomiting",
    "visible haematuria, painless",
    "stress incontinence when coughing",
    "twisted her right ankle, unable to weight bear",
    "swollen painful left knee after a tackle",
    "painful arc and can't lift the arm above shoulder height after a fall on the outstretched hand",
    "unilateral calf swelling after a long-haul flight",
    "a breast lump found in the shower",
    "cough and shortness of breath for a week",
    "sore throat and hoarse voice",
    "vaginal bleeding in the first trimester",
    "scrotal pain and swelling since this morning",
]
AGES = ["45-year-old", "62 yo", "38F", "71M", "a 54-year-old woman", "a 29-year-old man"]
DURATIONS = ["for 2 days", "since yesterday", "for 3 weeks", "x 4/7", ""]
NEGATIVES = ["Denies trauma.", "No fever.", "No history of cancer.", "No weakness or numbness.", "No back surgery.", ""]
NEUTRAL = ["Seen in clinic today.", "Vitals are unremarkable.", "She is here with her husband.", ""]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    complaint=st.sampled_from(COMPLAINTS),
    age=st.sampled_from(AGES),
    duration=st.sampled_from(DURATIONS),
    extras=st.lists(st.sampled_from(NEGATIVES + NEUTRAL), max_size=3),
    age_first=st.booleans(),
)
def test_a_non_spine_complaint_is_never_rated_as_spine(complaint, age, duration, extras, age_first):
    head = f"{age} with {complaint} {duration}".strip() + "." if age_first else f"{complaint.capitalize()} {duration}".strip() + f". {age}."
    text = " ".join([head, *extras]).strip()
    rec, _reading = consult({"text": text}, KB, AS_OF)
    assert rec.status is not Status.RATED, (text, rec.variant.id if rec.variant else None)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(complaint=st.sampled_from(COMPLAINTS), age=st.sampled_from(AGES), extras=st.lists(st.sampled_from(NEGATIVES), max_size=2))
def test_the_same_note_gives_byte_identical_json(complaint, age, extras):
    text = " ".join([f"{age} with {complaint}.", *extras])
    first = dumps_bytes(to_document(consult({"text": text}, KB, AS_OF)[0]))
    second = dumps_bytes(to_document(consult({"text": text}, KB, AS_OF)[0]))
    assert first == second
