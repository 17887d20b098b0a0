"""JSON facts intake: numbers must be finite (NaN and Infinity are JSON extensions Python accepts)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from workup.cli import app
from workup.errors import IntakeError
from workup.intake.json import parse_duration_days, parse_facts
from workup.kb import load

KB = load()
NOT_FINITE = [float("nan"), float("inf"), float("-inf"), 10**400]
NUMBER_FACTS = ["age", "symptom_duration_days", "days_since_surgery", "conservative_care_days"]


@pytest.mark.parametrize("fact", NUMBER_FACTS)
@pytest.mark.parametrize("value", NOT_FINITE, ids=["nan", "inf", "-inf", "huge-int"])
def test_a_number_fact_that_is_not_finite_is_a_coded_intake_error(fact, value):
    with pytest.raises(IntakeError) as e:
        parse_facts({fact: value, "region": "cervical"}, KB)
    assert e.value.code == "IN202"
    assert [d["where"] for d in e.value.details] == [fact]
    assert "finite" in e.value.details[0]["message"]


@pytest.mark.parametrize("text", ["9" * 400 + "d", "P" + "9" * 400 + "D"])
def test_a_duration_too_long_for_a_float_is_refused(text):
    with pytest.raises(ValueError, match="finite"):
        parse_duration_days(text)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=0, max_value=150))
def test_finite_ages_in_range_are_kept(age):
    assert parse_facts({"age": age}, KB).value("age") == float(age)


@given(st.floats())
def test_any_float_age_is_kept_finite_or_refused_with_a_code(age):
    try:
        value = parse_facts({"age": age}, KB).value("age")
    except IntakeError as e:
        assert e.code == "IN202"
    else:
        assert math.isfinite(value) and 0 <= value <= 150


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_cli_refuses_a_nan_literal_with_a_coded_error_and_exit_2(tmp_path: Path, literal: str):
    f = tmp_path / "facts.json"
    f.write_text('{"age": %s, "region": "cervical"}' % literal, encoding="utf-8")
    r = CliRunner().invoke(app, ["recommend", "--facts", str(f), "--format", "json"])
    assert r.exit_code == 2, r.output
    assert json.loads(r.stdout)["error"]["code"] == "IN202"
    assert "Traceback" not in r.output
