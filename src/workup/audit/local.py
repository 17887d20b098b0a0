"""The local engine: the order log streamed in chunks over a process pool (one auditor per worker).

Chunks go out and come back in input order, at most two per worker in flight,
so memory stays bounded whatever the input's size; each worker keeps its own memo. A
reader whose rows are costly to make (FHIR NDJSON: each ServiceRequest validated) hands
over unfinished chunks and a ``prepare`` function that the workers run on them.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

_AUDITOR = None  # this worker's OrderAuditor, built once by _init


def _init(pack: str | None, as_of: date | None, use_imported: bool) -> None:
    global _AUDITOR
    from workup.audit.orders import OrderAuditor
    from workup.kb import load

    imported = None
    if use_imported:
        from workup.imported.pack import load_imported

        imported = load_imported()
    _AUDITOR = OrderAuditor(load(Path(pack) if pack else None), imported, as_of)


def _work(item: tuple[int, list], prepare: Callable[[list], list[dict[str, str]]] | None = None
          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int, int]:
    start, rows = item
    a = _AUDITOR
    assert a is not None  # set by _init in every worker
    if prepare is not None:
        rows = prepare(rows)
    h0, m0 = a.hits, a.misses
    orders, refused = [], []
    for i, row in enumerate(rows):
        o, bad = a.audit(row, start + i)
        (orders if o is not None else refused).append(o if o is not None else bad)
    return orders, refused, a.hits - h0, a.misses - m0


def numbered(chunks: Iterable[list]) -> Iterator[tuple[int, list]]:
    """Each chunk with the 1-based input row number of its first row."""
    n = 1
    for c in chunks:
        yield n, c
        n += len(c)


def run_local(chunks: Iterable[list], sink: Callable[[list, list], None], *,
              workers: int | None = None, pack: Path | None = None, as_of: date | None = None,
              use_imported: bool = True, advance: Callable[[int], None] | None = None,
              prepare: Callable[[list], list[dict[str, str]]] | None = None) -> dict[str, int]:
    """Audit every chunk, handing each chunk's ``(orders, refusals)`` to ``sink`` in input order.

    ``prepare``, a module-level function (workers get it pickled), turns each chunk into its
    list of row dicts in the worker, one row per item, before the audit: the reader's costly
    part then runs on every core rather than in this process.

    Returns the rows read and the memo's hits and misses over all workers.
    """
    import multiprocessing as mp

    if not workers:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    stats = {"rows_in": 0, "memo_hits": 0, "memo_misses": 0}
    init = (str(pack) if pack else None, as_of, use_imported)

    def take(res) -> None:
        orders, refused, hits, misses = res
        sink(orders, refused)
        n = len(orders) + len(refused)
        stats["rows_in"] += n
        stats["memo_hits"] += hits
        stats["memo_misses"] += misses
        if advance is not None:
            advance(n)

    if workers == 1:
        _init(*init)
        for item in numbered(chunks):
            take(_work(item, prepare))
        return stats
    ctx = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    # Not Pool.imap: its feeder thread would read the whole input ahead. A window of
    # 2 chunks per worker keeps every core busy and the memory bounded.
    window: deque = deque()
    with ctx.Pool(workers, initializer=_init, initargs=init) as pool:
        for item in numbered(chunks):
            window.append(pool.apply_async(_work, (item, prepare)))
            if len(window) >= 2 * workers:
                take(window.popleft().get())
        while window:
            take(window.popleft().get())
    return stats
