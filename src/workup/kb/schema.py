"""Pydantic models for knowledge-pack files.

Every model forbids unknown keys; every file carries ``schema_version``. A variant's
applicability is a small tree of typed criteria (a tagged union on ``type``); pathways
are declarative decision trees whose nodes are keyed by id.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workup.durations import pack_days

SCHEMA_VERSION = 1

duration_days = pack_days  # a knowledge-pack duration (6w, 3mo, 90d, 2y) in days


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------- criteria


class AllOf(Strict):
    """True when every child is true; false when any is false; otherwise unknown."""

    type: Literal["all"]
    of: list["Criterion"] = Field(min_length=1)


class AnyOf(Strict):
    """True when any child is true; false when every child is false; otherwise unknown."""

    type: Literal["any"]
    of: list["Criterion"] = Field(min_length=1)


class NotOf(Strict):
    """Negation (unknown stays unknown)."""

    type: Literal["not"]
    of: "Criterion"


class FactIs(Strict):
    """A fact's value: ``is`` for booleans (default true), ``equals`` / ``in`` for enums."""

    type: Literal["fact"]
    fact: str
    is_: bool | None = Field(default=None, alias="is")
    equals: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_test(self) -> "FactIs":
        if sum(x is not None for x in (self.is_, self.equals, self.in_)) > 1:
            raise ValueError("use only one of is / equals / in")
        return self


class AgeRange(Strict):
    """The patient's age in years: ``gte`` (inclusive) and/or ``lt`` (exclusive)."""

    type: Literal["age"]
    gte: float | None = None
    lt: float | None = None


class NumberRange(Strict):
    """A numeric fact: ``gte`` (inclusive) and/or ``lt`` (exclusive)."""

    type: Literal["number"]
    fact: str
    gte: float | None = None
    lt: float | None = None


class DurationRange(Strict):
    """A duration fact in days, with bounds written as ``6w``, ``3mo``, ``90d``, ``1y``."""

    type: Literal["duration"]
    fact: str
    gte: str | None = None
    lt: str | None = None

    @field_validator("gte", "lt")
    @classmethod
    def _parse(cls, v: str | None) -> str | None:
        if v is not None:
            duration_days(v)
        return v


class RefTo(Strict):
    """A named criterion from ``criteria.yaml``."""

    type: Literal["ref"]
    ref: str


Criterion = Annotated[
    Union[AllOf, AnyOf, NotOf, FactIs, AgeRange, NumberRange, DurationRange, RefTo],
    Field(discriminator="type"),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


# --------------------------------------------------------------------- facts


class FactDef(Strict):
    """One entry of the fact vocabulary."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    type: Literal["bool", "number", "enum", "date", "text"]
    label: str
    question: str
    group: str
    unit: str | None = None
    values: list[str] | None = None
    red_flag: bool = False
    derive: Criterion | None = None
    # which values the derive rule may give: both, or only one (an implication: "progressive
    # myelopathy is myelopathy", but a myelopathy that is not progressing is still one)
    derive_gives: Literal["both", "true", "false"] = "both"
    when_unknown: Literal["ask", "assume-false", "assume-true", "ignore"]
    assumption: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "FactDef":
        if self.derive_gives != "both" and (self.derive is None or self.type != "bool"):
            raise ValueError("derive_gives needs a derive rule on a bool fact")
        if self.type == "enum" and not self.values:
            raise ValueError("an enum fact needs values")
        if self.when_unknown.startswith("assume") and not self.assumption:
            raise ValueError("an assumed fact needs the assumption text shown to the clinician")
        if self.when_unknown.startswith("assume") and self.type != "bool":
            raise ValueError("only bool facts can be assumed")
        return self


class FactsFile(Strict):
    schema_version: Literal[1]
    facts: list[FactDef]


class NamedCriterion(Strict):
    id: str
    description: str
    criterion: Criterion


class CriteriaFile(Strict):
    schema_version: Literal[1]
    criteria: list[NamedCriterion]


# --------------------------------------------------------------------- citations and statements


class CitationDef(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    text: str
    kind: Literal["guideline", "article", "review", "rule", "guide", "regulation"]
    year: int | None = None
    url: str | None = None


class CitationsFile(Strict):
    schema_version: Literal[1]
    citations: list[CitationDef]


class Statement(Strict):
    """A clinical statement in our own words, with at least one citation."""

    text: str
    citations: list[str] = Field(default_factory=list)


class Faq(Strict):
    question: str
    answer: str
    citations: list[str] = Field(default_factory=list)


class Differential(Strict):
    name: str
    text: str
    citations: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------- procedures


class ProcedureDef(Strict):
    """A procedure in the catalogue, by its ACR reference name."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    reference_name: str
    modality: Literal["radiography", "ct", "mri", "myelography", "nuclear", "angiography", "fluoroscopy", "other"]
    region: Literal["cervical", "thoracic", "lumbar", "spine", "neck", "head-neck", "whole-body", "area-of-interest"]
    contrast: Literal["none", "with", "without-and-with", "intrathecal", "radiotracer"] = "none"
    resolves: dict[str, str] | None = None  # region → concrete procedure id, for "area of interest"
    aliases: list[str] = Field(default_factory=list)
    loinc: str | None = None


class ProceduresFile(Strict):
    schema_version: Literal[1]
    procedures: list[ProcedureDef]


# --------------------------------------------------------------------- topics and variants


class Rating(Strict):
    """One procedure's ACR rating within a variant (facts from the ACR table)."""

    procedure: str
    reference_name: str | None = None  # ACR's spelling in this variant when it differs from the catalogue
    rating: int = Field(ge=1, le=9)
    category: Literal[
        "usually-appropriate", "may-be-appropriate", "may-be-appropriate-disagreement", "usually-not-appropriate"
    ]
    rrl: str  # ACR's adult RRL: "O 0 mSv", "☢☢ 0.1-1 mSv", "Varies"
    rationale: Statement | None = None


class Exclusion(Strict):
    """Who does not fit this variant and where they go instead."""

    text: str
    routes_to: str | None = None  # variant id
    citations: list[str] = Field(default_factory=list)


class VariantDef(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    number: int = Field(ge=1)
    title: str  # our own words
    summary: str
    rank: int = Field(ge=0, description="lower is tried first within the topic")
    criteria: Criterion
    who_fits: str | None = None
    exclusions: list[Exclusion] = Field(default_factory=list)
    citations: list[str] = Field(min_length=1)
    ratings: list[Rating] = Field(min_length=1)


class TopicSource(Strict):
    publisher: str
    title: str  # ACR's topic title without stray suffixes
    version: str
    citation: str  # citation id


class TopicDef(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    source: TopicSource
    precedence: int = Field(ge=0, description="lower topics are tried first (red-flag topics first)")
    applies_when: Criterion
    summary: str
    differentials: list[Differential] = Field(default_factory=list)
    pitfalls: list[Statement] = Field(default_factory=list)
    faq: list[Faq] = Field(default_factory=list)
    payer_notes: list[Statement] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)


class TopicFile(Strict):
    schema_version: Literal[1]
    topic: TopicDef


class VariantsFile(Strict):
    schema_version: Literal[1]
    variants: list[VariantDef]


# --------------------------------------------------------------------- pathways


class Transition(Strict):
    when: Criterion
    to: str


class PathwayNode(Strict):
    """A node of a declarative pathway.

    ``decision`` nodes try ``transitions`` in order and fall back to ``else``; when a
    transition's condition is unknown the walk stops there and asks. Action nodes emit a
    next step and continue with every node in ``then``.
    """

    type: Literal[
        "decision", "imaging", "referral", "labs", "assessment", "conservative-care", "escalate", "defer", "end"
    ]
    text: str
    citations: list[str] = Field(default_factory=list)
    transitions: list[Transition] = Field(default_factory=list)
    else_: str | None = Field(default=None, alias="else")
    then: list[str] = Field(default_factory=list)
    procedure: str | None = None  # a procedure id; "{region}" resolves area-of-interest procedures
    urgency: Literal["routine", "urgent", "emergent"] | None = None
    finding: str | None = None  # label of the finding that leads here (what-if panel)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _shape(self) -> "PathwayNode":
        if self.type == "decision":
            if not self.transitions or self.else_ is None:
                raise ValueError("a decision node needs transitions and an explicit else")
            if self.then:
                raise ValueError("a decision node continues through its transitions, not then")
        elif self.transitions or self.else_ is not None:
            raise ValueError("only decision nodes have transitions / else")
        if self.type in ("imaging", "defer") and self.procedure is None and self.type == "imaging":
            raise ValueError("an imaging node names its procedure")
        return self


class PathwayDef(Strict):
    """A decision tree for one or more variants.

    For a matched variant the engine walks the first pathway (lowest ``priority``) that
    lists the variant and whose ``applies_when`` holds.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    variants: list[str] = Field(min_length=1)
    applies_when: Criterion | None = None
    priority: int = 100
    start: str
    nodes: dict[str, PathwayNode]


class PathwaysFile(Strict):
    schema_version: Literal[1]
    pathways: list[PathwayDef]


# --------------------------------------------------------------------- scope


class ScopeStep(Strict):
    """A step a scope rule gives even though no variant is rated (exclude an emergency first)."""

    kind: Literal["referral", "labs", "assessment", "escalate"]
    text: str
    urgency: Literal["routine", "urgent", "emergent"] | None = None
    citations: list[str] = Field(min_length=1)


class ScopeRule(Strict):
    """What the packs do not cover: tried in order before any variant.

    The first rule whose ``when`` is true ends the consultation as ``no-criteria-apply`` with
    ``reason`` (a stable code) and ``text``. ``{complaint}`` in the text is the complaint in the
    note's own words (the ``other_complaint_text`` fact) or, without it, ``complaint_label``.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    reason: Literal["outside-population", "not-spine", "referred-pain", "not-understood"]
    when: Criterion
    text: str
    complaint_label: str = "the complaint"
    covered_by: list[str] = Field(default_factory=list)  # ACR topic titles that cover the scenario
    steps: list[ScopeStep] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)


class Caveat(Strict):
    """A cited statement added to a rated answer's pitfalls when ``when`` holds (pregnancy …)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    when: Criterion
    text: str
    citations: list[str] = Field(min_length=1)


class UrgentRule(Strict):
    """Steps that lead any answer when ``when`` holds: an emergency the routing must not delay
    (early swelling of the neck after anterior cervical surgery, a new deficit after decompression)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    when: Criterion
    steps: list[ScopeStep] = Field(min_length=1)


class ScopeFile(Strict):
    """``scope.yaml``: the population and complaints the packs cover, urgent steps and caveats for all."""

    schema_version: Literal[1]
    rules: list[ScopeRule] = Field(default_factory=list)
    urgent: list[UrgentRule] = Field(default_factory=list)
    caveats: list[Caveat] = Field(default_factory=list)
