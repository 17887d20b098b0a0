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
from typing import Any, Mapping

from workup.errors import KnowledgeError
from workup.intake.schema import (
    CONTEXT_CATEGORIES,
    ContextFile,
    DatedYears,
    Indication,
    RegionsFile,
    ScopeRulesFile,
    SpokenMarks,
    ValuesFile,
    expand_lexicons,
    compiles,
    date_context,
    expand,
)
from workup.problems import Problems

__all__ = [
    "CONTEXT_CATEGORIES", "LAYERS", "PRIOR_SURGERY_FACT", "REGIONS", "REGION_RANKS", "RULE_FILES",
    "Combination", "ContextSpec", "Lexicon", "RegionCues", "SurgerySpec", "TargetSpec", "ValuesFile",
    "build_lexicon", "date_context", "expand", "load_lexicon", "rule_files",
]

RULE_FILES = ("targets.yaml", "context.yaml", "values.yaml", "regions.yaml", "scope.yaml")
REGION_RANKS = {"complaint": 1, "symptom": 2, "finding": 3, "surgery": 4, "body": 5}
REGIONS = ("cervical", "thoracic", "lumbar", "other", "level", "words", "limb")
# the fact that records prior surgery on each spinal region (shared by the text and ICD-10 readers)
PRIOR_SURGERY_FACT = {"cervical": "prior_surgery_cervical", "thoracic": "prior_surgery_thoracic", "lumbar": "prior_surgery_lumbar"}
LAYERS = ("main", "course", "value", "scope", "question")
# what a history mention gives: keep (its facts), drop (nothing), over (nothing once it is said to be
# over and done — dated years back or resolved — its facts for a bare "h/o")
HISTORICAL_MODES = ("keep", "drop", "over")
_TARGET_KEYS = frozenset({
    "id", "pattern", "layer", "facts", "negated", "possible", "historical", "region",
    "region_rank", "surgery", "value", "blanket", "default", "list_negation", "examples", "hypothetical",
})


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
    # keep: a wish or plan is itself the fact ("wants to discuss an epidural"); only: the rule reads
    # nothing unless a plan or wish cue governs it ("discussing ESI vs decompression")
    hypothetical: str = "drop"
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
    item_end: bool = False  # counts only where a punctuation mark follows (or the cue ends in one)
    stopped_by: tuple[str, ...] = ()  # stop-cue categories that end its reach (context.yaml `stopped_by`)


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
class ScopeCues:
    """``scope.yaml``, compiled: which concepts name another body system, a referred pain, the spine."""

    complaints: Mapping[str, str]  # concept id → body system (the value of other_complaint)
    # (source, concept sets, concepts whose affirmed mention overrules it), in file order
    referred: tuple[tuple[str, tuple[frozenset[str], ...], frozenset[str]], ...]
    spine: frozenset[str]
    plausible: frozenset[str]  # rules whose mention, in any statement of the patient's, makes a spine complaint plausible
    spine_with: Mapping[str, frozenset[str]]
    not_clinical: frozenset[str]
    # concepts that put a spine complaint down to another one ("referred back ache", "back ache from
    # large breasts"): a spine mention inside one does not make the note a spine presentation
    attributed: frozenset[str] = frozenset()
    # what the note asks (a study requested, a diagnosis queried) → the body system it asks about
    # ("spine" for the spine's own): a question about another system makes the note's spine words
    # its background, unless it also asks about the spine or a spine emergency is read
    questions: Mapping[str, str] = field(default_factory=dict)
    emergencies: frozenset[str] = frozenset()
    overturned: frozenset[str] = frozenset()
    # course concepts (scope.yaml ``steady``): an unchanged spine complaint beside another complaint
    # or question is its background, unless a ``worse`` one is affirmed too
    stable: frozenset[str] = frozenset()
    worse: frozenset[str] = frozenset()
    steady_beside: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DictationMarks:
    """context.yaml's ``spoken_marks``, compiled once: the spoken words (``found``), the words around
    one that keep it a word (``keep_after`` before it, ``keep_before`` after it), each word's mark,
    and how many a text must say to be a dictation."""

    found: "re.Pattern[str]"
    keep_after: "re.Pattern[str] | None"
    keep_before: "re.Pattern[str] | None"
    marks: Mapping[str, str]
    min_count: int


@dataclass(frozen=True)
class IndicationCues:
    """context.yaml's ``indication``, lower-cased once: the words that introduce what an operation was
    done for, the words that end its reach, and the longest reach in tokens."""

    words: frozenset[str]
    stops: frozenset[str]
    max_tokens: int


def _indication(ind: Indication | None) -> IndicationCues | None:
    if ind is None:
        return None
    return IndicationCues(frozenset(w.lower() for w in ind.words), frozenset(w.lower() for w in ind.stops), ind.max_tokens)


def _dictation_marks(sm: SpokenMarks | None) -> DictationMarks | None:
    if sm is None:
        return None
    words = sorted(sm.marks, key=len, reverse=True)
    i = re.IGNORECASE
    return DictationMarks(
        found=re.compile(r"\b(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words) + r")\b", i),
        keep_after=re.compile(r"(?:" + sm.keep_after + r")\s*$", i) if sm.keep_after else None,
        keep_before=re.compile(r"^\s*(?:" + sm.keep_before + r")", i) if sm.keep_before else None,
        marks={k.lower(): v for k, v in sm.marks.items()},
        min_count=sm.min_count,
    )


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
    scope: ScopeCues | None = None
    # context.yaml's clause cues: what may follow a comma to start a new statement, which no
    # negation, family, worry or history cue reaches across ("denies trauma, known lung cancer")
    clause_after: frozenset[str] = frozenset()
    clause_starts: frozenset[str] = frozenset()
    clause_pattern: "re.Pattern[str] | None" = None
    clause_negations: frozenset[str] = frozenset()
    dated_history: frozenset[str] = frozenset()
    # checklist answers, from context.yaml's "? <answer>" cues: after one a "?" does not end the sentence
    answers: frozenset[str] = frozenset()
    # context.yaml's list headings: negation cues after which a whole list is negated
    list_headings: frozenset[str] = frozenset()
    # context.yaml's lists.back: what joins two findings so that an answer after the second answers both
    list_back: frozenset[str] = frozenset()
    heading_qualifiers: frozenset[str] = frozenset()
    # context.yaml's dated_years: when a written year dates its clause (None: years are not read)
    dated_years: "DatedYears | None" = None
    # context.yaml's indication: what an operation was done for is its history (None: not read)
    indication: "IndicationCues | None" = None
    # context.yaml's spoken_marks, compiled: punctuation said aloud in a dictation (None: read as words)
    spoken_marks: "DictationMarks | None" = None


# --------------------------------------------------------------------- loading


def rule_files() -> dict[str, str]:
    """The text of each built-in rule file, by file name."""
    base = resources.files("workup.intake").joinpath("rules")
    return {name: base.joinpath(name).read_text(encoding="utf-8") for name in RULE_FILES}


def _check_pattern(pattern: str, file: str, where: str, problems: Problems) -> bool:
    """Whether an expanded pattern names only known lexicons and compiles (each problem is added)."""
    left = re.findall(r"\{([A-Z][A-Z_]*)\}", pattern)
    if left:
        problems.add(file, f"{where}.pattern", f"unknown lexicon(s) {sorted(set(left))}")
    try:
        compiles(pattern)
    except ValueError as e:
        problems.add(file, f"{where}.pattern", str(e))
        return False
    return True


def _default_negated(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {k: False for k, v in facts.items() if v is True}


def _default_possible(facts: Mapping[str, Any], forms: Mapping[str, str | None]) -> dict[str, Any]:
    # a fact whose suspected form is null is a risk factor: a suspicion of it is not it
    return {forms.get(k, k): True for k, v in facts.items() if v is True and forms.get(k, k) is not None}


def _targets(raw: dict, fact_ids: frozenset[str] | None, problems: Problems) -> tuple[list[TargetSpec], dict[str, str]]:
    file = "targets.yaml"
    unknown = set(raw) - {"schema_version", "suspected_forms", "combinations", "rules", "lexicons"}
    if unknown:
        problems.add(file, "", f"unknown key(s) {sorted(unknown)}")
    if raw.get("schema_version") != 1:
        problems.add(file, "schema_version", "schema_version must be 1")
    forms = dict(raw.get("suspected_forms") or {})
    lexicons = raw.get("lexicons") or {}
    if not isinstance(lexicons, dict) or not all(
        isinstance(k, str) and re.fullmatch(r"[A-Z][A-Z_]*", k) and isinstance(v, list) and v for k, v in lexicons.items()
    ):
        problems.add(file, "lexicons", "lexicons map UPPER_CASE names to lists of alternatives")
        lexicons = {}
    lexicons = {k: [str(x) for x in v] for k, v in lexicons.items()}
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
        pattern = expand_lexicons(str(r.get("pattern", "")), lexicons)
        _check_pattern(pattern, file, where, problems)
        facts = dict(r.get("facts") or {})
        negated = dict(r["negated"]) if "negated" in r else _default_negated(facts)
        possible = dict(r["possible"]) if "possible" in r else _default_possible(facts, forms)
        default = dict(r.get("default") or {})
        if r.get("historical", "keep") not in HISTORICAL_MODES:
            problems.add(file, where, f"historical must be one of {HISTORICAL_MODES}")
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
                pattern=pattern,
                layer=r.get("layer", "main"),
                facts=facts,
                negated=negated,
                possible=possible,
                historical=r.get("historical", "keep"),
                hypothetical=r.get("hypothetical", "drop"),
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


def _combinations(raw: dict, fact_ids: frozenset[str] | None, problems: Problems) -> list[Combination]:
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


def _context(cf: ContextFile, problems: Problems) -> list[ContextSpec]:
    context: list[ContextSpec] = []
    seen: set[tuple[str, bool]] = set()
    for i, r in enumerate(cf.rules):
        default = cf.defaults.get(r.category)
        scope = r.max_scope if r.max_scope is not None else (default.max_scope if default else None)
        for lit in r.cues():
            # a checklist answer (item_end) is matched only before a mark, so it may share its word
            # with a cue read anywhere ("night sweats no," beside "no fever")
            key = (lit.lower(), r.item_end)
            if key in seen:
                problems.add("context.yaml", f"rules.{i}", f"cue {lit!r} is listed twice (use BIDIRECTIONAL)")
            seen.add(key)
            context.append(ContextSpec(lit, r.category, r.direction, scope, r.item_end, tuple(r.stopped_by)))
    return context


def _scope(sf: ScopeRulesFile, target_ids: set[str], problems: Problems) -> tuple[list[TargetSpec], ScopeCues]:
    """The concepts of ``scope.yaml`` as target rules of their own layer, and the cues that use them.

    Concepts are read with ConText like any finding; a history of one ("PMH: MI") is not a
    complaint now, so historical mentions give nothing.
    """
    file = "scope.yaml"
    out: list[TargetSpec] = []
    complaints: dict[str, str] = {}
    questions: dict[str, str] = {}
    ids: set[str] = set()
    for key, items in (("complaints", sf.complaints), ("questions", sf.questions), ("features", sf.features)):
        for i, c in enumerate(items):
            where = f"{key}.{i} ({c.id})"
            if c.id in ids or c.id in target_ids:
                problems.add(file, where, f"id {c.id!r} is already used (by a concept or a targets.yaml rule)")
                continue
            ids.add(c.id)
            if (c.system is None) == (key != "features"):
                problems.add(file, where, "a complaint or a question names its system; a feature names none")
            pattern = sf.expand(c.pattern)
            if not _check_pattern(pattern, file, where, problems):
                continue
            if key == "complaints":
                complaints[c.id] = c.system or ""
            elif key == "questions":
                questions[c.id] = c.system or ""
            # the facts come from workup.intake.scope, which reads the mentions together
            # a question has a layer of its own: "CT C-spine" asks about the spine and still names it
            layer = "question" if key == "questions" else "scope"
            out.append(TargetSpec(id=c.id, pattern=pattern, layer=layer, facts={}, negated={}, possible={},
                                  historical="drop"))
    known = ids | target_ids
    names = [("referred", n) for r in sf.referred for group in r.any for n in group]
    names += [("referred.unless", n) for r in sf.referred for n in r.unless]
    names += [("spine", n) for n in sf.spine] + [("not_clinical", n) for n in sf.not_clinical]
    names += [("plausible", n) for n in sf.plausible] + [("attributed", n) for n in sf.attributed]
    names += [("emergencies", n) for n in sf.emergencies] + [("overturned", n) for n in sf.overturned]
    names += [(f"spine_with.{k}", n) for k, v in sf.spine_with.items() for n in v]
    if sf.steady is not None:
        names += [("steady.stable", n) for n in sf.steady.stable] + [("steady.worse", n) for n in sf.steady.worse]
    for where, n in names:
        if n not in known:
            problems.add(file, where, f"unknown concept or rule {n!r}")
    systems = set(complaints.values())
    for k in sf.spine_with:
        if k not in systems:
            problems.add(file, f"spine_with.{k}", f"no complaint has the system {k!r}")
    for k in (sf.steady.beside if sf.steady else ()):
        if k not in systems:
            problems.add(file, f"steady.beside.{k}", f"no complaint has the system {k!r}")
    for q, system in questions.items():
        if system not in systems and system != "spine":
            problems.add(file, f"questions ({q})", f"no complaint has the system {system!r} (nor is it 'spine')")
    cues = ScopeCues(
        complaints=complaints,
        referred=tuple((r.source, tuple(frozenset(g) for g in r.any), frozenset(r.unless)) for r in sf.referred),
        spine=frozenset(sf.spine),
        plausible=frozenset(sf.spine) | frozenset(sf.plausible) | frozenset(n for v in sf.spine_with.values() for n in v),
        spine_with={k: frozenset(v) for k, v in sf.spine_with.items()},
        not_clinical=frozenset(sf.not_clinical),
        attributed=frozenset(sf.attributed),
        questions=questions,
        emergencies=frozenset(sf.emergencies),
        overturned=frozenset(sf.overturned),
        stable=frozenset(sf.steady.stable) if sf.steady else frozenset(),
        worse=frozenset(sf.steady.worse) if sf.steady else frozenset(),
        steady_beside=frozenset(sf.steady.beside) if sf.steady else frozenset(),
    )
    return out, cues


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
    problems = Problems(prefix="intake/rules/")
    raw = problems.yaml("targets.yaml", files.get("targets.yaml"))
    targets, forms = _targets(raw, fact_ids, problems) if raw is not None else ([], {})
    cf: ContextFile | None = problems.model("context.yaml", problems.yaml("context.yaml", files.get("context.yaml")), ContextFile)
    context = _context(cf, problems) if cf is not None else []
    values: ValuesFile | None = problems.model("values.yaml", problems.yaml("values.yaml", files.get("values.yaml")), ValuesFile)
    rf: RegionsFile | None = problems.model("regions.yaml", problems.yaml("regions.yaml", files.get("regions.yaml")), RegionsFile)
    combinations = _combinations(raw, fact_ids, problems) if raw is not None else []
    sf: ScopeRulesFile | None = None
    if "scope.yaml" in files:
        sf = problems.model("scope.yaml", problems.yaml("scope.yaml", files.get("scope.yaml")), ScopeRulesFile)
    scope_targets, scope = _scope(sf, {t.id for t in targets}, problems) if sf is not None else ([], None)
    targets = targets + scope_targets
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
        scope,
        frozenset(cf.clauses.after) if cf.clauses else frozenset(),
        frozenset(w.lower() for w in cf.clauses.starts) if cf.clauses else frozenset(),
        re.compile(cf.clauses.start_pattern, re.IGNORECASE) if cf.clauses and cf.clauses.start_pattern else None,
        frozenset(w.lower() for w in cf.clauses.negations) if cf.clauses else frozenset(),
        frozenset(w.lower() for w in cf.dated_history),
        frozenset(c.literal.lower()[2:] for c in context if c.literal.startswith("? ")),
        list_headings=frozenset(w.lower() for w in cf.lists.headings),
        heading_qualifiers=frozenset(w.lower() for w in cf.lists.heading_qualifiers),
        list_back=frozenset(w.lower() for w in cf.lists.back),
        dated_years=cf.dated_years,
        indication=_indication(cf.indication),
        spoken_marks=_dictation_marks(cf.spoken_marks),
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
