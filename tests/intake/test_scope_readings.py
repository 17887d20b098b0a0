"""Fact-level readings of the scope step and the clause rules, as data (``scope_readings.yaml``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from workup.intake.text import read
from workup.kb import default

KB = default()
CASES = yaml.safe_load((Path(__file__).parent / "scope_readings.yaml").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["text"][:50] for c in CASES])
def test_reading_gives_the_facts_and_not_the_absent_ones(case: dict) -> None:
    facts = read(case["text"], KB, date(2026, 12, 3)).facts
    for fid, want in (case.get("facts") or {}).items():
        got = facts.get(fid)
        assert got is not None and got.value == want, (fid, got, case["text"])
    for fid in case.get("absent") or []:
        # a yes/no fact is not read as present; any other fact is not read at all
        got = facts.get(fid)
        present = got is not None and (got.value is True or KB.facts[fid].type != "bool")
        assert not present, (fid, got, case["text"])
