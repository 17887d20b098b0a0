"""The CLI end to end: formats, batch mode, and clear errors (exit 2, never a traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workup.cli import app

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-post-acdf.json"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_recommend_seed_patient_text_view_names_variant_3_and_first_study() -> None:
    r = run("recommend", "--facts", str(SEED), "--as-of", "2026-11-25", "--width", "100")
    assert r.exit_code == 0, r.output
    assert "Cervical Pain or Cervical Radiculopathy — Variant 3" in r.output
    assert "1. [imaging] Radiography Cervical Spine" in r.output


def test_recommend_json_is_byte_identical_across_runs() -> None:
    a = run("recommend", "--facts", str(SEED), "--as-of", "2026-11-25", "--format", "json")
    b = run("recommend", "--facts", str(SEED), "--as-of", "2026-11-25", "--format", "json")
    assert a.exit_code == 0 and a.stdout == b.stdout
    doc = json.loads(a.stdout)
    assert doc["status"] == "rated" and doc["variant"]["source_variant"] == 3


def test_recommend_rates_an_order_and_lists_better_alternatives() -> None:
    r = run("recommend", "--facts", str(SEED), "--as-of", "2026-11-25", "--format", "json",
            "--order", "MRI Cervical Spine Without and With IV Contrast")
    order = json.loads(r.stdout)["order"]
    assert order["procedure"]["rating"] == 5
    assert [a["rating"] for a in order["alternatives"]] == [7, 7, 7, 7]
    assert order["alternatives"][0]["rrl"]["level"] == "O"  # least radiation first


@pytest.mark.parametrize(
    "content, code",
    [
        ('{"age": "old"}', "IN202"),
        ('{"not_a_fact": true}', "IN202"),
        ('["region", "cervical"]', "IN201"),
        ("{not json", "IN216"),
    ],
)
def test_bad_facts_file_gives_coded_error_and_exit_2(tmp_path: Path, content: str, code: str) -> None:
    f = tmp_path / "facts.json"
    f.write_text(content, encoding="utf-8")
    r = run("recommend", "--facts", str(f), "--format", "json")
    assert r.exit_code == 2
    assert json.loads(r.stdout)["error"]["code"] == code
    assert "Traceback" not in r.output


def test_missing_facts_file_is_a_clear_error(tmp_path: Path) -> None:
    r = run("recommend", "--facts", str(tmp_path / "nope.json"))
    assert r.exit_code == 2 and "IN215" in r.output and "Traceback" not in r.output


def test_batch_goes_on_after_a_bad_line(tmp_path: Path) -> None:
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    lines = [
        json.dumps({"id": "good", "facts": seed}),
        "{broken",
        json.dumps({"id": "unknown-fact", "facts": {"zzz": True}}),
        json.dumps({"id": "empty"}),
        json.dumps({"id": "needs", "facts": {"region": "cervical", "pain": True}}),
    ]
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = run("recommend", "--input", str(f), "--format", "jsonl", "--as-of", "2026-11-25")
    assert r.exit_code == 0, r.output
    out = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert [o.get("id") for o in out] == ["good", None, "unknown-fact", "empty", "needs"]
    assert out[0]["status"] == "rated"
    assert out[1]["error"]["code"] == "IN218" and out[1]["line"] == 2
    assert out[2]["error"]["code"] == "IN202"
    assert out[3]["error"]["code"] == "IN205"
    assert out[4]["status"] == "needs-information"
    assert {m["fact"] for m in out[4]["missing_facts"]} >= {"symptom_duration_days", "radiculopathy"}


def test_jsonl_without_input_is_refused() -> None:
    r = run("recommend", "--facts", str(SEED), "--format", "jsonl")
    assert r.exit_code == 2 and "IN213" in r.output


def test_unknown_format_is_refused() -> None:
    r = run("recommend", "--facts", str(SEED), "--format", "yaml")
    assert r.exit_code == 2 and "IN212" in r.output


def test_kb_variants_lists_all_36_in_routing_order() -> None:
    r = run("kb", "variants")
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert len(lines) == 36
    assert lines[0].startswith("spinal-trauma-5")


def test_text_file_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("neck pain " * 120_000, encoding="utf-8")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 100)
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n", encoding="utf-8")
    for f, code in [(big, "IN209"), (binary, "IN211"), (empty, "IN208")]:
        r = run("recommend", "--text-file", str(f), "--format", "json")
        assert r.exit_code == 2, (f, r.output)
        assert json.loads(r.stdout)["error"]["code"] == code


def test_set_corrects_a_fact_read_from_the_text() -> None:
    text = "45F low back pain for 3 weeks after lifting, denies trauma, no fever, no leg symptoms"
    plain = json.loads(run("recommend", text, "--as-of", "2026-11-25", "--format", "json").stdout)
    fixed = run("recommend", text, "--as-of", "2026-11-25", "--format", "json", "--set", "fever=true", "--set", "age=45")
    assert fixed.exit_code == 0, fixed.output
    doc = json.loads(fixed.stdout)
    fever = next(f for f in doc["facts"] if f["id"] == "fever")
    assert fever["value"] is True and fever["origin"] == "given"
    assert doc["variant"] != plain["variant"]


@pytest.mark.parametrize("bad", ["fever", "=true", "fever="])
def test_set_without_a_value_is_in227(bad: str) -> None:
    r = run("recommend", "back pain", "--set", bad)
    assert r.exit_code == 2 and "IN227" in r.output
