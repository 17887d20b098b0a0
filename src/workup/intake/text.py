"""Free text → facts, negation-aware, with the words each fact was read from.

:func:`read` runs the medspaCy pipeline (:mod:`workup.intake.pipeline`), turns every target
mention into facts according to its assertion status, and resolves conflicts:

- negated → the rule's ``negated`` facts (a red flag is set ``False``, never ``True``);
- family or hypothetical → no fact at all (the mention is still listed);
- possible / suspected → the *suspected* form of the fact (``infection_suspected`` …);
- historical → kept for history facts, dropped where the rule says so (trauma, fever …).

Among mentions of one boolean fact, ``True`` wins (a red flag mentioned anywhere counts);
the longest symptom duration wins; the most recent surgery wins. The complaint's region
comes from the best-ranked region cue (pain words, then radiating symptoms, then levels
and findings, then the operated region, then a non-spine body part).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workup.errors import IntakeError
from workup.intake.lexicon import PRIOR_SURGERY_FACT as _PRIOR_REGION
from workup.intake.lexicon import TargetSpec
from workup.kb.load import KnowledgeBase
from workup.types import Assertion, Evidence, Fact, FactOrigin, Facts, FactValue

MAX_CHARS = 100_000
_STATUS_ORDER = (
    Assertion.FAMILY,
    Assertion.HYPOTHETICAL,
    Assertion.NEGATED,
    Assertion.POSSIBLE,
    Assertion.HISTORICAL,
)
_REGION_WORDS = (
    (re.compile(r"\b(?:cervical|neck|c-spine|acdf|cervicalgia)\b", re.I), "cervical"),
    (re.compile(r"\b(?:thoracic|t-spine|mid-?back|upper back|thoracolumbar)\b", re.I), "thoracic"),
    (re.compile(r"\b(?:lumbar|lumbosacral|l-spine|low back|lower back|thoracolumbar|sacral)\b", re.I), "lumbar"),
)
_LEVEL = re.compile(r"\b([CTLS])(?:1[0-2]|[1-9])\b(?:\s*[-–/]\s*([CTLS])?(?:1[0-2]|[1-9])\b)?", re.I)
_LETTER = {"c": "cervical", "t": "thoracic", "l": "lumbar", "s": "lumbar"}
_SPINE_WIDE = re.compile(r"\b(?:spine|spinal)\b", re.I)
_BACK = re.compile(r"\bback\b", re.I)


@dataclass(frozen=True)
class Mention:
    """One target mention in the text, with its assertion status and what it gave."""

    rule: str
    phrase: str
    start: int
    end: int
    sentence: str
    sentence_start: int
    sentence_end: int
    status: Assertion
    facts: tuple[tuple[str, FactValue], ...] = ()

    def evidence(self) -> Evidence:
        """The sentence this mention sits in, as evidence for a fact."""
        return Evidence(self.sentence, self.sentence_start, self.sentence_end, self.status, "text")


@dataclass(frozen=True)
class TextReading:
    """What was understood from one text: facts with evidence, and every mention found."""

    text: str
    facts: Facts
    mentions: tuple[Mention, ...]
    items: tuple[dict, ...] = field(default=(), repr=False)

    def to_list(self) -> list[dict]:
        """Each understood item for the clinician, in text order.

        Keys: ``fact``, ``value`` (``None`` when the mention gave no fact), ``status``
        (affirmed | negated | historical | hypothetical | family | possible), ``evidence``
        (the sentence), ``phrase`` (the matched words), ``start`` and ``end`` (the phrase's
        character offsets in the text).
        """
        return [dict(i) for i in self.items]


def read(text: str, kb: KnowledgeBase, as_of: date | None = None) -> TextReading:
    """Read a clinical scenario written in free text into facts.

    Args:
        text: the scenario, e.g. "58M, 2 yrs s/p C5-6 ACDF, a month of increasing neck pain".
        kb: the knowledge base whose fact vocabulary the facts belong to.
        as_of: the consultation date, needed only to read "since 2019".

    Raises:
        IntakeError: the text is not a string, is empty, too long or binary.
    """
    _check(text)
    from workup.intake.pipeline import GROUP, categories, extend_negated_lists, get_pipeline

    pipe = get_pipeline(frozenset(kb.facts))
    lex = pipe.lexicon
    doc = pipe.doc(text)
    spans = list(doc.spans[GROUP])
    cats = extend_negated_lists(spans, [categories(s, doc, lex) for s in spans], doc, lex)
    mentions: list[Mention] = []
    for span, cat in zip(spans, cats):
        spec = lex.by_id[span.label_]
        sent = span.sent
        status = _status(cat)
        mentions.append(
            Mention(
                rule=spec.id,
                phrase=span.text,
                start=span.start_char,
                end=span.end_char,
                sentence=sent.text.strip(),
                sentence_start=sent.start_char,
                sentence_end=sent.start_char + len(sent.text.rstrip()),
                status=status,
            )
        )
    return _interpret(text, mentions, kb, as_of)


def _check(text: Any) -> None:
    if not isinstance(text, str):
        raise IntakeError(f"the scenario text must be a string, not {type(text).__name__}", code="IN220")
    if not text.strip():
        raise IntakeError("the scenario text is empty", code="IN221")
    if len(text) > MAX_CHARS:
        raise IntakeError(f"the scenario text is too long ({len(text)} characters; the limit is {MAX_CHARS})", code="IN222")
    bad = sum(1 for ch in text if (ch < " " and ch not in "\t\n\r") or ch == "\ufffd")
    if "\x00" in text or bad > max(2, len(text) // 20):
        raise IntakeError("the scenario text looks like binary data, not words", code="IN223")


_CATEGORY = {
    Assertion.FAMILY: "FAMILY",
    Assertion.HYPOTHETICAL: "HYPOTHETICAL",
    Assertion.NEGATED: "NEGATED_EXISTENCE",
    Assertion.POSSIBLE: "POSSIBLE_EXISTENCE",
    Assertion.HISTORICAL: "HISTORICAL",
}


def _status(cats: set[str]) -> Assertion:
    for s in _STATUS_ORDER:
        if _CATEGORY[s] in cats:
            return s
    return Assertion.AFFIRMED


def _given(spec: TargetSpec, status: Assertion) -> dict[str, FactValue]:
    """The facts one mention gives, by its assertion status."""
    if status in (Assertion.FAMILY, Assertion.HYPOTHETICAL):
        return {}
    if status is Assertion.NEGATED:
        return dict(spec.negated)
    if status is Assertion.POSSIBLE:
        return dict(spec.possible)
    if status is Assertion.HISTORICAL and spec.historical == "drop":
        return {}
    return dict(spec.facts)


class _Collector:
    """Candidate values per fact, each with the mention it came from."""

    def __init__(self) -> None:
        self.values: dict[str, list[tuple[FactValue, Mention | None, Evidence | None]]] = {}
        self.defaults: dict[str, list[tuple[FactValue, Mention]]] = {}

    def add(self, fact: str, value: FactValue, m: Mention | None, ev: Evidence | None = None) -> None:
        self.values.setdefault(fact, []).append((value, m, ev))


def _interpret(text: str, mentions: list[Mention], kb: KnowledgeBase, as_of: date | None) -> TextReading:
    from workup.intake import values as V
    from workup.intake.pipeline import get_pipeline

    lex = get_pipeline().lexicon
    col = _Collector()
    region_cues: list[tuple[int, int, str, Mention]] = []
    surgeries: list[Mention] = []
    blanket: list[Mention] = []
    levels: list[Mention] = []
    for m in mentions:
        spec = lex.by_id[m.rule]
        gives = _given(spec, m.status)
        for k, v in gives.items():
            col.add(k, v, m)
        positive = m.status in (Assertion.AFFIRMED, Assertion.HISTORICAL, Assertion.POSSIBLE)
        if spec.region and positive:
            for r in _regions_of(spec.region, m.phrase):
                region_cues.append((spec.region_rank, m.start, r, m))
        if spec.region == "level":
            levels.append(m)
        if spec.surgery is not None and m.status not in (Assertion.FAMILY, Assertion.HYPOTHETICAL, Assertion.POSSIBLE):
            surgeries.append(m)
        if spec.blanket and m.status is Assertion.NEGATED:
            blanket.append(m)
        if spec.default and positive:
            for k, v in spec.default.items():
                col.defaults.setdefault(k, []).append((v, m))
        # A negation cue does not unsay a number ("no fever, age 40"); family and worry still do.
        if spec.value and m.status not in (Assertion.FAMILY, Assertion.HYPOTHETICAL):
            if spec.value == "age":
                age = V.age_of(m.phrase)
                if age is not None:
                    col.add("age", age, m)
            elif spec.value == "relative":
                days = V.relative_days(m.phrase, lex)
                if days is not None:
                    col.add("symptom_duration_days", days, m)
            elif spec.value == "duration":
                days = V.days_of(m.phrase, lex)
                kind = V.classify_duration(text, m.start, m.end, lex)
                fact = {"symptom": "symptom_duration_days", "surgery": "days_since_surgery", "conservative": "conservative_care_days"}.get(kind)
                if days is not None and fact:
                    col.add(fact, days, m)
                    if fact == "conservative_care_days":
                        col.add("conservative_care_tried", True, m)
    for days, s, e in V.post_op_days(text, lex):
        col.add("days_since_surgery", days, None, Evidence(text[s:e], s, e, Assertion.AFFIRMED, "text"))
    if as_of is not None:
        for mm in re.finditer(r"\bsince\s+((?:19|20)\d\d)\b", text, re.I):
            year = int(mm.group(1))
            if year <= as_of.year:
                col.add("symptom_duration_days", float((as_of - date(year, 1, 1)).days), None,
                        Evidence(mm.group(0), mm.start(), mm.end(), Assertion.AFFIRMED, "text"))

    region = _pick_region(region_cues)
    if region is not None:
        col.add("region", region[0], region[1])
    _surgeries(surgeries, levels, col, region[0] if region else None)
    sex = V.sex_of(text, lex)
    if sex is not None:
        col.add("sex", sex[0], None, Evidence(text[sex[1] : sex[2]], sex[1], sex[2], Assertion.AFFIRMED, "text"))

    facts = _resolve(col, kb)
    for m in blanket:
        for fd in kb.facts.values():
            if fd.red_flag and fd.derive is None and fd.id not in facts:
                facts[fd.id] = Fact(fd.id, False, FactOrigin.TEXT, (m.evidence(),))
                col.add(fd.id, False, m)
    if facts.get("myelopathy") is not None and facts["myelopathy"].value is True:
        inc = facts.get("symptoms_increasing")
        if inc is not None and inc.value is True and "myelopathy_progressive" not in facts:
            facts["myelopathy_progressive"] = Fact(
                "myelopathy_progressive", True, FactOrigin.TEXT, facts["myelopathy"].evidence + inc.evidence
            )
    ordered = Facts({k: facts[k] for k in sorted(facts)})
    return TextReading(text, ordered, tuple(mentions), tuple(_items(mentions, col, ordered)))


def _regions_of(kind: str, phrase: str) -> list[str]:
    if kind in ("cervical", "thoracic", "lumbar", "other"):
        return [kind]
    if kind == "limb":
        low = phrase.lower()
        if re.search(r"\b(?:legs?|foot|feet|lower extremit|[rlb]?le)\b", low):
            return ["lumbar"]
        if re.search(r"\b(?:arms?|hands?|upper extremit\w*|wrist|[rlb]?ue)\b", low):
            return ["cervical"]
        return []
    if kind == "level":
        m = _LEVEL.search(phrase)
        return [_LETTER[m.group(1).lower()]] if m else []
    return [r for pat, r in _REGION_WORDS if pat.search(phrase)][:1]


def _pick_region(cues: list[tuple[int, int, str, Mention]]) -> tuple[str, Mention] | None:
    if not cues:
        return None
    rank, _, region, m = min(cues, key=lambda c: (c[0], c[1]))
    return region, m


def _surgery_regions(m: Mention, levels: list[Mention], spec_region: str | None) -> tuple[set[str], str | None]:
    """Regions a surgery mention names, and its levels text."""
    regions: set[str] = set()
    if spec_region:
        regions.add(spec_region)
    for pat, r in _REGION_WORDS:
        if pat.search(m.phrase):
            regions.add(r)
    near = [
        lv for lv in levels
        if lv.sentence_start == m.sentence_start and (abs(lv.end - m.start) <= 40 or abs(m.end - lv.start) <= 40)
    ]
    near.sort(key=lambda lv: min(abs(lv.end - m.start), abs(m.end - lv.start)))
    level_text = near[0].phrase if near else None
    if near and not spec_region:
        for mm in _LEVEL.finditer(near[0].phrase):
            regions.add(_LETTER[mm.group(1).lower()])
            if mm.group(2):
                regions.add(_LETTER[mm.group(2).lower()])
    return regions, level_text


def _surgeries(surgeries: list[Mention], levels: list[Mention], col: _Collector, complaint: str | None) -> None:
    from workup.intake.pipeline import get_pipeline

    lex = get_pipeline().lexicon
    for m in surgeries:
        spec = lex.by_id[m.rule]
        assert spec.surgery is not None  # surgeries only holds surgery rules
        regions, level_text = _surgery_regions(m, levels, spec.surgery.region)
        negated = m.status is Assertion.NEGATED
        if not regions:
            if negated:
                regions = {"cervical", "thoracic", "lumbar"} if not _BACK.search(m.phrase) else {"thoracic", "lumbar"}
            elif complaint in _PRIOR_REGION:
                regions = {complaint}
            elif _BACK.search(m.phrase):
                regions = {"lumbar"}
        for r in sorted(regions):
            if r in _PRIOR_REGION:
                col.add(_PRIOR_REGION[r], not negated, m)
        if not negated and regions:
            col.add("surgery_type", spec.surgery.type, m)
            if level_text:
                col.add("surgery_levels", level_text, m)


def _resolve(col: _Collector, kb: KnowledgeBase) -> dict[str, Fact]:
    out: dict[str, Fact] = {}
    for fid, cands in col.values.items():
        fd = kb.facts.get(fid)
        if fd is None:
            continue
        vals = [c[0] for c in cands]
        if fd.type == "bool":
            value: FactValue = True if True in vals else False
        elif fid == "days_since_surgery":
            value = min(float(v) for v in vals)  # type: ignore[arg-type]
        elif fd.type == "number":
            value = max(float(v) for v in vals)  # type: ignore[arg-type]
        else:
            value = vals[0]
        evidence: list[Evidence] = []
        for v, m, ev in cands:
            if v != value:
                continue
            e = ev if ev is not None else (m.evidence() if m is not None else None)
            if e is not None and e not in evidence:
                evidence.append(e)
        out[fid] = Fact(fid, value, FactOrigin.TEXT, tuple(evidence))
    for fid, cands in col.defaults.items():
        if fid not in out and fid in kb.facts:
            v, m = cands[0]
            out[fid] = Fact(fid, v, FactOrigin.TEXT, (m.evidence(),))
            col.add(fid, v, m)
    return out


def _items(mentions: list[Mention], col: _Collector, facts: Facts) -> list[dict]:
    """The clinician's list: each (mention, fact) pair, plus mentions that gave no fact."""
    from workup.intake.pipeline import get_pipeline

    lex = get_pipeline().lexicon
    by_mention: dict[int, list[tuple[str, FactValue]]] = {}
    extra: list[dict] = []
    for fid, cands in col.values.items():
        for v, m, ev in cands:
            if m is not None:
                by_mention.setdefault(id(m), []).append((fid, v))
            elif ev is not None and fid in facts:
                extra.append({"fact": fid, "value": _jsonable(v), "status": ev.assertion.value, "evidence": ev.text,
                              "phrase": ev.text, "start": ev.start, "end": ev.end})
    items: list[dict] = []
    for m in mentions:
        spec = lex.by_id[m.rule]
        given = by_mention.get(id(m), [])
        base = {"status": m.status.value, "evidence": m.sentence, "phrase": m.phrase, "start": m.start, "end": m.end}
        if given:
            seen = set()
            for fid, v in sorted(given):
                if (fid, v) in seen:
                    continue
                seen.add((fid, v))
                items.append({"fact": fid, "value": _jsonable(v), **base})
        elif m.status in (Assertion.FAMILY, Assertion.HYPOTHETICAL, Assertion.NEGATED, Assertion.POSSIBLE):
            names = sorted(spec.facts)
            if spec.surgery is not None:
                names = [_PRIOR_REGION[r] for pat, r in _REGION_WORDS if pat.search(m.phrase)][:1] or ["surgery_type"]
            for fid in names:
                items.append({"fact": fid, "value": None, **base})
    items.extend(extra)
    items.sort(key=lambda i: (i["start"] if i["start"] is not None else -1, i["end"] or 0, i["fact"]))
    return items


def _jsonable(v: FactValue) -> Any:
    return v.isoformat() if isinstance(v, date) else v


def assertion(sentence: str, phrase: str) -> dict[str, bool]:
    """Assertion status of ``phrase`` within ``sentence``, by the reader's ConText rules.

    Returns a mapping with booleans ``negated``, ``historical``, ``hypothetical``,
    ``family`` and ``possible`` (all false for a plainly affirmed mention).

    Raises:
        IntakeError: the sentence is unusable, or the phrase does not occur in it.
    """
    _check(sentence)
    if not isinstance(phrase, str) or not phrase.strip():
        raise IntakeError("the phrase must be a non-empty string", code="IN224")
    at = sentence.lower().find(phrase.lower())
    if at < 0:
        raise IntakeError(f"the phrase {phrase!r} does not occur in the sentence", code="IN225")
    from spacy.tokens import Span

    from workup.intake.pipeline import GROUP, categories, get_pipeline

    pipe = get_pipeline()
    doc = pipe.nlp.make_doc(sentence)
    from workup.intake.pipeline import split_sentences

    split_sentences(doc)
    # The whole input is one sentence for this question.
    for tok in doc[1:]:
        tok.is_sent_start = False
    span = doc.char_span(at, at + len(phrase), alignment_mode="expand")
    if span is None or len(span) == 0:
        raise IntakeError(f"the phrase {phrase!r} does not fall on word boundaries", code="IN226")
    # Read the phrase as a finding: a neutral label so no rule-specific limit applies.
    target = Span(doc, span.start, span.end, label=_PROBE)
    doc.spans[GROUP] = [target]
    pipe.context(doc)
    cats = categories(target, doc, pipe.lexicon)
    return {
        "negated": "NEGATED_EXISTENCE" in cats,
        "historical": "HISTORICAL" in cats,
        "hypothetical": "HYPOTHETICAL" in cats,
        "family": "FAMILY" in cats,
        "possible": "POSSIBLE_EXISTENCE" in cats,
    }


_PROBE = "workup-probe"
