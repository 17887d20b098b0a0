"""medspaCy's ConText graph with its pairwise loops limited to pairs that can interact.

medspaCy 1.3's ``ConTextGraph`` compares every modifier with every other modifier of the
document (``update_scopes``) and every target with every modifier (``apply_modifiers``):
quadratic in the length of the note (a 5,000-word note spent seconds there, and "no no no …"
tens of seconds). Both loops only ever act on pairs whose spans overlap:

- ``limit_scope(a, b)`` does nothing unless the two scopes overlap, and scopes only shrink;
  a modifier's scope stays inside the *reach* of its first scope and its own words
  (``_reach``), so pairs whose reaches are disjoint can be skipped;
- ``modifies(target)`` is false unless the target overlaps the modifier's scope, and the
  overlap pruning needs the target to overlap the modifier's words: both inside the reach.

:class:`LinearContextGraph` enumerates only the pairs whose reaches meet (by a sweep over
sorted positions) and visits them in medspaCy's order, so it builds exactly the graph
medspaCy builds (``tests/unit/test_intake_cost.py`` compares both on the development
scenarios). The number of interacting pairs is what a note costs; :func:`interacting_pairs`
lets the intake refuse a note with an absurd number of them before the loops run.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from typing import Any

from medspacy.context.context_graph import ConTextGraph
from medspacy.util import tuple_overlaps


def _reach(m: Any) -> tuple[int, int]:
    """Closed token bounds that every scope of ``m`` stays within: its first scope and its words.

    A forward scope's end only moves to a later modifier's start (> m's start) and a
    backward scope's start to an earlier modifier's end (< m's end), so the bounds hold.
    """
    a, b = m.modifier_span
    s, e = m.scope_span
    return min(a, s, e), max(b, s, e)


def _pairs(reaches: list[tuple[int, int]]) -> list[list[int]]:
    """For each modifier i, the j > i (in increasing order) whose reach meets i's reach."""
    order = sorted(range(len(reaches)), key=lambda k: reaches[k][0])
    starts = [reaches[k][0] for k in order]
    out: list[list[int]] = [[] for _ in reaches]
    # j's reach meets i's when start_j <= end_i and start_i <= end_j; sweep by start
    for pos, i in enumerate(order):
        lo_i, hi_i = reaches[i]
        stop = bisect_right(starts, hi_i)
        for k in order[pos + 1 : stop]:  # later-starting reaches that begin within i's
            if k > i:
                out[i].append(k)
            else:
                out[k].append(i)
    for js in out:
        js.sort()
    return out


def interacting_pairs(modifiers: list[Any]) -> int:
    """How many modifier pairs :meth:`LinearContextGraph.update_scopes` will compare."""
    reaches = sorted(_reach(m) for m in modifiers)
    starts = [r[0] for r in reaches]
    return sum(bisect_right(starts, hi) - pos - 1 for pos, (_, hi) in enumerate(reaches))


class LinearContextGraph(ConTextGraph):
    """A :class:`ConTextGraph` whose scope and target loops skip pairs that cannot interact."""

    def update_scopes(self) -> None:
        """Limit each modifier's scope by the others, as medspaCy does, over meeting pairs only."""
        from workup.intake import budget

        mods = self.modifiers
        budget.BUDGET.check_cue_pairs(interacting_pairs(mods))
        for i, js in enumerate(_pairs([_reach(m) for m in mods])):
            m1 = mods[i]
            for j in js:  # medspaCy's order: i ascending, then j ascending
                m2 = mods[j]
                m1.limit_scope(m2)
                m2.limit_scope(m1)

    def apply_modifiers(self) -> None:
        """Link targets to the modifiers whose scope they fall in, as medspaCy does."""
        mods = self.modifiers
        reaches = [_reach(m) for m in mods]
        if self.prune_on_modifier_overlap:
            keep = []
            for m, r in zip(mods, reaches):
                # medspaCy drops a modifier whose words overlap any target
                if not any(tuple_overlaps((t.start, t.end), m.modifier_span) for t in self._targets_near(r)):
                    keep.append((m, r))
            self.modifiers = mods = [m for m, _ in keep]
            reaches = [r for _, r in keep]
        order = sorted(range(len(mods)), key=lambda k: reaches[k][0])
        starts = [reaches[k][0] for k in order]
        longest = max((hi - lo for lo, hi in reaches), default=0)
        for target in self.targets:
            # modifiers whose reach meets the target's [start, end], in medspaCy's modifier order
            lo, hi = bisect_left(starts, target.start - longest), bisect_right(starts, target.end)
            near = sorted(k for k in order[lo:hi] if reaches[k][1] >= target.start)
            for k in near:
                if mods[k].modifies(target):
                    mods[k].modify(target)
        edges = []
        for modifier in mods:
            modifier.reduce_targets()
            for target in modifier._targets:
                edges.append((target, modifier))
        self.edges = edges

    def _targets_near(self, reach: tuple[int, int]) -> list[Any]:
        if not hasattr(self, "_by_start"):
            ts = sorted(self.targets, key=lambda t: t.start)
            self._by_start = ([t.start for t in ts], ts, max((t.end - t.start for t in ts), default=0))
        starts, ts, longest = self._by_start
        lo = bisect_left(starts, reach[0] - longest)
        hi = bisect_right(starts, reach[1])
        return ts[lo:hi]
