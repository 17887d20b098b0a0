"""What a note is about, from its mentions: the scope facts the engine's scope rules read.

Pure: mentions in, facts out (``rules/scope.yaml`` says which concept means what).

- ``referred_pain_source``: the first referred-pain pattern whose concepts are all present
  (affirmed or suspected) and none of whose ``unless`` concepts is affirmed, e.g. chest pain with
  sweating → cardiac; in a note that asks about the
  spine, a pattern holds only if one of its concepts is affirmed, not merely suspected;
- ``other_complaint`` and ``other_complaint_text``: the first complaint of another body system,
  and its words (failing one, the first question the note asks about another system);
- ``spine_complaint``: true when a spine rule is affirmed or suspected (beside another complaint, not
  inside words that put it down to something else: "referred back ache"); false when another
  system's complaint is and no spine rule is, or when the note asks about another system only (a study
  or a diagnosis of it, with no spine emergency), or when nothing in the note touches the spine at all
  (not even a negated "no neck pain" or an old operation); unknown otherwise;
- ``complaint_understood``: whether the note holds any clinical mention at all.

Family, hypothetical, negated and historical mentions never count: "her mother had a heart
attack" is not cardiac pain, "PMH: renal colic" is not colic now.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from workup.intake.lexicon import ScopeCues
from workup.types import Assertion, FactValue

_PRESENT = (Assertion.AFFIRMED, Assertion.POSSIBLE)
_ABOUT_PATIENT = (Assertion.AFFIRMED, Assertion.POSSIBLE, Assertion.NEGATED, Assertion.HISTORICAL)


class _Mention(Protocol):
    rule: str
    phrase: str
    start: int
    end: int
    status: Assertion


def scope_facts(mentions: Iterable[_Mention], cues: ScopeCues) -> list[tuple[str, FactValue, _Mention | None]]:
    """The scope facts the mentions give, each with the mention it came from (None: the whole note)."""
    mentions = list(mentions)
    present: dict[str, _Mention] = {}
    for m in mentions:
        if m.status in _PRESENT and m.rule not in present:
            present[m.rule] = m
    # an operation is told as history ("s/p ACDF"): for spine_with, historical mentions count too
    told = set(present) | {m.rule for m in mentions if m.status is Assertion.HISTORICAL}
    out: list[tuple[str, FactValue, _Mention | None]] = []
    affirmed = {m.rule for m in mentions if m.status is Assertion.AFFIRMED}
    asks_spine = any(m.status in _PRESENT and cues.questions.get(m.rule) == "spine" for m in mentions)
    # a question answered no by what follows it ("?carpal tunnel, but NCS normal", "?renal colic - CT
    # KUB: no calculus", "CTA aorta: no dissection") asks nothing
    answered_no = [m.start for m in mentions if m.rule in cues.overturned]

    def answered(m: _Mention) -> bool:
        # a query is answered wherever the note answers it ("No rash at any stage - GP had queried
        # shingles"); a stated feature only by a result that follows it
        if m.status is Assertion.POSSIBLE:
            return bool(answered_no)
        return any(a > m.start for a in answered_no)

    for source, groups, unless in cues.referred:
        if unless & affirmed:
            continue
        hit = next((g for g in groups if all(n in present for n in g)), None)
        # a cause only suspected ("initially ?renal colic") in a note that asks for the spine to be
        # imaged is one the clinician looks past, not the answer
        if hit is not None and (not asks_spine or any(n in affirmed for n in hit)):
            first = min((present[n] for n in hit), key=lambda m: mentions.index(m))
            # a cause a later result rules out, with no complaint of its own affirmed (a tearing
            # quality, a query of colic), is looked past
            if answered(first) and not any(n in affirmed and n in cues.complaints for n in hit):
                continue
            out.append(("referred_pain_source", source, first))
            break
    # a complaint of another system only queried, then answered no, is not the note's complaint
    other = next((m for m in mentions if m.status in _PRESENT and m.rule in cues.complaints
                  and not (m.status is Assertion.POSSIBLE and answered(m))), None)
    # beside another complaint, a spine mention the note puts down to something else does not count
    put_down = [m for m in mentions if m.status in _PRESENT and m.rule in cues.attributed] if other is not None else []
    spine_mentions = [m for m in mentions if m.status in _PRESENT and m.rule in cues.spine
                      and not any(a.start <= m.start and m.end <= a.end for a in put_down)]
    spine = bool(spine_mentions)
    # what the note asks: a study or a diagnosis of another system ("venous duplex R leg", "?OA hip")
    # makes its spine words background, unless it asks about the spine too or reads a spine emergency
    asked = [m for m in mentions if m.status in _PRESENT and m.rule in cues.questions
             and (cues.questions[m.rule] == "spine" or not any(a >= m.start for a in answered_no))]
    elsewhere = next((m for m in asked if cues.questions[m.rule] != "spine"), None)
    emergency = any(m.status in _PRESENT and m.rule in cues.emergencies for m in mentions)
    background = elsewhere is not None and not asks_spine and not emergency
    if other is None and elsewhere is not None:
        other = elsewhere
    # a spine complaint said to be unchanged, beside another complaint, is that complaint's background
    steady = any(m.status is Assertion.AFFIRMED and m.rule in cues.stable for m in mentions) and not any(
        m.status is Assertion.AFFIRMED and m.rule in cues.worse for m in mentions)
    system = (cues.complaints.get(other.rule) or cues.questions[other.rule]) if other is not None else None
    background = background or (system in cues.steady_beside and steady and not asks_spine and not emergency)
    if other is not None:
        spine = not background and (spine or any(n in told for n in cues.spine_with.get(system, ())))
        out.append(("other_complaint", system, other))
        out.append(("other_complaint_text", other.phrase.lstrip("?#:- ").strip(), other))
    understood = any(m.rule not in cues.not_clinical for m in mentions)
    if spine:
        first = spine_mentions[0] if spine_mentions else other
        out.append(("spine_complaint", True, first))
    elif other is not None:
        out.append(("spine_complaint", False, other))
    elif understood and not any(m.rule in cues.plausible and m.status in _ABOUT_PATIENT for m in mentions):
        # nothing in the note touches the spine, even negated ("no neck pain" in a trauma note does):
        # not a spine presentation, and no spine questions are asked
        out.append(("spine_complaint", False, None))
    out.append(("complaint_understood", understood, None))
    return out
