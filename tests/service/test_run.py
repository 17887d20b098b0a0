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

    try:
        app = run.worker_app()
        assert pipeline._PIPELINE is not None
        assert app.state.workup.store.url.endswith("a.sqlite3")
        app.state.workup.store.close()
    finally:
        gc.unfreeze()
        run.get_settings.cache_clear()
