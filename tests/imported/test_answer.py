"""Answers and guides for imported variants, in the curated document's shape."""

from __future__ import annotations

import json
from datetime import date

import pytest
from typer.testing import CliRunner

from tables import MBA, UA, UNA, row, write_csv
from workup.cli import app
from workup.errors import EvaluationError
from workup.imported.answer import answer
from workup.imported.guide import render_imported_guide
from workup.imported.pack import import_table
from workup.render.document import dumps, to_document

ROWS = [
    row("Wrist Knock", 1, "Radiography Wrist", UA, 9, median="9.0", adult="☢ <0.1 mSv", peds="☢ <0.03 mSv [ped]",
        soe="Strong", rec="Invented reason one.", wording="Adult. Fell on the hand. First imaging."),
    row("Wrist Knock", 1, "MRI Wrist Without IV Contrast", MBA, 5, rec="Invented reason two.",
        wording="Adult. Fell on the hand. First imaging."),
    row("Wrist Knock", 1, "MRI Wrist Without and With IV Contrast", UNA, 2, wording="Adult. Fell on the hand. First imaging."),
    row("Wrist Knock", 1, "CT Wrist Without IV Contrast", MBA, 4, adult="☢ <0.1 mSv",
        wording="Adult. Fell on the hand. First imaging."),
    row("Wrist Knock", 2, "MRI Wrist Without IV Contrast", UA, 8, wording="Adult. Radiographs normal. Next study."),
]


@pytest.fixture
def pack(tmp_path):
    return import_table(write_csv(tmp_path / "t.csv", ROWS), tmp_path / "d")


def test_an_imported_variant_gives_the_recommendation_document(pack):
    doc = to_document(answer(pack, "wrist knock", 1, date(2026, 1, 1)))
    assert doc["status"] == "rated"
    assert doc["topic"]["source"]["title"] == "Wrist Knock" and doc["variant"]["source_variant"] == 1
    assert doc["content_version"] == pack.version
    assert [p["rating"] for p in doc["procedures"]] == [9, 5, 4, 2]
    xr = doc["procedures"][0]
    assert (xr["rrl"], xr["peds_rrl"], xr["median"], xr["soe"]) == (
        {"level": "☢", "adult_dose": "<0.1 mSv"}, {"level": "☢", "dose": "<0.03 mSv"}, 9.0, "Strong")


def test_an_ordered_study_is_rated_with_better_rated_alternatives(pack):
    rec = answer(pack, "Wrist Knock", 1, date(2026, 1, 1), order="CT wrist w/o")
    o = rec.order
    assert o.read_as == "CT Wrist Without IV Contrast" and o.procedure.rating == 4
    assert [p.name for p in o.alternatives] == ["MRI Wrist Without IV Contrast", "Radiography Wrist"]


def test_an_mri_order_without_contrast_is_rated_as_each_phase(pack):
    o = answer(pack, "Wrist Knock", 1, date(2026, 1, 1), order="MRI wrist").order
    assert o.procedure is None and o.undecided_by == "contrast"
    assert {(c.read_as, c.procedure.rating) for c in o.candidates} == {
        ("MRI Wrist Without IV Contrast", 5), ("MRI Wrist Without and With IV Contrast", 2)}


def test_the_same_request_gives_the_same_bytes(pack):
    a = dumps(to_document(answer(pack, "Wrist Knock", 1, date(2026, 1, 1), order="MRI wrist")))
    b = dumps(to_document(answer(pack, "Wrist Knock", 1, date(2026, 1, 1), order="MRI wrist")))
    assert a == b


def test_unknown_topics_and_variants_are_coded_errors(pack):
    with pytest.raises(EvaluationError) as e:
        answer(pack, "Wrist Knok", 1, date(2026, 1, 1))
    assert e.value.code == "EV320" and "Wrist Knock" in e.value.message
    with pytest.raises(EvaluationError) as e:
        answer(pack, "Wrist Knock", 7, date(2026, 1, 1))
    assert e.value.code == "EV321"


def test_the_guide_is_marked_as_the_users_table_and_separates_neighbours(pack):
    g = render_imported_guide(pack, "Wrist Knock", 1)
    assert "your imported ACR Appropriateness Criteria table" in g and pack.sha256[:12] in g
    assert "> Adult. Fell on the hand. First imaging." in g
    assert "[Variant 2](acr-wrist-knock-2.md) — there: Radiographs normal. Next study. · here: Fell on the hand. First imaging." in g
    assert "| 9 | Usually appropriate | Radiography Wrist | ☢ | <0.1 mSv | ☢ <0.03 mSv | 9 | Strong |" in g
    assert "> Invented reason one." in g
    assert "Read by workup for routing as: population: adults · phase: initial" in g


def test_cli_recommend_topic_variant_and_guide(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["recommend", "--topic", "Wrist Knock", "--variant", "1"])
    assert res.exit_code == 2  # nothing imported yet
    import_table(write_csv(tmp_path / "t.csv", ROWS))
    res = runner.invoke(app, ["recommend", "--topic", "Wrist Knock", "--variant", "2", "--format", "json",
                              "--as-of", "2026-01-01"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["procedures"][0]["name"] == "MRI Wrist Without IV Contrast"
    g = runner.invoke(app, ["guide", "acr-wrist-knock-2"])
    assert g.exit_code == 0 and g.stdout.startswith("# Wrist Knock — Variant 2")


def test_v1_topics_lists_imported_topics(tmp_path, monkeypatch):
    from fastapi.testclient import TestClient

    from workup.service.app import create_app
    from workup.service.config import Settings

    pack = import_table(write_csv(tmp_path / "t.csv", ROWS), tmp_path / "d")
    settings = Settings(dev_insecure=True, audit_path=tmp_path / "a.sqlite3", data_dir=tmp_path / "d")
    with TestClient(create_app(settings)) as client:
        doc = client.get("/v1/topics").json()
    assert doc["imported"]["content_version"] == pack.version
    assert doc["imported"]["topics"] == [{
        "id": "acr-wrist-knock", "title": "Wrist Knock", "panels": ["Musculoskeletal"],
        "source": {"publisher": "American College of Radiology", "title": "Wrist Knock",
                   "version": f"imported table {pack.sha256[:12]}"},
        "variants": [{"id": "acr-wrist-knock-1", "number": 1}, {"id": "acr-wrist-knock-2", "number": 2}]}]
    assert {t["id"] for t in doc["topics"]} >= {"cervical-pain", "low-back-pain"}


def test_v1_recommend_answers_an_imported_variant_by_topic_and_number(tmp_path):
    from fastapi.testclient import TestClient

    from workup.service.app import create_app
    from workup.service.config import Settings

    pack = import_table(write_csv(tmp_path / "t.csv", ROWS), tmp_path / "d")
    settings = Settings(dev_insecure=True, audit_path=tmp_path / "a.sqlite3", data_dir=tmp_path / "d")
    with TestClient(create_app(settings)) as client:
        r = client.post("/v1/recommend", json={"topic": "Wrist Knock", "variant": 1, "order": "CT wrist w/o",
                                               "as_of": "2026-01-01"})
        assert r.status_code == 200, r.text
        doc = r.json()
        assert doc["content_version"] == pack.version and doc["variant"]["source_variant"] == 1
        assert doc["order"]["read_as"] == "CT Wrist Without IV Contrast"
        bad = client.post("/v1/recommend", json={"topic": "Wrist Knock", "variant": 9})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "EV321"
        both = client.post("/v1/recommend", json={"topic": "Wrist Knock", "variant": 1, "text": "x"})
        assert both.json()["error"]["code"] == "EV324"
    with TestClient(create_app(Settings(dev_insecure=True, audit_path=tmp_path / "b.sqlite3",
                                        data_dir=tmp_path / "none"))) as client:
        r = client.post("/v1/recommend", json={"topic": "Wrist Knock", "variant": 1})
        assert r.status_code == 422 and r.json()["error"]["code"] == "EV323"
