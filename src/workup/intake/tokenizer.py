"""spaCy's blank English tokenizer with a suffix search that costs the same for every token.

spaCy's tokenizer peels suffixes off a whitespace-free chunk one at a time and, for each,
runs the suffix pattern (anchored at ``$``) over the whole remaining chunk: a chunk of n
characters costs n searches of up to n characters, quadratic in the chunk (20,000 commas
took 83 s in one worker, most of it in ``find_suffix``). Suffixes are short, and spaCy only
uses the length of the match, so the last :data:`WINDOW` characters are searched first
and the whole chunk only when the match might reach further back. The tokens are spaCy's
(``tests/property/test_intake_cost.py`` compares both tokenizers) and a chunk of commas
costs time linear in its length; the work budget (:mod:`workup.intake.budget`) bounds
what remains (a run of full stops is one long suffix, searched in full).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

WINDOW = 64
"""Characters at a chunk's end searched first for its suffix."""
MARGIN = 16
"""A tail match starting this close to the window's start is searched again in full."""


class TailSearch:
    """A suffix search run over the last ``window`` characters of its string."""

    def __init__(self, search: Callable[[str], Any], window: int = WINDOW) -> None:
        self.search = search
        self.window = window

    def __call__(self, string: str) -> Any:
        """The match of the suffix pattern in the string's tail (spaCy reads its length only).

        A match that starts within :data:`MARGIN` of the window's start might reach further
        back ("....." runs, a look-behind): then the whole string is searched, as spaCy does.
        """
        if len(string) <= self.window:
            return self.search(string)
        m = self.search(string[-self.window :])
        if m is None or m.start() < MARGIN:
            return self.search(string)
        return m


def linear_suffixes(nlp: Any, window: int = WINDOW) -> Any:
    """Give ``nlp``'s tokenizer a :class:`TailSearch` over its own suffix search; return ``nlp``."""
    search = nlp.tokenizer.suffix_search
    if search is not None and not isinstance(search, TailSearch):
        nlp.tokenizer.suffix_search = TailSearch(search, window)
    return nlp
