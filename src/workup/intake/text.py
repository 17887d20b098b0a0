"""Free text → facts, negation-aware, with the words each fact was read from.

:func:`read` runs the medspaCy pipeline (:mod:`workup.intake.pipeline`), turns every target
mention into facts according to its assertion status, and resolves conflicts:

- negated → the rule's ``negated`` facts (a red flag is set ``False``, never ``True``);
- family or hypothetical → no fact at all (the mention is still listed);
- possible / suspected → the *suspected* form of the fact (``infection_suspected`` …);
- historical → kept for history facts, dropped where the rule says so (trauma, fever …); a
  symptom's history is dropped once it is said to be over (dated years back, resolved).

Among mentions of one boolean fact, ``True`` wins (a red flag mentioned anywhere counts);
the longest symptom duration wins; the most recent surgery wins (``choose`` in
``rules/values.yaml``). The complaint's region comes from the best-ranked region cue (pain
words, then radiating symptoms, then levels and findings, then the operated region, then a
non-spine body part); which words name which region is ``rules/regions.yaml``.

With the consultation date, "since 2019" becomes a symptom duration and the written date of
an affirmed operation ("ACDF in March 2024", "fused 03/2024") the time since surgery; a date
that is in the future, ambiguous, or too coarse to fall on one side of a limit the knowledge
base uses gives no fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel

from workup.errors import IntakeError
from workup.intake.lexicon import PRIOR_SURGERY_FACT as _PRIOR_REGION
from workup.intake.lexicon import Lexicon, RegionCues, TargetSpec
from workup.intake.scope import scope_facts
from workup.kb.load import KnowledgeBase
from workup.kb.schema import DurationRange, NumberRange, duration_days
from workup.types import Assertion, Evidence, Fact, FactOrigin, Facts, FactValue

MAX_CHARS = 100_000
_STATUS_ORDER = (
    Assertion.FAMILY,
    Assertion.HYPOTHETICAL,
    Assertion.NEGATED,
    Assertion.POSSIBLE,
    Assertion.HISTORICAL,
)


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
    # said to be over and done: dated years back or resolved ("sciatica 2017, settled within weeks")
    over: bool = False

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
        as_of: the consultation date, needed only to read "since 2019" and written dates of
            surgery ("operated on in March 2024").

    Raises:
        IntakeError: the text is not a string, is empty, too long or binary.
    """
    _check(text)
    from workup.intake.pipeline import (
        GROUP,
        categories,
        date_history,
        doc_index,
        extend_negated_lists,
        get_pipeline,
        indication_history,
    )

    pipe = get_pipeline(frozenset(kb.facts))
    lex = pipe.lexicon
    doc = pipe.doc(text)
    spans = list(doc.spans[GROUP])
    cats = extend_negated_lists(spans, [categories(s, doc, lex) for s in spans], doc, lex)
    cats = date_history(spans, cats, doc, lex, as_of.year if as_of is not None else None)
    cats = indication_history(spans, cats, doc, lex)
    # Each sentence's text is built once, not once per mention (span.sent walks the
    # sentence: many mentions in one long sentence made this quadratic).
    ix = doc_index(doc, lex)
    sentence_of: dict[int, tuple[str, int, int]] = {}
    mentions: list[Mention] = []
    for span, cat in zip(spans, cats):
        spec = lex.by_id[span.label_]
        k = ix.sent_of[span.start]  # the sentence of the span's first token, as span.sent
        if k not in sentence_of:
            sent = ix.sentences[k]
            sent_text = sent.text
            sentence_of[k] = (sent_text.strip(), sent.start_char, sent.start_char + len(sent_text.rstrip()))
        sentence, sentence_start, sentence_end = sentence_of[k]
        status = _status(cat)
        mentions.append(
            Mention(
                rule=spec.id,
                phrase=span.text,
                start=span.start_char,
                end=span.end_char,
                sentence=sentence,
                sentence_start=sentence_start,
                sentence_end=sentence_end,
                status=status,
                over=status is Assertion.HISTORICAL and "ENDED" in cat,
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
    # A suspicion that a result then cleared ("?lung ca, CT chest clear") is ruled out; a clear
    # result says nothing of a finding that was stated, not suspected ("known myeloma, bone scan clear").
    if "RULED_OUT" in cats and "POSSIBLE_EXISTENCE" in cats and not cats & {"FAMILY", "HYPOTHETICAL"}:
        return Assertion.NEGATED
    if "ENDED" in cats:  # over and done is history of its own kind
        cats = cats | {"HISTORICAL"}
    for s in _STATUS_ORDER:
        if _CATEGORY[s] in cats:
            return s
    return Assertion.AFFIRMED


def _given(spec: TargetSpec, status: Assertion, over: bool = False) -> dict[str, FactValue]:
    """The facts one mention gives, by its assertion status (``over``: a history said to be over)."""
    if status is Assertion.HYPOTHETICAL and spec.hypothetical in ("keep", "only"):
        return dict(spec.facts)
    if spec.hypothetical == "only":
        return {}  # an option under discussion: read only where a plan or wish cue governs it
    if status in (Assertion.FAMILY, Assertion.HYPOTHETICAL):
        return {}
    if status is Assertion.NEGATED:
        return dict(spec.negated)
    if status is Assertion.POSSIBLE:
        return dict(spec.possible)
    if status is Assertion.HISTORICAL and (spec.historical == "drop" or (over and spec.historical == "over")):
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
    events: list[tuple[float, Mention]] = []  # "<duration> ago" after another event (a fall, an injection)
    aside: list[tuple[float, Mention]] = []  # plain durations in sentences that name no symptom
    for m in mentions:
        spec = lex.by_id[m.rule]
        gives = _given(spec, m.status, m.over)
        for k, v in gives.items():
            col.add(k, v, m)
        positive = m.status in (Assertion.AFFIRMED, Assertion.HISTORICAL, Assertion.POSSIBLE)
        if spec.region and positive:
            for r in _regions_of(spec.region, m.phrase, lex.regions):
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
        # A negation cue does not unsay a number ("no fever, age 40"); family and worry still do, except
        # that a request's cue does not make the patient's age one ("referral for Mrs J, 52").
        if spec.value and m.status is not Assertion.FAMILY and (
            m.status is not Assertion.HYPOTHETICAL or spec.value == "age"
        ):
            if spec.value == "age":
                age = V.age_of(m.phrase, lex)
                if age is not None:
                    col.add("age", age, m)
            elif spec.value == "relative":
                days = V.relative_days(m.phrase, lex)
                if days is not None:
                    col.add("symptom_duration_days", days, m)
            elif spec.value == "duration":
                days = V.days_of(m.phrase, lex)
                kind = V.classify_duration(text, m.start, m.end, lex)
                point = V.is_ago(text, m.end, lex) or m.rule == "duration-past"
                if kind == "symptom" and point and not _names_complaint(m, lex):
                    kind = "skip"  # "had pneumonia 4 years ago": the time since something else
                if days is not None and kind == "event":
                    events.append((days, m))
                elif days is not None and kind == "symptom" and not point and not _names_symptom(m, lex):
                    aside.append((days, m))  # "leaky when she coughs, for about ten years": used only alone
                elif days is not None:
                    for fid, v in lex.values.duration_facts.get(kind, {}).items():  # type: ignore[call-overload]
                        col.add(fid, days if v == "days" else v, m)
    if lex.scope is not None:
        for fid, value, m in scope_facts(mentions, lex.scope):
            if m is not None:
                col.add(fid, value, m)
            else:
                whole = text.strip()
                col.add(fid, value, None, Evidence(whole[:200], 0, min(len(whole), 200), Assertion.AFFIRMED, "text"))
    if "symptom_duration_days" not in col.values:
        for days, m in aside:
            col.add("symptom_duration_days", days, m)
    # the time since another event measures the complaint only when nothing else does and its own
    # clause names the complaint ("back pain since a fall 3 weeks ago"; not "PMHx: fell 20 years ago",
    # nor "low back pain, had an epidural injection 3 months ago")
    words = V.compiled(lex).complaint_words
    if "symptom_duration_days" not in col.values and words is not None:
        for days, m in events:
            clause = text[max(text.rfind(",", m.sentence_start, m.start), text.rfind(";", m.sentence_start, m.start),
                              m.sentence_start):m.end]
            if m.status is Assertion.AFFIRMED and words.search(clause):
                col.add("symptom_duration_days", days, m)
                break
    # a note that counts the days ("was 5/5 on POD1 ... now POD 4") is as far on as its latest day
    post_op = V.post_op_days(text, lex)
    if post_op:
        days, s, e = max(post_op, key=lambda d: d[0])
        col.add("days_since_surgery", days, None, Evidence(text[s:e], s, e, Assertion.AFFIRMED, "text"))
    unread_surgery: float | None = None
    if as_of is not None:
        for year, s, e in V.since_years(text, lex):
            if year <= as_of.year:
                col.add("symptom_duration_days", float((as_of - date(year, 1, 1)).days), None,
                        Evidence(text[s:e], s, e, Assertion.AFFIRMED, "text"))
        # "since March": the fewest days it may mean, unless a limit of the knowledge base on the
        # symptoms' duration falls within the month (the reader does not guess which side)
        limits = _limits(kb, "symptom_duration_days")
        for first, last, s, e in V.since_months(text, lex, as_of):
            least, most = float((as_of - last).days), float((as_of - first).days)
            if not any(least < limit <= most for limit in limits):
                col.add("symptom_duration_days", least, None, Evidence(text[s:e], s, e, Assertion.AFFIRMED, "text"))
        unread_surgery = _surgery_dates(text, mentions, col, kb, lex, as_of)
    # symptoms have lasted at least as long as the treatment given for them ("sciatica persisting
    # despite 10 weeks of physical therapy"): the least duration the note implies
    care = [c for c in col.values.get("conservative_care_days", []) if isinstance(c[0], (int, float))]
    if "symptom_duration_days" not in col.values and care:
        value, m, ev = max(care, key=lambda c: c[0])
        col.add("symptom_duration_days", value, m, ev)

    region = _pick_region(region_cues)
    if region is not None:
        col.add("region", region[0], region[1])
    _surgeries(surgeries, levels, col, region[0] if region else None, lex)
    sex = V.sex_of(text, lex)
    if sex is not None:
        col.add("sex", sex[0], None, Evidence(text[sex[1] : sex[2]], sex[1], sex[2], Assertion.AFFIRMED, "text"))

    facts = _resolve(col, kb, lex)
    if not surgeries:
        # the time since an operation is the spine operation's: with none named ("knee surgery last
        # year", "POD 2 after a hernia repair") it says nothing of a recent spinal intervention
        for fid in ("days_since_surgery", "surgery_date"):
            facts.pop(fid, None)
            col.values.pop(fid, None)
    since = facts.get("days_since_surgery")
    if unread_surgery is not None and since is not None and float(since.value) > unread_surgery:  # type: ignore[arg-type]
        # a more recent operation whose date could not be read one way: the time since the
        # last surgery is unknown, not that of an older one
        for fid in ("days_since_surgery", "surgery_date"):
            facts.pop(fid, None)
            col.values.pop(fid, None)  # nor listed as read
    for m in blanket:
        for fd in kb.facts.values():
            # a fact whose rule is only an implication (derive_gives) is negated too: "no red flags" rules out
            # myelopathy as well as its progression
            if fd.red_flag and (fd.derive is None or fd.derive_gives != "both") and fd.id not in facts:
                facts[fd.id] = Fact(fd.id, False, FactOrigin.TEXT, (m.evidence(),))
                col.add(fd.id, False, m)
    for combo in lex.combinations:
        read_true = [facts[k] for k in combo.when if k in facts and facts[k].value is True]
        if len(read_true) == len(combo.when):
            evidence = tuple(e for f in read_true for e in f.evidence)
            for fid, v in combo.then.items():
                if fid not in facts:
                    facts[fid] = Fact(fid, v, FactOrigin.TEXT, evidence)
    ordered = Facts({k: facts[k] for k in sorted(facts)})
    return TextReading(text, ordered, tuple(mentions), tuple(_items(mentions, col, ordered)))


def _regions_of(kind: str, phrase: str, rc: RegionCues) -> list[str]:
    if kind in ("cervical", "thoracic", "lumbar", "other"):
        return [kind]
    if kind == "limb":
        return rc.limb(phrase)
    if kind == "level":
        m = rc.level.search(phrase)
        region = rc.letters.get(m.group(1).lower()) if m else None
        return [region] if region else []
    return rc.named(phrase)[:1]


def _names_complaint(m: Mention, lex: Lexicon) -> bool:
    """Whether the sentence of a point in time ("3 weeks ago", "last year") names the complaint
    (values.yaml ``complaint_words``): "mammogram normal last year" dates the mammogram, not the pain."""
    from workup.intake import values as V

    return _sentence_has(m, V.compiled(lex).complaint_words)


def _names_symptom(m: Mention, lex: Lexicon) -> bool:
    """Whether the sentence of a plain duration names a symptom (values.yaml ``symptom_words``)."""
    from workup.intake import values as V

    return _sentence_has(m, V.compiled(lex).symptom_words)


def _sentence_has(m: Mention, words: re.Pattern[str] | None) -> bool:
    """Whether ``m``'s sentence has one of ``words`` (no pattern: taken as yes)."""
    return words is None or words.search(m.sentence) is not None


def _pick_region(cues: list[tuple[int, int, str, Mention]]) -> tuple[str, Mention] | None:
    if not cues:
        return None
    rank, _, region, m = min(cues, key=lambda c: (c[0], c[1]))
    return region, m


def _surgery_regions(
    m: Mention, levels: list[Mention], spec_region: str | None, rc: RegionCues
) -> tuple[set[str], str | None]:
    """Regions a surgery mention names, and its levels text."""
    regions: set[str] = set(rc.named(m.phrase))
    if spec_region:
        regions.add(spec_region)
    near = [
        lv for lv in levels
        if lv.sentence_start == m.sentence_start and (abs(lv.end - m.start) <= 40 or abs(m.end - lv.start) <= 40)
    ]
    near.sort(key=lambda lv: min(abs(lv.end - m.start), abs(m.end - lv.start)))
    level_text = near[0].phrase if near else None
    if near and not spec_region:
        regions.update(rc.levels(near[0].phrase))
    return regions, level_text


def _surgeries(surgeries: list[Mention], levels: list[Mention], col: _Collector, complaint: str | None, lex: Lexicon) -> None:
    rc = lex.regions
    for m in surgeries:
        spec = lex.by_id[m.rule]
        assert spec.surgery is not None  # surgeries only holds surgery rules
        regions, level_text = _surgery_regions(m, levels, spec.surgery.region, rc)
        negated = m.status is Assertion.NEGATED
        back = rc.back.search(m.phrase) is not None
        if not regions:
            if negated:
                regions = set(rc.back_negated_regions if back else rc.negated_regions)
            elif complaint in _PRIOR_REGION:
                regions = {complaint}
            elif back:
                regions = set(rc.back_regions)
        for r in sorted(regions):
            if r in _PRIOR_REGION:
                col.add(_PRIOR_REGION[r], not negated, m)
        if not negated and regions:
            col.add("surgery_type", spec.surgery.type, m)
            if level_text:
                col.add("surgery_levels", level_text, m)


_SURGERY_STATUSES = (Assertion.AFFIRMED, Assertion.HISTORICAL)


def _surgery_dates(
    text: str, mentions: list[Mention], col: _Collector, kb: KnowledgeBase, lex: Lexicon, as_of: date
) -> float | None:
    """Time since an operation from its written date ("ACDF in March 2024"), as of ``as_of``.

    Only a date next to the words of an affirmed or historical surgery mention counts (not a
    negated, family, hypothetical or possible one, nor the date of a scan or a lab). A month or
    a year gives the days since its last day, and only when no limit the knowledge base puts on
    ``days_since_surgery`` falls within the period (the reader does not guess which side of a
    limit the operation was); a full date also gives ``surgery_date``.

    Returns:
        the fewest days since surgery that a date it could not read may mean (0 for one still
        running on ``as_of``), or None: a time since surgery longer than that may belong to an
        older operation, and must not be given.
    """
    from workup.intake import values as V

    limits = _limits(kb, "days_since_surgery")
    unread: float | None = None
    for d in V.surgery_dates(text, lex, as_of):
        m = next(
            (
                m for m in mentions
                if lex.by_id[m.rule].surgery is not None and m.start < d.surg_end and d.surg_start < m.end
            ),
            None,
        )
        if m is None or m.status not in _SURGERY_STATUSES:
            continue
        least, most = float(max(0, (as_of - d.last).days)), float((as_of - d.first).days)
        if not d.certain or any(least < limit <= most for limit in limits):
            unread = least if unread is None else min(unread, least)
            continue
        ev = Evidence(text[d.start : d.end], d.start, d.end, m.status, "text")
        col.add("days_since_surgery", least, None, ev)
        if d.first == d.last:
            col.add("surgery_date", d.first, None, ev)
    return unread


def _limits(kb: KnowledgeBase, fact: str) -> frozenset[float]:
    """Every bound the knowledge base's criteria put on a numeric ``fact`` (cached per pack)."""
    cache: dict[str, frozenset[float]] = kb.cache.setdefault("intake:limits", {})
    hit = cache.get(fact)
    if hit is not None:
        return hit
    found: set[float] = set()
    seen: set[int] = set()

    def walk(node: Any) -> None:
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(node, (NumberRange, DurationRange)) and node.fact == fact:
            for bound in (node.gte, node.lt):
                if bound is not None:
                    found.add(duration_days(bound))
        if isinstance(node, BaseModel):
            for name in type(node).model_fields:
                walk(getattr(node, name))
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    for part in (kb.facts, kb.criteria, kb.variants, kb.pathways):
        walk(part)
    cache[fact] = frozenset(found)
    return cache[fact]


def _resolve(col: _Collector, kb: KnowledgeBase, lex: Lexicon) -> dict[str, Fact]:
    """One value per fact (``values.yaml`` ``choose`` says which wins), with its evidence."""
    out: dict[str, Fact] = {}
    choose = lex.values.choose
    for fid, cands in col.values.items():
        fd = kb.facts.get(fid)
        if fd is None:
            continue
        vals = [c[0] for c in cands]
        choice = choose.get(fid)
        if fd.type == "bool":
            value: FactValue = True if True in vals else False
        elif choice == "least":
            value = min(float(v) for v in vals)  # type: ignore[arg-type]
        elif choice == "latest":
            value = max(vals)  # type: ignore[type-var]
        elif choice == "greatest" or (choice is None and fd.type == "number"):
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
                names = [_PRIOR_REGION[r] for r in lex.regions.named(m.phrase) if r in _PRIOR_REGION][:1] or ["surgery_type"]
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
