"""Drift: where the curated packs and an imported ACR table disagree.

When the ACR publishes its annual update, a site imports the new table and runs
``workup kb drift`` to see every curated rating, category or adult radiation level that no
longer matches, and every variant or procedure added or retired, for the topics the curated
packs cover. Only the curated topics are compared: the rest of the table is new content, not drift.
"""

from __future__ import annotations

from workup.imported.pack import ImportedPack
from workup.imported.table import clean_rrl, topic_key
from workup.kb.load import KnowledgeBase

__all__ = ["drift"]

KINDS = ("topic-retired", "variant-retired", "variant-added", "procedure-retired", "procedure-added",
         "rating-changed", "category-changed", "rrl-changed")


def _curated(kb: KnowledgeBase) -> dict[str, tuple[str, dict[int, dict[str, tuple[int, str, str]]]]]:
    """Curated ratings: topic key → (title, {variant number: {procedure: (rating, category, rrl)}})."""
    out: dict[str, tuple[str, dict[int, dict[str, tuple[int, str, str]]]]] = {}
    for vid, v in kb.variants.items():
        title = kb.topic_of(vid).source.title
        procs = out.setdefault(topic_key(title), (title, {}))[1].setdefault(v.number, {})
        for r in v.ratings:
            p = kb.procedures.get(r.procedure)
            name = " ".join((r.reference_name or (p.reference_name if p is not None else r.procedure)).split())
            procs[name] = (r.rating, r.category, clean_rrl(r.rrl))
    return out


def drift(kb: KnowledgeBase, table: ImportedPack) -> list[dict]:
    """Every difference between the curated pack ``kb`` and the imported ``table``, sorted.

    Each item is ``{kind, topic, variant, procedure?, curated?, table?, message}`` with
    ``kind`` one of :data:`KINDS`; ``curated`` and ``table`` hold the two values compared.
    """
    imported = {topic_key(t.title): t for t in table.topics.values()}
    items: list[dict] = []

    def add(kind: str, topic: str, variant: int, message: str, procedure: str | None = None, **vals) -> None:
        item = {"kind": kind, "topic": topic, "variant": variant, "message": message}
        if procedure is not None:
            item["procedure"] = procedure
        items.append({**item, **vals})

    for key, (title, variants) in _curated(kb).items():
        theirs = imported.get(key)
        if theirs is None:
            for n in sorted(variants):
                add("topic-retired", title, n, "the topic is not in the imported table")
            continue
        table_variants = {v.number: v for v in theirs.variants}
        for n in sorted(set(table_variants) - set(variants)):
            add("variant-added", title, n, "the table has this variant; the curated pack does not")
        for n in sorted(variants):
            tv = table_variants.get(n)
            if tv is None:
                add("variant-retired", title, n, "the curated pack has this variant; the table does not")
                continue
            ours = variants[n]
            rated = {r.procedure: (r.rating, r.category, r.adult_rrl) for r in tv.ratings}
            for proc in sorted(set(rated) - set(ours)):
                add("procedure-added", title, n, "rated in the table, not in the curated pack", proc,
                    table=list(rated[proc]))
            for proc in sorted(set(ours) - set(rated)):
                add("procedure-retired", title, n, "rated in the curated pack, not in the table", proc,
                    curated=list(ours[proc]))
            for proc in sorted(set(ours) & set(rated)):
                (r1, c1, x1), (r2, c2, x2) = ours[proc], rated[proc]
                if r1 != r2:
                    add("rating-changed", title, n, f"rating {r1} in the curated pack, {r2} in the table", proc,
                        curated=r1, table=r2)
                if c1 != c2:
                    add("category-changed", title, n, f"{c1} in the curated pack, {c2} in the table", proc,
                        curated=c1, table=c2)
                if x1 != x2:
                    add("rrl-changed", title, n, f"adult RRL {x1!r} in the curated pack, {x2!r} in the table",
                        proc, curated=x1, table=x2)
    items.sort(key=lambda d: (d["topic"], d["variant"], KINDS.index(d["kind"]), d.get("procedure", "")))
    return items
