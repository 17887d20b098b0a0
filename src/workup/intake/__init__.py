"""Intake: turning JSON facts, free text, ICD-10 codes and FHIR resources into Facts.

Only :mod:`workup.intake.json` is imported eagerly; the free-text reader (medspaCy) is
loaded on first use.
"""

from workup.intake.json import parse_facts

__all__ = ["parse_facts"]
