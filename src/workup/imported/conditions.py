"""Typed conditions read from text: a variant's (compiled once) and a note's, by one lexicon.

Both sides go through ``imported/rules/concepts.yaml``: clinical terms added for
abbreviations and lay words, population (child, adult, sex, pregnancy, age bounds), the
phase of the workup, qualifiers and risk level. A variant's conditions are compared with a
note's three-valued (:func:`population_gate`, :func:`phase_fits`, :func:`risk_fits`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict

from workup.errors import KnowledgeError
from workup.intake.schema import Regex
from workup.problems import Problems

__all__ = ["Lexicon", "lexicon", "Reading", "read", "affirmed", "present", "tokens", "population_gate", "phase_fits", "risk_fits", "described_fits",
           "unframed", "clinical_terms"]

Tri = Literal[True, False, None]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Synonym(_Strict):
    pattern: Regex
    term: str


class _Exclusive(_Strict):
    id: str
    values: dict[str, Regex]
    raw: list[str] = []  # values whose words say a negation themselves ("no prior surgery"): read before negations are dropped
    dominant: list[str] = []  # values that, said in a note beside others of the group, are the note's reading alone
    counts: bool = True  # False: the group rules variants out but never counts toward one (its words already do)


class ConceptsFile(_Strict):
    """``imported/rules/concepts.yaml``."""

    schema_version: Literal[1]
    synonyms: list[_Synonym]
    population: dict[Literal["child", "adult", "female", "male", "pregnant", "nonpregnant"], Regex]
    note_adult: Regex = r"(?!x)x"  # words that make a note's patient an adult, though a variant's use of them names a sex
    # populations whose own variants take a patient of theirs over siblings that never say who
    specific_populations: list[Literal["child", "adult", "female", "male", "pregnant", "nonpregnant"]] = []
    childbearing_years: tuple[float, float] = (10.0, 55.0)
    age_words: dict[Regex, float] = {}  # a variant's word for an age group → the age (years) it stays under
    negated_span: Regex
    relative_span: Regex
    history_span: Regex = r"(?!x)x"
    variant_negated_span: Regex
    variant_alternatives_span: Regex = r"(?!x)x(?P<list>)"
    negation: Regex
    note_age: Regex
    note_sex: Regex
    note_age_months: Regex
    age_min: Regex
    age_max: Regex
    age_range: Regex
    phases: dict[str, Regex]
    qualifiers: dict[str, Regex]
    negated_qualifiers: dict[str, Regex] = {}
    note_qualifiers: dict[str, Regex] = {}  # read in notes only: a variant's "history of tumor" names a comorbidity, not its stance
    risk: dict[str, Regex]
    exclusive: list[_Exclusive]
    stopwords: list[str]
    untelling: list[str] = []
    spellings: dict[str, str] = {}


@dataclass(frozen=True)
class Lexicon:
    """The compiled concept lexicon."""

    synonyms: tuple[tuple[re.Pattern[str], str], ...]
    population: dict[str, re.Pattern[str]]
    negated_span: re.Pattern[str]
    relative_span: re.Pattern[str]
    variant_negated_span: re.Pattern[str]
    negation: re.Pattern[str]
    note_age: re.Pattern[str]
    note_sex: re.Pattern[str]
    note_age_months: re.Pattern[str]
    age_min: re.Pattern[str]
    age_max: re.Pattern[str]
    age_range: re.Pattern[str]
    phases: tuple[tuple[str, re.Pattern[str]], ...]
    qualifiers: tuple[tuple[str, re.Pattern[str]], ...]
    risk: tuple[tuple[str, re.Pattern[str]], ...]
    exclusive: tuple[tuple[str, tuple[tuple[str, re.Pattern[str]], ...]], ...]
    stopwords: frozenset[str]
    childbearing_years: tuple[float, float] = (10.0, 55.0)
    untelling: frozenset[str] = frozenset()
    negated_qualifiers: tuple[tuple[str, re.Pattern[str]], ...] = ()
    note_qualifiers: tuple[tuple[str, re.Pattern[str]], ...] = ()
    raw_values: frozenset[tuple[str, str]] = frozenset()
    dominant: frozenset[tuple[str, str]] = frozenset()
    history_span: re.Pattern[str] = re.compile(r"(?!x)x")
    spellings: re.Pattern[str] | None = None
    spelled: dict[str, str] | None = None
    variant_alternatives_span: re.Pattern[str] = re.compile(r"(?!x)x(?P<list>)")
    age_words: tuple[tuple[re.Pattern[str], float], ...] = ()
    uncounted: frozenset[str] = frozenset()  # exclusive groups that rule variants out without counting toward one
    note_adult: re.Pattern[str] = re.compile(r"(?!x)x")
    specific_populations: tuple[str, ...] = ()

    def respell(self, text: str) -> str:
        """British spellings as American ones ("haemoptysis" → "hemoptysis"), so both sides meet."""
        if self.spellings is None or self.spelled is None:
            return text
        spelled = self.spelled
        return self.spellings.sub(lambda m: spelled[m.group(0).lower()], text)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The built-in concept lexicon, validated and compiled once.

    Raises:
        KnowledgeError: KB152 listing every problem with its path.
    """
    from bm25s.stopwords import STOPWORDS_EN

    text = resources.files("workup.imported").joinpath("rules", "concepts.yaml").read_text(encoding="utf-8")
    problems = Problems(prefix="imported/rules/")
    f = problems.model("concepts.yaml", problems.yaml("concepts.yaml", text), ConceptsFile)
    if f is None:
        raise KnowledgeError("the concept lexicon is invalid", code="KB152", details=problems.items)
    i = re.IGNORECASE

    def comp(d: dict[str, str]) -> tuple[tuple[str, re.Pattern[str]], ...]:
        return tuple((k, re.compile(p, i)) for k, p in d.items())

    return Lexicon(
        synonyms=tuple((re.compile(s.pattern, i), s.term) for s in f.synonyms),
        population={k: re.compile(p, i) for k, p in f.population.items()},
        negated_span=re.compile(f.negated_span, i), relative_span=re.compile(f.relative_span, i),
        variant_negated_span=re.compile(f.variant_negated_span, i),
        variant_alternatives_span=re.compile(f.variant_alternatives_span, i),
        negation=re.compile(f.negation, i),
        note_age=re.compile(f.note_age, i), note_sex=re.compile(f.note_sex, i),
        note_age_months=re.compile(f.note_age_months, i),
        age_min=re.compile(f.age_min, i), age_max=re.compile(f.age_max, i), age_range=re.compile(f.age_range, i),
        phases=comp(f.phases), qualifiers=comp(f.qualifiers), negated_qualifiers=comp(f.negated_qualifiers),
        note_qualifiers=comp(f.note_qualifiers), risk=comp(f.risk),
        exclusive=tuple((g.id, comp(g.values)) for g in f.exclusive),
        raw_values=frozenset((g.id, v) for g in f.exclusive for v in g.raw),
        dominant=frozenset((g.id, v) for g in f.exclusive for v in g.dominant),
        uncounted=frozenset(g.id for g in f.exclusive if not g.counts),
        note_adult=re.compile(f.note_adult, i),
        specific_populations=tuple(f.specific_populations),
        age_words=tuple((re.compile(p, i), hi) for p, hi in f.age_words.items()),
        history_span=re.compile(f.history_span, i),
        stopwords=frozenset(STOPWORDS_EN) | frozenset(f.stopwords),
        childbearing_years=f.childbearing_years,
        untelling=frozenset(_stem(w.lower()) for w in f.untelling),
        spellings=re.compile("|".join(re.escape(k) for k in sorted(f.spellings, key=len, reverse=True)), i)
        if f.spellings else None,
        spelled={k.lower(): v for k, v in f.spellings.items()},
    )


@dataclass(frozen=True)
class Reading:
    """Typed conditions read from one text; ``None`` where the text says nothing."""

    terms: tuple[str, ...]  # clinical terms the lexicon added
    child: Tri
    adult: Tri
    female: Tri
    male: Tri
    pregnant: Tri
    age_min: float | None  # years (a note gives its patient's age as min = max)
    age_max: float | None  # exclusive upper bound for variants; the age itself for notes
    phases: frozenset[str]
    qualifiers: frozenset[str]
    risk: str | None
    described: tuple[tuple[str, frozenset[str]], ...] = ()  # exclusive group → the values said
    risks: frozenset[str] = frozenset()  # every risk level said ("low or intermediate probability": both)


def _stem(w: str) -> str:
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def tokens(text: str, terms: tuple[str, ...] = ()) -> list[str]:
    """Index tokens of a text and its added clinical terms: lower-case words, stop words out, light stemming."""
    lex = lexicon()
    words = re.findall(r"[a-z0-9]+", lex.respell((text + " " + " ".join(terms)).lower()))
    # a plural of a stop word ("patients") is one too
    return [t for w in words if w not in lex.stopwords and len(w) > 1 for t in (_stem(w),) if t not in lex.stopwords]


def _said(rx: re.Pattern[str], text: str) -> Tri:
    """True when ``rx`` is mentioned and not negated, False when only negated, None when absent."""
    lex = lexicon()
    found: Tri = None
    for m in rx.finditer(text):
        if lex.negation.search(text[max(0, m.start() - 40):m.start()]):
            found = False if found is None else found
        else:
            return True
    return found


_PER_YEAR = {"d": 365.25, "w": 52.18, "m": 12.0}


def _years(number: str, unit: str | None) -> float:
    """An age as years from a number and its unit (years when none: "2 days" → 0.0055)."""
    return float(number) / _PER_YEAR.get((unit or "y")[0].lower(), 1.0)


def _first_age(m: re.Match[str]) -> float:
    """The age of a bound whose alternatives each hold (number, unit) as consecutive groups."""
    g = m.groups()
    k = next(j for j in range(0, len(g), 2) if g[j] is not None)
    return _years(g[k], g[k + 1])


def affirmed(text: str, *, variant: bool = False, relatives: bool = True) -> str:
    """A note (or a variant's wording) without its negated stretches, for the words it says are present.

    ``relatives=False`` also drops what the note says of the patient's relatives.
    """
    lex = lexicon()
    if variant:
        return lex.variant_negated_span.sub(" ", text)
    said = lex.negated_span.sub(" ", text)
    return said if relatives else lex.relative_span.sub(" ", said)


def present(text: str) -> str:
    """A note without what it says of the past ("prior DVT 2019"): what is wrong now."""
    return lexicon().history_span.sub(" ", affirmed(text))


def unframed(text: str) -> str:
    """A text without the words that frame it (phase, qualifier, age group, onset and other exclusive descriptions).

    What is left names the problem itself: "Staging and Follow-Up of Leukemia" is about
    leukemia, "Acute Trauma to the Knee" about trauma to the knee; the frame is compared
    on its own (:func:`phase_fits`, :func:`described_fits`).
    """
    lex = lexicon()
    # an aside in brackets and what a title includes or excludes are not its problem
    t = _ASIDE.sub(" ", lex.respell(" ".join(text.split())))
    for rx in [rx for _k, rx in lex.phases] + [rx for _k, rx in lex.qualifiers] + [lex.population["child"], lex.population["adult"], lex.note_adult] + [
            rx for _g, values in lex.exclusive for _k, rx in values]:
        t = rx.sub(" ", t)
    return t


_ASIDE = re.compile(r"\([^)]*\)|,?\s*\b(including|excluding)\b[^,;(]*", re.IGNORECASE)


def clinical_terms(text: str) -> tuple[str, ...]:
    """The clinical terms the lexicon's synonyms add for a text, in lexicon order."""
    lex = lexicon()
    return tuple(dict.fromkeys(term for rx, term in lex.synonyms if rx.search(text)))


def read(text: str, *, note: bool) -> Reading:
    """Read a note (``note=True``: its patient's age) or a variant's wording (its age bounds)."""
    lex = lexicon()
    t = lex.respell(" ".join(text.split()))
    said = affirmed(t) if note else t
    # a variant's wording outside its negations, which run to the end of their sentence
    kept = None if note else affirmed(t, variant=True)
    # a variant's negated sentences ("No neurologic deficit.") describe what it is not
    described_from = affirmed(t, relatives=False) if kept is None else _listless(kept)
    raw_from = lex.relative_span.sub(" ", t) if note else t  # negations kept, a relative's illness not
    terms = clinical_terms(said)
    pop = {k: _said(rx, t) for k, rx in lex.population.items()}
    if kept is not None:
        # a variant's negation runs to the end of its sentence: "no history of diabetes, …, or pregnancy" excludes it
        pop = {k: False if v is True and not lex.population[k].search(kept) else v for k, v in pop.items()}
    lo = hi = None
    if note:
        if pop["adult"] is not True:
            pop["adult"] = _said(lex.note_adult, t) or pop["adult"]
        m = lex.note_age.search(t)
        mm = lex.note_age_months.search(t)
        if m is not None:
            lo = hi = float(next(g for g in m.groups() if g is not None))
        elif mm is not None:
            lo = hi = _years(mm.group(1), mm.group(2))
        if lo is not None:
            # the patient's age says child or adult over words of the past ("migraine since her teens")
            pop["child"], pop["adult"] = lo < 18, lo >= 18
        sx = lex.note_sex.search(t)
        if sx is not None:  # "58M" says the sex outright, over pronouns that may be a relative's
            pop["male"], pop["female"] = sx.group(1).lower() == "m", sx.group(1).lower() == "f"
        if pop["male"] is True and pop["female"] is not True:
            pop["female"] = False
        # a patient outside the childbearing years (or a man) is not pregnant unless the note says so
        young, old = lex.childbearing_years
        if pop["pregnant"] is None and (pop["male"] is True or lo is not None and not young <= lo <= old):
            pop["pregnant"] = False
        if pop["female"] is True and pop["male"] is not True:
            pop["male"] = False
    else:
        r = next((m for m in lex.age_range.finditer(t) if m.group("pre") or m.group("post")), None)
        if r is not None:
            lo = _years(r.group("lo"), r.group("lo_unit") or r.group("unit"))
            hi = _years(str(int(r.group("hi")) + 1), r.group("unit"))
        else:
            m = lex.age_min.search(t)
            if m is not None:
                lo = _first_age(m)
            x = lex.age_max.search(t)
            if x is not None:
                hi = _first_age(x)
        if hi is None:
            # "an infant", "a newborn" bound the age though no number is given
            hi = next((h for rx, h in lex.age_words if _said(rx, t) is True), None)
    if pop.pop("nonpregnant", None) is True and pop["pregnant"] is not True:
        pop["pregnant"] = False  # "postmenopausal", "not pregnant" in so many words
    return Reading(
        terms=terms,
        child=pop["child"], adult=pop["adult"], female=pop["female"], male=pop["male"], pregnant=pop["pregnant"],
        age_min=lo, age_max=hi,
        phases=_phases(t, note, kept),
        # "no known CAD" does not say known; "no previous history of it" says the problem is new (suspected)
        qualifiers=frozenset(k for k, rx in lex.qualifiers if rx.search(described_from))
        | frozenset(k for k, rx in lex.negated_qualifiers if rx.search(t))
        | frozenset(k for k, rx in lex.note_qualifiers if note and rx.search(described_from)),
        risk=next((k for k, rx in lex.risk if rx.search(t)), None),
        risks=frozenset(k for k, rx in lex.risk if rx.search(t)),
        described=tuple((g, _dominated(g, said_values, note)) for g, values in lex.exclusive
                        for said_values in [frozenset(k for k, rx in values
                                                      if rx.search(raw_from if (g, k) in lex.raw_values else described_from))]
                        if said_values),
    )


def _listless(text: str) -> str:
    """A variant's wording without the items of its lists of alternatives (any one of them is enough)."""
    rx = lexicon().variant_alternatives_span
    return rx.sub(lambda m: m.group(0)[:m.start("list") - m.start()] + " ", text)


def _dominated(group: str, values: frozenset[str], note: bool) -> frozenset[str]:
    """A note's values of one group with the dominant ones alone when it says them (a red flag outweighs reassurance)."""
    if not note:
        return values
    top = frozenset(v for v in values if (group, v) in lexicon().dominant)
    return top or values


def _phases(t: str, note: bool, kept: str | None = None) -> frozenset[str]:
    """The phases a text names; a note following up a known problem is not screening, however well the patient is.

    ``kept``: a variant's wording outside its negations — a phase said only inside one ("no … lack
    of response to therapy") is not its phase.
    """
    found = frozenset(k for k, rx in lexicon().phases if rx.search(t) and (kept is None or k == "initial" or rx.search(kept)))
    if note and found & {"follow-up", "surveillance"}:
        found -= {"screening"}
    return found


def population_gate(variant: Reading, note: Reading) -> Tri:
    """Whether the patient is in the variant's population: False is a hard gate."""
    unknown = False
    if variant.child is True and variant.adult is not True:  # for children only
        if note.adult is True and note.child is not True:
            return False
        unknown = unknown or note.child is None
    if variant.adult is True and variant.child is not True:  # for adults only
        if note.child is True and note.adult is not True:
            return False
        unknown = unknown or note.adult is None
    if variant.female is True and variant.male is not True and note.male is True and note.female is not True:
        return False
    if variant.male is True and variant.female is not True and note.female is True and note.male is not True:
        return False
    if variant.pregnant is True:
        if note.pregnant is False or note.male is True:
            return False
        unknown = unknown or note.pregnant is None
    if variant.pregnant is False and note.pregnant is True:
        return False
    if variant.age_min is not None or variant.age_max is not None:
        if note.age_min is None:
            unknown = True
        else:
            if variant.age_min is not None and note.age_min < variant.age_min:
                return False
            if variant.age_max is not None and note.age_min >= variant.age_max:
                return False
    return None if unknown else True


_LATER = frozenset({"next", "follow-up", "surveillance"})


def phase_fits(variant: Reading, note: Reading) -> Tri:
    """Whether the note is at the variant's point in the workup (a note that names none is taken as initial)."""
    vp = variant.phases - {"treatment"}
    if not vp:
        return True
    if note.phases & vp:
        return True
    # an asymptomatic patient with a finding to explain is at the start of its workup, not being screened
    if vp == {"initial"} and note.phases - {"treatment"} == {"screening"}:
        return True
    if not note.phases - {"treatment"}:
        if "initial" in vp or "screening" in vp:
            return True
        return False if vp <= _LATER else None
    if vp == {"initial"} and note.phases & _LATER:
        return False
    # planning an intervention comes before it, following one up after: a note at one is not at the other
    if vp == {"planning"} and note.phases & {"follow-up", "surveillance"} and "planning" not in note.phases:
        return False
    if vp <= {"follow-up", "surveillance"} and "planning" in note.phases and not note.phases & vp:
        return False
    if vp <= _LATER and "initial" in note.phases:
        return False
    return None


def risk_fits(variant: Reading, note: Reading) -> Tri:
    """Whether the note's risk level is the variant's (unknown when the note gives none)."""
    if variant.risk is None:
        return True
    if note.risk is None:
        return None
    return note.risk in (variant.risks or {variant.risk})


def described_fits(variant: Reading, note: Reading, deciding: frozenset[str]) -> Tri:
    """Whether the note's exclusive descriptions (palpable or incidental, acute or chronic …) are the variant's.

    False when the note says only other values of a group the variant describes; unknown when
    the note says nothing of a group that tells this variant from its siblings (``deciding``).
    """
    said = dict(note.described)
    unknown = False
    for group, values in variant.described:
        n = said.get(group)
        if n is None:
            unknown = unknown or group in deciding
        elif not n & values:
            return False
    return None if unknown else True
