"""Durations: how many days each unit is, and the written forms workup accepts.

One place for the day counts: a week is 7 days, a year 365.25 and a month a twelfth of
a year (30.4375), so "6 months" and "0.5 years" agree. Knowledge packs write bounds in
the compact form (``6w``, ``3mo``, ``90d``, ``2y``); facts given as JSON may also spell
the unit out (``4 weeks``) or use ISO 8601 (``P2Y``, ``P4W``). The free-text reader's
word list (``intake/rules/values.yaml``) is checked against :data:`DAYS` by a test.
"""

from __future__ import annotations

import re

DAYS: dict[str, float] = {"d": 1.0, "w": 7.0, "mo": 365.25 / 12, "y": 365.25}
"""Days in each compact unit."""

_COMPACT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|w|mo|y)\s*$")
_WORDS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(d|days?|w|wks?|weeks?|mo|months?|y|yrs?|years?)\s*$", re.I)
_ISO = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$", re.I)


def pack_days(value: str | float | int) -> float:
    """Days in a knowledge-pack duration: a number of days, or ``6w``, ``3mo``, ``90d``, ``2y``.

    Raises:
        ValueError: not one of those forms.
    """
    if isinstance(value, (int, float)):
        return float(value)
    m = _COMPACT.match(value)
    if not m:
        raise ValueError(f"not a duration: {value!r} (use a number with d, w, mo or y, e.g. 6w)")
    return float(m.group(1)) * DAYS[m.group(2)]


def written_days(text: str) -> float | None:
    """Days in a written duration (``4w``, ``2 months``, ``1 yr``, ``P2Y``, ``P1Y6M``), else None."""
    m = _WORDS.match(text)
    if m:
        unit = m.group(2).lower()
        key = "mo" if unit.startswith("mo") else unit[0]
        return float(m.group(1)) * DAYS[key]
    m = _ISO.match(text.strip())
    if m and any(m.groups()):
        y, mo, w, d = (float(g) if g else 0.0 for g in m.groups())
        return y * DAYS["y"] + mo * DAYS["mo"] + w * DAYS["w"] + d
    return None


def spoken(days: float) -> str:
    """A number of days as a person would say it: whole years, months or weeks when exact, else days."""
    for size, name in ((DAYS["y"], "year"), (DAYS["mo"], "month"), (DAYS["w"], "week")):
        if days >= size and abs(days / size - round(days / size)) <= 0.05:
            n = round(days / size)
            return f"{n} {name}{'s' if n != 1 else ''}"
    n = round(days)
    return f"{n} day{'s' if n != 1 else ''}"
