#!/usr/bin/env python3
"""Population audit throughput: orders/s and peak memory of `workup audit orders`, local and Spark.

Usage: python benchmarks/audit_bench.py [--n 100000] [--seed 1] [--workers 2] [--spark N] [--skip-local] [--as-of DATE]
                                        [--format parquet|ndjson]

Makes a demo order log of N orders (Parquet, or a FHIR Bulk NDJSON directory), audits it with the local engine (--workers
processes) in a child process, and reports orders/s, the memo's hit rate and the peak
resident memory of the run (the parent plus all its workers, sampled from /proc every
0.1 s), the CPU time of the main process alone (reading, collecting, writing; with
--engine local the audit itself runs in the workers), the CPU time of the run's processes by
name and that of everything else on the machine during the run (other_cpu_s: on a shared
machine, a run with much of it is not a measurement). With --spark M it also audits the first M orders on Spark local[1] and local[2]
and reports the speed-up. Each run writes to a fresh temporary directory. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from datetime import date
from pathlib import Path
from workup.audit.run import audit_orders
src, out, engine, workers, master, as_of = sys.argv[1:7]
t = time.perf_counter()
s = audit_orders(Path(src), Path(out), engine=engine, workers=int(workers), spark_master=master,
                 as_of=date.fromisoformat(as_of) if as_of else None, use_imported=False, progress=False)
ru = resource.getrusage(resource.RUSAGE_SELF)  # this process only: the reader, collector and writers, not the workers
print(json.dumps({"seconds": time.perf_counter() - t, "rows_in": s["rows_in"], "rows_out": s["rows_out"],
                  "memo_hits": s["memo_hits"], "memo_misses": s["memo_misses"],
                  "main_cpu_s": round(ru.ru_utime + ru.ru_stime, 1)}))
"""


def _tree(pid: int, cpu: dict[int, tuple[str, int]]) -> int:
    """Resident bytes of ``pid`` and every descendant (Linux /proc); records each one's name and CPU ticks in ``cpu``."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(Path(f"/proc/{d}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(d))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            cpu[p] = (stat.split("(", 1)[1].rsplit(")", 1)[0], int(fields[11]) + int(fields[12]))  # utime + stime
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except (OSError, IndexError, ValueError):
            pass
        todo.extend(kids.get(p, ()))
    return total


def _busy() -> int:
    """Busy CPU ticks of the whole machine so far (/proc/stat: all but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4]


def _run(src: Path, engine: str, workers: int, master: str, as_of: str) -> dict:
    tick = os.sysconf("SC_CLK_TCK")
    with tempfile.TemporaryDirectory() as tmp:
        busy0 = _busy()
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(src), tmp, engine, str(workers), master, as_of],
                                stdout=subprocess.PIPE, text=True)
        peak = [0]
        cpu: dict[int, tuple[str, int]] = {}

        def watch() -> None:
            while proc.poll() is None:
                peak[0] = max(peak[0], _tree(proc.pid, cpu))
                time.sleep(0.1)

        th = threading.Thread(target=watch, daemon=True)
        th.start()
        out, _ = proc.communicate()
        th.join()
        busy = (_busy() - busy0) / tick
        if proc.returncode:
            raise SystemExit(f"audit failed ({engine}): exit {proc.returncode}")
        r = json.loads(out.strip().splitlines()[-1])
        r["peak_rss_mb"] = round(peak[0] / 2**20, 1)
        r["orders_per_s"] = round(r["rows_in"] / r["seconds"], 1)
        if r.get("memo_hits") is not None:
            r["memo_hit_rate"] = round(r["memo_hits"] / max(1, r["memo_hits"] + r["memo_misses"]), 3)
        # CPU seconds of the run's processes by name (sampled every 0.1 s, so a process's last
        # moments may be missed), and of everything else on the machine meanwhile: a shared
        # machine's other load makes a run's seconds mean little
        by_name: dict[str, float] = {}
        for name, ticks in cpu.values():
            by_name[name] = round(by_name.get(name, 0.0) + ticks / tick, 1)
        r["cpu_s"] = dict(sorted(by_name.items()))
        r["other_cpu_s"] = round(max(0.0, busy - sum(by_name.values())), 1)
        return r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--spark", type=int, default=0, help="also time Spark local[1] vs local[2] on this many orders")
    ap.add_argument("--as-of", default="", help="one as-of date for every order (default: each order's date)")
    ap.add_argument("--skip-local", action="store_true", help="time only Spark")
    ap.add_argument("--format", choices=("parquet", "ndjson"), default="parquet", help="the local run's input")
    a = ap.parse_args()
    from workup.audit.demo import order_log, write_order_log

    res: dict = {"n": a.n, "workers": a.workers, "cpus": os.cpu_count(), "as_of": a.as_of or "order date",
                 "format": a.format}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / ("bulk" if a.format == "ndjson" else "log.parquet")
        if not a.skip_local:
            write_order_log(order_log(a.n, a.seed), src, a.format)
        if not a.skip_local:
            res["local"] = _run(src, "local", a.workers, "", a.as_of)
        if a.spark:
            small = Path(tmp) / "spark.parquet"
            write_order_log(order_log(a.spark, a.seed), small)
            res["spark_n"] = a.spark
            res["spark_local1"] = _run(small, "spark", 1, "local[1]", a.as_of)
            res["spark_local2"] = _run(small, "spark", 1, "local[2]", a.as_of)
            res["spark_speedup"] = round(res["spark_local1"]["seconds"] / res["spark_local2"]["seconds"], 2)
    print(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
