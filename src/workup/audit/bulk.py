"""FHIR Bulk Data NDJSON in: Patient and ServiceRequest resources → order-log rows.

The input is one ``.ndjson`` (or ``.ndjson.gz``) file holding both resource types, or a
directory of Bulk ``$export`` files (``Patient.ndjson``, ``ServiceRequest.ndjson``, several
per type allowed), read in natural name order. Every resource is validated by
fhir.resources (R4B, :func:`workup.intake.fhir.validated_resource`).

Two streaming passes. The first keeps only the patients (id → birth date, gender); the
second turns each ServiceRequest into the same row of text fields a CSV or Parquet log
gives (:data:`workup.audit.orders.FIELDS`), in chunks, so the engines, refusals, summary
and report are unchanged. Memory is bounded but for the patient map.

A line that cannot be an order is never dropped: it becomes a row that the auditor refuses
with its code and a message naming the file and line (:data:`~workup.audit.orders.READ_FIELDS`); an order the auditor refuses names them too,
so rows in = orders out + refused. A row is every non-blank line except a Patient that was
read (a Patient line that is refused is a row too).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from workup.audit.io import CHUNK_ROWS
from workup.audit.orders import FIELDS
from workup.errors import IntakeError, WorkupError

# The ordering department, where a sender has it, as an extension on the ServiceRequest
# (valueString, valueCodeableConcept or valueReference); written by `workup demo order-log`.
DEPARTMENT_URL = "urn:workup:fhir:StructureDefinition:ordering-department"
_SUFFIXES = (".ndjson", ".ndjson.gz")
_REF = re.compile(r"(?:^|/)([A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")
_SEXES = ("", "female", "male", "other")  # a Patient's gender, by its index in the patient map ("unknown": "")


def is_ndjson(path: Path) -> bool:
    """Whether ``path`` is NDJSON input: a directory, or a name ending ``.ndjson`` or ``.ndjson.gz``."""
    return path.is_dir() or path.name.lower().endswith(_SUFFIXES)


def _natural(p: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


def ndjson_files(path: Path) -> list[Path]:
    """The NDJSON files of the input: ``path`` itself, or a directory's ``*.ndjson[.gz]`` in natural name order.

    Raises:
        IntakeError: no such file, or a directory without NDJSON files (IN215, IN269).
    """
    if path.is_dir():
        files = sorted((p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(_SUFFIXES)), key=_natural)
        if not files:
            raise IntakeError(f"{path}: no .ndjson or .ndjson.gz files in the directory", code="IN269")
        return files
    if not path.is_file():
        raise IntakeError(f"cannot read {path}: no such file", code="IN215")
    return [path]


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)`` for each non-blank line (1-based physical line numbers)."""
    try:
        handle = gzip.open(path, "rb") if path.name.lower().endswith(".gz") else path.open("rb")
        with handle:
            for n, line in enumerate(handle, 1):
                line = line.strip()
                if line:
                    yield n, line
    except (OSError, EOFError) as e:  # a gzip.BadGzipFile is an OSError
        raise IntakeError(f"cannot read {path}: {e}", code="IN269") from None


def _parsed(line: bytes) -> tuple[dict | None, str | None, str]:
    """The line as a resource dict with its type, or None with the refusal's code and message."""
    import orjson

    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as e:
        return None, "IN275", f"not valid JSON ({e})"
    if not isinstance(data, dict) or not isinstance(data.get("resourceType"), str):
        return None, "IN276", "not a FHIR resource (a JSON object with a resourceType)"
    return data, None, data["resourceType"]


def _validated(validate: Callable[[dict], Any], data: dict) -> Any:
    """``validate(data)``; an unforeseen failure of the validator is WK999, one line refused, not the run ended."""
    try:
        return validate(data)
    except WorkupError:
        raise
    except Exception as e:  # noqa: BLE001 - one line's internal error must not end a population run
        raise WorkupError(f"internal error ({type(e).__name__}); please report it with this line", code="WK999") from None


def _invalid(e: WorkupError) -> str:
    where = "; ".join(f"{d.get('where', '')}: {d.get('message', '')}" for d in e.details[:3])
    return f"{e.message} ({where})" if where else e.message


def _ref_id(reference: Any, kind: str) -> str | None:
    """The id in a reference to a ``kind`` resource (relative, absolute, versioned or ``urn:uuid:``)."""
    if not isinstance(reference, str):
        return None
    if reference.startswith("urn:uuid:"):
        return reference[9:]
    m = _REF.search(reference)
    return m.group(2) if m is not None and m.group(1) == kind else None


class BulkInput:
    """An NDJSON input after its first pass: the files, the patients, the number of rows.

    Args:
        path: an ``.ndjson`` / ``.ndjson.gz`` file or a directory of them.

    Raises:
        IntakeError: the input cannot be read (IN215, IN269).
    """

    def __init__(self, path: Path) -> None:
        self.files = ndjson_files(path)
        # id -> birth date's ordinal (0: none) * 4 + index in _SEXES: one small int, ~130 bytes a patient
        self.patients: dict[str, int] = {}
        self._bad: dict[tuple[int, int], tuple[str, str]] = {}  # (file, line) of a refused Patient -> code, message
        self.rows = 0
        self._first_pass()

    def _first_pass(self) -> None:
        from workup.intake.fhir import validated_resource

        for k, path in enumerate(self.files):
            for n, line in _lines(path):
                data, _, kind = _parsed(line)
                if data is None or kind != "Patient":
                    self.rows += 1
                    continue
                try:
                    p = _validated(validated_resource, data)
                except WorkupError as e:
                    self._bad[(k, n)] = (e.code, _invalid(e))
                    self.rows += 1
                    continue
                pid = data.get("id")
                if not isinstance(pid, str) or pid in self.patients:
                    self._bad[(k, n)] = ("IN278", f"Patient {pid!r} read already" if isinstance(pid, str)
                                         else "a Patient without an id cannot be the subject of an order")
                    self.rows += 1
                    continue
                birth = p.birthDate
                full = isinstance(birth, date) and isinstance(data.get("birthDate"), str) and len(data["birthDate"]) == 10
                sex = _SEXES.index(p.gender) if p.gender in _SEXES else 0
                self.patients[pid] = (birth.toordinal() if full else 0) * 4 + sex

    def patient(self, pid: str) -> tuple[date | None, str] | None:
        """The birth date (None when not a full date) and sex ("" when unknown) of Patient ``pid``, if read."""
        packed = self.patients.get(pid)
        return _unpacked(packed) if packed is not None else None

    def chunks(self, rows: int = CHUNK_ROWS) -> Iterator[list[dict[str, str]]]:
        """The second pass: every row (order or refusal) as lists of row dicts, in file and line order.

        In this process; the engines take :meth:`lines` instead and make the rows in their workers.
        """
        for chunk in self.lines(rows):
            yield order_rows(chunk)

    def lines(self, rows: int = CHUNK_ROWS) -> Iterator[list[tuple]]:
        """The second pass, left for :func:`order_rows` to finish: one item per row, in file and line order.

        This process only parses each line (orjson) and looks its subject up in the patient
        map; the costly part, validating the ServiceRequest, is :func:`order_rows`'s, run on
        each chunk by the engine's workers (the local engine's process pool). An item is a
        finished row (a refusal) or a ServiceRequest's line with its file name, line number and
        the subject's packed birth date and sex (None: no Patient read).
        """
        pending: list[tuple] = []
        for k, path in enumerate(self.files):
            for n, line in _lines(path):
                item = self._item(k, n, line, path.name)
                if item is None:
                    continue
                pending.append(item)
                if len(pending) >= rows:
                    yield pending
                    pending = []
        if pending:
            yield pending

    def _item(self, k: int, n: int, line: bytes, name: str) -> tuple | None:
        data, code, kind = _parsed(line)
        if data is None:
            return (_refused("", f"{name} line {n}", code or "IN276", kind),)
        if kind == "Patient":
            bad = self._bad.get((k, n))
            return (_refused(_id(data), f"{name} line {n}", *bad),) if bad is not None else None
        if kind != "ServiceRequest":
            return (_refused(_id(data), f"{name} line {n}", "IN276",
                             f"a {kind} resource; the audit reads Patient and ServiceRequest resources"),)
        subject = data.get("subject")
        pid = _ref_id(subject.get("reference") if isinstance(subject, dict) else None, "Patient")
        return name, n, line, self.patients.get(pid) if pid is not None else None


def _id(data: dict) -> str:
    return data["id"] if isinstance(data.get("id"), str) else ""


def _refused(oid: str, source: str, code: str, message: str) -> dict[str, str]:
    return {f: "" for f in FIELDS} | {"order_id": oid, "source": source, "refused_code": code,
                                      "refused_message": f"{code}: {source}: {message}"}


def _unpacked(packed: int) -> tuple[date | None, str]:
    return (date.fromordinal(packed // 4) if packed >= 4 else None), _SEXES[packed % 4]


def order_rows(items: list[tuple]) -> list[dict[str, str]]:
    """One chunk of :meth:`BulkInput.lines` as order-log rows: each ServiceRequest validated and read.

    A module-level function of the items alone (no patient map), so a worker process can
    run it; the rows are the same whichever process makes them.
    """
    return [item[0] if len(item) == 1 else _row(*item) for item in items]


def _row(name: str, n: int, line: bytes, patient: int | None) -> dict[str, str]:
    """A ServiceRequest's line (its subject's packed birth date and sex, if read) as a row or its refusal."""
    from workup.intake.fhir import validated_resource

    data, _, _ = _parsed(line)
    assert data is not None  # parsed once already, by BulkInput.lines
    oid, source = _id(data), f"{name} line {n}"
    try:
        sr = _validated(validated_resource, data)
    except WorkupError as e:
        return _refused(oid, source, e.code, _invalid(e))
    if sr.status == "entered-in-error":
        return _refused(oid, source, "IN279", "the ServiceRequest is entered-in-error: not an order")
    subject = getattr(sr.subject, "reference", None)
    pid = _ref_id(subject, "Patient")
    if pid is None or patient is None:
        return _refused(oid, source, "IN277", f"its subject {subject!r} is not a Patient read from the input")
    born, sex = _unpacked(patient)
    at = data.get("authoredOn") if isinstance(data.get("authoredOn"), str) else ""
    on = _day(at) if at else None
    age = ""
    if born is not None and on is not None:
        if born > on:
            return _refused(oid, source, "IN272", f"the patient's birthDate {born.isoformat()} is after the order's authoredOn {at}")
        age = str(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))
    return _order(sr, data, oid, pid, at, age, sex) | {"source": source}


def _day(value: str) -> date | None:
    try:
        return datetime.fromisoformat(value).date() if "T" in value else date.fromisoformat(value)
    except ValueError:
        return None


def _order(sr: Any, data: dict, oid: str, pid: str, at: str, age: str, sex: str) -> dict[str, str]:
    """One ServiceRequest (valid, its patient found) as an order-log row."""
    from workup.intake.fhir import concept_text, icd10_codings

    if not oid:
        oid = next((str(i.value) for i in sr.identifier or [] if getattr(i, "value", None)), "")
    codes: list[str] = []
    texts: list[str] = []
    for cc in sr.reasonCode or []:
        coded = icd10_codings(cc)
        codes.extend(coded)
        text = concept_text(cc)
        if text and (not coded or cc.text):
            texts.append(text if text.rstrip()[-1:] in ".!?" else text.rstrip() + ".")
    texts.extend(str(note.text) for note in sr.note or [] if getattr(note, "text", None))
    proc_code = next((str(c.code) for c in getattr(sr.code, "coding", None) or [] if getattr(c, "code", None)), "")
    return {
        "order_id": oid, "ordered_at": at, "patient_id": pid, "patient_age": age, "patient_sex": sex,
        "provider_id": _provider(sr.requester), "department": _department(sr),
        "procedure_code": proc_code, "procedure_display": concept_text(sr.code) or "",
        "reason_codes": ";".join(codes), "indication": " ".join(" ".join(texts).split()),
    }


def _provider(ref: Any) -> str:
    """The requester: a Practitioner's id, another reference as written, else its identifier or display."""
    if ref is None:
        return ""
    reference = getattr(ref, "reference", None)
    if reference:
        pid = _ref_id(reference, "Practitioner")
        return pid if pid is not None else str(reference)
    ident = getattr(ref, "identifier", None)
    return str(getattr(ident, "value", None) or getattr(ref, "display", None) or "")


def _department(sr: Any) -> str:
    """The ordering department: the :data:`DEPARTMENT_URL` extension, else the first location asked for."""
    from workup.intake.fhir import concept_text

    for ext in sr.extension or []:
        if ext.url == DEPARTMENT_URL:
            if ext.valueString:
                return str(ext.valueString)
            if ext.valueCodeableConcept is not None:
                return concept_text(ext.valueCodeableConcept) or next(
                    (str(c.code) for c in ext.valueCodeableConcept.coding or [] if c.code), "")
            if ext.valueReference is not None:
                return str(ext.valueReference.display or ext.valueReference.reference or "")
    for loc in sr.locationReference or []:
        if loc.display or loc.reference:
            return str(loc.display or loc.reference)
    for cc in sr.locationCode or []:
        text = concept_text(cc) or next((str(c.code) for c in cc.coding or [] if c.code), "")
        if text:
            return text
    return ""
