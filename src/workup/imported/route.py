"""Routing free text into imported ACR topics and variants, never guessing.

Each imported variant is compiled once into typed conditions
(:mod:`workup.imported.conditions`) and indexed with bm25s (title and wording, with the
lexicon's clinical terms added). For a note:

1. variants whose population excludes the patient (child/adult, sex, pregnancy, age bounds)
   are gated out — a hard gate, never outweighed by words;
2. topics are ranked by their best remaining variant's lexical score times the share of
   their title the note says and their frame (phase, children, pregnancy, a suspected
   problem for a known one). Close topics are then told apart by their titles: words only
   one of two sibling titles has ("upper"/"lower"), the children's version for a child, the
   unframed twin of a "Management of …" title. A topic close behind the first makes the
   answer ``needs-information`` between them, unless the note says the whole of the
   first's title and of no close rival's; a rival whose whole title the note says of the
   present (not its history) and the first never does keeps the note from being rated;
3. within the topic, variants whose phase, risk level or exclusive descriptions are false
   are out (a phase that rules out every variant is taken as unknown instead), and so are
   variants whose wording excludes a clinical term the patient has ("uncomplicated: no
   history of diabetes" for a diabetic) and, for a pregnant patient or a child, variants
   that never say who when a sibling is written for her. The rest
   are ordered by telling words, with each typed description, stance (suspected/known)
   and risk level the note shares counting as two. One variant ahead with none of its
   conditions unknown is rated; so is one far ahead (``RATE_LEAD``) that is open only on
   what the note did not describe (never population or risk). Otherwise the answer is
   ``needs-information`` with the candidates and the questions that separate them.

Topics the curated packs cover are never routed to (``exclude``).
"""

from __future__ import annotations

from dataclasses import dataclass
from workup.imported.conditions import (
    Reading, affirmed, clinical_terms, described_fits, lexicon, phase_fits, population_gate, present, read, risk_fits, tokens,
    unframed,
)
from workup.imported.pack import ImportedPack, ImportedTopic, ImportedVariant
from workup.imported.table import topic_key

__all__ = ["Compiled", "Route", "Router", "router"]

MIN_OVERLAP = 2  # a topic is considered only when its best variant shares this many words with the note
TOPIC_MARGIN = 0.6  # a second topic scoring this share of the first makes the topic undecided
CANDIDATE_MARGIN = 0.5  # an undecided note lists the topics (up to 3) scoring this share of the first
TITLE_COVER = 0.6  # to be rated, the note must say this share of its topic's title words
CHILD_TOPIC_BOOST = 1.5  # a child's note prefers the topic written for children over the general one
TITLE_WEIGHT_BASE = 0.5  # a topic's score is its best variant's times (this + the share of its title the note says)
TITLE_PHASE_PENALTY = 0.4  # a topic whose title names a phase the note does not (screening, follow-up, management)
UNSAID_CHILD_PENALTY = 0.6  # a topic for children, for a note that gives no age
KNOWN_PENALTY = 0.6  # a title for a suspected problem, for a note that says the problem is known
UNSAID_PREGNANT_PENALTY = 0.6  # a topic for pregnancy, for a note that does not say the patient is pregnant
MAX_CANDIDATES = 6
STANCES = frozenset({"suspected", "known"})
SETTLED_ALONE = ("population", "risk")  # the last variant standing is rated unless one of these is unknown
NAMED_WORDS = 2  # a rival topic whose title's problem words (at least this many) the note all says keeps a note from being rated
DESCRIBED_HIT = 2  # a deciding description the note shares with a variant counts as this many telling words
CORE_COVER = True  # the title share a rated note must say counts the words naming the problem, not its frame
AGREE = True  # one telling word ahead is enough when the variant's lexical score is also the best
RATE_LEAD = 2  # to be rated, a variant says this many more of the words that tell its siblings apart than the next

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
    excluded: frozenset[str] = frozenset()  # clinical terms the wording says only in a negation ("no history of diabetes")


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
    lex = lexicon()
    negated = " ".join(m.group(0) for m in lex.variant_negated_span.finditer(lex.respell(v.text)))
    excluded = frozenset(clinical_terms(negated)) - frozenset(clinical_terms(affirmed(lex.respell(v.text), variant=True)))
    return Compiled(topic, v, r, tuple(left), excluded)


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
        # the words of a title that name its problem, not its frame ("staging", "follow-up", "acute")
        self.title_core = {t.id: frozenset(tokens(unframed(t.title))) or self.title_words[t.id]
                           for t in pack.topics.values()}
        self.title_readings = {t.id: read(t.title, note=False) for t in pack.topics.values()}
        # every word any variant of a topic says (a rival title wholly inside them is this topic's own business)
        self.topic_words: dict[str, frozenset[str]] = {}
        for c in self.compiled:
            self.topic_words[c.topic.id] = self.topic_words.get(c.topic.id, frozenset()) | self.words[c.variant.id]
        self.speaks_of_children = frozenset(c.topic.id for c in self.compiled if c.reading.child is True)
        self.index = bm25s.BM25()
        self.index.index(corpus, show_progress=False)
        words: dict[str, dict[int, set[str]]] = {}
        for c in self.compiled:
            # a variant is told apart by what it says is present, not by what it excludes
            said_v = affirmed(c.variant.text, variant=True)
            words.setdefault(c.topic.id, {})[c.variant.number] = set(tokens(said_v, read(said_v, note=False).terms))
        groups: dict[str, dict[int, dict[str, frozenset[str]]]] = {}
        for c in self.compiled:
            groups.setdefault(c.topic.id, {})[c.variant.number] = dict(c.reading.described)
        # exclusive groups whose values differ between a topic's variants tell them apart
        self.deciding = {tid: frozenset(g for g in {g for d in by_n.values() for g in d}
                                        if len({d.get(g) for d in by_n.values()}) > 1)
                         for tid, by_n in groups.items()}
        self.distinct: dict[str, dict[int, frozenset[str]]] = {}
        for tid, by_number in words.items():
            # words naming a study, not the patient, never tell variants apart ("CT inconclusive" is a phase)
            common = (set.intersection(*by_number.values()) if len(by_number) > 1 else set()) | lexicon().untelling
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

    def _topic_factor(self, tid: str, note: Reading) -> float:
        """How far the note is in the topic's own frame: its title's phase, onset and population.

        A title that names a phase (screening, follow-up, treatment planning …) or an onset
        (acute, chronic) the note does not share is pushed well back, never out: the note may
        just not say it. A topic for children is pushed back when the note gives no age.
        """
        title = self.title_readings[tid]
        f = 1.0
        tp = title.phases - {"initial"}
        if tp and not (tp & note.phases or ("surveillance" in tp and "follow-up" in note.phases)
                       or ("follow-up" in tp and "surveillance" in note.phases)):
            f *= TITLE_PHASE_PENALTY
        if title.child is True and note.child is None:
            f *= UNSAID_CHILD_PENALTY
        if title.pregnant is True and note.pregnant is None:
            f *= UNSAID_PREGNANT_PENALTY
        if title.qualifiers & STANCES == {"suspected"} and note.qualifiers & STANCES == {"known"}:
            f *= KNOWN_PENALTY  # a topic for a suspected problem, for a note whose problem is known
        if note.child is True and title.child is not True and tid not in self.speaks_of_children:
            f *= UNSAID_CHILD_PENALTY  # a child's note, a topic that never names children
        return f

    def route(self, text: str) -> Route:
        """Route one note (three-valued; never a guess)."""
        note = read(text, note=True)
        q = tokens(affirmed(text), note.terms)
        scores = self.index.get_scores(q) if q else [0.0] * len(self.compiled)
        said = set(q)
        # the patient's own words (not a relative's illness), for telling variants apart
        mine = affirmed(lexicon().respell(" ".join(text.split())), relatives=False)
        own_terms = clinical_terms(mine)
        own = set(tokens(mine, own_terms))
        has = frozenset(own_terms)
        best: dict[str, tuple[float, list[tuple[float, Compiled, bool | None]]]] = {}
        factor: dict[str, float] = {}
        for c, s in zip(self.compiled, scores):
            tid = c.topic.id
            if tid not in factor:
                title = self.title_readings[tid]
                # a topic for children only (its title says so) is never an adult's; an acute one never a chronic problem's
                if population_gate(title, note) is False or described_fits(title, note, frozenset()) is False:
                    factor[tid] = 0.0
                else:
                    tw = self.title_words[tid]
                    cover = len(tw & said) / len(tw) if tw else 0.0
                    factor[tid] = (TITLE_WEIGHT_BASE + cover) * self._topic_factor(tid, note)
                    if note.child is True and title.child is True:
                        factor[tid] *= CHILD_TOPIC_BOOST
            if factor[tid] <= 0:
                continue
            gate = population_gate(c.reading, note)
            if gate is False:
                continue
            top, items = best.setdefault(tid, (0.0, []))
            items.append((float(s), c, gate))
            best[tid] = (max(top, float(s) * factor[tid]), items)
        ranked = self._told_apart(sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0])), said, note)
        if not ranked or ranked[0][1][0] <= 0 or not self._enough(ranked[0][0], ranked[0][1][1], said):
            return Route("no-criteria-apply", None, None, (), (), "no imported topic fits the note", note)
        (tid, (s1, items)), rest = ranked[0], ranked[1:]
        topic = self.pack.topics[tid]
        title = self.title_core[tid] if CORE_COVER else self.title_words[tid]
        covered = len(title & said) / len(title) if title else 0.0
        # a rival is named by what the note says is wrong now, not by its past history
        now = present(lexicon().respell(" ".join(text.split())))
        named = self._named_rivals(tid, ranked, set(tokens(now, clinical_terms(now))))
        close = [t for t, (sc, _i) in rest if sc >= TOPIC_MARGIN * s1]
        # the note says the whole of the first's title and of no close rival's: the first is the problem named
        named_first = covered >= 1.0 and close and not any(self.title_core[t] <= said for t in close)
        if (close and not named_first) or covered < TITLE_COVER or named:
            cands = [(self.pack.topics[t].title, self._choose(t, its, note, own, has)[1][0][0])
                     for t, (_s, its) in ranked[:3] if _s >= CANDIDATE_MARGIN * s1 or t == tid]
            cands += [(self.pack.topics[t].title, self._choose(t, its, note, own, has)[1][0][0])
                      for t, (_s, its) in ranked if t in named][:2]
            cands = list(dict.fromkeys(cands))
            return Route("needs-information", None, None, tuple(cands), (("topic", QUESTIONS["topic"]),),
                         "more than one imported topic fits the note", note)
        status, chosen, missing = self._choose(tid, items, note, own, has)
        if status == "none" and not close:
            return Route("no-criteria-apply", topic, None, (), (), f"no variant of {topic.title} fits the note", note)
        if status == "rated":
            v = next(c.variant for c in self.compiled if c.variant.id == chosen[0][2])
            return Route("rated", topic, v, (), (), "one variant fits", note)
        cands = tuple((topic.title, n) for n, _s, _id in sorted(chosen)) if status != "none" else ()
        if close:
            # the named topic settled nothing: the close topics stay candidates, the named one's variants first
            cands += tuple((self.pack.topics[t].title, self._choose(t, its, note, own, has)[1][0][0])
                           for t, (_s, its) in rest[:2] if t in close)
            return Route("needs-information", None, None, cands, tuple((k, QUESTIONS[k]) for k in missing)
                         + (("topic", QUESTIONS["topic"]),), "more than one imported topic fits the note", note)
        return Route("needs-information", topic, None, cands, tuple((k, QUESTIONS[k]) for k in missing),
                     f"{len(chosen)} variant(s) of {topic.title} could fit", note)

    def _named_rivals(self, first: str, ranked: list, said: set[str]) -> list[str]:
        """Topics whose whole title (its problem's words, two or more) the note says and the first topic never does.

        "PE likely" in a note about a knee replacement names another problem than the
        replacement's: the note is not rated until it says which one the imaging is for.
        """
        own = self.topic_words.get(first, frozenset())
        return [t for t, _ in ranked[1:] if len(self.title_core[t]) >= NAMED_WORDS
                and self.title_core[t] <= said and not self.title_core[t] <= own]

    def _told_apart(self, ranked: list, said: set[str], note: Reading) -> list:
        """The ranking with the close rivals of the first topic that the note's words tell apart by their titles.

        Two close topics whose titles share words are told apart by the words only one of
        them has ("upper" of "Right Upper Quadrant Pain" against "lower" of "Right Lower
        Quadrant Pain"): a rival of the first is moved out of reach when the note says a
        word only the first's title has, none only the rival's has, and no smaller share of
        the first's title than of the rival's. Twin titles that differ by one word each,
        and the same problem written for children and for anyone (for a child's note),
        may also swap the first two.
        """
        if len(ranked) < 2 or ranked[0][1][0] <= 0:
            return ranked
        s1 = ranked[0][1][0]
        core = self.title_core
        (t1, (_s1, i1)), (t2, (sc2, i2)) = ranked[0], ranked[1]

        def for_child(t: str) -> bool:
            return self.title_readings[t].child is True

        def framed(t: str) -> bool:
            # the title names a point in the workup (management, follow-up …) the note does not
            tp = self.title_readings[t].phases - {"initial"}
            return bool(tp) and not tp & note.phases

        def swapped(r: list) -> list:
            # the second topic takes the first's place and score, the first the second's
            (a, (sa, ia)), (b, (sb, ib)) = r[0], r[1]
            return [(b, (sa, ib)), (a, (sb, ia))] + r[2:]

        def twins(a: str, b: str) -> bool:
            return bool(core[a]) and bool(core[b]) and (core[a] <= core[b] or core[b] <= core[a])
        # the same problem with and without a frame ("Imaging of X", "Radiologic Management of X"): the one
        # whose frame the note shares goes first
        if sc2 >= TOPIC_MARGIN * s1 and twins(t1, t2) and framed(t1) and not framed(t2):
            ranked = swapped(ranked)
            (t1, (_s1, i1)), (t2, (sc2, i2)) = ranked[0], ranked[1]
        # the same problem written for children and for anyone: a child's note goes to the children's
        if (sc2 >= TOPIC_MARGIN * s1 and note.child is True and core[t1] == core[t2]
                and for_child(t2) and not for_child(t1)):
            ranked = swapped(ranked)
            (t1, (_s1, i1)), (t2, (sc2, i2)) = ranked[0], ranked[1]
        # twin titles that differ by one word each ("... in Immunocompetent Patients" and "... in Immunocompromised
        # Patients"): the close second goes first when the note says its word and not the first's
        if (sc2 >= TOPIC_MARGIN * s1 and len(core[t1] - core[t2]) == 1 == len(core[t2] - core[t1])
                and (core[t2] - core[t1]) & said and not (core[t1] - core[t2]) & said):
            ranked = swapped(ranked)
        first = ranked[0][0]
        out = []
        for t, (s, its) in ranked[1:]:
            if s < TOPIC_MARGIN * s1:
                break
            if (core[t] & core[first] and (core[first] - core[t]) & said and not (core[t] - core[first]) & said
                    and len(core[first] & said) / len(core[first]) >= len(core[t] & said) / len(core[t])
                    or note.child is True and core[t] == core[first] and for_child(first) and not for_child(t)
                    or twins(first, t) and framed(t) and not framed(first)):
                out.append(t)
        if not out:
            return ranked
        floor = TOPIC_MARGIN * s1 * 0.99  # below the margin: no longer a rival
        moved = set(out)
        lowered = [kv if kv[0] not in moved else (kv[0], (min(kv[1][0], floor), kv[1][1])) for kv in ranked]
        return lowered[:1] + sorted(lowered[1:], key=lambda kv: (-kv[1][0], kv[0]))

    def _choose(self, tid: str, items: list, note: Reading, said: set[str], has: frozenset[str] = frozenset()
                ) -> tuple[str, list[tuple[int, float, str]], list[str]]:
        """The three-valued variant choice within one topic.

        Variants with a false condition, or whose wording excludes a clinical term the note
        has (``has``), are out; a pregnant patient or a child keeps only the variants written
        for them when there are any. The rest are ordered by the words that tell
        this topic's variants apart (then the lexical score). The first is rated when it is
        strictly ahead of the next on those words (or alone) and none of its conditions is
        unknown where the remaining candidates differ; otherwise the close ones are candidates,
        with the conditions that separate them as questions.
        """
        alive = []
        for s, c, gate in items:
            phase, risk = phase_fits(c.reading, note), risk_fits(c.reading, note)
            if phase is False or risk is False:
                continue
            alive.append((s, c, gate, phase, risk))
        if not alive:
            # the phase read from the note rules out every variant: the reading is in doubt, not the topic
            alive = [(s, c, gate, None, risk) for s, c, gate in items
                     for phase, risk in [(phase_fits(c.reading, note), risk_fits(c.reading, note))]
                     if phase is False and risk is not False]
        if not alive:
            first = max(items, key=lambda x: (x[0], -x[1].variant.number))[1]
            return "none", [(first.variant.number, 0.0, first.variant.id)], []
        # a pregnant patient (or a child) is the business of the sibling written for her, over one that never says who
        for who in lexicon().specific_populations:  # concepts.yaml
            if getattr(note, who) is True and any(getattr(a[1].reading, who) is True for a in alive):
                alive = [a for a in alive if getattr(a[1].reading, who) is True]
        # exclusive descriptions that differ among the variants still in play decide between them
        groups: dict[str, set] = {}
        for a in alive:
            for g, vals in a[1].reading.described:
                groups.setdefault(g, set()).add(vals)
        deciding = frozenset(g for g, vs in groups.items()
                             if len(vs) > 1 or any(g not in dict(a[1].reading.described) for a in alive))
        kept = []
        for s, c, gate, phase, risk in alive:
            described = described_fits(c.reading, note, deciding)
            # a variant whose wording excludes what the patient has ("uncomplicated: no diabetes") is not hers
            if described is False or c.excluded & has:
                continue
            kept.append((s, c, {"population": gate, "phase": phase, "risk": risk, "described": described}))
        if not kept:
            kept = [(s, c, {"population": gate, "phase": phase, "risk": risk, "described": None})
                    for s, c, gate, phase, risk in alive]
        elif len(kept) == 1 and len(items) > 1 and all(kept[0][2][k] is not None for k in SETTLED_ALONE):
            # every sibling is ruled out: the one left is the answer, unless who the patient is stays open
            s, c, _st = kept[0]
            return "rated", [(c.variant.number, s, c.variant.id)], []
        distinct = self.distinct[tid]
        told = dict(note.described)
        uncounted = lexicon().uncounted
        # suspected or known tells variants apart when those in play differ on it
        stance = {c.variant.number: c.reading.qualifiers & STANCES for _s, c, _st in kept}
        stances = {frozenset(v) for v in stance.values()}
        levels = {c.reading.risks for _s, c, _st in kept}

        def telling(c: Compiled) -> int:
            # the words that tell it from its siblings, each deciding description the note shares with it,
            # and its stance (suspected, known) when the note takes only that one
            shared = sum(1 for g, vals in c.reading.described
                         if g in deciding and g not in uncounted and told.get(g, frozenset()) & vals)
            mine = stance[c.variant.number]
            stood = len(stances) > 1 and len(mine) == 1 and mine == note.qualifiers & STANCES
            # and the risk level the note gives, where those in play differ on it
            risked = len(levels) > 1 and note.risk is not None and note.risk in c.reading.risks
            return len(distinct[c.variant.number] & said) + DESCRIBED_HIT * (shared + stood + risked)

        hits = sorted(((telling(c), s, c, st) for s, c, st in kept),
                      key=lambda x: (-x[0], -x[1], x[2].variant.number))
        h1, s1 = hits[0][0], hits[0][1]
        # ahead by RATE_LEAD telling words, or by one when the lexical score agrees
        ahead = len(hits) == 1 or h1 > 0 and (h1 >= hits[1][0] + RATE_LEAD
                                              or AGREE and h1 > hits[1][0] and s1 >= max(x[1] for x in hits[1:]))
        first = hits[0]
        if ahead and all(v is not None for v in first[3].values()):
            return "rated", [(first[2].variant.number, first[1], first[2].variant.id)], []
        # far ahead of every sibling, and open only on what the note did not describe (never on who the patient
        # is or the risk): asking would offer this one variant alone
        if (ahead and (len(hits) == 1 or h1 >= hits[1][0] + RATE_LEAD)
                and all(first[3][k] is not None for k in SETTLED_ALONE)):
            return "rated", [(first[2].variant.number, first[1], first[2].variant.id)], []
        if ahead:
            pool = [first]
        else:
            # the variants level on telling words, or one behind the first when it leads by one alone
            pool = [x for x in hits if x[0] >= h1 - (1 if len([x for x in hits if x[0] == h1]) == 1 else 0)] \
                if h1 > 0 else hits
        close = [(c.variant.number, s, c.variant.id) for _h, s, c, _st in pool][:MAX_CANDIDATES]
        missing = sorted({k for _h, _s, _c, st in pool for k, v in st.items() if v is None})
        if len(pool) > 1:
            missing.append("wording")
        return "ask", close, missing


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
