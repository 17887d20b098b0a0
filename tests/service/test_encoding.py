"""Service response bytes are exactly render.document.dumps's, however they are made."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workup.render.document import dumps
from workup.service.encoding import json_bytes

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=False, allow_infinity=False),
    st.text(), st.dates(),
)
docs = st.dictionaries(st.text(), st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20), max_size=6)


@settings(max_examples=400, deadline=None)
@given(docs)
def test_same_bytes_as_dumps(doc):
    assert json_bytes(doc) == dumps(doc).encode("utf-8")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_numbers_are_refused_like_dumps(bad):
    with pytest.raises(ValueError):
        dumps({"x": bad})
    with pytest.raises(ValueError):
        json_bytes({"x": [1, {"y": bad}]})


def test_the_seed_recommendation_document_is_byte_identical():
    from pathlib import Path

    from workup.consult import consult_payload
    from workup.kb import load
    from workup.render.document import to_document

    root = Path(__file__).resolve().parents[2]
    facts = json.loads((root / "examples" / "seed-post-acdf.json").read_text(encoding="utf-8"))
    c = consult_payload({"facts": facts, "order": "MRI Cervical Spine Without IV Contrast"}, load(), date(2026, 11, 25))
    doc = to_document(c.recommendation)
    assert json_bytes(doc) == dumps(doc).encode("utf-8")
    assert json.loads(json_bytes(doc))["status"] == doc["status"]
