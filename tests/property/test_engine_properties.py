"""Properties of the engine over generated facts (hypothesis).

Red-flag and no-red-flag variants are defined by the knowledge pack, not listed here:

* a *red-flag variant* is one whose criteria cannot hold when every red-flag fact
  (``red_flag: true`` in facts.yaml) is false — it requires some red flag to be true;
* a *no-red-flags variant* is one whose criteria use ``no_red_flags_cervical`` or
  ``no_red_flags_back``.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workup.engine import evaluate
from workup.engine.criteria import CriteriaEvaluator
from workup.kb import build, default
from workup.kb.lint import walk_criteria
from workup.kb.schema import Criterion, RefTo
from workup.render.document import dumps, to_document
from workup.errors import EvaluationError
from workup.types import Fact, Facts, Status

AS_OF = date(2025, 6, 1)
NO_RED_FLAG_RULES = frozenset({"no_red_flags_cervical", "no_red_flags_back"})
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KB = default()
RED_FLAGS = tuple(fid for fid, fd in KB.facts.items() if fd.red_flag)
# Facts that shape routing most; drawn for every example so that many examples are rated.
CORE = ("age", "region", "pain", "radiculopathy", "symptom_duration_days", "symptoms_increasing",
        "prior_surgery_cervical", "mechanical_pain")


@lru_cache(maxsize=1)
def red_flag_variants() -> frozenset[str]:
    """Variants whose criteria are false whenever every red-flag fact is false."""
    none = Facts([Fact(fid, False) for fid in RED_FLAGS])
    ev = CriteriaEvaluator(KB, none)
    return frozenset(vid for vid, v in KB.variants.items() if ev.evaluate(v.criteria).value is False)


def _refs(c: Criterion, seen: set[str] | None = None) -> set[str]:
    seen = set() if seen is None else seen
    for _, node in walk_criteria(c, ""):
        if isinstance(node, RefTo) and node.ref not in seen:
            seen.add(node.ref)
            if node.ref in KB.criteria:
                _refs(KB.criteria[node.ref], seen)
    return seen


@lru_cache(maxsize=1)
def no_red_flag_variants() -> frozenset[str]:
    return frozenset(vid for vid, v in KB.variants.items() if _refs(v.criteria) & NO_RED_FLAG_RULES)


def value_strategy(fid: str) -> st.SearchStrategy:
    fd = KB.facts[fid]
    if fd.type == "bool":
        return st.booleans()
    if fd.type == "enum":
        return st.sampled_from(fd.values or [])
    if fd.type == "date":
        return st.dates(date(2015, 1, 1), AS_OF)
    if fd.type == "text":
        return st.sampled_from(["ACDF", "C5-C6", "posterior fusion"])
    if fd.unit == "years":
        return st.integers(0, 100).map(float)
    # durations in days: the 6-week and 90-day boundaries, and anything else
    return st.one_of(st.sampled_from([0.0, 6.0, 7.0, 41.0, 42.0, 89.0, 90.0, 365.0, 730.0]),
                     st.floats(0, 5000, allow_nan=False))


@st.composite
def fact_values(draw, exclude: frozenset[str] = frozenset(), red_flags: str = "any") -> dict[str, object]:
    """A random facts mapping. ``red_flags``: "any", or "off" (each red flag false or absent)."""
    out: dict[str, object] = {}
    for fid in CORE:
        if fid not in exclude and draw(st.integers(0, 4)) > 0:
            out[fid] = draw(value_strategy(fid))
    others = sorted(set(KB.facts) - set(CORE) - exclude)
    for fid in draw(st.lists(st.sampled_from(others), unique=True, max_size=20)):
        out[fid] = draw(value_strategy(fid))
    if red_flags == "off":
        for fid in RED_FLAGS:
            if fid in out:
                if KB.facts[fid].derive is not None:
                    # a derived red flag stays absent: pinning it false would contradict its inputs
                    del out[fid]
                elif draw(st.booleans()):
                    out[fid] = False
                else:
                    del out[fid]
    return out


def facts_of(values: dict[str, object]) -> Facts:
    return Facts([Fact(k, v) for k, v in values.items()])  # type: ignore[arg-type]


def document(values: dict[str, object], kb=KB, as_of: date = AS_OF, order: str | None = None) -> str:
    return dumps(to_document(evaluate(facts_of(values), kb, as_of, order)))


# ---------------------------------------------------------------- the data-defined sets are meaningful


def test_red_flag_and_no_red_flag_variant_sets_are_non_trivial():
    rf, nrf = red_flag_variants(), no_red_flag_variants()
    assert any(v.startswith("spinal-trauma") for v in rf)
    assert any(v.startswith("spine-infection") for v in rf)
    assert {"cervical-pain-1", "low-back-pain-1"} <= nrf
    assert not rf & nrf


# ---------------------------------------------------------------- determinism


@SETTINGS
@given(fact_values(), st.dates(AS_OF, date(2030, 12, 31)))  # surgery dates are drawn up to AS_OF
def test_same_facts_and_date_give_byte_identical_documents(values, as_of):
    first = document(values, as_of=as_of)
    assert document(values, as_of=as_of) == first
    # the order in which facts were supplied does not matter
    assert document(dict(reversed(list(values.items()))), as_of=as_of) == first


@lru_cache(maxsize=1)
def fresh_kb():
    """The same pack loaded a second time (no state shared with ``KB``)."""
    return build(dict(KB.files))


@settings(max_examples=100, deadline=None)
@given(fact_values(), st.sampled_from(["CT Cervical Spine Without IV Contrast", "MRI Lumbar Spine Without IV Contrast",
                                       "Radiography Spine Area of Interest", "not a study"]))
def test_same_content_version_gives_identical_documents_from_a_fresh_load(values, order):
    fresh = fresh_kb()
    assert fresh.version == KB.version
    assert document(values, fresh, order=order) == document(values, KB, order=order)


# ---------------------------------------------------------------- red flags


@SETTINGS
@given(fact_values(red_flags="off"))
def test_red_flag_false_or_unknown_never_routes_to_a_red_flag_variant(values):
    rec = evaluate(facts_of(values), KB, AS_OF)
    if any(rec.facts.value(fid) is True for fid in RED_FLAGS):
        return  # a red flag was derived from non-red-flag facts (e.g. HIV → immunosuppressed)
    if rec.variant is not None:
        assert rec.variant.id not in red_flag_variants()


@SETTINGS
@given(fact_values())
def test_a_red_flag_variant_is_only_chosen_when_a_red_flag_is_true(values):
    rec = evaluate(facts_of(values), KB, AS_OF)
    if rec.variant is not None and rec.variant.id in red_flag_variants():
        assert [fid for fid in RED_FLAGS if rec.facts.value(fid) is True]


# Red flags that, set true on their own, still reach a "no red flags" variant in the current
# content. Each is a content question for the knowledge pack (see the report in the
# commit message); the test for it is expected to fail until the pack answers it.
KNOWN_GAPS: dict[str, str] = {
    "neuro_deficit": "by design: a deficit in the territory of a radiculopathy is part of the radiculopathy (cervical-pain-2, whose pathway escalates to MRI and referral); a deficit without radicular symptoms is a red flag",
}


def _flag_param(fid: str):
    if fid in KNOWN_GAPS:
        return pytest.param(fid, marks=pytest.mark.xfail(reason=KNOWN_GAPS[fid], strict=False))
    return fid


@pytest.mark.parametrize("flag", [_flag_param(f) for f in RED_FLAGS])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(values={"region": "cervical", "radiculopathy": True, "symptom_duration_days": 0.0})
@example(values={"region": "cervical", "pain": True, "prior_surgery_cervical": True})
@example(values={"region": "lumbar", "pain": True, "symptom_duration_days": 0.0})
@example(values={"region": "thoracic", "pain": True, "symptom_duration_days": 60.0, "symptoms_increasing": False})
@given(values=fact_values(red_flags="off"))
def test_adding_a_red_flag_never_routes_to_a_no_red_flags_variant(flag, values):
    rec = evaluate(facts_of({**values, flag: True}), KB, AS_OF)
    if rec.variant is not None:
        assert rec.variant.id not in no_red_flag_variants(), f"{flag}=true routed to {rec.variant.id}"


def test_known_gaps_name_red_flags():
    assert set(KNOWN_GAPS) <= set(RED_FLAGS)


# ---------------------------------------------------------------- shape of every answer


@SETTINGS
@given(fact_values(exclude=frozenset({"days_since_surgery"})), st.dates(date(2015, 1, 1), date(2035, 1, 1)),
       st.integers(1, 4000))
def test_a_surgery_after_the_consultation_date_is_refused_with_ev304(values, as_of, days_after):
    surgery = as_of + timedelta(days=days_after)
    with pytest.raises(EvaluationError) as e:
        evaluate(facts_of({**values, "surgery_date": surgery}), KB, as_of)
    assert e.value.code == "EV304"


@SETTINGS
@given(fact_values(), st.dates(AS_OF, date(2035, 1, 1)))
def test_random_facts_always_give_one_of_three_statuses(values, as_of):
    rec = evaluate(facts_of(values), KB, as_of)
    assert rec.status in (Status.RATED, Status.NEEDS_INFORMATION, Status.NO_CRITERIA_APPLY)
    if rec.status is Status.NEEDS_INFORMATION:
        assert rec.missing_facts
        assert rec.variant is None
        assert all(m.question for m in rec.missing_facts)
    elif rec.status is Status.RATED:
        assert rec.variant is not None and rec.topic is not None and rec.procedures
        assert all(1 <= p.rating <= 9 for p in rec.procedures)
        assert [p.rating for p in rec.procedures] == sorted((p.rating for p in rec.procedures), reverse=True)
    else:
        assert rec.variant is None and rec.missing_facts == ()
    given_ids = set(values)
    assert not given_ids & {a.fact for a in rec.assumptions}
    for fid, v in values.items():
        assert rec.facts.value(fid) == v  # given facts are never overridden


@SETTINGS
@given(fact_values())
def test_missing_facts_are_unknown_and_not_already_given(values):
    rec = evaluate(facts_of(values), KB, AS_OF)
    for m in rec.missing_facts:
        assert m.fact not in values
        assert rec.facts.value(m.fact) is None


ONE_WAY = {fid: fd.derive_gives == "true" for fid, fd in KB.facts.items() if fd.derive_gives != "both"}


def test_the_pack_has_one_way_rules():
    assert ONE_WAY, "facts.yaml declares implications (derive_gives)"


@SETTINGS
@given(fact_values())
def test_a_one_way_rule_only_ever_derives_its_own_value(values):
    from workup.engine.resolve import resolve
    from workup.types import FactOrigin

    res = resolve(KB, facts_of(values), AS_OF)
    for fid, value in ONE_WAY.items():
        f = res.facts.get(fid)
        if f is not None and f.origin is FactOrigin.DERIVED:
            assert f.value is value, (fid, values)


@SETTINGS
@given(fact_values())
@example({"age": 58.0, "region": "cervical", "myelopathy": True, "prior_surgery_cervical": True, "days_since_surgery": 365.0})
@example({"prior_surgery_cervical": True, "dysphagia": True, "days_since_surgery": 0.0})  # urgent step, four questions
def test_steps_given_while_asking_hold_for_every_answer(values):
    """A needs-information answer gives next steps only when every answer to its questions leads to each of them."""
    from workup.engine.recommend import _answers

    rec = evaluate(facts_of(values), KB, AS_OF)
    if rec.status is not Status.NEEDS_INFORMATION or not rec.next_steps:
        return
    numbered = {c.n for c in rec.citations}
    for step in rec.next_steps:
        assert set(step.citations) <= numbered  # every reference the steps use is in the document
    # urgent steps (scope.yaml) lead any answer by design, and are urgent or emergent
    urgent_steps = [s for s in rec.next_steps if s.node_id.startswith("urgent:")]
    assert all(s.urgency in ("urgent", "emergent") for s in urgent_steps)
    if len(urgent_steps) == len(rec.next_steps):
        return
    assert len(rec.missing_facts) <= 2 and not rec.procedures
    answers = [[(m.fact, v) for v in _answers(KB, m.fact)] for m in rec.missing_facts]
    combos = [[]]
    for options in answers:
        combos = [c + [a] for c in combos for a in options]
    for combo in combos:
        branch = evaluate(facts_of({**values, **dict(combo)}), KB, AS_OF)
        assert branch.status is Status.RATED, combo
        texts = {(s.kind, s.reference_name, s.text) for s in branch.next_steps}
        for step in rec.next_steps:
            if not step.node_id.startswith("urgent:"):
                assert (step.kind, step.reference_name, step.text) in texts, (combo, step)
