"""The clinical content every topic and variant must carry, and how payer rules are labelled.

Ratings are ACR facts (tests/kb/test_acr_ratings.py); this file checks the prose we write
around them: every topic has a differential, pitfalls, FAQ and payer notes; every usually
appropriate study says why; payer notes say they are payer rules (or regulation), never
an ACR rating; the seed scenario carries everything the seed documents say.
"""

from __future__ import annotations

import re

import pytest

from workup.kb import default

KB = default()


@pytest.mark.parametrize("topic_id", sorted(KB.topics))
def test_topic_has_differential_pitfalls_faq_and_payer_notes(topic_id: str) -> None:
    t = KB.topics[topic_id]
    assert len(t.differentials) >= 3
    assert len(t.pitfalls) >= 3
    assert len(t.faq) >= 2
    assert t.payer_notes
    assert t.related and topic_id not in t.related


@pytest.mark.parametrize("topic_id", sorted(KB.topics))
def test_payer_notes_are_labelled_as_payer_rules_or_regulation(topic_id: str) -> None:
    for note in KB.topics[topic_id].payer_notes:
        assert re.match(r"^(Payer rule, not an ACR rating|Regulatory note)", note.text), note.text


@pytest.mark.parametrize("variant_id", sorted(KB.variants))
def test_every_usually_appropriate_study_has_a_cited_rationale(variant_id: str) -> None:
    for r in KB.variants[variant_id].ratings:
        if r.category == "usually-appropriate":
            assert r.rationale is not None, r.procedure
            assert r.rationale.citations, r.procedure


def test_post_op_variant_explains_every_study_it_does_not_reject() -> None:
    v = KB.variants["cervical-pain-3"]
    for r in v.ratings:
        if r.category != "usually-not-appropriate":
            assert r.rationale is not None, r.procedure
    assert v.who_fits and len(v.exclusions) >= 5
    assert {ex.routes_to for ex in v.exclusions} >= {"spinal-trauma-2", "spine-infection-2", "cervical-pain-5", "cervical-pain-2"}


@pytest.mark.parametrize("needle", [
    "Hardware complication", "Adjacent segment disease", "Pseudarthrosis", "Recurrent or residual stenosis",
    "Epidural fibrosis",
])
def test_cervical_differential_carries_the_seed_guide_causes(needle: str) -> None:
    assert any(d.name.startswith(needle) for d in KB.topics["cervical-pain"].differentials)


@pytest.mark.parametrize("needle", [
    "without radiographs", "flexion-extension", "previous operation", "red flag", '"resecured"',
    "without a neurologic reason", "ESR, CRP", "kyphosis", "fracture follow-up",
])
def test_cervical_pitfalls_carry_the_seed_documents(needle: str) -> None:
    assert any(needle in p.text for p in KB.topics["cervical-pain"].pitfalls), needle


@pytest.mark.parametrize("needle", ["MRI", "cannot have MRI", "flexion-extension", "anterior", "pseudarthrosis"])
def test_cervical_faq_answers_the_seed_questions(needle: str) -> None:
    assert any(needle in f.question for f in KB.topics["cervical-pain"].faq), needle


def test_non_trauma_pathways_hold_no_fracture_follow_up_schedule() -> None:
    for pid, pw in KB.pathways.items():
        if pid == "trauma-workup":
            continue
        for nid, node in pw.nodes.items():
            assert not re.search(r"serial CT|\d+\s*-\s*\d+ weeks", node.text), f"{pid}/{nid}"
