"""The Spark engine: the same per-order function on PySpark, Parquet in and out.

The input is numbered and staged as Parquet, Spark runs :class:`OrderAuditor` over it with
``mapInArrow`` (one auditor, so one workup pipeline and one memo, per Python worker: Spark
reuses its workers), and writes Parquet. The driver then reads that back in row order and
hands it to the same collector as the local engine, so orders.parquet, orders.csv,
summary.json and report.html are the same bytes as the local engine's.

On a cluster, install workup (``pip install 'workup[spark]'``) on every node and run
``workup audit orders log.parquet --out DIR --engine spark --spark-master spark://HOST:7077``
(or ``yarn``) from a node that can reach it; see docs/audit.md.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

from workup.audit.io import CHUNK_ROWS
from workup.audit.orders import BOOL_COLUMNS, COLUMNS, FIELDS, INT_COLUMNS, READ_FIELDS
from workup.errors import WorkupError

_AUDITOR = None  # this Python worker's OrderAuditor, built on its first batch
_REFUSAL = ("refused_code", "refused_message")
# In local mode the driver's JVM is the executor and shares the cores with the Python
# workers; it only moves rows (Parquet, the shuffle, Arrow), so its tiered JIT and parallel
# GC threads are mostly start-up cost: C1 alone and the serial collector halve its CPU
# (about 16 to 8 s a run on 2 vCPUs), which is then the workers'.
LOCAL_JAVA_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
# A user's own driver options (spark-defaults.conf) are kept: ours go first and a collector or
# JIT level the user chose wins (two collectors would stop the JVM).
_GC_FLAG = re.compile(r"-XX:\+Use\w*GC\b")
_JIT_FLAG = re.compile(r"-XX:TieredStopAtLevel=")
PARTITION_ROWS = 5_000  # rows a partition at most (a few seconds of a worker): the last ones end together


def driver_java_options(user: str | None) -> str:
    """The local driver's JVM options: :data:`LOCAL_JAVA_OPTIONS`, then the user's own.

    A flag of ours that the user's options already decide (a garbage collector, the JIT tier) is
    left out, so the user's choice stands and the JVM never sees two collectors.

    >>> driver_java_options("-Dfoo=1 -XX:+UseG1GC")
    '-XX:TieredStopAtLevel=1 -Dfoo=1 -XX:+UseG1GC'
    """
    user = (user or "").strip()
    ours = [f for f in LOCAL_JAVA_OPTIONS.split()
            if not ((_GC_FLAG.match(f) and _GC_FLAG.search(user)) or (_JIT_FLAG.match(f) and _JIT_FLAG.search(user)))]
    return " ".join(ours + ([user] if user else []))


def _spark_defaults(key: str) -> str | None:
    """``key`` from the user's ``spark-defaults.conf`` ($SPARK_CONF_DIR, else $SPARK_HOME/conf), if set."""
    conf_dir = os.environ.get("SPARK_CONF_DIR") or (
        str(Path(os.environ["SPARK_HOME"]) / "conf") if os.environ.get("SPARK_HOME") else None)
    if not conf_dir:
        return None
    try:
        lines = (Path(conf_dir) / "spark-defaults.conf").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    value = None
    for line in lines:
        parts = line.strip().split(None, 1)
        if len(parts) == 2 and parts[0] == key:
            value = parts[1].strip()
    return value


class SparkError(WorkupError):
    """Spark could not be started or failed (coded AU5xx)."""


def _arrow_schema():
    import pyarrow as pa

    cols = [(c, pa.int64() if c in INT_COLUMNS else pa.bool_() if c in BOOL_COLUMNS else pa.string()) for c in COLUMNS]
    return pa.schema(cols + [(c, pa.string()) for c in _REFUSAL])


def _spark_schema() -> str:
    kinds = {c: "bigint" if c in INT_COLUMNS else "boolean" if c in BOOL_COLUMNS else "string" for c in COLUMNS}
    return ", ".join([f"{c} {kinds[c]}" for c in COLUMNS] + [f"{c} string" for c in _REFUSAL])


def audit_batches(batches: Iterator, settings: tuple[str | None, str | None, bool]) -> Iterator:
    """``mapInArrow`` function: numbered input batches → audited batches (orders and refusals)."""
    import pyarrow as pa

    global _AUDITOR
    pack, as_of, use_imported = settings
    if _AUDITOR is None:
        from workup.audit.orders import OrderAuditor
        from workup.kb import load

        imported = None
        if use_imported:
            from workup.imported.pack import load_imported

            imported = load_imported()
        _AUDITOR = OrderAuditor(load(Path(pack) if pack else None), imported, date.fromisoformat(as_of) if as_of else None)
    schema = _arrow_schema()
    for batch in batches:
        data = batch.to_pydict()
        out = []
        for i, number in enumerate(data["row"]):
            row = {f: data[f][i] or "" for f in FIELDS + READ_FIELDS}
            o, bad = _AUDITOR.audit(row, number)
            if o is None:
                o = {c: None for c in COLUMNS} | {"row": number, "order_id": bad["order_id"],
                                                  "refused_code": bad["code"], "refused_message": bad["message"]}
            out.append(o)
        yield pa.RecordBatch.from_pylist(out, schema=schema)


def _stage(chunks: Iterable[list[dict[str, str]]], path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    fields = FIELDS + READ_FIELDS  # a reader's source and refusal go to the worker with the row
    schema = pa.schema([("row", pa.int64())] + [(f, pa.string()) for f in fields])
    n = 0
    with pq.ParquetWriter(path, schema) as w:
        for chunk in chunks:
            cols = {"row": list(range(n + 1, n + 1 + len(chunk)))} | {f: [r.get(f, "") for r in chunk] for f in fields}
            w.write_table(pa.table(cols, schema=schema))
            n += len(chunk)
    return n


def run_spark(chunks: Iterable[list[dict[str, str]]], sink: Callable[[list, list], None], out: Path, *,
              master: str = "local[*]", pack: Path | None = None, as_of: date | None = None,
              use_imported: bool = True, advance: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Audit every row on Spark; hand ``(orders, refusals)`` to ``sink`` in input order, chunked as the local engine.

    Raises:
        SparkError: pyspark is not installed or Spark fails.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkError("--engine spark needs pyspark: pip install 'workup[spark]'", code="AU501") from None
    import pyarrow.dataset as ds

    work = out / "_spark"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        rows_in = _stage(chunks, work / "input.parquet")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = SparkSession.builder.master(master).appName("workup-audit")
        if master.startswith("local"):  # a local run stays on loopback
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            builder = (builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                       .config("spark.driver.extraJavaOptions",
                               driver_java_options(_spark_defaults("spark.driver.extraJavaOptions"))))
        try:
            spark = (builder
                     .config("spark.ui.enabled", "false")
                     .config("spark.sql.shuffle.partitions", "8")
                     .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1000")
                     .config("spark.sql.files.maxPartitionBytes", str(256 << 10))
                     .getOrCreate())
        except Exception as e:  # noqa: BLE001 - Java missing, a bad master URL …
            raise SparkError(f"cannot start Spark ({master}): {type(e).__name__}: {str(e)[:300]}", code="AU502") from None
        try:
            spark.sparkContext.setLogLevel("ERROR")
            settings = (str(pack) if pack else None, as_of.isoformat() if as_of else None, use_imported)
            # Several partitions per core and none large, so the last does not run alone, hashed
            # on the indication so each text is read by one worker and its memo (rows are put
            # back in order by the driver: the partitioning never shows in the output).
            parts = max(2, spark.sparkContext.defaultParallelism * 4, -(-rows_in // PARTITION_ROWS))
            df = spark.read.parquet(str(work / "input.parquet")).repartition(parts, "indication")
            res = df.mapInArrow(lambda it: audit_batches(it, settings), _spark_schema())
            res.write.mode("overwrite").parquet(str(work / "orders"))
        except Exception as e:  # noqa: BLE001 - a failed Spark job is one coded error
            raise SparkError(f"the Spark job failed: {type(e).__name__}: {str(e)[:500]}", code="AU503") from None
        finally:
            spark.stop()
        table = ds.dataset(str(work / "orders"), format="parquet").to_table().sort_by("row")
        for start in range(0, table.num_rows, CHUNK_ROWS):
            part = table.slice(start, CHUNK_ROWS).to_pylist()
            orders = [{c: r[c] for c in COLUMNS} for r in part if r["refused_code"] is None]
            refused = [{"row": r["row"], "order_id": r["order_id"] or "", "code": r["refused_code"],
                        "message": r["refused_message"]} for r in part if r["refused_code"] is not None]
            sink(orders, refused)
            if advance is not None:
                advance(len(part))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"rows_in": rows_in, "memo_hits": None, "memo_misses": None}
