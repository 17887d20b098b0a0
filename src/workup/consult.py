"""One consultation from caller input: facts, free text and/or a FHIR Bundle → a recommendation.

Shared by the CLI (``workup recommend``) and the HTTP API (``POST /v1/recommend``) so both
read input the same way and raise the same coded errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from workup.errors import IntakeError
from workup.types import Facts, Recommendation, Status

MAX_TEXT = 100_000  # characters of free text accepted for one scenario
FIELDS = frozenset({"id", "facts", "text", "order", "as_of", "fhir"})


@dataclass(frozen=True)
class Consultation:
    """A recommendation with the readings it was built from."""

    recommendation: Recommendation
    reading: Any | None  # the free-text reading, when text was given
    order: str | None  # the ordered procedure that was rated, if any


def parse_as_of(value: Any) -> date:
    """Parse a consultation date given as YYYY-MM-DD."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise IntakeError(f"as_of must be a date as YYYY-MM-DD, got {value!r}", code="IN210") from None


def read_text(text: Any, kb, as_of: date | None = None):
    """Free text → facts through the intake, with clear errors for unusable input.

    ``as_of`` (the consultation date) lets the reader turn "since 2019" into a duration.
    """
    if not isinstance(text, str):
        raise IntakeError("'text' must be a string", code="IN207")
    if not text.strip():
        raise IntakeError("the scenario text is empty", code="IN208")
    if len(text) > MAX_TEXT:
        raise IntakeError(f"the scenario text is too long ({len(text)} characters; the limit is {MAX_TEXT})", code="IN209")
    if "\x00" in text:
        raise IntakeError("the scenario text contains binary data", code="IN211")
    try:
        from workup.intake.text import read
    except ImportError:
        raise IntakeError("free-text intake is not available in this build; pass --facts FILE.json", code="IN200") from None
    return read(text, kb, as_of)


def _bundle_facts(bundle: Any, kb, as_of: date) -> tuple[Facts, list[str]]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise IntakeError("'fhir' must be a FHIR R4 Bundle (an object with resourceType 'Bundle')", code="IN219")
    from workup.intake.fhir import facts_from_bundle

    facts, orders = facts_from_bundle(bundle, kb, as_of)
    return facts, list(orders or ())


def consult_payload(payload: Any, kb, as_of: date, order: str | None = None, *, strict: bool = True,
                    imported=None, base: Facts | None = None, reader=None) -> Consultation:
    """Turn one input object into a recommendation.

    The object holds ``facts`` (an object), ``text`` (a string) and/or ``fhir`` (a Bundle),
    with optional ``order`` (a procedure name) and ``as_of``. Explicit facts win over facts
    read from text, which win over facts read from FHIR, which win over ``base`` (e.g. facts
    from ICD-10-CM reason codes). With ``strict=False`` (batch files, whose lines often carry
    their own metadata) other top-level fields are ignored. ``reader(text, kb, as_of)``, when
    given, replaces :func:`read_text` (the population audit passes a memoised one).

    Raises:
        IntakeError: the input cannot be read.
    """
    from workup.engine import evaluate
    from workup.intake import parse_facts

    if not isinstance(payload, dict):
        raise IntakeError("each input must be a JSON object with 'facts', 'text' and/or 'fhir'", code="IN203")
    unknown = sorted(set(payload) - FIELDS)
    if unknown and strict:
        raise IntakeError(f"unknown field(s) in input: {', '.join(unknown)}", code="IN204")
    if "facts" not in payload and "text" not in payload and "fhir" not in payload:
        raise IntakeError("input needs 'facts' (an object), 'text' (a string) or 'fhir' (a Bundle)", code="IN205")
    if payload.get("as_of") is not None:
        as_of = parse_as_of(payload["as_of"])
    facts = base if base is not None else Facts()
    bundle_orders: list[str] = []
    if payload.get("fhir") is not None:
        bundle, bundle_orders = _bundle_facts(payload["fhir"], kb, as_of)
        facts = bundle.merged_over(facts)
    reading = None
    if "text" in payload:
        reading = (reader or read_text)(payload["text"], kb, as_of)
        facts = reading.facts.merged_over(facts)
    facts = parse_facts(payload.get("facts", {}), kb).merged_over(facts)
    order = payload.get("order", order)
    if order is not None and (not isinstance(order, str) or not order.strip()):
        raise IntakeError("'order' must be a procedure name", code="IN206")
    if order is None and bundle_orders:
        order = bundle_orders[0]  # the Bundle's first ServiceRequest, by name
    rec = rate_ordered(facts, kb, as_of, order)
    if imported is not None and reading is not None and (rec.status is Status.NO_CRITERIA_APPLY or _unplaced(rec)):
        rec = _imported(rec, imported, kb, payload["text"], as_of, order)
    return Consultation(rec, reading, order)


def _unplaced(rec: Recommendation) -> bool:
    """Whether the curated packs ask only because the note names no part of the spine (so they do not cover it)."""
    return rec.status is Status.NEEDS_INFORMATION and rec.facts.value("region") is None and any(
        m.fact == "region" for m in rec.missing_facts)


def _imported(rec: Recommendation, pack, kb, text: str, as_of: date, order: str | None) -> Recommendation:
    """Route a note the curated packs do not cover into the imported table (never a curated topic)."""
    from workup.imported.answer import routed_answer
    from workup.imported.table import topic_key

    curated = frozenset(topic_key(t.source.title) for t in kb.topics.values())
    return routed_answer(pack, text, curated, as_of, order) or rec


def rate_ordered(facts: Facts, kb, as_of: date, order: str | None) -> Recommendation:
    """Evaluate ``facts`` and rate ``order`` as the one order matcher reads it.

    An order the catalogue names exactly is rated as before. Otherwise its words are read
    (:func:`workup.intake.procedures.match_order`): one study → rated as that study, with
    ``read_as``; several, or CT/MRI without a contrast phase → every candidate is rated and
    the order says what it does not tell (``undecided_by``), never picking one.
    """
    from dataclasses import replace

    from workup.engine import evaluate
    from workup.engine.rate import rate_order
    from workup.intake.procedures import match_order

    if order is None or kb.procedure_by_name(order) is not None:
        return evaluate(facts, kb, as_of, order)
    m = match_order(order, [p.reference_name for p in kb.procedures.values()])
    if m.status == "matched":
        rec = evaluate(facts, kb, as_of, m.names[0])
        if rec.order is None:
            return rec
        return replace(rec, order=replace(rec.order, ordered=order, read_as=m.names[0]))
    rec = evaluate(facts, kb, as_of, order)
    if m.status == "unknown" or rec.order is None:
        return rec
    region = rec.facts.value("region")
    region = region if isinstance(region, str) else None
    cands = tuple(replace(rate_order(kb, rec.procedures, n, region), read_as=n) for n in m.names)
    what = "whether contrast is given" if m.undecided_by == "contrast" else "which of these studies it is"
    note = f"the order does not say {what}; each study it could be is rated below"
    return replace(rec, order=replace(rec.order, alternatives=(), note=note, undecided_by=m.undecided_by,
                                      candidates=cands))


def consult(payload: dict[str, Any], kb, as_of: date, order: str | None = None, *, strict: bool = True,
            imported=None):
    """Like :func:`consult_payload`, returning ``(recommendation, reading)`` (the CLI's shape)."""
    c = consult_payload(payload, kb, as_of, order, strict=strict, imported=imported)
    return c.recommendation, c.reading
