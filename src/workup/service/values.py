"""Fact values as the clinician pages write them: for reading, and in a page's address.

One place for both spellings, shared by the page (:mod:`workup.service.web`) and the
what-if warnings (:mod:`workup.service.whatif`), so a value reads the same everywhere.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from workup.durations import spoken


def format_value(value: Any, unit: str | None = None) -> str:
    """A fact value for reading: yes/no, durations in days/weeks/months/years."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit == "days" and isinstance(value, (int, float)):
        return spoken(float(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def url_value(value: Any) -> str:
    """A fact value as the page's address writes it (true/false, whole numbers, ISO dates)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.isoformat() if isinstance(value, date) else str(value)
