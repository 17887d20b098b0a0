"""The speed-ups of the reader change no reading, and the cost of a text grows linearly.

- ``LinearContextGraph`` (src/workup/intake/context_graph.py) links exactly the modifiers
  and targets medspaCy's ``ConTextGraph`` links, with the same scopes, on generated notes
  dense with negation, hypothetical, family, history and terminating cues;
- the tokenizer's tail suffix search (src/workup/intake/tokenizer.py) gives spaCy's tokens;
- the suffix search's work on a run of commas is linear in the run (it was quadratic);
- the work budget refuses what is left with IN228.
"""

from __future__ import annotations


import medspacy.context.context as medspacy_context
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from medspacy.context.context_graph import ConTextGraph

from workup.errors import IntakeError
from workup.intake import budget
from workup.intake.context_graph import LinearContextGraph
from workup.intake.lexicon import load_lexicon
from workup.intake.pipeline import GROUP, get_pipeline, prune, split_sentences
from workup.intake.text import read
from workup.intake.tokenizer import TailSearch
from workup.kb import load

KB = load()
LEX = load_lexicon(frozenset(KB.facts))
PIPE = get_pipeline(frozenset(KB.facts))
CUES = sorted({c.literal for c in LEX.context})  # every cue of context.yaml, its literals and its combinations
FINDINGS = sorted({x for t in LEX.targets for x in t.examples})
FILLER = ["the patient", "today", "and", "or", "with", "since", "for 3 weeks", "at C5-C6", "pain", "but"]
PUNCT = [" ", " ", " ", ", ", ". ", "; ", "\n", " - "]


def _doc(text: str, graph: type):
    """The pipeline's doc of ``text`` with ConText run on ``graph`` (medspaCy's or ours)."""
    saved = medspacy_context.ConTextGraph
    medspacy_context.ConTextGraph = graph
    try:
        doc = PIPE.nlp.make_doc(text)
        split_sentences(doc)
        spans = PIPE.targets(doc) if PIPE.targets is not None else PIPE.matcher(doc)
        doc.spans[GROUP] = prune(spans, LEX)
        PIPE.context(doc)
    finally:
        medspacy_context.ConTextGraph = saved
    return doc


def _links(doc) -> tuple:
    g = doc._.context_graph
    mods = tuple((m.modifier_span, m.scope_span, m.category, m.direction) for m in g.modifiers)
    edges = tuple(((t.start, t.end, t.label_), m.modifier_span, m.category) for t, m in g.edges)
    per_target = tuple(
        ((s.start, s.end, s.label_), tuple((m.modifier_span, m.category) for m in s._.modifiers)) for s in doc.spans[GROUP]
    )
    return mods, edges, per_target


piece = st.one_of(st.sampled_from(CUES), st.sampled_from(FINDINGS), st.sampled_from(FILLER))
notes = st.lists(st.tuples(piece, st.sampled_from(PUNCT)), min_size=1, max_size=40).map(
    lambda xs: "".join(p + sep for p, sep in xs).strip() or "pain"
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(notes)
@example("Denies fever, no weight loss or night pain but her mother had breast cancer. Return if leg weakness.")
@example("no no no no numbness no no weakness, no no")
@example("No trauma. Family history of myeloma; worried it could be cancer. Previously had TB, no fever")
def test_linear_graph_links_exactly_what_medspacy_links(text: str) -> None:
    assert _links(_doc(text, LinearContextGraph)) == _links(_doc(text, ConTextGraph))


def test_linear_graph_matches_medspacy_on_a_long_dense_note() -> None:
    text = " ".join(f"{c} {f}," for c, f in zip(CUES * 3, FINDINGS * 3))[:20_000]
    ours, theirs = _links(_doc(text, LinearContextGraph)), _links(_doc(text, ConTextGraph))
    assert ours == theirs
    assert ours[1], "the note links some cue to some finding"



def _plain_tokens(text: str) -> list[str]:
    """spaCy's own tokens (the tokenizer's suffix search unwrapped)."""
    tok = PIPE.nlp.tokenizer
    wrapped = tok.suffix_search
    assert isinstance(wrapped, TailSearch)
    tok.suffix_search = wrapped.search
    try:
        return [t.text for t in PIPE.nlp.make_doc(text)]
    finally:
        tok.suffix_search = wrapped


runs = st.text(alphabet=list(",.;:-()'\"%!?/aeC15 xy°"), min_size=0, max_size=400)


@settings(max_examples=150, deadline=None)
@given(runs)
@example("." * 300)
@example("pain" + "," * 200 + "...")
@example("-".join(f"C{i % 7 + 1}" for i in range(100)))
@example("x" * 90 + "'s")
@example("," * 80 + "5km.")
def test_tail_suffix_search_gives_spacys_tokens(text: str) -> None:
    assert [t.text for t in PIPE.nlp.make_doc(text)] == _plain_tokens(text)


def test_suffix_search_work_is_linear_in_a_run_of_commas() -> None:
    tok = PIPE.nlp.tokenizer
    wrapped = tok.suffix_search
    searched = {"chars": 0}

    def counting(s: str):
        searched["chars"] += len(s)
        return wrapped.search(s)

    tok.suffix_search = TailSearch(counting, wrapped.window)
    try:
        work = {}
        for n in (2_000, 4_000):
            searched["chars"] = 0
            PIPE.nlp.make_doc("pain" + "," * n)
            work[n] = searched["chars"]
    finally:
        tok.suffix_search = wrapped
    # linear: twice the commas, about twice the characters searched (quadratic would be 4x)
    assert work[4_000] < 2.2 * work[2_000]
    assert work[4_000] < 100 * 4_000


@pytest.mark.parametrize(
    "text",
    ["neck pain" + "," * 20_000, "neck pain after surgery at " + "-".join(f"C{i % 7 + 1}" for i in range(10_000))[:30_000],
     "neck pain " + "no " * 10_000],
)
def test_over_budget_is_refused_with_in228(text: str) -> None:
    import workup.intake.text as T

    limit, T.MAX_CHARS = T.MAX_CHARS, 10**9
    try:
        with pytest.raises(IntakeError) as e:
            read(text, KB)
    finally:
        T.MAX_CHARS = limit
    assert e.value.code == "IN228"
    assert "too long or too unusual" in e.value.message


def test_budget_is_far_above_a_typed_note() -> None:
    note = ("58-year-old man, two years after C5-C6 ACDF, with a month of neck pain, denies fever or weight loss. " * 150)
    assert len(note) < 20_000
    assert read(note, KB).facts  # read, not refused
    assert budget.BUDGET.max_run_chars is not None and budget.BUDGET.max_run_chars < 1_000
