"""The `workup` command line. Each command is a thin wrapper over a library function."""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from workup.consult import MAX_TEXT, consult, read_text  # noqa: F401  (re-exported: workup.cli.consult)
from workup.errors import IntakeError, WorkupError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, help="Imaging appropriateness and the post-operative spine workup.")
kb_app = typer.Typer(no_args_is_help=True, help="Inspect and check knowledge packs.")
app.add_typer(kb_app, name="kb")

from workup.imported.commands import drift as _kb_drift, import_app as _import_app, imported as _kb_imported  # noqa: E402

kb_app.add_typer(_import_app, name="import")
kb_app.command("imported")(_kb_imported)
kb_app.command("drift")(_kb_drift)

from workup.audit.commands import audit_app as _audit_app, demo_app as _demo_app  # noqa: E402

app.add_typer(_audit_app, name="audit")
app.add_typer(_demo_app, name="demo")

_FORMATS = ("text", "json", "markdown", "jsonl")


def _fail(err: WorkupError, fmt: str) -> None:
    """Print a coded error (never a traceback) and exit with status 2."""
    if fmt in ("json", "jsonl"):
        sys.stdout.write(json.dumps(err.to_dict(), ensure_ascii=False) + "\n")
    else:
        Console(stderr=True, highlight=False).print(f"[bold red]error[/] {err}", markup=True)
    raise typer.Exit(2)


def _as_of(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise IntakeError(f"--as-of must be a date as YYYY-MM-DD, got {value!r}", code="IN210") from None


def _load_kb(path: Optional[Path]):
    from workup.kb import load

    return load(path)


def _imported_pack():
    from workup.imported.pack import load_imported

    return load_imported()


def _render(rec, reading, fmt: str, width: int | None = None) -> str:
    from workup.render.document import dumps, to_document

    if fmt == "json":
        doc = to_document(rec)
        if reading is not None:
            doc["understood"] = reading.to_list()
        return dumps(doc, indent=2)
    if fmt == "markdown":
        from workup.render.markdown import render_markdown

        return render_markdown(rec, reading)
    from workup.render.text import render_text

    return render_text(rec, reading, width=width)


@app.command()
def recommend(
    text: Optional[str] = typer.Argument(None, help="The scenario in free text."),
    facts: Optional[Path] = typer.Option(None, "--facts", help="A JSON file of facts (see examples/)."),
    text_file: Optional[str] = typer.Option(None, "--text-file", help="Read the scenario text from a file ('-' for standard input)."),
    order: Optional[str] = typer.Option(None, "--order", help="An ordered procedure to rate, e.g. 'MRI Cervical Spine Without IV Contrast'."),
    fmt: str = typer.Option("text", "--format", help="text | json | markdown | jsonl (jsonl with --input)."),
    input_: Optional[Path] = typer.Option(None, "--input", help="Batch mode: a JSONL file ('-' for standard input), one {id, facts|text} per line."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Consultation date (YYYY-MM-DD); default today."),
    pack: Optional[Path] = typer.Option(None, "--pack", help="Use an external knowledge pack directory."),
    width: Optional[int] = typer.Option(None, "--width", help="Text width (default: terminal)."),
    set_: Optional[list[str]] = typer.Option(
        None, "--set", help="Correct or add a fact: FACT=VALUE (repeatable; wins over text and --facts), e.g. --set trauma=false."
    ),
    topic: Optional[str] = typer.Option(None, "--topic", help="An imported ACR topic (its title) to answer for, with --variant."),
    variant: Optional[int] = typer.Option(None, "--variant", help="The ACR variant number within --topic."),
) -> None:
    """Route a scenario to the ACR variant that applies, rate the procedures and give the next steps."""
    if fmt not in _FORMATS:
        _fail(IntakeError(f"--format must be one of {', '.join(_FORMATS)}", code="IN212"), "text")
    try:
        kb = _load_kb(pack)
        day = _as_of(as_of)
        if topic is not None or variant is not None:
            from workup.imported.commands import imported_answer

            sys.stdout.write(_render(imported_answer(topic, variant, day, order), None, fmt, width) + "\n")
            return
        if input_ is not None:
            _batch(input_, kb, day, order, fmt)
            return
        if fmt == "jsonl":
            raise IntakeError("--format jsonl goes with --input FILE.jsonl", code="IN213")
        if text_file is not None:
            if text is not None:
                raise IntakeError("give the scenario as TEXT or --text-file, not both", code="IN229")
            text = _read_text_file(text_file)
        if facts is None and text is None:
            raise IntakeError("give the scenario as TEXT, or --facts FILE.json, or --input FILE.jsonl", code="IN214")
        payload: dict[str, Any] = {}
        if facts is not None:
            payload["facts"] = _read_json(facts)
        if set_:
            given = payload.get("facts", {})
            if not isinstance(given, dict):
                raise IntakeError("the --facts file must hold a JSON object of fact id → value", code="IN203")
            payload["facts"] = {**given, **_settings(set_)}
        if text is not None:
            payload["text"] = text
        rec, reading = consult(payload, kb, day, order, imported=_imported_pack())
        sys.stdout.write(_render(rec, reading, fmt, width) + "\n")
    except WorkupError as e:
        _fail(e, fmt)


def _settings(items: list[str]) -> dict[str, Any]:
    """``--set FACT=VALUE`` pairs as facts: true/false/yes/no, numbers and JSON values as such, else text."""
    out: dict[str, Any] = {}
    for item in items:
        fact, sep, raw = item.partition("=")
        fact, raw = fact.strip(), raw.strip()
        if not sep or not fact or not raw:
            raise IntakeError(f"--set takes FACT=VALUE, got {item!r}", code="IN227")
        low = raw.lower()
        if low in ("true", "yes", "y"):
            out[fact] = True
        elif low in ("false", "no", "n"):
            out[fact] = False
        else:
            try:
                out[fact] = json.loads(raw)
            except json.JSONDecodeError:
                out[fact] = raw
    return out


def _read_text_file(name: str) -> str:
    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as e:
        raise IntakeError(f"cannot read {name}: {e.strerror}", code="IN215") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise IntakeError(f"{name} is not UTF-8 text", code="IN211") from None


def _read_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise IntakeError(f"cannot read {path}: {e.strerror}", code="IN215") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise IntakeError(f"{path} is not valid UTF-8 JSON: {e}", code="IN216") from None


def _batch(path: Path, kb, day: date, order: str | None, fmt: str) -> None:
    from workup.render.document import dumps, to_document

    if fmt != "jsonl":
        raise IntakeError("batch mode (--input) writes --format jsonl", code="IN217")
    try:
        # '-' reads the batch from standard input, as --text-file - does
        handle = contextlib.nullcontext(sys.stdin.buffer) if str(path) == "-" else path.open("rb")
    except OSError as e:
        raise IntakeError(f"cannot read {path}: {e.strerror}", code="IN215") from None
    err = Console(stderr=True, highlight=False)
    n = bad = 0
    with handle as lines:
        for lineno, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            n += 1
            ident: Any = None
            try:
                try:
                    item = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError) as e:
                    raise IntakeError(f"line {lineno} is not valid JSON: {e}", code="IN218") from None
                if isinstance(item, dict):
                    ident = item.get("id")
                rec, reading = consult(item, kb, day, order, strict=False, imported=_imported_pack())
                doc = to_document(rec)
                if reading is not None:
                    doc["understood"] = reading.to_list()
                doc = {"id": ident, **doc}
            except WorkupError as e:
                bad += 1
                doc = {"id": ident, "line": lineno, **e.to_dict()}
            sys.stdout.write(dumps(doc) + "\n")
            if n % 100 == 0:
                err.print(f"[dim]{n} scenarios…[/]")
    err.print(f"[dim]{n} scenario(s), {bad} error(s)[/]")


@app.command()
def guide(
    variant: Optional[str] = typer.Argument(None, help="A variant id, e.g. cervical-pain-3."),
    topic: Optional[str] = typer.Option(None, "--topic", help="Render the parent page of a topic instead."),
    pack: Optional[Path] = typer.Option(None, "--pack", help="Use an external knowledge pack directory."),
) -> None:
    """Render the clinician guide for a variant (or a topic's parent page) as Markdown."""
    try:
        kb = _load_kb(pack)
        from workup.render.guide import render_topic_guide, render_variant_guide

        if topic:
            if topic not in kb.topics:
                raise WorkupError(f"unknown topic {topic!r}; known: {', '.join(sorted(kb.topics))}", code="EV310")
            out = render_topic_guide(kb, topic)
        elif variant and variant.startswith("acr-") and variant not in kb.variants:
            from workup.imported.commands import imported_guide

            out = imported_guide(variant)
        elif variant:
            if variant not in kb.variants:
                raise WorkupError(f"unknown variant {variant!r}; see `workup kb variants`", code="EV311")
            out = render_variant_guide(kb, variant)
        else:
            raise WorkupError("give a VARIANT id or --topic ID", code="EV312")
        sys.stdout.write(out)
    except WorkupError as e:
        _fail(e, "text")


@kb_app.command("lint")
def kb_lint(
    pack: Optional[Path] = typer.Option(None, "--pack", help="Lint an external pack instead of the built-in one."),
    fmt: str = typer.Option("text", "--format", help="text | json"),
) -> None:
    """Report every problem in a knowledge pack; exit 1 when there is any."""
    try:
        from workup.kb.lint import lint

        kb = _load_kb(pack)
        problems = lint(kb)
    except WorkupError as e:
        _fail(e, fmt)
        return
    if fmt == "json":
        sys.stdout.write(json.dumps({"version": kb.version, "problems": problems}, ensure_ascii=False, indent=2) + "\n")
    else:
        for p in problems:
            sys.stdout.write(f"{p['where']}: {p['message']}\n")
        sys.stdout.write(f"{len(problems)} problem(s) in {kb.version}\n")
    raise typer.Exit(1 if problems else 0)


@kb_app.command("export")
def kb_export(
    fmt: str = typer.Option("csv", "--format", help="csv"),
    pack: Optional[Path] = typer.Option(None, "--pack", help="Export an external pack."),
    with_imported: bool = typer.Option(True, "--imported/--no-imported", help="Include the imported table's variants."),
) -> None:
    """Write every packed rating (and every imported variant's) as CSV rows."""
    try:
        if fmt != "csv":
            raise WorkupError("--format must be csv", code="KB110")
        from workup.imported.pack import load_imported
        from workup.kb.export import export_csv

        sys.stdout.write(export_csv(_load_kb(pack), load_imported() if with_imported else None))
    except WorkupError as e:
        _fail(e, "text")


@kb_app.command("variants")
def kb_variants(pack: Optional[Path] = typer.Option(None, "--pack")) -> None:
    """List the packed variants in the order they are tried."""
    try:
        kb = _load_kb(pack)
    except WorkupError as e:
        _fail(e, "text")
        return
    for vid in kb.order:
        v = kb.variants[vid]
        sys.stdout.write(f"{vid:24} {kb.topic_of(vid).source.title} · Variant {v.number} · {v.title}\n")


@kb_app.command("facts")
def kb_facts(pack: Optional[Path] = typer.Option(None, "--pack")) -> None:
    """List the fact vocabulary (ids, types, what happens when unknown)."""
    try:
        kb = _load_kb(pack)
    except WorkupError as e:
        _fail(e, "text")
        return
    for f in kb.facts.values():
        sys.stdout.write(f"{f.id:28} {f.type:6} {f.when_unknown:12} {f.label}\n")


# ------------------------------------------------------------------ service and audit log (issue 4)

audit_app = typer.Typer(no_args_is_help=True, help="The audit log of consultations.")
app.add_typer(audit_app, name="audit-log")


@app.command()
def serve(
    host: Optional[str] = typer.Option(None, "--host", help="Interface to listen on (default WORKUP_HOST or 127.0.0.1)."),
    port: Optional[int] = typer.Option(None, "--port", help="Port (default WORKUP_PORT or 8000)."),
    dev_insecure: bool = typer.Option(False, "--dev-insecure", help="Turn JWT checks OFF (local development only)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Worker processes (default WORKUP_WORKERS or one per CPU)."),
) -> None:
    """Start the HTTP service: JSON API and CDS Hooks (settings from WORKUP_* variables)."""
    try:
        from workup.service.run import serve as run

        run(host=host, port=port, dev_insecure=dev_insecure, workers=workers)
    except WorkupError as e:
        _fail(e, "text")


@audit_app.command("export")
def audit_log_export(
    fmt: str = typer.Option("jsonl", "--format", help="csv | jsonl"),
    database_url: Optional[str] = typer.Option(None, "--database-url", help="Default: WORKUP_DATABASE_URL or WORKUP_AUDIT_PATH."),
) -> None:
    """Write every audited consultation (with its feedback) to stdout."""
    try:
        from workup.audit.store import AuditStore
        from workup.errors import ServiceError
        from workup.service.config import get_settings

        if fmt not in ("csv", "jsonl"):
            raise ServiceError("--format must be csv or jsonl", code="SV410")
        store = AuditStore(database_url or get_settings().audit_url())
        try:
            store.export(fmt, sys.stdout)
        finally:
            store.close()
    except WorkupError as e:
        _fail(e, "text")


def _check_arguments(args: list[str]) -> None:
    """Refuse an argument that is not UTF-8 (Python holds its bad bytes as lone surrogates)."""
    for n, arg in enumerate(args, 1):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            raise IntakeError(f"argument {n} is not UTF-8 text", code="IN250") from None


def main() -> None:
    """Console entry point: coded errors only, never a traceback."""
    try:
        _check_arguments(sys.argv[1:])
        app()
    except IntakeError as e:
        Console(stderr=True, highlight=False).print(f"[bold red]error[/] {e}", markup=True)
        raise SystemExit(2) from None
    except SystemExit:
        raise
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except Exception as e:  # noqa: BLE001 - last line of defence for the user
        Console(stderr=True, highlight=False).print(
            f"error WK999: internal error ({type(e).__name__}); please report it with the input that caused it",
            markup=False,
        )
        raise SystemExit(3) from None


if __name__ == "__main__":  # pragma: no cover
    main()
