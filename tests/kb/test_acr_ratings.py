"""Every packed rating equals the ACR 2025 table, and every variant of the six topics is packed.

The ACR table is copyright and never part of this repository: the test reads it from the
shared data directory next to the repository and is skipped when it is absent.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from workup.kb import default
from workup.kb.export import HEADER, export_csv

REPO_ROOT = Path(__file__).resolve().parents[2]
ACR_CSV = REPO_ROOT / ".." / "shared" / "data" / "acr-ac-2025" / "acr_criteria.csv"

TOPICS = {
    "Cervical Pain or Cervical Radiculopathy": 8,
    "Low Back Pain": 7,
    "Thoracic Back Pain": 7,
    "Myelopathy": 2,
    "Suspected Spine Infection": 5,
    "Acute Spinal Trauma": 7,
}

Key = tuple[str, int]  # (topic, variant number)
Row = tuple[int, str, str]  # (rating, category, adult RRL)


def clean_topic(title: str) -> str:
    """ACR topic title without the stray "PCAs" suffix and with single spaces."""
    title = " ".join(title.split())
    return re.sub(r"\s*PCAs$", "", title)


def clean_rrl(rrl: str) -> str:
    """Adult RRL with single spaces and "mSv" set off by one space ("0.1-1mSv" → "0.1-1 mSv")."""
    return " ".join(re.sub(r"\s*mSv", " mSv", rrl).split())


def variant_number(cell: str) -> int:
    m = re.match(r"^\s*Variant\s+(\d+)\s*:", cell)
    assert m, f"unexpected variant cell {cell[:20]!r}"
    return int(m.group(1))


def acr_table() -> dict[Key, dict[str, Row]]:
    """The six topics' ratings from the ACR table, deduplicated across panels."""
    if not ACR_CSV.is_file():
        pytest.skip(f"ACR table not present at {ACR_CSV} (it is ACR copyright and not shipped with workup)")
    out: dict[Key, dict[str, Row]] = {}
    seen: dict[tuple[Key, str], Row] = {}
    with ACR_CSV.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            topic = clean_topic(r["Topic"])
            if topic not in TOPICS:
                continue
            key = (topic, variant_number(r["Variant"]))
            proc = " ".join(r["Procedure"].split())
            row = (int(r["Rating"]), r["Appropriateness_Category"].strip(), clean_rrl(r["Adult_RRL"]))
            # Acute Spinal Trauma is published under two panels with identical rows.
            prior = seen.get((key, proc))
            assert prior is None or prior == row, f"{key} {proc}: panels disagree {prior} vs {row}"
            seen[(key, proc)] = row
            out.setdefault(key, {})[proc] = row
    return out


def exported() -> dict[Key, dict[str, Row]]:
    text = export_csv(default())
    reader = csv.reader(text.splitlines())
    assert tuple(next(reader)) == HEADER
    out: dict[Key, dict[str, Row]] = {}
    for topic, variant, proc, rating, category, rrl in reader:
        procs = out.setdefault((topic, int(variant)), {})
        assert proc not in procs, f"{topic} {variant}: {proc} exported twice"
        procs[proc] = (int(rating), category, clean_rrl(rrl))
    return out


@pytest.fixture(scope="module")
def acr() -> dict[Key, dict[str, Row]]:
    return acr_table()


@pytest.fixture(scope="module")
def ours() -> dict[Key, dict[str, Row]]:
    return exported()


def test_acr_table_has_the_expected_variant_counts(acr):
    counts = {t: sum(1 for (topic, _) in acr if topic == t) for t in TOPICS}
    assert counts == TOPICS


def test_every_acr_variant_of_the_six_topics_is_packed(acr, ours):
    assert sorted(set(acr) - set(ours)) == []


def test_only_variants_of_the_six_topics_are_exported(acr, ours):
    assert sorted(set(ours) - set(acr)) == []
    assert len(ours) == 36


@pytest.mark.parametrize("topic,number", [(t, n) for t, count in TOPICS.items() for n in range(1, count + 1)])
def test_packed_ratings_equal_the_acr_table(acr, ours, topic, number):
    key = (topic, number)
    theirs = acr.get(key, {})
    mine = ours.get(key, {})
    assert sorted(mine) == sorted(theirs), "procedure set differs"
    diffs = {p: (mine[p], theirs[p]) for p in theirs if mine[p] != theirs[p]}
    assert diffs == {}, "(ours, ACR) per procedure"


def test_export_is_deterministic():
    kb = default()
    assert export_csv(kb) == export_csv(kb)
    lines = export_csv(kb).splitlines()[1:]
    keys = [(t, int(v), -int(r), p) for t, v, p, r, *_ in csv.reader(lines)]
    assert keys == sorted(keys)
