"""CLI commands of the population audit: ``workup demo order-log`` and ``workup audit orders``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from workup.errors import IntakeError, WorkupError

demo_app = typer.Typer(no_args_is_help=True, help="Synthetic data to try workup on.")
audit_app = typer.Typer(no_args_is_help=True, help="Audit a population of imaging orders.")


def _fail(err: WorkupError) -> None:
    Console(stderr=True, highlight=False).print(f"[bold red]error[/] {err}", markup=True)
    raise typer.Exit(2)


@demo_app.command("order-log")
def order_log(
    n: int = typer.Option(10_000, "--n", help="Number of orders."),
    seed: int = typer.Option(1, "--seed", help="Random seed (the same seed gives the same log)."),
    out: Path = typer.Option(..., "--out", help="Output: a .csv or .parquet file; for ndjson a .ndjson file or a directory."),
    format: Optional[str] = typer.Option(
        None, "--format", help="csv | parquet | ndjson (FHIR Bulk Patient + ServiceRequest). Default: from --out's name."),
) -> None:
    """Write a synthetic order log: varied indications, codes, departments, providers with habits."""
    try:
        from workup.audit.demo import order_log as make, write_order_log

        rows = make(n, seed)
        write_order_log(rows, out, format)
        Console(stderr=True, highlight=False).print(f"{len(rows)} orders written to {out}")
    except WorkupError as e:
        _fail(e)


@audit_app.command("orders")
def orders(
    src: Path = typer.Argument(..., help="The order log: CSV, Parquet (.parquet), or FHIR Bulk NDJSON (.ndjson[.gz] or a directory)."),
    out: Path = typer.Option(..., "--out", help="Output directory."),
    column: Optional[list[str]] = typer.Option(
        None, "--column", help="Map a field to the input's column: FIELD=COLUMN (repeatable), e.g. indication=reason_text."),
    engine: str = typer.Option("local", "--engine", help="local (a process pool) | spark (PySpark)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Local worker processes (default: every core)."),
    spark_master: str = typer.Option("local[*]", "--spark-master", help="Spark master URL for --engine spark."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="One consultation date for every order (default: each order's date)."),
    pack: Optional[Path] = typer.Option(None, "--pack", help="Use an external knowledge pack directory."),
    imported: bool = typer.Option(True, "--imported/--no-imported", help="Route uncovered notes into the imported table, if any."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html."),
) -> None:
    """Rate every order of an order log; write orders.parquet, orders.csv, refused.csv, summary.json, report.html."""
    err = Console(stderr=True, highlight=False)
    try:
        from workup.audit.run import audit_orders, column_map

        day = None
        if as_of is not None:
            try:
                day = date.fromisoformat(as_of)
            except ValueError:
                raise IntakeError(f"--as-of must be a date as YYYY-MM-DD, got {as_of!r}", code="IN210") from None
        s = audit_orders(src, out, columns=column_map(column), engine=engine, workers=workers, as_of=day, pack=pack,
                         use_imported=imported, spark_master=spark_master, progress=err.is_terminal, report=report)
    except WorkupError as e:
        _fail(e)
        return
    shown = s["refused"][:20]
    for r in shown:
        err.print(f"row {r['row']} refused: {r['message']}", markup=False)
    if s["rows_refused"] > len(shown):
        err.print(f"… and {s['rows_refused'] - len(shown)} more", markup=False)
    err.print(f"{s['rows_in']} rows in = {s['rows_out']} orders out + {s['rows_refused']} refused "
              f"(see {out / 'refused.csv'})", markup=False)


@audit_app.command("consultations")
def consultations(
    out: Path = typer.Option(..., "--out", help="Output directory (consultations.json, consultations.html)."),
    database_url: Optional[str] = typer.Option(None, "--database-url", help="Default: WORKUP_DATABASE_URL or WORKUP_AUDIT_PATH."),
) -> None:
    """Summarise the service's audit log: accepted/overridden shares and override reasons by category."""
    try:
        from workup.audit.consultations import summarise, write_consultations_report
        from workup.audit.store import AuditStore
        from workup.service.config import get_settings

        store = AuditStore(database_url or get_settings().audit_url())
        try:
            s = summarise(store.consultations())
        finally:
            store.close()
        write_consultations_report(s, out)
    except WorkupError as e:
        _fail(e)
        return
    Console(stderr=True, highlight=False).print(f"{s['consultations']} consultations summarised into {out}", markup=False)
