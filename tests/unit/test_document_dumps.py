"""Document serialisation: one writer (orjson) for the CLI, the API and CDS Hooks.

Its bytes are the standard library's compact (or two-space indented) UTF-8 JSON for
everything a document holds, so earlier outputs keep their bytes; what orjson cannot
encode (an integer beyond 64 bits) is written by the standard library.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workup.consult import consult_payload
from workup.kb import load
from workup.render.document import dumps, dumps_bytes, to_document

ROOT = Path(__file__).resolve().parents[2]


def stdlib(doc: dict, indent: int | None = None) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=indent, separators=(",", ": ") if indent else (",", ":"),
                      allow_nan=False, default=lambda o: o.isoformat())


# What a document holds: text, booleans, null, 64-bit integers, dates, and floats that both
# writers spell alike (zero, or at least 1e-4 in size: orjson writes 1e-05 as 0.00001).
floats = st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x == 0 or abs(x) >= 1e-4)
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1), floats,
                    st.text(), st.dates())
docs = st.dictionaries(st.text(), st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20),
    max_size=6)


@settings(max_examples=400, deadline=None)
@given(docs)
def test_bytes_are_the_standard_librarys_compact_and_indented_json(doc):
    assert dumps_bytes(doc) == stdlib(doc).encode("utf-8")
    assert dumps(doc, indent=2) == stdlib(doc, indent=2)


@given(st.integers(min_value=2**64, max_value=2**70))
def test_integers_beyond_64_bits_are_written_by_the_standard_library(n):
    assert dumps({"n": n, "when": date(2026, 1, 2)}) == stdlib({"n": n, "when": date(2026, 1, 2)})


def test_the_seed_recommendation_document_round_trips():
    facts = json.loads((ROOT / "examples" / "seed-post-acdf.json").read_text(encoding="utf-8"))
    c = consult_payload({"facts": facts, "order": "MRI Cervical Spine Without IV Contrast"}, load(), date(2026, 11, 25))
    doc = to_document(c.recommendation)
    assert dumps_bytes(doc) == stdlib(doc).encode("utf-8")
    assert json.loads(dumps_bytes(doc)) == json.loads(stdlib(doc))


def test_only_compact_or_two_space_indent():
    with pytest.raises(ValueError):
        dumps({}, indent=4)
