"""`workup audit consultations`: the service's audit log summarised (SQLite here; PostgreSQL by URL)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from typer.testing import CliRunner

from workup.audit.record import consultation_record, feedback_record
from workup.audit.store import AuditStore
from workup.cli import app

AT = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


def _consult(store: AuditStore, category: str, rating: int) -> str:
    card = str(uuid.uuid4())
    rec = consultation_record(
        consult_id=f"urn:uuid:{uuid.uuid4()}", at=AT, content_version="v", hook="order-sign", service="s",
        hook_instance=None, order_codes=["x|1"],
        ratings=[{"order": "x|1", "status": "rated", "variant": "low-back-pain-1", "rating": rating, "category": category}],
        cards=[{"uuid": card, "indicator": "warning", "kind": "rating"}])
    store.record_consultation(rec)
    return card, rec["consult_id"]


def test_consultations_audit_counts_outcomes_and_override_reasons(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    store = AuditStore(url)
    low = [_consult(store, "usually-not-appropriate", 2) for _ in range(3)]
    good = _consult(store, "usually-appropriate", 8)
    for i, (card, cid) in enumerate(low):
        item = {"card": card, "outcome": "overridden" if i < 2 else "accepted", "outcomeTimestamp": "t"}
        if i < 2:
            item["overrideReason"] = {"reason": {"code": "pt-pref", "system": "s", "display": "Patient preference"}}
        store.record_feedback(feedback_record(item, consult_id=cid, at=AT))
    store.record_feedback(feedback_record({"card": good[0], "outcome": "accepted", "outcomeTimestamp": "t"},
                                          consult_id=good[1], at=AT))
    store.close()
    r = CliRunner().invoke(app, ["audit", "consultations", "--database-url", url, "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "o" / "consultations.json").read_text(encoding="utf-8"))
    assert s["consultations"] == 4 and s["cards"] == 4 and s["cards_with_feedback"] == 4
    assert s["feedback_outcomes"] == {"accepted": 2, "overridden": 2}
    assert s["accepted_share"] == 0.5
    assert s["override_reasons_by_category"] == {"usually-not-appropriate": {"Patient preference": 2}}
    assert s["orders_by_appropriateness"] == {"usually-appropriate": 1, "usually-not-appropriate": 3}
    page = (tmp_path / "o" / "consultations.html").read_text(encoding="utf-8")
    assert 'id="plot-overrides"' in page and "Patient preference" in page
