"""Clinician guide pages rendered from the knowledge pack, as Markdown.

A *variant guide* follows the shape of the seed clinician guide: who fits and who does not
(each exclusion linking to the scenario it routes to), the differential, the rated studies
with their rationale, the downstream workflow drawn from the pathway as nested bullets by
finding, pitfalls, FAQ, payer rules (labelled as such, apart from the ACR rating) and
numbered references. A *topic guide* is the parent page: every variant with its usually
appropriate studies and a link to its guide.

Pure and deterministic: the same pack gives byte-identical Markdown. No clock, no I/O
beyond the pack already loaded.
"""

from __future__ import annotations

from collections.abc import Callable

import yaml

from workup.engine.rate import display_name, rate
from workup.kb.load import KnowledgeBase
from workup.kb.schema import (
    AgeRange,
    AllOf,
    AnyOf,
    Criterion,
    DurationRange,
    FactIs,
    NotOf,
    NumberRange,
    PathwayDef,
    RefTo,
    VariantDef,
)
from workup.types import Category, RatedProcedure

Href = Callable[[str], str]

_KIND_LABEL = {
    "imaging": "Image",
    "referral": "Refer",
    "labs": "Labs",
    "assessment": "Assess",
    "conservative-care": "Conservative care",
    "escalate": "Escalate",
    "defer": "Defer",
}
_UNIT_WORDS = {"d": "days", "w": "weeks", "mo": "months", "y": "years"}
_RRL_LEGEND = "Radiation: O none · ☢ <0.1 mSv · ☢☢ 0.1-1 mSv · ☢☢☢ 1-10 mSv · ☢☢☢☢ 10-30 mSv · ☢☢☢☢☢ 30-100 mSv (adult effective dose)."


def default_href(page_id: str) -> str:
    """Link target for a variant or topic page: ``<id>.md`` next to the current page."""
    return f"{page_id}.md"


class _Refs:
    """Numbers citation ids in order of first use on the page."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.order: list[str] = []

    def __call__(self, ids: list[str]) -> str:
        out = []
        for cid in ids:
            if cid not in self.order:
                self.order.append(cid)
            out.append(self.order.index(cid) + 1)
        return "".join(f"[{n}]" for n in sorted(set(out)))

    def section(self) -> list[str]:
        lines = ["## References", ""]
        for n, cid in enumerate(self.order, 1):
            c = self.kb.citations[cid]
            lines.append(f"{n}. {c.text}" + (f" <{c.url}>" if c.url else ""))
        return lines


def _cell(s: str) -> str:
    return s.replace("|", "\\|")


def _statements(w: Callable[[str], None], title: str, statements, refs) -> None:
    """Write a ``##`` section of cited statements as bullets (nothing when there are none)."""
    if statements:
        w("")
        w(f"## {title}")
        w("")
        for s in statements:
            w(f"- {_join(s.text, refs(s.citations))}")


def _join(text: str, cites: str) -> str:
    return f"{text} {cites}" if cites else text


def variant_region(variant: VariantDef) -> str | None:
    """The spine region a variant is defined for (``region equals X`` at its top level), if any."""
    c = variant.criteria
    items = c.of if isinstance(c, AllOf) else [c]
    for it in items:
        if isinstance(it, FactIs) and it.fact == "region" and it.equals:
            return it.equals
    return None


def _rated(kb: KnowledgeBase, variant: VariantDef) -> tuple[RatedProcedure, ...]:
    return rate(kb, variant, variant_region(variant))


# --------------------------------------------------------------------- criteria in words


class _Words:
    """Turns criteria into short clinician-readable phrases (labels come from the fact vocabulary)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        raw = yaml.safe_load(kb.files.get("criteria.yaml", "")) or {}
        self.named = {c["id"]: c.get("description", c["id"]) for c in raw.get("criteria", [])}

    def label(self, fid: str) -> str:
        fd = self.kb.facts.get(fid)
        return fd.label if fd else fid.replace("_", " ")

    def __call__(self, c: Criterion) -> str:
        if isinstance(c, FactIs):
            if c.equals is not None:
                return f"{self.label(c.fact).lower()} is {c.equals}"
            if c.in_ is not None:
                return f"{self.label(c.fact).lower()} is {' or '.join(c.in_)}"
            return ("no " if c.is_ is False else "") + self.label(c.fact)
        if isinstance(c, AnyOf):
            return " or ".join(self(x) for x in c.of)
        if isinstance(c, AllOf):
            return " and ".join(self(x) for x in c.of)
        if isinstance(c, NotOf):
            inner = c.of
            if isinstance(inner, FactIs) and inner.equals is None and inner.in_ is None and inner.is_ is not False:
                return f"not: {self.label(inner.fact)}"
            return f"not ({self(c.of)})"
        if isinstance(c, RefTo):
            return self.named.get(c.ref, c.ref.replace("_", " ")).rstrip(".")
        if isinstance(c, DurationRange):
            return self._range(self.label(c.fact), _duration_words(c.gte), _duration_words(c.lt))
        if isinstance(c, AgeRange):
            return self._range("age", _num(c.gte), _num(c.lt))
        if isinstance(c, NumberRange):
            fd = self.kb.facts.get(c.fact)
            unit = f" {fd.unit}" if fd and fd.unit else ""
            lo = f"{_num(c.gte)}{unit}" if c.gte is not None else None
            hi = f"{_num(c.lt)}{unit}" if c.lt is not None else None
            return self._range(self.label(c.fact), lo, hi)
        return type(c).__name__  # pragma: no cover - the schema admits no other kind

    @staticmethod
    def _range(what: str, lo: str | None, hi: str | None) -> str:
        if lo and hi:
            return f"{what} from {lo} to under {hi}"
        if lo:
            return f"{what} {lo} or more"
        return f"{what} under {hi}"


def _num(v: float | None) -> str | None:
    if v is None:
        return None
    return str(int(v)) if float(v).is_integer() else str(v)


def _duration_words(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip()
    for unit in ("mo", "d", "w", "y"):
        if v.endswith(unit):
            return f"{v[: -len(unit)]} {_UNIT_WORDS[unit]}"
    return v


# --------------------------------------------------------------------- pathway as nested bullets


class _PathwayDrawing:
    """Draws a pathway as nested bullets; shared decision points get their own sub-section."""

    def __init__(self, kb: KnowledgeBase, pw: PathwayDef, region: str | None, refs: _Refs, words: _Words) -> None:
        self.kb, self.pw, self.region, self.refs, self.words = kb, pw, region, refs, words
        indegree: dict[str, int] = {}
        for node in pw.nodes.values():
            targets = [t.to for t in node.transitions] + ([node.else_] if node.else_ else []) + list(node.then)
            for t in targets:
                indegree[t] = indegree.get(t, 0) + 1
        # A decision reached from several places is drawn once, as its own sub-section.
        self.shared = {nid for nid, n in pw.nodes.items() if n.type == "decision" and indegree.get(nid, 0) > 1}
        self.sections: list[str] = []

    def draw(self) -> list[str]:
        lines = self.subtree(self.pw.start, 0, ())
        drawn: list[str] = []
        i = 0
        while i < len(self.sections):  # sections may add further sections while drawn
            nid = self.sections[i]
            node = self.pw.nodes[nid]
            body = self._decision(nid, -1, (nid,))
            drawn.extend(["", f"#### {_join(node.text, self.refs(node.citations))}", "", *body])
            i += 1
        return lines + drawn

    def _goto(self, nid: str, depth: int) -> list[str]:
        if nid not in self.sections:
            self.sections.append(nid)
        return [f"{'  ' * depth}- Continue with “{self.pw.nodes[nid].text}” below."]

    def subtree(self, nid: str, depth: int, stack: tuple[str, ...]) -> list[str]:
        if nid in stack:
            return [f"{'  ' * depth}- Return to “{self.pw.nodes[nid].text}”."]
        node = self.pw.nodes[nid]
        if nid in self.shared and stack:
            return self._goto(nid, depth)
        if node.type == "decision":
            return self._decision(nid, depth, stack + (nid,))
        pad = "  " * depth
        if node.type == "end":
            return [f"{pad}- Stop: {node.text}"]
        head = _KIND_LABEL[node.type]
        if node.urgency and node.urgency != "routine":
            head += f" ({node.urgency})"
        if node.procedure:
            name, _ = display_name(self.kb, self.kb.procedures[node.procedure], self.region)
            head += f": {name}"
        lines = [f"{pad}- **{head}** — {_join(node.text, self.refs(node.citations))}"]
        for nxt in node.then:
            lines.extend(self.subtree(nxt, depth, stack + (nid,)))
        return lines

    def _decision(self, nid: str, depth: int, stack: tuple[str, ...]) -> list[str]:
        """The question, then one bullet per branch; depth -1 draws the branches only (a sub-section)."""
        node = self.pw.nodes[nid]
        pad = "  " * max(depth, 0)
        lines: list[str] = []
        if depth >= 0:
            lines.append(f"{pad}- {_join(node.text, self.refs(node.citations))}")
            pad += "  "
        depth = max(depth, 0) - (0 if lines else 1)
        for t in node.transitions:
            target = self.pw.nodes[t.to]
            cond = target.finding or self.words(t.when)
            lines.append(f"{pad}- *{cond}:*")
            lines.extend(self.subtree(t.to, depth + 2, stack))
        if node.else_:
            lines.append(f"{pad}- *Otherwise:*")
            lines.extend(self.subtree(node.else_, depth + 2, stack))
        return lines


# --------------------------------------------------------------------- pages


def render_variant_guide(kb: KnowledgeBase, variant_id: str, *, href: Href = default_href) -> str:
    """Render the clinician guide for one variant as Markdown.

    Args:
        kb: the knowledge base.
        variant_id: a variant id such as ``cervical-pain-3``.
        href: maps a variant or topic id to a link target (default ``<id>.md``).

    Raises:
        KeyError: when the variant is not in the pack.
    """
    v = kb.variants[variant_id]
    topic = kb.topic_of(variant_id)
    region = variant_region(v)
    refs = _Refs(kb)
    words = _Words(kb)
    out: list[str] = []
    w = out.append

    w(f"# {v.title}")
    w("")
    src = refs([topic.source.citation, *v.citations])
    w(f"*{topic.source.publisher} Appropriateness Criteria: {topic.source.title}, variant {v.number} "
      f"({topic.source.version}) {src}. Part of [{topic.title}]({href(topic.id)}).*")
    w("")
    w(v.summary)

    w("")
    w("## Who fits")
    w("")
    w(v.who_fits or v.summary)

    if v.exclusions:
        w("")
        w("## Who does not fit, and where they go")
        w("")
        for ex in v.exclusions:
            line = ex.text
            if ex.routes_to and ex.routes_to in kb.variants:
                other = kb.variants[ex.routes_to]
                line += f" → [{other.title}]({href(other.id)})"
            w(f"- {_join(line, refs(ex.citations))}")

    if topic.differentials:
        w("")
        w("## Differential diagnosis")
        w("")
        for d in topic.differentials:
            w(f"- **{d.name}.** {_join(d.text, refs(d.citations))}")

    procs = _rated(kb, v)
    w("")
    w("## Rated procedures")
    w("")
    w(f"ACR ratings for this scenario {refs([topic.source.citation])}: 7-9 usually appropriate, 4-6 may be appropriate, 1-3 usually not appropriate.")
    w("")
    w("| Rating | Category | Procedure | Radiation | Adult dose |")
    w("|---:|---|---|---|---|")
    for p in procs:
        w(f"| {p.rating} | {p.category.label} | {_cell(p.name)} | {p.rrl.level} | {p.rrl.adult_dose} |")
    w("")
    w(_RRL_LEGEND)
    rationale = {r.procedure: r.rationale for r in v.ratings if r.rationale is not None}
    explained = [(p, rationale[p.procedure_id]) for p in procs if p.procedure_id in rationale]
    if explained:
        w("")
        w("### Why these studies")
        w("")
        for p, st in explained:
            w(f"- **{p.name}** — {p.category.label.lower()} ({p.rating}), {p.rrl.level} {p.rrl.adult_dose}. "
              f"{_join(st.text, refs(st.citations))}")

    pathway_ids = kb.variant_pathways.get(variant_id, ())
    w("")
    w("## Downstream workflow")
    if not pathway_ids:
        w("")
        w(_default_workflow(procs, refs([topic.source.citation])))
    for pid in pathway_ids:
        pw = kb.pathways[pid]
        # A pathway shared by several regions draws "area of interest" studies unresolved,
        # so that a branch for another region never shows this variant's region.
        regions = {variant_region(kb.variants[x]) for x in pw.variants if x in kb.variants}
        pw_region = region if regions == {region} else None
        w("")
        w(f"### {pw.title}")
        w("")
        if pw.applies_when is not None:
            w(f"*Applies when: {words(pw.applies_when)}.*")
            w("")
        out.extend(_PathwayDrawing(kb, pw, pw_region, refs, words).draw())

    _statements(w, "Pitfalls to avoid", topic.pitfalls, refs)

    if topic.faq:
        w("")
        w("## Frequently asked questions")
        for f in topic.faq:
            w("")
            w(f"### {f.question}")
            w("")
            w(_join(f.answer, refs(f.citations)))

    _statements(w, "Payer rules (coverage policy, not part of the ACR rating)", topic.payer_notes, refs)

    w("")
    w("## Related")
    w("")
    w(f"- Parent guide: [{topic.title}]({href(topic.id)})")
    for line in _topic_links(kb, topic.related, href):
        w(line)
    return _finished(out, refs)


def _default_workflow(procs: tuple[RatedProcedure, ...], cites: str) -> str:
    best = [p for p in procs if p.category is Category.USUALLY_APPROPRIATE]
    if best:
        top = min(best, key=lambda p: (-p.rating, p.rrl_rank, p.name))
        return _join(f"No pathway is defined; {top.name} is the highest-rated study (rating {top.rating}).", cites)
    return _join("No pathway is defined and no study is usually appropriate; manage clinically and reassess.", cites)


def render_topic_guide(kb: KnowledgeBase, topic_id: str, *, href: Href = default_href) -> str:
    """Render a topic's parent page: every variant with its usually appropriate studies.

    Args:
        kb: the knowledge base.
        topic_id: a topic id such as ``cervical-pain``.
        href: maps a variant or topic id to a link target (default ``<id>.md``).

    Raises:
        KeyError: when the topic is not in the pack.
    """
    topic = kb.topics[topic_id]
    refs = _Refs(kb)
    out: list[str] = []
    w = out.append
    w(f"# {topic.title}")
    w("")
    w(f"*{topic.source.publisher} Appropriateness Criteria: {topic.source.title} ({topic.source.version}) "
      f"{refs([topic.source.citation])}.*")
    w("")
    w(topic.summary)
    w("")
    w("## Scenarios")
    w("")
    w("| Variant | Scenario | Usually appropriate | Workflow |")
    w("|---:|---|---|---|")
    variants = sorted((v for v in kb.variants.values() if kb.variant_topic[v.id] == topic_id), key=lambda v: v.number)
    for v in variants:
        procs = _rated(kb, v)
        ua = [f"{p.name} ({p.rrl.level})" for p in procs if p.category is Category.USUALLY_APPROPRIATE]
        if not ua:
            may = [p.name for p in procs if p.category in (Category.MAY_BE_APPROPRIATE, Category.MAY_BE_APPROPRIATE_DISAGREEMENT)]
            cell = "None at this stage" + (f"; may be appropriate: {', '.join(may)}" if may else "")
        else:
            cell = "; ".join(ua)
        pws = [kb.pathways[pid].title for pid in kb.variant_pathways.get(v.id, ())]
        w(f"| {v.number} | [{_cell(v.title)}]({href(v.id)}) | {_cell(cell)} | {_cell(' / '.join(pws) or '—')} |")
    w("")
    w(_RRL_LEGEND)

    for v in variants:
        w("")
        w(f"### Variant {v.number}: [{v.title}]({href(v.id)})")
        w("")
        w(v.summary)

    _statements(w, "Pitfalls to avoid", topic.pitfalls, refs)

    _statements(w, "Payer rules (coverage policy, not part of the ACR rating)", topic.payer_notes, refs)

    if topic.related:
        w("")
        w("## Related topics")
        w("")
        for line in _topic_links(kb, topic.related, href):
            w(line)
    return _finished(out, refs)


def _topic_links(kb: KnowledgeBase, topic_ids: list[str], href: Href) -> list[str]:
    """A Markdown link line for each packed topic of ``topic_ids`` (others are left out)."""
    return [f"- [{kb.topics[tid].title}]({href(tid)})" for tid in topic_ids if tid in kb.topics]


def _finished(out: list[str], refs: _Refs) -> str:
    """The guide's lines with its numbered references at the end, as one Markdown text."""
    out.append("")
    out.extend(refs.section())
    return "\n".join(out) + "\n"


__all__ = ["default_href", "render_topic_guide", "render_variant_guide", "variant_region"]
