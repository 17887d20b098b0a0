"""Importing the full licensed ACR 2025 table: the counts, and export equal to the table.

The table is ACR copyright and never part of this repository: these tests read it from the
shared data directory beside the repository and are skipped when it is absent.
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path

import pytest

from workup.imported.drift import drift
from workup.imported.pack import import_table
from workup.kb import default
from workup.kb.export import export_csv

ACR_CSV = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "acr-ac-2025" / "acr_criteria.csv"


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    if not ACR_CSV.is_file():
        pytest.skip(f"ACR table not present at {ACR_CSV} (ACR copyright, not shipped with workup)")
    start = time.process_time()
    pack = import_table(ACR_CSV, tmp_path_factory.mktemp("acr"))
    return pack, time.process_time() - start


def _table() -> dict[tuple[str, int, str], tuple[str, str, str]]:
    """(topic key, variant, procedure) → (rating, category, adult RRL), read independently of the importer."""
    out = {}
    with ACR_CSV.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            topic = re.sub(r"[^a-z0-9]", "", re.sub(r"PCAs\s*$", "", r["Topic"].strip()).lower())
            n = int(re.match(r"\s*Variant\s+(\d+)", r["Variant"]).group(1))
            rrl = " ".join(re.sub(r"\s*mSv", " mSv", r["Adult_RRL"]).split())
            out[(topic, n, " ".join(r["Procedure"].split()))] = (r["Rating"].strip(), r["Appropriateness_Category"].strip(), rrl)
    return out


def test_full_import_counts(imported):
    pack, _ = imported
    assert (len(pack.topics), pack.variant_count(), pack.rating_count()) == (257, 1265, 14664)


def test_full_import_within_60_seconds_of_cpu(imported):
    assert imported[1] <= 60


def test_export_equals_the_table_on_every_rating_category_and_adult_rrl(imported):
    pack, _ = imported
    exported = {}
    for topic, variant, proc, rating, category, rrl in list(csv.reader(export_csv(default(), pack).splitlines()))[1:]:
        key = (re.sub(r"[^a-z0-9]", "", topic.lower()), int(variant), proc)
        assert key not in exported, f"{key} exported twice"
        exported[key] = (rating, category, rrl)
    table = _table()
    assert len(exported) == len(table) == 14664
    diffs = {k: (exported.get(k), v) for k, v in table.items() if exported.get(k) != v}
    assert diffs == {}


def test_the_curated_packs_have_no_drift_from_the_2025_table(imported):
    assert drift(default(), imported[0]) == []
