"""Exact-output tests for the text and Markdown views, on a hand-built recommendation.

The recommendation is built here (not from the knowledge pack) so that content edits do not
churn the snapshots; a renderer change must show up as a diff. Regenerate deliberately with
UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from workup.render.document import dumps, to_document
from workup.render.markdown import render_markdown
from workup.render.text import render_text
from workup.types import (
    Assumption,
    Category,
    Citation,
    Evidence,
    Assertion,
    Fact,
    FactOrigin,
    Facts,
    MissingFact,
    NextStep,
    OrderRating,
    Radiation,
    RatedProcedure,
    Recommendation,
    Status,
    StepKind,
    TopicRef,
    TraceEntry,
    VariantRef,
)

EXPECTED = Path(__file__).parent / "expected"


def _proc(pid, name, rating, cat, level, dose, rank):
    return RatedProcedure(pid, name, name, rating, cat, Radiation(level, dose), rank, "x")


MRI = _proc("mri", "MRI Cervical Spine Without IV Contrast", 7, Category.USUALLY_APPROPRIATE, "O", "0 mSv", 0)
XR = _proc("xr", "Radiography Cervical Spine", 7, Category.USUALLY_APPROPRIATE, "☢☢", "0.1-1 mSv", 2)
MYELO = _proc("myelo", "CT Myelography Cervical Spine", 5, Category.MAY_BE_APPROPRIATE, "☢☢☢☢", "10-30 mSv", 4)
CTA = _proc("cta", "CTA Neck With IV Contrast", 1, Category.USUALLY_NOT_APPROPRIATE, "☢☢☢", "1-10 mSv", 3)


class _Reading:
    def to_list(self):
        return [
            {"fact": "prior_surgery_cervical", "value": True, "status": "historical", "evidence": "two years after ACDF"},
            {"fact": "trauma", "value": False, "status": "negated", "evidence": "He denies any recent trauma"},
        ]


def rated() -> Recommendation:
    return Recommendation(
        status=Status.RATED,
        content_version="test+kb.000000000000",
        as_of=date(2026, 11, 25),
        topic=TopicRef("cervical-pain", "Neck pain", "American College of Radiology", "Cervical Pain or Cervical Radiculopathy", "2025"),
        variant=VariantRef("cervical-pain-3", "Neck pain after cervical surgery — first imaging", 3),
        rationale="Post-operative neck pain without red flags. Matched on: Prior cervical spine surgery.",
        procedures=(MRI, XR, MYELO, CTA),
        next_steps=(
            NextStep(StepKind.IMAGING, "Start with radiographs.", "radiographs", (2, 1), XR.name, "xr"),
            NextStep(StepKind.DEFER, "Defer flexion-extension views until the fusion matures.", "defer", (2,), None, None, "routine"),
        ),
        missing_facts=(MissingFact("fusion_early", "Was the fusion done within the last 3 months?", ("flexext-timing",)),),
        assumptions=(
            Assumption("fever", False, "No fever was mentioned; assumed absent.", "Fever or chills", "red-flag-infection"),
            Assumption("mri_contraindicated", False, "MRI assumed possible.", "MRI contraindicated", "contraindications"),
        ),
        facts=Facts([Fact("age", 58.0, FactOrigin.TEXT, (Evidence("58-year-old", 2, 13, Assertion.AFFIRMED),))]),
        citations=(Citation(1, "acr", "ACR Cervical Pain.", "https://example.org/acr"), Citation(2, "guide", "Clinician guide.")),
        trace=(TraceEntry("variant:cervical-pain-3", "true", "prior_surgery_cervical=true"),),
        order=OrderRating("MRI with and without", MYELO, (MRI, XR)),
        pitfalls=(("Do not start with MRI.", (2,)),),
        payer_notes=(("Some payers require 6 weeks of conservative care.", (1,)),),
        pathway_id="cervical-postop",
        path=("findings", "radiographs"),
    )


def needs_info() -> Recommendation:
    return Recommendation(
        status=Status.NEEDS_INFORMATION, content_version="test+kb.000000000000", as_of=date(2026, 11, 25),
        topic=None, variant=None, rationale="More information is needed.", procedures=(), next_steps=(),
        missing_facts=(MissingFact("symptom_duration_days", "How long has the patient had these symptoms?", ("cervical-pain-1",)),),
        assumptions=(), facts=Facts(), citations=(), trace=(),
    )


CASES = {
    "rated.txt": lambda: render_text(rated(), _Reading(), width=80),
    "rated.md": lambda: render_markdown(rated(), _Reading()),
    "needs-info.txt": lambda: render_text(needs_info(), width=80),
    "rated.json": lambda: dumps(to_document(rated()), indent=2) + "\n",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_view_matches_snapshot(name: str) -> None:
    got = CASES[name]()
    path = EXPECTED / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(got if got.endswith("\n") else got + "\n", encoding="utf-8")
    want = path.read_text(encoding="utf-8")
    assert got.rstrip("\n") == want.rstrip("\n")


def test_text_view_marks_denied_trauma_and_orders_citations() -> None:
    out = render_text(rated(), _Reading(), width=80)
    assert "trauma = no — denied: “He denies any recent trauma”" in out
    assert "Start with radiographs. [1][2]" in out
    assert out.index("MRI Cervical Spine Without IV Contrast") < out.index("CTA Neck With IV")


def test_views_are_pure() -> None:
    assert render_text(rated(), width=80) == render_text(rated(), width=80)
    assert render_markdown(rated()) == render_markdown(rated())
