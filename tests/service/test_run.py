"""How many worker processes ``workup serve`` starts."""

from __future__ import annotations

from workup.service import run
from workup.service.config import Settings


def test_one_worker_per_cpu_by_default(monkeypatch, tmp_path):
    monkeypatch.setattr(run, "available_cpus", lambda: 2)
    assert run.worker_count(Settings(audit_path=tmp_path / "a.sqlite3")) == 2
    monkeypatch.setattr(run, "available_cpus", lambda: 64)
    assert run.worker_count(Settings(audit_path=tmp_path / "a.sqlite3")) == run.MAX_DEFAULT_WORKERS


def test_the_setting_wins(monkeypatch, tmp_path):
    monkeypatch.setattr(run, "available_cpus", lambda: 2)
    assert run.worker_count(Settings(audit_path=tmp_path / "a.sqlite3", workers=3)) == 3
    assert run.worker_count(Settings(audit_path=tmp_path / "a.sqlite3", workers=0)) == 1


def test_an_in_memory_audit_log_cannot_be_shared_so_one_worker(monkeypatch):
    monkeypatch.setattr(run, "available_cpus", lambda: 4)
    assert run.worker_count(Settings(database_url="sqlite:///:memory:", workers=4)) == 1


def test_command_line_overrides_reach_the_settings(monkeypatch):
    run.get_settings.cache_clear()
    monkeypatch.delenv("WORKUP_WORKERS", raising=False)
    s = run.settings_for(host="0.0.0.0", port=9000, dev_insecure=True, workers=2)
    assert (s.host, s.port, s.dev_insecure, s.workers) == ("0.0.0.0", 9000, True, 2)
    run.get_settings.cache_clear()


def test_a_worker_builds_the_language_pipeline_before_serving(tmp_path, monkeypatch):
    from workup.intake import pipeline

    monkeypatch.setattr(pipeline, "_PIPELINE", None)  # as in a freshly spawned worker
    monkeypatch.setenv("WORKUP_AUDIT_PATH", str(tmp_path / "a.sqlite3"))
    monkeypatch.delenv("WORKUP_SUPERVISOR_PID", raising=False)
    run.get_settings.cache_clear()
    import gc

    import sys

    thresholds, interval = gc.get_threshold(), sys.getswitchinterval()
    try:
        app = run.worker_app()
        assert pipeline._PIPELINE is not None
        assert app.state.workup.store.url.endswith("a.sqlite3")
        # tuned for serving: rare young collections, a short GIL switch interval for the audit writer
        assert gc.get_threshold() == run.GC_THRESHOLDS and sys.getswitchinterval() == run.SWITCH_INTERVAL
        app.state.workup.store.close()
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
        sys.setswitchinterval(interval)
        run.get_settings.cache_clear()


def test_each_worker_opens_its_own_socket_on_the_shared_port():
    import pickle
    import socket

    a = pickle.loads(pickle.dumps(run.ReusePortListener("127.0.0.1", 0)))
    try:
        port = a.getsockname()[1]
        assert a.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        a.listen()
        b = pickle.loads(pickle.dumps(run.ReusePortListener("127.0.0.1", port)))  # a second worker
        b.listen()
        assert b.getsockname()[1] == port
        assert not run.port_is_free("127.0.0.1", port)  # a second server would refuse to start
        b.close()
    finally:
        a.close()
    assert run.port_is_free("127.0.0.1", port)


def test_a_second_server_on_a_port_in_use_refuses_to_start(monkeypatch, tmp_path):
    import pytest

    held = run.reuse_port_socket("127.0.0.1", 0)  # as a running workup serve's worker holds it
    held.listen()
    port = held.getsockname()[1]
    monkeypatch.setenv("WORKUP_AUDIT_PATH", str(tmp_path / "a.sqlite3"))
    for k in ("WORKUP_HOST", "WORKUP_PORT", "WORKUP_SUPERVISOR_PID"):  # serve() sets these: restored after the test
        monkeypatch.setenv(k, "")
    monkeypatch.delenv("WORKUP_PORT")
    run.get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as e:
            run.serve(host="127.0.0.1", port=port, workers=2)
        assert e.value.code == 3
    finally:
        held.close()
        run.get_settings.cache_clear()


def _cli(args, env, tmp_path):
    """Run the real CLI in a child process with ``env`` laid over a clean WORKUP_* environment."""
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith("WORKUP_")}
    return subprocess.run([sys.executable, "-m", "workup.cli", *args], env={**base, **env}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_a_wrong_setting_is_a_coded_error_naming_each_variable(tmp_path):
    p = _cli(["serve", "--dev-insecure"], {"WORKUP_PORT": "eighty", "WORKUP_WORKERS": "many"}, tmp_path)
    assert p.returncode == 2, p.stderr
    assert "SV502" in p.stderr and "WORKUP_PORT" in p.stderr and "WORKUP_WORKERS" in p.stderr
    assert "Traceback" not in p.stderr and "WK999" not in p.stderr


def test_an_audit_log_that_cannot_be_opened_stops_the_server_before_any_worker_starts(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the log's folder should be")
    p = _cli(["serve", "--dev-insecure", "--port", "0"], {"WORKUP_AUDIT_PATH": str(blocker / "audit.sqlite3")}, tmp_path)
    assert p.returncode == 2, p.stderr
    assert "SV501" in p.stderr and str(blocker) in "".join(p.stderr.split())  # however the message is wrapped
    assert "Traceback" not in p.stderr and "worker process" not in p.stderr
    p = _cli(["serve", "--dev-insecure", "--port", "0"], {"WORKUP_AUDIT_PATH": str(tmp_path)}, tmp_path)  # a folder, not a file
    assert p.returncode == 2 and "SV501" in p.stderr and "Traceback" not in p.stderr


def test_settings_errors_are_service_errors(monkeypatch):
    import pytest

    from workup.errors import ServiceError

    run.get_settings.cache_clear()
    monkeypatch.setenv("WORKUP_MAX_BODY_BYTES", "lots")
    try:
        with pytest.raises(ServiceError) as e:
            run.get_settings()
        assert e.value.code == "SV502" and e.value.details[0]["where"] == "WORKUP_MAX_BODY_BYTES"
    finally:
        run.get_settings.cache_clear()
