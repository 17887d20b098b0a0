"""Guide exclusions agree with routing: every "does not fit, goes to X" is where the engine sends them.

``exclusion_routing.yaml`` gives, per variant, the facts of a patient who fits it and, per
exclusion, the facts that express that exclusion. The engine must rate the first patient
under the variant itself and each excluded patient under the variant the exclusion names.
When an exclusion's wording or its ``routes_to`` changes, or when routing changes, this
table fails until the guide text and the engine say the same thing again.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from workup.engine import evaluate
from workup.intake.json import parse_facts
from workup.kb import default
from workup.types import Recommendation, Status

KB = default()
AS_OF = date(2026, 11, 25)
TABLE: dict[str, dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "exclusion_routing.yaml").read_text(encoding="utf-8")
)["variants"]
ROWS = [(vid, i, row) for vid, entry in sorted(TABLE.items()) for i, row in enumerate(entry["exclusions"])]
# One case per finding: an exclusion that names several findings lists each one's facts.
CASES = [
    (vid, i, j, add, row["routes_to"])
    for vid, i, row in ROWS
    for j, add in enumerate(row["add"] if isinstance(row["add"], list) else [row["add"]])
]


def _recommend(facts: dict[str, Any]) -> Recommendation:
    return evaluate(parse_facts(facts, KB), KB, AS_OF)


def _where(rec: Recommendation) -> str:
    missing = ", ".join(m.fact for m in rec.missing_facts) if rec.missing_facts else ""
    return f"{rec.status.value} {rec.variant.id if rec.variant else '-'} {missing}".strip()


def test_table_covers_every_variant_with_exclusions_and_nothing_else() -> None:
    declared = {vid for vid, v in KB.variants.items() if v.exclusions}
    assert set(TABLE) == declared


@pytest.mark.parametrize("variant_id", sorted(TABLE))
def test_table_has_one_row_per_exclusion_with_the_same_destination(variant_id: str) -> None:
    exclusions = KB.variants[variant_id].exclusions
    rows = TABLE[variant_id]["exclusions"]
    assert [r["routes_to"] for r in rows] == [x.routes_to for x in exclusions], (
        "rows are in the variant's exclusion order and name the same routes_to"
    )


@pytest.mark.parametrize("variant_id", sorted(TABLE))
def test_patient_who_fits_is_rated_under_the_variant(variant_id: str) -> None:
    entry = TABLE[variant_id]
    rec = _recommend(entry["fits"])
    if "out_of_scope" in entry:
        # the ACR variant fits this patient, but the packs leave the population to other ACR topics
        assert rec.status is Status.NO_CRITERIA_APPLY and rec.reason is not None, _where(rec)
        assert rec.reason.code == entry["out_of_scope"], rec.reason
        return
    assert (rec.status, rec.variant.id if rec.variant else None) == (Status.RATED, variant_id), _where(rec)


@pytest.mark.parametrize(
    "variant_id, index, alternative, add, routes_to", CASES, ids=[f"{v}#{i}.{j}" for v, i, j, _, _ in CASES]
)
def test_excluded_patient_is_rated_where_the_guide_says(
    variant_id: str, index: int, alternative: int, add: dict[str, Any], routes_to: str | None
) -> None:
    assert add, "an exclusion changes at least one fact"
    entry = TABLE[variant_id]
    rec = _recommend({**entry["fits"], **entry.get("exclusion_base", {}), **add})
    text = KB.variants[variant_id].exclusions[index].text
    got = rec.variant.id if rec.variant else None
    if routes_to is None:
        assert got != variant_id, f"{text!r}: still {_where(rec)}"
    else:
        assert (rec.status, got) == (Status.RATED, routes_to), f"{text!r}: {_where(rec)}"
