"""``workup audit consultations``: the service's own audit log (SQLite or PostgreSQL) summarised.

Reads every consultation with its CDS Hooks feedback from :class:`workup.audit.store.AuditStore`
and counts: consultations by hook and status, ordered studies by appropriateness, cards that
got feedback, accepted and overridden shares, and override reasons by the category of the
order they overrode. Writes ``consultations.json`` and a self-contained ``consultations.html``.
"""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from workup.audit.orders import _bucket


def summarise(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Counts over audit-log records (as :meth:`AuditStore.consultations` yields them)."""
    hooks: Counter = Counter()
    statuses: Counter = Counter()
    buckets: Counter = Counter()
    outcomes: Counter = Counter()
    reasons: dict[str, Counter] = defaultdict(Counter)
    n = cards = with_feedback = 0
    for rec in records:
        n += 1
        hooks[rec.get("hook") or "(none)"] += 1
        statuses[rec.get("status") or "(none)"] += 1
        cats = sorted({_bucket(r.get("category")) for r in rec.get("ratings") or []}) or ["unrated"]
        for r in rec.get("ratings") or []:
            buckets[_bucket(r.get("category"))] += 1
        cards += len(rec.get("cards") or [])
        seen = set()
        for fb in rec.get("feedback") or []:
            seen.add(fb.get("card_uuid"))
            outcomes[fb.get("outcome") or "(none)"] += 1
            if fb.get("outcome") == "overridden":
                why = fb.get("override_display") or fb.get("override_code") or "(no reason given)"
                for c in cats:
                    reasons[c][why] += 1
        with_feedback += len(seen)
    fb_total = sum(outcomes.values())
    return {
        "consultations": n,
        "by_hook": dict(sorted(hooks.items())),
        "by_status": dict(sorted(statuses.items())),
        "orders_by_appropriateness": dict(sorted(buckets.items())),
        "cards": cards,
        "cards_with_feedback": with_feedback,
        "feedback_outcomes": dict(sorted(outcomes.items())),
        "accepted_share": round(outcomes["accepted"] / fb_total, 4) if fb_total else None,
        "overridden_share": round(outcomes["overridden"] / fb_total, 4) if fb_total else None,
        "override_reasons_by_category": {c: dict(sorted(v.items(), key=lambda kv: (-kv[1], kv[0])))
                                         for c, v in sorted(reasons.items())},
    }


def _table(head: list[str], rows: list[list[Any]]) -> str:
    th = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def write_consultations_report(s: dict[str, Any], out: Path) -> None:
    """Write consultations.json and consultations.html (Plotly inlined, tables beside plots) under ``out``."""
    import plotly.graph_objects as go
    from plotly.offline import get_plotlyjs

    out.mkdir(parents=True, exist_ok=True)
    (out / "consultations.json").write_text(json.dumps(s, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
    o = s["feedback_outcomes"]
    fig = go.Figure([go.Bar(x=list(o), y=list(o.values()), marker_color="#1565c0")])
    fig.update_layout(title="Card feedback", template="plotly_white", height=360)
    rows = [[c, why, k] for c, v in s["override_reasons_by_category"].items() for why, k in v.items()]
    fig2 = go.Figure([go.Bar(name=c, x=list(v), y=list(v.values())) for c, v in s["override_reasons_by_category"].items()])
    fig2.update_layout(title="Override reasons by the order's category", barmode="group", template="plotly_white", height=360)
    share = "n/a" if s["accepted_share"] is None else f"{s['accepted_share']:.1%} accepted, {s['overridden_share']:.1%} overridden"
    parts = [
        f"<p>{s['consultations']} consultations, {s['cards']} cards, {s['cards_with_feedback']} with feedback ({share}).</p>",
        "<section><h2>Feedback</h2><div class=\"pair\"><div class=\"plot\">"
        + fig.to_html(full_html=False, include_plotlyjs=False, div_id="plot-feedback") + "</div><div class=\"tbl\">"
        + _table(["Outcome", "Cards"], [[k, v] for k, v in o.items()]) + "</div></div></section>",
        "<section><h2>Override reasons</h2><div class=\"pair\"><div class=\"plot\">"
        + fig2.to_html(full_html=False, include_plotlyjs=False, div_id="plot-overrides") + "</div><div class=\"tbl\">"
        + _table(["Order category", "Reason", "Overrides"], rows) + "</div></div></section>",
        "<section><h2>Consultations</h2>" + _table(["Status", "Consultations"], list(map(list, s["by_status"].items())))
        + _table(["Hook", "Consultations"], list(map(list, s["by_hook"].items()))) + "</section>",
    ]
    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>workup consultations audit</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:1.5em}.pair{display:flex;gap:1.5em;flex-wrap:wrap}"
            ".plot{flex:3;min-width:420px}.tbl{flex:2}table{border-collapse:collapse;font-size:.85em;margin:.5em 0}"
            "td,th{border:1px solid #ccc;padding:.2em .5em}</style>"
            f"<script type=\"text/javascript\">{get_plotlyjs()}</script></head><body><h1>Consultations audit</h1>"
            f"{''.join(parts)}</body></html>\n")
    (out / "consultations.html").write_text(page, encoding="utf-8")
