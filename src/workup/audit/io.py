"""Tables in and out for the population audit: CSV or Parquet, read in bounded chunks.

Input columns are read as text whatever they hold (an order log's ages and codes are not
trusted to be typed), mapped from the file's own names to the audit's field names. Output
is written so the same rows give the same bytes: CSV through the standard library with
``\\n`` line ends, Parquet through pyarrow with a fixed schema, codec and writer settings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from workup.errors import IntakeError

CHUNK_ROWS = 2_000  # rows per chunk handed to a worker: bounded memory whatever the input size


def is_parquet(path: Path) -> bool:
    """Whether ``path`` names a Parquet file (by its suffix)."""
    return path.suffix.lower() in (".parquet", ".pq")


def _csv_batches(path: Path, rows: int):
    import pyarrow as pa
    import pyarrow.csv as pcsv

    try:
        names = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=1 << 16)).schema.names
    except (OSError, pa.ArrowInvalid) as e:
        raise IntakeError(f"cannot read {path} as CSV: {e}", code="IN262") from None
    convert = pcsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False)
    reader = pcsv.open_csv(path, read_options=pcsv.ReadOptions(block_size=rows * 256), convert_options=convert)
    for batch in reader:
        yield batch


def _parquet_batches(path: Path, rows: int):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        f = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as e:
        raise IntakeError(f"cannot read {path} as Parquet: {e}", code="IN263") from None
    for batch in f.iter_batches(batch_size=rows):
        yield batch


def read_chunks(path: Path, columns: Mapping[str, str], required: Sequence[str] = (),
                rows: int = CHUNK_ROWS) -> Iterator[list[dict[str, str]]]:
    """Yield the input as lists of row dicts keyed by field name (``columns``: field → file column).

    A field whose column is missing from the file is read as empty text, unless it is in
    ``required``. Values are text; a null is the empty string.

    Raises:
        IntakeError: the file cannot be read, or a required column is missing.
    """
    if not path.is_file():
        raise IntakeError(f"cannot read {path}: no such file", code="IN215")
    batches = _parquet_batches(path, rows) if is_parquet(path) else _csv_batches(path, rows)
    checked = False
    pending: list[dict[str, str]] = []
    try:
        for batch in batches:
            names = batch.schema.names
            if not checked:
                missing = [f"{f} (column {columns[f]!r})" for f in required if columns[f] not in names]
                if missing:
                    raise IntakeError(f"{path}: missing column(s): {', '.join(missing)}", code="IN264")
                checked = True
            data = {f: batch.column(c).to_pylist() if c in names else None for f, c in columns.items()}
            for i in range(batch.num_rows):
                pending.append({f: ("" if v is None or v[i] is None else str(v[i])) for f, v in data.items()})
            while len(pending) >= rows:
                yield pending[:rows]
                pending = pending[rows:]
    except IntakeError:
        raise
    except Exception as e:  # noqa: BLE001 - pyarrow's parse errors carry the line; give them a code
        raise IntakeError(f"cannot read {path}: {e}", code="IN262") from None
    if pending:
        yield pending


def write_csv(columns: Mapping[str, Sequence[Any]], out: Path | io.TextIOBase) -> None:
    """Write columns as CSV (header first, ``\\n`` line ends, None as empty)."""
    names = list(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    handle = out.open("w", encoding="utf-8", newline="") if isinstance(out, Path) else out
    try:
        w = csv.writer(handle, lineterminator="\n")
        w.writerow(names)
        cols = [columns[c] for c in names]
        for i in range(n):
            w.writerow(["" if col[i] is None else col[i] for col in cols])
    finally:
        if isinstance(out, Path):
            handle.close()


def write_parquet(table, out: Path) -> None:
    """Write a pyarrow table with fixed settings (zstd, no statistics-dependent options), same bytes each run."""
    import pyarrow.parquet as pq

    pq.write_table(table, out, compression="zstd", use_dictionary=True, write_statistics=True,
                   row_group_size=1 << 20)


def write_table(columns: Mapping[str, Sequence[Any]], out: Path) -> None:
    """Write text columns as CSV, or as Parquet when ``out`` ends in ``.parquet``."""
    if is_parquet(out):
        import pyarrow as pa

        write_parquet(pa.table({k: pa.array(list(v), pa.string()) for k, v in columns.items()}), out)
    else:
        write_csv(columns, out)
