"""FHIR R4 Bundle → facts and the ordered procedures, parsed with ``fhir.resources`` (R4B).

Read from the Bundle:

- ``Patient``: age from ``birthDate`` on the consultation date, sex from ``gender``;
- ``Condition``: ICD-10-CM codings through :mod:`workup.intake.icd10`, and the condition's
  text and notes through the free-text reader (refuted or entered-in-error conditions are
  skipped; provisional or differential ones are read as suspected);
- ``Procedure``: the operation's name as a prior surgery, its date as ``surgery_date``;
- ``Observation``: the observation's name with "elevated" when flagged high, its text value
  and notes;
- ``ServiceRequest``: the order (returned as the second value), ``reasonCode``,
  ``reasonReference`` (resolved within the Bundle) and notes.

Lenient where real senders are sloppy: a Bundle without ``type`` is accepted (the CDS Hooks
sandbox omits it). Anything else invalid is an :class:`IntakeError` naming the problem.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, get_args

from workup.errors import IntakeError
from workup.intake.icd10 import facts_from_codes, normalize
from workup.kb.load import KnowledgeBase
from workup.types import Evidence, Fact, FactOrigin, Facts, FactValue

_ICD_SYSTEM = re.compile(r"icd-?10", re.I)
_HIGH = {"H", "HH", "HU", "A", "AA", ">"}
_SKIP_VERIFICATION = {"refuted", "entered-in-error"}
_SUSPECTED_VERIFICATION = {"provisional", "differential", "unconfirmed"}
_BUNDLE_TYPES = {
    "document", "message", "transaction", "transaction-response", "batch", "batch-response", "history", "searchset", "collection",
}
_SKIP_STATUS = {"not-done", "entered-in-error", "revoked"}


def facts_from_bundle(bundle: Any, kb: KnowledgeBase, as_of: date | None = None) -> tuple[Facts, list[str]]:
    """Read a FHIR R4 Bundle into facts, and list the orders it carries.

    Args:
        bundle: the Bundle as parsed JSON.
        kb: the knowledge base (fact vocabulary).
        as_of: the consultation date; needed to turn ``birthDate`` into an age.

    Returns:
        The facts (origin ``fhir``, each with its resource as evidence source) and the display
        names (or codes) of the ServiceRequests, in Bundle order.

    Raises:
        IntakeError: the input is not a valid FHIR R4 Bundle.
    """
    data = _checked(bundle)

    def models() -> list[Any]:
        return [e.resource for e in _parse(data).entry or [] if e.resource is not None]

    return _read_once(_bundle_key(data), models, kb, as_of)


def facts_from_resources(resources: list[dict], kb: KnowledgeBase, as_of: date | None = None) -> tuple[Facts, list[str]]:
    """Read loose FHIR R4 resources (no Bundle around them) into facts, and list their orders.

    What a CDS Hooks call carries: the prefetched Patient, Conditions and Procedures and the
    draft ServiceRequest, each validated by fhir.resources and read as
    :func:`facts_from_bundle` reads a Bundle's entries (memoised per resource list, pack
    and date, like a Bundle).

    Raises:
        IntakeError: a resource is not a valid FHIR R4 resource (IN242, with the problems
            located as ``ResourceType/id.element``) or not a resource at all (IN244).
    """
    for i, r in enumerate(resources):
        if not isinstance(r, dict) or not isinstance(r.get("resourceType"), str):
            raise IntakeError(f"item {i} is not a FHIR resource (a JSON object with a resourceType)", code="IN244")
    return _read_once(_canonical(resources, 4 * _MAX_MEMO_CHARS), lambda: [_resource_model(r) for r in resources], kb, as_of)


def validated_resource(resource: Any) -> Any:
    """Validate one FHIR R4 resource (parsed JSON) with fhir.resources (R4B) and return its model.

    Memoised like a Bundle's entries (a resource seen again costs one canonical serialisation).

    Raises:
        IntakeError: not a JSON object with a ``resourceType`` (IN244), or not a valid FHIR R4
            resource (IN242, each problem located as ``ResourceType/id.element`` in ``details``).
    """
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise IntakeError("not a FHIR resource (a JSON object with a resourceType)", code="IN244")
    return _resource_model(resource)


def concept_text(cc: Any) -> str | None:
    """A CodeableConcept's text, else its first coding's display; None when it has neither."""
    return _concept_text(cc)


def icd10_codings(cc: Any) -> list[str]:
    """The codes, as written, of a CodeableConcept's codings whose system is ICD-10(-CM)."""
    return [str(c.code) for c in getattr(cc, "coding", None) or []
            if getattr(c, "code", None) and _ICD_SYSTEM.search(str(getattr(c, "system", "") or ""))]


def _read_once(key: bytes | None, models: Callable[[], list[Any]], kb: KnowledgeBase, as_of: date | None) -> tuple[Facts, list[str]]:
    """What the validated resources ``models()`` say, memoised by the input's canonical JSON ``key``
    (None: read every time), the pack and the consultation date. Facts are immutable."""
    memo_key = (key, id(kb), as_of)
    if key is not None:
        hit = _bundle_memo.get(memo_key)
        if hit is not None and hit[0] is kb:
            return hit[1], list(hit[2])
    facts, orders = _read(models(), kb, as_of)
    if key is not None:
        _bundle_memo.put(memo_key, (kb, facts, tuple(orders)))
    return facts, orders


def _resource_class(name: Any) -> type | None:
    """The fhir.resources model of resource type ``name``; None for anything else (a data type such as
    ``CodeableConcept`` is not a resource)."""
    from fhir.resources.R4B import get_fhir_model_class
    from fhir.resources.R4B.resource import Resource

    try:
        cls = get_fhir_model_class(name)
    except (KeyError, TypeError, ValueError):
        return None
    return cls if issubclass(cls, Resource) else None


def _resource_model(resource: dict) -> Any:
    """The validated model of one loose resource, or the IntakeError saying why it is not valid."""
    from pydantic import ValidationError

    model = _RESOURCES.get(resource)
    if not isinstance(model, dict):
        return model
    name = resource["resourceType"]
    label = f"{name}/{resource['id']}" if isinstance(resource.get("id"), str) else name
    cls = _resource_class(name)
    if cls is None:
        raise IntakeError(f"unknown FHIR resource type {name!r}", code="IN242", details=[{"where": label, "message": "unknown resource type"}])
    try:
        return cls.model_validate(resource)
    except ValidationError as e:
        details = [{"where": ".".join([label, *(str(p) for p in err.get("loc", ()))]), "message": str(err.get("msg", ""))}
                   for err in e.errors()[:20]]
        raise IntakeError(f"not a valid FHIR R4 {name} ({e.error_count()} problem(s))", code="IN242", details=details) from None
    except (TypeError, ValueError, KeyError) as e:
        raise IntakeError(f"not a valid FHIR R4 {name}: {e}", code="IN242") from None


def _read(resources: list[Any], kb: KnowledgeBase, as_of: date | None) -> tuple[Facts, list[str]]:
    by_ref: dict[str, Any] = {}
    for r in resources:
        if getattr(r, "id", None):
            by_ref[f"{r.get_resource_type()}/{r.id}"] = r
    codes: list[tuple[str, str]] = []
    segments: list[tuple[str, str]] = []
    orders: list[str] = []
    given: list[Fact] = []
    for r in resources:
        kind = r.get_resource_type()
        src = f"fhir:{kind}/{r.id}" if getattr(r, "id", None) else f"fhir:{kind}"
        if kind == "Patient":
            given.extend(_patient(r, src, as_of))
        elif kind == "Condition":
            _condition(r, src, codes, segments)
        elif kind == "Procedure":
            status = getattr(r, "status", None)
            if status in _SKIP_STATUS:
                continue
            name = _concept_text(getattr(r, "code", None))
            if name:
                segments.append((f"Prior {name}.", src))
            when = _procedure_date(r)
            if when is not None:
                given.append(Fact("surgery_date", when, FactOrigin.FHIR, (Evidence(f"{name or 'procedure'} on {when.isoformat()}", source=src),)))
        elif kind == "Observation":
            _observation(r, src, segments)
        elif kind == "ServiceRequest":
            if getattr(r, "status", None) in _SKIP_STATUS:
                continue
            name = _concept_text(getattr(r, "code", None)) or _first_code(getattr(r, "code", None))
            if name:
                orders.append(name)
            for cc in getattr(r, "reasonCode", None) or []:
                _codeable(cc, src, codes, segments, suspected=False)
            for ref in getattr(r, "reasonReference", None) or []:
                target = by_ref.get(getattr(ref, "reference", "") or "")
                if target is None and getattr(ref, "display", None):
                    segments.append((f"{ref.display}.", src))
            for note in getattr(r, "note", None) or []:
                if getattr(note, "text", None):
                    segments.append((note.text, src))
    return _combine(kb, codes, segments, given, as_of), orders


def _checked(bundle: Any) -> dict:
    """The Bundle as a dict with its type (default ``collection``), after the cheap checks."""
    if not isinstance(bundle, dict):
        raise IntakeError("a FHIR Bundle must be a JSON object", code="IN240")
    if bundle.get("resourceType") != "Bundle":
        raise IntakeError(f"expected resourceType 'Bundle', got {bundle.get('resourceType')!r}", code="IN241")
    data = dict(bundle)
    data.setdefault("type", "collection")
    if data["type"] not in _BUNDLE_TYPES:
        raise IntakeError(f"unknown Bundle.type {data['type']!r}; expected one of {', '.join(sorted(_BUNDLE_TYPES))}", code="IN243")
    return data


def _parse(data: dict) -> Any:
    from fhir.resources.R4B.bundle import Bundle
    from pydantic import ValidationError

    if isinstance(data.get("entry"), list):
        data = {**data, "entry": [_with_parsed_resource(e) for e in data["entry"]]}
    try:
        return Bundle.model_validate(data)
    except ValidationError as e:
        details = [{"where": ".".join(str(p) for p in err.get("loc", ())), "message": str(err.get("msg", ""))} for err in e.errors()[:20]]
        raise IntakeError(f"not a valid FHIR R4 Bundle ({e.error_count()} problem(s))", code="IN242", details=details) from None
    except (TypeError, ValueError, KeyError) as e:
        raise IntakeError(f"not a valid FHIR R4 Bundle: {e}", code="IN242") from None


class Memo:
    """A bounded map that forgets the least recently used entry first; safe across threads.

    The intake's memos are pure functions of their keys, so an entry forgotten is only
    work done again. ``size`` may be changed at any time (tests shrink it).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        """The value kept for ``key`` (now the most recently used), or None."""
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        """Keep ``value`` for ``key``, forgetting the oldest entries beyond ``size``."""
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


class _Resources:
    """Validated FHIR resources and their elements by canonical JSON (bounded LRU memos).

    Validating a resource is a pure function of its JSON, and the same Patient, Conditions
    and Procedures come back on every call about the same patient (order-select, then
    order-sign, then the next order): a hit costs one canonical serialisation.

    A resource seen for the first time is still validated by fhir.resources, but around
    elements already validated: each complex top-level element (a ``code``, a
    ``clinicalStatus``, a ``reasonCode`` entry...) is validated alone by its own FHIR type
    and memoised, since the same codes and statuses recur across patients while ids,
    references and dates do not. fhir.resources accepts a built element as it accepts a
    built resource, and its resource-level rules (required elements, choice types, nulls
    in lists) run on the resource as always. An element or resource that fails alone is
    left as it is, so the enclosing validation reports the problem exactly where it always
    did. Everything stays in the worker's memory only, never on disk or in logs.
    """

    def __init__(self, size: int = 1024, element_size: int = 4096) -> None:
        self.resources = Memo(size)
        self.elements = Memo(element_size)

    def get(self, resource: dict) -> Any:
        """The validated model of ``resource``; the dict itself when it cannot be validated alone."""
        key = _canonical(resource)
        if key is None:  # an integer beyond 64 bits, or a large resource: validated with the Bundle
            return resource
        model = self.resources.get(key)
        if model is not None:
            return model
        cls = _resource_class(resource["resourceType"])
        if cls is None:
            return resource
        model = _validated(cls, self._with_elements(cls, resource))
        if model is None:
            return resource
        self.resources.put(key, model)
        return model

    def _with_elements(self, cls: type, resource: dict) -> dict:
        """``resource`` with each complex top-level element replaced by its validated model."""
        out = dict(resource)
        for name, value in resource.items():
            element = _element_class(cls, name)
            if element is None:
                continue
            if isinstance(value, dict):
                out[name] = self._element(element, value)
            elif isinstance(value, list):
                out[name] = [self._element(element, v) if isinstance(v, dict) else v for v in value]
        return out

    def _element(self, cls: type, value: dict) -> Any:
        key = _canonical(value)
        if key is None:
            return value
        memo_key = (cls, key)
        model = self.elements.get(memo_key)
        if model is not None:
            return model
        model = _validated(cls, value)
        if model is None:
            return value
        self.elements.put(memo_key, model)
        return model


def _canonical(value: Any, limit: int | None = None) -> bytes | None:
    """The canonical JSON of ``value`` when it is at most ``limit`` bytes (default: one resource's
    worth, :data:`_MAX_MEMO_CHARS`), the key of every memo here; None when it is larger or cannot be
    written (an integer beyond 64 bits)."""
    import orjson

    try:
        key = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except (TypeError, ValueError):
        return None
    return key if len(key) <= (_MAX_MEMO_CHARS if limit is None else limit) else None


def _validated(cls: type, value: dict) -> Any:
    """``cls.model_validate(value)``, or None when fhir.resources refuses it."""
    from pydantic import ValidationError

    try:
        return cls.model_validate(value)
    except (ValidationError, ValueError, TypeError, KeyError):
        return None


_ELEMENT_CLASSES: dict[tuple[type, str], type | None] = {}


def _element_class(cls: type, name: str) -> type | None:
    """The FHIR model class of the complex element ``name`` of resource ``cls``, else None.

    None for primitives, primitive extensions (``_birthDate``), contained resources (their
    type is the resource's own) and names the resource does not have.
    """
    hit = _ELEMENT_CLASSES.get((cls, name), False)
    if hit is not False:
        return hit
    field = cls.model_fields.get(name)
    if field is None:
        field = next((f for f in cls.model_fields.values() if f.alias == name), None)
    if field is None:  # not an element of the resource (fhir.resources refuses it): not kept, so input cannot grow this table
        return None
    found = None
    if not name.startswith("_") and name != "contained":
        stack = [field.annotation]
        while stack and found is None:
            t = stack.pop()
            get = getattr(t, "get_model_klass", None)
            if callable(get):
                found = get()
            else:
                stack.extend(get_args(t))
    if found is not None and getattr(found, "__resource_type__", None) in ("Resource", "DomainResource"):
        found = None
    _ELEMENT_CLASSES[(cls, name)] = found
    return found


_RESOURCES = _Resources()


_bundle_memo = Memo(256)  # (canonical JSON, pack id, date) -> (pack, facts, orders)


def _bundle_key(data: dict) -> bytes | None:
    """The canonical JSON of a plain Bundle (type and resource entries only), else None.

    What such a Bundle (the one a CDS call is read from) says is memoised whole, per pack
    and consultation date: building the Bundle and entry models, looking up the codes and
    placing the evidence cost as much again as the memoised resources and reading. Facts
    are immutable. A Bundle with anything more is validated and read every time.
    """
    entries = data.get("entry")
    if set(data) - {"resourceType", "type", "entry"} or not isinstance(entries, list):
        return None
    if not all(isinstance(e, dict) and set(e) == {"resource"} for e in entries):
        return None
    return _canonical(data, 4 * _MAX_MEMO_CHARS)


def _with_parsed_resource(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    resource = entry.get("resource")
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return entry
    return {**entry, "resource": _RESOURCES.get(resource)}


def _patient(r: Any, src: str, as_of: date | None) -> list[Fact]:
    out: list[Fact] = []
    birth = getattr(r, "birthDate", None)
    if isinstance(birth, str):
        try:
            birth = date.fromisoformat(birth[:10]) if len(birth) >= 10 else None
        except ValueError:
            birth = None
    if isinstance(birth, date) and as_of is not None and birth <= as_of:
        years = as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))
        out.append(Fact("age", float(years), FactOrigin.FHIR, (Evidence(f"born {birth.isoformat()}, {years} on {as_of.isoformat()}", source=src),)))
    gender = getattr(r, "gender", None)
    if gender in ("male", "female", "other"):
        out.append(Fact("sex", gender, FactOrigin.FHIR, (Evidence(f"gender {gender}", source=src),)))
    return out


def _condition(r: Any, src: str, codes: list[tuple[str, str]], segments: list[tuple[str, str]]) -> None:
    ver = _first_code(getattr(r, "verificationStatus", None))
    if ver in _SKIP_VERIFICATION:
        return
    _codeable(getattr(r, "code", None), src, codes, segments, suspected=ver in _SUSPECTED_VERIFICATION)
    for note in getattr(r, "note", None) or []:
        if getattr(note, "text", None):
            segments.append((note.text, src))


def _codeable(cc: Any, src: str, codes: list[tuple[str, str]], segments: list[tuple[str, str]], suspected: bool) -> None:
    if cc is None:
        return
    coded = False
    for coding in getattr(cc, "coding", None) or []:
        system = str(getattr(coding, "system", "") or "")
        code = getattr(coding, "code", None)
        if code and _ICD_SYSTEM.search(system) and not suspected:
            codes.append((normalize(str(code)), src))
            coded = True
    text = _concept_text(cc)
    if text and (not coded or getattr(cc, "text", None)):
        segments.append((f"Suspected {text}." if suspected else f"{text}.", src))


def _observation(r: Any, src: str, segments: list[tuple[str, str]]) -> None:
    if getattr(r, "status", None) in ("entered-in-error", "cancelled"):
        return
    name = _concept_text(getattr(r, "code", None))
    flags = {str(_first_code(i)) for i in getattr(r, "interpretation", None) or []}
    if name and flags & _HIGH:
        segments.append((f"Elevated {name}.", src))
    value = getattr(r, "valueString", None) or _concept_text(getattr(r, "valueCodeableConcept", None))
    if value:
        segments.append((f"{name}: {value}." if name else f"{value}.", src))
    for note in getattr(r, "note", None) or []:
        if getattr(note, "text", None):
            segments.append((note.text, src))


def _concept_text(cc: Any) -> str | None:
    if cc is None:
        return None
    if getattr(cc, "text", None):
        return str(cc.text)
    for coding in getattr(cc, "coding", None) or []:
        if getattr(coding, "display", None):
            return str(coding.display)
    return None


def _first_code(cc: Any) -> str | None:
    if cc is None:
        return None
    for coding in getattr(cc, "coding", None) or []:
        if getattr(coding, "code", None):
            return str(coding.code)
    return None


def _procedure_date(r: Any) -> date | None:
    when = getattr(r, "performedDateTime", None)
    if when is None and getattr(r, "performedPeriod", None) is not None:
        when = r.performedPeriod.start
    if isinstance(when, datetime):
        return when.date()
    if isinstance(when, date):
        return when
    if isinstance(when, str) and len(when) >= 10:
        try:
            return date.fromisoformat(when[:10])
        except ValueError:
            return None
    return None


def _combine(kb: KnowledgeBase, codes: list[tuple[str, str]], segments: list[tuple[str, str]], given: list[Fact],
             as_of: date | None = None) -> Facts:
    cands: dict[str, list[Fact]] = {}
    if codes:
        coded = facts_from_codes([c for c, _ in codes], kb)
        src = {c: s for c, s in codes}
        for f in coded.values():
            ev = tuple(Evidence(e.text, assertion=e.assertion, source=f"{src.get(e.source.split(':', 1)[1], 'fhir')} ({e.source})") for e in f.evidence)
            cands.setdefault(f.id, []).append(Fact(f.id, f.value, FactOrigin.FHIR, ev))
    if segments:
        text = ""
        bounds: list[tuple[int, int, str]] = []
        for seg, src in segments:
            seg = " ".join(seg.split())
            start = len(text)
            text += seg + "\n\n"
            bounds.append((start, start + len(seg), src))
        for f in _text_facts(text, kb, as_of):
            ev = tuple(Evidence(e.text, e.start, e.end, e.assertion, _source(e.start, bounds)) for e in f.evidence)
            cands.setdefault(f.id, []).append(Fact(f.id, f.value, FactOrigin.FHIR, ev))
    for f in given:
        cands.setdefault(f.id, []).append(f)
    out: list[Fact] = []
    for fid in sorted(cands):
        fs = cands[fid]
        fd = kb.facts.get(fid)
        if fd is not None and fd.type == "bool":
            value: FactValue = any(f.value is True for f in fs)
        else:
            value = fs[0].value
        ev = tuple(e for f in fs if f.value == value for e in f.evidence)
        out.append(Fact(fid, value, FactOrigin.FHIR, ev))
    return Facts(out)


_MAX_MEMO_CHARS = 16_000  # longer texts and resources are read every time, not kept in memory
_text_memo = Memo(1024)  # (pack id, text, date) -> (pack, facts)


def _text_facts(text: str, kb: KnowledgeBase, as_of: date | None = None) -> tuple[Fact, ...]:
    """The facts the text reader finds in the Bundle's text (memoised per text, pack and date).

    The same coded concepts, procedure names and notes come back on every call about the
    same patient, and reading them costs ~1 ms of language pipeline; the reading is a
    pure function of the text, the knowledge pack and the consultation date (which turns
    "since 2019" into a duration; facts are immutable).
    """
    from workup.intake.text import read

    if len(text) > _MAX_MEMO_CHARS:
        return tuple(read(text, kb, as_of).facts.values())
    key = (id(kb), text, as_of)
    hit = _text_memo.get(key)
    if hit is not None and hit[0] is kb:
        return hit[1]
    facts = tuple(read(text, kb, as_of).facts.values())
    _text_memo.put(key, (kb, facts))
    return facts


def _source(start: int | None, bounds: list[tuple[int, int, str]]) -> str:
    if start is None:
        return "fhir"
    for a, b, src in bounds:
        if a <= start < b + 2:
            return src
    return "fhir"
