"""Pydantic models for the free-text reader's rule files (``workup/intake/rules/*.yaml``).

Every model forbids unknown keys and every pattern must compile, so a malformed cue file is
refused with the file and the path of each problem (see :func:`workup.intake.lexicon.build_lexicon`).
``targets.yaml`` is checked rule by rule in :mod:`workup.intake.lexicon` (its rules name facts).
"""

from __future__ import annotations

import itertools
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

CONTEXT_CATEGORIES = (
    "NEGATED_EXISTENCE",
    "POSSIBLE_EXISTENCE",
    "HISTORICAL",
    "ENDED",
    "HYPOTHETICAL",
    "FAMILY",
    "TERMINATE",
    "PSEUDO",
    "NEGATION_STOP",
    "HYPOTHETICAL_STOP",
    "AFFIRMATIVE",
    "RULED_OUT",
)


def compiles(pattern: str) -> str:
    """``pattern`` itself if it compiles as a case-insensitive regular expression.

    Raises:
        ValueError: naming what is wrong with it.
    """
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as e:
        raise ValueError(f"bad regular expression: {e}") from None
    return pattern


Regex = Annotated[str, AfterValidator(compiles)]
SpineRegion = Literal["cervical", "thoracic", "lumbar"]


class Strict(BaseModel):
    """A rule-file model: unknown keys are refused, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionWords(Strict):
    """Words that name one region."""

    region: SpineRegion
    pattern: Regex


class LevelCue(Strict):
    """A vertebral level: the pattern (group 1 and 2 are level letters) and each letter's region."""

    pattern: Regex
    letters: dict[Annotated[str, Field(pattern=r"^[a-z]$")], SpineRegion]

    @model_validator(mode="after")
    def _two_letter_groups(self) -> "LevelCue":
        if re.compile(self.pattern).groups < 2:
            raise ValueError("the level pattern needs two groups: the first and the second level's letter")
        return self


class UnnamedSurgery(Strict):
    """Regions of a surgery mention that names none."""

    back: Regex
    back_regions: list[SpineRegion]
    back_negated_regions: list[SpineRegion]
    negated_regions: list[SpineRegion]


class RegionsFile(Strict):
    """``regions.yaml``: the words that name a spinal region."""

    schema_version: Literal[1]
    words: list[RegionWords] = Field(min_length=1)
    level: LevelCue
    limbs: list[RegionWords]
    unnamed_surgery: UnnamedSurgery


class ContextRule(Strict):
    """One group of ConText cues of one category and direction."""

    category: Literal[CONTEXT_CATEGORIES]  # type: ignore[valid-type]
    direction: Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"] = "BIDIRECTIONAL"
    max_scope: int | None = Field(default=None, ge=1)
    literals: list[str] = Field(default_factory=list)
    # cues written as every combination of word lists, in order: [["son", "wife"], ["who has", "who had"]]
    # is "son who has", "son who had", "wife who has", "wife who had" ("" leaves a slot out; no space is
    # put before a leading comma: [["wife"], [", who has"]] is "wife, who has")
    combine: list[list[str]] = Field(default_factory=list)
    # the cue closes a checklist item ("Fever: no," "Trauma - N."): it counts only where a punctuation
    # mark follows it (or it ends in one), so "ROS: no fever" is left to the forward "no"
    item_end: bool = False
    # stop cues (categories ending in _STOP) that end this cue's reach when they stand between it and
    # a finding after it: a request's "for" names the complaint ("requesting naproxen for back pain")
    stopped_by: list[Literal["NEGATION_STOP", "HYPOTHETICAL_STOP"]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_cues(self) -> "ContextRule":
        if not self.literals and not self.combine:
            raise ValueError("a rule needs literals or combine")
        if any(not words for words in self.combine):
            raise ValueError("combine: every word list needs at least one entry")
        return self

    def cues(self) -> list[str]:
        """The rule's cues: its literals, then every combination of ``combine``'s word lists."""
        combined = (" ".join(w for w in words if w) for words in itertools.product(*self.combine)) if self.combine else ()
        return list(self.literals) + [re.sub(r"\s+(?=[,;:])", "", c) for c in combined]


class ScopeDefault(Strict):
    max_scope: int | None = Field(default=None, ge=1)


class ListCues(Strict):
    """Words that carry a negation along a list of findings."""

    glue: list[str] = Field(min_length=1)
    goes_on: list[str] = Field(min_length=1)
    # negation cues that head a list ("ROS negative for"), and the qualifiers a middle item of such a
    # list may carry and stay negated ("negative for fever, unintentional weight loss, saddle numbness")
    headings: list[str] = Field(default_factory=list)
    heading_qualifiers: list[str] = Field(default_factory=list)
    # words that join a finding to the next one closely enough that a checklist answer after the
    # second ("Fever / night sweats: no") answers the first too
    back: list[str] = Field(default_factory=list)


class ClauseCues(Strict):
    """Where a new statement starts: after one of ``after`` (a comma), a word of ``starts`` or a
    token that ``start_pattern`` matches whole (an age and sex such as "45F"); a word of
    ``negations`` starts a negated statement that always ends the one before it."""

    after: list[str] = Field(min_length=1)
    starts: list[str] = Field(default_factory=list)
    negations: list[str] = Field(default_factory=list)
    start_pattern: Regex | None = None


class DatedYears(Strict):
    """A written year that dates the findings of its clause ("RTA 2006 with whiplash"): one at least
    ``min_years_back`` before the consultation year, not after a word of ``not_after`` ("since 2019"
    is how long the complaint has lasted), nor within ``after_operation`` tokens after an operation
    ("non-union after ACDF in 2023" dates the operation)."""

    min_years_back: int = Field(ge=1)
    not_after: list[str] = Field(default_factory=list)
    after_operation: int = Field(default=0, ge=0)


class Indication(Strict):
    """What an operation was done for is its history ("fusion for T12 burst fracture (fall from
    roof)"): findings up to ``max_tokens`` after a surgery mention and one of ``words``, until a word
    of ``stops`` or a clause break (a comma, a semicolon, the sentence's end)."""

    words: list[str] = Field(min_length=1)
    stops: list[str] = Field(default_factory=list)
    max_tokens: int = Field(default=8, ge=1)


class SpokenMarks(Strict):
    """Punctuation said aloud in a dictation ("… one block comma relieved by sitting period no
    fevers"): each word of ``marks`` stands for its mark in a text that says ``min_count`` of them or
    more, except where the words before it end with ``keep_after`` or those after it start with
    ``keep_before`` (its own sense: "a period of rest", "period pain")."""

    marks: dict[str, str] = Field(min_length=1)
    min_count: int = Field(default=2, ge=1)
    keep_after: Regex | None = None
    keep_before: Regex | None = None

    @model_validator(mode="after")
    def _marks_fit(self) -> "SpokenMarks":
        for word, mark in self.marks.items():
            if not mark or len(mark) > len(word):
                raise ValueError(f"marks[{word!r}]: the mark must be non-empty and no longer than its word")
        return self


class ContextFile(Strict):
    """``context.yaml``: ConText cues, list words, and where a clause starts."""

    schema_version: Literal[1]
    defaults: dict[Literal[CONTEXT_CATEGORIES], ScopeDefault] = Field(default_factory=dict)  # type: ignore[valid-type]
    rules: list[ContextRule]
    lists: ListCues
    clauses: ClauseCues | None = None
    # units of a "<duration> ago" that dates a finding of its clause to the past ("pneumonia 4 years ago")
    dated_history: list[str] = Field(default_factory=list)
    dated_years: DatedYears | None = None
    indication: Indication | None = None
    spoken_marks: SpokenMarks | None = None



class SexCues(Strict):
    male: Regex
    female: Regex
    male_pronoun: Regex
    female_pronoun: Regex


class SurgeryDates(Strict):
    """How an absolute date of an operation is written, and the words that tie it to the operation."""

    months: dict[str, Annotated[int, Field(ge=1, le=12)]] = Field(min_length=12)
    forms: list[Regex] = Field(min_length=1)
    end: Regex
    levels: Regex
    words: Regex
    after_surgery: Regex
    before_surgery: Regex

    @model_validator(mode="after")
    def _forms_name_their_parts(self) -> "SurgeryDates":
        for i, f in enumerate(self.forms):
            names = set(re.compile(f).groupindex)
            if "year" not in names or not (names - {"year"}) <= {"month", "day", "first", "second"}:
                raise ValueError(f"forms[{i}] must name a year group and only month, day, first, second besides")
            if ("first" in names) != ("second" in names) or ("first" in names and ({"month", "day"} & names)):
                raise ValueError(f"forms[{i}]: an all-numeric date names both first and second, and no month or day")
        return self


class ValuesFile(Strict):
    """``values.yaml``: value patterns (ages, sex, durations, dates) and their words."""

    schema_version: Literal[1]
    sex: SexCues
    numbers: dict[str, float] = Field(min_length=1)
    units_days: dict[str, float] = Field(min_length=1)
    unit_words: Regex
    vague_units: Regex
    vague_counts: dict[str, float]
    surgery_words: Regex
    after_surgery: Regex
    post_op_day: Regex
    before_ago_surgery: Regex
    right_after_surgery: Regex
    duration_of: Regex
    ago: Regex
    relative: dict[str, float]
    therapy_words: Regex
    after_therapy: Regex
    before_therapy: Regex
    skip_before: Regex
    interval_before: Regex | None = None
    # "<duration> ago" after an event that is not the complaint ("fell off a ladder 20 years ago",
    # "an epidural 3 months ago"): the time since that event, a symptom duration only when nothing
    # else says how long the complaint has lasted and the sentence names the complaint
    event_before_ago: Regex | None = None
    complaint_words: Regex | None = None
    symptom_words: Regex | None = None
    since_year: Regex
    # "since March", "since early October 2025": a month name ({MONTH}, from surgery_dates.months),
    # an optional part of it (group part: early | mid | late) and an optional year
    since_month: str | None = None
    surgery_dates: SurgeryDates
    choose: dict[str, Literal["least", "greatest", "latest", "first"]] = Field(default_factory=dict)
    duration_facts: dict[Literal["symptom", "surgery", "conservative"], dict[str, float | bool | Literal["days"]]]

    @field_validator("since_year")
    @classmethod
    def _names_the_year(cls, v: str) -> str:
        if "year" not in re.compile(v).groupindex:
            raise ValueError("since_year must name a year group")
        return v

    @model_validator(mode="after")
    def _templates_compile(self) -> "ValuesFile":
        for name in ("after_surgery", "before_ago_surgery", "right_after_surgery", "after_therapy", "before_therapy"):
            try:
                compiles(expand(self, getattr(self, name)))
            except ValueError as e:
                raise ValueError(f"{name}: {e}") from None
        for name in ("after_surgery", "before_surgery"):
            pat = re.compile(date_context(self, getattr(self.surgery_dates, name)))
            if not {"surg", "date"} <= set(pat.groupindex):
                raise ValueError(f"surgery_dates.{name} must name a surg and a date group")
        return self


def expand(values: ValuesFile, pattern: str) -> str:
    """A values pattern with its ``{SURG}`` / ``{THER}`` placeholders filled in."""
    return pattern.replace("{SURG}", values.surgery_words).replace("{THER}", values.therapy_words)


def date_context(values: ValuesFile, pattern: str) -> str:
    """A surgery-date context pattern with ``{SURG}``, ``{DATE}``, ``{END}``, ``{LEVELS}`` filled in.

    ``{DATE}`` is every date form at once, their named groups made plain (each date is parsed
    again by the forms, one at a time).
    """
    sd = values.surgery_dates
    months = "|".join(sorted((re.escape(m) for m in sd.months), key=len, reverse=True))
    forms = [re.sub(r"\(\?P<\w+>", "(?:", f.replace("{MONTH}", f"(?:{months})")) for f in sd.forms]
    return (
        pattern.replace("{SURG}", f"(?:{values.surgery_words}|{sd.words})")
        .replace("{DATE}", "(?:" + "|".join(forms) + ")")
        .replace("{END}", sd.end)
        .replace("{LEVELS}", sd.levels)
    )


# --------------------------------------------------------------------- scope.yaml

_LEX_NAME = r"^[A-Z][A-Z_]*$"


class ScopeConcept(Strict):
    """A concept of ``scope.yaml``: a complaint of another body system (``system``), a question the
    note asks (``system``: the body system it asks about, ``spine`` included) or a feature."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$")]
    pattern: str
    system: str | None = None


class ReferredPattern(Strict):
    """Pain referred from ``source``: holds when every concept of one ``any`` set is present and no
    ``unless`` concept is affirmed (a sign of the spine itself: "worse on deep breaths" beside point
    tenderness over a spinous process is a fracture's pain as much as the pleura's)."""

    source: str
    any: list[list[str]] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list)


class SteadyCues(Strict):
    """``scope.yaml``'s ``steady``: what says a complaint is unchanged, what says it is getting worse,
    and beside which other systems' complaints an unchanged spine complaint is background."""

    stable: list[str] = Field(min_length=1)
    worse: list[str] = Field(default_factory=list)
    # the other complaints' systems it is background to (a mood disorder, a medicine's dose)
    beside: list[str] = Field(min_length=1)


class ScopeRulesFile(Strict):
    """``scope.yaml``: what a note is about (see the file's header)."""

    schema_version: Literal[1]
    lexicons: dict[Annotated[str, Field(pattern=_LEX_NAME)], list[str]] = Field(default_factory=dict)
    complaints: list[ScopeConcept] = Field(min_length=1)
    questions: list[ScopeConcept] = Field(default_factory=list)
    features: list[ScopeConcept] = Field(default_factory=list)
    referred: list[ReferredPattern] = Field(default_factory=list)
    spine: list[str] = Field(min_length=1)
    plausible: list[str] = Field(default_factory=list)
    spine_with: dict[str, list[str]] = Field(default_factory=dict)
    not_clinical: list[str] = Field(default_factory=list)
    attributed: list[str] = Field(default_factory=list)
    # spine rules that keep a note in the spine whatever else it asks (a spine emergency)
    emergencies: list[str] = Field(default_factory=list)
    # concepts that, after a question about another system, answer it no
    overturned: list[str] = Field(default_factory=list)
    # course concepts that make an unchanged spine complaint background to another one
    steady: "SteadyCues | None" = None

    def expand(self, pattern: str) -> str:
        """``pattern`` with each ``{NAME}`` of a lexicon replaced by its alternatives (longest first)."""
        return expand_lexicons(pattern, self.lexicons)


def expand_lexicons(pattern: str, lexicons: dict[str, list[str]]) -> str:
    """``pattern`` with each ``{NAME}`` of ``lexicons`` replaced by a group of its alternatives,
    longest first (other braces, such as regex counts ``{2}``, are left alone)."""

    def group(m: re.Match[str]) -> str:
        words = lexicons.get(m.group(1))
        if words is None:
            return m.group(0)
        return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"

    return re.sub(r"\{([A-Z][A-Z_]*)\}", group, pattern)
