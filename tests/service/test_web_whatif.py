"""What-if findings derived from pathway data (workup.service.whatif)."""

from __future__ import annotations

from datetime import date

import pytest

from workup.consult import consult_payload
from workup.kb import load
from workup.service.whatif import candidates, offers, satisfy

SEED = {"age": 58, "sex": "male", "region": "cervical", "pain": True, "mechanical_pain": True, "radiculopathy": True,
        "symptom_duration_days": "1mo", "prior_surgery_cervical": True, "days_since_surgery": "2y",
        "anterior_hardware": True, "trauma": False}


@pytest.fixture(scope="module")
def kb():
    return load()


def run_with(kb, extra):
    return consult_payload({"facts": {**SEED, **extra}}, kb, date(2026, 5, 30)).recommendation


@pytest.mark.parametrize("criterion, expected", [
    ({"type": "fact", "fact": "hardware_failure"}, {"hardware_failure": True}),
    ({"type": "fact", "fact": "trauma", "is": False}, {"trauma": False}),
    ({"type": "fact", "fact": "region", "equals": "lumbar"}, {"region": "lumbar"}),
    ({"type": "not", "of": {"type": "fact", "fact": "trauma"}}, {"trauma": False}),
    ({"type": "all", "of": [{"type": "fact", "fact": "fever"}, {"type": "fact", "fact": "trauma", "is": False}]},
     {"fever": True, "trauma": False}),
    ({"type": "all", "of": [{"type": "fact", "fact": "fever"}, {"type": "fact", "fact": "fever", "is": False}]}, None),
    ({"type": "duration", "fact": "symptom_duration_days", "gte": "6w"}, {"symptom_duration_days": 42.0}),
    # A derived fact is replaced by the base fact behind it (fusion_early ← days_since_surgery < 90).
    ({"type": "fact", "fact": "fusion_early"}, {"days_since_surgery": 45.0}),
])
def test_satisfy_finds_facts_that_make_a_criterion_true(kb, criterion, expected):
    from pydantic import TypeAdapter

    from workup.kb.schema import Criterion

    c = TypeAdapter(Criterion).validate_python(criterion)
    assert satisfy(kb, c) == expected


def test_candidates_carry_their_node_finding_label_and_known_facts(kb):
    for cand in candidates(kb, kb.pathways["cervical-postop"]):
        assert kb.pathways["cervical-postop"].nodes[cand.node].finding == cand.label
        assert all(fid in kb.facts for fid, _ in cand.facts)


def test_offers_are_confirmed_by_the_engine(kb):
    rec = run_with(kb, {})
    got = offers(kb, rec, {}, lambda o: run_with(kb, o))
    assert got
    for w in got:
        again = run_with(kb, dict(w.facts))
        assert w.node in again.path and w.node not in rec.path
        assert [s.node_id for s in again.next_steps] == [s.node_id for s in w.rec.next_steps]


def test_no_offer_without_a_pathway(kb):
    from dataclasses import replace

    rec = replace(run_with(kb, {}), pathway_id=None, path=())
    assert offers(kb, rec, {}, lambda o: pytest.fail("nothing to evaluate without a pathway")) == ()


def test_an_offer_never_changes_facts_its_label_does_not_name(kb):
    rec = run_with(kb, {})
    labels = {w.label for w in offers(kb, rec, {}, lambda o: run_with(kb, o))}
    assert "Radiographs: hardware failure (broken screw, plate migration, loosening)" in labels
    # Reaching CT myelography needs a film result as well; the label names only the contraindication.
    assert "MRI contraindicated" not in labels
    after = run_with(kb, {"xray_normal": True})
    labels = {w.label for w in offers(kb, after, {"xray_normal": True}, lambda o: run_with(kb, o))}
    assert "MRI contraindicated" in labels


# --------------------------------------------------------------------- what-ifs that change a stated fact

EARLY = "Within about 3 months of surgery"  # reached by days_since_surgery < 90: the seed states 2 years
HARDWARE = "Radiographs: hardware failure (broken screw, plate migration, loosening)"  # hardware_failure is assumed


def by_label(kb, rec, current=None, record=None):
    return {w.label: w for w in offers(kb, rec, current or {}, lambda o: run_with(kb, {**(current or {}), **o}), record)}


@pytest.mark.parametrize("fid, expected", [
    ("days_since_surgery", True),     # given
    ("trauma", True),                 # given (a stated "no")
    ("fusion_early", True),           # derived from the given days since surgery
    ("hardware_failure", False),      # assumed absent by its policy
    ("infection_suspected", False),   # derived, but only from assumed-absent fever, drainage, markers …
    ("surgery_date", False),          # unknown
])
def test_stated_means_given_read_or_derived_from_those_never_assumed(kb, fid, expected):
    from workup.service.whatif import stated

    facts = run_with(kb, {}).facts
    assert stated(facts, fid) is expected


def test_a_what_if_changing_a_given_fact_carries_its_contradiction_and_an_assumed_one_none(kb):
    from workup.service.whatif import Contradiction

    got = by_label(kb, run_with(kb, {}))
    assert got[EARLY].contradictions == (Contradiction("days_since_surgery", 730.5, 45.0),)
    assert got[HARDWARE].contradictions == ()
    assert all(not w.contradictions for label, w in got.items() if label != EARLY)


def test_a_contradiction_is_against_the_record_not_an_earlier_what_if(kb):
    from workup.service.whatif import Contradiction, contradictions

    facts = run_with(kb, {"days_since_surgery": 45.0}).facts  # an earlier what-if made this "given"
    record = {"days_since_surgery": 730.5}
    assert contradictions(facts, (("days_since_surgery", 60.0),), record) == (
        Contradiction("days_since_surgery", 730.5, 60.0),)
    assert contradictions(facts, (("days_since_surgery", 730.5),), record) == ()  # back to the record
    assert contradictions(facts, (("hardware_failure", True), ("fever", True)), record) == ()


@pytest.mark.parametrize("applied, lead", [(True, "You changed a fact the note stated"),
                                           (False, "This what-if changes a fact the note stated")])
def test_warning_names_the_fact_and_the_stated_value(kb, applied, lead):
    from workup.service.whatif import Contradiction, warning

    label = kb.facts["days_since_surgery"].label
    c = Contradiction("days_since_surgery", 730.5, 45.0)
    assert warning(kb, c, applied=applied) == f"{lead}: {label} was 2 years."
    assert warning(kb, Contradiction("trauma", False, True)) == f"You changed a fact the note stated: {kb.facts['trauma'].label} was no."


# --------------------------------------------------------------------- ... and on the page (server-rendered HTML)

PAGE_SEED = {"age": "58", "sex": "male", "region": "cervical", "pain": "true", "mechanical_pain": "true",
             "radiculopathy": "true", "symptom_duration_days": "1mo", "prior_surgery_cervical": "true",
             "days_since_surgery": "2y", "anterior_hardware": "true", "trauma": "false"}


def page_url(facts, text=None):
    from urllib.parse import urlencode

    items = ([("text", text)] if text else []) + [(f"fact.{k}", v) for k, v in facts.items()] + [("as_of", "2026-05-30")]
    return "/?" + urlencode(items)


def whatif_items(html: str) -> dict[str, tuple[str, str, str | None]]:
    """label → (li attributes, href, text of its warning note or None)."""
    import re
    from html import unescape

    out = {}
    for attrs, body in re.findall(r'<li([^>]*)>\s*(<a class="whatif-link".*?)</li>', html, re.S):
        href, label = re.search(r'href="([^"]+)"[^>]*>([^<]+)</a>', body).groups()
        note = re.search(r'<span class="stated-warning" role="note" id="([^"]+)">([^<]+)</span>', body)
        if note:
            assert f'aria-describedby="{note.group(1)}"' in body  # the link is described by its warning
        out[unescape(label)] = (attrs, unescape(href), unescape(note.group(2)) if note else None)
    return out


def stated_warnings(html: str) -> list[tuple[str, str]]:
    """(fact, note text) of each applied fact flagged as changed from what the note stated."""
    import re
    from html import unescape

    return [(f, unescape(re.sub(r"<[^>]+>", "", n)).strip()) for f, n in re.findall(
        r'<li class="changed-stated" data-fact="([^"]+)">.*?<span class="stated-warning" role="note">(.*?)</span></li>',
        html, re.S)]


def test_page_offers_the_early_what_if_with_a_warning_and_the_assumed_one_without(client, kb):
    html = client.get(page_url(PAGE_SEED)).text
    items = whatif_items(html)
    label = kb.facts["days_since_surgery"].label
    attrs, href, note = items[EARLY]
    assert 'class="changes-stated"' in attrs
    assert note == f"This what-if changes a fact the note stated: {label} was 2 years."
    assert "was.days_since_surgery=730.5" in href  # the page it opens knows what the note said
    attrs, href, note = items[HARDWARE]
    assert note is None and "changes-stated" not in attrs and "was." not in href


def test_the_page_a_stated_fact_was_changed_on_says_so_and_puts_it_back(client, kb):
    label = kb.facts["days_since_surgery"].label
    after = client.get(whatif_items(client.get(page_url(PAGE_SEED)).text)[EARLY][1]).text
    assert stated_warnings(after) == [
        ("days_since_surgery", f"What-if, not the record. You changed a fact the note stated: {label} was 2 years.")]
    assert '<p class="stated-warning hypothetical" role="note"><strong>What-if, not the record:</strong>' in after
    import re
    from html import unescape

    back = re.search(r'<a class="remove" href="([^"]+)" aria-label="Put back as stated: ' + re.escape(label), after)
    restored = client.get(unescape(back.group(1))).text
    assert stated_warnings(restored) == [] and "hypothetical" not in restored
    assert re.findall(r'data-node="([^"]+)"', restored.split('id="next-steps">')[1].split("</ol>")[0]) == ["radiographs", "flexext"]
    # The scenario form keeps the note, so resubmitting it keeps the warning.
    assert '<input type="hidden" name="was.days_since_surgery" value="730.5">' in after


def test_changing_an_assumed_fact_is_not_flagged(client, kb):
    after = client.get(whatif_items(client.get(page_url(PAGE_SEED)).text)[HARDWARE][1]).text
    applied = after.split('class="applied"')[1].split("</div>")[0]
    assert kb.facts["hardware_failure"].label in applied  # it was added, as a plain addition
    assert stated_warnings(after) == [] and "stated-warning" not in after.split('id="whatif-h"')[0]


def test_a_note_for_a_fact_nobody_changed_is_dropped_and_an_unknown_one_refused(client):
    for value in ("2y", "730.5"):  # 2y is 730.5 days: the value the note is said to have stated, so nothing changed
        same = client.get(page_url({**PAGE_SEED, "days_since_surgery": value}) + "&was.days_since_surgery=730.5").text
        assert stated_warnings(same) == [] and "hypothetical" not in same
        assert 'name="was.' not in same  # the form does not carry the note on
    changed = client.get(page_url({**PAGE_SEED, "days_since_surgery": "45"}) + "&was.days_since_surgery=2y").text
    assert [f for f, _ in stated_warnings(changed)] == ["days_since_surgery"]
    bad = client.get(page_url(PAGE_SEED) + "&was.not_a_fact=1")
    assert bad.status_code == 400 and "was.not_a_fact: not a fact workup knows" in bad.text


def test_a_fact_read_from_the_text_is_stated_too(client, kb, monkeypatch):
    """A what-if over the note's words: the time since surgery was read, the hardware result assumed."""
    from dataclasses import dataclass

    import workup.consult
    from workup.types import Fact, FactOrigin, Facts

    @dataclass
    class Reading:
        facts: Facts

        def to_list(self):
            return [{"fact": f.id, "value": f.value, "status": "affirmed", "evidence": "", "phrase": ""}
                    for f in self.facts.values()]

    read = {k: v for k, v in SEED.items() if k != "days_since_surgery"} | {"days_since_surgery": 730.5,
                                                                         "symptom_duration_days": 30.4375}
    monkeypatch.setattr(workup.consult, "read_text",
                        lambda text, kb, as_of=None: Reading(Facts([Fact(k, v, FactOrigin.TEXT) for k, v in read.items()])))
    html = client.get(page_url({}, text="58M two years after ACDF, a month of neck pain and right arm tingling")).text
    items = whatif_items(html)
    assert items[EARLY][2] == f"This what-if changes a fact the note stated: {kb.facts['days_since_surgery'].label} was 2 years."
    assert items[HARDWARE][2] is None
    after = client.get(items[EARLY][1]).text
    assert [f for f, _ in stated_warnings(after)] == ["days_since_surgery"]
