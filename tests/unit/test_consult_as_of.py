"""The consultation date reaches the free-text reader: "since 2019" is a duration as of that date."""

from __future__ import annotations

from datetime import date

from workup.consult import consult_payload, read_text
from workup.kb import load

KB = load()
TEXT = "58M with neck pain since 2019, no trauma."


def _days(reading):
    f = reading.facts.get("symptom_duration_days")
    return None if f is None else f.value


def test_read_text_uses_as_of():
    assert _days(read_text(TEXT, KB, date(2026, 1, 1))) == float((date(2026, 1, 1) - date(2019, 1, 1)).days)
    assert _days(read_text(TEXT, KB)) is None  # without a date the year cannot be read


def test_consult_payload_passes_its_date():
    c = consult_payload({"text": TEXT}, KB, date(2025, 1, 1))
    assert _days(c.reading) == float((date(2025, 1, 1) - date(2019, 1, 1)).days)


def test_payload_as_of_wins_over_the_default():
    c = consult_payload({"text": TEXT, "as_of": "2024-01-01"}, KB, date(2026, 1, 1))
    assert _days(c.reading) == float((date(2024, 1, 1) - date(2019, 1, 1)).days)
    assert c.recommendation is not None
