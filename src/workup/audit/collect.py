"""Collects audited orders as they come: streams them to orders.parquet and orders.csv, and
keeps the aggregates the summary and the report need (bounded by the number of providers,
departments, months and patterns, not by the number of orders).

Both engines hand their results to one :class:`Collector` in input row order, so the files
are the same bytes whichever engine computed them.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from workup.audit.orders import BOOL_COLUMNS, COLUMNS, INT_COLUMNS

BUCKETS = ("usually-appropriate", "may-be-appropriate", "usually-not-appropriate", "unrated")
REFUSAL_COLUMNS = ("row", "order_id", "code", "message")


def schema():
    """The pyarrow schema of orders.parquet."""
    import pyarrow as pa

    return pa.schema([(c, pa.int64() if c in INT_COLUMNS else pa.bool_() if c in BOOL_COLUMNS else pa.string())
                      for c in COLUMNS])


class Collector:
    """Writes orders.parquet, orders.csv and refused.csv under ``out`` and aggregates as it goes."""

    def __init__(self, out: Path):
        import pyarrow.parquet as pq

        out.mkdir(parents=True, exist_ok=True)
        self.out = out
        self._pq = pq.ParquetWriter(out / "orders.parquet", schema(), compression="zstd")
        self._csv_handle = (out / "orders.csv").open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._csv_handle, lineterminator="\n")
        self._csv.writerow(COLUMNS)
        self._ref_handle = (out / "refused.csv").open("w", encoding="utf-8", newline="")
        self._ref = csv.writer(self._ref_handle, lineterminator="\n")
        self._ref.writerow(REFUSAL_COLUMNS)
        self.rows_out = 0
        self.refused_codes: Counter = Counter()
        self.refused_first: list[dict[str, Any]] = []  # the first refusals, for the terminal and the report
        self.by: dict[str, dict[str, Counter]] = {k: defaultdict(Counter) for k in ("modality", "department", "month")}
        self.headline: Counter = Counter()
        self.reasons: Counter = Counter()
        self.providers: dict[str, Counter] = defaultdict(Counter)
        self.patterns: Counter = Counter()
        self.missing: Counter = Counter()
        self.dose: dict[str, Counter] = defaultdict(Counter)
        self.statuses: Counter = Counter()

    def add(self, orders: list[dict[str, Any]], refusals: list[dict[str, Any]]) -> None:
        """Take one chunk's results (in input order)."""
        import pyarrow as pa

        if orders:
            self._pq.write_table(pa.Table.from_pylist(orders, schema=schema()))
            for o in orders:
                self._csv.writerow(["" if o[c] is None else ("true" if o[c] is True else "false" if o[c] is False else o[c])
                                    for c in COLUMNS])
                self._aggregate(o)
        for r in refusals:
            self._ref.writerow([r[c] for c in REFUSAL_COLUMNS])
            self.refused_codes[r["code"]] += 1
            if len(self.refused_first) < 100:
                self.refused_first.append(r)
        self.rows_out += len(orders)

    def _aggregate(self, o: dict[str, Any]) -> None:
        b = o["appropriateness"]
        self.headline[b] += 1
        self.statuses[o["status"]] += 1
        for k in self.by:
            self.by[k][o[k] or "(none)"][b] += 1
        if o["reason"]:
            self.reasons[o["reason"]] += 1
        p = self.providers[o["provider_id"] or "(none)"]
        p["orders"] += 1
        if o["rated"]:
            p["rated"] += 1
            if o["rating"] <= 3:
                p["low_value"] += 1
                self.patterns[(o["matched_procedure"], o["variant"], o["rating"])] += 1
        for f in filter(None, o["missing_facts"].split(";")):
            self.missing[f] += 1
        if o["radiation_band"]:
            d = self.dose[o["radiation_band"]]
            d["orders"] += 1
            if o["rated"] and o["rating"] <= 3:
                d["low_value"] += 1

    def close(self, rows_in: int) -> dict[str, Any]:
        """Close the files, write summary.json and return the summary."""
        self._pq.close()
        self._csv_handle.close()
        self._ref_handle.close()
        summary = self.summary(rows_in)
        (self.out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                               encoding="utf-8")
        return summary

    def summary(self, rows_in: int) -> dict[str, Any]:
        """Counts of the whole run (no times, no engine: the same for the same input)."""
        n = max(1, self.rows_out)
        return {
            "rows_in": rows_in,
            "rows_out": self.rows_out,
            "rows_refused": sum(self.refused_codes.values()),
            "refused_by_code": dict(sorted(self.refused_codes.items())),
            "appropriateness": {b: self.headline[b] for b in BUCKETS},
            "appropriateness_share": {b: round(self.headline[b] / n, 4) for b in BUCKETS},
            "status": dict(sorted(self.statuses.items())),
            "unrated_reasons": dict(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
            "missing_facts": dict(sorted(self.missing.items(), key=lambda kv: (-kv[1], kv[0]))),
        }
