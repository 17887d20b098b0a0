"""Values in clinicians' words: ages, sex, and durations and what they measure.

Patterns come from ``rules/values.yaml``. A duration is classified by the words around it:
time since surgery ("two years after ACDF"), length of conservative care ("8 weeks of
physical therapy"), or length of symptoms (everything else, "x6 wks", "for the past 8 months").
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from typing import Mapping

from workup.intake.lexicon import Lexicon
from workup.intake.schema import ValuesFile, date_context, expand

_AGE_NUM = re.compile(r"\d{1,3}")


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
    duration_of: re.Pattern[str]
    ago: re.Pattern[str]
    relative: Mapping[str, float]
    post_op_day: re.Pattern[str]
    after_therapy: re.Pattern[str]
    before_therapy: re.Pattern[str]
    skip_before: re.Pattern[str]
    interval_before: "re.Pattern[str] | None"
    event_before_ago: "re.Pattern[str] | None"
    complaint_words: "re.Pattern[str] | None"
    symptom_words: "re.Pattern[str] | None"
    male: re.Pattern[str]
    female: re.Pattern[str]
    male_pronoun: re.Pattern[str]
    female_pronoun: re.Pattern[str]
    numbers: Mapping[str, float]
    units: Mapping[str, float]
    num_unit: re.Pattern[str]
    unit_num: re.Pattern[str]  # the count after its unit: "day 2 of low back pain", "week three of"
    vague_units: re.Pattern[str]
    vague_counts: tuple[tuple[re.Pattern[str], float], ...]
    since_year: re.Pattern[str]
    since_month: re.Pattern[str] | None
    date_contexts: tuple[re.Pattern[str], ...]
    date_forms: tuple[re.Pattern[str], ...]
    months: Mapping[str, int]


def _compile(v: ValuesFile) -> _Compiled:
    f = re.IGNORECASE
    sex = v.sex
    # a number written as digits or as one of the number words, longest first ("a couple of" before "a")
    words = sorted((re.escape(str(k)) for k in v.numbers), key=len, reverse=True)
    num_unit = rf"(?P<n>\d+(?:\.\d+)?|{'|'.join(words)})\+?[\s-]*(?P<u>{v.unit_words})\b"
    return _Compiled(
        after_surgery=re.compile(expand(v, v.after_surgery), f),
        before_ago_surgery=re.compile(expand(v, v.before_ago_surgery), f),
        right_after_surgery=re.compile(expand(v, v.right_after_surgery), f),
        duration_of=re.compile(v.duration_of, f),
        ago=re.compile(v.ago, f),
        relative={str(k).lower(): float(n) for k, n in v.relative.items()},
        post_op_day=re.compile(expand(v, v.post_op_day), f),
        after_therapy=re.compile(expand(v, v.after_therapy), f),
        before_therapy=re.compile(expand(v, v.before_therapy), f),
        skip_before=re.compile(v.skip_before, f),
        interval_before=re.compile(v.interval_before, f) if v.interval_before else None,
        event_before_ago=re.compile(v.event_before_ago, f) if v.event_before_ago else None,
        complaint_words=re.compile(v.complaint_words, f) if v.complaint_words else None,
        symptom_words=re.compile(v.symptom_words, f) if v.symptom_words else None,
        male=re.compile(sex.male, f),
        female=re.compile(sex.female, f),
        male_pronoun=re.compile(sex.male_pronoun, f),
        female_pronoun=re.compile(sex.female_pronoun, f),
        numbers={str(k).lower(): float(n) for k, n in v.numbers.items()},
        units={str(k).lower(): float(n) for k, n in v.units_days.items()},
        num_unit=re.compile(num_unit, f),
        unit_num=re.compile(rf"\b(?P<u>day|week|month)\s+(?P<n>\d+|{'|'.join(words)})\b", f),
        vague_units=re.compile(v.vague_units, f),
        vague_counts=tuple((re.compile(rf"\b{re.escape(k)}\b", f), float(n)) for k, n in v.vague_counts.items()),
        since_year=re.compile(v.since_year, f),
        since_month=re.compile(v.since_month.replace("{MONTH}", _month_names(v)), f) if v.since_month else None,
        date_contexts=tuple(
            re.compile(date_context(v, p), f) for p in (v.surgery_dates.after_surgery, v.surgery_dates.before_surgery)
        ),
        date_forms=tuple(re.compile(form.replace("{MONTH}", _month_names(v)), f) for form in v.surgery_dates.forms),
        months={k.lower(): n for k, n in v.surgery_dates.months.items()},
    )


def _month_names(v: ValuesFile) -> str:
    return "(?:" + "|".join(sorted((re.escape(m) for m in v.surgery_dates.months), key=len, reverse=True)) + ")"


_COMPILED: dict[int, _Compiled] = {}


def compiled(lexicon: Lexicon) -> _Compiled:
    """Compile the value patterns of ``lexicon`` (once per lexicon; the lexicon is cached)."""
    c = _COMPILED.get(id(lexicon))
    if c is None:
        c = _COMPILED[id(lexicon)] = _compile(lexicon.values)
    return c


def days_of(words: str, lexicon: Lexicon) -> float | None:
    """Length in days of a duration phrase such as ``a month``, ``x6 wks``, ``10 days``, ``day 2 of``."""
    c = compiled(lexicon)
    m = c.unit_num.search(words) or c.num_unit.search(words)
    if m is None:
        # "the past year", "the last few weeks": one unit, or a few
        u = c.vague_units.search(words)
        if u is None:
            return None
        unit = c.units.get(u.group(1).lower().rstrip("s"))
        if unit is None:
            return None
        n0 = next((n for pat, n in c.vague_counts if pat.search(words)), 1.0)
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
    if c.interval_before is not None and c.interval_before.search(before):
        return "skip"
    if c.after_therapy.search(after) or c.before_therapy.search(before):
        return "conservative"
    if c.after_surgery.search(after):
        return "surgery"
    if c.ago.match(after) and c.before_ago_surgery.search(before):
        return "surgery"
    if c.ago.match(after) and c.event_before_ago is not None and c.event_before_ago.search(before):
        return "event"
    if c.right_after_surgery.search(before) and not c.duration_of.match(after):
        return "surgery"
    if c.skip_before.search(before):
        return "skip"
    return "symptom"


def is_ago(text: str, end: int, lexicon: Lexicon) -> bool:
    """Whether the duration ending at ``end`` is a point in time ("3 weeks ago")."""
    return compiled(lexicon).ago.match(text[end : end + 20]) is not None


def relative_days(words: str, lexicon: Lexicon) -> float | None:
    """Days since a relative time such as "since yesterday" or "since last week"."""
    low = " ".join(words.lower().split())
    rel = compiled(lexicon).relative
    for key in sorted(rel, key=len, reverse=True):
        if low.endswith(key):
            return rel[key]
    return None


def post_op_days(text: str, lexicon: Lexicon) -> list[tuple[float, int, int]]:
    """Every "POD 5" / "post-op day 5" / "ACDF done this afternoon" (day 0) as (days, start, end)."""
    out = []
    for m in compiled(lexicon).post_op_day.finditer(text):
        day = next((g for g in m.groups() if g is not None), None)
        # an operation "done this afternoon" is day 0
        out.append((float(day) if day is not None else 0.0, m.start(), m.end()))
    return out


@dataclass(frozen=True)
class SurgeryDate:
    """An absolute date of an operation read from text: the first and last day it may mean.

    ``first == last`` for a full date; a month or a year spans its days; an all-numeric day and
    month that could be read either way (04/05/2024) spans both readings and is not ``certain``,
    nor is a period that has not ended before the consultation day ("in 2026" seen in 2026).
    ``surg_start`` / ``surg_end`` locate the operation's words, ``start`` / ``end`` the phrase.
    """

    first: date
    last: date
    start: int
    end: int
    surg_start: int
    surg_end: int
    certain: bool = True


def since_years(text: str, lexicon: Lexicon) -> list[tuple[int, int, int]]:
    """Every "since 2019" as (year, start, end)."""
    return [(int(m.group("year")), m.start(), m.end()) for m in compiled(lexicon).since_year.finditer(text)]


def since_months(text: str, lexicon: Lexicon, as_of: date) -> list[tuple[date, date, int, int]]:
    """Every "since March" / "since early October 2025" as (first day, last day, start, end).

    Without a year the month is its latest occurrence up to ``as_of``; "early", "mid" and "late"
    narrow it to days 1-10, 11-20 and 21 to the end; a period still running on ``as_of`` ends
    there, and one wholly after it is left out.
    """
    c = compiled(lexicon)
    if c.since_month is None:
        return []
    out: list[tuple[date, date, int, int]] = []
    for m in c.since_month.finditer(text):
        month = c.months.get(m.group("month").lower().rstrip("."))
        if month is None:
            continue
        year_s = m.groupdict().get("year")
        year = int(year_s) if year_s else (as_of.year if month <= as_of.month else as_of.year - 1)
        last_day = monthrange(year, month)[1]
        part = (m.groupdict().get("part") or "").lower()
        lo, hi = {"early": (1, 10), "mid": (11, 20), "late": (21, last_day)}.get(part, (1, last_day))
        first, last = date(year, month, lo), min(date(year, month, hi), as_of)
        if first <= as_of:
            out.append((first, last, m.start(), m.end()))
    return out


def surgery_dates(text: str, lexicon: Lexicon, as_of: date) -> list[SurgeryDate]:
    """Every absolute date of an operation in ``text`` that may already have passed by ``as_of``.

    A date wholly after ``as_of`` (a planned operation) or impossible (31/02/2024) is left out;
    one that cannot be read one way only is kept with ``certain=False``, so that the reader
    can tell that an operation may have happened at some time in it, without dating it.
    """
    c = compiled(lexicon)
    out: list[SurgeryDate] = []
    seen: set[tuple[int, int]] = set()
    for pat in c.date_contexts:
        for m in pat.finditer(text):
            span = m.span("date")
            if span in seen:
                continue
            seen.add(span)
            period = _period(m.group("date"), c)
            if period is None or period[0] > as_of:
                continue
            first, last, one_reading = period
            certain = one_reading and last < as_of
            out.append(SurgeryDate(first, last, m.start(), m.end(), m.start("surg"), m.end("surg"), certain))
    out.sort(key=lambda d: (d.start, d.end))
    return out


def _period(words: str, c: _Compiled) -> tuple[date, date, bool] | None:
    """The first and last day a date's words may mean, and whether they have one reading only.

    None when the words are no date (an impossible day or month).
    """
    for form in c.date_forms:
        m = form.fullmatch(words.strip())
        if m is None:
            continue
        parts = m.groupdict()
        year = int(parts["year"])
        if parts.get("first") is not None:
            a, b = int(parts["first"]), int(parts["second"])
            readings = [d for d in (_day(year, a, b), _day(year, b, a)) if d is not None]
            if not readings:
                return None
            # 04/05/2024 is April 5 or 4 May; 13/05/2024 only 13 May; 05/05/2024 either way the same
            return min(readings), max(readings), len(set(readings)) == 1
        month_s, day_s = parts.get("month"), parts.get("day")
        if month_s is None:
            return date(year, 1, 1), date(year, 12, 31), True
        month = int(month_s) if month_s.isdigit() else c.months.get(month_s.lower().rstrip("."))
        if month is None or not 1 <= month <= 12:
            return None
        if day_s is None:
            return date(year, month, 1), date(year, month, monthrange(year, month)[1]), True
        d = _day(year, month, int(day_s))
        return (d, d, True) if d is not None else None
    return None


def _day(year: int, month: int, day: int) -> date | None:
    if not 1 <= month <= 12 or not 1 <= day <= monthrange(year, month)[1]:
        return None
    return date(year, month, day)


def age_of(words: str, lexicon: Lexicon | None = None) -> float | None:
    """The age in years in an age phrase (``58-year-old``, ``58 yo``, ``58M``), or None.

    With ``lexicon``, an age written in words is read too: ``sixty-eight year old``,
    ``a seventy-two-year-old`` (a tens word of the lexicon's ``numbers``, then a units word).
    """
    m = _AGE_NUM.search(words)
    if m is not None:
        age: float | None = float(m.group(0))
    elif lexicon is not None:
        age = _number_in_words(words, compiled(lexicon).numbers)
    else:
        age = None
    return age if age is not None and 0 <= age <= 120 else None


_WORD = re.compile(r"[a-z]+")


def _number_in_words(words: str, numbers: Mapping[str, float]) -> float | None:
    """The first whole number written in words: "sixty-eight" is 68, "nineteen" 19, "ninety" 90."""
    toks = _WORD.findall(words.lower())
    for i, t in enumerate(toks):
        n = numbers.get(t)
        if n is None or n != int(n) or n < 1 or t in ("a", "an"):
            continue
        if n >= 20 and n % 10 == 0 and i + 1 < len(toks):
            unit = numbers.get(toks[i + 1])
            if unit is not None and 1 <= unit <= 9 and unit == int(unit) and toks[i + 1] not in ("a", "an"):
                return n + unit
        return n
    return None


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
