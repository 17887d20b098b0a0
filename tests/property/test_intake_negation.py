"""Negated, family-history and hypothetical mentions never produce a red flag.

Every example phrase of every rule that can set a red-flag fact (``examples`` in
``workup/intake/rules/targets.yaml``) is put into negating, family and worry templates,
embedded among neutral sentences, and read: no red-flag fact may come out true, neither
from the reader nor after the engine's derivations.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from workup.engine.resolve import resolve
from workup.intake.lexicon import load_lexicon
from workup.intake.text import read
from workup.kb import load

KB = load()
LEX = load_lexicon(frozenset(KB.facts))
RED_FLAGS = sorted(f.id for f in KB.facts.values() if f.red_flag)
RED_RULES = [t for t in LEX.targets if any(KB.facts[k].red_flag and v is True for k, v in t.facts.items())]
PHRASES = sorted({(t.id, x) for t in RED_RULES for x in t.examples})

NEGATED = ["Denies {x}.", "No {x}.", "He denies {x}.", "There is no {x}.", "Negative for {x}.", "She has no history of {x}.", "Without {x}."]
FAMILY = ["Father had {x}.", "Her mother had {x}.", "Family history of {x}.", "His brother had {x} last year."]
HYPOTHETICAL = ["She worries it could be {x}.", "He is worried about {x}.", "Return if {x} develops.", "Worried it might be {x}."]
NEUTRAL = [
    "She is here with her husband.",
    "Vitals are unremarkable.",
    "He works as a teacher.",
    "The patient is pleasant and cooperative.",
    "Seen in clinic today.",
    "She prefers morning appointments.",
    "He drinks coffee daily.",
    "",
]


def test_every_red_flag_rule_has_examples():
    missing = [t.id for t in RED_RULES if not t.examples]
    assert not missing, f"red-flag rules without examples: {missing}"
    assert len(PHRASES) >= 40


@pytest.mark.parametrize(("rule", "phrase"), PHRASES)
def test_example_affirmed_sets_its_red_flag(rule, phrase):
    spec = LEX.by_id[rule]
    facts = read(f"The patient has {phrase}.", KB).facts
    for k, v in spec.facts.items():
        if v is True and KB.facts[k].red_flag:
            assert facts.get(k) is not None and facts[k].value is True, (rule, phrase, k)


def _no_red_flag(text: str) -> None:
    reading = read(text, KB)
    for k in RED_FLAGS:
        f = reading.facts.get(k)
        assert f is None or f.value is not True, (k, text)
    resolved = resolve(KB, reading.facts, date(2026, 1, 1)).facts
    for k in RED_FLAGS:
        f = resolved.get(k)
        assert f is None or f.value is not True, (k, "after derivation", text)


templates = st.sampled_from(NEGATED + FAMILY + HYPOTHETICAL)
phrases = st.sampled_from([p for _, p in PHRASES])
neutral = st.lists(st.sampled_from(NEUTRAL), max_size=3)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=templates, phrase=phrases, before=neutral, after=neutral)
def test_negated_family_hypothetical_never_red_flag(template, phrase, before, after):
    text = " ".join([*before, template.format(x=phrase), *after]).strip()
    _no_red_flag(text)


@pytest.mark.parametrize("template", NEGATED + FAMILY + HYPOTHETICAL)
@pytest.mark.parametrize(("rule", "phrase"), PHRASES)
def test_every_phrase_in_every_template(template, phrase, rule):
    _no_red_flag(template.format(x=phrase))


def test_negated_rules_never_set_a_red_flag_true():
    for t in LEX.targets:
        for k, v in t.negated.items():
            assert not (KB.facts[k].red_flag and v is True), (t.id, k)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cue=st.sampled_from(["Denies", "No", "She denies", "Negative for", "Without"]),
    items=st.lists(phrases, min_size=2, max_size=8, unique=True),
    before=neutral,
    after=neutral,
)
# a list that goes on ("… or bacteremia") past statement words ("known", "on") is one negated list
@example(
    cue="Denies",
    items=["a dissection of the left ICA", "a seat-belt sign across the neck", "known secondaries",
           "a vertebral artery injury", "on immunotherapy", "bacteremia"],
    before=[], after=[],
)
# an item a longer match swallowed ("legs numb" inside "legs numb or numb down there") is still a list item
@example(
    cue="Denies",
    items=["a punch to the head in a fight", "off her legs", "legs numb", "numb down there when wiping"],
    before=[], after=[],
)
def test_negated_lists_of_any_length_never_red_flag(cue, items, before, after):
    listed = ", ".join(items[:-1]) + " or " + items[-1]
    _no_red_flag(" ".join([*before, f"{cue} {listed}.", *after]).strip())


def test_self_polar_rules_never_set_a_red_flag():
    """Rules a negated list cannot reach (list_negation: false) must not be able to raise a red flag."""
    for t in LEX.targets:
        if not t.list_negation:
            assert not any(KB.facts[k].red_flag and v is True for k, v in t.facts.items()), t.id
