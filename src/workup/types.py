"""Core domain types shared by every layer of workup.

Everything here is frozen and free of I/O. The engine consumes :class:`Facts` and
produces a :class:`Recommendation`; intake modules (free text, ICD-10, FHIR, JSON)
produce :class:`Facts`; renderers turn a :class:`Recommendation` into text, Markdown,
JSON, CDS Hooks cards.

Facts are three-valued: a fact that is absent from :class:`Facts` is *unknown*, which
is different from a fact whose value is ``False``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Iterator, Mapping, NamedTuple, Union

FactValue = Union[bool, float, int, str, date]


class Assertion(str, enum.Enum):
    """How a mention relates to the patient (medspaCy ConText vocabulary)."""

    AFFIRMED = "affirmed"
    NEGATED = "negated"
    HISTORICAL = "historical"
    HYPOTHETICAL = "hypothetical"
    FAMILY = "family"
    POSSIBLE = "possible"


class FactOrigin(str, enum.Enum):
    """Where a fact's value came from."""

    GIVEN = "given"  # stated explicitly by the caller (JSON facts)
    TEXT = "text"  # extracted from free text
    ICD10 = "icd10"
    FHIR = "fhir"
    DERIVED = "derived"  # computed from other facts by a rule in the knowledge pack
    ASSUMED = "assumed"  # filled in by a `when_unknown` policy; listed under assumptions


@dataclass(frozen=True, slots=True)
class Evidence:
    """The words (or code) a fact was read from."""

    text: str
    start: int | None = None
    end: int | None = None
    assertion: Assertion = Assertion.AFFIRMED
    source: str = "text"  # "text", "icd10:M54.2", "fhir:Condition/123" ...

    def to_dict(self) -> dict:
        d: dict = {"text": self.text, "assertion": self.assertion._value_, "source": self.source}
        if self.start is not None:
            d["start"] = self.start
            d["end"] = self.end
        return d


@dataclass(frozen=True, slots=True)
class Fact:
    """One known value about the patient, with where it came from."""

    id: str
    value: FactValue
    origin: FactOrigin = FactOrigin.GIVEN
    evidence: tuple[Evidence, ...] = ()
    # A fact with evidence (derived by a rule, read from text) is often listed again (the engine
    # reuses derived facts): its dict is built once and copied (never shared).
    _dict: dict | None = field(default=None, init=False, repr=False, compare=False)

    def to_dict(self) -> dict:
        v = self.value
        if isinstance(v, date):
            v = v.isoformat()
        if not self.evidence:
            return {"id": self.id, "value": v, "origin": self.origin._value_}  # _value_: no enum property lookup
        d = self._dict
        if d is None:
            d = {"id": self.id, "value": v, "origin": self.origin._value_, "evidence": [e.to_dict() for e in self.evidence]}
            object.__setattr__(self, "_dict", d)
        out = d.copy()
        out["evidence"] = [e.copy() for e in d["evidence"]]
        return out


class Facts(Mapping[str, Fact]):
    """An immutable set of facts keyed by fact id. Missing ids are unknown."""

    __slots__ = ("_items",)

    def __init__(self, facts: Mapping[str, Fact] | list[Fact] | tuple[Fact, ...] = ()) -> None:
        if type(facts) is list or type(facts) is tuple:  # noqa: E721 (exact types: the ABC check below is slow)
            items = {f.id: f for f in facts}
        elif isinstance(facts, Mapping):
            items = dict(facts)
        else:
            items = {f.id: f for f in facts}
        self._items: dict[str, Fact] = items

    def __getitem__(self, key: str) -> Fact:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str, default: Fact | None = None) -> Fact | None:  # type: ignore[override]
        # Direct dict lookup: Mapping.get goes through __getitem__ and a KeyError per unknown fact.
        return self._items.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def items(self):  # type: ignore[override]
        # The dict's own view: Mapping.items would call __getitem__ once per fact.
        return self._items.items()

    def lookup(self) -> Callable[[str], Fact | None]:
        """A fast read-only lookup, fact id → :class:`Fact` or ``None`` (for evaluators)."""
        return self._items.get

    @classmethod
    def wrap(cls, items: dict[str, Fact]) -> "Facts":
        """Wrap ``items`` without copying (the caller gives up ownership)."""
        obj = cls.__new__(cls)
        obj._items = items
        return obj

    def value(self, fact_id: str) -> FactValue | None:
        """Return the fact's value, or ``None`` when unknown."""
        f = self._items.get(fact_id)
        return None if f is None else f.value

    def with_facts(self, *facts: Fact) -> "Facts":
        """Return a copy with ``facts`` added or replaced."""
        items = dict(self._items)
        for f in facts:
            items[f.id] = f
        return Facts(items)

    def merged_over(self, base: "Facts") -> "Facts":
        """Return ``base`` overridden by these facts (explicit facts win over extracted)."""
        items = dict(base._items)
        items.update(self._items)
        return Facts(items)

    def to_list(self, *, skip_assumed: bool = False) -> list[dict]:
        """Every fact as a dict, sorted by id (``skip_assumed`` leaves out policy assumptions)."""
        items = self._items
        if not skip_assumed:
            return [items[k].to_dict() for k in sorted(items)]
        assumed = FactOrigin.ASSUMED  # looked up once: enum member access is slow
        return [items[k].to_dict() for k in sorted([k for k, f in items.items() if f.origin is not assumed])]

    def __repr__(self) -> str:
        return f"Facts({', '.join(f'{k}={v.value!r}' for k, v in sorted(self._items.items()))})"


class Category(str, enum.Enum):
    """ACR appropriateness category."""

    USUALLY_APPROPRIATE = "usually-appropriate"
    MAY_BE_APPROPRIATE = "may-be-appropriate"
    MAY_BE_APPROPRIATE_DISAGREEMENT = "may-be-appropriate-disagreement"
    USUALLY_NOT_APPROPRIATE = "usually-not-appropriate"

    @property
    def label(self) -> str:
        return {
            "usually-appropriate": "Usually appropriate",
            "may-be-appropriate": "May be appropriate",
            "may-be-appropriate-disagreement": "May be appropriate (disagreement)",
            "usually-not-appropriate": "Usually not appropriate",
        }[self.value]


class Status(str, enum.Enum):
    """Outcome of a consultation."""

    RATED = "rated"
    NEEDS_INFORMATION = "needs-information"
    NO_CRITERIA_APPLY = "no-criteria-apply"


class StepKind(str, enum.Enum):
    """Kinds of next step (and of pathway action node)."""

    IMAGING = "imaging"
    REFERRAL = "referral"
    LABS = "labs"
    CLINICAL_ASSESSMENT = "clinical-assessment"
    CONSERVATIVE_CARE = "conservative-care"
    ESCALATE = "escalate"
    DEFER = "defer"


@dataclass(frozen=True, slots=True)
class Radiation:
    """Relative radiation level (ACR RRL) and its adult effective-dose band."""

    level: str  # "O", "☢", "☢☢", ... or "varies"
    adult_dose: str  # "0 mSv", "0.1-1 mSv", ... or "varies by region"

    def to_dict(self) -> dict:
        return {"level": self.level, "adult_dose": self.adult_dose}


@dataclass(frozen=True, slots=True)
class RatedProcedure:
    """One procedure as rated for the matched variant."""

    procedure_id: str
    name: str  # display name (area of interest resolved to the region)
    reference_name: str  # ACR's reference name, exactly
    rating: int
    category: Category
    rrl: Radiation
    rrl_rank: int  # 0 for none, 1..5 by level; 99 when unknown ("varies")
    modality: str
    # From an imported table only (None for curated ratings, and then not in the document):
    peds_rrl: Radiation | None = None  # paediatric RRL: level and the paediatric dose band
    median: float | None = None  # the panel's median rating
    soe: str | None = None  # strength of evidence, as the table gives it
    # The engine builds one per pack, variant and region and every document lists it: its
    # dict is built once and copied (never shared, so a caller may change its copy).
    _dict: dict | None = field(default=None, init=False, repr=False, compare=False)

    def to_dict(self) -> dict:
        d = self._dict
        if d is None:
            d = {
                "id": self.procedure_id,
                "name": self.name,
                "reference_name": self.reference_name,
                "rating": self.rating,
                "category": self.category._value_,
                "rrl": self.rrl.to_dict(),
                "modality": self.modality,
            }
            if self.peds_rrl is not None:
                d["peds_rrl"] = {"level": self.peds_rrl.level, "dose": self.peds_rrl.adult_dose}
            if self.median is not None:
                d["median"] = self.median
            if self.soe is not None:
                d["soe"] = self.soe
            object.__setattr__(self, "_dict", d)
        out = d.copy()
        out["rrl"] = d["rrl"].copy()
        if "peds_rrl" in d:
            out["peds_rrl"] = d["peds_rrl"].copy()
        return out


@dataclass(frozen=True, slots=True)
class NextStep:
    """An action for the patient's current state."""

    kind: StepKind
    text: str
    node_id: str
    citations: tuple[int, ...] = ()
    reference_name: str | None = None
    procedure_id: str | None = None
    urgency: str | None = None  # "routine" | "urgent" | "emergent"

    def to_dict(self) -> dict:
        d: dict = {"kind": self.kind._value_, "node": self.node_id}
        if self.reference_name:
            d["reference_name"] = self.reference_name
            d["procedure_id"] = self.procedure_id
        if self.urgency:
            d["urgency"] = self.urgency
        d["text"] = self.text
        d["citations"] = list(self.citations)
        return d


@dataclass(frozen=True, slots=True)
class MissingFact:
    """A fact that would decide the answer, and the question to ask for it."""

    fact: str
    question: str
    decides: tuple[str, ...] = ()  # ids of the variants or nodes it decides

    def to_dict(self) -> dict:
        return {"fact": self.fact, "question": self.question, "decides": list(self.decides)}


@dataclass(frozen=True, slots=True)
class Assumption:
    """A fact filled in by policy because it was not mentioned."""

    fact: str
    value: FactValue
    text: str
    label: str = ""
    group: str = ""
    # One per pack and fact, listed by most documents: its dict is built once and copied.
    _dict: dict | None = field(default=None, init=False, repr=False, compare=False)

    def to_dict(self) -> dict:
        d = self._dict
        if d is None:
            d = {"fact": self.fact, "value": self.value, "text": self.text, "label": self.label, "group": self.group}
            object.__setattr__(self, "_dict", d)
        return d.copy()


class TraceEntry(NamedTuple):
    """One evaluated node (criterion, variant, pathway node) and its result.

    A named tuple rather than a frozen dataclass: a consultation builds dozens of them, and a
    tuple is built (and turned into a dict) several times faster.
    """

    node: str
    result: str  # "true" | "false" | "unknown" | "taken" | "skipped" | "emitted"
    why: str

    def to_dict(self) -> dict:
        return {"node": self[0], "result": self[1], "why": self[2]}


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered reference as it appears in one recommendation."""

    n: int
    id: str
    text: str
    url: str | None = None

    def to_dict(self) -> dict:
        d: dict = {"n": self.n, "id": self.id, "text": self.text}
        if self.url:
            d["url"] = self.url
        return d


@dataclass(frozen=True, slots=True)
class OrderRating:
    """The rating of an ordered procedure and better-rated alternatives."""

    ordered: str  # what the caller asked for, verbatim
    procedure: RatedProcedure | None  # None when the order is not in the variant
    alternatives: tuple[RatedProcedure, ...] = ()
    note: str = ""
    read_as: str | None = None  # the catalogue name the order's words were read as
    undecided_by: str | None = None  # "contrast" | "study": what the order does not say
    candidates: tuple["OrderRating", ...] = ()  # each study the order could be, rated

    def to_dict(self) -> dict:
        d: dict = {"ordered": self.ordered}
        if self.procedure is not None:
            d["procedure"] = self.procedure.to_dict()
        else:
            d["procedure"] = None
        d["alternatives"] = [p.to_dict() for p in self.alternatives]
        if self.note:
            d["note"] = self.note
        if self.read_as is not None:
            d["read_as"] = self.read_as
        if self.undecided_by is not None:
            d["undecided_by"] = self.undecided_by
            d["candidates"] = [c.to_dict() for c in self.candidates]
        return d


@dataclass(frozen=True, slots=True)
class TopicRef:
    id: str
    title: str
    publisher: str
    source_title: str
    version: str

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "source": {"publisher": self.publisher, "title": self.source_title, "version": self.version},
        }


@dataclass(frozen=True, slots=True)
class VariantRef:
    id: str
    title: str
    source_variant: int

    def to_dict(self) -> dict:
        return {"id": self.id, "title": self.title, "source_variant": self.source_variant}


@dataclass(frozen=True, slots=True)
class Reason:
    """Why no criteria apply: a stable code, the scope rule, and the text shown to the clinician."""

    code: str  # outside-population | not-spine | referred-pain | not-understood | no-variant
    rule: str | None
    text: str
    covered_by: tuple[str, ...] = ()  # ACR topic titles that would cover the scenario
    complaint: str | None = None  # the complaint in the note's own words, when read

    def to_dict(self) -> dict:
        d: dict = {"code": self.code, "rule": self.rule, "text": self.text, "covered_by": list(self.covered_by)}
        if self.complaint is not None:
            d["complaint"] = self.complaint
        return d


@dataclass(frozen=True, slots=True)
class Recommendation:
    """The engine's answer for one consultation (see the JSON contract in the README)."""

    status: Status
    content_version: str
    as_of: date
    topic: TopicRef | None
    variant: VariantRef | None
    rationale: str
    procedures: tuple[RatedProcedure, ...]
    next_steps: tuple[NextStep, ...]
    missing_facts: tuple[MissingFact, ...]
    assumptions: tuple[Assumption, ...]
    facts: Facts
    citations: tuple[Citation, ...]
    trace: tuple[TraceEntry, ...]
    order: OrderRating | None = None
    pitfalls: tuple[tuple[str, tuple[int, ...]], ...] = ()
    payer_notes: tuple[tuple[str, tuple[int, ...]], ...] = ()
    pathway_id: str | None = None
    path: tuple[str, ...] = field(default=())
    reason: Reason | None = None  # why no criteria apply (no-criteria-apply only)
    # needs-information between imported variants: (normalised ACR topic title, variant number)
    candidates: tuple[tuple[str, int], ...] = ()
