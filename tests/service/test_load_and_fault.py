"""The load and fault scripts in their short modes (slow, but run in CI).

The fault test must find every acknowledged consultation in the audit log after SIGKILL.
The load test must answer every request; its latency is reported, not asserted (it
depends on the machine), see scripts/loadtest.py for the p99 target.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--short", "--json", *args],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.stdout.strip(), out.stderr[-2000:]
    return {"rc": out.returncode, **json.loads(out.stdout.strip().splitlines()[-1])}


@pytest.mark.slow
def test_sigkill_under_load_loses_no_acknowledged_consultation():
    res = _run("faulttest.py")
    assert res["killed_by_signal"] == "SIGKILL"
    assert res["acknowledged"] > 0
    assert res["missing"] == 0
    assert res["restart_ok"] == 20
    assert res["result"] == "PASS" and res["rc"] == 0


@pytest.mark.slow
def test_load_at_100_concurrent_requests_answers_every_request():
    res = _run("loadtest.py")
    print(f"\nloadtest: p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms, {res['throughput_rps']} req/s "
          f"at {res['concurrency']} concurrent on {res['cpus']} CPUs")
    assert res["concurrency"] == 100
    assert res["errors"] == 0 and res["ok"] == res["requests"] == 400
    assert res["bodies"] == "distinct" and res["distinct_bodies"] == 400  # a new patient every request
    assert res["checked"] > 0 and res["checked_rated"] == res["checked"] and res["checked_ratings"] == [7]
    assert 0 < res["p50_ms"] <= res["p99_ms"]


@pytest.mark.slow
def test_open_loop_at_a_modest_rate_answers_every_request():
    res = _run("loadtest.py", "--rate", "100")  # --short: 2 s, 200 distinct patients
    print(f"\nloadtest open loop: offered {res['offered_rps']}/s, achieved {res['achieved_rps']}/s, "
          f"p50 {res['p50_ms']} ms, p99 {res['p99_ms']} ms, load {res['load_average']}")
    assert res["mode"] == "open-loop" and res["duration_s"] == 2.0
    assert res["errors"] == 0 and res["ok"] == res["requests"] == 200
    assert res["statuses"] == {"200": 200}
    assert res["checked"] > 0 and res["checked_rated"] == res["checked"] and res["checked_ratings"] == [7]
    assert not res["saturated"] and 0 < res["p50_ms"] <= res["p99_ms"]
