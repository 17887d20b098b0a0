"""The free-text reader's rules, loaded from the data files in ``workup/intake/rules/``.

Pure data and validation: no spaCy here. :func:`load_lexicon` reads ``targets.yaml``
(what a phrase means), ``context.yaml`` (ConText cues: negation, family, hypothetical,
possible, historical; and the words that carry a negated list), ``values.yaml`` (age, sex,
durations, surgery dates) and ``regions.yaml`` (which words name a spinal region), checks
every fact id against the vocabulary, every pattern for syntax and every key against the
schema, and caches the result. :func:`build_lexicon` does the same for given file texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal, Mapping

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from workup.errors import KnowledgeError

RULE_FILES = ("targets.yaml", "context.yaml", "values.yaml", "regions.yaml")
REGION_RANKS = {"complaint": 1, "symptom": 2, "finding": 3, "surgery": 4, "body": 5}
REGIONS = ("cervical", "thoracic", "lumbar", "other", "level", "words", "limb")
# the fact that records prior surgery on each spinal region (shared by the text and ICD-10 readers)
PRIOR_SURGERY_FACT = {"cervical": "prior_surgery_cervical", "thoracic": "prior_surgery_thoracic", "lumbar": "prior_surgery_lumbar"}
LAYERS = ("main", "course", "value")
CONTEXT_CATEGORIES = (
    "NEGATED_EXISTENCE",
    "POSSIBLE_EXISTENCE",
    "HISTORICAL",
    "HYPOTHETICAL",
    "FAMILY",
    "TERMINATE",
    "PSEUDO",
    "NEGATION_STOP",
    "AFFIRMATIVE",
)
_TARGET_KEYS = frozenset({
    "id", "pattern", "layer", "facts", "negated", "possible", "historical", "region",
    "region_rank", "surgery", "value", "blanket", "default", "list_negation", "examples",
})


# --------------------------------------------------------------------- schemas


def _compiles(pattern: str) -> str:
    try:
        re.compile(pattern, re.IGNORECASE)
    except re.error as e:
        raise ValueError(f"bad regular expression: {e}") from None
    return pattern


Regex = Annotated[str, AfterValidator(_compiles)]
SpineRegion = Literal["cervical", "thoracic", "lumbar"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionWords(_Strict):
    """Words that name one region."""

    region: SpineRegion
    pattern: Regex


class LevelCue(_Strict):
    """A vertebral level: the pattern (group 1 and 2 are level letters) and each letter's region."""

    pattern: Regex
    letters: dict[Annotated[str, Field(pattern=r"^[a-z]$")], SpineRegion]

    @model_validator(mode="after")
    def _two_letter_groups(self) -> "LevelCue":
        if re.compile(self.pattern).groups < 2:
            raise ValueError("the level pattern needs two groups: the first and the second level's letter")
        return self


class UnnamedSurgery(_Strict):
    """Regions of a surgery mention that names none."""

    back: Regex
    back_regions: list[SpineRegion]
    back_negated_regions: list[SpineRegion]
    negated_regions: list[SpineRegion]


class RegionsFile(_Strict):
    """``regions.yaml``: the words that name a spinal region."""

    schema_version: Literal[1]
    words: list[RegionWords] = Field(min_length=1)
    level: LevelCue
    limbs: list[RegionWords]
    unnamed_surgery: UnnamedSurgery


class ContextRule(_Strict):
    """One group of ConText cues of one category and direction."""

    category: Literal[CONTEXT_CATEGORIES]  # type: ignore[valid-type]
    direction: Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"] = "BIDIRECTIONAL"
    max_scope: int | None = Field(default=None, ge=1)
    literals: list[str] = Field(min_length=1)


class ScopeDefault(_Strict):
    max_scope: int | None = Field(default=None, ge=1)


class ListCues(_Strict):
    """Words that carry a negation along a list of findings."""

    glue: list[str] = Field(min_length=1)
    goes_on: list[str] = Field(min_length=1)


class ContextFile(_Strict):
    """``context.yaml``: ConText cues and list words."""

    schema_version: Literal[1]
    defaults: dict[Literal[CONTEXT_CATEGORIES], ScopeDefault] = Field(default_factory=dict)  # type: ignore[valid-type]
    rules: list[ContextRule]
    lists: ListCues


class SexCues(_Strict):
    male: Regex
    female: Regex
    male_pronoun: Regex
    female_pronoun: Regex


class SurgeryDates(_Strict):
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


class ValuesFile(_Strict):
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
    ago: Regex
    relative: dict[str, float]
    therapy_words: Regex
    after_therapy: Regex
    before_therapy: Regex
    skip_before: Regex
    since_year: Regex
    surgery_dates: SurgeryDates
    choose: dict[str, Literal["least", "greatest", "latest", "first"]] = Field(default_factory=dict)
    duration_facts: dict[Literal["symptom", "surgery", "conservative"], dict[str, float | bool | Literal["days"]]]

    @model_validator(mode="after")
    def _templates_compile(self) -> "ValuesFile":
        for name in ("after_surgery", "before_ago_surgery", "right_after_surgery", "after_therapy", "before_therapy"):
            _compiles(expand(self, getattr(self, name)))
        if "year" not in re.compile(self.since_year).groupindex:
            raise ValueError("since_year must name a year group")
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


# --------------------------------------------------------------------- loaded form


@dataclass(frozen=True)
class SurgerySpec:
    """What a prior-surgery mention says: the operation, and its region when the words fix it."""

    type: str
    region: str | None = None


@dataclass(frozen=True)
class TargetSpec:
    """One target rule: a pattern and what an affirmed, negated or possible mention means."""

    id: str
    pattern: str
    layer: str = "main"
    facts: Mapping[str, Any] = field(default_factory=dict)
    negated: Mapping[str, Any] = field(default_factory=dict)
    possible: Mapping[str, Any] = field(default_factory=dict)
    historical: str = "keep"
    region: str | None = None
    region_rank: int = 9
    surgery: SurgerySpec | None = None
    value: str | None = None
    blanket: str | None = None
    default: Mapping[str, Any] = field(default_factory=dict)
    list_negation: bool = True
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Combination:
    """Facts read together that give another: every ``when`` fact true → ``then``."""

    when: tuple[str, ...]
    then: Mapping[str, Any]


@dataclass(frozen=True)
class ContextSpec:
    """One ConText cue."""

    literal: str
    category: str
    direction: str
    max_scope: int | None = None


@dataclass(frozen=True)
class RegionCues:
    """``regions.yaml``, compiled: which words, levels and limbs name a spinal region."""

    words: tuple[tuple[re.Pattern[str], str], ...]
    level: re.Pattern[str]
    letters: Mapping[str, str]
    limbs: tuple[tuple[re.Pattern[str], str], ...]
    back: re.Pattern[str]
    back_regions: tuple[str, ...]
    back_negated_regions: tuple[str, ...]
    negated_regions: tuple[str, ...]

    def named(self, words: str) -> list[str]:
        """Every region whose words occur in ``words``, in the file's order."""
        return [r for pat, r in self.words if pat.search(words)]

    def levels(self, words: str) -> list[str]:
        """The regions of every vertebral level in ``words`` ("C7-T1" gives both)."""
        out: list[str] = []
        for m in self.level.finditer(words):
            for g in m.groups()[:2]:
                if g and self.letters.get(g.lower()) and self.letters[g.lower()] not in out:
                    out.append(self.letters[g.lower()])
        return out

    def limb(self, words: str) -> list[str]:
        """The region a limb word points to (the first that matches), if any."""
        return [r for pat, r in self.limbs if pat.search(words)][:1]


@dataclass(frozen=True)
class Lexicon:
    """Everything the reader knows, as loaded from the rule files."""

    targets: tuple[TargetSpec, ...]
    context: tuple[ContextSpec, ...]
    values: ValuesFile
    suspected_forms: Mapping[str, str]

    by_id: Mapping[str, TargetSpec]
    regions: RegionCues
    combinations: tuple[Combination, ...] = ()
    # Words that give a finding its own affirmative polarity ("elevated", "positive", "new"):
    # context.yaml's AFFIRMATIVE cues, read by the reader itself (not by medspaCy's ConText).
    affirmative: frozenset[str] = frozenset()
    # context.yaml's list words: what may join the items of a negated list, and what says it goes on
    list_glue: frozenset[str] = frozenset()
    list_goes_on: frozenset[str] = frozenset()


# --------------------------------------------------------------------- loading


def rule_files() -> dict[str, str]:
    """The text of each built-in rule file, by file name."""
    base = resources.files("workup.intake").joinpath("rules")
    return {name: base.joinpath(name).read_text(encoding="utf-8") for name in RULE_FILES}


class _Problems:
    """Validation problems across the rule files, each with its file and path."""

    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, file: str, where: str, message: str) -> None:
        path = f"intake/rules/{file}"
        self.items.append({"file": path, "where": f"{path}:{where}" if where else path, "message": message})

    def yaml(self, file: str, text: str | None) -> dict | None:
        if text is None:
            self.add(file, "", "missing rule file")
            return None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            self.add(file, "", f"not valid YAML: {e}")
            return None
        if not isinstance(data, dict):
            self.add(file, "", "expected a mapping at the top level")
            return None
        return data

    def model(self, file: str, data: dict | None, model: type[_Strict]) -> Any:
        if data is None:
            return None
        try:
            return model.model_validate(data)
        except ValidationError as e:
            for err in e.errors():
                self.add(file, ".".join(str(p) for p in err["loc"]), err["msg"])
            return None


def _default_negated(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {k: False for k, v in facts.items() if v is True}


def _default_possible(facts: Mapping[str, Any], forms: Mapping[str, str]) -> dict[str, Any]:
    return {forms.get(k, k): True for k, v in facts.items() if v is True}


def _targets(raw: dict, fact_ids: frozenset[str] | None, problems: _Problems) -> tuple[list[TargetSpec], dict[str, str]]:
    file = "targets.yaml"
    unknown = set(raw) - {"schema_version", "suspected_forms", "combinations", "rules"}
    if unknown:
        problems.add(file, "", f"unknown key(s) {sorted(unknown)}")
    if raw.get("schema_version") != 1:
        problems.add(file, "schema_version", "schema_version must be 1")
    forms = dict(raw.get("suspected_forms") or {})
    targets: list[TargetSpec] = []
    seen: set[str] = set()
    for i, r in enumerate(raw.get("rules") or []):
        if not isinstance(r, dict):
            problems.add(file, f"rules.{i}", "a rule must be a mapping")
            continue
        where = f"rules.{i} ({r.get('id', '?')})"
        rid = r.get("id")
        if not rid or rid in seen:
            problems.add(file, where, "missing or duplicate id")
            continue
        seen.add(rid)
        unknown = set(r) - _TARGET_KEYS
        if unknown:
            problems.add(file, where, f"unknown key(s) {sorted(unknown)}")
        try:
            _compiles(r.get("pattern", ""))
        except ValueError as e:
            problems.add(file, f"{where}.pattern", str(e))
        facts = dict(r.get("facts") or {})
        negated = dict(r["negated"]) if "negated" in r else _default_negated(facts)
        possible = dict(r["possible"]) if "possible" in r else _default_possible(facts, forms)
        default = dict(r.get("default") or {})
        if r.get("layer", "main") not in LAYERS:
            problems.add(file, where, f"layer must be one of {LAYERS}")
        if r.get("region") is not None and r["region"] not in REGIONS:
            problems.add(file, where, f"region must be one of {REGIONS}")
        rank = r.get("region_rank")
        if rank is not None and rank not in REGION_RANKS:
            problems.add(file, where, f"region_rank must be one of {sorted(REGION_RANKS)}")
        if fact_ids is not None:
            for part in (facts, negated, possible, default):
                for k in part:
                    if k not in fact_ids:
                        problems.add(file, where, f"unknown fact {k!r}")
        surgery = None
        if r.get("surgery"):
            s = r["surgery"]
            surgery = SurgerySpec(str(s.get("type", "spine surgery")), s.get("region"))
        targets.append(
            TargetSpec(
                id=rid,
                pattern=r.get("pattern", ""),
                layer=r.get("layer", "main"),
                facts=facts,
                negated=negated,
                possible=possible,
                historical=r.get("historical", "keep"),
                region=r.get("region"),
                region_rank=REGION_RANKS.get(rank, 9) if rank else (2 if r.get("region") else 9),
                surgery=surgery,
                value=r.get("value"),
                blanket=r.get("blanket"),
                default=default,
                list_negation=bool(r.get("list_negation", True)),
                examples=tuple(str(x) for x in r.get("examples") or ()),
            )
        )
    return targets, forms


def _combinations(raw: dict, fact_ids: frozenset[str] | None, problems: _Problems) -> list[Combination]:
    out: list[Combination] = []
    for i, c in enumerate(raw.get("combinations") or []):
        where = f"combinations.{i}"
        if not isinstance(c, dict) or set(c) != {"when", "then"}:
            problems.add("targets.yaml", where, "a combination has exactly the keys when and then")
            continue
        when, then = c["when"], c["then"]
        if not isinstance(when, list) or not when or not isinstance(then, dict) or not then:
            problems.add("targets.yaml", where, "when is a list of facts, then a mapping of facts to values")
            continue
        for k in [*when, *then]:
            if fact_ids is not None and k not in fact_ids:
                problems.add("targets.yaml", where, f"unknown fact {k!r}")
        out.append(Combination(tuple(str(k) for k in when), dict(then)))
    return out


def _context(cf: ContextFile, problems: _Problems) -> list[ContextSpec]:
    context: list[ContextSpec] = []
    seen: set[str] = set()
    for i, r in enumerate(cf.rules):
        default = cf.defaults.get(r.category)
        scope = r.max_scope if r.max_scope is not None else (default.max_scope if default else None)
        for lit in r.literals:
            key = lit.lower()
            if key in seen:
                problems.add("context.yaml", f"rules.{i}", f"cue {lit!r} is listed twice (use BIDIRECTIONAL)")
            seen.add(key)
            context.append(ContextSpec(lit, r.category, r.direction, scope))
    return context


def _regions(rf: RegionsFile) -> RegionCues:
    f = re.IGNORECASE
    u = rf.unnamed_surgery
    return RegionCues(
        words=tuple((re.compile(w.pattern, f), w.region) for w in rf.words),
        level=re.compile(rf.level.pattern, f),
        letters=dict(rf.level.letters),
        limbs=tuple((re.compile(w.pattern, f), w.region) for w in rf.limbs),
        back=re.compile(u.back, f),
        back_regions=tuple(u.back_regions),
        back_negated_regions=tuple(u.back_negated_regions),
        negated_regions=tuple(u.negated_regions),
    )


def build_lexicon(files: Mapping[str, str], fact_ids: frozenset[str] | None = None) -> Lexicon:
    """Check and load rule files given as text, by file name (see :data:`RULE_FILES`).

    Args:
        files: each rule file's YAML text, keyed by its name (``targets.yaml`` …).
        fact_ids: the vocabulary to check fact ids against (``None`` skips the check).

    Raises:
        KnowledgeError: KB150, listing every problem with its file and path.
    """
    problems = _Problems()
    raw = problems.yaml("targets.yaml", files.get("targets.yaml"))
    targets, forms = _targets(raw, fact_ids, problems) if raw is not None else ([], {})
    cf: ContextFile | None = problems.model("context.yaml", problems.yaml("context.yaml", files.get("context.yaml")), ContextFile)
    context = _context(cf, problems) if cf is not None else []
    values: ValuesFile | None = problems.model("values.yaml", problems.yaml("values.yaml", files.get("values.yaml")), ValuesFile)
    rf: RegionsFile | None = problems.model("regions.yaml", problems.yaml("regions.yaml", files.get("regions.yaml")), RegionsFile)
    combinations = _combinations(raw, fact_ids, problems) if raw is not None else []
    if values is not None and fact_ids is not None:
        for k in values.choose:
            if k not in fact_ids:
                problems.add("values.yaml", f"choose.{k}", f"unknown fact {k!r}")
        for kind, given in values.duration_facts.items():
            for k in given:
                if k not in fact_ids:
                    problems.add("values.yaml", f"duration_facts.{kind}.{k}", f"unknown fact {k!r}")
    if problems.items or cf is None or values is None or rf is None:
        raise KnowledgeError(f"{len(problems.items)} problem(s) in the intake rules", code="KB150", details=problems.items)
    affirmative = frozenset(c.literal.lower() for c in context if c.category == "AFFIRMATIVE")
    return Lexicon(
        tuple(targets),
        tuple(context),
        values,
        forms,
        {t.id: t for t in targets},
        _regions(rf),
        tuple(combinations),
        affirmative,
        frozenset(w.lower() for w in cf.lists.glue),
        frozenset(w.lower() for w in cf.lists.goes_on),
    )


@lru_cache(maxsize=1)
def load_lexicon(fact_ids: frozenset[str] | None = None) -> Lexicon:
    """Load and check the built-in rule files (cached).

    Args:
        fact_ids: the vocabulary to check fact ids against (``None`` skips the check).

    Raises:
        KnowledgeError: KB150, listing every problem with its file and path.
    """
    return build_lexicon(rule_files(), fact_ids)
