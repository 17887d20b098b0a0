"""Three-valued (Kleene) evaluation of criterion trees: truth tables, ranges, durations, refs."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from workup.engine.criteria import CriteriaEvaluator
from workup.errors import EvaluationError
from workup.kb import build, default
from workup.kb.lint import walk_criteria
from workup.kb.schema import Criterion, RefTo, duration_days
from workup.types import Fact, Facts

T, F, U = True, False, None
CRIT = TypeAdapter(Criterion)


def crit(data: dict) -> Criterion:
    return CRIT.validate_python(data)


def facts(**values: object) -> Facts:
    """Facts with the given values; a value of None leaves the fact unknown."""
    return Facts([Fact(k, v) for k, v in values.items() if v is not None])  # type: ignore[arg-type]


def ev(fs: Facts, unknown_inputs: dict | None = None) -> CriteriaEvaluator:
    return CriteriaEvaluator(default(), fs, unknown_inputs)


def value(c: dict, **values: object) -> bool | None:
    return ev(facts(**values)).evaluate(crit(c)).value


A = {"type": "fact", "fact": "a"}
B = {"type": "fact", "fact": "b"}

# Kleene truth tables over (a, b).
AND = {(T, T): T, (T, F): F, (T, U): U, (F, T): F, (F, F): F, (F, U): F, (U, T): U, (U, F): F, (U, U): U}
OR = {(T, T): T, (T, F): T, (T, U): T, (F, T): T, (F, F): F, (F, U): U, (U, T): T, (U, F): U, (U, U): U}


@pytest.mark.parametrize("a,b", sorted(AND, key=str))
def test_all_follows_kleene_and(a, b):
    assert value({"type": "all", "of": [A, B]}, a=a, b=b) is AND[(a, b)]


@pytest.mark.parametrize("a,b", sorted(OR, key=str))
def test_any_follows_kleene_or(a, b):
    assert value({"type": "any", "of": [A, B]}, a=a, b=b) is OR[(a, b)]


@pytest.mark.parametrize("a,expected", [(T, F), (F, T), (U, U)])
def test_not_keeps_unknown_unknown(a, expected):
    assert value({"type": "not", "of": A}, a=a) is expected


@pytest.mark.parametrize("a,expected", [(T, F), (F, T), (U, U)])
def test_fact_is_false_tests_for_a_known_false(a, expected):
    assert value({"type": "fact", "fact": "a", "is": False}, a=a) is expected


def test_unknown_result_names_the_facts_to_ask_for():
    o = ev(facts(a=True)).evaluate(crit({"type": "all", "of": [A, B, {"type": "fact", "fact": "c"}]}))
    assert o.value is None
    assert o.unknown == frozenset({"b", "c"})


def test_false_result_does_not_ask_for_anything():
    o = ev(facts(a=False)).evaluate(crit({"type": "all", "of": [B, A]}))
    assert (o.value, o.unknown, o.because) == (False, frozenset(), ("a=false",))


def test_true_result_explains_with_the_deciding_leaves():
    o = ev(facts(a=True, b=True, r="cervical")).evaluate(
        crit({"type": "all", "of": [A, B, {"type": "fact", "fact": "r", "equals": "cervical"}]})
    )
    assert (o.value, o.because) == (True, ("a=true", "b=true", "r=cervical"))


def test_unknown_derived_fact_asks_for_its_inputs():
    o = ev(facts(), {"sudden_onset": frozenset({"symptom_duration_days"})}).evaluate(
        crit({"type": "fact", "fact": "sudden_onset"})
    )
    assert (o.value, o.unknown) == (None, frozenset({"symptom_duration_days"}))


@pytest.mark.parametrize(
    "test,region,expected",
    [
        ({"equals": "cervical"}, "cervical", T),
        ({"equals": "cervical"}, "lumbar", F),
        ({"equals": "cervical"}, None, U),
        ({"in": ["thoracic", "lumbar"]}, "lumbar", T),
        ({"in": ["thoracic", "lumbar"]}, "cervical", F),
        ({"in": ["thoracic", "lumbar"]}, None, U),
    ],
)
def test_enum_equals_and_in(test, region, expected):
    assert value({"type": "fact", "fact": "region", **test}, region=region) is expected


def test_bool_test_on_a_non_bool_value_is_false_not_true():
    assert value({"type": "fact", "fact": "region"}, region="cervical") is False


@pytest.mark.parametrize(
    "age,expected",
    [(17.99, F), (18, T), (64.5, T), (65, F), (None, U)],
)
def test_age_range_gte_inclusive_lt_exclusive(age, expected):
    assert value({"type": "age", "gte": 18, "lt": 65}, age=age) is expected


@pytest.mark.parametrize("v,expected", [(89.0, T), (90.0, F), (0.0, T), (None, U), ("soon", F), (True, F)])
def test_number_range(v, expected):
    assert value({"type": "number", "fact": "days_since_surgery", "lt": 90}, days_since_surgery=v) is expected


@pytest.mark.parametrize(
    "text,days",
    [("6w", 42.0), ("90d", 90.0), ("3mo", 91.3125), ("1y", 365.25), ("2y", 730.5), (" 1.5 w ", 10.5), (14, 14.0)],
)
def test_duration_units(text, days):
    assert duration_days(text) == pytest.approx(days)


@pytest.mark.parametrize("text", ["6 weeks", "w6", "", "6m", "-1d"])
def test_bad_duration_is_rejected(text):
    with pytest.raises(ValueError):
        duration_days(text)


@pytest.mark.parametrize("days,expected", [(41.0, T), (41.99, T), (42.0, F), (100.0, F), (None, U)])
def test_duration_under_six_weeks(days, expected):
    assert value({"type": "duration", "fact": "symptom_duration_days", "lt": "6w"}, symptom_duration_days=days) is expected


@pytest.mark.parametrize("days,expected", [(41.0, F), (42.0, T), (None, U)])
def test_duration_six_weeks_or_more(days, expected):
    assert value({"type": "duration", "fact": "symptom_duration_days", "gte": "6w"}, symptom_duration_days=days) is expected


def test_ref_evaluates_the_named_criterion():
    kb = default()
    target = kb.criteria["acute_or_increasing"]
    for days in (10.0, 60.0):
        fs = facts(symptom_duration_days=days, symptoms_increasing=False)
        via_ref = CriteriaEvaluator(kb, fs).evaluate(crit({"type": "ref", "ref": "acute_or_increasing"}))
        direct = CriteriaEvaluator(kb, fs).evaluate(target)
        assert via_ref == direct
    assert value({"type": "ref", "ref": "acute_or_increasing"}, symptom_duration_days=60.0, symptoms_increasing=True) is True
    assert value({"type": "ref", "ref": "acute_or_increasing"}, symptom_duration_days=60.0, symptoms_increasing=False) is False


def _leaf_facts(c: Criterion, kb) -> list[str]:
    """Fact ids a criterion reads, following named criteria."""
    out: list[str] = []
    for _, node in walk_criteria(c, ""):
        if isinstance(node, RefTo):
            out.extend(_leaf_facts(kb.criteria[node.ref], kb))
        elif hasattr(node, "fact"):
            out.append(node.fact)
    return out


def test_nested_ref_and_negation():
    # no_red_flags_cervical = not(any(ref core_red_flag, ...)): a chain of refs under a negation.
    kb = default()
    ref = {"type": "ref", "ref": "no_red_flags_cervical"}
    leaves = _leaf_facts(kb.criteria["no_red_flags_cervical"], kb)
    assert "trauma" in leaves and len(leaves) >= 3
    none = dict.fromkeys(leaves, False)
    assert value(ref, **none) is True
    assert value(ref, **{**none, "trauma": True}) is False
    assert value(ref, **{**none, leaves[-1]: True}) is False
    assert value(ref, **{**none, "trauma": None}) is None


def test_unknown_ref_is_a_coded_error():
    with pytest.raises(EvaluationError) as e:
        value({"type": "ref", "ref": "no_such_rule"})
    assert e.value.code == "EV301"


def test_self_referring_ref_is_a_coded_error_not_a_recursion_crash():
    files = dict(default().files)
    files["criteria.yaml"] = files["criteria.yaml"].replace(
        "criteria:\n", "criteria:\n  - id: loop\n    description: refers to itself\n    criterion: {type: ref, ref: loop}\n", 1
    )
    kb = build(files)
    with pytest.raises(EvaluationError) as e:
        CriteriaEvaluator(kb, facts()).evaluate(crit({"type": "ref", "ref": "loop"}))
    assert e.value.code == "EV302"


def test_date_values_are_explained_as_iso_dates():
    o = ev(facts(d=date(2025, 1, 2))).evaluate(crit({"type": "number", "fact": "d", "gte": 1}))
    assert (o.value, o.because) == (False, ("d=2025-01-02 (not a number)",))


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"region": "cervical", "pain": True, "radiculopathy": True, "symptom_duration_days": 20.0},
        {"region": "lumbar", "pain": True, "symptom_duration_days": 100.0, "conservative_care_days": 50.0, "age": 70.0},
        {"region": "cervical", "trauma": True, "midline_tenderness": False, "age": 30.0},
    ],
)
def test_memoised_named_criteria_give_the_same_outcomes(values):
    kb = default()
    fs = facts(**values)
    criteria = [v.criteria for v in kb.variants.values()] + [t.applies_when for t in kb.topics.values()]
    criteria += [t.when for p in kb.pathways.values() for n in p.nodes.values() for t in n.transitions]
    plain, memo = CriteriaEvaluator(kb, fs), CriteriaEvaluator(kb, fs, fixed=True)
    assert [memo.evaluate(c) for c in criteria] == [plain.evaluate(c) for c in criteria]


def test_distinct_criteria_objects_are_not_confused_by_the_compile_cache():
    for region in ("cervical", "lumbar", "thoracic"):
        c = crit({"type": "fact", "fact": "region", "equals": region})
        assert ev(facts(region="lumbar")).evaluate(c).value is (region == "lumbar")


_LEAF = st.fixed_dictionaries({"fact": st.sampled_from(["a", "b", "c", "d"]), "is": st.sampled_from([True, False, None])})


@settings(deadline=None)  # the first example loads the knowledge pack
@given(
    kind=st.sampled_from(["all", "any"]),
    leaves=st.lists(_LEAF, min_size=1, max_size=5),
    values=st.fixed_dictionaries({k: st.sampled_from([True, False, None, "text", 3.0]) for k in "abcd"}),
    ui=st.dictionaries(st.sampled_from(["a", "b"]), st.frozensets(st.sampled_from(["x", "y"]), min_size=1), max_size=2),
)
def test_a_junction_of_boolean_facts_gives_the_same_outcome_as_the_general_junction(kind, leaves, values, ui):
    """The shortcut for all/any over plain boolean facts must agree in value, unknowns and reasons."""
    plain = [{"type": "fact", "fact": x["fact"], **({"is": x["is"]} if x["is"] is not None else {})} for x in leaves]
    # not(not(leaf)) is the same test but not a plain leaf, so this junction takes the general path
    wrapped = [{"type": "not", "of": {"type": "not", "of": leaf}} for leaf in plain]
    e = ev(facts(**values), dict(ui))
    assert e.evaluate(crit({"type": kind, "of": plain})) == e.evaluate(crit({"type": kind, "of": wrapped}))


def test_a_number_range_tells_a_boolean_from_the_number_it_equals():
    """Outcomes kept per number must not answer True for 1 (or 1 for True)."""
    c = crit({"type": "number", "fact": "days_since_surgery", "gte": 1})
    for v, expected, text in [(1, True, "days_since_surgery=1"), (True, False, "days_since_surgery=true (not a number)"),
                              (1.0, True, "days_since_surgery=1"), (True, False, "days_since_surgery=true (not a number)")]:
        o = ev(facts(days_since_surgery=v)).evaluate(c)
        assert (o.value, o.because) == (expected, (text,))
