"""The ``workup kb import``, ``kb imported`` and ``kb drift`` commands (thin wrappers).

Registered on the ``kb`` command group by :mod:`workup.cli`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from workup.errors import KnowledgeError, WorkupError

import_app = typer.Typer(no_args_is_help=True, help="Import a licensed guideline table into the data directory.")


def _fail(err: WorkupError, fmt: str = "text") -> None:
    if fmt == "json":
        sys.stdout.write(json.dumps(err.to_dict(), ensure_ascii=False) + "\n")
    else:
        Console(stderr=True, highlight=False).print(f"[bold red]error[/] {err}", markup=True)
    raise typer.Exit(2)


def imported_answer(topic: str | None, variant: int | None, as_of, order: str | None):
    """The recommendation for ``--topic T --variant N`` from the imported table.

    Raises:
        KnowledgeError: KB175 when nothing is imported; EvaluationError when the topic or variant is not there.
    """
    from workup.errors import EvaluationError
    from workup.imported.answer import answer
    from workup.imported.pack import load_imported

    if topic is None or variant is None:
        raise EvaluationError("--topic and --variant go together", code="EV322")
    pack = load_imported()
    if pack is None:
        raise KnowledgeError("nothing is imported; run `workup kb import acr FILE` first", code="KB175")
    return answer(pack, topic, variant, as_of, order)


def imported_guide(variant_id: str) -> str:
    """The guide for an imported variant id (``acr-<topic>-<n>``) as Markdown.

    Raises:
        KnowledgeError: KB175 when nothing is imported; EvaluationError EV311 for an unknown id.
    """
    from workup.errors import EvaluationError
    from workup.imported.guide import imported_variant, render_imported_guide
    from workup.imported.pack import load_imported

    pack = load_imported()
    if pack is None:
        raise KnowledgeError("nothing is imported; run `workup kb import acr FILE` first", code="KB175")
    found = imported_variant(pack, variant_id)
    if found is None:
        raise EvaluationError(f"unknown variant {variant_id!r}; see `workup kb imported`", code="EV311")
    return render_imported_guide(pack, *found)


def summary(pack) -> dict:
    """What an imported pack holds, as a JSON-ready mapping."""
    panels: dict[str, int] = {}
    for t in pack.topics.values():
        for p in t.panels:
            panels[p] = panels.get(p, 0) + 1
    return {
        "version": pack.version,
        "sha256": pack.sha256,
        "source": pack.source_name,
        "topics": len(pack.topics),
        "variants": pack.variant_count(),
        "ratings": pack.rating_count(),
        "table_rows": pack.raw_rows,
        "rows_collapsed": pack.collapsed,
        "topics_renamed": pack.renamed_topics,
        "topics_by_panel": dict(sorted(panels.items())),
    }


@import_app.command("acr")
def import_acr(
    file: Path = typer.Argument(..., help="The licensed ACR table: CSV (UTF-8) or XLSX, with the ACR export's columns."),
    fmt: str = typer.Option("text", "--format", help="text | json"),
) -> None:
    """Import a licensed ACR Appropriateness Criteria table into the data directory (WORKUP_DATA_DIR)."""
    from workup.imported.pack import import_table, pack_path

    err = Console(stderr=True, highlight=False)
    try:
        if err.is_terminal:
            from rich.progress import Progress

            with Progress(console=err, transient=True) as bar:
                task = bar.add_task(f"reading {file.name}", total=None)
                pack = import_table(file, progress=lambda done, total: bar.update(task, completed=done, total=total))
        else:
            pack = import_table(file, progress=None)
    except WorkupError as e:
        _fail(e, fmt)
        return
    from workup.imported.route import Router

    s = {**summary(pack), "variants_not_fully_compiled": len(Router(pack).uncompiled())}
    if fmt == "json":
        sys.stdout.write(json.dumps({**s, "path": str(pack_path())}, ensure_ascii=False, indent=2) + "\n")
        return
    sys.stdout.write(
        f"{s['variants_not_fully_compiled']} variant(s) have wording no routing condition was read from "
        "(`workup kb imported --uncompiled` lists them)\n"
        f"imported {s['topics']} topics, {s['variants']} variants, {s['ratings']} rated rows "
        f"from {s['table_rows']} table rows ({s['rows_collapsed']} duplicate rows collapsed, "
        f"{len(s['topics_renamed'])} topic spellings normalised)\n"
        f"content version {s['version']} (sha256 {s['sha256']})\nwritten to {pack_path()}\n")


def imported(
    fmt: str = typer.Option("text", "--format", help="text | json"),
    uncompiled: bool = typer.Option(False, "--uncompiled", help="List the variants not fully compiled for routing, and why."),
) -> None:
    """Say what is imported in the data directory (WORKUP_DATA_DIR)."""
    from workup.imported.pack import data_dir, load_imported, pack_path

    try:
        pack = load_imported()
    except WorkupError as e:
        _fail(e, fmt)
        return
    if pack is None:
        if fmt == "json":
            sys.stdout.write(json.dumps({"imported": None, "data_dir": str(data_dir())}) + "\n")
        else:
            sys.stdout.write(f"nothing imported in {data_dir()}; run `workup kb import acr FILE` with your "
                             "licensed ACR table\n")
        return
    if uncompiled:
        from workup.imported.route import Router

        items = [{"variant": c.variant.id, "not_read": list(c.uncompiled)} for c in Router(pack).uncompiled()]
        if fmt == "json":
            sys.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
        else:
            for it in items:
                sys.stdout.write(f"{it['variant']}: no condition read from: {' | '.join(it['not_read'])}\n")
            sys.stdout.write(f"{len(items)} variant(s) not fully compiled\n")
        return
    s = summary(pack)
    if fmt == "json":
        sys.stdout.write(json.dumps({**s, "path": str(pack_path())}, ensure_ascii=False, indent=2) + "\n")
        return
    sys.stdout.write(f"{pack_path()}\ncontent version {s['version']}\nsource {s['source']} (sha256 {s['sha256']})\n"
                     f"{s['topics']} topics, {s['variants']} variants, {s['ratings']} rated rows\n")
    for panel, n in s["topics_by_panel"].items():
        sys.stdout.write(f"  {panel:28} {n} topic(s)\n")
    for raw, title in s["topics_renamed"].items():
        sys.stdout.write(f"  topic {raw!r} read as {title!r}\n")


def drift(
    fmt: str = typer.Option("text", "--format", help="text | json"),
    pack: Optional[Path] = typer.Option(None, "--pack", help="Compare an external curated pack."),
) -> None:
    """Compare the curated packs with the imported table: every difference; exit 1 when there is any."""
    from workup.imported.drift import drift as compare
    from workup.imported.pack import load_imported
    from workup.kb import load

    try:
        table = load_imported()
        if table is None:
            raise KnowledgeError("nothing is imported; run `workup kb import acr FILE` first", code="KB175")
        items = compare(load(pack), table)
    except WorkupError as e:
        _fail(e, fmt)
        return
    if fmt == "json":
        sys.stdout.write(json.dumps({"table": table.version, "drift": items}, ensure_ascii=False, indent=2) + "\n")
    else:
        for d in items:
            sys.stdout.write(f"{d['kind']:20} {d['topic']} · Variant {d['variant']}"
                             f"{' · ' + d['procedure'] if d.get('procedure') else ''}: {d['message']}\n")
        sys.stdout.write(f"{len(items)} difference(s) between the curated packs and {table.version}\n")
    raise typer.Exit(1 if items else 0)
