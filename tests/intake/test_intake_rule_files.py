"""The reader's rule files are validated: a malformed cue file is refused with its file and path."""

from __future__ import annotations

import pytest

from workup.errors import KnowledgeError
from workup.intake.lexicon import RULE_FILES, build_lexicon, load_lexicon, rule_files
from workup.kb import load

KB = load()
FACTS = frozenset(KB.facts)
GOOD = rule_files()


def _problems(name: str, old: str, new: str) -> list[dict]:
    assert old in GOOD[name], f"{old!r} not in {name}: the test no longer edits the file it means to"
    files = dict(GOOD, **{name: GOOD[name].replace(old, new, 1)})
    with pytest.raises(KnowledgeError) as e:
        build_lexicon(files, FACTS)
    assert e.value.code == "KB150"
    return e.value.details


def test_built_in_rule_files_load():
    lex = build_lexicon(GOOD, FACTS)
    assert set(RULE_FILES) == set(GOOD)
    assert lex.regions.named("anterior cervical fusion") == ["cervical"]
    assert lex.regions.levels("T12-L1") == ["thoracic", "lumbar"]
    assert lex.regions.limb("numbness in the left foot") == ["lumbar"]
    assert {"or", "nor"} <= lex.list_goes_on and "," in lex.list_glue
    assert lex.values.choose["days_since_surgery"] == "least"


# (file, text to replace, replacement, expected path in the problem, words in its message)
MALFORMED = [
    ("regions.yaml", "  - region: thoracic\n", "  - region: thoracic\n    weight: 2\n", "intake/rules/regions.yaml:words.1.weight", "extra"),
    ("regions.yaml", "  - region: thoracic\n", "  - region: sacral\n", "intake/rules/regions.yaml:words.1.region", "input should be"),
    ("regions.yaml", "pattern: '\\b(?:cervical|", "pattern: '\\b(?:(cervical|", "intake/rules/regions.yaml:words.0.pattern", "bad regular expression"),
    ("regions.yaml", "letters: {c: cervical,", "letters: {c: cervicle,", "intake/rules/regions.yaml:level.letters.c", "input should be"),
    ("regions.yaml", "unnamed_surgery:", "unnamed_surgeries:", "intake/rules/regions.yaml:unnamed_surgeries", "extra"),
    ("context.yaml", "- {category: FAMILY,", "- {category: FAMILIAL,", "intake/rules/context.yaml:rules.", "input should be"),
    ("context.yaml", "  goes_on: [", "  goes_on_: [", "intake/rules/context.yaml:lists.goes_on_", "extra"),
    ("values.yaml", "surgery_dates:\n", "surgery_dates:\n  century: 21\n", "intake/rules/values.yaml:surgery_dates.century", "extra"),
    ("values.yaml", "since_year: '\\bsince\\s+(?P<year>", "since_year: '\\bsince\\s+(?P<yr>", "intake/rules/values.yaml:since_year", "year group"),
    ("values.yaml", "  days_since_surgery: least", "  days_since_surgery: smallest", "intake/rules/values.yaml:choose.days_since_surgery", "input should be"),
    ("values.yaml", "  surgery_date: latest", "  surgery_day: latest", "intake/rules/values.yaml:choose.surgery_day", "unknown fact"),
    ("targets.yaml", "  - id: surgery-fused\n", "  - id: surgery-fused\n    weight: 2\n", "intake/rules/targets.yaml:rules.", "unknown key"),
    ("targets.yaml", "suspected_forms:", "suspected_form:", "intake/rules/targets.yaml", "unknown key"),
    ("targets.yaml", "then: {myelopathy_progressive: true}", "then: {myelopathy_worse: true}", "intake/rules/targets.yaml:combinations.0", "unknown fact"),
    ("targets.yaml", "  - when: [myelopathy, symptoms_increasing]\n", "  - when: [myelopathy, symptoms_increasing]\n    unless: [trauma]\n", "intake/rules/targets.yaml:combinations.0", "exactly the keys"),
    ("values.yaml", "conservative: {conservative_care_days: days,", "conservative: {conservative_days: days,", "intake/rules/values.yaml:duration_facts.conservative.conservative_days", "unknown fact"),
    ("values.yaml", "  surgery: {days_since_surgery: days}", "  surgical: {days_since_surgery: days}", "intake/rules/values.yaml:duration_facts.surgical", "input should be"),
]


@pytest.mark.parametrize("name,old,new,where,words", MALFORMED, ids=[f"{m[0]}:{m[3].split(':')[-1]}" for m in MALFORMED])
def test_malformed_rule_file_is_refused_with_file_and_path(name, old, new, where, words):
    problems = _problems(name, old, new)
    hits = [p for p in problems if p["where"].startswith(where) and words in p["message"].lower()]
    assert hits, problems
    assert all(p["file"] == f"intake/rules/{name}" for p in hits)


def test_not_yaml_and_missing_files_are_refused():
    files = dict(GOOD, **{"regions.yaml": "words: [\n"})
    files.pop("values.yaml")
    with pytest.raises(KnowledgeError) as e:
        build_lexicon(files, FACTS)
    where = {p["where"]: p["message"] for p in e.value.details}
    assert "not valid YAML" in where["intake/rules/regions.yaml"]
    assert where["intake/rules/values.yaml"] == "missing file"


def test_every_problem_is_reported_at_once():
    files = dict(GOOD)
    files["regions.yaml"] = files["regions.yaml"].replace("unnamed_surgery:", "unnamed_surgeries:")
    files["context.yaml"] = files["context.yaml"].replace("  goes_on: [", "  goes_on_: [")
    with pytest.raises(KnowledgeError) as e:
        build_lexicon(files, FACTS)
    assert {p["file"] for p in e.value.details} == {"intake/rules/regions.yaml", "intake/rules/context.yaml"}


def test_the_reader_uses_the_cached_built_in_rules():
    assert load_lexicon(FACTS).regions.words == build_lexicon(GOOD, FACTS).regions.words


def test_combine_writes_every_combination_in_order():
    from workup.intake.schema import ContextRule

    rule = ContextRule(category="FAMILY", direction="FORWARD", literals=["kin"],
                       combine=[["son", "wife"], ["", "who has"], [", who had", "cancer"]])
    assert rule.cues() == ["kin", "son, who had", "son cancer", "son who has, who had", "son who has cancer",
                           "wife, who had", "wife cancer", "wife who has, who had", "wife who has cancer"]


def test_a_context_rule_without_cues_is_refused():
    problems = _problems("context.yaml", '{category: NEGATED_EXISTENCE, direction: FORWARD, max_scope: 5, literals: ["nothing"]}',
                         '{category: NEGATED_EXISTENCE, direction: FORWARD, max_scope: 5, combine: [["nothing"], []]}')
    assert any("combine" in p["message"] for p in problems)


def test_combined_cues_are_checked_for_repeats_like_literals():
    problems = _problems("context.yaml", '["", "was", "were", "all",', '["", "was", "", "all",')
    assert any("listed twice" in p["message"] for p in problems)
