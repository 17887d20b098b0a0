"""A full disk under the audit log: 503 SV503 naming the log, logged once, recovery when space returns.

Runs on a small tmpfs mounted for the test (needs root and mount rights); skipped with the
reason otherwise.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess

import pytest
from fastapi.testclient import TestClient

from workup.audit.outage import OutageLog, is_disk_full
from workup.service.app import create_app
from workup.service.config import Settings

from service_helpers import NOW, Ids, seed_facts


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("a full-disk test needs root to mount a small tmpfs")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    block = b"\0" * 65536
    try:
        while True:
            try:
                os.write(fd, block)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                if len(block) == 1:
                    break
                block = block[: len(block) // 2]
    finally:
        os.close(fd)


def test_full_disk_is_503_naming_the_audit_log_then_recovers(small_disk, caplog):
    audit = small_disk / "audit.sqlite3"
    app = create_app(Settings(dev_insecure=True, audit_path=audit), clock=lambda: NOW, new_id=Ids())
    client = TestClient(app, raise_server_exceptions=False)
    body = {"facts": seed_facts()}
    try:
        assert client.post("/v1/recommend", json=body).status_code == 200
        filler = small_disk / "filler"
        _fill(filler)
        caplog.set_level(logging.ERROR, logger="workup")
        answers = [client.post("/v1/recommend", json=body) for _ in range(40)]
        refused = [r for r in answers if r.status_code != 200]
        assert refused, "the disk was full but every consultation was acknowledged"
        for r in refused:
            assert r.status_code == 503
            err = r.json()["error"]
            assert err["code"] == "SV503" and str(audit) in err["message"]
            assert r.headers["retry-after"].isdigit()
        logged = [rec for rec in caplog.records if rec.levelno >= logging.ERROR]
        assert len(logged) == 1 and "SV503" in logged[0].getMessage()
        assert not any(rec.exc_info for rec in caplog.records)

        filler.unlink()
        after = [client.post("/v1/recommend", json=body).status_code for _ in range(20)]
        assert after == [200] * 20
        stored = app.state.workup.store.consult_ids()
        acknowledged = [r.headers.get("x-workup-consult-id") for r in answers if r.status_code == 200]
        assert all(c in stored for c in acknowledged if c)
    finally:
        app.state.workup.store.close()


def test_outage_log_reports_once_per_interval_with_the_count():
    now = [0.0]
    out = OutageLog(interval=60, clock=lambda: now[0])
    assert [out.failed("x") for _ in range(5)] == [True, False, False, False, False]
    now[0] = 61
    assert out.failed("x") is True


@pytest.mark.parametrize(
    "exc, full",
    [
        (OSError(errno.ENOSPC, "No space left on device"), True),
        (Exception("(sqlite3.OperationalError) database or disk is full"), True),
        (OSError(errno.EACCES, "Permission denied"), False),
        (ValueError("bad"), False),
    ],
)
def test_is_disk_full_reads_the_cause(exc, full):
    assert is_disk_full(exc) is full
