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


@pytest.mark.parametrize("text, suspect", [
    (b"[1e-5]", True), (b'{"x":-2.5e-7}', True), (b"3e-07", True), (b'{"a":[0,1e-9]}', True),
    (b'{"x":null}', True), (b'{"x":0.00001}', True),
    (b'"re-examine type-2"', False), (b'"00000000-0000-4000-8000-00000000000e-1"', False),
    (b'"urn:uuid:5f0c1a52-8a0e-4a52-9a57-5a3e1f1f0001"', False), (b'"c5e-6"', False),
])
def test_only_numbers_written_unlike_dumps_are_suspect(text, suspect):
    from workup.service.encoding import _suspect

    assert _suspect(text) is suspect


@settings(max_examples=300, deadline=None)
@given(st.lists(st.uuids().map(str), min_size=1, max_size=8), st.lists(st.floats(allow_nan=False, allow_infinity=False), max_size=4))
def test_uuids_next_to_floats_keep_the_bytes_of_dumps(ids, floats):
    doc = {"ids": ids, "values": floats, "card": {"uuid": ids[0], "x": floats[0] if floats else 1e-7}}
    assert json_bytes(doc) == dumps(doc).encode("utf-8")
