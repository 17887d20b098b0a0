"""Response bodies: the recommendation and CDS documents as JSON bytes.

The bytes are those of :func:`workup.render.document.dumps` (compact separators, UTF-8
text, no ASCII escaping), made by orjson, which is about twenty times faster on a
recommendation document; anything orjson cannot encode the same way (an integer beyond
64 bits, a non-finite float, a float under 1e-4 that Python writes with an exponent, a
type it does not know) goes through ``dumps`` itself.
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from workup.render.document import dumps


def _plain(o: Any) -> bool:
    """True when orjson writes every float in ``o`` as ``dumps`` does.

    orjson writes NaN as null (dumps refuses it) and 1e-05 as 0.00001.
    """
    if isinstance(o, float):
        return math.isfinite(o) and (o == 0.0 or abs(o) >= 1e-4)
    if isinstance(o, dict):
        return all(_plain(v) for v in o.values())
    if isinstance(o, (list, tuple)):
        return all(_plain(v) for v in o)
    return True


def json_bytes(doc: dict[str, Any]) -> bytes:
    """``dumps(doc)`` as UTF-8 bytes."""
    try:
        out = orjson.dumps(doc)
    except TypeError:  # orjson.JSONEncodeError: let dumps encode it, or raise its own error
        return dumps(doc).encode("utf-8")
    if (b"null" in out or b"0.0000" in out or b"e-" in out) and not _plain(doc):
        return dumps(doc).encode("utf-8")  # raises ValueError on NaN / infinity, as dumps does
    return out
