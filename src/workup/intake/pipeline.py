"""The medspaCy pipeline behind the free-text reader, built once per process.

Lean by design: spaCy's blank English tokenizer (``nlp.make_doc``, no model download), a
rule-based sentence splitter, medspaCy's :class:`TargetMatcher` (regex target rules from
``rules/targets.yaml``) and medspaCy's :class:`ConText` (cues from ``rules/context.yaml``).
Overlapping target matches are pruned within a layer only, so a course word ("new") and a
finding ("new weakness") can both be read.

spaCy and medspaCy are imported here, on first use, never when ``workup.intake`` is imported.
"""

from __future__ import annotations

import logging
import re
import threading
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from typing import Any

from workup.intake.lexicon import Lexicon, load_lexicon

_LOCK = threading.Lock()
_PIPELINE: "Pipeline | None" = None
_SENT_END = frozenset({".", "!", "?", ";"})
_NUMBER_WITH_STOP = re.compile(r"^[x×]?\d+(?:\.\d+)?[A-Za-z]{1,4}\.$")
GROUP = "workup_targets"
MATCHED = "workup:matched-tokens"  # doc.user_data key: tokens of every main-layer match before pruning
_SENTINEL = "workup-sentinel"


# categories under which a finding is not the patient's now: no later reading (a dated history, an
# operation's indication, a list carried back) applies to it
_NOT_THE_PATIENTS_NOW = frozenset({"NEGATED_EXISTENCE", "FAMILY", "HYPOTHETICAL"})

def _quiet_pyrush() -> None:
    """PyRuSH logs every sentence at DEBUG level through loguru (to stderr): silence it."""
    try:
        from loguru import logger

        logger.disable("PyRuSH")
    except ImportError:  # pragma: no cover - loguru comes with medspaCy
        pass
    logging.getLogger("PyRuSH").setLevel(logging.WARNING)


@dataclass
class Pipeline:
    """The spaCy language object, target matcher and ConText component."""

    nlp: Any
    matcher: Any
    context: Any
    lexicon: Lexicon

    targets: "RegexTargets | None" = None

    def doc(self, text: str) -> Any:
        """Tokenize, split sentences, match targets (pruned per layer) and apply ConText.

        Raises:
            IntakeError: IN228, the text is over the work budget (:mod:`workup.intake.budget`).
        """
        from workup.intake import budget

        budget.BUDGET.check_text(text)
        text = spoken_marks(text, self.lexicon)
        # a text that ends without a mark ends its last line: "… Fever: N" closes that item
        doc = self.nlp.make_doc(text if text[-1:] in ("", "\n") else text + "\n")
        split_sentences(doc, self.lexicon.answers)
        budget.BUDGET.check_sentences(doc)
        spans = self.targets(doc) if self.targets is not None else self.matcher(doc)
        # tokens some main-layer rule read as a finding, kept or pruned: a list's items
        # ("denies …, legs numb or numb down there": "legs numb" lost to the longer match)
        doc.user_data[MATCHED] = frozenset(
            i for s in spans if s.label_ != _SENTINEL and self.lexicon.by_id[s.label_].layer == "main"
            for i in range(s.start, s.end)
        )
        doc.spans[GROUP] = prune(spans, self.lexicon)
        self.context(doc)
        return doc


class RegexTargets:
    """medspaCy regex :class:`TargetRule` matching, with the text built once per document.

    medspaCy 1.3's ``RegexMatcher`` rebuilds ``doc.text_with_ws`` for every pattern, which
    made target matching cost more than everything else together. This runs the same
    TargetRules' patterns (case-insensitive, as medspaCy does) over the text once each and
    aligns matches to tokens the same way (``tests/unit/test_intake_pipeline.py`` checks it
    finds exactly what medspaCy's TargetMatcher finds on the development scenarios).
    """

    def __init__(self, rules: list[Any]) -> None:
        self.rules = [(r, re.compile(r.pattern, re.IGNORECASE)) for r in rules]

    def __call__(self, doc: Any) -> list[Any]:
        text = doc.text
        out: list[Any] = []
        for rule, pat in self.rules:
            for m in pat.finditer(text):
                a, b = m.span()
                while a < b and text[a].isspace():
                    a += 1
                while b > a and text[b - 1].isspace():
                    b -= 1
                if a >= b:
                    continue
                span = doc.char_span(a, b, label=rule.category, alignment_mode="expand")
                if span is None or not len(span):
                    continue
                span._.target_rule = rule
                out.append(span)
        return out


def categories(span: Any, doc: Any, lexicon: Lexicon) -> set[str]:
    """The ConText categories that really apply to a target span.

    Applies two limits on top of medspaCy's scopes: a terminating cue ("but", "however",
    "now has") between a cue and the target ends the cue's reach (medspaCy 1.3 does not
    apply terminators whose scope contains the cue's); a negation cue is also stopped by a
    verb of having ("no fever, has weakness"), a request cue by what it is for ("requesting
    naproxen for low back pain": context.yaml ``stopped_by``); and a negation does not run across a comma
    into a finding that states its own polarity ("no tenderness, able to rotate"), nor into
    a finding with its own affirmative qualifier (:func:`affirmed_after_comma`).
    """
    mods = span._.modifiers
    if not mods:
        return set()
    # Linear-cost note: the stop lists, clause starts and comma counts are built once per
    # document (doc_index) and looked up by bisection / prefix sums; the tests read the same.
    ix = doc_index(doc, lexicon)
    stops, neg_stops = ix.stops, ix.neg_stops
    spec = lexicon.by_id.get(span.label_)
    list_negation = spec.list_negation if spec is not None else True
    starts = clause_starts(doc, lexicon)
    out: set[str] = set()
    for m in mods:
        a, b = m.modifier_span
        lo, hi = (b, span.start) if a < span.start else (span.end, a)
        if _any_in(stops, lo, hi):  # a t with lo <= t < hi
            continue
        if starts and bisect_right(starts, lo) < bisect_right(starts, hi):  # a t with lo < t <= hi
            continue  # the cue and the finding are in different statements
        if m.category == "NEGATED_EXISTENCE" and a < span.start and _any_in(neg_stops, lo, hi):
            continue
        if (a < span.start and "HYPOTHETICAL_STOP" in _stopped_by(m)
                and _any_in(ix.wish_stops, lo, hi)):
            continue
        if (
            m.category == "NEGATED_EXISTENCE"
            and a < span.start
            and not _inside_headed_list(span, doc, lexicon, doc[a:b].text.lower())
            and affirmed_after_comma(span, doc, lexicon, lo)
        ):
            continue
        if m.category in ("NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE") and not list_negation and lo < hi:
            if ix.commas[hi] - ix.commas[lo] > 0:  # a comma in doc[lo:hi]
                continue
        out.add(m.category)
    return out


def _inside_headed_list(span: Any, doc: Any, lexicon: Lexicon, cue: str) -> bool:
    """Whether ``span`` is a middle item of a list under a negation heading ("ROS negative for fever,
    unintentional weight loss, saddle numbness"): its qualifier is one a list item carries
    (``lists.heading_qualifiers``) and another item follows it after a comma. "Negative for
    numbness, CRP elevated." keeps its elevated CRP: a last item, and not such a qualifier."""
    if cue not in lexicon.list_headings:
        return False
    ix = doc_index(doc, lexicon)
    first = ix.prev_comma[span.start] + 1
    words = {t.lower_ for t in doc[first : span.end]} & lexicon.affirmative
    if not words or not words <= lexicon.heading_qualifiers:
        return False
    return ix.commas[ix.sent_end[span.start]] - ix.commas[span.end] > 0  # a comma after it in its sentence


def _stopped_by(modifier: Any) -> tuple[str, ...]:
    """The stop-cue categories that end ``modifier``'s reach (its rule's ``stopped_by``)."""
    meta = modifier.rule.metadata
    return meta.get("stopped_by", ()) if meta else ()


def _any_in(sorted_ints: list[int], lo: int, hi: int) -> bool:
    """Whether some t of ``sorted_ints`` has lo <= t < hi."""
    return bisect_left(sorted_ints, lo) < bisect_left(sorted_ints, hi)


@dataclass
class DocIndex:
    """Per-document lookups that keep the scope checks linear in the text.

    ``sent_start[i]`` / ``sent_end[i]``: the bounds of token i's sentence; ``commas``,
    ``affirmative`` and ``goes_on``: prefix counts (``x[j] - x[i]`` is the number of such
    tokens in ``doc[i:j]``); ``prev_comma[i]``: the last comma before token i (-1 if none);
    ``stops`` / ``neg_stops`` / ``wish_stops``: sorted first tokens of terminating, NEGATION_STOP and
    HYPOTHETICAL_STOP cues.
    """

    sent_start: list[int]
    sent_end: list[int]
    sentences: list[Any]
    sent_of: list[int]
    commas: list[int]
    affirmative: list[int]
    goes_on: list[int]
    prev_comma: list[int]
    stops: list[int]
    neg_stops: list[int]
    wish_stops: list[int]


def doc_index(doc: Any, lexicon: Lexicon) -> DocIndex:
    """The :class:`DocIndex` of ``doc``, built on first use (kept in ``doc.user_data``)."""
    key = "workup:doc-index"
    got = doc.user_data.get(key)
    if got is not None:
        return got
    n = len(doc)
    sent_start, sent_end, sent_of = [0] * n, [0] * n, [0] * n
    sentences = list(doc.sents)
    for k, sent in enumerate(sentences):
        for i in range(sent.start, sent.end):
            sent_start[i], sent_end[i], sent_of[i] = sent.start, sent.end, k
    commas, affirmative, goes_on, prev_comma = [0] * (n + 1), [0] * (n + 1), [0] * (n + 1), [-1] * (n + 1)
    last = -1
    for tok in doc:
        i, low = tok.i, tok.lower_
        prev_comma[i] = last
        is_comma = tok.text == ","
        commas[i + 1] = commas[i] + is_comma
        affirmative[i + 1] = affirmative[i] + (low in lexicon.affirmative)
        goes_on[i + 1] = goes_on[i] + (low in lexicon.list_goes_on)
        if is_comma:
            last = i
    prev_comma[n] = last
    graph = doc._.context_graph if doc.has_extension("context_graph") else None
    modifiers = graph.modifiers if graph is not None else []
    stops = sorted(m.modifier_span[0] for m in modifiers if m.direction == "TERMINATE")
    neg_stops = sorted(m.modifier_span[0] for m in modifiers if m.category == "NEGATION_STOP")
    wish_stops = sorted(m.modifier_span[0] for m in modifiers if m.category == "HYPOTHETICAL_STOP")
    got = doc.user_data[key] = DocIndex(
        sent_start, sent_end, sentences, sent_of, commas, affirmative, goes_on, prev_comma, stops, neg_stops,
        wish_stops,
    )
    return got


def clause_starts(doc: Any, lexicon: Lexicon) -> tuple[int, ...]:
    """Token indices where a new statement starts after a comma: "denies trauma, known lung cancer",
    "her mother had breast cancer, 45F with back pain" (``clauses`` in context.yaml).

    Computed once per document (kept in ``doc.user_data``).
    """
    key = "workup:clause-starts"
    got = doc.user_data.get(key)
    if got is not None:
        return got
    after, pattern = lexicon.clause_after, lexicon.clause_pattern
    words, negations = lexicon.clause_starts, lexicon.clause_negations
    candidates: list[int] = []
    if after:
        for tok in doc[1:]:
            low = tok.lower_
            if doc[tok.i - 1].text in after and (
                low in words or low in negations or (pattern is not None and pattern.fullmatch(tok.text))
            ):
                candidates.append(tok.i)
    # A statement runs to the next start that stands (a new negation always stands), and a list
    # that goes on with "or" / "nor" within it is still one statement: decided from the last start back.
    found: list[int] = []
    bounds: list[int] = []  # starts that end the statement before them, nearest first
    ix = doc_index(doc, lexicon)
    for i in reversed(candidates):
        end = ix.sent_end[i]
        if bounds and bounds[-1] < end:
            end = bounds[-1]
        goes_on = ix.goes_on[end] - ix.goes_on[i] > 0  # a list_goes_on word in doc[i:end] (prefix counts: linear)
        if not goes_on:
            found.append(i)
        if not goes_on or doc[i].lower_ in negations:
            bounds.append(i)
    got = doc.user_data[key] = tuple(sorted(found))
    return got


def affirmed_after_comma(span: Any, doc: Any, lexicon: Lexicon, lo: int | None = None) -> bool:
    """Whether a negation before a comma stops short of ``span``: "No fever, elevated CRP".

    NegEx/ConText scopes run ~12 tokens and swallow the next finding; clinicians' asyndetic
    lists mix negated and positive items. A finding whose own words after the last comma
    before it (between ``lo``, the end of the negation cue, and the finding) include an
    affirmative qualifier (``AFFIRMATIVE`` in context.yaml: "elevated", "positive", "new" …,
    also after "with") is a new, affirmed item, unless the negated list plainly goes on: a
    ``lists.goes_on`` word of context.yaml ("or", "nor") between that comma and the finding or
    after it in the sentence ("denies fever, new weakness or numbness" stays negated throughout).
    """
    if not lexicon.affirmative:
        return False
    # Linear-cost note: the scans below are prefix-count and bisection look-ups in the
    # document's DocIndex (same answers as scanning the tokens, without a pass per finding).
    ix = doc_index(doc, lexicon)
    sent_end = ix.sent_end[span.start]
    start = ix.sent_start[span.start] if lo is None else lo
    last_comma = ix.prev_comma[span.start]  # the last comma before the finding
    if last_comma < start:
        return False
    first = last_comma + 1
    if ix.affirmative[span.end] - ix.affirmative[first] <= 0:
        return False
    # "or" inside the finding ("elevated ESR or CRP") joins its own words; anywhere else,
    # including a trailing one the match took in, it continues the negated list.
    inside_lo, inside_hi = span.start + 1, span.end - 1
    # the negated list goes on only up to where the next statement starts ("…, 60M with …, no arm or leg …")
    starts = clause_starts(doc, lexicon)
    k = bisect_right(starts, span.end)
    end = starts[k] if k < len(starts) else sent_end
    end = min(end, sent_end)

    def goes_on(a: int, b: int) -> int:
        return ix.goes_on[b] - ix.goes_on[a] if a < b else 0

    return goes_on(first, end) - goes_on(max(first, inside_lo), min(end, inside_hi)) <= 0


def extend_negated_lists(spans: list[Any], cats: list[set[str]], doc: Any, lexicon: Lexicon) -> list[set[str]]:
    """Carry a negation (or a return-if / worry cue) along a list of findings: "denies numbness,
    tingling, weakness, trauma".

    ConText scopes count tokens, so a long list outruns them. A finding joined to a negated
    finding of the same sentence by nothing but the list words of ``context.yaml`` (commas,
    "or", "and", articles …), words some rule read as a finding (kept or lost to a longer
    overlapping match) and whole short items no rule reads (:func:`_unread_items`) is negated too
    (findings that state their own polarity, such as "able to rotate", are not).
    """
    ix, starts = doc_index(doc, lexicon), clause_starts(doc, lexicon)  # linear look-ups, see DocIndex
    covered: set[int] = set(doc.user_data.get(MATCHED, ()))  # read as findings, pruned or not
    for s in spans:
        covered.update(range(s.start, s.end))
    main = [i for i, s in enumerate(spans) if lexicon.by_id[s.label_].layer == "main"]
    for prev, cur in zip(main, main[1:]):
        a, b = spans[prev], spans[cur]
        # a negation, or a return-if / worry, carries along its list ("return if numbness in the
        # saddle area, trouble passing urine or any leg weakness")
        carried = "NEGATED_EXISTENCE" if "NEGATED_EXISTENCE" in cats[prev] else (
            "HYPOTHETICAL" if "HYPOTHETICAL" in cats[prev] else None)
        if carried is None or carried in cats[cur] or "NEGATED_EXISTENCE" in cats[cur]:
            continue
        if not lexicon.by_id[b.label_].list_negation or cats[cur] & {"FAMILY", "HYPOTHETICAL"}:
            continue
        if ix.sent_start[a.start] != ix.sent_start[b.start] or b.start < a.end:
            continue
        if affirmed_after_comma(b, doc, lexicon, a.end):
            continue
        if bisect_right(starts, a.end) < bisect_right(starts, b.start):  # a start t, a.end < t <= b.start
            continue  # a new statement, not the list's next item
        gap = range(a.end, b.start)
        unread = _unread_items(gap, doc, lexicon)
        if all(i in covered or i in unread or doc[i].lower_ in lexicon.list_glue for i in _listed(gap, doc, lexicon)):
            cats[cur] = cats[cur] | {carried}
    # An answer after the second of two findings joined by nothing but a close joiner ("Fever / night
    # sweats: no", "fever or rigors - no") answers the first too: the negation carries back.
    for prev, cur in reversed(list(zip(main, main[1:]))):
        a, b = spans[prev], spans[cur]
        if "NEGATED_EXISTENCE" not in cats[cur] or cats[prev] & _NOT_THE_PATIENTS_NOW:
            continue
        if not lexicon.by_id[a.label_].list_negation or b.start <= a.end or ix.sent_start[a.start] != ix.sent_start[b.start]:
            continue
        gap = range(a.end, b.start)
        if all(doc[i].lower_ in lexicon.list_back for i in gap):  # b.start > a.end: the gap has a token
            cats[prev] = cats[prev] | {"NEGATED_EXISTENCE"}
    return cats


_ITEM_SEPARATORS = frozenset({",", "/", "or", "nor"})
_UNREAD_ITEM = 3  # words of a whole list item no rule reads ("denies fever, bowel/bladder sx, CA hx, IVDU")


def _unread_items(gap: range, doc: Any, lexicon: Lexicon) -> set[int]:
    """Tokens of the gap that are whole list items no rule reads: a run of up to three words with a
    separator (comma, "/", "or", "nor") on both sides, no affirmative qualifier and nothing but
    letters — "denies fever/chills, wt loss, bowel/bladder sx, saddle numbness, CA hx, IVDU" is one
    list to its end. A run that runs into the next finding ("no trauma, woke with LBP") is not an
    item of its own and still breaks the list."""
    out: set[int] = set()
    run: list[int] = []
    for i in gap:
        low = doc[i].lower_
        if low in _ITEM_SEPARATORS:
            if run and len(run) <= _UNREAD_ITEM and doc[run[0] - 1].lower_ in _ITEM_SEPARATORS and all(
                doc[k].is_alpha and doc[k].lower_ not in lexicon.affirmative for k in run
            ):
                out.update(run)
            run = []
        else:
            run.append(i)
    return out


_UNREAD_COORDINATE = 2  # words of an unread item joined by "or" to the next finding ("bowel or bladder …")


def _listed(gap: range, doc: Any, lexicon: Lexicon) -> range:
    """The part of the gap between two findings that must be list words: all of it, except an item
    no rule reads, of up to two words, joined by a ``lists.goes_on`` word ("or", "nor") to the next
    finding — "negative for …, bowel or bladder incontinence", "nil gait change or hand clumsiness"."""
    if len(gap) < 2 or doc[gap[-1]].lower_ not in lexicon.list_goes_on:
        return gap
    lo = gap[-1]
    while lo > gap[0] and gap[-1] - lo < _UNREAD_COORDINATE and doc[lo - 1].lower_ not in lexicon.list_glue \
            and doc[lo - 1].is_alpha:
        lo -= 1
    return range(gap[0], lo)


def date_history(
    spans: list[Any], cats: list[set[str]], doc: Any, lexicon: Lexicon, as_of_year: int | None = None
) -> list[set[str]]:
    """Make a finding history when its clause dates it years back: "had pneumonia 4 years ago, fully
    treated" (``dated_history`` in context.yaml), or, with the consultation year, names a year at
    least two years before it: "RTA 2006 with whiplash", "#L wrist 2012 (fell skiing)".

    The cue "years ago" overlaps the duration target ("4 years") and medspaCy prunes it, so the
    reader applies it: a main-layer finding followed in its clause (up to a comma, a semicolon or the
    sentence's end) by a value-layer duration in those units and then "ago". A past year dates the
    findings of its clause on either side of it; "since 2019" does not (it is how long the complaint
    has lasted), nor a year just after an operation ("non-union after ACDF in 2023": the operation's).
    """
    if not lexicon.dated_history:
        return cats
    dated: list[int] = []  # token index where each dating duration starts
    for s in spans:
        spec = lexicon.by_id[s.label_]
        if spec.layer != "value" or s.end >= len(doc) or doc[s.end].lower_ != "ago":
            continue
        unit = s[-1].lower_.rstrip(".")
        if unit in lexicon.dated_history or any(unit.endswith(u) and unit[: -len(u)].isdigit() for u in lexicon.dated_history):
            dated.append(s.start)
    years = _past_years(spans, doc, lexicon, as_of_year)
    if not dated and not years:
        return cats
    out = list(cats)
    # The nearest dating duration at or after the finding decides (any later one has the same
    # clause break or sentence end before it): bisection and prefix counts keep this linear.
    dated.sort()
    ix = doc_index(doc, lexicon)
    breaks = [0] * (len(doc) + 1)
    for tok in doc:
        breaks[tok.i + 1] = breaks[tok.i] + (tok.text in (",", ";"))
    for k, s in enumerate(spans):
        if lexicon.by_id[s.label_].layer != "main" or cats[k] & _NOT_THE_PATIENTS_NOW:
            continue
        j = bisect_left(dated, s.end)
        if j < len(dated) and dated[j] < ix.sent_end[s.start] and breaks[dated[j]] == breaks[s.end]:
            out[k] = cats[k] | {"ENDED"}  # over and done: history (text._status)
        elif years:
            # the past year nearest the finding on each side, within its sentence and clause
            a = bisect_left(years, s.end)
            after = years[a] if a < len(years) else None
            b = bisect_left(years, s.start) - 1
            before = years[b] if b >= 0 else None
            if (after is not None and after < ix.sent_end[s.start] and breaks[after] == breaks[s.end]) or (
                before is not None and before >= ix.sent_start[s.start] and breaks[before + 1] == breaks[s.start]
            ):
                out[k] = cats[k] | {"ENDED"}  # over and done: history (text._status)
    return out


def indication_history(spans: list[Any], cats: list[set[str]], doc: Any, lexicon: Lexicon) -> list[set[str]]:
    """Make history what an operation was done for: "4 months post T10-L2 fusion for T12 burst
    fracture (fall from roof)" — the fall is the operation's reason, not a new injury
    (``indication`` in context.yaml). The reach runs from the indication word after a surgery
    mention to a stop word ("with", "now": "s/p fusion for stenosis with new weakness"), a comma, a
    semicolon or the sentence's end, at most ``max_tokens`` tokens.
    """
    rule = lexicon.indication
    if rule is None:
        return cats
    ix = doc_index(doc, lexicon)
    reach: list[tuple[int, int]] = []
    for k, s in enumerate(spans):
        if lexicon.by_id[s.label_].surgery is None or cats[k] & _NOT_THE_PATIENTS_NOW:
            continue
        i = s.end
        if i >= len(doc) or doc[i].lower_ not in rule.words:
            continue
        end = i + 1
        limit = min(ix.sent_end[s.start], i + 1 + rule.max_tokens)
        while end < limit and doc[end].text not in (",", ";") and doc[end].lower_ not in rule.stops:
            end += 1
        reach.append((i + 1, end))
    if not reach:
        return cats
    out = list(cats)
    for k, s in enumerate(spans):
        if lexicon.by_id[s.label_].layer == "main" and any(a <= s.start and s.end <= b for a, b in reach):
            out[k] = cats[k] | {"HISTORICAL"}
    return out


def _past_years(spans: list[Any], doc: Any, lexicon: Lexicon, as_of_year: int | None) -> list[int]:
    """Token indices of the written years that date their clause (``dated_years`` in context.yaml)."""
    rule = lexicon.dated_years
    if rule is None or as_of_year is None:
        return []
    not_after = {w.lower() for w in rule.not_after}
    operated = {i for s in spans if lexicon.by_id[s.label_].surgery is not None for i in range(s.start, s.end)}
    out = []
    for tok in doc:
        t = tok.text.strip("()[],.;")
        if not (len(t) == 4 and t.isdigit() and t[:2] in ("19", "20") and int(t) <= as_of_year - rule.min_years_back):
            continue
        if tok.i > 0 and doc[tok.i - 1].lower_ in not_after:
            continue
        if any(i in operated for i in range(tok.i - rule.after_operation, tok.i)):
            continue
        out.append(tok.i)
    return out


_CLOSERS = frozenset({'"', "'", "\u201d", "\u2019", ")", "]"})


def spoken_marks(text: str, lexicon: Lexicon) -> str:
    """The text with punctuation said aloud written as marks ("sitting period no fevers" → "sitting.
    no fevers"), when it says enough of them to be a dictation (``spoken_marks`` in context.yaml).

    Each word is replaced by its mark padded with spaces to the word's length, so every character
    offset (the evidence of a fact) still points into the text as written.
    """
    sm = lexicon.spoken_marks
    if sm is None:
        return text
    hits = [
        m for m in sm.found.finditer(text)
        if not (sm.keep_after and sm.keep_after.search(text, max(0, m.start() - 40), m.start()))
        and not (sm.keep_before and sm.keep_before.match(text[m.end(): m.end() + 40]))
    ]
    if len(hits) < sm.min_count:
        return text
    out, last = [], 0
    for m in hits:
        mark = sm.marks[" ".join(m.group(0).lower().split())]
        out += [text[last: m.start()], mark.ljust(m.end() - m.start())]
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def split_sentences(doc: Any, answers: frozenset[str] = frozenset()) -> None:
    """Mark sentence starts after ``. ! ? ;`` followed by a space (or by a closing quote or bracket and
    then a space), and at blank lines.

    A number with a short unit or sex letter keeps its full stop in one token ("44M.", "3d."):
    that full stop ends a sentence too ("No trauma, 44M. Physio ongoing."). A question mark
    followed by a checklist answer of ``answers`` ("Trauma? N.", "Previous cancer? No") does
    not: the answer closes its question.
    """
    import numpy
    from spacy.attrs import SENT_START

    # Set in one array: Token.is_sent_start's setter scans the whole doc each time (quadratic).
    marks: list[int] = []
    start = True
    ended = False  # the last token ended a sentence with no space after it: a closing quote may follow
    for tok in doc:
        marks.append(1 if start else -1)
        t = tok.text
        ends = t in _SENT_END or _NUMBER_WITH_STOP.match(t) is not None
        if t == "?" and tok.i + 1 < len(doc) and doc[tok.i + 1].lower_ in answers:
            ends = False
        # a quotation or a bracket closed after its full stop ends the sentence with it: '... a film." 49F'
        if ended and t in _CLOSERS:
            ends = True
        start = (ends and (bool(tok.whitespace_) or tok.i + 1 == len(doc))) or (tok.is_space and "\n" in t)
        ended = ends and not start
    if marks:
        doc.from_array([SENT_START], numpy.array(marks, dtype="int64").astype("uint64").reshape(-1, 1))


def prune(spans: list[Any], lexicon: Lexicon) -> list[Any]:
    """Keep the longest non-overlapping matches within each layer; order by position."""
    by_layer: dict[str, list[Any]] = {}
    for s in spans:
        if s.label_ == _SENTINEL:
            continue
        by_layer.setdefault(lexicon.by_id[s.label_].layer, []).append(s)
    kept: list[Any] = []
    for layer in sorted(by_layer):
        # The taken matches never overlap, so one neighbour each side decides an overlap
        # (bisection over their sorted starts instead of a scan of all: linear-ish in the matches).
        taken_starts: list[int] = []
        taken_end: dict[int, int] = {}
        for s in sorted(by_layer[layer], key=lambda s: (-(s.end_char - s.start_char), s.start_char, s.label_)):
            k = bisect_left(taken_starts, s.end)  # taken matches starting before s ends: [:k]
            if k and taken_end[taken_starts[k - 1]] > s.start:
                continue
            insort(taken_starts, s.start)
            taken_end[s.start] = s.end
            kept.append(s)
    kept.sort(key=lambda s: (s.start_char, s.end_char, s.label_))
    return kept


def get_pipeline(fact_ids: frozenset[str] | None = None) -> Pipeline:
    """Return the process-wide pipeline, building it on first use (thread-safe)."""
    global _PIPELINE
    if _PIPELINE is not None:
        return _PIPELINE
    with _LOCK:
        if _PIPELINE is None:
            _PIPELINE = _build(load_lexicon(fact_ids))
    return _PIPELINE


def _item_end_pattern(nlp: Any, literal: str) -> list[dict[str, Any]]:
    """The token pattern of a checklist cue: its words, then a punctuation mark or a line break
    (one item a line: "Trauma: N\nFever: N") unless it ends in a mark."""
    tokens = [t.lower_ for t in nlp.make_doc(literal)]
    pattern: list[dict[str, Any]] = [{"LOWER": t} for t in tokens]
    if not tokens[-1].endswith((".", ",", ";", ":", "!", "?")):
        # (not ">": "blocks -> RFA" is an arrow, not a "-" answer; not "?": "if indicated - ? imaging" goes
        # on to a question)
        # (or a run of spaces: a checklist laid out in columns, "Fever x   Wt loss x   Trauma x";
        # spaCy keeps the first space with the word, so two spaces leave a token of one)
        pattern.append({"TEXT": {"REGEX": r"^(?:(?![>?])[^\w\s]+|\s*\n\s*|[ \t]+)$"}})
    return pattern


def _build(lexicon: Lexicon) -> Pipeline:
    _quiet_pyrush()
    import medspacy.context.context as medspacy_context
    import spacy
    from medspacy.context import ConText, ConTextRule
    from medspacy.target_matcher import TargetMatcher, TargetRule

    from workup.intake.context_graph import LinearContextGraph

    # ConText builds its graph by this name: ours builds the same graph without comparing
    # every cue with every other cue and target of the note (quadratic; see context_graph.py).
    medspacy_context.ConTextGraph = LinearContextGraph

    from workup.intake.tokenizer import linear_suffixes

    nlp = linear_suffixes(spacy.blank("en"))  # same tokens, linear in a long chunk (tokenizer.py)
    target_rules = [TargetRule(t.id, t.id, pattern=t.pattern) for t in lexicon.targets]
    matcher = TargetMatcher(nlp, result_type=None, prune=False)
    matcher.add(target_rules)
    # Every target rule is a regex; one token pattern that cannot match keeps spaCy's token
    # matcher from warning (W036, "no patterns") on every call.
    matcher.add(TargetRule(_SENTINEL, _SENTINEL, pattern=[{"TEXT": "\u2063\u2063\u2063"}]))
    # prune_on_target_overlap is what medspaCy 1.3 passes on as "drop a cue that overlaps a
    # target" (so "no" inside "CT showed no fracture" is part of the finding, not a negation).
    context = ConText(
        nlp, rules=None, input_span_type="group", span_group_name=GROUP, prune_on_target_overlap=True
    )
    rules = []
    for c in lexicon.context:
        kwargs: dict[str, Any] = {"direction": c.direction}
        if c.category == "AFFIRMATIVE":
            continue  # read by categories(), not a ConText cue
        if c.max_scope is not None and c.direction not in ("TERMINATE", "PSEUDO"):
            kwargs["max_scope"] = c.max_scope
        if c.item_end:
            kwargs["pattern"] = _item_end_pattern(nlp, c.literal)
        if c.stopped_by:
            kwargs["metadata"] = {"stopped_by": c.stopped_by}
        rules.append(ConTextRule(c.literal, c.category, **kwargs))
    rules.append(ConTextRule(_SENTINEL, "PSEUDO", pattern=[{"TEXT": "\u2063\u2063\u2063"}], direction="PSEUDO"))
    context.add(rules)
    return Pipeline(nlp, matcher, context, lexicon, RegexTargets(target_rules))
