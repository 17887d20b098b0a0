"""Routing free text into imported ACR topics and variants, never guessing.

Each imported variant is compiled once into typed conditions
(:mod:`workup.imported.conditions`) and indexed with bm25s (title and wording, with the
lexicon's clinical terms added). For a note:

1. variants whose population excludes the patient (child/adult, sex, pregnancy, age bounds)
   are gated out — a hard gate, never outweighed by words;
2. topics are ranked by their best remaining variant's lexical score; a topic close behind
   the first makes the answer ``needs-information`` between them;
3. within the topic, variants whose phase or risk level is false are out; one variant clearly
   ahead of the rest with none of its conditions unknown is rated; otherwise the answer is
   ``needs-information`` with the candidates and the questions that separate them.

Topics the curated packs cover are never routed to (``exclude``).
"""

from __future__ import annotations

from dataclasses import dataclass
from workup.imported.conditions import (
    Reading, affirmed, described_fits, phase_fits, population_gate, read, risk_fits, tokens,
)
from workup.imported.pack import ImportedPack, ImportedTopic, ImportedVariant
from workup.imported.table import topic_key

__all__ = ["Compiled", "Route", "Router", "router"]

MIN_OVERLAP = 2  # a topic is considered only when its best variant shares this many words with the note
TOPIC_MARGIN = 0.85  # a second topic scoring this share of the first makes the topic undecided
TITLE_COVER = 0.5  # to be rated, the note must say this share of its topic's title words
CHILD_TOPIC_BOOST = 1.5  # a child's note prefers the topic written for children over the general one
MAX_CANDIDATES = 6

QUESTIONS = {
    "population": "Is the patient a child or an adult, and how old? Is the patient pregnant?",
    "phase": "Is this the first imaging for the problem, or the next study after an earlier result (which one, and what did it show)?",
    "risk": "What is the pretest probability or risk: low, intermediate or high?",
    "described": "Which description fits: acute or chronic, first or recurrent, palpable or found incidentally, gross or microscopic?",
    "wording": "Which of the candidate scenarios describes the patient?",
    "topic": "Which problem is the imaging for?",
}


@dataclass(frozen=True)
class Compiled:
    """One imported variant's typed conditions."""

    topic: ImportedTopic
    variant: ImportedVariant
    reading: Reading
    uncompiled: tuple[str, ...]  # sentences of the wording no condition or clinical term was read from


@dataclass(frozen=True)
class Route:
    """Where a note goes: ``rated`` (one variant), ``needs-information`` or ``no-criteria-apply``."""

    status: str
    topic: ImportedTopic | None
    variant: ImportedVariant | None
    candidates: tuple[tuple[str, int], ...]  # (normalised topic title, variant number)
    questions: tuple[tuple[str, str], ...]  # (what is missing, the question)
    reason: str
    note: Reading


def _compile(topic: ImportedTopic, v: ImportedVariant) -> Compiled:
    r = read(v.text, note=False)
    left = []
    for sentence in (s.strip() for s in v.text.split(".")):
        if not sentence:
            continue
        s = read(sentence, note=False)
        if not (s.terms or s.phases or s.qualifiers or s.risk or s.age_min is not None or s.age_max is not None
                or any(x is not None for x in (s.child, s.adult, s.female, s.male, s.pregnant))):
            left.append(sentence)
    return Compiled(topic, v, r, tuple(left))


class Router:
    """The compiled variants and lexical index of one imported pack."""

    def __init__(self, pack: ImportedPack, exclude: frozenset[str] = frozenset()) -> None:
        import bm25s

        self.pack = pack
        self.compiled = [
            _compile(t, v) for t in pack.topics.values() if topic_key(t.title) not in exclude for v in t.variants
        ]
        corpus = [tokens(f"{c.topic.title} {c.topic.title} {c.variant.text}", c.reading.terms) for c in self.compiled]
        self.words = {c.variant.id: frozenset(doc) for c, doc in zip(self.compiled, corpus)}
        self.title_words = {t.id: frozenset(tokens(t.title)) for t in pack.topics.values()}
        self.title_readings = {t.id: read(t.title, note=False) for t in pack.topics.values()}
        self.index = bm25s.BM25()
        self.index.index(corpus, show_progress=False)
        words: dict[str, dict[int, set[str]]] = {}
        for c in self.compiled:
            words.setdefault(c.topic.id, {})[c.variant.number] = set(tokens(c.variant.text, c.reading.terms))
        groups: dict[str, dict[int, dict[str, frozenset[str]]]] = {}
        for c in self.compiled:
            groups.setdefault(c.topic.id, {})[c.variant.number] = dict(c.reading.described)
        # exclusive groups whose values differ between a topic's variants tell them apart
        self.deciding = {tid: frozenset(g for g in {g for d in by_n.values() for g in d}
                                        if len({d.get(g) for d in by_n.values()}) > 1)
                         for tid, by_n in groups.items()}
        self.distinct: dict[str, dict[int, frozenset[str]]] = {}
        for tid, by_number in words.items():
            common = set.intersection(*by_number.values()) if len(by_number) > 1 else set()
            # a word every sibling has inside one of its own ("hematuria" in "microhematuria") tells nothing apart
            self.distinct[tid] = {n: frozenset(x for x in w - common if len(by_number) == 1 or not all(
                any(x in y for y in other) for m, other in by_number.items() if m != n)) for n, w in by_number.items()}

    def _enough(self, tid: str, items: list, said: set[str]) -> bool:
        """Whether the note says enough of the topic: a word of its title, or MIN_OVERLAP words of its best variant."""
        if self.title_words[tid] & said:
            return True
        top = max(items, key=lambda x: (x[0], -x[1].variant.number))[1]
        return len(self.words[top.variant.id] & said) >= MIN_OVERLAP

    def uncompiled(self) -> list[Compiled]:
        """Variants with wording no condition or clinical term was read from."""
        return [c for c in self.compiled if c.uncompiled]

    def route(self, text: str) -> Route:
        """Route one note (three-valued; never a guess)."""
        note = read(text, note=True)
        q = tokens(affirmed(text), note.terms)
        scores = self.index.get_scores(q) if q else [0.0] * len(self.compiled)
        best: dict[str, tuple[float, list[tuple[float, Compiled, bool | None]]]] = {}
        for c, s in zip(self.compiled, scores):
            if population_gate(self.title_readings[c.topic.id], note) is False:
                continue  # a topic for children only (its title says so) is never an adult's, and so on
            gate = population_gate(c.reading, note)
            if gate is False:
                continue
            if note.child is True and self.title_readings[c.topic.id].child is True:
                s = s * CHILD_TOPIC_BOOST
            top, items = best.setdefault(c.topic.id, (0.0, []))
            items.append((float(s), c, gate))
            best[c.topic.id] = (max(top, float(s)), items)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))
        said = set(q)
        if not ranked or ranked[0][1][0] <= 0 or not self._enough(ranked[0][0], ranked[0][1][1], said):
            return Route("no-criteria-apply", None, None, (), (), "no imported topic fits the note", note)
        (tid, (s1, items)), rest = ranked[0], ranked[1:]
        topic = self.pack.topics[tid]
        title = self.title_words[tid]
        covered = len(title & said) / len(title) if title else 0.0
        if (rest and rest[0][1][0] >= TOPIC_MARGIN * s1) or covered < TITLE_COVER:
            cands = [(self.pack.topics[t].title, max(its, key=lambda x: (x[0], -x[1].variant.number))[1].variant.number)
                     for t, (_s, its) in ranked[:3] if _s >= TOPIC_MARGIN * s1 or t == tid]
            return Route("needs-information", None, None, tuple(cands), (("topic", QUESTIONS["topic"]),),
                         "more than one imported topic fits the note", note)
        alive = []
        for s, c, gate in items:
            phase, risk = phase_fits(c.reading, note), risk_fits(c.reading, note)
            described = described_fits(c.reading, note, self.deciding[tid])
            if phase is False or risk is False or described is False:
                continue
            alive.append((s, c, {"population": gate, "phase": phase, "risk": risk, "described": described}))
        if not alive:
            return Route("no-criteria-apply", topic, None, (), (), f"no variant of {topic.title} fits the note", note)
        # The words that tell this topic's variants apart: a variant is read from the note only
        # through them, and a tie (or no such word at all) is a question, never a pick.
        distinct = self.distinct[tid]
        hits = [(len(distinct[c.variant.number] & said), s, c, st) for s, c, st in alive]
        h1 = max(h for h, *_ in hits)
        pool = [x for x in hits if x[0] == h1] if h1 > 0 else hits
        pool.sort(key=lambda x: (-x[1], x[2].variant.number))
        close = [(s, c, st) for _h, s, c, st in pool][:MAX_CANDIDATES]
        first = close[0]
        # One variant left by the gates, or one ahead on the words that tell them apart.
        if (h1 > 0 or len(alive) == 1) and len(close) == 1 and all(v is True for v in first[2].values()):
            return Route("rated", topic, first[1].variant, (), (), "one variant fits", note)
        missing = sorted({k for _s, _c, st in close for k, v in st.items() if v is None})
        if len(close) > 1 or (h1 == 0 and len(alive) > 1):
            missing.append("wording")
        cands = tuple((topic.title, c.variant.number) for _s, c, _st in sorted(close, key=lambda x: x[1].variant.number))
        return Route("needs-information", topic, None, cands, tuple((k, QUESTIONS[k]) for k in missing),
                     f"{len(close)} variant(s) of {topic.title} could fit", note)


_ROUTERS: dict[tuple[str, frozenset[str]], Router] = {}


def router(pack: ImportedPack, exclude: frozenset[str]) -> Router:
    """The router of a pack (built once per pack and exclusion set)."""
    key = (pack.version, exclude)
    r = _ROUTERS.get(key)
    if r is None or r.pack is not pack:
        if len(_ROUTERS) >= 2:
            _ROUTERS.clear()
        r = _ROUTERS[key] = Router(pack, exclude)
    return r
