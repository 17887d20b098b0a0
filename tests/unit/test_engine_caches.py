"""The engine's per-pack caches (compiled criteria, derived facts, rationale labels) never change an answer.

A cache hit must give the same document, byte for byte, as a fresh pack evaluating the same
facts for the first time; a full cache keeps answering correctly.
"""

from __future__ import annotations

from datetime import date

import workup.engine.resolve as resolution
from workup.engine import evaluate
from workup.engine.resolve import resolve
from workup.kb import build, default
from workup.render.document import dumps, to_document
from workup.types import Fact, Facts

AS_OF = date(2025, 6, 1)

CASES = [
    {"age": 42.0, "region": "cervical", "pain": True, "radiculopathy": False, "symptom_duration_days": 21.0},
    {"age": 67.0, "region": "lumbar", "pain": True, "malignancy_history": True, "weight_loss": True},
    {"age": 63.0, "region": "cervical", "pain": True, "prior_surgery_cervical": True,
     "surgery_date": date(2025, 5, 1), "fever": True},
    {"pain": True},
]


def given(values: dict[str, object]) -> Facts:
    return Facts([Fact(k, v) for k, v in values.items()])  # type: ignore[arg-type]


def fresh():
    """A pack with empty caches, built from the same files as the default one."""
    return build(dict(default().files))


def doc(values: dict[str, object], kb, as_of: date = AS_OF) -> str:
    return dumps(to_document(evaluate(given(values), kb, as_of)))


def test_cache_hits_give_the_same_document_as_a_fresh_pack():
    kb = default()
    for values in CASES:
        first = doc(values, fresh())
        assert doc(values, kb) == first
        assert doc(values, kb) == first  # second call on the same pack: every cache hits


def test_a_surgery_date_is_resolved_against_each_consultation_date():
    kb = default()
    values = CASES[2]
    early, late = doc(values, kb, date(2025, 5, 20)), doc(values, kb, date(2026, 5, 20))
    assert early != late
    assert early == doc(values, fresh(), date(2025, 5, 20))
    assert late == doc(values, fresh(), date(2026, 5, 20))


def test_resolution_keeps_each_callers_own_facts_and_unknown_inputs():
    kb = default()
    a = resolve(kb, given({"pain": True}), AS_OF)
    b = resolve(kb, given({"pain": True}), AS_OF)
    assert a.facts["pain"] is not b.facts["pain"]  # the caller's Fact objects, not the first caller's
    a.unknown_inputs.clear()
    assert b.unknown_inputs == resolve(kb, given({"pain": True}), AS_OF).unknown_inputs != {}


def test_a_full_derived_fact_cache_stops_growing_and_keeps_answering(monkeypatch):
    kb = fresh()
    monkeypatch.setattr(resolution, "CACHE_BOUND", 3)
    expected = {age: doc({**CASES[0], "age": float(age)}, fresh()) for age in range(20, 90, 7)}
    for age, text in expected.items():
        assert doc({**CASES[0], "age": float(age)}, kb) == text
    assert len(kb.cache["derived"]) == 3  # filled once, then left as it is (never cleared)
