"""Helpers for the service tests (fixtures on disk, seed facts, deterministic ids)."""

from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def fixture(name: str) -> dict[str, Any]:
    """A request fixture without its provenance keys (those starting with '_')."""
    doc = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def seed_facts() -> dict[str, Any]:
    return json.loads((REPO / "examples" / "seed-post-acdf.json").read_text(encoding="utf-8"))


class Ids:
    """Deterministic ids: 00000000-0000-4000-8000-000000000001, …"""

    def __init__(self) -> None:
        self._n = itertools.count(1)

    def __call__(self) -> str:
        return f"00000000-0000-4000-8000-{next(self._n):012d}"
