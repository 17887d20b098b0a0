"""Importing a licensed table: normalisation, collapsing, every conflict located, storage, export."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from tables import MBA, MESSY, UA, UNA, row, write_csv
from workup.cli import app
from workup.errors import KnowledgeError
from workup.imported.pack import import_table, load_imported, pack_path, to_json
from workup.imported.table import read_table
from workup.kb import default
from workup.kb.export import export_csv


def test_topic_suffixes_and_punctuation_twins_are_one_topic(tmp_path):
    t = read_table(write_csv(tmp_path / "t.csv", MESSY))
    assert sorted({r.topic for r in t.rows}) == ["Ankle Twist", "Knee Ache: Sudden"]
    assert t.renamed_topics == {"Ankle TwistPCAs": "Ankle Twist", "Knee Ache Sudden": "Knee Ache: Sudden"}


def test_duplicate_rows_collapse_and_blanks_are_filled_from_their_twin(tmp_path):
    t = read_table(write_csv(tmp_path / "t.csv", MESSY))
    assert len(t.rows) == 4 and t.collapsed == 2 and t.raw_rows == 6
    xr = next(r for r in t.rows if r.procedure == "Radiography Ankle")
    assert (xr.median, xr.panels, xr.rows) == (9.0, ("Musculoskeletal", "Polytrauma"), (2, 4))


def test_radiation_cells_are_normalised(tmp_path):
    t = read_table(write_csv(tmp_path / "t.csv", MESSY))
    ct = next(r for r in t.rows if r.procedure.startswith("CT Knee"))
    assert (ct.adult_rrl, ct.peds_rrl) == ("☢☢ 0.1-1 mSv", "☢☢ 0.03-0.3 mSv")


def test_every_conflicting_or_unreadable_row_is_reported_with_its_row(tmp_path):
    rows = [
        row("Hand Hurt", 1, "Radiography Hand", UA, 8),
        row("Hand Hurt", 1, "Radiography Hand", UA, 7),          # row 3: rating differs from row 2
        row("Hand Hurt", 1, "US Hand", "Perhaps fine", 5),       # row 4: unknown category
        row("Hand Hurt", 1, "MRI Hand", UNA, 12),                # row 5: rating out of range
        row("Hand Hurt", 2, "MRI Hand", UNA, 1, wording="One."),
        row("Hand Hurt", 2, "CT Hand", UNA, 1, wording="Two."),  # row 7: variant wording differs
        ["Musculoskeletal", "Hand Hurt", "Varient 3", "CT Hand", UNA, "1", "", "", "", "", ""],  # row 8
    ]
    with pytest.raises(KnowledgeError) as e:
        read_table(write_csv(tmp_path / "t.csv", rows))
    got = [(d["row"], d["code"]) for d in e.value.details]
    assert got == [(3, "KB170"), (4, "KB169"), (5, "KB168"), (7, "KB170"), (8, "KB167")]
    assert all(d["where"] == f"t.csv row {d['row']}" for d in e.value.details)
    assert "row 2" in e.value.details[0]["message"]


def test_a_refused_table_writes_nothing(tmp_path):
    bad = write_csv(tmp_path / "t.csv", [row("Hand Hurt", 1, "US Hand", UA, 8), row("Hand Hurt", 1, "US Hand", UA, 3)])
    with pytest.raises(KnowledgeError):
        import_table(bad, tmp_path / "data")
    assert not pack_path(tmp_path / "data").exists()


def test_missing_columns_are_named(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("Panel,Topic,Variant\nA,B,Variant 1: x\n", encoding="utf-8")
    with pytest.raises(KnowledgeError) as e:
        read_table(p)
    assert "Procedure" in e.value.message and e.value.details[0]["row"] == 1


def test_xlsx_reads_like_csv(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Panel", "Topic", "Variant", "Procedure", "Appropriateness_Category", "Rating", "Median", "SOE",
               "Adult_RRL", "Peds_RRL", "Recommendation"])
    for r in MESSY:
        ws.append([*r[:5], int(r[5]), float(r[6]) if r[6] else None, *r[7:]])
    wb.save(tmp_path / "t.xlsx")
    a = read_table(write_csv(tmp_path / "t.csv", MESSY))
    b = read_table(tmp_path / "t.xlsx")
    assert [(r.topic, r.variant, r.procedure, r.rating, r.category, r.median, r.adult_rrl) for r in a.rows] == \
           [(r.topic, r.variant, r.procedure, r.rating, r.category, r.median, r.adult_rrl) for r in b.rows]


def test_import_goes_to_the_data_directory_with_a_checksum_version(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKUP_DATA_DIR", str(tmp_path / "data"))
    src = write_csv(tmp_path / "t.csv", MESSY)
    pack = import_table(src)
    import hashlib

    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    assert pack.sha256 == sha and pack.version.endswith("+acr." + sha[:12])
    assert (tmp_path / "data" / "acr" / "pack.json").is_file()
    again = load_imported()
    assert again is not None and to_json(again) == to_json(pack)


def test_the_same_table_gives_the_same_bytes(tmp_path):
    src = write_csv(tmp_path / "t.csv", MESSY)
    import_table(src, tmp_path / "a")
    import_table(src, tmp_path / "b")
    assert pack_path(tmp_path / "a").read_bytes() == pack_path(tmp_path / "b").read_bytes()


def test_import_refuses_a_data_directory_inside_the_repository(monkeypatch):
    from pathlib import Path

    import workup

    repo = Path(workup.__file__).resolve().parents[2]
    if not (repo / ".git").exists():
        pytest.skip("not running from a source checkout")
    monkeypatch.setenv("WORKUP_DATA_DIR", str(repo / "data"))
    with pytest.raises(KnowledgeError) as e:
        import_table(repo / "README.md")
    assert e.value.code == "KB172"


def test_export_adds_imported_variants_the_curated_pack_lacks(tmp_path):
    pack = import_table(write_csv(tmp_path / "t.csv", MESSY), tmp_path / "d")
    rows = list(csv.reader(export_csv(default(), pack).splitlines()))[1:]
    plain = list(csv.reader(export_csv(default()).splitlines()))[1:]
    extra = [r for r in rows if r not in plain]
    assert sorted(extra) == sorted([
        ["Ankle Twist", "1", "Radiography Ankle", "9", UA, "☢ <0.1 mSv"],
        ["Ankle Twist", "1", "MRI Ankle Without IV Contrast", "2", UNA, "O 0 mSv"],
        ["Knee Ache: Sudden", "1", "US Knee", "5", MBA, "O 0 mSv"],
        ["Knee Ache: Sudden", "2", "CT Knee Without IV Contrast", "6", MBA, "☢☢ 0.1-1 mSv"],
    ])


def test_cli_import_imported_and_export(tmp_path):
    runner = CliRunner()
    src = write_csv(tmp_path / "t.csv", MESSY)
    out = runner.invoke(app, ["kb", "imported", "--format", "json"])
    assert json.loads(out.stdout)["imported"] is None
    res = runner.invoke(app, ["kb", "import", "acr", str(src), "--format", "json"])
    assert res.exit_code == 0, res.output
    s = json.loads(res.stdout)
    assert (s["topics"], s["variants"], s["ratings"], s["rows_collapsed"]) == (2, 3, 4, 2)
    assert json.loads(runner.invoke(app, ["kb", "imported", "--format", "json"]).stdout)["version"] == s["version"]
    exp = runner.invoke(app, ["kb", "export"]).stdout
    assert "Ankle Twist,1,Radiography Ankle,9" in exp
    assert "Ankle Twist" not in runner.invoke(app, ["kb", "export", "--no-imported"]).stdout


def test_cli_import_of_a_bad_table_lists_every_row_and_exits_2(tmp_path):
    src = write_csv(tmp_path / "t.csv", [row("Hand Hurt", 1, "US Hand", UA, 8), row("Hand Hurt", 1, "US Hand", UA, 3),
                                         row("Hand Hurt", 1, "CT Hand", "??", 3)])
    res = CliRunner().invoke(app, ["kb", "import", "acr", str(src), "--format", "json"])
    assert res.exit_code == 2
    err = json.loads(res.stdout)["error"]
    assert [d["row"] for d in err["details"]] == [3, 4]
