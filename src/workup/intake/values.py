"""Values in clinicians' words: ages, sex, and durations and what they measure.

Patterns come from ``rules/values.yaml``. A duration is classified by the words around it:
time since surgery ("two years after ACDF"), length of conservative care ("8 weeks of
physical therapy"), or length of symptoms (everything else, "x6 wks", "for the past 8 months").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from workup.intake.lexicon import Lexicon

_NUM_UNIT = re.compile(
    r"(?P<n>\d+(?:\.\d+)?|a couple of|couple of|a few|several|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
    r"[\s-]*(?P<u>hours?|hrs?|h|days?|d|weeks?|wks?|wk|w|fortnights?|months?|mos?|mo|years?|yrs?|yr|y)\b",
    re.IGNORECASE,
)
_AGE_NUM = re.compile(r"\d{1,3}")
_UNIT_ONLY = re.compile(r"\b(years?|months?|weeks?|fortnights?|days?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Duration:
    """A duration read from text: its length in days and what it measures."""

    days: float
    kind: str  # "symptom" | "surgery" | "conservative" | "skip"


@dataclass(frozen=True)
class _Compiled:
    after_surgery: re.Pattern[str]
    before_ago_surgery: re.Pattern[str]
    right_after_surgery: re.Pattern[str]
    relative: Mapping[str, float]
    post_op_day: re.Pattern[str]
    after_therapy: re.Pattern[str]
    before_therapy: re.Pattern[str]
    skip_before: re.Pattern[str]
    male: re.Pattern[str]
    female: re.Pattern[str]
    male_pronoun: re.Pattern[str]
    female_pronoun: re.Pattern[str]
    numbers: Mapping[str, float]
    units: Mapping[str, float]


def _compile(values: Any) -> _Compiled:
    v = values
    surg = v["surgery_words"]
    ther = v["therapy_words"]
    f = re.IGNORECASE
    sex = v["sex"]
    return _Compiled(
        after_surgery=re.compile(v["after_surgery"].replace("{SURG}", surg), f),
        before_ago_surgery=re.compile(v["before_ago_surgery"].replace("{SURG}", surg), f),
        right_after_surgery=re.compile(v["right_after_surgery"].replace("{SURG}", surg), f),
        relative={str(k).lower(): float(n) for k, n in v["relative"].items()},
        post_op_day=re.compile(v["post_op_day"], f),
        after_therapy=re.compile(v["after_therapy"].replace("{THER}", ther), f),
        before_therapy=re.compile(v["before_therapy"].replace("{THER}", ther), f),
        skip_before=re.compile(v["skip_before"], f),
        male=re.compile(sex["male"], f),
        female=re.compile(sex["female"], f),
        male_pronoun=re.compile(sex["male_pronoun"], f),
        female_pronoun=re.compile(sex["female_pronoun"], f),
        numbers={str(k).lower(): float(n) for k, n in v["numbers"].items()},
        units={str(k).lower(): float(n) for k, n in v["units_days"].items()},
    )


_COMPILED: dict[int, _Compiled] = {}


def compiled(lexicon: Lexicon) -> _Compiled:
    """Compile the value patterns of ``lexicon`` (once per lexicon; the lexicon is cached)."""
    c = _COMPILED.get(id(lexicon))
    if c is None:
        c = _COMPILED[id(lexicon)] = _compile(lexicon.values)
    return c


def days_of(words: str, lexicon: Lexicon) -> float | None:
    """Length in days of a duration phrase such as ``a month``, ``x6 wks``, ``10 days``."""
    c = compiled(lexicon)
    m = _NUM_UNIT.search(words)
    if m is None:
        # "the past year", "the last few weeks": one unit, or a few
        u = _UNIT_ONLY.search(words)
        if u is None:
            return None
        unit = c.units.get(u.group(1).lower().rstrip("s"))
        if unit is None:
            return None
        n0 = 3.0 if re.search(r"\b(?:few|several)\b", words, re.IGNORECASE) else 2.0 if "couple" in words.lower() else 1.0
        return round(n0 * unit, 4)
    n_raw = m.group("n").lower()
    n = c.numbers.get(n_raw)
    if n is None:
        try:
            n = float(n_raw)
        except ValueError:
            return None
    u = m.group("u").lower()
    unit = c.units.get(u) or c.units.get(u.rstrip("s")) or c.units.get(u[:9]) or c.units.get(u[:2]) or c.units.get(u[:1])
    if unit is None:
        return None
    return round(n * unit, 4)


def classify_duration(text: str, start: int, end: int, lexicon: Lexicon) -> str:
    """Say what the duration at ``text[start:end]`` measures, from the words around it."""
    c = compiled(lexicon)
    after = text[end : end + 80]
    before = text[max(0, start - 60) : start]
    if c.after_therapy.search(after) or c.before_therapy.search(before):
        return "conservative"
    if c.after_surgery.search(after):
        return "surgery"
    if re.match(r"\s*ago\b", after, re.IGNORECASE) and c.before_ago_surgery.search(before):
        return "surgery"
    if c.right_after_surgery.search(before):
        return "surgery"
    if c.skip_before.search(before):
        return "skip"
    return "symptom"


def relative_days(words: str, lexicon: Lexicon) -> float | None:
    """Days since a relative time such as "since yesterday" or "since last week"."""
    low = " ".join(words.lower().split())
    rel = compiled(lexicon).relative
    for key in sorted(rel, key=len, reverse=True):
        if low.endswith(key):
            return rel[key]
    return None


def post_op_days(text: str, lexicon: Lexicon) -> list[tuple[float, int, int]]:
    """Every "POD 5" / "post-op day 5" as (days, start, end)."""
    return [(float(m.group(1)), m.start(), m.end()) for m in compiled(lexicon).post_op_day.finditer(text)]


def age_of(words: str) -> float | None:
    """The age in years in an age phrase (``58-year-old``, ``58 yo``, ``58M``), or None."""
    m = _AGE_NUM.search(words)
    if m is None:
        return None
    age = float(m.group(0))
    return age if 0 <= age <= 120 else None


def sex_of(text: str, lexicon: Lexicon) -> tuple[str, int, int] | None:
    """The patient's sex from nouns ("woman", "58M"), else pronouns; with the words' offsets."""
    c = compiled(lexicon)
    best = None
    for value, pat in (("male", c.male), ("female", c.female)):
        m = pat.search(text)
        if m and (best is None or m.start() < best[1]):
            best = (value, m.start(), m.end())
    if best:
        return best
    for value, pat in (("male", c.male_pronoun), ("female", c.female_pronoun)):
        m = pat.search(text)
        if m and (best is None or m.start() < best[1]):
            best = (value, m.start(), m.end())
    return best
