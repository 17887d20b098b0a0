#!/usr/bin/env python3
"""Score routing of free text into imported ACR topics against scenario sets.

Usage: python benchmarks/route_score.py [SET.jsonl ...] [--table CSV] [--fails] [--json]

Imports the licensed table (default ../shared/data/acr-ac-2025/acr_criteria.csv, never
shipped) into a temporary data directory, then answers every scenario the way the CLI and
the API do (:func:`workup.consult.consult_payload` with the imported pack: the curated
packs first). Each scenario is ``{"id", "text", "accept": [{"topic", "variant"}],
"expect_status"?}``; the default sets are ``tests/imported/scenarios/*.jsonl``.

Per set it reports:

- topic correct: rated in an accepted topic, or needs-information with an accepted topic
  among its candidates (or the expected status, for scenarios that expect one);
- variant rated correctly: rated with an accepted topic and variant (or the expected status);
- rated wrong: rated with a topic or variant no accept names (worse than asking);
- a breakdown of the failures by kind.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / ".." / "shared" / "data" / "acr-ac-2025" / "acr_criteria.csv"
SETS = sorted((ROOT / "tests" / "imported" / "scenarios").glob("*.jsonl"))
AS_OF = date(2026, 1, 1)


def key(title: str | None) -> str:
    """A topic title as the table's normalisation and punctuation-insensitive comparison see it."""
    return re.sub(r"[^0-9a-z]+", "", re.sub(r"PCAs\s*$", "", (title or "").strip()).lower())


def judge(case: dict, doc: dict) -> tuple[str, bool, bool]:
    """The failure kind ('' when the variant is right), whether the topic is right, whether rated wrong."""
    status = doc.get("status")
    accept = case.get("accept", [])
    topics = {key(a["topic"]) for a in accept}
    pairs = {(key(a["topic"]), a.get("variant")) for a in accept}
    topic = key(((doc.get("topic") or {}).get("source") or {}).get("title"))
    var = (doc.get("variant") or {}).get("source_variant")
    cands = [(key(c["topic"]), c["variant"]) for c in doc.get("candidates", [])]
    expected = status in case.get("expect_status", [])
    if status == "rated":
        if (topic, var) in pairs or (topic, None) in pairs:
            return "", True, False
        if expected:
            return "", True, False
        if topic in topics:
            return "rated-wrong-variant", True, True
        return "rated-wrong-topic", False, True
    if expected:
        return "", not topics or any(t in topics for t, _ in cands), False
    if status == "needs-information":
        if not cands:
            return "asks-without-candidates", False, False
        if any(c in pairs for c in cands):
            return ("asks-topic" if len({t for t, _ in cands}) > 1 else "asks-variant-right-among"), True, False
        if any(t in topics for t, _ in cands):
            return "asks-variant-right-missing", True, False
        return "asks-wrong-topic", False, False
    return f"status-{status}", False, False


def score(path: Path, kb, pack, show: bool) -> dict:
    """Route every scenario of one set and count."""
    from workup.consult import consult_payload
    from workup.errors import WorkupError
    from workup.render.document import to_document

    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    n_topic = n_var = n_wrong = 0
    kinds: Counter[str] = Counter()
    for c in cases:
        try:
            doc = to_document(consult_payload({"text": c["text"]}, kb, AS_OF, imported=pack).recommendation)
        except WorkupError as e:
            doc = {"status": f"error-{getattr(e, 'code', '')}"}
        kind, topic_ok, wrong = judge(c, doc)
        n_topic += topic_ok
        n_var += kind == ""
        n_wrong += wrong
        if kind:
            kinds[kind] += 1
            if show:
                got = doc.get("variant") and (doc["topic"]["source"]["title"], doc["variant"]["source_variant"])
                print(f"{kind:28} {c['id']}: got {doc.get('status')} {got or ''} "
                      f"{[(x['topic'], x['variant']) for x in doc.get('candidates', [])][:6]}; "
                      f"want {[(a['topic'], a['variant']) for a in c['accept']]}")
    n = len(cases)
    return {"set": path.name, "n": n, "topic": round(n_topic / n, 3), "variant": round(n_var / n, 3),
            "rated_wrong": round(n_wrong / n, 3), "failures": dict(sorted(kinds.items()))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", type=Path, default=SETS)
    ap.add_argument("--table", type=Path, default=TABLE)
    ap.add_argument("--fails", action="store_true", help="print every failure")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.table.is_file():
        print(f"the licensed ACR table is not at {args.table}", file=sys.stderr)
        return 2
    from workup.imported.pack import import_table
    from workup.kb import default

    kb = default()
    with tempfile.TemporaryDirectory() as d:
        pack = import_table(args.table, Path(d))
    results = [score(p, kb, pack, args.fails) for p in args.sets]
    for r in results:
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{r['set']:14} n={r['n']:3}  topic {r['topic']:.1%}  variant {r['variant']:.1%}  "
                  f"rated-wrong {r['rated_wrong']:.1%}  failures {r['failures']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
