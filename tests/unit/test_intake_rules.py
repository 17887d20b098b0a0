"""The reader's rule files: valid, in the vocabulary, and honest about negation."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from workup.engine import evaluate
from workup.intake.lexicon import load_lexicon
from workup.intake.text import read
from workup.kb import load

KB = load()
LEX = load_lexicon(frozenset(KB.facts))
HERE = Path(__file__).resolve().parents[1]


def test_rules_load_and_use_known_facts():
    assert len(LEX.targets) > 80
    assert {c.category for c in LEX.context} >= {"NEGATED_EXISTENCE", "FAMILY", "HYPOTHETICAL", "POSSIBLE_EXISTENCE", "HISTORICAL", "TERMINATE"}


def test_suspected_forms_are_facts():
    for k, v in LEX.suspected_forms.items():
        assert k in KB.facts and (v is None or v in KB.facts)  # None: a risk factor, not suspected


def test_a_suspected_risk_factor_is_not_read():
    for text in ("?IVDU - pt evasive.", "DEXA to exclude osteoporosis.", "?immunocompromised, await the discharge summary."):
        facts = read("Low back pain for 2 weeks. " + text, KB).facts
        assert not any(f.value is True for k, f in facts.items() if k in ("ivdu", "osteoporosis", "immunosuppressed")), text


def test_a_history_said_to_be_over_gives_no_symptom_but_a_bare_history_does():
    over = read("Neck pain 1 month. Had tingling down the R arm in 2017, settled within weeks.", KB, date(2026, 12, 1)).facts
    assert "radiculopathy" not in over or over["radiculopathy"].value is not True
    bare = read("h/o pain radiating down the right leg for 3 weeks.", KB).facts
    assert bare["radiculopathy"].value is True
    cancer = read("Low back pain 2 weeks. Prostate cancer 2012, fully treated.", KB, date(2026, 12, 1)).facts
    assert cancer["malignancy_history"].value is True  # a history of cancer is the fact itself


@pytest.mark.parametrize("spec", [t for t in LEX.targets if t.examples], ids=lambda t: t.id)
def test_examples_are_read_by_their_rule(spec):
    for x in spec.examples:
        rules = {m.rule for m in read(f"She has {x}.", KB).mentions}
        assert spec.id in rules, (spec.id, x, rules)


PARAPHRASES = [
    json.loads(line)
    for name in ("paraphrases.jsonl", "paraphrases2.jsonl", "paraphrases3.jsonl", "paraphrases4.jsonl", "paraphrases5.jsonl", "paraphrases6.jsonl", "paraphrases7.jsonl", "paraphrases8.jsonl", "paraphrases9.jsonl", "paraphrases10.jsonl", "paraphrases11.jsonl", "paraphrases12.jsonl", "paraphrases13.jsonl")
    for line in (HERE / "intake" / name).read_text(encoding="utf-8").splitlines()
    if line.strip()
]


@pytest.mark.parametrize("case", PARAPHRASES, ids=lambda c: c["text"][:50])
def test_paraphrase_routes_like_its_scenario(case):
    rec = evaluate(read(case["text"], KB).facts, KB, date(2026, 11, 25))
    got = rec.variant.id if rec.variant else rec.status.value
    want = case.get("variant", case.get("status"))
    want = want if isinstance(want, list) else [want]
    assert got in want


PATHWAYS = [
    json.loads(line)
    for name in ("pathway_paraphrases.jsonl", "pathway_paraphrases2.jsonl")
    for line in (HERE / "intake" / name).read_text(encoding="utf-8").splitlines()
    if line.strip()
]


def _step_matches(step: dict, want: dict) -> bool:
    if step["kind"] != want["kind"]:
        return False
    return "reference_name" not in want or (step.get("reference_name") or "").lower() == want["reference_name"].lower()


@pytest.mark.parametrize("case", PATHWAYS, ids=lambda c: c["text"][:50])
def test_pathway_paraphrase_gives_expected_next_step(case):
    # The consultation date goes to the reader too, as in the CLI: written surgery dates are read.
    as_of = date(2026, 11, 25)
    rec = evaluate(read(case["text"], KB, as_of).facts, KB, as_of)
    steps = [s.to_dict() for s in rec.next_steps]
    for want in case["expect_next"]:
        assert any(_step_matches(s, want) for s in steps), (want, steps)
    for bad in case.get("forbid_next", []):
        assert not any(_step_matches(s, bad) for s in steps), (bad, steps)
