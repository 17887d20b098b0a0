"""The CLI under awkward input: bad bytes in argv, a batch on stdin, a surgery after --as-of."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from workup.cli import app

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "examples" / "seed-post-acdf.json"
runner = CliRunner()


def test_invalid_utf8_argument_is_a_coded_error_not_wk999() -> None:
    r = subprocess.run(
        [sys.executable, "-m", "workup.cli", "recommend", b"neck pain \xff\xfe after ACDF"],
        capture_output=True,
        timeout=120,
    )
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 2, err
    assert "IN250" in err and "argument 2" in err
    assert "WK999" not in err and "Traceback" not in err


def test_batch_reads_standard_input_with_dash() -> None:
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    stdin = json.dumps({"id": "a", "facts": seed}) + "\n" + json.dumps({"id": "b", "facts": seed}) + "\n"
    r = runner.invoke(app, ["recommend", "--input", "-", "--format", "jsonl", "--as-of", "2026-11-25"], input=stdin)
    assert r.exit_code == 0, r.output
    out = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    assert [o["id"] for o in out] == ["a", "b"]
    assert out[0]["status"] == "rated" and out[0] == {**out[1], "id": "a"}


def test_surgery_date_after_as_of_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "f.json"
    f.write_text(json.dumps({"age": 50, "region": "cervical", "pain": True, "prior_surgery_cervical": True,
                             "surgery_date": "2026-12-01"}), encoding="utf-8")
    r = runner.invoke(app, ["recommend", "--facts", str(f), "--as-of", "2026-11-25", "--format", "json"])
    assert r.exit_code == 2, r.output
    doc = json.loads(r.stdout)
    assert doc["error"]["code"] == "EV304" and "2026-12-01" in doc["error"]["message"]


def test_surgery_date_on_as_of_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "f.json"
    f.write_text(json.dumps({"age": 50, "region": "cervical", "pain": True, "prior_surgery_cervical": True,
                             "surgery_date": "2026-11-25"}), encoding="utf-8")
    r = runner.invoke(app, ["recommend", "--facts", str(f), "--as-of", "2026-11-25", "--format", "json"])
    assert r.exit_code == 0, r.output
