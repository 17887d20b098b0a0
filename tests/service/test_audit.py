"""The audit log: pure records, SQLite (WAL, durable) and PostgreSQL stores, export, CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from datetime import date, datetime, timezone

import pytest
from typer.testing import CliRunner

from service_helpers import seed_facts

from workup.audit.record import consultation_record, feedback_record, rating_entry
from workup.audit.store import AuditStore, export_text

POSTGRES_URL = os.environ.get("WORKUP_TEST_POSTGRES_URL", "postgresql+psycopg://workup:workup@127.0.0.1:5432/workup_test")
AT = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def _rec():
    from workup.engine import evaluate
    from workup.intake import parse_facts
    from workup.kb import load

    kb = load()
    return evaluate(parse_facts(seed_facts(), kb), kb, date(2026, 1, 1), "MRI Cervical Spine Without IV Contrast")


def _record(consult_id: str | None = None) -> dict:
    rec = _rec()
    return consultation_record(
        consult_id=consult_id or f"urn:uuid:{uuid.uuid4()}", at=AT, content_version=rec.content_version,
        hook="order-sign", service="workup-order-sign", hook_instance="hi-1",
        order_codes=["http://loinc.org|30667-0"], ratings=[rating_entry("http://loinc.org|30667-0", rec, "appropriate")],
        cards=[{"uuid": str(uuid.uuid4()), "indicator": "info", "suggestions": 0}],
    )


def test_consultation_record_holds_codes_and_ratings_only():
    r = _record("urn:uuid:1")
    assert r["created_at"] == "2026-01-01T12:00:00.000Z"
    assert r["status"] == "rated" and r["variant"] == "cervical-pain-3"
    assert r["ratings"] == [{"order": "http://loinc.org|30667-0", "status": "rated", "variant": "cervical-pain-3",
                             "procedure": "mri-cervical-spine-without-iv-contrast", "rating": 7,
                             "category": "usually-appropriate", "pama": "appropriate"}]
    assert "facts" not in json.dumps(r)  # no patient facts in the audit log


def test_feedback_record_drops_the_free_text_comment():
    item = {"card": "c1", "outcome": "overridden", "outcomeTimestamp": "t",
            "overrideReason": {"reason": {"code": "x", "system": "s", "display": "d"}, "userComment": "private words"}}
    r = feedback_record(item, consult_id="urn:uuid:1", at=AT)
    assert r["override_code"] == "x" and "private words" not in json.dumps(r)


def _exercise(store: AuditStore) -> None:
    a, b = _record(), _record()
    store.record_consultation(a)
    store.record_consultation(b)
    assert {a["consult_id"], b["consult_id"]} <= store.consult_ids()
    card = a["cards"][0]["uuid"]
    assert store.consult_for_card(card) == a["consult_id"]
    fb = feedback_record({"card": card, "outcome": "accepted", "outcomeTimestamp": "2026-01-01T12:01:00Z"},
                         consult_id=a["consult_id"], at=AT)
    assert store.record_feedback(fb) is True
    assert store.record_feedback(fb) is False  # idempotent
    got = store.consultation(a["consult_id"])
    assert got["ratings"] == a["ratings"] and got["order_codes"] == a["order_codes"]
    assert [f["outcome"] for f in got["feedback"]] == ["accepted"]


def test_sqlite_store_uses_wal_and_full_sync(tmp_path):
    store = AuditStore(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    _exercise(store)
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    store.close()


def _hold_writer(store: AuditStore):
    """Block the writer thread inside a transaction until the returned event is set."""
    import threading

    started, release = threading.Event(), threading.Event()

    def blocker(_conn):
        started.set()
        release.wait(10)

    t = threading.Thread(target=store._write, args=(blocker,))
    t.start()
    assert started.wait(10)
    return release, t


def _require_postgres() -> None:
    """Skip unless the test PostgreSQL server answers (CI starts one with scripts/ci/setup-postgres.sh)."""
    pytest.importorskip("psycopg")
    from sqlalchemy import create_engine, text

    try:
        eng = create_engine(POSTGRES_URL)
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
        eng.dispose()
    except Exception as e:  # no server
        pytest.skip(f"PostgreSQL not available at {POSTGRES_URL.split('@')[-1]}: {type(e).__name__}")


def _postgres_store() -> AuditStore:
    _require_postgres()
    return AuditStore(POSTGRES_URL)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _store_for(backend: str, tmp_path) -> AuditStore:
    return AuditStore(f"sqlite:///{tmp_path / 'a.sqlite3'}") if backend == "sqlite" else _postgres_store()


@pytest.mark.parametrize("backend", BACKENDS)
def test_concurrent_consultations_are_committed_in_one_batch_of_multirow_inserts(tmp_path, backend):
    import asyncio

    store = _store_for(backend, tmp_path)
    records = [_record() for _ in range(150)]  # more than one multi-row INSERT (64 rows) per table

    async def go():
        release, t = _hold_writer(store)
        pending = [asyncio.ensure_future(store.arecord_consultation(r)) for r in records]
        await asyncio.sleep(0.05)
        assert not any(p.done() for p in pending)  # nothing acknowledged before the commit
        release.set()
        await asyncio.gather(*pending)
        t.join()

    asyncio.run(go())
    for r in records:
        got = store.consultation(r["consult_id"])
        assert {k: got[k] for k in r} == r
        assert store.consult_for_card(r["cards"][0]["uuid"]) == r["consult_id"]
    store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failed_batch_acknowledges_none_of_its_consultations(tmp_path, backend):
    import asyncio

    from sqlalchemy.exc import IntegrityError

    store = _store_for(backend, tmp_path)
    a, b = _record(), _record()
    dup = dict(_record(), consult_id=a["consult_id"])  # same id twice: the batch cannot commit

    async def go():
        release, t = _hold_writer(store)
        pending = [asyncio.ensure_future(store.arecord_consultation(r)) for r in (a, b, dup)]
        await asyncio.sleep(0.05)
        release.set()
        results = await asyncio.gather(*pending, return_exceptions=True)
        t.join()
        return results

    results = asyncio.run(go())
    assert all(isinstance(r, IntegrityError) for r in results)
    assert not store.consult_ids() & {a["consult_id"], b["consult_id"]}
    store.close()


def test_export_jsonl_and_csv_round_trip(tmp_path):
    store = AuditStore(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    _exercise(store)
    lines = [json.loads(x) for x in export_text(store, "jsonl").splitlines()]
    assert len(lines) == 2 and all(x["hook"] == "order-sign" for x in lines)
    rows = list(csv.DictReader(io.StringIO(export_text(store, "csv"))))
    assert len(rows) == 2
    assert json.loads(rows[0]["ratings"])[0]["rating"] == 7
    store.close()


def test_cli_export(tmp_path, monkeypatch):
    from workup.cli import app

    db = tmp_path / "a.sqlite3"
    store = AuditStore(f"sqlite:///{db}")
    store.record_consultation(_record("urn:uuid:cli-1"))
    store.close()
    monkeypatch.setenv("WORKUP_AUDIT_PATH", str(db))
    from workup.service.config import get_settings

    get_settings.cache_clear()
    try:
        out = CliRunner().invoke(app, ["audit-log", "export", "--format", "jsonl"])
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout.splitlines()[0])["consult_id"] == "urn:uuid:cli-1"
        out = CliRunner().invoke(app, ["audit-log", "export", "--format", "csv", "--database-url", f"sqlite:///{db}"])
        assert out.stdout.splitlines()[0].startswith("consult_id,created_at")
        bad = CliRunner().invoke(app, ["audit-log", "export", "--format", "xml"])
        assert bad.exit_code == 2
    finally:
        get_settings.cache_clear()


@pytest.mark.postgres
def test_postgres_store(tmp_path):
    store = _postgres_store()
    _exercise(store)
    assert len(export_text(store, "jsonl").splitlines()) >= 2
    store.close()


@pytest.mark.postgres
def test_service_on_postgres(make_client):
    _require_postgres()
    from workup.service.deps import new_uuid

    c = make_client(new_id=new_uuid, database_url=POSTGRES_URL)  # the database outlives the test run
    r = c.post("/v1/recommend", json={"facts": seed_facts(), "order": "MRI Cervical Spine Without IV Contrast"})
    assert r.status_code == 200
    rec = c.app.state.workup.store.consultation(r.headers["x-workup-consult-id"])
    assert rec["ratings"][0]["rating"] == 7
