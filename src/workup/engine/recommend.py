"""The engine's entry point: facts → :class:`~workup.types.Recommendation`.

Pure: no I/O, no clock, no randomness. The consultation date comes in as ``as_of``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from workup.durations import spoken
from workup.engine.criteria import CACHE_BOUND, CriteriaEvaluator, kept
from workup.engine.match import match, tri
from workup.engine.pathway import STEP_KINDS, walk
from workup.engine.rate import rate, rate_order
from workup.engine.resolve import resolve
from workup.engine.scope import caveats, outside, urgent
from workup.kb.lint import walk_criteria
from workup.kb.load import KnowledgeBase
from workup.kb.schema import (
    AgeRange,
    Criterion,
    DurationRange,
    NumberRange,
    TopicDef,
    duration_days,
)
from workup.types import (
    Category,
    Citation,
    Fact,
    FactOrigin,
    Facts,
    FactValue,
    MissingFact,
    NextStep,
    Reason,
    RatedProcedure,
    Recommendation,
    Status,
    StepKind,
    TopicRef,
    TraceEntry,
    VariantRef,
)


class Citer:
    """Numbers citation ids in order of first use."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.numbers: dict[str, int] = {}

    def __call__(self, ids: list[str]) -> tuple[int, ...]:
        out = []
        for cid in ids:
            n = self.numbers.get(cid)
            if n is None:
                n = len(self.numbers) + 1
                self.numbers[cid] = n
            out.append(n)
        return tuple(out)

    def table(self) -> tuple[Citation, ...]:
        """The numbered references, in number order."""
        # A numbered citation depends only on its id and number: built once per pack and reused
        # (at most one per citation and position, so the cache is bounded by the pack).
        made: dict[tuple[str, int], Citation] = self.kb.cache.setdefault("numbered-citations", {})
        res = []
        for key in self.numbers.items():
            c = made.get(key)
            if c is None:
                ref = self.kb.citations[key[0]]
                c = made[key] = Citation(key[1], key[0], ref.text, ref.url)
            res.append(c)
        return tuple(res)


def _as_rated(steps: tuple[NextStep, ...], procedures: tuple[RatedProcedure, ...]) -> tuple[NextStep, ...]:
    """The steps with each study named as this answer's table rates it.

    A pathway names the study for the region ("MRI Lumbar Spine Without and With IV Contrast");
    a variant whose table lists it by area of interest ("MRI spine area of interest without and
    with IV contrast", shown for the region) rates the same study under that name, and the step
    takes it, so the next step and the rating it refers to agree.
    """
    by_shown = {p.name.casefold(): p for p in procedures}
    rated = {p.reference_name.casefold() for p in procedures}
    out = []
    for st in steps:
        ref = (st.reference_name or "").casefold()
        p = by_shown.get(ref) if ref and ref not in rated else None
        out.append(replace(st, reference_name=p.reference_name, procedure_id=p.procedure_id) if p is not None else st)
    return tuple(out)


def evaluate(facts: Facts, kb: KnowledgeBase, as_of: date, order: str | None = None) -> Recommendation:
    """Route, rate and guide one consultation.

    When information is missing the answer asks for it and rates nothing; if every possible
    answer to the questions leads to the same first steps (for example new cord signs after
    ACDF: acute or chronic, escalate and MRI), those steps are given as next steps, since they
    do not depend on the answer.

    Args:
        facts: what is known about the patient (missing facts are unknown).
        kb: the knowledge base.
        as_of: the consultation date.
        order: an ordered procedure to rate (reference name, id or alias), if any.
    """
    rec = _evaluate(facts, kb, as_of, order)
    if rec.status is Status.NEEDS_INFORMATION:
        common = _steps_whatever_the_answer(kb, facts, as_of, rec.missing_facts)
        if common is not None:
            steps, citations = common
            rec = replace(rec, next_steps=steps, citations=citations,
                          rationale=rec.rationale + " The next steps below hold whatever the answers are.")
    return rec


_MAX_BRANCHES = 16  # answers tried for the questions (a few per question, at most two questions)


def _steps_whatever_the_answer(
    kb: KnowledgeBase, facts: Facts, as_of: date, missing: tuple[MissingFact, ...]
) -> tuple[tuple[NextStep, ...], tuple[Citation, ...]] | None:
    """The next steps that every possible answer to the missing facts leads to, with their
    references numbered afresh; None if any answer leaves a question open, fits no scenario, or
    the answers share no step."""
    if not missing or len(missing) > 2:
        return None
    choices: list[list[Fact]] = []
    for m in missing:
        values = _answers(kb, m.fact)
        if not values:
            return None
        choices.append([Fact(m.fact, v, FactOrigin.GIVEN) for v in values])
    branches: list[tuple[Fact, ...]] = [()]
    for options in choices:
        branches = [(*b, f) for b in branches for f in options]
    if len(branches) > _MAX_BRANCHES:
        return None
    first: Recommendation | None = None
    common: dict[tuple, NextStep] = {}
    for b in branches:
        r = _evaluate(facts.with_facts(*b), kb, as_of, None)
        if r.status is not Status.RATED or not r.next_steps:
            return None
        keyed = {(s.kind, s.reference_name, s.text): s for s in r.next_steps}
        if first is None:
            first, common = r, keyed
        else:
            common = {k: v for k, v in common.items() if k in keyed}
        if not common:
            return None
    assert first is not None
    # The steps keep the first answer's wording; their references are renumbered in order of use.
    by_n = {c.n: c for c in first.citations}
    numbers: dict[int, int] = {}
    for step in common.values():
        for n in step.citations:
            numbers.setdefault(n, len(numbers) + 1)
    steps = tuple(replace(s, citations=tuple(numbers[n] for n in s.citations)) for s in common.values())
    citations = tuple(replace(by_n[old], n=new) for old, new in numbers.items() if old in by_n)
    return steps, citations


def _answers(kb: KnowledgeBase, fid: str) -> tuple[FactValue, ...]:
    """The values worth trying for a missing fact: both for a bool, every value of an enum, and for
    a number a value on each side of every bound the pack's criteria set on it (cached per pack)."""
    cache: dict[str, tuple[FactValue, ...]] = kb.cache.setdefault("answers", {})
    hit = cache.get(fid)
    if hit is not None:
        return hit
    fd = kb.facts.get(fid)
    values: tuple[FactValue, ...] = ()
    if fd is not None and fd.type == "bool":
        values = (True, False)
    elif fd is not None and fd.type == "enum":
        values = tuple(fd.values or ())
    elif fd is not None and fd.type == "number":
        bounds = sorted(_bounds(kb, fid))
        if bounds:
            points = {bounds[0] / 2 if bounds[0] > 0 else bounds[0] - 1}
            points.update(b for b in bounds)
            points.add(bounds[-1] * 2 if bounds[-1] > 0 else bounds[-1] + 1)
            ordered = sorted(points)[:12]
            # the two ends first: answers that part ways usually do so there, and the search stops early
            values = tuple([ordered[0], ordered[-1], *ordered[1:-1]]) if len(ordered) > 1 else tuple(ordered)
    cache[fid] = values
    return values


def _bounds(kb: KnowledgeBase, fid: str) -> set[float]:
    """Every ``gte`` / ``lt`` bound the pack's criteria and derive rules set on a numeric fact."""
    roots: list[Criterion] = [v.criteria for v in kb.variants.values()]
    roots += [t.applies_when for t in kb.topics.values() if t.applies_when is not None]
    roots += list(kb.criteria.values())
    roots += [f.derive for f in kb.facts.values() if f.derive is not None]
    out: set[float] = set()
    for root in roots:
        for _, node in walk_criteria(root, ""):
            if isinstance(node, NumberRange) and node.fact == fid:
                out.update(x for x in (node.gte, node.lt) if x is not None)
            elif isinstance(node, DurationRange) and node.fact == fid:
                out.update(duration_days(x) for x in (node.gte, node.lt) if x is not None)
            elif isinstance(node, AgeRange) and fid == "age":
                out.update(x for x in (node.gte, node.lt) if x is not None)
    return out


def _evaluate(facts: Facts, kb: KnowledgeBase, as_of: date, order: str | None = None) -> Recommendation:
    res = resolve(kb, facts, as_of)
    ev = CriteriaEvaluator(kb, res.facts, res.unknown_inputs, fixed=True)
    cite = Citer(kb)
    first = _urgent_steps(kb, ev, cite)
    verdict = outside(kb, ev)
    if verdict is not None:
        return _out_of_scope(kb, res, verdict, as_of, cite, first)
    m = match(kb, ev)
    region = res.facts.value("region")
    region = region if isinstance(region, str) else None
    trace = res.trace + m.trace

    if m.status is not Status.RATED or m.variant_id is None:
        flags = _flags_present(kb, res.facts)
        missing = _missing(kb, [(vid, facts_) for vid, facts_ in m.blockers])
        rationale = (
            "More information is needed to choose between the scenarios that could apply."
            if m.status is Status.NEEDS_INFORMATION
            else "None of the loaded guideline scenarios applies to these facts." + flags
        )
        reason = None
        if m.status is Status.NO_CRITERIA_APPLY:
            reason = Reason("no-variant", None, rationale)
        return _unrated(kb, m.status, as_of, rationale, first, missing, res.assumptions, res.facts,
                        cite.table() if first else (), trace, reason)

    variant = kb.variants[m.variant_id]
    topic = kb.topic_of(m.variant_id)
    cite([topic.source.citation, *variant.citations])
    procedures = rate(kb, variant, region)
    steps: tuple[NextStep, ...]
    path: tuple[str, ...] = ()
    pathway_unknown: list[tuple[str, frozenset[str]]] = []
    pathway_id = None
    for pid in kb.variant_pathways.get(variant.id, ()):
        cond = kb.pathways[pid].applies_when
        o = ev.evaluate(cond) if cond is not None else None
        if o is None or o.value is True:
            pathway_id = pid
            break
        trace = trace + (TraceEntry(f"pathway:{pid}", tri(o.value), "pathway does not apply"),)
    if pathway_id is not None:
        w = walk(kb, kb.pathways[pathway_id], ev, region, cite)
        steps, path = w.steps, w.path
        pathway_unknown = list(w.unknown)
        trace = trace + w.trace
    else:
        steps = _default_steps(procedures, cite([topic.source.citation]))
    steps = _as_rated(steps, procedures)
    if first:
        said = {(f.kind, f.text) for f in first}
        steps = first + tuple(s for s in steps if (s.kind, s.text) not in said)
    order_rating = rate_order(kb, procedures, order, region) if order else None
    pitfalls, payer, citations = _closing(kb, topic, cite)
    extra = caveats(kb, ev)
    if extra:
        # a memoised closing did not number its references in ``cite``: take them from its table first
        for c in citations:
            cite.numbers.setdefault(c.id, c.n)
        pitfalls = pitfalls + tuple((c.text, cite(c.citations)) for c in extra)
        citations = cite.table()
    rationale = f"{variant.summary} Matched on: {_labels(kb, m.because)}."
    topic_ref, variant_ref = _refs(kb, variant.id)
    return Recommendation(
        status=Status.RATED,
        content_version=kb.version,
        as_of=as_of,
        topic=topic_ref,
        variant=variant_ref,
        rationale=rationale,
        procedures=procedures,
        next_steps=steps,
        missing_facts=_missing(kb, pathway_unknown),
        assumptions=res.assumptions,
        facts=res.facts,
        citations=citations,
        trace=trace,
        order=order_rating,
        pitfalls=pitfalls,
        payer_notes=payer,
        pathway_id=pathway_id,
        path=path,
    )


def _urgent_steps(kb: KnowledgeBase, ev: CriteriaEvaluator, cite: Citer) -> tuple[NextStep, ...]:
    """The urgent steps of scope.yaml that hold for these facts, numbered first: they lead any answer."""
    return tuple(NextStep(STEP_KINDS[st.kind], st.text, f"urgent:{rid}", cite(st.citations), urgency=st.urgency)
                 for rid, st in urgent(kb, ev))


def _out_of_scope(kb: KnowledgeBase, res, verdict, as_of: date, cite: Citer, first: tuple[NextStep, ...] = ()) -> Recommendation:
    """The answer when a scope rule holds: no variant is tried; the rule's steps come first."""
    steps = first + tuple(
        NextStep(STEP_KINDS[st.kind], st.text,
                 f"scope:{verdict.rule.id}", cite(st.citations), urgency=st.urgency)
        for st in verdict.rule.steps
    )
    if verdict.rule.citations:
        cite(verdict.rule.citations)
    # nothing was routed, so nothing was assumed for a scenario
    return _unrated(kb, Status.NO_CRITERIA_APPLY, as_of, verdict.reason.text, steps, (), (), res.facts,
                    cite.table(), res.trace + verdict.trace, verdict.reason)


def _unrated(kb: KnowledgeBase, status: Status, as_of: date, rationale: str, steps, missing, assumptions, facts,
             citations, trace, reason) -> Recommendation:
    """An answer that rates nothing (needs-information or no-criteria-apply)."""
    return Recommendation(
        status=status,
        content_version=kb.version,
        as_of=as_of,
        topic=None,
        variant=None,
        rationale=rationale,
        procedures=(),
        next_steps=steps,
        missing_facts=missing,
        assumptions=assumptions,
        facts=facts,
        citations=citations,
        trace=trace,
        reason=reason,
    )


_Closing = tuple[tuple[tuple[str, tuple[int, ...]], ...], tuple[tuple[str, tuple[int, ...]], ...], tuple[Citation, ...]]


def _closing(kb: KnowledgeBase, topic: TopicDef, cite: Citer) -> _Closing:
    """The topic's pitfalls and payer notes with their citation numbers, and the reference list.

    A function of the topic and the citations numbered so far (which the variant and the
    pathway path fix, whatever the patient's values): built once per pack for each.
    """
    memo: dict[tuple, _Closing] = kb.cache.setdefault("closing", {})
    key = (topic.id, *cite.numbers)
    hit = memo.get(key)
    if hit is None:
        pitfalls = tuple([(p.text, cite(p.citations)) for p in topic.pitfalls])
        payer = tuple([(p.text, cite(p.citations)) for p in topic.payer_notes])
        hit = kept(memo, key, (pitfalls, payer, cite.table()), CACHE_BOUND)  # in fact bounded by variants and paths
    return hit


def _refs(kb: KnowledgeBase, variant_id: str) -> tuple[TopicRef, VariantRef]:
    """Per pack and variant, once: how a recommendation names the topic and the variant."""
    refs: dict[str, tuple[TopicRef, VariantRef]] = kb.cache.setdefault("refs", {})
    hit = refs.get(variant_id)
    if hit is None:
        topic, variant = kb.topic_of(variant_id), kb.variants[variant_id]
        hit = refs[variant_id] = (
            TopicRef(topic.id, topic.title, topic.source.publisher, topic.source.title, topic.source.version),
            VariantRef(variant.id, variant.title, variant.number),
        )
    return hit


def _default_steps(procedures, cites: tuple[int, ...]) -> tuple[NextStep, ...]:
    """Without a pathway: the best usually-appropriate study, or no imaging for now."""
    best = [p for p in procedures if p.category is Category.USUALLY_APPROPRIATE]
    if best:
        top = min(best, key=lambda p: (-p.rating, p.rrl_rank, p.name))
        return (
            NextStep(
                StepKind.IMAGING,
                f"{top.name} is the highest-rated initial study for this scenario (rating {top.rating}).",
                "default:best-rated",
                cites,
                top.name,
                top.procedure_id,
            ),
        )
    return (
        NextStep(
            StepKind.CONSERVATIVE_CARE,
            "No imaging study is usually appropriate for this scenario at this stage; manage clinically and "
            "reassess if symptoms persist, progress or a red flag appears.",
            "default:no-imaging",
            cites,
        ),
    )


def _missing(kb: KnowledgeBase, blockers: list[tuple[str, frozenset[str]]]) -> tuple[MissingFact, ...]:
    if not blockers:
        return ()
    decides: dict[str, list[str]] = {}
    for node, facts_ in blockers:
        for f in facts_:
            decides.setdefault(f, [])
            if node not in decides[f]:
                decides[f].append(node)
    out = []
    # Facts marked `ignore` (secondary details such as how long treatment lasted) are asked
    # only when no primary question would decide instead.
    primary = any(kb.facts[f].when_unknown != "ignore" for f in decides if f in kb.facts)
    for fid, fd in kb.facts.items():  # vocabulary order: stable and clinically grouped
        if fid in decides and not (primary and fd.when_unknown == "ignore"):
            out.append(MissingFact(fid, fd.question, tuple(decides[fid])))
    for fid in sorted(set(decides) - set(kb.facts)):
        out.append(MissingFact(fid, f"What is {fid}?", tuple(decides[fid])))
    return tuple(out)


def _flags_present(kb: KnowledgeBase, facts: Facts) -> str:
    """Where no scenario applies, the red flags that are present (each takes the patient out of the
    scenarios without red flags), so the answer says why rather than only that; "" when none is."""
    present = []
    for fid, fd in kb.facts.items():  # vocabulary order: the text never depends on the order facts came in
        f = facts.get(fid)
        if fd.red_flag and f is not None and f.value is True and f.origin is not FactOrigin.ASSUMED:
            present.append(_short(kb, fid).lower())
    if not present:
        return ""
    return (f" Red flag present: {'; '.join(dict.fromkeys(present))}. A red flag takes the patient out of the scenarios"
            " without red flags, and no packed scenario covers this combination.")


def _short(kb: KnowledgeBase, fid: str) -> str:
    fd = kb.facts.get(fid)
    return fd.label.split(" (")[0] if fd else fid


def _labels(kb: KnowledgeBase, because: tuple[str, ...]) -> str:
    """Deciding facts as clinician-readable text: what held, then what was ruled out.

    A function of the pack and ``because`` only: cached per pack.
    """
    cache: dict[tuple[str, ...], str] = kb.cache.setdefault("labels", {})
    text = cache.get(because)
    if text is None:
        text = kept(cache, because, _label_text(kb, because), CACHE_BOUND)  # numeric values make many keys
    return text


def _with_unit(kb: KnowledgeBase, fid: str, val: str) -> str:
    """A deciding value as a clinician reads it: durations spoken ("3 weeks"), other numbers with their unit."""
    fd = kb.facts.get(fid)
    unit = fd.unit if fd is not None else None
    try:
        number = float(val)
    except ValueError:
        return val
    if unit == "days":
        return spoken(number)
    shown = str(int(number)) if number.is_integer() else val
    return f"{shown} {unit}" if unit else shown


def _label_text(kb: KnowledgeBase, because: tuple[str, ...]) -> str:
    held: list[str] = []
    ruled_out: list[str] = []
    for b in because:
        fid, _, val = b.partition("=")
        if val == "true":
            held.append(_short(kb, fid))
        elif val == "false":
            ruled_out.append(_short(kb, fid).lower())
        else:
            held.append(f"{_short(kb, fid)}: {_with_unit(kb, fid, val)}")
    text = "; ".join(dict.fromkeys(held)) or "none"
    if ruled_out:
        text += ". Ruled out: " + ", ".join(dict.fromkeys(ruled_out))
    return text
