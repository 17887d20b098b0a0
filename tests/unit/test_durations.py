"""Durations: one table of day counts for the pack, JSON facts, the text reader and the page."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from workup.durations import DAYS, pack_days, spoken, written_days

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("text", "days"), [("6w", 42.0), ("90d", 90.0), ("3mo", 91.3125), ("2y", 730.5), (" 1.5 y ", 547.875), (14, 14.0)])
def test_pack_forms(text, days):
    assert pack_days(text) == days


@pytest.mark.parametrize("text", ["6 weeks", "P6W", "6", "w6", "-6w", ""])
def test_pack_forms_are_only_the_compact_ones(text):
    with pytest.raises(ValueError, match="not a duration"):
        pack_days(text)


@pytest.mark.parametrize(
    ("text", "days"),
    [("4w", 28.0), ("4 weeks", 28.0), ("1 Wk", 7.0), ("2 months", 60.875), ("2mo", 60.875), ("1 yr", 365.25),
     ("3 days", 3.0), ("P2Y", 730.5), ("P1Y6M", 547.875), ("p4w", 28.0), ("P10D", 10.0)],
)
def test_written_forms(text, days):
    assert written_days(text) == days


@pytest.mark.parametrize("text", ["P", "two weeks", "4 fortnights", "4 m", "P1H", "4w ago"])
def test_other_text_is_not_a_written_duration(text):
    assert written_days(text) is None


def test_a_month_is_a_twelfth_of_a_year_so_the_units_agree():
    assert pack_days("6mo") == pack_days("0.5y") and written_days("12 months") == written_days("1 year")


@pytest.mark.parametrize(
    ("days", "said"),
    [(730.5, "2 years"), (365.25, "1 year"), (30.4375, "1 month"), (91.3125, "3 months"), (42.0, "6 weeks"), (7.0, "1 week"),
     (10.0, "10 days"), (1.0, "1 day"), (0.4, "0 days"), (400.0, "400 days"), (395.6875, "13 months")],
)
def test_spoken(days, said):
    assert spoken(days) == said


def test_the_text_readers_unit_words_use_the_same_day_counts():
    units = yaml.safe_load((ROOT / "src" / "workup" / "intake" / "rules" / "values.yaml").read_text(encoding="utf-8"))["units_days"]
    same = {"d": "d", "day": "d", "w": "w", "wk": "w", "week": "w", "mo": "mo", "month": "mo", "y": "y", "yr": "y", "year": "y"}
    for word, unit in same.items():
        assert float(units[word]) == DAYS[unit], word
