"""Random text never crashes the reader: it reads, or it raises a coded IntakeError."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workup.errors import IntakeError
from workup.intake.text import read
from workup.kb import load

KB = load()
CLINICAL = ["no", "denies", "neck", "pain", "fever", "ACDF", "C5-6", "x6", "wks", "s/p", "r/o", "father", "if", "?", ";", ".",
            ",", "58M", "2", "years", "after", "fusion", "weakness", "MVC", "CT", "negative", "hx", "cancer", "\n", "but"]

settings.register_profile("intake", deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(text):
    try:
        r = read(text, KB)
    except IntakeError as e:
        assert e.code.startswith("IN2")
        return
    json.dumps(r.to_list())  # the clinician's list is always serialisable
    for f in r.facts.values():
        assert f.id in KB.facts
        fd = KB.facts[f.id]
        if fd.type == "bool":
            assert isinstance(f.value, bool)
        if fd.type == "enum":
            assert f.value in fd.values
        for ev in f.evidence:
            if ev.start is not None and ev.source == "text":
                assert 0 <= ev.start <= ev.end <= len(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=400))
def test_random_unicode_text(text):
    _check(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(CLINICAL), max_size=40).map(" ".join))
def test_random_clinical_word_salad(text):
    _check(text)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=200))
def test_random_bytes_decoded_leniently(data):
    _check(data.decode("utf-8", errors="replace"))
