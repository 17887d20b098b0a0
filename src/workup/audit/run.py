"""``workup audit orders``: an order log (CSV, Parquet or FHIR Bulk NDJSON) in, orders.parquet /
orders.csv / refused.csv / summary.json / report.html out, with either engine.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Mapping

from workup.audit.bulk import BulkInput, is_ndjson, order_rows
from workup.audit.io import is_parquet, read_chunks
from workup.audit.orders import FIELDS, REQUIRED
from workup.errors import IntakeError

ENGINES = ("local", "spark")


def column_map(options: list[str] | None) -> dict[str, str]:
    """Field → input column, from ``FIELD=COLUMN`` options over the defaults (the field names).

    Raises:
        IntakeError: an option is not FIELD=COLUMN or names an unknown field.
    """
    cols = {f: f for f in FIELDS}
    for item in options or ():
        f, sep, c = item.partition("=")
        f, c = f.strip(), c.strip()
        if not sep or not c:
            raise IntakeError(f"--column takes FIELD=COLUMN, got {item!r}", code="IN265")
        if f not in cols:
            raise IntakeError(f"--column: unknown field {f!r}; fields: {', '.join(FIELDS)}", code="IN266")
        cols[f] = c
    return cols


def count_rows(path: Path) -> int | None:
    """The input's row count for the progress bar (Parquet metadata; CSV line count less the header)."""
    try:
        if is_parquet(path):
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        with path.open("rb") as f:
            return max(0, sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b"")) - 1)
    except Exception:  # noqa: BLE001 - only the progress bar's total
        return None


def audit_orders(src: Path, out: Path, *, columns: Mapping[str, str] | None = None, engine: str = "local",
                 workers: int | None = None, as_of: date | None = None, pack: Path | None = None,
                 use_imported: bool = True, spark_master: str = "local[*]", progress: bool = True,
                 report: bool = True) -> dict[str, Any]:
    """Audit every order of ``src`` into ``out``; return the summary with the run's memo counts.

    Raises:
        IntakeError: the input cannot be read, a required column is missing, or the engine is unknown.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from workup.audit.collect import Collector

    if engine not in ENGINES:
        raise IntakeError(f"--engine must be one of {', '.join(ENGINES)}", code="IN267")
    columns = dict(columns or column_map(None))
    if is_ndjson(src):
        if columns != column_map(None):
            raise IntakeError("--column maps CSV and Parquet columns; FHIR NDJSON input has fixed fields", code="IN268")
        bulk = BulkInput(src)  # the first pass: the patients, and the number of rows
        # the second: lines parsed here, each ServiceRequest validated by the engine's workers
        chunks, total, prepare = bulk.lines(), bulk.rows, order_rows
    else:
        chunks, total, prepare = read_chunks(src, columns, REQUIRED), None, None
    first = next(chunks, None)  # a missing file or column fails here, before any output is made
    out.mkdir(parents=True, exist_ok=True)
    sink = Collector(out)

    def all_chunks():
        if first is not None:
            yield first
            yield from chunks

    with Progress(TextColumn("auditing orders"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  disable=not progress, transient=False) as bar:
        task = bar.add_task("orders", total=total if total is not None else count_rows(src))

        def advance(n: int) -> None:
            bar.advance(task, n)

        if engine == "spark":
            from workup.audit.spark import run_spark

            rows = all_chunks() if prepare is None else map(prepare, all_chunks())  # the driver stages rows
            stats = run_spark(rows, sink.add, out, master=spark_master, pack=pack, as_of=as_of,
                              use_imported=use_imported, advance=advance)
        else:
            from workup.audit.local import run_local

            stats = run_local(all_chunks(), sink.add, workers=workers, pack=pack, as_of=as_of,
                              use_imported=use_imported, advance=advance, prepare=prepare)
    summary = sink.close(stats["rows_in"])
    if report:
        from workup.audit.report import write_report

        write_report(sink, summary, out / "report.html")
    return {**summary, "refused": sink.refused_first, "memo_hits": stats.get("memo_hits"), "memo_misses": stats.get("memo_misses")}
