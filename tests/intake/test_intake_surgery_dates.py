"""Written dates of an operation become time since surgery, and nothing else does."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from workup.intake.text import read
from workup.kb import load

KB = load()
HERE = Path(__file__).resolve().parent
CASES = yaml.safe_load((HERE / "surgery_dates.yaml").read_text(encoding="utf-8"))["cases"]
AS_OF = date(2026, 11, 25)


def _facts(text: str, as_of: date) -> dict:
    return {k: f.value for k, f in read(text, KB, as_of).facts.items()}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["text"][:60])
def test_written_surgery_date(case):
    as_of = date.fromisoformat(case["as_of"]) if "as_of" in case else AS_OF
    got = _facts(case["text"], as_of)
    for fid, want in (case.get("expect") or {}).items():
        if fid == "surgery_date":
            want = date.fromisoformat(want)
        elif isinstance(want, (int, float)) and not isinstance(want, bool):
            want = float(want)
        assert got.get(fid) == want, (fid, got)
    for fid in case.get("absent") or []:
        assert fid not in got, (fid, got)


def test_surgery_date_needs_the_consultation_date():
    facts = read("Neck pain, ACDF in March 2024.", KB).facts
    assert "days_since_surgery" not in facts and "surgery_date" not in facts


def test_surgery_date_evidence_is_the_dated_phrase():
    r = read("Neck pain, ACDF on 2026-10-01.", KB, AS_OF)
    ev = r.facts["surgery_date"].evidence[0]
    assert ev.text == "ACDF on 2026-10-01"
    assert r.text[ev.start : ev.end] == ev.text
    assert any(i["fact"] == "days_since_surgery" and i["value"] == 55.0 for i in r.to_list())


# a date on the consultation day itself may still be ahead (surgery later that day): not read
_DAYS = st.integers(min_value=1, max_value=40 * 365)


@settings(max_examples=40, deadline=None)
@given(ago=_DAYS, style=st.sampled_from(["iso", "name"]))
def test_a_full_past_date_gives_its_exact_days(ago, style):
    d = AS_OF - timedelta(days=ago)
    written = d.isoformat() if style == "iso" else f"{d.strftime('%B')} {d.day}, {d.year}"
    got = _facts(f"Neck pain, ACDF on {written}.", AS_OF)
    assert got.get("days_since_surgery") == float(ago)
    assert got.get("surgery_date") == d


@settings(max_examples=40, deadline=None)
@given(ahead=st.integers(min_value=0, max_value=20 * 365), style=st.sampled_from(["iso", "name", "month", "year"]))
def test_a_future_date_never_gives_a_surgery_fact(ahead, style):  # ahead=0 is the same day
    d = AS_OF + timedelta(days=ahead)
    written = {
        "iso": d.isoformat(),
        "name": f"{d.strftime('%B')} {d.day}, {d.year}",
        "month": f"{d.strftime('%B')} {d.year}",
        "year": str(d.year),
    }[style]
    got = _facts(f"Back pain, L4-5 fusion in {written}.", AS_OF)
    assert "days_since_surgery" not in got and "surgery_date" not in got


@settings(max_examples=40, deadline=None)
@given(ago=_DAYS, event=st.sampled_from(["MRI", "CT", "CRP", "ESR", "x-ray", "injection", "PT"]))
def test_the_date_of_another_event_is_not_a_surgery_date(ago, event):
    d = AS_OF - timedelta(days=ago)
    got = _facts(f"Neck pain after ACDF. {event} on {d.isoformat()}.", AS_OF)
    assert "days_since_surgery" not in got and "surgery_date" not in got


@settings(max_examples=40, deadline=None)
@given(month=st.integers(min_value=1, max_value=12), year=st.integers(min_value=2000, max_value=2026))
def test_a_month_is_read_only_when_the_90_day_limit_cannot_fall_inside_it(month, year):
    first = date(year, month, 1)
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    got = _facts(f"Neck pain, ACDF in {first.strftime('%B')} {year}.", AS_OF)
    least, most = (AS_OF - last).days, (AS_OF - first).days
    if last >= AS_OF or least < 90 <= most:
        assert "days_since_surgery" not in got
    else:
        assert got.get("days_since_surgery") == float(least)
        assert "surgery_date" not in got  # a month is not a day


PATHWAYS = yaml.safe_load((HERE / "surgery_dates.yaml").read_text(encoding="utf-8"))["pathways"]


def _step_matches(step: dict, want: dict) -> bool:
    if step["kind"] != want["kind"]:
        return False
    return "reference_name" not in want or (step.get("reference_name") or "").lower() == want["reference_name"].lower()


@pytest.mark.parametrize("case", PATHWAYS, ids=lambda c: c["text"][:60])
def test_written_surgery_date_reaches_the_pathway(case):
    from workup.engine import evaluate

    rec = evaluate(read(case["text"], KB, AS_OF).facts, KB, AS_OF)
    steps = [s.to_dict() for s in rec.next_steps]
    for want in case.get("expect_next", []):
        assert any(_step_matches(s, want) for s in steps), (want, steps)
    for bad in case.get("forbid_next", []):
        assert not any(_step_matches(s, bad) for s in steps), (bad, steps)
    for fid in case.get("expect_missing", []):
        assert fid in [m.fact for m in rec.missing_facts], rec.missing_facts


def test_a_time_since_surgery_hidden_by_an_unread_date_is_not_listed_as_read():
    r = read("Two years after ACDF; L4-5 fusion 04/05/2026, back pain.", KB, AS_OF)
    assert "days_since_surgery" not in r.facts
    assert not [i for i in r.to_list() if i["fact"] in ("days_since_surgery", "surgery_date")]
