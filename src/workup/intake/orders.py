"""Reading an imaging order's text: the modality, spine region, contrast phase and views it names.

The words are data (``intake/rules/orders.yaml``), validated when first used like the other
rule files; the CDS service (:mod:`workup.service.hooks`) matches what is read against the
procedure catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

from workup.errors import KnowledgeError
from workup.intake.schema import Regex, Strict
from workup.problems import Problems

__all__ = ["OrderReading", "read_order", "order_words"]


class OrderWordsFile(Strict):
    """``orders.yaml``: patterns by modality, region and contrast phase (in the order tried)."""

    schema_version: Literal[1]
    modality: dict[str, Regex]
    region: dict[str, Regex]
    spine: Regex
    contrast: dict[str, Regex]
    default_contrast: dict[str, str]
    dynamic_views: Regex


@dataclass(frozen=True)
class OrderReading:
    """What an order's text names; ``None`` where it names nothing (or the words are not there)."""

    modality: str | None
    region: str | None
    contrast: str | None  # stated, or the modality's default
    dynamic_views: bool
    spine: bool  # names a spine region, or the spine


@dataclass(frozen=True)
class _Words:
    modality: tuple[tuple[str, re.Pattern[str]], ...]
    region: tuple[tuple[str, re.Pattern[str]], ...]
    spine: re.Pattern[str]
    contrast: tuple[tuple[str, re.Pattern[str]], ...]
    default_contrast: dict[str, str]
    dynamic_views: re.Pattern[str]


def parse_order_words(text: str | None) -> OrderWordsFile:
    """Validate ``orders.yaml`` given as text.

    Raises:
        KnowledgeError: KB150, listing every problem with its file and path.
    """
    problems = Problems(prefix="intake/rules/")
    words = problems.model("orders.yaml", problems.yaml("orders.yaml", text), OrderWordsFile)
    if words is not None:
        for m in words.default_contrast:
            if m not in words.modality:
                problems.add("orders.yaml", f"default_contrast.{m}", f"unknown modality {m!r}")
    if problems.items or words is None:
        raise KnowledgeError(f"order words are invalid: {len(problems.items)} problem(s)", code="KB150",
                             details=problems.items)
    return words


@lru_cache(maxsize=1)
def order_words() -> _Words:
    """The built-in order words, validated and compiled (once)."""
    text = resources.files("workup.intake").joinpath("rules", "orders.yaml").read_text(encoding="utf-8")
    w = parse_order_words(text)
    f = re.IGNORECASE
    return _Words(
        modality=tuple((k, re.compile(p, f)) for k, p in w.modality.items()),
        region=tuple((k, re.compile(p, f)) for k, p in w.region.items()),
        spine=re.compile(w.spine, f),
        contrast=tuple((k, re.compile(p, f)) for k, p in w.contrast.items()),
        default_contrast=dict(w.default_contrast),
        dynamic_views=re.compile(w.dynamic_views, f),
    )


def read_order(text: str) -> OrderReading:
    """Read the modality, region, contrast phase and views an order's text names."""
    w = order_words()
    t = " ".join(text.lower().split())
    modality = next((m for m, rx in w.modality if rx.search(t)), None)
    region = next((r for r, rx in w.region if rx.search(t)), None)
    contrast = next((c for c, rx in w.contrast if rx.search(t)), None)
    if contrast is None and modality is not None:
        contrast = w.default_contrast.get(modality)
    return OrderReading(modality, region, contrast, bool(w.dynamic_views.search(t)),
                        region is not None or bool(w.spine.search(t)))
