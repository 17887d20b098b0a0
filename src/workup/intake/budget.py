"""The work one free-text reading may cost: a note beyond it is refused with IN228.

The reading is linear in the text (see :mod:`workup.intake.context_graph` and
``DocIndex`` in :mod:`workup.intake.pipeline`), but some steps are linear only in what a
clinician writes: spaCy's tokenizer splits a run of characters without a space in time
quadratic in the run, and medspaCy looks up each cue's sentence by walking it. The budget
bounds those shapes, far above anything typed or pasted from a record ("C5-C6", a URL,
a 200-word sentence), so a hostile note is refused in milliseconds instead of holding a
worker for a minute. Every limit is checked before the expensive step it protects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from workup.errors import IntakeError


@dataclass(frozen=True)
class Budget:
    """Limits on one reading (None: no limit)."""

    max_run_chars: int | None = 400  # characters without a space ("C1-C2-C3-…", ",,,,")
    max_sentence_tokens: int | None = 1_500  # tokens in one sentence ("no no no …" without a stop)
    max_cue_pairs: int | None = 200_000  # ConText cue pairs whose scopes can meet

    def unlimited(self) -> "Budget":
        """The same budget with every limit lifted (benchmarks)."""
        return replace(self, max_run_chars=None, max_sentence_tokens=None, max_cue_pairs=None)

    def check_text(self, text: str) -> None:
        """Refuse a run of characters without a space longer than the limit (before tokenizing)."""
        if self.max_run_chars is None:
            return
        m = re.search(r"\S{%d,}" % (self.max_run_chars + 1), text)
        if m is not None:
            run = re.match(r"\S*", text[m.start():]).end()  # type: ignore[union-attr]
            refuse(f"it has {run} characters without a space at character {m.start()} "
                   f"(the limit is {self.max_run_chars})")

    def check_sentences(self, doc) -> None:
        """Refuse a sentence longer than the limit (after splitting, before matching)."""
        if self.max_sentence_tokens is None:
            return
        start = 0
        for tok in doc:
            if tok.is_sent_start:
                start = tok.i
            if tok.i - start >= self.max_sentence_tokens:
                refuse(f"a sentence runs past {self.max_sentence_tokens} words without a full stop "
                       f"(at character {doc[start].idx})")

    def check_cue_pairs(self, pairs: int) -> None:
        """Refuse a note whose assertion cues would be compared more often than the limit."""
        if self.max_cue_pairs is not None and pairs > self.max_cue_pairs:
            refuse(f"it has {pairs} pairs of negation and other cues whose reach meets "
                   f"(the limit is {self.max_cue_pairs})")


def refuse(why: str) -> None:
    """Raise the coded error for a note over budget."""
    raise IntakeError(
        f"the scenario text is too long or too unusual to read: {why}; "
        "give the clinical question in a few sentences, or the facts",
        code="IN228",
    )


BUDGET = Budget()
