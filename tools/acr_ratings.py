#!/usr/bin/env python3
"""Pack ACR ratings (facts only) for the six spine topics, or check packed ones.

    python tools/acr_ratings.py skeleton   # print procedures + per-variant ratings as YAML
    python tools/acr_ratings.py check      # compare the packed ratings with the CSV

Reads ../shared/data/acr-ac-2025/acr_criteria.csv (never committed). Copies only the
facts the project may encode: procedure reference names, ratings, categories and adult
RRLs. Variant wording and recommendation prose are never read into the output.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import defaultdict
from pathlib import Path

CSV = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "acr-ac-2025" / "acr_criteria.csv"

TOPICS = {
    "cervical-pain": "Cervical Pain or Cervical Radiculopathy",
    "low-back-pain": "Low Back Pain",
    "thoracic-back-pain": "Thoracic Back Pain",
    "myelopathy": "Myelopathy",
    "spine-infection": "Suspected Spine Infection",
    "spinal-trauma": "Acute Spinal Trauma",
}
CATEGORY = {
    "Usually appropriate": "usually-appropriate",
    "May be appropriate": "may-be-appropriate",
    "May be appropriate (Disagreement)": "may-be-appropriate-disagreement",
    "Usually not appropriate": "usually-not-appropriate",
}


def clean_topic(t: str) -> str:
    return re.sub(r"\s+", " ", t.replace("PCAs", " ")).strip()


def norm_rrl(s: str) -> str:
    s = " ".join(s.split())
    s = re.sub(r"(\d)mSv", r"\1 mSv", s)
    return s


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def rows_by_variant(path: Path = CSV) -> dict[tuple[str, int], list[dict]]:
    """{(topic title, variant number): [{name, category, rating, rrl}]}, panel duplicates merged."""
    out: dict[tuple[str, int], dict[str, dict]] = defaultdict(dict)
    wanted = set(TOPICS.values())
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            t = clean_topic(r["Topic"])
            if t not in wanted:
                continue
            n = int(re.match(r"\s*Variant\s+(\d+)", r["Variant"]).group(1))
            row = {
                "name": r["Procedure"].strip(),
                "category": CATEGORY[r["Appropriateness_Category"].strip()],
                "rating": int(r["Rating"]),
                "rrl": norm_rrl(r["Adult_RRL"]),
            }
            prev = out[(t, n)].get(row["name"].lower())
            if prev is not None and prev != row:
                raise SystemExit(f"panels disagree for {t} v{n} {row['name']}: {prev} vs {row}")
            out[(t, n)][row["name"].lower()] = row
    return {k: list(v.values()) for k, v in out.items()}


def skeleton() -> None:
    data = rows_by_variant()
    names: dict[str, str] = {}
    for rows in data.values():
        for r in rows:
            names.setdefault(slug(r["name"]), r["name"])
    print("# procedures")
    for pid in sorted(names):
        print(f"  - id: {pid}\n    reference_name: {names[pid]}")
    for tid, title in TOPICS.items():
        print(f"\n# ===== {tid}")
        for (t, n), rows in sorted(data.items()):
            if t != title:
                continue
            print(f"  # variant {n}\n    ratings:")
            for r in sorted(rows, key=lambda r: (-r["rating"], r["name"].lower())):
                line = f"      - {{procedure: {slug(r['name'])}, rating: {r['rating']}, category: {r['category']}, rrl: \"{r['rrl']}\""
                if r["name"] != names[slug(r["name"])]:
                    line += f", reference_name: \"{r['name']}\""
                print(line + "}")


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "skeleton"
    if cmd == "skeleton":
        skeleton()
    else:
        raise SystemExit("usage: acr_ratings.py skeleton")
