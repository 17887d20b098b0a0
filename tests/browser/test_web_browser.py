"""The clinician page in a real browser: Debian's Chromium driven by Playwright.

A real uvicorn server runs on 127.0.0.1 on a free port. Screenshots are saved under
artifacts/browser/ (gitignored) for CI to keep. Never runs ``playwright install``:
CI installs Chromium from Debian packages (scripts/ci/setup-chromium.sh).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SEED_TEXT = ("A 58-year-old man, two years after anterior cervical discectomy and fusion (ACDF) at C5-C6, has had a "
             "month of increasing, achy neck pain with new tingling radiating down his right arm, similar to his "
             "pre-operative symptoms. He denies any recent trauma.")
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
HARDWARE_FAILURE = "Radiographs: hardware failure (broken screw, plate migration, loosening)"

if not CHROMIUM.exists():
    pytest.skip("/usr/bin/chromium is missing; install it with scripts/ci/setup-chromium.sh", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app(tmp: Path):
    try:
        from workup.service.app import create_app
        from workup.service.config import Settings
    except ImportError:
        from fastapi import FastAPI

        from workup.service.web import router

        app = FastAPI()
        app.include_router(router)
        return app
    settings = Settings(dev_insecure=True, audit_path=tmp / "audit.sqlite3")
    return create_app(settings, clock=lambda: datetime(2026, 5, 30, 12, tzinfo=timezone.utc))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real uvicorn server with the service app, on a free local port."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(_app(tmp_path_factory.mktemp("web")), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    # Warm up once (the free-text reader builds its pipeline on first use) so page timeouts stay tight.
    import urllib.request

    with urllib.request.urlopen(base + "/?" + urlencode({"text": SEED_TEXT, "as_of": "2026-05-30"}), timeout=120) as r:
        r.read()
    yield base
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    ctx.close()


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(out), full_page=True)
    return out


def usually_appropriate(page) -> list[str]:
    return [t.strip() for t in page.locator('table.ratings tr[data-category="usually-appropriate"] th .proc-name').all_inner_texts()]


def first_rows(page, n: int) -> list[str]:
    return [c for c in page.locator("table.ratings tbody tr").evaluate_all("rs => rs.map(r => r.dataset.category)")][:n]


def steps(page) -> list[str]:
    return page.locator("#next-steps li").evaluate_all("ls => ls.map(l => l.dataset.node)")


def facts_url(server: str) -> str:
    return f"{server}/?" + urlencode([(f"fact.{k}", v) for k, v in SEED_FACTS.items()] + [("as_of", "2026-05-30")])


def test_typed_seed_scenario_gives_variant_3_and_a_what_if_changes_the_next_step(server, page):
    pytest.importorskip("workup.intake.text", reason="the free-text intake (workup.intake.text) is not in this build yet")
    page.goto(server + "/")
    page.get_by_role("textbox", name=re.compile(r"^Scenario")).fill(SEED_TEXT)
    page.get_by_role("button", name="Get recommendation").click()
    page.wait_for_selector("#result")
    assert page.locator(".variant-no").inner_text() == "Variant 3"
    assert "Cervical Pain or Cervical Radiculopathy" in page.locator(".summary .eyebrow").text_content()
    assert set(usually_appropriate(page)) == USUALLY_APPROPRIATE_V3
    assert first_rows(page, 4) == ["usually-appropriate"] * 4
    negated = page.locator('table.facts tr[data-status="negated"]')
    assert negated.count() >= 1 and "trauma" in negated.first.inner_text().lower()
    assert "text=" in page.url and "fact.age=&" not in page.url  # the scenario is in a short address
    shot(page, "seed-typed")
    before = steps(page)
    assert before[0] == "radiographs"
    page.get_by_role("link", name=HARDWARE_FAILURE).click()
    page.wait_for_function("() => document.querySelector('#next-steps li')?.dataset.node === 'refer-hardware-failure'")
    assert steps(page) != before
    assert "fact.hardware_failure=true" in page.url
    assert page.get_by_role("textbox", name=re.compile(r"^Scenario")).input_value() == SEED_TEXT  # nothing to retype
    shot(page, "seed-typed-hardware-failure")


def test_seed_page_from_facts_what_if_updates_in_place_and_back_restores(server, page):
    page.goto(facts_url(server))
    assert page.locator(".variant-no").inner_text() == "Variant 3"
    assert set(usually_appropriate(page)) == USUALLY_APPROPRIATE_V3
    assert first_rows(page, 4) == ["usually-appropriate"] * 4
    assert steps(page) == ["radiographs", "flexext"]
    assert page.locator("svg.wu-pathway g.on").count() == 5
    shot(page, "seed-facts")
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("link", name="Normal radiographs, persistent arm symptoms").click()
    page.wait_for_function("() => document.querySelector('#next-steps li')?.dataset.node === 'mri-noncontrast'")
    assert page.evaluate("window.__sameDocument") is True  # enhanced: no full reload
    assert "fact.xray_normal=true" in page.url
    page.get_by_role("link", name="MRI contraindicated").click()
    page.wait_for_function("() => document.querySelector('#next-steps li')?.dataset.node === 'ct-myelography'")
    assert page.locator('svg.wu-pathway g.on[data-node="ct-myelography"]').count() == 1
    shot(page, "seed-facts-mri-contraindicated")
    page.go_back()
    page.wait_for_function("() => document.querySelector('#next-steps li')?.dataset.node === 'mri-noncontrast'")


def test_what_if_works_with_javascript_off_and_by_keyboard(server, browser):
    ctx = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    try:
        page.goto(facts_url(server))
        link = page.get_by_role("link", name=HARDWARE_FAILURE)
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"fact\.hardware_failure=true"))
        assert steps(page)[0] == "refer-hardware-failure"
        assert "Added to the scenario" in page.locator(".applied").inner_text()
    finally:
        ctx.close()


def test_guide_page_opens_from_the_result_and_prints_without_controls(server, page):
    page.goto(facts_url(server))
    page.get_by_role("link", name="Read the guide for this scenario").click()
    page.wait_for_url(re.compile(r"/guide/cervical-pain-3$"))
    assert page.locator('.guide-nav a[aria-current="page"]').get_attribute("href") == "/guide/cervical-pain-3"
    routes = page.locator('article.guide a[href^="/guide/"]:not([href^="/guide/topic/"])')
    assert routes.count() >= 1
    shot(page, "guide-cervical-pain-3")
    page.emulate_media(media="print")
    assert page.locator(".guide-nav").is_hidden()
    page.emulate_media(media="screen")
    href = routes.first.get_attribute("href")
    routes.first.click()
    page.wait_for_url(re.compile(re.escape(href) + "$"))
    assert page.locator("article.guide").is_visible()
    page.goto(server + "/guide/topic/cervical-pain")
    assert page.locator(".guide-nav ol li").count() >= 3
    shot(page, "guide-topic-cervical-pain")


def test_every_control_has_a_label_and_the_what_ifs_are_reachable_by_tab(server, page):
    page.goto(server + "/?" + urlencode({"fact.age": "58", "fact.region": "cervical", "fact.pain": "true",
                                         "as_of": "2026-05-30"}))
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.name || el.id)""")
    assert unlabelled == []
    assert page.locator(".question").count() >= 1  # this scenario asks questions, with an answer form
    page.goto(facts_url(server))
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        cls = page.evaluate("document.activeElement && document.activeElement.className")
        reached.add(cls)
        if cls == "whatif-link":
            break
    assert "whatif-link" in reached


def test_decision_tree_scrolls_to_the_current_step(server, page):
    page.set_viewport_size({"width": 800, "height": 900})  # narrow: the current step starts off-screen
    page.goto(facts_url(server))
    wrap = page.locator(".svg-wrap")
    assert wrap.evaluate("w => w.scrollWidth > w.clientWidth")  # the tree is wider than the page
    visible = wrap.evaluate("""w => { const r = w.querySelector('.wu-node.now rect').getBoundingClientRect();
                                      const b = w.getBoundingClientRect(); return r.left >= b.left && r.right <= b.right; }""")
    assert visible


TREE_BOX = """w => {
    const svg = w.querySelector('svg.wu-pathway'), s = getComputedStyle(w);
    const box = r => { const b = r.getBoundingClientRect(); return {l: b.left, r: b.right, t: b.top, b: b.bottom}; };
    const nodes = [...w.querySelectorAll('.wu-node rect')].map(box);
    const edge = {r: Math.max(...nodes.map(n => n.r)), b: Math.max(...nodes.map(n => n.b))};
    return {wrap: box(w), tree: box(svg), overflowX: s.overflowX, overflowY: s.overflowY,
            scrollW: w.scrollWidth, clientW: w.clientWidth, scrollH: w.scrollHeight, clientH: w.clientHeight,
            nodeRight: edge.r, nodeBottom: edge.b};
}"""


def _inside(a: dict, b: dict, slack: float = 1.0) -> bool:
    return a["l"] >= b["l"] - slack and a["r"] <= b["r"] + slack and a["t"] >= b["t"] - slack and a["b"] <= b["b"] + slack


@pytest.mark.parametrize("where", ["guide", "consultation"])
def test_the_largest_decision_tree_fits_or_scrolls_inside_its_box_at_1280(server, page, where):
    """cervical-postop (1484 × 1096 px drawn) at 1280 × 800: no page overflow, the tree is never cut off
    out of reach, and its box fits the screen so both of its scrollbars can be seen."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(server + "/guide/cervical-pain-3" if where == "guide" else facts_url(server))
    assert page.locator('svg.wu-pathway g[data-node="refer-hardware-failure"]').count() == 1  # cervical-postop
    width = page.evaluate("() => ({doc: document.documentElement.scrollWidth, vw: window.innerWidth, vh: window.innerHeight})")
    assert width["doc"] <= width["vw"], width  # no horizontal page overflow
    wrap = page.locator(".svg-wrap")
    wrap.scroll_into_view_if_needed()
    m = wrap.evaluate(TREE_BOX)
    assert 0 <= m["wrap"]["l"] and m["wrap"]["r"] <= width["vw"], m  # the box itself is on the page
    assert m["tree"]["r"] - m["tree"]["l"] > m["clientW"], "the test needs a tree wider than its box"
    if not _inside(m["tree"], m["wrap"]):  # then the box must scroll in each direction the tree overflows
        if m["tree"]["r"] > m["wrap"]["r"] + 1:
            assert m["overflowX"] in ("auto", "scroll") and m["scrollW"] > m["clientW"], m
        if m["tree"]["b"] > m["wrap"]["b"] + 1:
            assert m["overflowY"] in ("auto", "scroll") and m["scrollH"] > m["clientH"], m
    assert m["wrap"]["b"] - m["wrap"]["t"] <= width["vh"], m  # the whole box, scrollbars too, fits the screen
    shot(page, f"tree-1280-{where}")
    # Scrolled to its far corner, the last column and the lowest node are inside the box: nothing is out of reach.
    wrap.evaluate("w => { w.scrollLeft = w.scrollWidth; w.scrollTop = w.scrollHeight; }")
    far = wrap.evaluate(TREE_BOX)
    assert far["nodeRight"] <= far["wrap"]["r"] + 1 and far["nodeBottom"] <= far["wrap"]["b"] + 1, far
    assert page.evaluate("document.documentElement.scrollWidth") <= width["vw"]


def test_the_current_step_is_in_view_inside_a_tall_tree(server, page):
    """The box is shorter than cervical-postop: it starts scrolled so the current step shows, across and down."""
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(facts_url(server))
    wrap = page.locator(".svg-wrap")
    assert wrap.evaluate("w => w.scrollHeight > w.clientHeight")  # taller than its box at this size
    visible = wrap.evaluate("""w => { const r = w.querySelector('.wu-node.now rect').getBoundingClientRect();
                                      const b = w.getBoundingClientRect();
                                      return r.left >= b.left && r.right <= b.right && r.top >= b.top && r.bottom <= b.bottom; }""")
    assert visible
