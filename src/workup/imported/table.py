"""Reading a licensed ACR Appropriateness Criteria table (CSV or XLSX) into clean rows.

The export is messy: topic names carry stray suffixes (``PCAs``), the same topic appears
spelled with and without a colon, and the same rated row appears under two panels, some
copies with the median or strength of evidence left blank. :func:`read_table` normalises
topic names, collapses rows that say the same thing (filling blanks from their twins), and
refuses the table when rows disagree or cannot be read, listing every problem with its row
(``file row N``, the spreadsheet row: the header is row 1).

The reading rules (column headings, suffixes, category wording) are data:
``imported/rules/table.yaml``. Nothing here is ACR content.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from workup.errors import KnowledgeError
from workup.intake.schema import Regex, Strict
from workup.problems import Problems

__all__ = ["TableRules", "TableRow", "Table", "read_table", "table_rules", "topic_key", "clean_rrl"]

Progress = Callable[[int, int], None]  # (rows done, rows in all)


class TableRules(Strict):
    """``imported/rules/table.yaml``: how the table's columns and cells are read."""

    schema_version: Literal[1]
    columns: dict[str, str]
    topic_suffixes: list[str]
    variant_pattern: Regex
    categories: dict[str, str]
    peds_rrl_suffix: str


@lru_cache(maxsize=1)
def table_rules() -> TableRules:
    """The built-in table reading rules, validated once.

    Raises:
        KnowledgeError: KB160 when the rule file is invalid.
    """
    text = resources.files("workup.imported").joinpath("rules", "table.yaml").read_text(encoding="utf-8")
    problems = Problems(prefix="imported/rules/")
    rules = problems.model("table.yaml", problems.yaml("table.yaml", text), TableRules)
    if rules is None:
        raise KnowledgeError("table reading rules are invalid", code="KB160", details=problems.items)
    return rules


@dataclass(frozen=True)
class TableRow:
    """One distinct rated procedure of one variant, with every row it was read from."""

    topic: str  # normalised topic title
    variant: int
    variant_text: str
    procedure: str
    rating: int
    category: str  # our slug
    median: float | None
    soe: str
    adult_rrl: str
    peds_rrl: str
    recommendation: str
    panels: tuple[str, ...]
    rows: tuple[int, ...]  # spreadsheet rows (header = 1)


@dataclass
class Table:
    """A read table: distinct rows, plus what normalisation did (for the import report)."""

    sha256: str
    source_name: str
    rows: list[TableRow]
    raw_rows: int
    renamed_topics: dict[str, str] = field(default_factory=dict)  # raw spelling → normalised title
    collapsed: int = 0  # rows folded into an identical (or blank-filled) twin


def topic_key(title: str) -> str:
    """The spelling-insensitive key of a topic title: letters and digits only, lower case."""
    return re.sub(r"[^0-9a-z]+", "", title.lower())


def clean_rrl(cell: str, suffix: str = "") -> str:
    """A radiation cell with single spaces and ``mSv`` set off by one space (``0.1-1mSv`` → ``0.1-1 mSv``)."""
    text = cell.replace(suffix, " ") if suffix else cell
    return " ".join(re.sub(r"\s*mSv", " mSv", text).split())


def _strip_suffixes(title: str, suffixes: list[str]) -> str:
    t = " ".join(title.split())
    for s in suffixes:
        if t.endswith(s):
            t = t[: -len(s)].rstrip()
    return t


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return f"{value:.1f}"
    return str(value)


def _csv_records(data: bytes, name: str) -> Iterator[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise KnowledgeError(f"{name} is not UTF-8 text (export the table as UTF-8 CSV)", code="KB162") from None
    yield from csv.reader(text.splitlines(keepends=True))


def _xlsx_records(path: Path) -> Iterator[list[str]]:
    try:
        from openpyxl import load_workbook
    except ImportError:  # pragma: no cover - openpyxl is a dependency
        raise KnowledgeError("reading XLSX needs openpyxl (pip install openpyxl)", code="KB163") from None
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise KnowledgeError(f"{path.name} is not a readable XLSX workbook ({type(e).__name__})", code="KB162") from None
    try:
        for values in wb.worksheets[0].iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        wb.close()


def _records(path: Path) -> tuple[str, list[list[str]]]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise KnowledgeError(f"cannot read {path}: {e.strerror}", code="KB161") from None
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return digest, list(_xlsx_records(path))
    return digest, list(_csv_records(data, path.name))


_FIELDS = ("variant_text", "rating", "category", "median", "soe", "adult_rrl", "peds_rrl", "recommendation")


def read_table(path: str | Path, progress: Progress | None = None) -> Table:
    """Read, normalise and check a licensed ACR table.

    Args:
        path: a CSV (UTF-8) or XLSX file with the ACR export's columns.
        progress: called as ``progress(done, total)`` while rows are read.

    Raises:
        KnowledgeError: KB161/KB162 when the file cannot be read; KB164 with one detail per
            problem row (unreadable cells, rows that disagree), each located by its row.
    """
    rules = table_rules()
    p = Path(path)
    digest, records = _records(p)
    name = p.name
    problems: list[dict] = []

    def problem(row: int, code: str, message: str) -> None:
        problems.append({"where": f"{name} row {row}", "row": row, "code": code, "message": message})

    if not records:
        raise KnowledgeError(f"{name} is empty", code="KB164")
    header = [h.strip() for h in records[0]]
    missing = [c for c in rules.columns.values() if c not in header]
    if missing:
        raise KnowledgeError(f"{name} lacks column(s) {', '.join(missing)}", code="KB164",
                             details=[{"where": f"{name} row 1", "row": 1, "code": "KB165",
                                       "message": f"missing column {c!r}"} for c in missing])
    col = {k: header.index(v) for k, v in rules.columns.items()}
    vpat = re.compile(rules.variant_pattern, re.DOTALL)
    total = len(records) - 1

    # Topic spellings that differ only by punctuation, spacing or case are one topic; the
    # spelling kept is the one with the most punctuation (the colon ACR's titles use).
    spellings: dict[str, set[str]] = {}
    for rec in records[1:]:
        if len(rec) > col["topic"]:
            t = _strip_suffixes(rec[col["topic"]], rules.topic_suffixes)
            if t:
                spellings.setdefault(topic_key(t), set()).add(t)
    chosen = {k: min(v, key=lambda s: (-len(re.sub(r"[0-9A-Za-z\s]", "", s)), s)) for k, v in spellings.items()}

    merged: dict[tuple[str, int, str], dict] = {}
    wording: dict[tuple[str, int], tuple[str, int]] = {}  # variant → (its wording, first row)
    renamed: dict[str, str] = {}
    collapsed = 0
    for i, rec in enumerate(records[1:], start=2):
        if progress is not None and (i % 500 == 0 or i == total + 1):
            progress(i - 1, total)
        if not any(c.strip() for c in rec):
            continue
        cells = {k: (rec[j].strip() if j < len(rec) else "") for k, j in col.items()}
        bad = False
        raw_topic = " ".join(cells["topic"].split())
        topic = chosen.get(topic_key(_strip_suffixes(raw_topic, rules.topic_suffixes)), "")
        if not topic:
            problem(i, "KB166", "the Topic cell is empty")
            bad = True
        elif raw_topic != topic:
            renamed[raw_topic] = topic
        m = vpat.match(cells["variant"])
        if m is None:
            problem(i, "KB167", "the Variant cell does not start 'Variant N:'")
            bad = True
        proc = " ".join(cells["procedure"].split())
        if not proc:
            problem(i, "KB166", "the Procedure cell is empty")
            bad = True
        try:
            rating = int(float(cells["rating"]))
            if not 1 <= rating <= 9 or float(cells["rating"]) != rating:
                raise ValueError
        except ValueError:
            problem(i, "KB168", f"the Rating {cells['rating']!r} is not a whole number from 1 to 9")
            bad = True
        category = rules.categories.get(" ".join(cells["category"].split()))
        if category is None:
            problem(i, "KB169", f"unknown Appropriateness_Category {cells['category']!r}")
            bad = True
        median: float | None = None
        if cells["median"]:
            try:
                median = float(cells["median"])
            except ValueError:
                problem(i, "KB168", f"the Median {cells['median']!r} is not a number")
                bad = True
        if bad:
            continue
        assert m is not None and category is not None  # narrowed by the checks above
        row = {
            "variant_text": " ".join(m.group(2).split()),
            "rating": rating,
            "category": category,
            "median": median,
            "soe": " ".join(cells["soe"].split()),
            "adult_rrl": clean_rrl(cells["adult_rrl"]),
            "peds_rrl": clean_rrl(cells["peds_rrl"], rules.peds_rrl_suffix),
            "recommendation": " ".join(cells["recommendation"].split()),
            "panels": {cells["panel"]} if cells["panel"] else set(),
            "rows": [i],
        }
        key = (topic, int(m.group(1)), proc)
        said = wording.setdefault(key[:2], (row["variant_text"], i))
        if said[0] != row["variant_text"]:
            problem(i, "KB170", f"{topic} · Variant {key[1]}: the variant's wording differs from row {said[1]}")
            continue
        prior = merged.get(key)
        if prior is None:
            merged[key] = row
            continue
        clash = [f for f in _FIELDS if prior[f] not in ("", None) and row[f] not in ("", None) and prior[f] != row[f]]
        if clash:
            problem(i, "KB170", f"{topic} · Variant {key[1]} · {proc}: {', '.join(clash)} differ from row "
                    f"{prior['rows'][0]}")
            continue
        collapsed += 1
        for f in _FIELDS:
            if prior[f] in ("", None):
                prior[f] = row[f]
        prior["panels"] |= row["panels"]
        prior["rows"].append(i)
    if problems:
        raise KnowledgeError(f"{name}: {len(problems)} problem row(s); nothing was imported", code="KB164",
                             details=problems)
    rows = [
        TableRow(topic=t, variant=n, procedure=proc, panels=tuple(sorted(r["panels"])), rows=tuple(r["rows"]),
                 **{f: r[f] for f in _FIELDS})
        for (t, n, proc), r in sorted(merged.items(), key=lambda kv: (kv[0][0], kv[0][1], -kv[1]["rating"], kv[0][2]))
    ]
    return Table(digest, name, rows, total, dict(sorted(renamed.items())), collapsed)
