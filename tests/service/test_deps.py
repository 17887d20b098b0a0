"""Consultation and card ids: random version-4 UUIDs, written as uuid.UUID writes them."""

from __future__ import annotations

import random
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from workup.service import deps


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_new_uuid_writes_what_uuid_writes_for_the_same_random_bits(seed):
    mirror = random.Random(seed)
    saved = deps._rng
    deps._rng = random.Random(seed)
    try:
        for _ in range(5):
            got = deps.new_uuid()
            assert got == str(uuid.UUID(int=mirror.getrandbits(128), version=4))
            u = uuid.UUID(got)
            assert u.version == 4 and u.variant == uuid.RFC_4122
    finally:
        deps._rng = saved


def test_ids_differ():
    ids = {deps.new_uuid() for _ in range(10_000)}
    assert len(ids) == 10_000
