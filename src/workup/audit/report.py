"""report.html: the population audit as one self-contained, offline page.

Plotly draws the plots; its bundled JavaScript is inlined once (no CDN, no network), every
plot sits beside a table of its numbers, and the page is built from the collector's
aggregates only (never from the orders themselves), so it costs the same for any log size.
Fixed div ids and sorted inputs keep the file byte-identical for the same input.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from workup.audit.collect import BUCKETS, Collector

COLOURS = {"usually-appropriate": "#2e7d32", "may-be-appropriate": "#f9a825",
           "usually-not-appropriate": "#c62828", "unrated": "#9e9e9e"}
LABELS = {"usually-appropriate": "Usually appropriate", "may-be-appropriate": "May be appropriate",
          "usually-not-appropriate": "Usually not appropriate", "unrated": "Unrated"}
Z95, Z998 = 1.959964, 3.090232  # two-sided 95% and 99.8% normal quantiles
# A representative adult effective dose (mSv) for each ACR dose band: the band's geometric middle.
BAND_MSV = {"0 mSv": 0.0, "<0.1 mSv": 0.05, "0.1-1 mSv": 0.3, "1-10 mSv": 3.0, "10-30 mSv": 17.0, "30-100 mSv": 55.0}


def _table(head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _plot(fig, div_id: str) -> str:
    fig.update_layout(template="plotly_white", margin=dict(l=50, r=20, t=40, b=50), height=380)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False})


def _section(title: str, plot: str, table: str) -> str:
    return f'<section><h2>{html.escape(title)}</h2><div class="pair"><div class="plot">{plot}</div><div class="tbl">{table}</div></div></section>'


def _stacked(by: dict, key: str, title: str) -> str:
    import plotly.graph_objects as go

    cats = sorted(by)
    fig = go.Figure([go.Bar(name=LABELS[b], x=cats, y=[by[c][b] for c in cats], marker_color=COLOURS[b]) for b in BUCKETS])
    fig.update_layout(barmode="stack", title=title)
    rows = [[c, *[by[c][b] for b in BUCKETS], sum(by[c].values())] for c in cats]
    return _section(title, _plot(fig, f"plot-{key}"), _table([key, *[LABELS[b] for b in BUCKETS], "Orders"], rows))


def funnel(c: Collector) -> tuple[list[dict[str, Any]], float]:
    """Each provider's rated volume, low-value share and outlier flags (95% and 99.8% limits), and the mean share."""
    total = sum(p["rated"] for p in c.providers.values())
    low = sum(p["low_value"] for p in c.providers.values())
    mean = low / total if total else 0.0
    out = []
    for pid in sorted(c.providers):
        p = c.providers[pid]
        n = p["rated"]
        if not n:
            continue
        share = p["low_value"] / n
        se = math.sqrt(mean * (1 - mean) / n)
        out.append({"provider": pid, "orders": p["orders"], "rated": n, "low_value": p["low_value"], "share": share,
                    "above_95": share > mean + Z95 * se, "above_998": share > mean + Z998 * se,
                    "below_998": share < mean - Z998 * se})
    return out, mean


def _funnel_section(c: Collector) -> str:
    import plotly.graph_objects as go

    rows, mean = funnel(c)
    if not rows:
        return _section("Ordering providers", "<p>No rated orders.</p>", "")
    top = max(r["rated"] for r in rows)
    ns = sorted({max(1, round(top * k / 60)) for k in range(1, 61)} | {1})
    fig = go.Figure()
    for z, name, dash in ((Z95, "95% limit", "dash"), (Z998, "99.8% limit", "dot")):
        se = [math.sqrt(mean * (1 - mean) / n) for n in ns]
        fig.add_trace(go.Scatter(x=ns, y=[min(1, mean + z * s) for s in se], mode="lines", name=f"{name} (upper)",
                                 line=dict(color="#555", dash=dash)))
        fig.add_trace(go.Scatter(x=ns, y=[max(0, mean - z * s) for s in se], mode="lines", name=f"{name} (lower)",
                                 line=dict(color="#555", dash=dash), showlegend=False))
    fig.add_trace(go.Scatter(x=ns, y=[mean] * len(ns), mode="lines", name="mean", line=dict(color="#1565c0")))
    fig.add_trace(go.Scatter(x=[r["rated"] for r in rows], y=[r["share"] for r in rows], mode="markers", name="provider",
                             text=[r["provider"] for r in rows],
                             marker=dict(color=["#c62828" if r["above_998"] else "#ef6c00" if r["above_95"] else "#1565c0"
                                                for r in rows], size=8)))
    fig.update_layout(title="Share of rated orders rated 1–3 against volume", xaxis_title="rated orders",
                      yaxis_title="share rated 1–3")
    out = sorted((r for r in rows if r["above_95"]), key=lambda r: (-r["above_998"], -r["share"], r["provider"]))
    table = (f"<p>Mean share rated 1–3: {mean:.1%}. Providers above the 95% limit (★ above 99.8%):</p>"
             + _table(["Provider", "Rated", "Rated 1–3", "Share", "Limit"],
                      [[r["provider"], r["rated"], r["low_value"], f"{r['share']:.1%}", "99.8% ★" if r["above_998"] else "95%"]
                       for r in out]))
    return _section("Ordering providers (funnel plot)", _plot(fig, "plot-funnel"), table)


def _bar_section(title: str, key: str, items: list[tuple[str, int]], head: list[str], colour: str) -> str:
    import plotly.graph_objects as go

    fig = go.Figure([go.Bar(x=[v for _, v in items][::-1], y=[k for k, _ in items][::-1], orientation="h", marker_color=colour)])
    fig.update_layout(title=title, height=max(300, 30 * len(items) + 100))
    return _section(title, _plot(fig, f"plot-{key}"), _table(head, [[k, v] for k, v in items]))


def write_report(c: Collector, summary: dict[str, Any], out: Path) -> None:
    """Write report.html for one run from its collector and summary."""
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    n = summary["rows_out"] or 1
    head = go.Figure([go.Bar(x=[LABELS[b] for b in BUCKETS], y=[summary["appropriateness"][b] for b in BUCKETS],
                             marker_color=[COLOURS[b] for b in BUCKETS])])
    head.update_layout(title="Orders by appropriateness")
    parts = [_section("Headline", _plot(head, "plot-headline"),
                      _table(["", "Orders", "Share"], [[LABELS[b], summary["appropriateness"][b], f"{summary['appropriateness'][b] / n:.1%}"]
                                                       for b in BUCKETS]))]
    parts += [_stacked(c.by["modality"], "modality", "By modality"), _stacked(c.by["department"], "department", "By department"),
              _stacked(c.by["month"], "month", "By month"), _funnel_section(c)]
    pats = sorted(c.patterns.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    parts.append(_bar_section("Most frequent low-value patterns (rated 1–3)", "patterns",
                              [(f"{p} · {v} (rated {r})", k) for (p, v, r), k in pats], ["Procedure · variant", "Orders"], "#c62828"))
    miss = sorted(c.missing.items(), key=lambda kv: (-kv[1], kv[0]))
    reasons = sorted(c.reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    parts.append(_bar_section("Unrated orders: the documentation that would have let them be rated", "missing",
                              miss, ["Missing fact", "Orders"], "#616161"))
    parts.append(_bar_section("Unrated orders by reason", "reasons", reasons, ["Reason", "Orders"], "#9e9e9e"))
    bands = sorted(c.dose, key=lambda b: (BAND_MSV.get(b, 1e9), b))
    dose = [(b, c.dose[b]["orders"] * BAND_MSV.get(b, 0.0), c.dose[b]["low_value"] * BAND_MSV.get(b, 0.0)) for b in bands]
    fig = go.Figure([go.Bar(name="all orders", x=bands, y=[d[1] for d in dose], marker_color="#1565c0"),
                     go.Bar(name="orders rated 1–3", x=bands, y=[d[2] for d in dose], marker_color="#c62828")])
    fig.update_layout(title="Estimated collective dose (person-mSv) by radiation band", barmode="group")
    total = sum(d[1] for d in dose)
    lowd = sum(d[2] for d in dose)
    parts.append(_section("Estimated collective dose", _plot(fig, "plot-dose"),
                          f"<p>{total:,.1f} person-mSv in all, {lowd:,.1f} ({(lowd / total if total else 0):.1%}) in orders rated 1–3 "
                          "(each band at its geometric middle).</p>"
                          + _table(["Band", "Orders", "Rated 1–3", "person-mSv", "in orders rated 1–3"],
                                   [[b, c.dose[b]["orders"], c.dose[b]["low_value"], f"{t:,.1f}", f"{lv:,.1f}"] for b, t, lv in dose])))
    intro = (f"<p>{summary['rows_in']} rows in = {summary['rows_out']} orders audited + {summary['rows_refused']} refused "
             f"({', '.join(f'{k}: {v}' for k, v in summary['refused_by_code'].items()) or 'none'}).</p>")
    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>workup population audit</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}section{margin-bottom:2em}"
            ".pair{display:flex;gap:1.5em;flex-wrap:wrap}.plot{flex:3;min-width:420px}.tbl{flex:2;min-width:300px;"
            "max-height:420px;overflow:auto}table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ccc;"
            "padding:.2em .5em;text-align:left}</style>"
            f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body>"
            f"<h1>Imaging order audit</h1>{intro}{''.join(parts)}</body></html>\n")
    out.write_text(page, encoding="utf-8")
