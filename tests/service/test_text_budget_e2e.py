"""Issue 13 item 2 end to end: a note over the intake's work budget is a coded refusal on every door.

The JSON API and the page answer 422 with IN228; the CLI exits non-zero with IN228 and no
traceback. The page also caps its text (``page_max_text_chars``): longer text is 422 SV424
before it is read, and the textarea carries the same ``maxlength``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("medspacy")

HOSTILE = "Neck pain after ACDF. " + "C1-C2-" * 200  # 1,200 characters without a space: over budget


def test_api_text_over_budget_is_422_in228(client) -> None:
    r = client.post("/v1/recommend", json={"text": HOSTILE})
    assert r.status_code == 422, r.text
    assert "IN228" in r.text


def test_page_text_over_budget_is_422_in228(client) -> None:
    r = client.get("/", params={"text": HOSTILE})
    assert r.status_code == 422, r.text[:500]
    assert "IN228" in r.text and "Traceback" not in r.text


def test_page_caps_text_length(make_client) -> None:
    c = make_client(page_max_text_chars=100)
    r = c.get("/", params={"text": "neck pain " * 20})
    assert r.status_code == 422
    assert "SV424" in r.text and "Traceback" not in r.text
    assert 'maxlength="100"' in c.get("/").text


def test_page_default_cap_is_20000(client) -> None:
    assert 'maxlength="20000"' in client.get("/").text
    r = client.get("/", params={"text": "neck pain " * 2_001})
    assert r.status_code == 422 and "SV424" in r.text


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workup.cli", "recommend", *args],
                          capture_output=True, text=True, timeout=300)


def test_cli_text_over_budget_is_coded_error() -> None:
    r = _cli(HOSTILE)  # the CLI takes the text as its argument (there is no --text option)
    assert r.returncode != 0
    assert "IN228" in r.stderr and "Traceback" not in r.stderr and "WK999" not in r.stderr


def test_cli_text_file_over_budget_is_coded_error(tmp_path: Path) -> None:
    f = tmp_path / "note.txt"
    f.write_text(HOSTILE)
    r = _cli("--text-file", str(f))
    assert r.returncode != 0
    assert "IN228" in r.stderr and "Traceback" not in r.stderr and "WK999" not in r.stderr
