"""Audit records: pure functions from one consultation (or one feedback) to a flat dict.

A record holds codes, ids, ratings and outcomes, never free text or patient identifiers:
the audit log must be safe to export for quality review. The consultation id and the
time come in from the boundary (the service), like every id in workup.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from workup.types import Recommendation

CONSULTATION_FIELDS = (
    "consult_id", "created_at", "content_version", "hook", "service", "hook_instance",
    "status", "variant", "order_codes", "ratings", "cards",
)
FEEDBACK_FIELDS = (
    "card_uuid", "consult_id", "received_at", "outcome", "outcome_timestamp",
    "override_code", "override_system", "override_display", "accepted_suggestions",
)


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rating_entry(order_code: str, rec: Recommendation, pama: str | None) -> dict[str, Any]:
    """One rated (or unrated) order as kept in the audit log."""
    entry: dict[str, Any] = {"order": order_code, "status": rec.status.value}
    if rec.variant is not None:
        entry["variant"] = rec.variant.id
    if rec.order is not None and rec.order.procedure is not None:
        p = rec.order.procedure
        entry.update({"procedure": p.procedure_id, "rating": p.rating, "category": p.category.value})
    if pama:
        entry["pama"] = pama
    if rec.missing_facts:
        entry["missing"] = [m.fact for m in rec.missing_facts]
    return entry


def consultation_record(
    *,
    consult_id: str,
    at: datetime,
    content_version: str,
    hook: str,
    service: str,
    hook_instance: str | None,
    order_codes: Iterable[str],
    ratings: Iterable[Mapping[str, Any]],
    cards: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """Build the audit record of one consultation.

    Args:
        consult_id: the consultation id returned to the client (``urn:uuid:…``).
        at: when the consultation was answered.
        content_version: the knowledge-pack version that answered it.
        hook: ``order-select``, ``order-sign``, ``api`` or ``web`` (the clinician page).
        service: the CDS service id (or API route, or ``web``) that answered.
        hook_instance: the client's hookInstance, when there is one.
        order_codes: the ordered procedures as ``system|code`` (or the procedure name).
        ratings: one :func:`rating_entry` per order.
        cards: ``{"uuid", "indicator", "kind"}`` for each card returned.
    """
    ratings = [dict(r) for r in ratings]
    statuses = {r.get("status") for r in ratings}
    status = "rated" if "rated" in statuses else (sorted(s for s in statuses if s)[0] if statuses - {None} else "no-order")
    variants = sorted({r["variant"] for r in ratings if r.get("variant")})
    return {
        "consult_id": consult_id,
        "created_at": _iso(at),
        "content_version": content_version,
        "hook": hook,
        "service": service,
        "hook_instance": hook_instance,
        "status": status,
        "variant": ",".join(variants) or None,
        "order_codes": list(order_codes),
        "ratings": ratings,
        "cards": [dict(c) for c in cards],
    }


def feedback_record(item: Mapping[str, Any], *, consult_id: str | None, at: datetime) -> dict[str, Any]:
    """Build the audit record of one CDS Hooks feedback item (no free text is kept)."""
    override = item.get("overrideReason") or {}
    reason = override.get("reason") or {}
    accepted = [s.get("id") for s in item.get("acceptedSuggestions") or [] if isinstance(s, Mapping)]
    return {
        "card_uuid": str(item.get("card")),
        "consult_id": consult_id,
        "received_at": _iso(at),
        "outcome": str(item.get("outcome")),
        "outcome_timestamp": str(item.get("outcomeTimestamp")),
        "override_code": reason.get("code"),
        "override_system": reason.get("system"),
        "override_display": reason.get("display"),
        "accepted_suggestions": [a for a in accepted if a],
    }
