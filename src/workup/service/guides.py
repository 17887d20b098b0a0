"""Guide pages: the ``workup guide`` Markdown as HTML, or the same pack data drawn directly.

Content is never written here: the Markdown comes from :mod:`workup.render.guide`, and the
fallback (when that renderer is not installed) lays out the pack's own statements, each
with its citations numbered per page.
"""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

from workup.types import Category

CATEGORY_ORDER = tuple(Category)  # usually appropriate first


def markdown_html(text: str) -> Markup:
    """CommonMark (with tables) to HTML; raw HTML in the source is escaped, not passed through."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    return Markup(md.render(text))


def guide_nav(kb, topic_id: str, current: str | None) -> dict[str, Any]:
    """The side navigation: the topic and its variants in ACR order, the current one marked."""
    topic = kb.topics[topic_id]
    variants = [v for vid, v in kb.variants.items() if kb.variant_topic.get(vid) == topic_id]
    variants.sort(key=lambda v: v.number)
    return {"topic": topic, "variants": variants, "current": current}


class _Numbers:
    """Numbers citation ids in order of first use, for one guide page."""

    def __init__(self, kb) -> None:
        self.kb = kb
        self.ids: list[str] = []

    def __call__(self, ids: list[str]) -> list[int]:
        out = set()
        for cid in ids:
            if cid not in self.kb.citations:
                continue
            if cid not in self.ids:
                self.ids.append(cid)
            out.add(self.ids.index(cid) + 1)
        return sorted(out)

    def references(self) -> list[dict[str, Any]]:
        return [{"n": i + 1, "id": cid, "text": self.kb.citations[cid].text, "url": self.kb.citations[cid].url}
                for i, cid in enumerate(self.ids)]


def _statements(items, cite: _Numbers) -> list[dict[str, Any]]:
    return [{"text": x.text, "cites": cite(x.citations)} for x in items]


def _ratings(kb, variant, cite: _Numbers) -> list[dict[str, Any]]:
    from workup.engine.rate import radiation

    rows = []
    for r in variant.ratings:
        proc = kb.procedures.get(r.procedure)
        rad, _ = radiation(r.rrl)
        rows.append({
            "name": r.reference_name or (proc.reference_name if proc else r.procedure),
            "rating": r.rating, "category": r.category, "category_label": Category(r.category).label,
            "rrl": {"level": rad.level, "adult_dose": rad.adult_dose},
            "why": {"text": r.rationale.text, "cites": cite(r.rationale.citations)} if r.rationale else None,
        })
    rows.sort(key=lambda p: (CATEGORY_ORDER.index(Category(p["category"])), -p["rating"]))
    return rows


def variant_guide_data(kb, variant_id: str) -> dict[str, Any]:
    """The guide's sections drawn straight from the pack (used when no Markdown renderer is installed)."""
    v = kb.variants[variant_id]
    topic = kb.topic_of(variant_id)
    cite = _Numbers(kb)
    data: dict[str, Any] = {
        "topic": topic, "variant": v, "summary": v.summary, "summary_cites": cite([topic.source.citation, *v.citations]),
        "who_fits": v.who_fits,
        "exclusions": [{"text": x.text, "cites": cite(x.citations), "to": x.routes_to if x.routes_to in kb.variants else None}
                       for x in v.exclusions],
        "differentials": [{"name": d.name, "text": d.text, "cites": cite(d.citations)} for d in topic.differentials],
        "ratings": _ratings(kb, v, cite),
    }
    pathways = kb.variant_pathways.get(variant_id, ())
    if pathways:
        pw = kb.pathways[pathways[0]]
        data["branches"] = [{"finding": n.finding, "text": n.text, "cites": cite(n.citations)}
                            for n in pw.nodes.values() if n.finding]
    data["pitfalls"] = _statements(topic.pitfalls, cite)
    data["payer_notes"] = _statements(topic.payer_notes, cite)
    data["faq"] = [{"q": f.question, "a": f.answer, "cites": cite(f.citations)} for f in topic.faq]
    data["related"] = [kb.topics[t] for t in topic.related if t in kb.topics]
    data["references"] = cite.references()
    return data


def topic_guide_data(kb, topic_id: str) -> dict[str, Any]:
    """A topic's parent page drawn straight from the pack (used when no Markdown renderer is installed)."""
    topic = kb.topics[topic_id]
    cite = _Numbers(kb)
    variants = sorted((v for vid, v in kb.variants.items() if kb.variant_topic[vid] == topic_id), key=lambda v: v.number)
    return {
        "topic": topic, "summary": topic.summary, "summary_cites": cite([topic.source.citation]),
        "variants": [{"v": v, "cites": cite(v.citations)} for v in variants],
        "differentials": [{"name": d.name, "text": d.text, "cites": cite(d.citations)} for d in topic.differentials],
        "pitfalls": _statements(topic.pitfalls, cite),
        "payer_notes": _statements(topic.payer_notes, cite),
        "faq": [{"q": f.question, "a": f.answer, "cites": cite(f.citations)} for f in topic.faq],
        "related": [kb.topics[t] for t in topic.related if t in kb.topics],
        "references": cite.references(),
    }


def pathway_figure(kb, variant_id: str) -> dict[str, Any] | None:
    """The decision tree of the variant's first pathway as inline SVG, or None without one."""
    from workup.render.svg import pathway_svg

    pathways = kb.variant_pathways.get(variant_id, ())
    if not pathways:
        return None
    pw = kb.pathways[pathways[0]]
    return {"title": pw.title, "svg": Markup(pathway_svg(kb, pw))}


def guide_html(kb, *, variant_id: str | None = None, topic_id: str | None = None) -> Markup | None:
    """The guide as rendered by :mod:`workup.render.guide` (the ``workup guide`` Markdown), as HTML.

    Returns None when that renderer is not installed; the page then draws the same pack
    data through its own template.
    """
    try:
        from workup.render.guide import render_topic_guide, render_variant_guide
    except ImportError:
        return None
    md = render_variant_guide(kb, variant_id) if variant_id else render_topic_guide(kb, topic_id)
    return _link_guides(kb, markdown_html(md))


_MD_LINK = re.compile(r'href="([a-z0-9-]+)\.md(#[^"]*)?"')


def _link_guides(kb, html: str) -> Markup:
    """Point the Markdown's relative links between guides (``cervical-pain-4.md``) at the guide pages."""

    def repl(m: re.Match) -> str:
        name, anchor = m.group(1), m.group(2) or ""
        if name in kb.variants:
            return f'href="/guide/{name}{anchor}"'
        if name in kb.topics:
            return f'href="/guide/topic/{name}{anchor}"'
        return m.group(0)

    return Markup(_MD_LINK.sub(repl, str(html)))


