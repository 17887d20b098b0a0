"""JSON facts → :class:`~workup.types.Facts`, checked against the fact vocabulary.

Accepted shapes for each entry of a facts object::

    "radiculopathy": true                      # bool facts
    "age": 58                                  # numbers
    "region": "cervical"                       # enums
    "symptom_duration_days": "4w"              # durations: days as a number, or 3d / 4w / 2mo / 1y, or ISO P4W
    "surgery_date": "2024-11-02"               # dates
    "trauma": null                             # explicitly unknown (same as leaving it out)
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any, Mapping

from workup.durations import written_days
from workup.errors import IntakeError
from workup.kb.load import KnowledgeBase
from workup.types import Fact, FactOrigin, Facts


def parse_duration_days(v: Any) -> float:
    """Parse a duration (number of days, ``4w``, ``2 months``, ``P2Y``) into days."""
    if isinstance(v, bool):
        raise ValueError("a duration cannot be true/false")
    if isinstance(v, (int, float)):
        _finite(v)
        if v < 0:
            raise ValueError("a duration cannot be negative")
        return float(v)
    if isinstance(v, str):
        days = written_days(v)
        if days is not None:
            return _finite(days)
    raise ValueError(f"not a duration: {v!r} (use days, or e.g. 4w, 2mo, 1y, P2Y)")


def _finite(v: float) -> float:
    """``v`` unchanged; NaN, ±Infinity (which Python's JSON reader accepts) and integers
    too large for a float are refused."""
    try:
        finite = math.isfinite(v)
    except OverflowError:
        finite = False
    if not finite:
        raise ValueError("expected a finite number" + ("" if isinstance(v, int) else f", got {v!r}"))
    return v


def parse_facts(data: Any, kb: KnowledgeBase, origin: FactOrigin = FactOrigin.GIVEN) -> Facts:
    """Validate a JSON facts object against the vocabulary.

    Raises:
        IntakeError: listing every unknown fact and every value of the wrong type.
    """
    if not isinstance(data, Mapping):
        raise IntakeError("facts must be a JSON object of fact id → value", code="IN201")
    problems: list[dict] = []
    out: list[Fact] = []
    for key in sorted(data):
        raw = data[key]
        fd = kb.facts.get(key)
        if fd is None:
            problems.append({"where": key, "message": "unknown fact (see `workup kb facts` for the vocabulary)"})
            continue
        if raw is None:
            continue
        try:
            value = _coerce(fd.type, fd.unit, fd.values, raw)
        except ValueError as e:
            problems.append({"where": key, "message": str(e)})
            continue
        out.append(Fact(key, value, origin))
    if problems:
        raise IntakeError(f"{len(problems)} fact(s) could not be read", code="IN202", details=problems)
    return Facts(out)


def _coerce(kind: str, unit: str | None, values: list[str] | None, raw: Any) -> Any:
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        raise ValueError(f"expected true or false, got {raw!r}")
    if kind == "number":
        if unit == "days":
            return parse_duration_days(raw)
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ValueError(f"expected a number, got {raw!r}")
        _finite(raw)
        if raw < 0 or raw > 150 and unit == "years":
            raise ValueError(f"out of range: {raw!r}")
        return float(raw)
    if kind == "enum":
        if isinstance(raw, str) and values and raw in values:
            return raw
        raise ValueError(f"expected one of {values}, got {raw!r}")
    if kind == "date":
        if isinstance(raw, str):
            try:
                return date.fromisoformat(raw)
            except ValueError:
                pass
        raise ValueError(f"expected a date as YYYY-MM-DD, got {raw!r}")
    if isinstance(raw, str) and raw.strip():
        return raw.strip()
    raise ValueError(f"expected text, got {raw!r}")
