"""The imported pack: a user's licensed ACR table, normalised, stored in their data directory.

``workup kb import acr FILE`` reads the table (:mod:`workup.imported.table`) and writes one
JSON file, ``<data dir>/acr/pack.json``, never into the repository. The data directory is
``WORKUP_DATA_DIR`` when set, else the platform's user data directory (platformdirs). The
pack's ``version`` names the table's SHA-256, so every answer built from it says which
table it came from. The same table always gives the same bytes.

The stored pack holds the table's wording (variant text, recommendation prose) because the
user's guides are built from it on their machine; none of it is part of workup.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from workup import __version__
from workup.errors import KnowledgeError
from workup.imported.table import Progress, Table, read_table

__all__ = ["ImportedRating", "ImportedVariant", "ImportedTopic", "ImportedPack", "data_dir", "pack_path",
           "import_table", "load_imported", "build_pack"]

FORMAT = 1


@dataclass(frozen=True)
class ImportedRating:
    """One procedure's rating in an imported variant, as the table gives it."""

    procedure: str
    rating: int
    category: str
    median: float | None
    soe: str
    adult_rrl: str
    peds_rrl: str
    recommendation: str  # the user's table's prose (shown as theirs, never shipped)


@dataclass(frozen=True)
class ImportedVariant:
    """One variant of an imported topic; ``text`` is the table's wording."""

    id: str
    number: int
    text: str
    ratings: tuple[ImportedRating, ...]  # best first


@dataclass(frozen=True)
class ImportedTopic:
    """One normalised ACR topic with its panels and variants (by number)."""

    id: str
    title: str
    panels: tuple[str, ...]
    variants: tuple[ImportedVariant, ...]


@dataclass(frozen=True)
class ImportedPack:
    """Everything imported from one table."""

    version: str
    sha256: str
    source_name: str
    topics: dict[str, ImportedTopic]  # by id
    renamed_topics: dict[str, str]
    collapsed: int
    raw_rows: int

    def by_title(self) -> dict[str, ImportedTopic]:
        """Topics keyed by their normalised ACR title."""
        return {t.title: t for t in self.topics.values()}

    def variant_count(self) -> int:
        """How many variants the pack holds."""
        return sum(len(t.variants) for t in self.topics.values())

    def rating_count(self) -> int:
        """How many distinct rated rows (variant × procedure) the pack holds."""
        return sum(len(v.ratings) for t in self.topics.values() for v in t.variants)


def slug(title: str) -> str:
    """A topic id from its title: ``acr-`` and the lower-case words joined by hyphens."""
    return "acr-" + re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def data_dir() -> Path:
    """Where imported packs live: ``WORKUP_DATA_DIR``, else the platform's user data directory."""
    env = os.environ.get("WORKUP_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("workup", appauthor=False))


def pack_path(root: Path | None = None) -> Path:
    """The imported ACR pack's file under ``root`` (default :func:`data_dir`)."""
    return (root or data_dir()) / "acr" / "pack.json"


def build_pack(table: Table) -> ImportedPack:
    """Group a read table's rows into topics and variants."""
    grouped: dict[str, dict[int, list]] = {}
    panels: dict[str, set[str]] = {}
    texts: dict[tuple[str, int], str] = {}
    for r in table.rows:
        grouped.setdefault(r.topic, {}).setdefault(r.variant, []).append(r)
        panels.setdefault(r.topic, set()).update(r.panels)
        texts[(r.topic, r.variant)] = r.variant_text
    topics: dict[str, ImportedTopic] = {}
    for title in sorted(grouped):
        tid = slug(title)
        if tid in topics:
            raise KnowledgeError(f"two topics give the id {tid!r}: {topics[tid].title!r} and {title!r}", code="KB171")
        variants = tuple(
            ImportedVariant(f"{tid}-{n}", n, texts[(title, n)], tuple(
                ImportedRating(r.procedure, r.rating, r.category, r.median, r.soe, r.adult_rrl, r.peds_rrl,
                               r.recommendation) for r in rows))
            for n, rows in sorted(grouped[title].items())
        )
        topics[tid] = ImportedTopic(tid, title, tuple(sorted(panels[title])), variants)
    version = f"{__version__}+acr.{table.sha256[:12]}"
    return ImportedPack(version, table.sha256, table.source_name, topics, table.renamed_topics, table.collapsed,
                        table.raw_rows)


def to_json(pack: ImportedPack) -> str:
    """The pack as canonical JSON text (sorted keys, so the same table gives the same bytes)."""
    doc = {
        "format": FORMAT,
        "version": pack.version,
        "sha256": pack.sha256,
        "source_name": pack.source_name,
        "raw_rows": pack.raw_rows,
        "collapsed": pack.collapsed,
        "renamed_topics": pack.renamed_topics,
        "topics": [
            {"id": t.id, "title": t.title, "panels": list(t.panels), "variants": [
                {"id": v.id, "number": v.number, "text": v.text, "ratings": [
                    [r.procedure, r.rating, r.category, r.median, r.soe, r.adult_rrl, r.peds_rrl, r.recommendation]
                    for r in v.ratings]}
                for v in t.variants]}
            for t in pack.topics.values()
        ],
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def from_json(text: str, where: str) -> ImportedPack:
    """Read a pack written by :func:`to_json`.

    Raises:
        KnowledgeError: KB173 when the file is not an imported pack of this format.
    """
    try:
        doc = json.loads(text)
        if doc.get("format") != FORMAT:
            raise ValueError("format")
        topics = {
            t["id"]: ImportedTopic(t["id"], t["title"], tuple(t["panels"]), tuple(
                ImportedVariant(v["id"], v["number"], v["text"], tuple(ImportedRating(*r) for r in v["ratings"]))
                for v in t["variants"]))
            for t in doc["topics"]
        }
        return ImportedPack(doc["version"], doc["sha256"], doc["source_name"], topics, doc["renamed_topics"],
                            doc["collapsed"], doc["raw_rows"])
    except (ValueError, KeyError, TypeError, AttributeError):
        raise KnowledgeError(f"{where} is not an imported pack workup can read; import the table again",
                             code="KB173") from None


def _inside_repository(target: Path) -> Path | None:
    """The source checkout workup runs from, when ``target`` lies inside it."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / ".git").exists() and (parent / "pyproject.toml").is_file():
            t = target.resolve()
            return parent if t == parent or parent in t.parents else None
    return None


def import_table(path: str | Path, root: Path | None = None, progress: Progress | None = None) -> ImportedPack:
    """Read a licensed table and store it as the imported pack (replacing any earlier one).

    Raises:
        KnowledgeError: the table cannot be read or has problem rows (nothing is written), or the
            data directory lies inside workup's own repository (KB172).
    """
    target = pack_path(root)
    repo = _inside_repository(target)
    if repo is not None:
        raise KnowledgeError(f"the data directory {target.parent.parent} is inside the repository {repo}; "
                             "set WORKUP_DATA_DIR to a directory outside it (the ACR table must never be "
                             "committed)", code="KB172")
    pack = build_pack(read_table(path, progress))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(to_json(pack), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as e:
        raise KnowledgeError(f"cannot write the imported pack to {target}: {e.strerror}", code="KB174") from None
    _load_cached.cache_clear()
    return pack


@lru_cache(maxsize=2)
def _load_cached(path: str, mtime_ns: int, size: int) -> ImportedPack:
    return from_json(Path(path).read_text(encoding="utf-8"), path)


def load_imported(root: Path | None = None) -> ImportedPack | None:
    """The imported pack under ``root`` (default :func:`data_dir`), or ``None`` when nothing was imported.

    Raises:
        KnowledgeError: KB173 when the stored file cannot be read.
    """
    p = pack_path(root)
    try:
        st = p.stat()
    except OSError:
        return None
    return _load_cached(str(p), st.st_mtime_ns, st.st_size)
