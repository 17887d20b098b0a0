"""The lean pipeline agrees with medspaCy's own TargetMatcher, and is built once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workup.intake.pipeline import get_pipeline, split_sentences
from workup.kb import load

ROOT = Path(__file__).resolve().parents[2]
VIGNETTES = ROOT / ".." / "shared" / "vignettes"
KB = load()


def _texts() -> list[str]:
    texts = [json.loads(line)["text"] for line in (ROOT / "tests" / "intake" / "paraphrases.jsonl").read_text().splitlines() if line.strip()]
    if VIGNETTES.exists():
        for p in sorted(VIGNETTES.glob("*.jsonl")):
            texts += [json.loads(line)["text"] for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


@pytest.mark.parametrize("text", _texts(), ids=lambda t: t[:40])
def test_fast_regex_targets_match_medspacy_target_matcher(text):
    pipe = get_pipeline(frozenset(KB.facts))
    doc = pipe.nlp.make_doc(text)
    ours = {(s.start, s.end, s.label_) for s in pipe.targets(doc)}
    theirs = {(s.start, s.end, s.label_) for s in pipe.matcher(doc) if s.label_ != "workup-sentinel"}
    assert ours == theirs


def test_pipeline_is_built_once():
    assert get_pipeline() is get_pipeline(frozenset(KB.facts))


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("Neck pain. No fever.", 2),
        ("Fever to 38.9 C and an elevated CRP.", 1),
        ("Cervicalgia; resecured screws? Next imaging study?", 3),
        ("Line one\n\nLine two", 2),
        ("s/p ACDF c/o neck pain w/ tingling x2 wks", 1),
    ],
)
def test_sentence_splitter(text, n):
    doc = get_pipeline().nlp.make_doc(text)
    split_sentences(doc)
    assert len(list(doc.sents)) == n
