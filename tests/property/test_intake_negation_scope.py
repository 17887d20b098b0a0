"""A negation does not swallow the positive finding that follows it (NegEx over-scoping).

"No fever, elevated CRP": the CRP is raised. For every red-flag example phrase P and every
finding Q that carries its own affirmative qualifier, "No P, Q." must keep Q's red flag true
and P's false; a list that goes on with "or" stays negated throughout.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workup.intake.lexicon import load_lexicon
from workup.intake.text import assertion, read
from workup.kb import load

KB = load()
LEX = load_lexicon(frozenset(KB.facts))
RED_RULES = [t for t in LEX.targets if any(KB.facts[k].red_flag and v is True for k, v in t.facts.items())]
PHRASES = sorted({x for t in RED_RULES for x in t.examples})

# Affirmative-qualified findings and the red flag each must keep.
QUALIFIED = {
    "elevated ESR": "inflammatory_markers_elevated",
    "raised CRP": "inflammatory_markers_elevated",
    "rising CRP": "inflammatory_markers_elevated",
    "elevated WBC": "inflammatory_markers_elevated",
    "with elevated inflammatory markers": "inflammatory_markers_elevated",
    "CRP elevated": "inflammatory_markers_elevated",
    "positive blood cultures": "bacteremia",
    "new weakness": "neuro_deficit",
    "new leg weakness": "neuro_deficit",
}
NEGATIONS = ["No {p}, {q}.", "Denies {p}, {q}.", "Negative for {p}, {q}.", "Without {p}, {q}."]


def _value(text: str, fact: str):
    f = read(text, KB).facts.get(fact)
    return None if f is None else f.value


@pytest.mark.parametrize(("q", "fact"), sorted(QUALIFIED.items()))
def test_qualified_finding_alone_is_a_red_flag(q, fact):
    assert KB.facts[fact].red_flag
    assert _value(f"The patient has {q}.", fact) is True


@pytest.mark.parametrize("p", PHRASES)
@pytest.mark.parametrize(("q", "fact"), sorted(QUALIFIED.items()))
def test_no_p_then_qualified_q_keeps_q_affirmed(p, q, fact):
    text = f"No {p}, {q}."
    reading = read(text, KB)
    f = reading.facts.get(fact)
    assert f is not None and f.value is True, (text, reading.to_list())
    q_items = [i for i in reading.to_list() if i["fact"] == fact and i["value"] is True]
    assert q_items and all(i["status"] == "affirmed" for i in q_items), text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    template=st.sampled_from(NEGATIONS),
    negated=st.lists(st.sampled_from(PHRASES), min_size=1, max_size=4, unique=True),
    q=st.sampled_from(sorted(QUALIFIED)),
)
def test_negated_list_then_qualified_finding(template, negated, q):
    text = template.format(p=", ".join(negated), q=q)
    assert _value(text, QUALIFIED[q]) is True, text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cue=st.sampled_from(["No", "Denies", "She denies", "Negative for"]),
    before=st.lists(st.sampled_from(PHRASES), min_size=1, max_size=3, unique=True),
    q=st.sampled_from(sorted(QUALIFIED)),
    last=st.sampled_from(PHRASES),
)
def test_list_that_goes_on_with_or_stays_negated(cue, before, q, last):
    """ "denies fever, new weakness or numbness": the qualified item is still a list item."""
    text = f"{cue} {', '.join(before)}, {q} or {last}."
    reading = read(text, KB)
    for k, fd in KB.facts.items():
        if fd.red_flag:
            f = reading.facts.get(k)
            assert f is None or f.value is not True, (k, text, reading.to_list())


@pytest.mark.parametrize(
    ("text", "negated", "affirmed"),
    [
        ("No fever, chills or night sweats.", ["fever"], []),
        ("Denies fever, chills, weight loss or night pain.", ["fever", "weight_loss", "night_pain"], []),
        ("No fever, elevated CRP.", ["fever"], ["inflammatory_markers_elevated"]),
        ("No fever, with elevated WBC.", ["fever"], ["inflammatory_markers_elevated"]),
        ("No fever but elevated CRP.", ["fever"], ["inflammatory_markers_elevated"]),
        ("No fever or elevated CRP.", ["fever", "inflammatory_markers_elevated"], []),
        ("No fever, chills, or elevated CRP.", ["fever", "inflammatory_markers_elevated"], []),
        ("No fever, no elevated CRP.", ["fever", "inflammatory_markers_elevated"], []),
        ("No trauma, new weakness.", ["trauma"], ["neuro_deficit"]),
        ("Denies trauma, new weakness or numbness.", ["trauma", "neuro_deficit"], []),
    ],
)
def test_list_negation_examples(text, negated, affirmed):
    facts = read(text, KB).facts
    for k in negated:
        assert facts.get(k) is not None and facts[k].value is False, (k, text)
    for k in affirmed:
        assert facts.get(k) is not None and facts[k].value is True, (k, text)


def test_assertion_probe_agrees():
    assert assertion("No fever, elevated CRP.", "elevated CRP")["negated"] is False
    assert assertion("No fever, elevated CRP.", "fever")["negated"] is True
    assert assertion("No fever or elevated CRP.", "elevated CRP")["negated"] is True
