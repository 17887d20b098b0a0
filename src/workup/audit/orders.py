"""The population audit's per-order function: one order-log row → one audited order.

Each row goes through the project's consult path (:func:`workup.consult.consult_payload`):
the indication text is read with the row's age and sex as given facts and the ICD-10-CM
reason codes beneath, the ordered procedure is identified by the one order matcher and
rated, and a note the curated packs do not cover is routed into the imported table when
one is present. A row that cannot be read is *refused* with a coded reason and its row
number; every order that is read but not rated carries a coded ``reason``.

Order logs repeat their indication texts heavily, so :class:`OrderAuditor` memoises the
result on the order's exact inputs (text, age, sex, reason codes, procedure, as-of) and the
text reading — the costly part — on the text; the as-of date is part of either key only
when the text holds a year, a written date or a month name, the only way it can change the
answer (the engine's own use of it, time since a ``surgery_date``, comes from such text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from workup.errors import WorkupError

FIELDS = ("order_id", "ordered_at", "patient_id", "patient_age", "patient_sex", "provider_id", "department",
          "procedure_code", "procedure_display", "reason_codes", "indication")
REQUIRED = ("order_id", "ordered_at", "indication", "procedure_display")
# Set by a reader, never mapped from a column: where the row comes from ("FILE line N", named
# in its refusal), and the code and message of a row the reader could not make of its input
# (a bad NDJSON line), refused as it is, so counted, never dropped.
READ_FIELDS = ("source", "refused_code", "refused_message")
# One audited order: the row's identifiers, then what the audit found.
COLUMNS = ("row", "order_id", "ordered_at", "month", "patient_id", "provider_id", "department",
           "procedure_code", "procedure_display", "modality", "status", "rated", "reason", "topic", "variant",
           "matched_procedure", "rating", "category", "appropriateness", "best_alternative",
           "best_alternative_rating", "radiation_level", "radiation_band", "missing_facts")
INT_COLUMNS = frozenset({"row", "rating", "best_alternative_rating"})
BOOL_COLUMNS = frozenset({"rated"})
_SEX = {"f": "female", "female": "female", "w": "female", "m": "male", "male": "male", "o": "other", "other": "other"}
# A text whose reading may depend on the as-of date: a written year, date or month name.
_DATED = re.compile(r"\d{4}|\d{1,2}/\d{1,2}|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b", re.I)


class RowError(WorkupError):
    """A row of the order log that cannot be audited (reported with its row number)."""


def _bucket(category: str | None) -> str:
    if category is None:
        return "unrated"
    return "may-be-appropriate" if category.startswith("may-be") else category


def _row_inputs(row: dict[str, str]) -> tuple[str, date, float | None, str | None, tuple[str, ...], str]:
    """Check one row; its order id, as-of date, age, sex, codes and procedure text."""
    oid = row.get("order_id", "").strip()
    if not oid:
        raise RowError("the order id is empty", code="IN270")
    raw_at = row.get("ordered_at", "").strip()
    try:
        at = datetime.fromisoformat(raw_at).date() if "T" in raw_at or " " in raw_at else date.fromisoformat(raw_at)
    except ValueError:
        raise RowError(f"ordered_at {raw_at!r} is not an ISO date or date-time", code="IN271") from None
    age: float | None = None
    raw_age = row.get("patient_age", "").strip()
    if raw_age:
        try:
            age = float(raw_age)
        except ValueError:
            age = -1.0
        if not 0 <= age <= 130:
            raise RowError(f"patient age {raw_age!r} is not a number of years from 0 to 130", code="IN272")
    raw_sex = row.get("patient_sex", "").strip().lower()
    sex = _SEX.get(raw_sex) if raw_sex else None
    if raw_sex and sex is None:
        raise RowError(f"patient sex {raw_sex!r} is not female, male or other", code="IN273")
    codes = tuple(c.strip() for c in re.split(r"[;,|]", row.get("reason_codes", "")) if c.strip())
    proc = row.get("procedure_display", "").strip() or row.get("procedure_code", "").strip()
    if not row.get("indication", "").strip() and not proc:
        raise RowError("the row has neither an indication nor an ordered procedure", code="IN274")
    return oid, at, age, sex, codes, proc


@dataclass
class OrderAuditor:
    """Audits order-log rows with one knowledge pack (and the imported table, when given).

    Build one per worker process: it holds the memo of results and text readings.
    ``as_of`` fixes the consultation date for every order (default: each order's own date).
    """

    kb: Any
    imported: Any = None
    as_of: date | None = None
    hits: int = 0
    misses: int = 0
    _results: dict = field(default_factory=dict, repr=False)
    _readings: dict = field(default_factory=dict, repr=False)

    def _read(self, text: str, kb, as_of: date):
        from workup.consult import read_text

        key = (text, as_of if _DATED.search(text) else None)
        r = self._readings.get(key)
        if r is None:
            r = self._readings[key] = read_text(text, kb, as_of)
        return r

    def audit(self, row: dict[str, str], number: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Audit one row (``number``: its 1-based row in the input): ``(order, None)`` or ``(None, refusal)``.

        A row the reader already refused (:data:`READ_FIELDS` set) is refused as it says; a row
        with a ``source`` names it in its refusal.
        """
        if row.get("refused_code"):
            return None, {"row": number, "order_id": row.get("order_id", ""), "code": row["refused_code"],
                          "message": row.get("refused_message", "")}
        try:
            oid, at, age, sex, codes, proc = _row_inputs(row)
            as_of = self.as_of or at
            text = row.get("indication", "").strip()
            # The as-of date changes an answer only through a dated text (a year, a date, a
            # month name): the engine's own use of it, a surgery_date fact, comes from such text.
            key = (text, age, sex, codes, proc, as_of if _DATED.search(text) else None)
            found = self._results.get(key)
            if found is None:
                self.misses += 1
                found = self._results[key] = self._consult(text, age, sex, codes, proc, as_of)
            else:
                self.hits += 1
        except WorkupError as e:
            message = f"{e.code}: {row['source']}: {str(e)[len(e.code) + 2:]}" if row.get("source") else str(e)
            return None, {"row": number, "order_id": row.get("order_id", ""), "code": e.code, "message": message}
        except Exception as e:  # noqa: BLE001 - one order's internal error must not end a population run
            return None, {"row": number, "order_id": row.get("order_id", ""), "code": "WK999",
                          "message": f"WK999: internal error ({type(e).__name__}); please report it with this row"}
        out: dict[str, Any] = {
            "row": number, "order_id": oid, "ordered_at": row.get("ordered_at", "").strip(),
            "month": at.strftime("%Y-%m"), "patient_id": row.get("patient_id", ""),
            "provider_id": row.get("provider_id", ""), "department": row.get("department", ""),
            "procedure_code": row.get("procedure_code", ""), "procedure_display": row.get("procedure_display", ""),
        }
        out.update(found)
        return out, None

    def _consult(self, text: str, age, sex, codes, proc: str, as_of: date) -> dict[str, Any]:
        from workup.consult import consult_payload
        from workup.intake.icd10 import facts_from_codes
        from workup.intake.procedures import read_procedure

        given: dict[str, Any] = {}
        if age is not None:
            given["age"] = age
        if sex is not None:
            given["sex"] = sex
        payload: dict[str, Any] = {"facts": given}
        if text:
            payload["text"] = text
        base = facts_from_codes(list(codes), self.kb) if codes else None
        c = consult_payload(payload, self.kb, as_of, proc or None, imported=self.imported, base=base,
                            reader=self._read)
        return describe(c.recommendation, proc, read_procedure(proc).modality if proc else None)


def describe(rec, proc: str, order_modality: str | None) -> dict[str, Any]:
    """The audit's columns for one recommendation about the order ``proc``."""
    from workup.types import Status

    order = rec.order
    matched = order.procedure if order is not None else None
    reason = ""
    if not proc:
        reason = "no-order"
    elif rec.status is Status.NEEDS_INFORMATION:
        reason = "needs-information"
    elif rec.status is Status.NO_CRITERIA_APPLY:
        reason = "no-criteria-apply/" + (rec.reason.code if rec.reason is not None else "no-variant")
    elif matched is None and order is not None and order.candidates:
        reason = "order-undecided/" + (order.undecided_by or "study")
    elif matched is None:
        reason = "order-not-in-variant"
    best = None
    if rec.procedures:
        best = sorted(rec.procedures, key=lambda p: (-p.rating, p.rrl_rank, p.name))[0]
    rrl = matched.rrl if matched is not None else None
    if rrl is None and order is not None and order.candidates:
        levels = {(c.procedure.rrl.level, c.procedure.rrl.adult_dose) for c in order.candidates if c.procedure}
        if len(levels) == 1:
            rrl = next(c.procedure.rrl for c in order.candidates if c.procedure)
    return {
        "modality": (matched.modality if matched is not None else order_modality) or "",
        "status": rec.status.value,
        "rated": matched is not None,
        "reason": reason,
        "topic": rec.topic.title if rec.topic is not None else "",
        "variant": rec.variant.id if rec.variant is not None else "",
        "matched_procedure": matched.reference_name if matched is not None else "",
        "rating": matched.rating if matched is not None else None,
        "category": matched.category.value if matched is not None else "",
        "appropriateness": _bucket(matched.category.value if matched is not None else None),
        "best_alternative": best.name if best is not None else "",
        "best_alternative_rating": best.rating if best is not None else None,
        "radiation_level": rrl.level if rrl is not None else "",
        "radiation_band": rrl.adult_dose if rrl is not None else "",
        "missing_facts": ";".join(m.fact for m in rec.missing_facts),
    }
