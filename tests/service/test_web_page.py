"""The clinician web page, server-rendered: what a browser without JavaScript receives."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from html import unescape
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from workup.errors import IntakeError
from workup.kb import load
from workup.types import Assertion, Evidence, Fact, FactOrigin, Facts

AS_OF = "2026-05-30"
SEED_FACTS = {
    "age": "58", "sex": "male", "region": "cervical", "pain": "true", "mechanical_pain": "true",
    "radiculopathy": "true", "symptom_duration_days": "1mo", "symptoms_increasing": "true",
    "prior_surgery_cervical": "true", "days_since_surgery": "2y", "anterior_hardware": "true", "trauma": "false",
}
USUALLY_APPROPRIATE_V3 = {
    "Radiography Cervical Spine",
    "Radiography Cervical Spine Flexion Extension Lateral Views",
    "MRI Cervical Spine Without IV Contrast",
    "CT Cervical Spine Without IV Contrast",
}


def make_app(tmp_path: Path) -> FastAPI:
    """The real service app when it is importable, else a bare app with the web router."""
    try:
        from workup.service.app import create_app
        from workup.service.config import Settings
    except ImportError:
        from workup.service.web import router

        app = FastAPI()
        app.include_router(router)
        return app
    settings = Settings(dev_insecure=True, audit_path=tmp_path / "audit.sqlite3")
    return create_app(settings, clock=lambda: datetime(2026, 5, 30, 12, tzinfo=timezone.utc))


@pytest.fixture()
def client(tmp_path: Path) -> TestClient:
    return TestClient(make_app(tmp_path))


def url(facts: dict[str, str], text: str | None = None) -> str:
    items = ([("text", text)] if text else []) + [(f"fact.{k}", v) for k, v in facts.items()] + [("as_of", AS_OF)]
    return "/?" + urlencode(items)


def rows(html: str, table_class: str) -> list[str]:
    m = re.search(rf'<table class="{table_class}">(.*?)</table>', html, re.S)
    assert m, f"no table.{table_class}"
    return re.findall(r"<tr[^>]*data-category=\"([^\"]+)\"[^>]*>\s*<th scope=\"row\"><span class=\"proc-name\">([^<]+)", m.group(1))


def step_nodes(html: str) -> list[str]:
    m = re.search(r'<ol class="steps" id="next-steps">(.*?)</ol>', html, re.S)
    return re.findall(r'data-node="([^"]+)"', m.group(1)) if m else []


def whatif_links(html: str) -> list[tuple[str, str, str]]:
    """(href, node, label) of each what-if link."""
    return [(unescape(h), n, unescape(lbl)) for h, n, lbl in
            re.findall(r'<a class="whatif-link" href="([^"]+)" data-node="([^"]+)"[^>]*>([^<]+)</a>', html)]


# --------------------------------------------------------------------- the empty form


def test_empty_page_is_a_plain_get_form_with_labelled_fields(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.text
    assert re.search(r'<form method="get" action="/"', html)
    assert '<label for="text">' in html and 'id="text" name="text"' in html
    for fid in ("age", "sex", "region", "days_since_surgery"):
        assert f'<label for="f-{fid}">' in html
    assert 'id="result"' not in html


def test_page_fetches_nothing_from_other_hosts(client):
    html = client.get(url(SEED_FACTS)).text
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html)
    css = client.get("/static/style.css")
    js = client.get("/static/page.js")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "http" not in js.text and "@import" not in css.text
    assert client.get("/static/../web.py").status_code == 404
    assert client.get("/static/nothing.css").status_code == 404


# --------------------------------------------------------------------- the seed patient, from facts


def test_seed_facts_show_variant_3_and_why(client):
    html = client.get(url(SEED_FACTS)).text
    assert "Cervical Pain or Cervical Radiculopathy" in html
    assert re.search(r'<span class="variant-no">Variant 3</span>', html)
    assert "<strong>Why:</strong>" in html and "Prior cervical spine surgery" in html
    assert 'href="/guide/cervical-pain-3"' in html


def test_usually_appropriate_procedures_come_first_with_radiation(client):
    html = client.get(url(SEED_FACTS)).text
    table = rows(html, "ratings")
    first4 = table[:4]
    assert {cat for cat, _ in first4} == {"usually-appropriate"}
    assert {name.strip() for _, name in first4} == USUALLY_APPROPRIATE_V3
    assert all(cat != "usually-appropriate" for cat, _ in table[4:])
    cats = [cat for cat, _ in table]
    order = ["usually-appropriate", "may-be-appropriate", "may-be-appropriate-disagreement", "usually-not-appropriate"]
    assert cats == sorted(cats, key=order.index)
    assert "☢☢☢" in html and "1-10 mSv" in html and "0.1-1 mSv" in html


def test_seed_next_steps_are_radiographs_then_flexion_extension(client):
    html = client.get(url(SEED_FACTS)).text
    assert step_nodes(html) == ["radiographs", "flexext"]


def test_share_link_reproduces_the_page(client):
    html = client.get(url(SEED_FACTS, text=None)).text
    m = re.search(r'<a href="([^"]+)" rel="bookmark">', html)
    again = client.get(unescape(m.group(1)) if "as_of" in m.group(1) else unescape(m.group(1)) + f"&as_of={AS_OF}")
    assert step_nodes(again.text) == step_nodes(html)


# --------------------------------------------------------------------- what-ifs


def test_what_ifs_come_from_pathway_findings(client):
    kb = load()
    labels = {n.finding for n in kb.pathways["cervical-postop"].nodes.values() if n.finding}
    links = whatif_links(client.get(url(SEED_FACTS)).text)
    assert links, "the seed patient should be offered what-ifs"
    assert {lbl for _, _, lbl in links} <= labels
    assert "Radiographs: hardware failure (broken screw, plate migration, loosening)" in {lbl for _, _, lbl in links}


def test_every_what_if_link_reaches_its_node_and_changes_the_next_step(client):
    before = client.get(url(SEED_FACTS)).text
    links = whatif_links(before)
    for href, node, label in links:
        after = client.get(href).text
        assert re.search(rf'<g class="wu-node [a-z-]+ on(?: now)?" id="wu-node-{re.escape(node)}"', after), label
        assert step_nodes(after) != step_nodes(before), label


def test_hardware_failure_what_if_refers_to_the_surgeon(client):
    links = {lbl: href for href, _, lbl in whatif_links(client.get(url(SEED_FACTS)).text)}
    after = client.get(links["Radiographs: hardware failure (broken screw, plate migration, loosening)"]).text
    assert step_nodes(after)[0] == "refer-hardware-failure"
    assert "Added to the scenario" in after and "remove" in after


def test_what_ifs_are_cumulative_mri_contraindicated_after_normal_films(client):
    first = {lbl: href for href, _, lbl in whatif_links(client.get(url(SEED_FACTS)).text)}
    assert "MRI contraindicated" not in first  # it would need a film result the label does not name
    normal = client.get(first["Normal radiographs, persistent arm symptoms"]).text
    assert step_nodes(normal) == ["mri-noncontrast"]
    second = {lbl: href for href, _, lbl in whatif_links(normal)}
    after = client.get(second["MRI contraindicated"]).text
    assert step_nodes(after) == ["ct-myelography"]


def test_early_after_surgery_defers_flexion_extension_views(client):
    links = {lbl: href for href, _, lbl in whatif_links(client.get(url(SEED_FACTS)).text)}
    after = client.get(links["Within about 3 months of surgery"]).text
    assert step_nodes(after) == ["radiographs", "defer-flexext"]


def test_pathway_svg_highlights_the_current_path(client):
    html = client.get(url(SEED_FACTS)).text
    on = re.findall(r'<g class="wu-node [a-z-]+ on(?: now)?" id="wu-node-([^"]+)"', html)
    assert on == ["red-flags", "findings", "radiographs", "flexext-timing", "flexext"]
    now = re.findall(r'<g class="wu-node [a-z-]+ on now" id="wu-node-([^"]+)"', html)
    assert now == ["radiographs", "flexext"]


# --------------------------------------------------------------------- questions


def test_missing_facts_are_clickable_answers_that_rerun(client):
    facts = {"age": "58", "region": "cervical", "pain": "true"}
    html = client.get(url(facts)).text
    assert "Questions that would decide the answer" in html
    m = re.search(r'<li class="question" data-fact="radiculopathy">(.*?)</li>', html, re.S)
    assert m
    yes = unescape(re.search(r'<a class="answer" href="([^"]+)">Yes</a>', m.group(1)).group(1))
    assert "fact.radiculopathy=true" in yes
    after = client.get(yes).text
    assert 'data-fact="radiculopathy"' not in after.split('id="questions-h"')[-1].split("</section>")[0]
    # A duration question is a small GET form that keeps the rest of the scenario.
    form = re.search(r'<li class="question" data-fact="symptom_duration_days">(.*?)</li>', html, re.S).group(1)
    assert 'name="fact.symptom_duration_days"' in form and 'name="fact.pain" value="true"' in form


# --------------------------------------------------------------------- free text (intake stubbed)


@dataclass
class FakeReading:
    facts: Facts
    rows: list[dict]

    def to_list(self) -> list[dict]:
        return self.rows


def _fake_read(text, kb, as_of=None):
    ev = Evidence("denies any recent trauma", 10, 34, Assertion.NEGATED)
    facts = Facts([
        Fact("age", 58.0, FactOrigin.TEXT), Fact("region", "cervical", FactOrigin.TEXT),
        Fact("pain", True, FactOrigin.TEXT), Fact("mechanical_pain", True, FactOrigin.TEXT),
        Fact("radiculopathy", True, FactOrigin.TEXT), Fact("prior_surgery_cervical", True, FactOrigin.TEXT),
        Fact("days_since_surgery", 730.5, FactOrigin.TEXT), Fact("trauma", False, FactOrigin.TEXT, (ev,)),
    ])
    rows = [
        {"fact": "radiculopathy", "value": True, "status": "affirmed", "evidence": "new tingling radiating down his right arm",
         "phrase": "tingling radiating down his right arm"},
        {"fact": "trauma", "value": False, "status": "negated", "evidence": "He denies any recent trauma.", "phrase": "trauma"},
    ]
    return FakeReading(facts, rows)


def test_text_facts_show_evidence_and_negation_is_marked(client, monkeypatch):
    import workup.consult

    monkeypatch.setattr(workup.consult, "read_text", _fake_read)
    html = client.get(url({}, text="58M two years after ACDF, arm tingling, denies any recent trauma")).text
    row = re.search(r'<tr class="status-negated" data-fact="trauma" data-status="negated">(.*?)</tr>', html, re.S)
    assert row, "the negated mention is shown as negated"
    assert '<span class="badge st-negated">negated</span>' in row.group(1)
    assert "He denies any recent <del>trauma</del>." in row.group(1)
    assert re.search(r'data-fact="radiculopathy" data-status="affirmed">.*?new <mark>tingling radiating down his right arm</mark>',
                     html, re.S)
    assert re.search(r'<span class="variant-no">Variant 3</span>', html)
    assert '<p class="print-only"><strong>Scenario:</strong> 58M two years after ACDF' in html  # printed with the answer
    # The what-ifs are evaluated over the same reading: following one keeps the text.
    links = whatif_links(html)
    assert links and all(href.startswith("/?text=58M") for href, _, _ in links)


def test_missing_text_intake_is_explained_and_given_facts_still_used(client, monkeypatch):
    import workup.consult

    def unavailable(text, kb, as_of=None):
        raise IntakeError("free-text intake is not available in this build", code="IN200")

    monkeypatch.setattr(workup.consult, "read_text", unavailable)
    html = client.get(url(SEED_FACTS, text="58M after ACDF")).text
    assert "Free-text reading is not available" in html
    assert step_nodes(html) == ["radiographs", "flexext"]
    only_text = client.get(url({}, text="58M after ACDF"))
    assert only_text.status_code == 200 and "Free-text reading is not available" in only_text.text
    assert 'id="result"' not in only_text.text


# --------------------------------------------------------------------- bad input


@pytest.mark.parametrize("query, message", [
    ("fact.not_a_fact=true", "not_a_fact: not a fact workup knows"),
    ("fact.radiculopathy=maybe", "expected yes or no"),
    ("fact.age=old", "expected a number"),
    ("fact.age=58&as_of=yesterday", "as_of must be a date"),
])
def test_bad_input_is_a_readable_400_never_a_traceback(client, query, message):
    r = client.get("/?" + query)
    assert r.status_code == 400
    assert 'role="alert"' in r.text and message in unescape(r.text)
    assert "Traceback" not in r.text


@pytest.mark.parametrize("extra", [{}, {"days_since_surgery": "30"}], ids=["alone", "beside-days-since"])
def test_surgery_date_after_as_of_is_a_coded_400_on_the_page(client, extra):
    facts = {k: v for k, v in SEED_FACTS.items() if k != "days_since_surgery"}
    r = client.get(url({**facts, "surgery_date": "2026-12-01", **extra}))
    assert r.status_code == 400
    text = unescape(r.text)
    assert 'role="alert"' in text and "EV304" in text
    assert "2026-12-01" in text and AS_OF in text and 'id="result"' not in text
    assert "Traceback" not in text


def test_text_is_escaped(client, monkeypatch):
    import workup.consult

    monkeypatch.setattr(workup.consult, "read_text", _fake_read)
    html = client.get(url({}, text="<script>alert(1)</script>")).text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --------------------------------------------------------------------- guide pages


def test_every_variant_has_a_guide_page_with_topic_navigation(client):
    kb = load()
    for vid, v in kb.variants.items():
        r = client.get(f"/guide/{vid}")
        assert r.status_code == 200, vid
        assert f'<a href="/guide/{vid}" aria-current="page">' in r.text
        assert f'href="/guide/topic/{kb.variant_topic[vid]}"' in r.text


def test_exclusions_cross_link_to_the_variant_they_route_to(client):
    kb = load()
    routed = [(vid, x.routes_to) for vid, v in kb.variants.items() for x in v.exclusions if x.routes_to]
    assert routed, "the pack has exclusions that route elsewhere"
    for vid, target in routed:
        html = client.get(f"/guide/{vid}").text
        article = html.split('<article class="guide">')[1].split("</article>")[0]
        assert f'href="/guide/{target}"' in article, (vid, target)
        assert ".md\"" not in article  # Markdown links between guides point at the pages


def test_topic_pages_list_their_variants(client):
    kb = load()
    for tid in kb.topics:
        html = client.get(f"/guide/topic/{tid}").text
        for vid in (v for v, t in kb.variant_topic.items() if t == tid):
            assert f'href="/guide/{vid}"' in html


def test_unknown_guides_are_404_pages(client):
    assert client.get("/guide/no-such-variant").status_code == 404
    assert client.get("/guide/topic/no-such-topic").status_code == 404


def test_guide_page_renders_the_guide_markdown(client):
    pytest.importorskip("workup.render.guide", reason="the guide renderer (workup.render.guide) is not in this build yet")
    from workup.render.guide import render_variant_guide

    kb = load()
    md = render_variant_guide(kb, "cervical-pain-3")
    heading = next(line.lstrip("# ").strip() for line in md.splitlines() if line.startswith("#"))
    html = client.get("/guide/cervical-pain-3").text
    assert unescape(re.sub(r"<[^>]+>", "", html)).count(heading) >= 1
    assert "guide renderer is not available" not in html


def test_print_stylesheet_hides_the_form_and_controls(client):
    css = client.get("/static/style.css").text
    assert "@media print" in css
    printed = css.split("@media print", 1)[1]
    for selector in (".scenario", ".whatif", ".guide-nav"):
        assert selector in printed


def test_page_date_defaults_to_the_service_clock(tmp_path):
    from workup.service import web

    status, ctx = web.consultation_context(load(), [(f"fact.{k}", v) for k, v in SEED_FACTS.items()], date(2026, 5, 30))
    assert status == 200 and ctx["doc"]["as_of"] == "2026-05-30"


def test_result_page_says_who_fits_and_links_where_exclusions_route(client):
    kb = load()
    v = kb.variants["cervical-pain-3"]
    html = client.get(url(SEED_FACTS)).text
    section = html.split('id="fit-h"')[1].split("</section>")[0]
    if v.who_fits:
        assert v.who_fits.split("—")[0].strip() in unescape(section)
    routed = [x.routes_to for x in v.exclusions if x.routes_to]
    assert routed
    for target in routed:
        assert f'href="/guide/{target}"' in section


def test_any_query_gives_a_page_or_a_readable_400(tmp_path):
    """Random fact ids and values from the vocabulary never crash the page."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    kb = load()
    client = TestClient(make_app(tmp_path), raise_server_exceptions=False)
    ids = sorted(kb.facts) + ["nope", ""]
    values = st.one_of(st.sampled_from(["true", "false", "yes", "0", "58", "2y", "6w", "cervical", "", "unknown"]),
                       st.text(max_size=12))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(st.tuples(st.sampled_from(ids), values), max_size=6))
    def check(pairs):
        r = client.get("/?" + urlencode([(f"fact.{k}", v) for k, v in pairs] + [("as_of", AS_OF)]))
        assert r.status_code in (200, 400), r.text[:500]
        assert "Traceback" not in r.text
        if r.status_code == 400:
            assert 'role="alert"' in r.text

    check()


def test_empty_form_fields_redirect_to_the_short_address(client):
    r = client.get("/?text=&fact.age=58&fact.sex=&fact.region=cervical", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/?fact.age=58&fact.region=cervical"
    assert client.get("/?text=&fact.sex=", follow_redirects=False).headers["location"] == "/"


def test_guides_fall_back_to_the_pack_data_without_the_markdown_renderer(client, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "workup.render.guide", None)  # import fails: renderer not installed
    kb = load()
    html = client.get("/guide/cervical-pain-3").text
    article = html.split('<article class="guide">')[1].split("</article>")[0]
    assert {name.strip() for cat, name in rows(article, "ratings") if cat == "usually-appropriate"} == USUALLY_APPROPRIATE_V3
    topic = kb.topics["cervical-pain"]
    for p in topic.pitfalls[:2]:
        assert unescape(p.text.split(".")[0]) in unescape(article)
    for f in topic.faq:
        assert unescape(f.question) in unescape(article)
    for x in kb.variants["cervical-pain-3"].exclusions:
        if x.routes_to:
            assert f'href="/guide/{x.routes_to}"' in article
    assert re.search(r'<li id="ref-1" value="1">', article)
    cited = {int(n) for n in re.findall(r'href="#ref-(\d+)"', article)}
    listed = {int(n) for n in re.findall(r'<li id="ref-(\d+)"', article)}
    assert cited == listed  # every number cited is listed, and every listed one is cited
    topic_page = client.get("/guide/topic/cervical-pain").text
    for vid in (v for v, t in kb.variant_topic.items() if t == "cervical-pain"):
        assert f'href="/guide/{vid}"' in topic_page.split('<article class="guide">')[1]


def test_seed_page_has_the_seed_guide_sections_plus_the_what_if(client):
    """Everything the seed guide shows (who fits, exclusions, differential, ratings, next steps,
    downstream branches, pitfalls, FAQ, related topics, references), plus the what-if panel."""
    kb = load()
    topic = kb.topics["cervical-pain"]
    html = client.get(url(SEED_FACTS)).text
    for heading in ("fit-h", "procs-h", "steps-h", "whatif-h", "pathway-h", "refs-h"):
        assert f'id="{heading}"' in html, heading
    if topic.differentials:
        assert "What you are working up" in html
    if topic.pitfalls:
        assert 'id="pitfalls-h"' in html
    if topic.faq:
        assert 'id="faq-h"' in html
    for t in topic.related:
        assert f'href="/guide/topic/{t}"' in html.split('id="related-h"')[1]
    cited = {int(n) for n in re.findall(r'href="#ref-(\d+)"', html)}
    listed = {int(n) for n in re.findall(r'<li id="ref-(\d+)"', html)}
    assert cited <= listed


def test_scenario_urls_are_not_leaked_to_other_sites_by_referer(client):
    """The address holds the patient's scenario: links out must not send it as a Referer."""
    html = client.get(url(SEED_FACTS)).text
    assert '<meta name="referrer" content="no-referrer">' in html
    assert client.get(url(SEED_FACTS)).headers["cache-control"] == "no-store"
    external = re.findall(r'<a href="https?://[^"]+"([^>]*)>', html)
    assert external and all('rel="noreferrer noopener"' in attrs for attrs in external)


# ---------------------------------------------------------------------- audit


def test_an_answered_page_is_a_consultation_in_the_audit_log_without_its_text(client):
    text = "58-year-old man two years after C5-C6 ACDF with a month of neck pain and right arm tingling; no trauma."
    r = client.get(url({}, text))
    assert r.status_code == 200
    st = getattr(client.app.state, "workup", None)
    if st is None:
        pytest.skip("the service app is not importable here: no audit store")
    rec = st.store.consultation(r.headers["x-workup-consult-id"])
    assert rec["hook"] == "web" and rec["service"] == "web"
    assert rec["variant"] == "cervical-pain-3" and rec["status"] == "rated" and rec["order_codes"] == []
    assert "ACDF" not in repr(rec) and "tingling" not in repr(rec)  # the scenario's words are never stored


def test_questions_are_audited_too_but_an_empty_form_or_refused_input_is_not(client):
    asked = client.get(url({"region": "cervical"}))
    assert asked.status_code == 200
    store = client.app.state.workup.store
    rec = store.consultation(asked.headers["x-workup-consult-id"])
    assert rec["status"] == "needs-information" and rec["ratings"][0]["missing"]
    before = len(store.consult_ids())
    assert "x-workup-consult-id" not in client.get("/").headers
    refused = client.get("/?fact.age=old&as_of=2026-05-30")
    assert refused.status_code == 400 and "x-workup-consult-id" not in refused.headers
    assert len(store.consult_ids()) == before


# --------------------------------------------------------------------- corrections


def fix_links(html: str) -> dict[str, list[str]]:
    """fact id → the correction links the page offers for it (understood and assumed facts)."""
    out: dict[str, list[str]] = {}
    for href, fact in re.findall(r'<a class="fix-link" href="([^"]+)" data-fact="([^"]+)">', html):
        out.setdefault(fact, []).append(unescape(href))
    return out


def test_a_misread_fact_is_corrected_by_following_its_link(client):
    text = "45F low back pain for 3 weeks after lifting, denies trauma, no fever"
    page = client.get(url({}, text)).text
    assert "<title>Low Back Pain · Variant 1 ·" in page
    links = fix_links(page)
    assert "fever" in links, sorted(links)  # read as negated: its link says it is present
    flipped = links["fever"][0]
    assert "fact.fever=true" in flipped and "text=" in flipped
    again = client.get(flipped).text
    assert "<title>Low Back Pain · Variant 7 ·" in again  # the infection variant: the answer updated


def test_an_assumed_red_flag_has_a_link_that_says_it_is_present(client):
    page = client.get(url({}, "45F low back pain for 3 weeks, no leg symptoms")).text
    links = fix_links(page)
    assert "fever" in links or "malignancy_history" in links, sorted(links)
    fact = "fever" if "fever" in links else "malignancy_history"
    assert any(f"fact.{fact}=true" in h for h in links[fact])
