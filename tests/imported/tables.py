"""Small synthetic ACR-shaped tables in our own invented wording (no ACR text)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

HEADER = ["Panel", "Topic", "Variant", "Procedure", "Appropriateness_Category", "Rating", "Median", "SOE",
          "Adult_RRL", "Peds_RRL", "Recommendation"]

UA, MBA, UNA = "Usually appropriate", "May be appropriate", "Usually not appropriate"


def row(topic, variant, proc, cat, rating, *, panel="Musculoskeletal", median="", soe="Limited",
        adult="O 0 mSv", peds="O 0 mSv [ped]", rec="Invented note.", wording="Adult. Invented scenario."):
    """One table row; ``variant`` is the number."""
    return [panel, topic, f"Variant {variant}:  {wording}", proc, cat, str(rating), median, soe, adult, peds, rec]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


MESSY = [
    row("Ankle TwistPCAs", 1, "Radiography Ankle", UA, 9, median="9.0", adult="☢ <0.1 mSv"),
    row("Ankle TwistPCAs", 1, "MRI Ankle Without IV Contrast", UNA, 2),
    # the same rows again under another panel, one with the median left blank
    row("Ankle Twist", 1, "Radiography Ankle", UA, 9, panel="Polytrauma", adult="☢ <0.1 mSv"),
    row("Ankle Twist", 1, "MRI Ankle Without IV Contrast", UNA, 2, panel="Polytrauma"),
    row("Knee Ache: Sudden", 1, "US Knee", MBA, 5, adult="O 0 mSv"),
    row("Knee Ache Sudden", 2, "CT Knee Without IV Contrast", MBA, 6, adult="☢☢  0.1-1mSv",
        peds="☢☢ 0.03-0.3 mSv [ped]", wording="Child. Another invented scenario."),
]
