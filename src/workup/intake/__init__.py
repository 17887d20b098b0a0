"""Intake: turning JSON facts, free text, ICD-10 codes and FHIR resources into Facts.

Only :mod:`workup.intake.json` is imported eagerly; the free-text reader (spaCy and
medspaCy) is loaded on first use of :func:`assertion` or :mod:`workup.intake.text`.
"""

from typing import Any

from workup.intake.json import parse_facts

__all__ = ["assertion", "parse_facts"]


def __getattr__(name: str) -> Any:
    if name == "assertion":
        from workup.intake.text import assertion

        return assertion
    raise AttributeError(f"module 'workup.intake' has no attribute {name!r}")
