"""The audit log store: SQLite by default (WAL, synchronous=FULL), PostgreSQL by URL.

Every write is committed before it returns, so a consultation the service has answered
survives a crash of the process (SIGKILL) and, with ``synchronous=FULL``, of the machine.
Writes from concurrent requests are group-committed: one writer thread takes every write
waiting in the queue, commits them in one transaction (one fsync), then releases each
caller; a failed commit fails every write in it, so nothing is acknowledged unless stored.
Feedback is idempotent: the same item sent twice is stored once.

The store also keeps the JWT replay log (``jti`` values until they expire), so replay
protection holds across every worker process sharing the database and across restarts.
SQLite write transactions start with ``BEGIN IMMEDIATE``: several worker processes may
write the same file, and a transaction that read first and wrote later could otherwise
fail with "database is locked" instead of waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import json
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any, Iterator, TextIO

import orjson
from sqlalchemy import (
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    event,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from workup.audit.outage import OutageLog, is_disk_full, unavailable
from workup.audit.record import CONSULTATION_FIELDS, FEEDBACK_FIELDS
from workup.errors import ServiceError

_JSON_FIELDS = {"order_codes", "ratings", "cards", "accepted_suggestions"}


def _json_text(value: Any) -> str:
    """A record field (list or mapping) as compact JSON text with sorted keys (read back with json.loads)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    except TypeError:  # beyond what orjson encodes (an integer over 64 bits): the standard library
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

metadata = MetaData()
consultations = Table(
    "workup_consultations",
    metadata,
    Column("consult_id", String(64), primary_key=True),
    Column("created_at", String(32), nullable=False, index=True),
    Column("content_version", String(64), nullable=False),
    Column("hook", String(32), nullable=False),
    Column("service", String(64), nullable=False),
    Column("hook_instance", String(128)),
    Column("status", String(32), nullable=False),
    Column("variant", String(256)),
    Column("order_codes", Text, nullable=False),
    Column("ratings", Text, nullable=False),
    Column("cards", Text, nullable=False),
)
cards = Table(
    "workup_cards",
    metadata,
    Column("card_uuid", String(64), primary_key=True),
    Column("consult_id", String(64), nullable=False, index=True),
)
feedback = Table(
    "workup_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(64), nullable=False, unique=True),
    Column("card_uuid", String(64), nullable=False),
    Column("consult_id", String(64)),
    Column("received_at", String(32), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("outcome_timestamp", String(64)),
    Column("override_code", String(128)),
    Column("override_system", String(256)),
    Column("override_display", String(512)),
    Column("accepted_suggestions", Text, nullable=False),
)
Index("ix_workup_feedback_consult", feedback.c.consult_id)
jwt_replay = Table(
    "workup_jwt_replay",
    metadata,
    Column("token_key", String(64), primary_key=True),  # sha256 of (issuer, jti): no token material stored
    Column("expires_at", Float, nullable=False, index=True),
)
meta = Table(
    "workup_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)
REPLAY_SINCE = "jwt_replay_log_since"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
    # transactions are begun explicitly (see _sqlite_begin), not by the driver
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


class _Pending:
    __slots__ = ("fn", "rows", "done", "result", "error", "notify")

    def __init__(self, fn, notify=None, rows=None) -> None:
        self.fn = fn
        self.rows = rows  # (consultation row, card rows): inserted with the batch's other rows
        # a thread waiting in submit() needs an Event; a request awaiting on the loop does not
        self.done = threading.Event() if notify is None else None
        self.result: Any = None
        self.error: BaseException | None = None
        self.notify = notify  # (loop, future): settled on the loop once the batch is committed (or failed)


class FileLock:
    """An exclusive ``flock`` on a file, held while one process writes the SQLite log.

    SQLite's own busy handler polls with sleeps of up to 100 ms, so with several worker
    processes one writer can starve for seconds while the others keep taking the lock; a
    blocking ``flock`` wakes the waiting writer as soon as the lock is free.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> "FileLock":
        import fcntl

        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        import fcntl

        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class GroupWriter:
    """One thread that commits queued writes in batches (one transaction per batch).

    Consultations (the hot path) are queued as rows and written with one multi-row
    ``INSERT`` per table and batch; other writes are functions of the connection. The
    thread holds the GIL as little as possible (each time it takes it back from a busy
    event loop may cost a thread switch interval): one statement per table, and one
    wake-up per event loop and batch to release the waiting requests.
    """

    def __init__(self, engine: Engine, max_batch: int = 256, lock: FileLock | None = None, where: str = "the audit database") -> None:
        self.engine = engine
        self.where = where
        self.outage = OutageLog()
        self._failing = False
        self.max_batch = max_batch
        self.lock = lock if lock is not None else contextlib.nullcontext()
        self.multirow = engine.dialect.name == "sqlite"
        self.queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()  # C-level put: cheap on the event loop
        self.thread = threading.Thread(target=self._run, name="workup-audit-writer", daemon=True)
        self.thread.start()

    def submit(self, fn) -> Any:
        """Run ``fn(connection)`` in the next committed batch; return its result once durable."""
        item = _Pending(fn)
        self.queue.put(item)
        item.done.wait()  # type: ignore[union-attr]  # set: submit() passes no notify
        if item.error is not None:
            raise item.error
        return item.result

    async def asubmit(self, fn=None, rows=None) -> Any:
        """Like :meth:`submit` (or insert ``rows``), awaiting the commit without holding a thread."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()
        self.queue.put(_Pending(fn, (loop, fut), rows))
        return await fut

    def _insert_rows(self, conn, batch: list[_Pending]) -> None:
        rows = [item.rows[0] for item in batch if item.rows is not None]
        card_rows = [c for item in batch if item.rows is not None for c in item.rows[1]]
        for table, values in ((consultations, rows), (cards, card_rows)):
            if not values:
                continue
            if not self.multirow:
                conn.execute(insert(table), values)
                continue
            names = list(values[0])
            one = "(" + ", ".join("?" * len(names)) + ")"
            for i in range(0, len(values), _ROWS_PER_INSERT):
                chunk = values[i:i + _ROWS_PER_INSERT]
                sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES " + ", ".join([one] * len(chunk))
                conn.exec_driver_sql(sql, tuple(v[n] for v in chunk for n in names))

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    nxt = self.queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            try:
                with self.lock, self.engine.begin() as conn:
                    self._insert_rows(conn, batch)
                    for item in batch:
                        if item.fn is not None:
                            item.result = item.fn(conn)
            except BaseException as e:  # the whole batch was rolled back: none of it is acknowledged
                if is_disk_full(e):
                    e = self._disk_full()
                for item in batch:
                    item.error = e
            else:
                if self._failing:
                    self._failing = False
                    self.outage.recovered(f"the audit log ({self.where}) is written again")
            waiting: dict[Any, list[_Pending]] = {}
            for item in batch:
                if item.done is not None:
                    item.done.set()
                if item.notify is not None:
                    waiting.setdefault(item.notify[0], []).append(item)
            for loop, items in waiting.items():
                try:
                    loop.call_soon_threadsafe(_settle, items)
                except RuntimeError:  # that event loop is closed: nobody is waiting any more
                    pass

    def _disk_full(self) -> BaseException:
        # Drop pooled connections: one that failed mid-write may keep failing after space returns.
        self._failing = True
        with contextlib.suppress(Exception):
            self.engine.dispose()
        err = unavailable(self.where)
        self.outage.failed(f"audit log write refused: {err}")
        return err

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=10)


_ROWS_PER_INSERT = 64  # 64 rows x 11 columns stays far below SQLite's limit on bound parameters


def _settle(items: list[_Pending]) -> None:
    """Release the requests waiting on a committed (or failed) batch (on their event loop)."""
    for item in items:
        fut = item.notify[1]
        if fut.done():
            continue
        if item.error is not None:
            fut.set_exception(item.error)
        else:
            fut.set_result(item.result)


class AuditStore:
    """Append-only audit log over SQLAlchemy."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            path = url.split("sqlite:///", 1)[-1]
            if path and path != ":memory:":
                try:
                    Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
                except OSError as e:
                    raise ServiceError(f"cannot open the audit log at {path}: {e.strerror or e}", code="SV501") from None
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = 10
        try:
            self.engine: Engine = create_engine(url, **kwargs)
            if self.is_sqlite:
                event.listen(self.engine, "connect", _sqlite_pragmas)
                event.listen(self.engine, "begin", _sqlite_begin)
            try:
                metadata.create_all(self.engine)
            except SQLAlchemyError:  # another worker created the tables at the same moment
                time.sleep(0.2)
                metadata.create_all(self.engine)
            self.replay_since = self._replay_since()
        except SQLAlchemyError as e:
            if self.is_sqlite:  # the file and SQLite's own words; a database URL may hold a password, so not that
                raise ServiceError(f"cannot open the audit log at {self._sqlite_path()}: {type(e).__name__} ({getattr(e, 'orig', e)})",
                                   code="SV501") from None
            raise ServiceError(f"cannot open the audit log: {type(e).__name__}", code="SV501") from None
        self._lock: FileLock | None = None
        if self.is_sqlite and self._sqlite_path() is not None and os.name == "posix":
            self._lock = FileLock(Path(str(self._sqlite_path()) + ".writelock"))
        where = str(self._sqlite_path()) if self.is_sqlite else "the audit database"
        self._writer = GroupWriter(self.engine, lock=self._lock, where=where)
        self._replay_inserts = 0

    def _sqlite_path(self) -> Path | None:
        path = self.url.split("sqlite:///", 1)[-1] if "sqlite:///" in self.url else ""
        return Path(path).expanduser() if path and path != ":memory:" else None

    def _insert_ignore(self, table: Table):
        """``INSERT … ON CONFLICT DO NOTHING`` in this database's dialect."""
        if self.is_sqlite:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        else:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        return dialect_insert(table).on_conflict_do_nothing()

    def _replay_since(self) -> float:
        """When this database began keeping the JWT replay log (set once, by the first process)."""
        with self.engine.begin() as conn:
            conn.execute(self._insert_ignore(meta), {"key": REPLAY_SINCE, "value": repr(time.time())})
            return float(conn.execute(select(meta.c.value).where(meta.c.key == REPLAY_SINCE)).scalar_one())

    def check_and_add_token(self, iss: str, jti: str, exp: float, now: float | None = None) -> bool:
        """Record a token's (issuer, jti) until ``exp``; False when it is already recorded and live.

        Shared by every process on this database; committed before it returns.
        """
        now = time.time() if now is None else now
        key = hashlib.sha256(json.dumps([iss, jti]).encode()).hexdigest()
        self._replay_inserts += 1
        purge_all = self._replay_inserts % 1000 == 0
        stmt = self._insert_ignore(jwt_replay)

        def go(conn) -> bool:
            if purge_all:
                conn.execute(delete(jwt_replay).where(jwt_replay.c.expires_at < now))
            else:
                conn.execute(delete(jwt_replay).where(jwt_replay.c.token_key == key, jwt_replay.c.expires_at < now))
            return conn.execute(stmt, {"token_key": key, "expires_at": float(exp)}).rowcount == 1

        return self._write(go)

    def _write(self, fn) -> Any:
        return self._writer.submit(fn)

    def record_consultation(self, record: dict[str, Any]) -> None:
        """Store one consultation (and its card uuids); committed when this returns."""
        row, card_rows = self._consultation_rows(record)

        def go(conn):
            conn.execute(insert(consultations), row)
            if card_rows:
                conn.execute(insert(cards), card_rows)

        self._write(go)

    async def arecord_consultation(self, record: dict[str, Any]) -> None:
        """Store one consultation; committed when the await returns."""
        await self._writer.asubmit(rows=self._consultation_rows(record))

    @staticmethod
    def _consultation_rows(record: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        row = {k: (_json_text(record[k]) if k in _JSON_FIELDS else record[k]) for k in CONSULTATION_FIELDS}
        card_rows = [{"card_uuid": c["uuid"], "consult_id": record["consult_id"]} for c in record["cards"] if c.get("uuid")]
        return row, card_rows

    def consult_for_card(self, card_uuid: str) -> str | None:
        """The consultation a card was returned in, or None."""
        with self.engine.connect() as conn:
            return conn.execute(select(cards.c.consult_id).where(cards.c.card_uuid == card_uuid)).scalar()

    def record_feedback(self, record: dict[str, Any]) -> bool:
        """Store one feedback item; returns False when the same item was already stored."""
        try:
            return self._write(self._feedback_writer(record))
        except IntegrityError:  # a concurrent duplicate won the race
            return False

    async def arecord_feedback(self, record: dict[str, Any]) -> bool:
        """Store one feedback item, linking it to the consultation its card came from."""
        try:
            return await self._writer.asubmit(self._feedback_writer(record))
        except IntegrityError:
            return False

    @staticmethod
    def _feedback_writer(record: dict[str, Any]):
        key_src = json.dumps([record["card_uuid"], record["outcome"], record["outcome_timestamp"],
                              record["override_code"], record["accepted_suggestions"]], sort_keys=True)
        row = {k: (_json_text(record[k]) if k in _JSON_FIELDS else record[k]) for k in FEEDBACK_FIELDS}
        row["dedupe_key"] = hashlib.sha256(key_src.encode()).hexdigest()

        def go(conn):
            exists = conn.execute(select(feedback.c.id).where(feedback.c.dedupe_key == row["dedupe_key"])).first()
            if exists:
                return False
            if row["consult_id"] is None:
                row["consult_id"] = conn.execute(select(cards.c.consult_id).where(cards.c.card_uuid == row["card_uuid"])).scalar()
            conn.execute(insert(feedback), row)
            return True

        return go

    def consultation(self, consult_id: str) -> dict[str, Any] | None:
        """One consultation with its feedback, or None."""
        for rec in self.consultations(consult_id=consult_id):
            return rec
        return None

    def consultations(self, consult_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Every consultation, oldest first, each with its feedback items."""
        q = select(consultations).order_by(consultations.c.created_at, consultations.c.consult_id)
        fq = select(feedback).order_by(feedback.c.id)
        if consult_id is not None:
            q = q.where(consultations.c.consult_id == consult_id)
            fq = fq.where(feedback.c.consult_id == consult_id)
        with self.engine.connect() as conn:
            fb: dict[str, list[dict]] = {}
            for r in conn.execute(fq).mappings():
                item = {k: r[k] for k in FEEDBACK_FIELDS if k != "consult_id"}
                item["accepted_suggestions"] = json.loads(item["accepted_suggestions"])
                fb.setdefault(r["consult_id"], []).append({k: v for k, v in item.items() if v is not None})
            for r in conn.execute(q).mappings():
                rec = {k: (json.loads(r[k]) if k in _JSON_FIELDS else r[k]) for k in CONSULTATION_FIELDS}
                rec["feedback"] = fb.get(r["consult_id"], [])
                yield rec

    def consult_ids(self) -> set[str]:
        """The ids of every stored consultation."""
        with self.engine.connect() as conn:
            return {r[0] for r in conn.execute(select(consultations.c.consult_id))}

    def export(self, fmt: str, out: TextIO) -> int:
        """Write every consultation as ``jsonl`` or ``csv``; returns the number written."""
        if fmt not in ("csv", "jsonl"):
            raise ServiceError("--format must be csv or jsonl", code="SV410")
        n = 0
        if fmt == "jsonl":
            for rec in self.consultations():
                out.write(json.dumps(rec, ensure_ascii=False, sort_keys=True) + "\n")
                n += 1
            return n
        fields = [*CONSULTATION_FIELDS, "feedback"]
        w = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for rec in self.consultations():
            w.writerow({k: (json.dumps(rec[k], ensure_ascii=False, sort_keys=True) if isinstance(rec[k], (list, dict)) else rec[k])
                        for k in fields})
            n += 1
        return n

    def close(self) -> None:
        """Finish pending writes and release the database connections."""
        self._writer.close()
        if self._lock is not None:
            self._lock.close()
        self.engine.dispose()


def export_text(store: AuditStore, fmt: str) -> str:
    """The export as a string (small logs and tests)."""
    buf = io.StringIO()
    store.export(fmt, buf)
    return buf.getvalue()
