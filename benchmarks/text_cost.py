#!/usr/bin/env python3
"""How the free-text reading's cost grows with the text: ordinary notes and hostile ones.

Usage: python benchmarks/text_cost.py [--sizes 1,2,4] [--json] [--no-budget]

For each shape it builds texts of growing size and times, once each (the pipeline is
warmed first, nothing is cached by text):
  read      workup.intake.text.read (tokenizer, sentences, targets, ConText, our scopes, facts)
  medspacy  the pipeline's bare spaCy + medspaCy part (Pipeline.doc), for comparison
Shapes: a clinical note of N × 1,000 words (the seed sentences repeated), level ranges
"C1-C2-C3-…", commas ",,,", and "no no no …". The ratio time(2x) / time(x) is ~2 when the
cost is linear. With --no-budget the work budget of the intake is lifted so the pure cost
shows; otherwise a text over budget is reported as refused (its code) with the time taken
to refuse it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTE = (
    "58-year-old man, two years after C5-C6 ACDF, with a month of increasing neck pain and new tingling "
    "down the right arm. Denies trauma, fever, weight loss or bowel and bladder change. Radiographs normal. "
    "Has a cochlear implant so no MRI. Physio for 6 weeks without relief, no numbness, weakness, "
    "gait change, elevated CRP. "
)


def shapes(unit: int) -> dict[str, str]:
    """One text per shape at size ``unit`` (1 = the smallest measured)."""
    words = NOTE.split()
    note = " ".join(words[i % len(words)] for i in range(5_000 * unit))
    levels = "-".join(f"C{i % 7 + 1}" for i in range(10_000 * unit))[: 30_000 * unit]
    return {
        f"note {5 * unit}k words": note,
        f"levels {30 * unit} KB": "neck pain after surgery at " + levels,
        f"commas {20 * unit}k": "neck pain" + "," * (20_000 * unit),
        f"'no' x{10 * unit}k": "neck pain " + "no " * (10_000 * unit),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,2", help="multiples of the base size (default 1,2)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--no-budget", action="store_true", help="lift the intake's work budget")
    ap.add_argument("--skip-medspacy", action="store_true")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from workup.errors import IntakeError
    from workup.intake import text as T
    from workup.intake.pipeline import get_pipeline
    from workup.kb import load

    kb = load()
    try:
        from workup.intake import budget
    except ImportError:  # before the budget existed
        budget = None
    if args.no_budget and budget is not None:
        budget.BUDGET = budget.BUDGET.unlimited()
    T.MAX_CHARS = 10**9
    T.read(NOTE, kb)  # warm: build the pipeline
    pipe = get_pipeline(frozenset(kb.facts))
    rows = []
    for unit in [int(u) for u in args.sizes.split(",")]:
        for name, text in shapes(unit).items():
            t0 = time.perf_counter()
            outcome = "read"
            try:
                T.read(text, kb)
            except IntakeError as e:
                outcome = e.code
            read_s = time.perf_counter() - t0
            spacy_s = None
            if not args.skip_medspacy:
                t0 = time.perf_counter()
                pipe.doc(text)
                spacy_s = time.perf_counter() - t0
            rows.append({"shape": name, "chars": len(text), "read_s": round(read_s, 3),
                         "medspacy_s": None if spacy_s is None else round(spacy_s, 3), "outcome": outcome})
            if not args.json:
                sp = "" if spacy_s is None else f"  medspacy {spacy_s:7.3f} s"
                print(f"{name:18} {len(text):>8} chars  read {read_s:7.3f} s{sp}  {outcome}", flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
