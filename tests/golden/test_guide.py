"""The clinician guide pages: exact output for the seed scenario and its parent page, and the
shape of every other page.

The snapshots are rendered from the built-in knowledge pack, so a change to the renderer *or* to
the cervical-pain content shows up as a diff to review. Regenerate deliberately with
UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from workup.kb import default
from workup.render.guide import render_topic_guide, render_variant_guide, variant_region

EXPECTED = Path(__file__).parent / "expected"
KB = default()

SNAPSHOTS = [
    ("guide-cervical-pain-3.md", lambda: render_variant_guide(KB, "cervical-pain-3")),
    ("guide-topic-cervical-pain.md", lambda: render_topic_guide(KB, "cervical-pain")),
]

VARIANT_SECTIONS = [
    "## Who fits",
    "## Rated procedures",
    "## Downstream workflow",
    "## Related",
    "## References",
]


@pytest.mark.parametrize("name, render", SNAPSHOTS, ids=[n for n, _ in SNAPSHOTS])
def test_guide_matches_snapshot(name, render) -> None:
    got = render()
    path = EXPECTED / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(got, encoding="utf-8")
    assert path.exists(), f"missing snapshot {path}; run with UPDATE_GOLDEN=1"
    assert got == path.read_text(encoding="utf-8")


def test_seed_guide_has_the_seed_sections_in_order() -> None:
    text = render_variant_guide(KB, "cervical-pain-3")
    order = [
        "# Neck pain or radiculopathy after cervical spine surgery",
        "## Who fits",
        "## Who does not fit, and where they go",
        "## Differential diagnosis",
        "## Rated procedures",
        "### Why these studies",
        "## Downstream workflow",
        "## Pitfalls to avoid",
        "## Frequently asked questions",
        "## Payer rules (coverage policy, not part of the ACR rating)",
        "## References",
    ]
    positions = [text.index(h) for h in order]
    assert positions == sorted(positions)


def test_seed_guide_rates_the_four_usually_appropriate_studies_with_dose() -> None:
    text = render_variant_guide(KB, "cervical-pain-3")
    for row in [
        "| 7 | Usually appropriate | Radiography Cervical Spine | ☢☢ | 0.1-1 mSv |",
        "| 7 | Usually appropriate | Radiography Cervical Spine Flexion Extension Lateral Views | ☢☢ | 0.1-1 mSv |",
        "| 7 | Usually appropriate | CT Cervical Spine Without IV Contrast | ☢☢☢ | 1-10 mSv |",
        "| 7 | Usually appropriate | MRI Cervical Spine Without IV Contrast | O | 0 mSv |",
        "| 5 | May be appropriate | CT Myelography Cervical Spine | ☢☢☢☢ | 10-30 mSv |",
    ]:
        assert row in text


def test_seed_guide_exclusions_link_to_the_variant_they_route_to() -> None:
    text = render_variant_guide(KB, "cervical-pain-3")
    section = text.split("## Who does not fit, and where they go")[1].split("\n## ")[0]
    links = re.findall(r"\]\(([^)]+)\.md\)", section)
    assert links == [ex.routes_to for ex in KB.variants["cervical-pain-3"].exclusions]


def test_workflow_draws_every_action_of_the_pathway() -> None:
    text = render_variant_guide(KB, "cervical-pain-3")
    workflow = text.split("## Downstream workflow")[1].split("## Pitfalls")[0]
    pw = KB.pathways["cervical-postop"]
    for nid, node in pw.nodes.items():
        if node.type not in ("decision", "end"):
            assert node.text in workflow, nid


@pytest.mark.parametrize("variant_id", sorted(KB.variants))
def test_every_variant_guide_is_complete_and_its_references_are_consistent(variant_id: str) -> None:
    text = render_variant_guide(KB, variant_id)
    assert text == render_variant_guide(KB, variant_id)  # deterministic
    for h in VARIANT_SECTIONS:
        assert h in text, h
    body, refs = text.split("## References\n")
    n_refs = len(re.findall(r"^\d+\. ", refs, flags=re.M))
    used = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
    assert used == set(range(1, n_refs + 1)), "every reference is cited and every citation is listed"
    for target in re.findall(r"\]\(([^)]+)\.md\)", text):
        assert target in KB.variants or target in KB.topics, target
    region = variant_region(KB.variants[variant_id])
    if region is not None:  # concrete regional names, never "Area of Interest", in regional topics
        assert "Area of Interest" not in body.split("## Rated procedures")[1].split("## Downstream")[0]


@pytest.mark.parametrize("topic_id", sorted(KB.topics))
def test_every_topic_page_links_every_variant(topic_id: str) -> None:
    text = render_topic_guide(KB, topic_id)
    linked = set(re.findall(r"\]\(([^)]+)\.md\)", text))
    mine = {v for v, t in KB.variant_topic.items() if t == topic_id}
    assert mine <= linked


def test_payer_rules_are_labelled_apart_from_the_ratings() -> None:
    text = render_variant_guide(KB, "cervical-pain-3")
    payer = text.split("## Payer rules (coverage policy, not part of the ACR rating)")[1].split("\n## ")[0]
    assert "6 weeks" in payer
    assert "6 weeks" not in text.split("## Rated procedures")[1].split("## Downstream")[0]


def test_href_changes_every_link() -> None:
    text = render_variant_guide(KB, "cervical-pain-3", href=lambda i: f"/guide/{i}")
    assert ".md)" not in text
    assert "](/guide/cervical-pain-5)" in text and "](/guide/cervical-pain)" in text


def test_shared_pathway_keeps_area_of_interest_studies_unresolved() -> None:
    # The trauma pathway serves cervical, thoracic and lumbar variants: on a cervical page the
    # thoracolumbar branch must not read "CT Cervical Spine".
    text = render_variant_guide(KB, "spinal-trauma-2")
    workflow = text.split("## Downstream workflow")[1].split("## Pitfalls")[0]
    branch = workflow.split("*High-risk thoracic or lumbar injury:*")[1].split("\n  - *")[0]
    assert "CT Spine Area of Interest Without IV Contrast" in branch
    assert "CT Cervical Spine" not in branch


def test_single_region_pathway_names_the_regional_study() -> None:
    text = render_variant_guide(KB, "low-back-pain-4")
    assert "**Image (emergent): MRI Lumbar Spine Without IV Contrast**" in text


def test_variant_without_a_pathway_names_the_best_study_or_no_imaging() -> None:
    from workup.kb.load import build

    bare = build({k: v for k, v in KB.files.items() if not k.endswith("pathway.yaml")})
    with_study = render_variant_guide(bare, "cervical-pain-8")
    assert "No pathway is defined; MRI Cervical Spine Without IV Contrast is the highest-rated study (rating 7)." in with_study
    none = render_variant_guide(bare, "cervical-pain-1")
    assert "No pathway is defined and no study is usually appropriate" in none
