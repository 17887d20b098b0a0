#!/usr/bin/env python3
"""Assertion status of clinical concepts read from free text, scored NegEx-style.

Usage: python benchmarks/assertion_score.py [CORPUS.jsonl] [--concepts concepts.yaml] [--fails] [--json]

Each corpus line names one concept of a short note and its status as a careful reader gives it:
affirmed (the patient has it now), negated, family (someone else's), hypothetical (a possibility,
plan or warning) or historical (over and done). The intake reads the note (as on 2026-12-01); the concept counts as
read affirmed when one of its facts (concepts.yaml) is true, negated when one is false and none is
true, and not read otherwise. Reported:

  negation   precision, recall and F1 of "negated" against every other status (the NegEx measure)
  affirmed   precision, recall and F1 of "affirmed" against every other status
  raised     notes whose concept is NOT the patient's now (negated, family, hypothetical,
             historical) but was read as affirmed — a red flag raised that the note does not give
             (the safety count; every one is listed with --fails)
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "intake" / "assertions" / "x1.jsonl"
AS_OF = date(2026, 12, 1)  # the consultation date the notes are read on (written years date history)


def _f1(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}


def read_status(facts: dict, names: list[str]) -> str:
    """The concept's status as read: 'affirmed', 'negated' or 'unread'."""
    values = [facts.get(n) for n in names]
    if any(v is True for v in values):
        return "affirmed"
    if any(v is False for v in values):
        return "negated"
    return "unread"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=CORPUS)
    ap.add_argument("--concepts", type=Path, default=None)
    ap.add_argument("--fails", action="store_true", help="list every item read otherwise than labelled")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    cfile = a.concepts or a.corpus.with_name("concepts.yaml")
    concepts: dict[str, list[str]] = yaml.safe_load(cfile.read_text(encoding="utf-8"))["concepts"]
    rows = [json.loads(x) for x in a.corpus.read_text(encoding="utf-8").splitlines() if x.strip()]

    from workup.intake.text import read
    from workup.kb import load

    kb = load()
    unknown = sorted({r["concept"] for r in rows} - set(concepts))
    if unknown:
        print(f"concepts without facts in {cfile.name}: {', '.join(unknown)}", file=sys.stderr)
        return 2
    counts = {"neg": [0, 0, 0], "aff": [0, 0, 0]}
    raised: list[dict] = []
    wrong: list[tuple[dict, str]] = []
    by_status: dict[str, dict[str, int]] = {}
    for r in rows:
        facts = {k: f.value for k, f in read(r["text"], kb, AS_OF).facts.items()}
        got = read_status(facts, concepts[r["concept"]])
        gold = r["status"]
        by_status.setdefault(gold, {}).setdefault(got, 0)
        by_status[gold][got] += 1
        for key, label in (("neg", "negated"), ("aff", "affirmed")):
            c = counts[key]
            if got == label and gold == label:
                c[0] += 1
            elif got == label:
                c[1] += 1
            elif gold == label:
                c[2] += 1
        if gold != "affirmed" and got == "affirmed":
            raised.append(r)
        ok = got == gold or (gold in ("family", "hypothetical", "historical") and got != "affirmed")
        if not ok:
            wrong.append((r, got))
    res = {
        "items": len(rows),
        "negation": _f1(*counts["neg"]),
        "affirmed": _f1(*counts["aff"]),
        "raised": len(raised),
        "by_status": by_status,
        "corpus": a.corpus.name,
    }
    if a.json:
        print(json.dumps(res, indent=2, sort_keys=True))
    else:
        n, f = res["negation"], res["affirmed"]
        print(f"{a.corpus.name}: {len(rows)} items · negation P {n['precision']:.3f} R {n['recall']:.3f} "
              f"F1 {n['f1']:.3f} · affirmed P {f['precision']:.3f} R {f['recall']:.3f} F1 {f['f1']:.3f} · "
              f"raised though not the patient's now: {len(raised)}")
        for gold, got in sorted(by_status.items()):
            print(f"  labelled {gold:12} read " + ", ".join(f"{k} {v}" for k, v in sorted(got.items())))
    if a.fails:
        for r, got in wrong:
            print(f"{r['id']} {r['concept']}: labelled {r['status']}, read {got} · {r['text']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
