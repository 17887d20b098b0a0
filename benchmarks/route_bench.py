#!/usr/bin/env python3
"""Routing free text into every imported ACR topic, timed per note, and the memory it takes.

Usage: python benchmarks/route_bench.py [--table CSV] [--rounds N] [--json]

Imports the licensed table (default ../shared/data/acr-ac-2025/acr_criteria.csv, never
shipped) into a temporary data directory, builds the router (every variant compiled, the
bm25s index) and times ``Router.route`` on made-up notes of about 60 words, pinned to one CPU
core when the OS allows. Reports the import time, the router build time, the median and p99
milliseconds per note, and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / ".." / "shared" / "data" / "acr-ac-2025" / "acr_criteria.csv"

# Made-up notes, about sixty words each, in clinicians' style (our own words).
NOTES = [
    "34 yo woman fell on an outstretched hand yesterday while skating. Wrist pain and swelling, tender in the "
    "anatomical snuffbox, full finger movement, no numbness. No prior imaging. Otherwise healthy, takes no "
    "medicines. Wants to get back to work as a carpenter next week; concerned about a scaphoid fracture that "
    "could be missed on first films.",
    "45 year old man with a sudden severe headache that peaked within a minute while lifting weights, the worst "
    "of his life, with vomiting and neck stiffness. No trauma. Alert, no focal neurological deficit. Blood "
    "pressure 170/95. No history of migraine. Presented to the emergency department two hours after onset.",
    "62 yo male, current smoker with 30 pack-years, asymptomatic, no cough, no weight loss, no hemoptysis. "
    "Seen for a routine visit and asks about lung cancer screening. No prior chest CT. Works as an electrician, "
    "no known asbestos exposure. Fit and active, would be a surgical candidate if anything were found.",
    "28 year old woman with two days of right upper quadrant pain after fatty meals, now constant, with fever "
    "to 38.4 and nausea. Positive Murphy sign. White count 14. Not pregnant, urine hCG negative. No prior "
    "abdominal surgery. Liver tests mildly raised. No jaundice. Asking what imaging comes first.",
    "25 yo twisted his right knee playing soccer two days ago, heard a pop, rapid swelling, large effusion, "
    "cannot bear weight and walks with crutches. Tender along the joint line. No prior knee injury. No "
    "numbness. Ottawa knee rule positive for inability to bear weight. Seen in urgent care for first imaging.",
    "52 yo woman with sudden shortness of breath and pleuritic chest pain after a long flight, heart rate 118, "
    "oxygen saturation 90 percent on room air, unilateral calf swelling. Wells score high pretest probability "
    "for pulmonary embolism. Creatinine normal, no contrast allergy. Not pregnant. No history of clotting.",
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", type=Path, default=TABLE)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.table.is_file():
        print(f"the licensed ACR table is not at {args.table}", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from workup.imported.pack import import_table
    from workup.imported.route import Router

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        pack = import_table(args.table, Path(d))
        t1 = time.perf_counter()
        router = Router(pack)
        t2 = time.perf_counter()
    times = []
    for _ in range(args.rounds):
        for n in NOTES:
            s = time.perf_counter()
            router.route(n)
            times.append((time.perf_counter() - s) * 1000)
    times.sort()
    out = {
        "import_s": round(t1 - t0, 2),
        "router_build_s": round(t2 - t1, 2),
        "notes": len(times),
        "words_per_note": round(statistics.mean(len(n.split()) for n in NOTES)),
        "route_median_ms": round(statistics.median(times), 3),
        "route_p99_ms": round(times[int(0.99 * (len(times) - 1))], 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "variants_compiled": len(router.compiled),
        "variants_with_uncompiled_wording": len(router.uncompiled()),
    }
    print(json.dumps(out) if args.json else "\n".join(f"{k:34} {v}" for k, v in out.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
