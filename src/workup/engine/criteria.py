"""Three-valued (Kleene) evaluation of criterion trees over patient facts.

A result is ``True``, ``False`` or ``None`` (unknown). Alongside the value, evaluation
returns the facts that made it unknown (what to ask) and the leaves that decided it
(the "why" shown in the trace).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
from workup.types import Facts

Tri = bool | None
_EMPTY: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Outcome:
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


class CriteriaEvaluator:
    """Evaluates criteria against one set of resolved facts.

    Args:
        kb: the knowledge base (for named criteria).
        facts: resolved facts (given, derived and assumed).
        unknown_inputs: for derived facts that stayed unknown, the base facts behind them,
            so that questions ask for what a clinician can answer.
    """

    __slots__ = ("kb", "facts", "unknown_inputs", "_depth")

    def __init__(self, kb: KnowledgeBase, facts: Facts, unknown_inputs: dict[str, frozenset[str]] | None = None):
        self.kb = kb
        self.facts = facts
        self.unknown_inputs = unknown_inputs or {}
        self._depth = 0

    def _missing(self, fact: str) -> frozenset[str]:
        return self.unknown_inputs.get(fact) or frozenset((fact,))

    def evaluate(self, c: Criterion) -> Outcome:
        """Evaluate ``c`` and return its three-valued outcome."""
        if isinstance(c, FactIs):
            return self._fact(c)
        if isinstance(c, AllOf):
            unknown: set[str] = set()
            because: list[str] = []
            undecided = False
            for child in c.of:
                o = self.evaluate(child)
                if o.value is False:
                    return Outcome(False, _EMPTY, o.because)
                if o.value is None:
                    undecided = True
                    unknown |= o.unknown
                else:
                    because.extend(o.because)
            if undecided:
                return Outcome(None, frozenset(unknown), tuple(because))
            return Outcome(True, _EMPTY, tuple(because))
        if isinstance(c, AnyOf):
            unknown = set()
            because = []
            undecided = False
            for child in c.of:
                o = self.evaluate(child)
                if o.value is True:
                    return Outcome(True, _EMPTY, o.because)
                if o.value is None:
                    undecided = True
                    unknown |= o.unknown
                else:
                    because.extend(o.because)
            if undecided:
                return Outcome(None, frozenset(unknown), tuple(because))
            return Outcome(False, _EMPTY, tuple(because))
        if isinstance(c, NotOf):
            o = self.evaluate(c.of)
            return Outcome(None if o.value is None else not o.value, o.unknown, o.because)
        if isinstance(c, AgeRange):
            return self._range("age", self.facts.value("age"), c.gte, c.lt)
        if isinstance(c, NumberRange):
            return self._range(c.fact, self.facts.value(c.fact), c.gte, c.lt)
        if isinstance(c, DurationRange):
            lo = duration_days(c.gte) if c.gte is not None else None
            hi = duration_days(c.lt) if c.lt is not None else None
            return self._range(c.fact, self.facts.value(c.fact), lo, hi)
        if isinstance(c, RefTo):
            target = self.kb.criteria.get(c.ref)
            if target is None:
                raise EvaluationError(f"unknown named criterion {c.ref!r}", code="EV301")
            self._depth += 1
            if self._depth > 32:
                raise EvaluationError(f"named criterion {c.ref!r} refers to itself", code="EV302")
            try:
                return self.evaluate(target)
            finally:
                self._depth -= 1
        raise EvaluationError(f"unsupported criterion {type(c).__name__}", code="EV303")  # pragma: no cover

    def _fact(self, c: FactIs) -> Outcome:
        f = self.facts.get(c.fact)
        if f is None:
            return Outcome(None, self._missing(c.fact), ())
        v = f.value
        if c.equals is not None:
            ok = v == c.equals
        elif c.in_ is not None:
            ok = v in c.in_
        else:
            want = True if c.is_ is None else c.is_
            ok = bool(v) is want if isinstance(v, bool) else False
        return Outcome(ok, _EMPTY, (f"{c.fact}={_fmt(v)}",))

    def _range(self, fact: str, v: object, gte: float | None, lt: float | None) -> Outcome:
        if v is None:
            return Outcome(None, self._missing(fact), ())
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return Outcome(False, _EMPTY, (f"{fact}={_fmt(v)} (not a number)",))
        ok = (gte is None or v >= gte) and (lt is None or v < lt)
        return Outcome(ok, _EMPTY, (f"{fact}={_fmt(v)}",))
