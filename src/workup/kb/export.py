"""Export a knowledge pack's ratings as CSV, in the ACR table's terms.

One row per rated procedure per variant: the topic's source title as ACR spells it, the
variant number, ACR's procedure reference name, the rating, the category (ACR's wording)
and the adult relative radiation level. Rows are sorted by topic, variant number, rating
(best first) and procedure name, so the same pack always exports the same bytes.

With an imported ACR table (:mod:`workup.imported`), its variants that the curated pack
does not cover are exported too, with the table's own ratings; curated variants come from
the curated pack, which takes precedence.
"""

from __future__ import annotations

import csv
import io

from workup.kb.load import KnowledgeBase

HEADER = ("topic", "variant", "procedure", "rating", "category", "adult_rrl")

# Our category slugs → ACR's wording in the published table.
ACR_CATEGORY = {
    "usually-appropriate": "Usually appropriate",
    "may-be-appropriate": "May be appropriate",
    "may-be-appropriate-disagreement": "May be appropriate (Disagreement)",
    "usually-not-appropriate": "Usually not appropriate",
}


def rating_rows(kb: KnowledgeBase, imported=None) -> list[tuple[str, int, str, int, str, str]]:
    """Every packed rating as ``(topic, variant, procedure, rating, category, adult_rrl)``, sorted.

    ``imported`` (an :class:`~workup.imported.pack.ImportedPack`) adds the variants it holds
    that the curated pack does not.
    """
    rows = []
    for vid, v in kb.variants.items():
        topic = kb.topic_of(vid)
        for r in v.ratings:
            proc = kb.procedures.get(r.procedure)
            name = r.reference_name or (proc.reference_name if proc is not None else r.procedure)
            rows.append((topic.source.title, v.number, name, r.rating, ACR_CATEGORY[r.category], r.rrl))
    if imported is not None:
        curated = {(kb.topic_of(vid).source.title, v.number) for vid, v in kb.variants.items()}
        for t in imported.topics.values():
            for iv in t.variants:
                if (t.title, iv.number) not in curated:
                    rows.extend((t.title, iv.number, r.procedure, r.rating, ACR_CATEGORY[r.category], r.adult_rrl)
                                for r in iv.ratings)
    rows.sort(key=lambda row: (row[0], row[1], -row[3], row[2]))
    return rows


def export_csv(kb: KnowledgeBase, imported=None) -> str:
    """Return every packed (and imported) rating as CSV text with header ``topic,variant,procedure,rating,category,adult_rrl``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(rating_rows(kb, imported))
    return buf.getvalue()
