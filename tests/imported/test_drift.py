"""`kb drift`: curated ratings against an imported table, every difference named."""

from __future__ import annotations

import csv
import json

from typer.testing import CliRunner

from tables import row, write_csv
from workup.cli import app
from workup.imported.drift import drift
from workup.imported.pack import import_table
from workup.kb import default
from workup.kb.export import export_csv


def curated_rows() -> list[list[str]]:
    """The curated pack's own ratings as table rows (in our invented wording)."""
    out = []
    for topic, variant, proc, rating, category, rrl in list(csv.reader(export_csv(default()).splitlines()))[1:]:
        out.append(row(topic, int(variant), proc, category, int(rating), adult=rrl, wording=f"Scenario {variant}."))
    return out


def test_a_table_equal_to_the_curated_pack_has_no_drift(tmp_path):
    pack = import_table(write_csv(tmp_path / "t.csv", curated_rows()), tmp_path / "d")
    assert drift(default(), pack) == []


def test_every_changed_added_and_retired_item_is_reported(tmp_path):
    rows = curated_rows()
    lbp = [r for r in rows if r[1] == "Low Back Pain" and r[2].startswith("Variant 1:")]
    first = lbp[0]
    changed = [*first]
    new = int(first[5]) - 1 if int(first[5]) > 1 else 2
    changed[5] = str(new)
    changed[8] = "Varies"
    rows[rows.index(first)] = changed
    rows = [r for r in rows if not (r[1] == "Myelopathy" and r[2].startswith("Variant 2:"))]
    rows.append(row("Low Back Pain", 99, "US Lumbar Spine", "May be appropriate", 5, wording="Scenario 99."))
    pack = import_table(write_csv(tmp_path / "t.csv", rows), tmp_path / "d")
    items = drift(default(), pack)
    kinds = sorted((d["kind"], d["topic"], d["variant"], d.get("procedure")) for d in items)
    assert kinds == sorted([
        ("rating-changed", "Low Back Pain", 1, first[3]),
        ("rrl-changed", "Low Back Pain", 1, first[3]),
        ("variant-added", "Low Back Pain", 99, None),
        ("variant-retired", "Myelopathy", 2, None),
    ])
    changed_item = next(d for d in items if d["kind"] == "rating-changed")
    assert (changed_item["curated"], changed_item["table"]) == (int(first[5]), new)


def test_cli_drift_exits_1_on_drift_and_2_without_an_import(tmp_path, monkeypatch):
    runner = CliRunner()
    assert runner.invoke(app, ["kb", "drift"]).exit_code == 2
    rows = [r for r in curated_rows() if not r[2].startswith("Variant 1:")]
    import_table(write_csv(tmp_path / "t.csv", rows))
    res = runner.invoke(app, ["kb", "drift", "--format", "json"])
    assert res.exit_code == 1
    assert {d["kind"] for d in json.loads(res.stdout)["drift"]} == {"variant-retired"}
