"""Three-valued (Kleene) evaluation of criterion trees over patient facts.

A result is ``True``, ``False`` or ``None`` (unknown). Alongside the value, evaluation
returns the facts that made it unknown (what to ask) and the leaves that decided it
(the "why" shown in the trace).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import NamedTuple, TypeVar

from workup.errors import EvaluationError
from workup.kb.load import KnowledgeBase
from workup.kb.schema import (
    AgeRange,
    AllOf,
    AnyOf,
    Criterion,
    DurationRange,
    FactIs,
    NotOf,
    NumberRange,
    RefTo,
    duration_days,
)
from workup.types import Fact, Facts

Tri = bool | None
K = TypeVar("K")
V = TypeVar("V")
_EMPTY: frozenset[str] = frozenset()
_MAX_REF_DEPTH = 32


class Outcome(NamedTuple):
    """The result of evaluating one criterion."""

    value: Tri
    unknown: frozenset[str]  # facts whose absence left the result unknown
    because: tuple[str, ...]  # leaves that decided the result, as "fact=value" text


def _fmt(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


# A compiled criterion: (fact lookup, unknown_inputs, memo of named criteria or None, ref depth) → Outcome.
Lookup = Callable[[str], Fact | None]
Compiled = Callable[[Lookup, dict[str, frozenset[str]], 'dict[str, Outcome] | None', int], Outcome]


class CriteriaEvaluator:
    """Evaluates criteria against one set of resolved facts.

    Criterion trees are compiled once per knowledge base into nested closures (see
    :func:`compiled`); evaluation then costs a few function calls per node.

    Args:
        kb: the knowledge base (for named criteria).
        facts: resolved facts (given, derived and assumed).
        unknown_inputs: for derived facts that stayed unknown, the base facts behind them,
            so that questions ask for what a clinician can answer.
        fixed: the facts (and unknown inputs) will not change while this evaluator is used;
            named criteria are then evaluated once each.
    """

    __slots__ = ("kb", "facts", "unknown_inputs", "_get", "_memo")

    def __init__(
        self,
        kb: KnowledgeBase,
        facts: Facts,
        unknown_inputs: dict[str, frozenset[str]] | None = None,
        *,
        fixed: bool = False,
    ):
        self.kb = kb
        self.facts = facts
        self.unknown_inputs = unknown_inputs if unknown_inputs is not None else {}
        self._get: Lookup = facts.lookup() if isinstance(facts, Facts) else facts.get
        # With facts that will not change (``fixed``), a named criterion's outcome is the same
        # every time it is referred to, so it is evaluated once. Resolution adds facts as it
        # goes and must not memoise.
        self._memo: dict[str, Outcome] | None = {} if fixed else None

    @property
    def lookup(self) -> Lookup:
        """Fact id → :class:`Fact` or ``None``, as criteria see the facts."""
        return self._get

    def evaluate(self, c: Criterion) -> Outcome:
        """Evaluate ``c`` and return its three-valued outcome."""
        return compiled(self.kb, c)(self._get, self.unknown_inputs, self._memo, 0)

    def run(self, fn: Compiled) -> Outcome:
        """Evaluate an already compiled criterion (see :func:`compiled`): for per-pack plans."""
        return fn(self._get, self.unknown_inputs, self._memo, 0)


def compiled(kb: KnowledgeBase, c: Criterion) -> Compiled:
    """The compiled form of ``c`` for ``kb`` (compiled on first use, then cached on the pack)."""
    cache: dict[int, tuple[Criterion, Compiled]] = kb.cache.setdefault("criteria", {})
    hit = cache.get(id(c))
    if hit is not None and hit[0] is c:
        return hit[1]
    fn = _compile(kb, c)
    cache[id(c)] = (c, fn)  # keeps ``c`` alive, so its id cannot be reused while cached
    return fn


def _compile(kb: KnowledgeBase, c: Criterion) -> Compiled:
    if isinstance(c, FactIs):
        return _compile_fact(c)
    if isinstance(c, (AllOf, AnyOf)):
        decisive = isinstance(c, AnyOf)
        junction = _compile_junction(tuple(_compile(kb, child) for child in c.of), decisive)
        if all(isinstance(child, FactIs) and child.equals is None and child.in_ is None for child in c.of):
            return _compile_flags(c.of, decisive, junction)  # type: ignore[arg-type]
        return junction
    if isinstance(c, NotOf):
        inner = _compile(kb, c.of)

        def not_(get: Lookup, ui: dict[str, frozenset[str]], memo: dict[str, Outcome] | None, depth: int) -> Outcome:
            o = inner(get, ui, memo, depth)
            return Outcome(None if o.value is None else not o.value, o.unknown, o.because)

        return not_
    if isinstance(c, AgeRange):
        return _compile_range("age", c.gte, c.lt)
    if isinstance(c, NumberRange):
        return _compile_range(c.fact, c.gte, c.lt)
    if isinstance(c, DurationRange):
        lo = duration_days(c.gte) if c.gte is not None else None
        hi = duration_days(c.lt) if c.lt is not None else None
        return _compile_range(c.fact, lo, hi)
    if isinstance(c, RefTo):
        return _compile_ref(kb, c.ref)
    raise EvaluationError(f"unsupported criterion {type(c).__name__}", code="EV303")  # pragma: no cover


def _compile_junction(children: tuple[Compiled, ...], decisive: bool) -> Compiled:
    """Kleene ``all`` (``decisive=False``: one false child decides) or ``any`` (``decisive=True``)."""

    def junction(get: Lookup, ui: dict[str, frozenset[str]], memo: dict[str, Outcome] | None, depth: int) -> Outcome:
        unknown: frozenset[str] | None = None
        because: list[str] = []
        for child in children:
            o = child(get, ui, memo, depth)
            v = o[0]
            if v is decisive:
                return o  # a decided child's outcome has no unknowns: it is the junction's outcome
            if v is None:
                unknown = o[1] if unknown is None else unknown | o[1]
            else:
                because += o[2]
        if unknown is not None:
            return Outcome(None, unknown, tuple(because))
        return Outcome(not decisive, _EMPTY, tuple(because))

    return junction


def _compile_flags(leaves: list[FactIs], decisive: bool, general: Compiled) -> Compiled:
    """A junction of boolean facts, read without a call per leaf.

    Every outcome it can give is built here, once: the first deciding leaf's outcome, or, when
    none decides and every fact is known, one fixed outcome (each leaf's value is then
    determined). Unknown facts are collected as the general junction collects them; a value
    that is not boolean is left to ``general``, the junction as compiled for any children.
    """
    steps = []
    settled: list[str] = []
    for leaf in leaves:
        want = True if leaf.is_ is None else leaf.is_
        deciding = want if decisive else not want  # the value that makes this leaf decide
        held = f"{leaf.fact}={_fmt(not deciding)}"  # this leaf's reason when it does not decide
        steps.append((leaf.fact, deciding, Outcome(decisive, _EMPTY, (f"{leaf.fact}={_fmt(deciding)}",)),
                      frozenset((leaf.fact,)), held))
        settled.append(held)
    undecided = Outcome(not decisive, _EMPTY, tuple(settled))
    plan = tuple(steps)

    def flags(get: Lookup, ui: dict[str, frozenset[str]], memo: dict[str, Outcome] | None, depth: int) -> Outcome:
        unknown: frozenset[str] | None = None
        for fact, deciding, decided, alone, _ in plan:
            f = get(fact)
            if f is None:
                u = ui.get(fact) or alone
                unknown = u if unknown is None else unknown | u
            elif f.value.__class__ is not bool:
                return general(get, ui, memo, depth)
            elif f.value is deciding:
                return decided
        if unknown is None:
            return undecided
        return Outcome(None, unknown, tuple([held for fact, _, _, _, held in plan if get(fact) is not None]))

    return flags


def _unknown(fact: str) -> Callable[[dict[str, frozenset[str]]], Outcome]:
    plain = Outcome(None, frozenset((fact,)), ())

    def missing(ui: dict[str, frozenset[str]]) -> Outcome:
        inputs = ui.get(fact)
        return Outcome(None, inputs, ()) if inputs else plain

    return missing


def _compile_fact(c: FactIs) -> Compiled:
    fact, equals, in_ = c.fact, c.equals, c.in_
    want = True if c.is_ is None else c.is_
    missing = _unknown(fact)

    def test(v: object) -> Outcome:
        if equals is not None:
            ok = v == equals
        elif in_ is not None:
            ok = v in in_
        else:
            ok = bool(v) is want if isinstance(v, bool) else False
        return Outcome(ok, _EMPTY, (f"{fact}={_fmt(v)}",))

    # Outcomes for booleans and (a bounded number of) strings are the same every time: built once.
    on_true, on_false = test(True), test(False)
    known: dict[str, Outcome] = {}

    def fact_(get: Lookup, ui: dict[str, frozenset[str]], memo: dict[str, Outcome] | None, depth: int) -> Outcome:
        f = get(fact)
        if f is None:
            return missing(ui)
        v = f.value
        if v is True:
            return on_true
        if v is False:
            return on_false
        if v.__class__ is str:
            return known.get(v) or kept(known, v, test(v), _KNOWN_STRINGS)
        return test(v)

    return fact_


_KNOWN_STRINGS = 64  # enum values are few; free-text facts must not grow the cache without bound

# The per-pack caches of answers' parts (trace entries, steps, derived facts, labels, reference
# lists) are keyed by outcomes, which may carry a patient's numbers: each keeps at most this many
# entries and is never cleared (clearing a full one freed thousands of objects at once: pauses).
CACHE_BOUND = 4096


def kept(cache: dict[K, V], key: K, value: V, limit: int) -> V:
    """``value``, kept under ``key`` while ``cache`` holds fewer than ``limit`` entries (never cleared)."""
    if len(cache) < limit:
        cache[key] = value
    return value


def _compile_range(fact: str, gte: float | None, lt: float | None) -> Compiled:
    missing = _unknown(fact)
    # The outcome for a number is the same every time: the first few hundred numbers seen
    # (ages, durations and days recur) are kept, keyed with their type so that 1 and 1.0 and
    # True stay apart; the cache is bounded and never cleared.
    seen: dict[tuple[type, object], Outcome] = {}

    def test(v: object) -> Outcome:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return Outcome(False, _EMPTY, (f"{fact}={_fmt(v)} (not a number)",))
        ok = (gte is None or v >= gte) and (lt is None or v < lt)  # type: ignore[operator]
        return Outcome(ok, _EMPTY, (f"{fact}={_fmt(v)}",))

    def range_(get: Lookup, ui: dict[str, frozenset[str]], memo: dict[str, Outcome] | None, depth: int) -> Outcome:
        f = get(fact)
        if f is None or f.value is None:
            return missing(ui)
        v = f.value
        key = (v.__class__, v)
        return seen.get(key) or kept(seen, key, test(v), _KNOWN_NUMBERS)

    return range_


_KNOWN_NUMBERS = 512


def _compile_ref(kb: KnowledgeBase, ref: str) -> Compiled:
    # Resolved at evaluation time, so that a self-referring criterion compiles and an unknown
    # name is reported when (and only when) it is evaluated; then kept (the pack is frozen).
    target: Compiled | None = None

    def ref_(get: Lookup, ui: dict[str, frozenset[str]], memo: dict[str, Outcome] | None, depth: int) -> Outcome:
        nonlocal target
        if memo is not None:
            o = memo.get(ref)
            if o is not None:
                return o
        if target is None:
            named = kb.criteria.get(ref)
            if named is None:
                raise EvaluationError(f"unknown named criterion {ref!r}", code="EV301")
            target = compiled(kb, named)
        if depth + 1 > _MAX_REF_DEPTH:
            raise EvaluationError(f"named criterion {ref!r} refers to itself", code="EV302")
        o = target(get, ui, memo, depth + 1)
        if memo is not None:
            memo[ref] = o
        return o

    return ref_
