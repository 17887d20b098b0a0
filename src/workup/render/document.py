"""The recommendation document: the JSON contract shared by the CLI, the API and CDS Hooks.

Key order is fixed and values are plain JSON types, so the same recommendation always
serialises to the same bytes (:func:`dumps`).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import orjson

from workup.types import Recommendation


def to_document(rec: Recommendation, *, include_trace: bool = True) -> dict[str, Any]:
    """Turn a recommendation into the JSON document (see README, "Recommendation document")."""
    doc: dict[str, Any] = {
        "status": rec.status._value_,
        "content_version": rec.content_version,
        "as_of": rec.as_of.isoformat(),
        "topic": rec.topic.to_dict() if rec.topic else None,
        "variant": rec.variant.to_dict() if rec.variant else None,
        "rationale": rec.rationale,
        "reason": rec.reason.to_dict() if rec.reason is not None else None,
        "procedures": [p.to_dict() for p in rec.procedures],
        "next_steps": [s.to_dict() for s in rec.next_steps],
        "missing_facts": [m.to_dict() for m in rec.missing_facts],
        "assumptions": [a.to_dict() for a in rec.assumptions],
        # facts filled in by policy are listed once, under assumptions
        "facts": rec.facts.to_list(skip_assumed=True),
        "pitfalls": [{"text": t, "citations": list(c)} for t, c in rec.pitfalls],
        "payer_notes": [{"text": t, "citations": list(c), "kind": "payer-rule"} for t, c in rec.payer_notes],
        "pathway": {"id": rec.pathway_id, "path": list(rec.path)} if rec.pathway_id else None,
        "citations": [c.to_dict() for c in rec.citations],
    }
    if rec.candidates:
        doc["candidates"] = [{"topic": t, "variant": n} for t, n in rec.candidates]
    if rec.order is not None:
        doc["order"] = rec.order.to_dict()
    if include_trace:
        doc["trace"] = [t.to_dict() for t in rec.trace]
    return doc


def _default(o: object) -> object:
    if isinstance(o, date):
        return o.isoformat()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def dumps_bytes(doc: dict[str, Any], *, indent: int | None = None) -> bytes:
    """Serialise deterministically as UTF-8 JSON: compact, or indented by two spaces.

    orjson writes the bytes (about twenty times faster than the standard library on a
    recommendation document, and the same bytes for everything a document holds); what it
    cannot encode (an integer beyond 64 bits) goes through the standard library. Numbers in a
    document are finite: intake refuses NaN and infinity (IN202) before the engine sees them.
    """
    if indent not in (None, 2):
        raise ValueError("indent must be None or 2")
    try:
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2 if indent else 0)
    except TypeError:
        text = json.dumps(doc, ensure_ascii=False, indent=indent, separators=(",", ": ") if indent else (",", ":"),
                          allow_nan=False, default=_default)
        return text.encode("utf-8")


def dumps(doc: dict[str, Any], *, indent: int | None = None) -> str:
    """:func:`dumps_bytes` as text."""
    return dumps_bytes(doc, indent=indent).decode("utf-8")
