#!/usr/bin/env python3
"""Text → full recommendation, timed per scenario, beside a bare medspaCy pass on the same texts.

Usage: python benchmarks/intake_bench.py [VIGNETTES.jsonl ...] [--rounds N] [--json]

For every scenario text (default: ../shared/vignettes/*.jsonl next to the repository) it times
  workup    workup.intake.text.read → workup.engine.evaluate → render.document.to_document
  medspacy  medspacy.load() (PyRuSH sentences + TargetMatcher + ConText, default rules) — bare
  medspacy+ the same default pipeline with workup's target rules loaded into its TargetMatcher
in the same process, interleaved, pinned to one CPU core when the OS allows. Reports the
median and p99 milliseconds per scenario and the ratio to the bare medspaCy pass.
No result is cached by text: every call parses the text again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _texts(paths: list[Path]) -> list[str]:
    out: list[str] = []
    for p in paths:
        for line in p.read_text(encoding="utf-8").splitlines():
            if line.strip():
                t = json.loads(line).get("text")
                if isinstance(t, str) and t.strip():
                    out.append(t)
    return out


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(q * (len(xs) - 1)))))
    return xs[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    files = a.files or sorted((ROOT / ".." / "shared" / "vignettes").glob("*.jsonl"))
    if not files:
        print("no vignette files found; pass them as arguments", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    texts = _texts(files)

    from loguru import logger

    logger.disable("PyRuSH")
    import medspacy
    from medspacy.target_matcher import TargetRule

    from workup.engine import evaluate
    from workup.intake.lexicon import load_lexicon
    from workup.intake.text import read
    from workup.kb import load
    from workup.render.document import to_document

    kb = load()
    as_of = date(2026, 1, 1)
    bare = medspacy.load()
    plus = medspacy.load()
    plus.get_pipe("medspacy_target_matcher").add(
        [TargetRule(t.id, t.id, pattern=t.pattern) for t in load_lexicon(frozenset(kb.facts)).targets]
    )

    def ours(t: str) -> None:
        to_document(evaluate(read(t, kb).facts, kb, as_of))

    runners = {"workup": ours, "medspacy": bare, "medspacy+": plus}
    for fn in runners.values():  # warm-up (pipeline build, first-call costs)
        for t in texts:
            fn(t)
    times: dict[str, list[float]] = {k: [] for k in runners}
    for _ in range(a.rounds):
        for t in texts:
            for name, fn in runners.items():
                t0 = time.perf_counter()
                fn(t)
                times[name].append((time.perf_counter() - t0) * 1000.0)
    res = {
        name: {"median_ms": round(statistics.median(xs), 3), "p99_ms": round(_pct(xs, 0.99), 3), "n": len(xs)}
        for name, xs in times.items()
    }
    base = res["medspacy"]["median_ms"]
    for r in res.values():
        r["ratio_to_bare_medspacy"] = round(r["median_ms"] / base, 2) if base else None
    summary = {"scenarios": len(texts), "rounds": a.rounds, "files": [p.name for p in files], "results": res}
    if a.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"{len(texts)} scenarios × {a.rounds} rounds, one core")
        print(f"{'pipeline':12} {'median ms':>10} {'p99 ms':>10} {'× bare medspaCy':>16}")
        for name, r in res.items():
            print(f"{name:12} {r['median_ms']:>10.3f} {r['p99_ms']:>10.3f} {r['ratio_to_bare_medspacy']:>16.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
