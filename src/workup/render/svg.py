"""A pathway drawn as an SVG decision tree, with the patient's current path highlighted.

Pure and deterministic: the same pathway and path always give the same bytes. The layout
is layered left to right by breadth-first distance from the start node; within a column
nodes keep the order in which they are first reached. Every node carries a ``<title>``
with its full text (a tooltip in browsers) and the drawing has a text alternative.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

from workup.kb.load import KnowledgeBase
from workup.kb.schema import Criterion, PathwayDef, PathwayNode

NODE_W = 196
NODE_H = 74
COL_GAP = 118
ROW_GAP = 16
PAD = 16
LINE_CHARS = 30
MAX_LINES = 3

_KIND_LABEL = {
    "decision": "Decision",
    "imaging": "Imaging",
    "referral": "Referral",
    "labs": "Labs",
    "assessment": "Assessment",
    "conservative-care": "Conservative care",
    "escalate": "Escalate",
    "defer": "Defer",
    "end": "End",
}

_STYLE = """
.wu-node rect{fill:#f8fafc;stroke:#94a3b8;stroke-width:1}
.wu-node text{fill:#334155;font:11px system-ui,sans-serif}
.wu-node .kind{font-size:9.5px;font-weight:600;letter-spacing:.04em;text-transform:uppercase;fill:#475569}
.wu-node.decision rect{stroke-dasharray:4 2}
.wu-node.on rect{fill:#e0ecff;stroke:#1d4ed8;stroke-width:2}
.wu-node.on text{fill:#0f172a}
.wu-node.now rect{fill:#fff4d6;stroke:#b45309;stroke-width:3}
.wu-edge{fill:none;stroke:#cbd5e1;stroke-width:1.2}
.wu-edge.on{stroke:#1d4ed8;stroke-width:2.6}
.wu-elabel{fill:#64748b;font:9.5px system-ui,sans-serif}
.wu-elabel.on{fill:#1e3a8a;font-weight:600}
"""


@dataclass(frozen=True, slots=True)
class Edge:
    """One arrow of the drawing: a transition, the ``else`` branch or a ``then`` link."""

    source: str
    target: str
    label: str


def edges(kb: KnowledgeBase, pathway: PathwayDef) -> tuple[Edge, ...]:
    """List the pathway's arrows in a stable order (transitions, else, then)."""
    out: list[Edge] = []
    for nid, node in pathway.nodes.items():
        for t in node.transitions:
            out.append(Edge(nid, t.to, criterion_label(kb, t.when)))
        if node.else_:
            out.append(Edge(nid, node.else_, "otherwise"))
        for nxt in node.then:
            out.append(Edge(nid, nxt, ""))
    return tuple(out)


def criterion_label(kb: KnowledgeBase, c: Criterion, depth: int = 0) -> str:
    """A few words for a transition's condition (fact ids humanised, named criteria by name)."""
    kind = c.type
    if kind == "fact":
        name = c.fact.replace("_", " ")
        if c.is_ is False:
            return f"not {name}"
        if c.equals is not None:
            return f"{name} = {c.equals}"
        if c.in_ is not None:
            return f"{name} in {'/'.join(c.in_)}"
        return name
    if kind == "ref":
        return c.ref.replace("_", " ")
    if kind == "not":
        return "not " + criterion_label(kb, c.of, depth + 1)
    if kind in ("any", "all"):
        parts = [criterion_label(kb, x, depth + 1) for x in c.of]
        joined = (" or " if kind == "any" else " and ").join(parts)
        return joined if len(joined) <= 40 or depth else joined[:39] + "…"
    if kind == "age":
        return "age " + " ".join(p for p in (f"≥{c.gte:g}" if c.gte is not None else "", f"<{c.lt:g}" if c.lt is not None else "") if p)
    bounds = " ".join(p for p in (f"≥{c.gte}" if c.gte is not None else "", f"<{c.lt}" if c.lt is not None else "") if p)
    return f"{c.fact.replace('_', ' ')} {bounds}"


def node_title(kb: KnowledgeBase, node: PathwayNode) -> str:
    """The short text shown inside a node: the procedure for imaging, else the node text."""
    if node.procedure and node.procedure in kb.procedures:
        name = kb.procedures[node.procedure].reference_name
        return f"Defer {name}" if node.type == "defer" else name
    return node.text


def layout(pathway: PathwayDef, all_edges: Sequence[Edge]) -> dict[str, tuple[int, int]]:
    """Column and row of each node: columns by breadth-first depth, rows ordered to limit crossings."""
    out_edges: dict[str, list[str]] = {}
    for e in all_edges:
        out_edges.setdefault(e.source, []).append(e.target)
    depth: dict[str, int] = {pathway.start: 0}
    order = [pathway.start]
    i = 0
    while i < len(order):
        nid = order[i]
        i += 1
        for nxt in out_edges.get(nid, []):
            if nxt not in depth and nxt in pathway.nodes:
                depth[nxt] = depth[nid] + 1
                order.append(nxt)
    last = max(depth.values(), default=0) + 1
    for nid in pathway.nodes:  # unreachable nodes still get drawn, in a last column
        if nid not in depth:
            depth[nid] = last
            order.append(nid)
    columns: dict[int, list[str]] = {}
    for nid in order:
        columns.setdefault(depth[nid], []).append(nid)
    _untangle(columns, depth, all_edges)
    return {nid: (col, row) for col, ids in columns.items() for row, nid in enumerate(ids)}


def _untangle(columns: dict[int, list[str]], depth: dict[str, int], all_edges: Sequence[Edge], sweeps: int = 4) -> None:
    """Reorder each column by the mean position of its neighbours (barycentre heuristic).

    Fewer crossing arrows; stable sorts keep the result deterministic.
    """
    before: dict[str, list[str]] = {}
    after: dict[str, list[str]] = {}
    for e in all_edges:
        if e.source in depth and e.target in depth and depth[e.target] > depth[e.source]:
            after.setdefault(e.source, []).append(e.target)
            before.setdefault(e.target, []).append(e.source)

    def centred() -> dict[str, float]:
        return {nid: row - (len(ids) - 1) / 2 for ids in columns.values() for row, nid in enumerate(ids)}

    for sweep in range(sweeps):
        forward = sweep % 2 == 0
        cols = sorted(columns) if forward else sorted(columns, reverse=True)
        for col in cols[1:]:
            y = centred()
            links = before if forward else after

            def key(nid: str) -> float:
                near = [y[n] for n in links.get(nid, []) if n in y]
                return sum(near) / len(near) if near else y[nid]

            columns[col] = sorted(columns[col], key=key)


def _wrap(text: str, width: int = LINE_CHARS, lines: int = MAX_LINES) -> list[str]:
    words = text.split()
    out: list[str] = []
    cur = ""
    for w in words:
        if len(w) > width:
            w = w[: width - 1] + "…"
        if not cur:
            cur = w
        elif len(cur) + 1 + len(w) <= width:
            cur += " " + w
        else:
            out.append(cur)
            cur = w
        if len(out) == lines:
            break
    if cur and len(out) < lines:
        out.append(cur)
    shown = " ".join(out)
    if len(shown) < len(" ".join(words)) and out:
        last_line = out[-1]
        out[-1] = (last_line[: width - 1] if len(last_line) >= width else last_line) + "…"
    return out


def pathway_svg(
    kb: KnowledgeBase,
    pathway: PathwayDef,
    path: Iterable[str] = (),
    current: Iterable[str] = (),
) -> str:
    """Draw ``pathway`` as SVG markup.

    Args:
        kb: the knowledge base (procedure names and fact ids for labels).
        pathway: the pathway to draw.
        path: node ids the engine visited, in order (``Recommendation.path``); drawn highlighted.
        current: node ids of the current next steps; drawn emphasised.

    Returns:
        A standalone ``<svg>`` element (no external references).
    """
    path = tuple(path)
    on = set(path)
    now = set(current)
    rank = {nid: i for i, nid in enumerate(path)}
    all_edges = edges(kb, pathway)
    pos = layout(pathway, all_edges)
    ncols = max(c for c, _ in pos.values()) + 1
    col_rows = [sum(1 for c, _ in pos.values() if c == k) for k in range(ncols)]
    max_rows = max(col_rows)
    height = PAD * 2 + max_rows * NODE_H + (max_rows - 1) * ROW_GAP
    width = PAD * 2 + ncols * NODE_W + (ncols - 1) * COL_GAP

    def box(nid: str) -> tuple[float, float]:
        col, row = pos[nid]
        rows = col_rows[col]
        col_h = rows * NODE_H + (rows - 1) * ROW_GAP
        top = (height - col_h) / 2
        return PAD + col * (NODE_W + COL_GAP), top + row * (NODE_H + ROW_GAP)

    steps_text = " → ".join(path) if path else "none"
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="wu-pathway" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="wu-pw-title wu-pw-desc">',
        f'<title id="wu-pw-title">{escape(pathway.title)}</title>',
        f'<desc id="wu-pw-desc">Decision tree with {len(pathway.nodes)} steps. Current path: {escape(steps_text)}.</desc>',
        f"<style>{_STYLE}</style>",
        '<defs><marker id="wu-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#94a3b8"/></marker>'
        '<marker id="wu-arrow-on" viewBox="0 0 10 10" refX="9" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1d4ed8"/></marker></defs>',
    ]
    # Edges first (off-path, then on-path) so highlighted arrows sit on top.
    edge_svg: list[tuple[bool, str]] = []
    placed: list[tuple[float, float]] = []  # label anchors already used, to keep labels apart
    for e in all_edges:
        if e.target not in pos:
            continue
        sx, sy = box(e.source)
        tx, ty = box(e.target)
        x1, y1 = sx + NODE_W, sy + NODE_H / 2
        x2, y2 = tx, ty + NODE_H / 2
        if tx <= sx:  # a link back to an earlier column: loop under the nodes
            x1, y1 = sx + NODE_W / 2, sy + NODE_H
            x2, y2 = tx + NODE_W / 2, ty + NODE_H
            d = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{y1 + 40:.1f} {x2:.1f},{y2 + 40:.1f} {x2:.1f},{y2:.1f}"
            lx, ly = (x1 + x2) / 2, max(y1, y2) + 30
        else:
            dx = max(30.0, (x2 - x1) / 2)
            d = f"M{x1:.1f},{y1:.1f} C{x1 + dx:.1f},{y1:.1f} {x2 - dx:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
            lx, ly = x2 - COL_GAP + 8, y2 - 5
        taken = e.source in on and e.target in on and rank[e.source] < rank[e.target]
        cls = " on" if taken else ""
        marker = "wu-arrow-on" if taken else "wu-arrow"
        svg = f'<path class="wu-edge{cls}" d="{d}" marker-end="url(#{marker})"><title>{escape(e.source)} → {escape(e.target)}{": " + escape(e.label) if e.label else ""}</title></path>'
        if e.label:
            while any(abs(px - lx) < 60 and abs(py - ly) < 11 for px, py in placed):
                ly += 11
            placed.append((lx, ly))
            svg += f'<text class="wu-elabel{cls}" x="{lx:.1f}" y="{ly:.1f}">{escape(_wrap(e.label, 19, 1)[0])}</text>'
        edge_svg.append((taken, svg))
    parts.extend(s for taken, s in edge_svg if not taken)
    parts.extend(s for taken, s in edge_svg if taken)
    for nid, node in pathway.nodes.items():
        x, y = box(nid)
        cls = ["wu-node", node.type]
        if nid in on:
            cls.append("on")
        if nid in now:
            cls.append("now")
        kind = _KIND_LABEL.get(node.type, node.type)
        if node.urgency and node.urgency != "routine":
            kind += f" · {node.urgency}"
        lines = _wrap(node_title(kb, node))
        parts.append(f'<g class="{" ".join(cls)}" id="wu-node-{escape(nid)}" data-node="{escape(nid)}">')
        parts.append(f"<title>{escape(node.text)}</title>")
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{NODE_W}" height="{NODE_H}" rx="8"/>')
        parts.append(f'<text class="kind" x="{x + 9:.1f}" y="{y + 15:.1f}">{escape(kind)}</text>')
        for i, line in enumerate(lines):
            parts.append(f'<text x="{x + 9:.1f}" y="{y + 31 + i * 14:.1f}">{escape(line)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)
