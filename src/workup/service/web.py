"""Clinician web pages: the scenario form with its recommendation, what-ifs and guide pages.

Server-rendered (Jinja2) and usable without JavaScript: the form is a plain GET form, so
every page, answered question and what-if is a bookmarkable URL (``/?text=…&fact.x=true``).
All clinical content comes from the engine (:func:`workup.consult.consult_payload`), the
JSON document (:func:`workup.render.document.to_document`) and the guide renderer; this
module only arranges it for reading.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from workup.audit.record import consultation_record, rating_entry
from workup.durations import written_days
from workup.errors import IntakeError, WorkupError
from workup.service import guides
from workup.service.values import format_value, url_value
from workup.types import Category

router = APIRouter()

_HERE = Path(__file__).resolve().parent
STRUCTURED = ("age", "sex", "region", "days_since_surgery")  # the short form's fields, as facts
CATEGORY_ORDER = tuple(Category)  # usually appropriate first
_STEP_LABEL = {"imaging": "Imaging", "referral": "Referral", "labs": "Labs", "clinical-assessment": "Assessment",
               "conservative-care": "Conservative care", "escalate": "Escalate", "defer": "Defer"}
_STATIC = {"style.css": "text/css; charset=utf-8", "page.js": "text/javascript; charset=utf-8"}


@lru_cache(maxsize=1)
def templates() -> Environment:
    """The Jinja2 environment for the page templates (autoescaping on)."""
    env = Environment(loader=FileSystemLoader(str(_HERE / "templates")), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["fact_value"] = format_value
    return env


def _kb(request: Request):
    """The knowledge base: the service's own (``create_app`` state), else the built-in pack."""
    st = getattr(request.app.state, "workup", None)
    kb = getattr(st, "kb", None)
    if kb is None:
        from workup.kb import load

        kb = load()
    return kb


def _today(request: Request) -> date:
    """The consultation date when the URL gives none: the service clock's day (the boundary)."""
    clock = getattr(getattr(request.app.state, "workup", None), "clock", None)
    return clock().date() if clock is not None else date.today()


def _page(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = templates().get_template(name).render(**ctx)
    return HTMLResponse(html, status_code=status)


# --------------------------------------------------------------------- values and URLs


WAS = "was."  # a what-if's note of the value the scenario stated for a fact it changed: was.<fact>=<value>


def page_url(text: str | None, facts: dict[str, str], as_of: str | None, was: dict[str, str] | None = None) -> str:
    """The bookmarkable URL of a scenario: text first, then facts in id order.

    ``was`` holds the stated values of facts that what-ifs changed; a value is kept only while
    its fact is in ``facts`` with another value, so removing or restoring a fact drops its note.
    """
    items: list[tuple[str, str]] = []
    if text:
        items.append(("text", text))
    items.extend((f"fact.{k}", v) for k, v in sorted(facts.items()))
    items.extend((WAS + k, v) for k, v in sorted((was or {}).items()) if k in facts and facts[k] != v)
    if as_of:
        items.append(("as_of", as_of))
    return "/?" + urlencode(items) if items else "/"


def parse_query(kb, params: list[tuple[str, str]]) -> tuple[str | None, dict[str, str], dict[str, Any], list[str]]:
    """Split query parameters into text, raw fact strings, JSON fact values and problems."""
    text: str | None = None
    raw: dict[str, str] = {}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in params:
        if key == "text":
            text = value if value.strip() else None
        elif key.startswith("fact."):
            fid = key[5:]
            value = value.strip()
            fd = kb.facts.get(fid)
            if fd is None:
                problems.append(f"{fid}: not a fact workup knows")
                continue
            if value == "" or value.lower() == "unknown":
                raw.pop(fid, None)
                values.pop(fid, None)
                continue
            try:
                values[fid] = _coerce(fd, value)
            except ValueError as e:
                problems.append(f"{fd.label}: {e}")
                continue
            raw[fid] = value
    return text, raw, values, problems


def parse_was(kb, params: list[tuple[str, str]], values: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any], list[str]]:
    """The ``was.<fact>`` notes of stated values that what-ifs changed: (raw strings, values, problems).

    A note is kept only for a fact the address also sets, to another value (else nothing changed it).
    """
    raw: dict[str, str] = {}
    out: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in params:
        if not key.startswith(WAS):
            continue
        fid, value = key[len(WAS):], value.strip()
        fd = kb.facts.get(fid)
        if fd is None:
            problems.append(f"{key}: not a fact workup knows")
            continue
        try:
            was = _days(fd, _coerce(fd, value))
        except ValueError as e:
            problems.append(f"{fd.label} (as stated): {e}")
            continue
        if fid in values and _days(fd, values[fid]) != was:
            raw[fid], out[fid] = value, was
    return raw, out, problems


def _days(fd, value: Any) -> Any:
    """A duration written as text (``2y``, ``6 weeks``) in days, so two spellings of one value compare equal."""
    if fd.unit == "days" and isinstance(value, str):
        days = written_days(value)
        return value if days is None else days
    return value


def _coerce(fd, value: str) -> Any:
    if fd.type == "bool":
        v = value.lower()
        if v in ("true", "yes", "1"):
            return True
        if v in ("false", "no", "0"):
            return False
        raise ValueError(f"expected yes or no, got {value!r}")
    if fd.type == "number":
        try:
            return float(value)
        except ValueError:
            if fd.unit == "days":
                return value  # a duration such as 6w or 2y; checked by the facts intake
            raise ValueError(f"expected a number, got {value!r}") from None
    return value


# --------------------------------------------------------------------- the consultation page


def _run(kb, reading: Any, facts: dict[str, Any], as_of: date):
    """Evaluate the scenario with ``facts`` over the facts already read from its text (read once)."""
    from workup.engine import evaluate
    from workup.intake import parse_facts
    from workup.types import Facts

    base = reading.facts if reading is not None else Facts()
    return evaluate(parse_facts(facts, kb).merged_over(base), kb, as_of)


CONTEXT_CHARS = 36  # characters of the sentence shown either side of the words read


def _snippet(sentence: str, phrase: str) -> tuple[str, str, str]:
    """(before, words, after) with the sentence clipped around the words that were read."""
    at = sentence.lower().find(phrase.lower()) if phrase else -1
    if at < 0:
        return "", sentence, ""
    before, words, after = sentence[:at], sentence[at:at + len(phrase)], sentence[at + len(phrase):]
    if len(before) > CONTEXT_CHARS:
        before = "…" + before[-CONTEXT_CHARS:].split(" ", 1)[-1]
    if len(after) > CONTEXT_CHARS:
        after = after[:CONTEXT_CHARS].rsplit(" ", 1)[0] + "…"
    return before, words, after


def _corrections(kb, fid: str, value: Any, text, raw, as_of, was=None) -> list[tuple[str, str]]:
    """Links that correct one fact as read: the other answer of a yes/no fact, the other values of a
    choice. Each is the page's own address with the corrected fact, so it works without JavaScript."""
    fd = kb.facts.get(fid)
    if fd is None:
        return []
    if fd.type == "bool" and isinstance(value, bool):
        flip = "false" if value else "true"
        return [("not so" if value else "yes, present", page_url(text, {**raw, fid: flip}, as_of, was))]
    if fd.type == "enum":
        return [(v, page_url(text, {**raw, fid: v}, as_of, was)) for v in fd.values or [] if v != value]
    return []


def _understood(kb, reading: Any, text=None, raw=None, as_of=None, was=None) -> list[dict[str, Any]]:
    """Rows for "what was understood": one per fact, value and status, with the words behind it,
    and the links that correct it (``fix``)."""
    if reading is None:
        return []
    raw = raw or {}
    facts = reading.facts
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for item in reading.to_list():
        fid = item.get("fact") or item.get("id") or ""
        fd = kb.facts.get(fid)
        ev = item.get("evidence")
        if isinstance(ev, list):
            ev = " · ".join(e.get("text", "") if isinstance(e, dict) else str(e) for e in ev)
        elif isinstance(ev, dict):
            ev = ev.get("text", "")
        ev = str(ev or "")
        status = str(item.get("status") or item.get("assertion") or "affirmed")
        value = format_value(item.get("value"), fd.unit if fd else None)
        row = rows.setdefault((fid, value, status), {
            "fact": fid, "label": fd.label if fd else fid, "value": value, "status": status, "mentions": [],
            "fix": [] if fid in raw or fid not in facts or facts[fid].value != item.get("value")
            else _corrections(kb, fid, item.get("value"), text, raw, as_of, was),
        })
        mention = _snippet(ev, str(item.get("phrase") or ""))
        if mention not in row["mentions"]:
            row["mentions"].append(mention)
    return list(rows.values())


def _cite_map(doc: dict[str, Any], kb, extra_ids: list[str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The numbered references: the recommendation's own, then any cited only by the FAQ."""
    refs = list(doc.get("citations", []))
    by_id = {c["id"]: c["n"] for c in refs}
    for cid in extra_ids:
        if cid not in by_id and cid in kb.citations:
            n = len(refs) + 1
            c = kb.citations[cid]
            refs.append({"n": n, "id": cid, "text": c.text, **({"url": c.url} if c.url else {})})
            by_id[cid] = n
    return refs, by_id


def _questions(kb, missing: list[dict[str, Any]], text, raw, as_of, was=None) -> list[dict[str, Any]]:
    out = []
    for m in missing:
        fd = kb.facts.get(m["fact"])
        q: dict[str, Any] = {"fact": m["fact"], "question": m["question"], "options": [], "input": None}
        if fd is None or fd.type == "bool":
            q["options"] = [(lbl, page_url(text, {**raw, m["fact"]: v}, as_of, was)) for lbl, v in (("Yes", "true"), ("No", "false"))]
        elif fd.type == "enum":
            q["options"] = [(v, page_url(text, {**raw, m["fact"]: v}, as_of, was)) for v in fd.values or []]
        else:
            hint = "e.g. 6w, 3mo or 2y" if fd.unit == "days" else (fd.unit or "")
            hidden = [("text", text)] if text else []
            hidden += [(f"fact.{k}", v) for k, v in sorted(raw.items()) if k != m["fact"]]
            hidden += [(WAS + k, v) for k, v in sorted((was or {}).items()) if k in raw and k != m["fact"]]
            if as_of:
                hidden.append(("as_of", as_of))
            q["input"] = {"name": f"fact.{m['fact']}", "hint": hint, "hidden": hidden, "label": fd.label}
        out.append(q)
    return out


def _step_rows(doc_steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**s, "kind_label": _STEP_LABEL.get(s["kind"], s["kind"])} for s in doc_steps]


def _about(kb, doc: dict[str, Any], procedures: list[dict[str, Any]]) -> dict[str, Any]:
    """The pack's statements about the matched topic and variant, with numbered references.

    Each procedure row gains ``why``: the variant's cited rationale for its rating, if any.
    """
    ctx: dict[str, Any] = {}
    topic = kb.topics.get(doc["topic"]["id"]) if doc["topic"] else None
    variant = kb.variants.get(doc["variant"]["id"]) if doc["variant"] else None
    faq = list(topic.faq) if topic else []
    differentials = list(topic.differentials) if topic else []
    exclusions = list(variant.exclusions) if variant else []
    rationales = {r.procedure: r.rationale for r in (variant.ratings if variant else []) if r.rationale}
    extra_ids = [cid for x in (*faq, *differentials, *exclusions, *rationales.values()) for cid in x.citations]
    refs, by_id = _cite_map(doc, kb, extra_ids)

    def numbers(ids: list[str]) -> list[int]:
        return sorted({by_id[c] for c in ids if c in by_id})

    ctx["references"] = refs
    ctx["faq"] = [{"q": f.question, "a": f.answer, "cites": numbers(f.citations)} for f in faq]
    ctx["differentials"] = [{"name": d.name, "text": d.text, "cites": numbers(d.citations)} for d in differentials]
    ctx["who_fits"] = variant.who_fits if variant else None
    ctx["exclusions"] = [
        {"text": x.text, "cites": numbers(x.citations), "to": x.routes_to,
         "to_label": (f"{kb.topic_of(x.routes_to).source.title}, Variant {kb.variants[x.routes_to].number}"
                      if x.routes_to in kb.variants else None)}
        for x in exclusions
    ]
    for p in procedures:
        st = rationales.get(p["id"])
        p["why"] = {"text": st.text, "cites": numbers(st.citations)} if st else None
    ctx["topic"] = topic
    ctx["related"] = [kb.topics[t] for t in (topic.related if topic else []) if t in kb.topics]
    return ctx


def _pathway(kb, rec, text, raw, values, as_of_raw, run, was_raw=None, was=None) -> dict[str, Any]:
    """The decision tree with the current path, and the what-ifs the engine confirms (see whatif.py).

    Each what-if carries the warnings for facts the scenario stated that it would change, and
    its address notes their stated values (``was.<fact>``) so the page it opens warns too.
    """
    ctx: dict[str, Any] = {}
    ctx["whatifs"] = []
    ctx["svg"] = None
    if rec.pathway_id and rec.pathway_id in kb.pathways:
        from workup.render.svg import pathway_svg
        from workup.service.whatif import offers, warning

        pw = kb.pathways[rec.pathway_id]
        ctx["pathway"] = pw
        ctx["svg"] = Markup(pathway_svg(kb, pw, rec.path, [s.node_id for s in rec.next_steps]))
        ctx["path_steps"] = [{"id": n, "type": pw.nodes[n].type, "text": pw.nodes[n].text} for n in rec.path if n in pw.nodes]
        for w in offers(kb, rec, values, run, was):
            facts = {**raw, **{f: url_value(v) for f, v in w.facts}}
            notes = {**(was_raw or {}), **{c.fact: url_value(c.was) for c in w.contradictions}}
            ctx["whatifs"].append({
                "label": w.label,
                "node": w.node,
                "url": page_url(text, facts, as_of_raw, notes),
                "warnings": [warning(kb, c, applied=False) for c in w.contradictions],
                "changes": [(kb.facts[f].label, format_value(v, kb.facts[f].unit)) for f, v in w.facts if f in kb.facts],
                "steps": _step_rows([s.to_dict() for s in w.rec.next_steps]),
                "variant": w.rec.variant.to_dict() if w.rec.variant else None,
                "variant_changed": (w.rec.variant.id if w.rec.variant else None) != (rec.variant.id if rec.variant else None),
            })
    return ctx


def consultation_context(kb, params: list[tuple[str, str]], today: date,
                         max_text_chars: int | None = None) -> tuple[int, dict[str, Any]]:
    """Everything the consultation page shows for these query parameters (status, context).

    A text longer than ``max_text_chars`` is refused before it is read (422, ``SV424``), and
    a note over the intake's work budget is refused with its code (422, ``IN228``).
    """
    from workup.consult import consult_payload
    from workup.render.document import to_document

    text, raw, values, problems = parse_query(kb, params)
    was_raw, was, was_problems = parse_was(kb, params, values)
    problems += was_problems
    as_of_raw = next((v for k, v in params if k == "as_of" and v.strip()), None)
    ctx: dict[str, Any] = {"text": text or "", "raw": raw, "as_of": as_of_raw, "problems": problems,
                           "notice": None, "doc": None, "structured": _structured(kb, raw),
                           "was_hidden": [(WAS + k, v) for k, v in sorted(was_raw.items())],
                           "page_url": page_url(text, raw, as_of_raw, was_raw)}
    if problems:
        return 400, ctx
    if text and max_text_chars is not None and len(text) > max_text_chars:
        ctx["problems"] = [f"the scenario text has {len(text):,} characters, more than the "
                           f"{max_text_chars:,} this page reads; give the clinical question in a few sentences"]
        ctx["error_code"] = "SV424"
        return 422, ctx
    if not text and not values:
        return 200, ctx
    try:
        as_of = date.fromisoformat(as_of_raw) if as_of_raw else today
    except ValueError:
        ctx["problems"] = [f"as_of must be a date as YYYY-MM-DD, got {as_of_raw!r}"]
        return 400, ctx
    payload: dict[str, Any] = {"facts": values}
    if text:
        payload["text"] = text
    try:
        try:
            result = consult_payload(payload, kb, as_of)
        except IntakeError as e:
            if e.code != "IN200" or not text:
                raise
            # The free-text reader is not installed: say so, and carry on with the given facts.
            ctx["notice"] = ("Free-text reading is not available in this installation, so the scenario text "
                             "was not read. Answer the questions below or use the structured fields.")
            payload.pop("text")
            if not values:
                return 200, ctx
            result = consult_payload(payload, kb, as_of)
            text_for_runs = None
        else:
            text_for_runs = text
    except WorkupError as e:
        ctx["problems"] = [e.message] + [f"{d.get('where', '')}: {d.get('message', '')}" for d in e.details]
        ctx["error_code"] = e.code  # the same code the API and the CLI give, to quote when reporting it
        if e.code == "IN228":  # over the work budget: 422, as the JSON API answers it
            return 422, ctx
        return 400, ctx
    rec, reading = result.recommendation, result.reading
    doc = to_document(rec, include_trace=True)
    ctx["doc"] = doc
    ctx["recommendation"] = rec
    ctx["understood"] = _understood(kb, reading if text_for_runs else None, text, raw, as_of_raw, was_raw)
    ctx["procedures"] = sorted(
        [{**p, "category_label": Category(p["category"]).label} for p in doc["procedures"]],
        key=lambda p: (CATEGORY_ORDER.index(Category(p["category"])), -p["rating"]),
    )
    ctx["steps"] = _step_rows(doc["next_steps"])
    ctx["questions"] = _questions(kb, doc["missing_facts"], text, raw, as_of_raw, was_raw)
    from workup.render.text import assumption_groups

    ctx["assumption_groups"] = assumption_groups(rec.assumptions)
    ctx["assumed"] = _assumed(kb, rec.assumptions, text, raw, as_of_raw, was_raw)
    ctx["applied"] = _applied(kb, text, raw, values, as_of_raw, was_raw, was)
    ctx.update(_about(kb, doc, ctx["procedures"]))
    ctx.update(_pathway(kb, rec, text, raw, values, as_of_raw,
                        lambda o: _run(kb, reading if text_for_runs else None, o, as_of), was_raw, was))
    return 200, ctx


def _applied(kb, text, raw, values, as_of, was_raw, was) -> list[dict[str, Any]]:
    """The facts added to the scenario by answers and what-ifs, each with the link that takes it back.

    A fact a what-if changed against what the scenario stated is listed even when it is one of
    the form's own fields, with its warning; its link puts the stated value back.
    """
    from workup.service.whatif import Contradiction, warning

    out = []
    for k in sorted(raw):
        if k in STRUCTURED and k not in was:
            continue
        fd = kb.facts[k]
        item = {"fact": k, "label": fd.label, "value": format_value(values[k], fd.unit), "warning": None,
                "action": "remove", "remove": page_url(text, {kk: vv for kk, vv in raw.items() if kk != k}, as_of, was_raw)}
        if k in was:
            item["warning"] = warning(kb, Contradiction(k, was[k], values[k]))
            item["action"] = "put back"
            item["remove"] = page_url(text, {**raw, k: was_raw[k]}, as_of, was_raw)
        out.append(item)
    return out


def _assumed(kb, assumptions, text, raw, as_of, was=None) -> list[tuple[str, list[dict[str, str]]]]:
    """The assumptions grouped for the page, each with the link that says the opposite."""
    from workup.render.text import assumption_groups, assumption_head

    out = []
    for head, labels in assumption_groups(assumptions):
        items = []
        for a, label in zip([a for a in assumptions if assumption_head(a) == head], labels):
            flip = "false" if a.value is True else "true"
            items.append({"label": label, "fact": a.fact, "url": page_url(text, {**raw, a.fact: flip}, as_of, was),
                          "action": "not so" if a.value is True else "present"})
        out.append((head, items))
    return out


def _structured(kb, raw: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for fid in STRUCTURED:
        fd = kb.facts.get(fid)
        if fd is None:
            continue
        out.append({"id": fid, "name": f"fact.{fid}", "label": fd.label, "type": fd.type, "choices": fd.values or [],
                    "value": raw.get(fid, ""), "hint": "e.g. 6w, 3mo, 2y" if fd.unit == "days" else ""})
    return out


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def consultation_page(request: Request) -> Response:
    """The clinician page: type a scenario, read the recommendation, try what-ifs."""
    kb = _kb(request)
    params = list(request.query_params.multi_items())
    if any(not v.strip() for _, v in params):
        # The form sends its empty fields too: redirect to the short, bookmarkable address.
        return RedirectResponse(_canonical(params), status_code=303)
    cap = _max_text_chars(request)
    status, ctx = consultation_context(kb, params, _today(request), cap)
    resp = _page("index.html", status, kb=kb, max_text_chars=cap, **ctx)
    resp.headers["Cache-Control"] = "no-store"  # the page holds a patient's scenario
    consult_id = _audit(request, ctx.get("recommendation"))
    if consult_id is not None:
        resp.headers["X-Workup-Consult-Id"] = consult_id
    return resp


def _max_text_chars(request: Request) -> int | None:
    """The page's text cap from the service settings (None on a bare app without them)."""
    st = getattr(request.app.state, "workup", None)
    return getattr(getattr(st, "settings", None), "page_max_text_chars", None)


def _audit(request: Request, rec: Any) -> str | None:
    """Record a page that answered a scenario in the service's audit log; its consultation id.

    Like the API's: the variant, status and questions, never the scenario's text. Nothing is
    recorded for an empty form or refused input, or when the app has no audit store.
    """
    st = getattr(request.app.state, "workup", None)
    if rec is None or st is None:
        return None
    now = st.clock()
    consult_id = f"urn:uuid:{st.new_id()}"
    st.store.record_consultation(consultation_record(
        consult_id=consult_id, at=now, content_version=st.kb.version, hook="web", service="web",
        hook_instance=None, order_codes=[], ratings=[rating_entry("", rec, None)], cards=[],
    ))
    return consult_id


def _canonical(params: list[tuple[str, str]]) -> str:
    kept = [(k, v) for k, v in params if v.strip()]
    return "/?" + urlencode(kept) if kept else "/"


# --------------------------------------------------------------------- guide pages


@router.get("/guide/topic/{topic_id}", response_class=HTMLResponse, include_in_schema=False)
def topic_guide_page(request: Request, topic_id: str) -> HTMLResponse:
    """A topic's parent guide page, with links to each variant's guide."""
    kb = _kb(request)
    if topic_id not in kb.topics:
        return _page("missing.html", 404, kb=kb, what=f"No topic called {topic_id!r}.", topics=kb.topics)
    body = guides.guide_html(kb, topic_id=topic_id)
    return _page("guide.html", kb=kb, body=body, title=kb.topics[topic_id].title,
                 data=None if body else guides.topic_guide_data(kb, topic_id), kind="topic",
                 nav=guides.guide_nav(kb, topic_id, None), routes=[], variant=None, figure=None)


@router.get("/guide/{variant_id}", response_class=HTMLResponse, include_in_schema=False)
def variant_guide_page(request: Request, variant_id: str) -> HTMLResponse:
    """One variant's clinician guide, with links to the variants its exclusions route to."""
    kb = _kb(request)
    if variant_id not in kb.variants:
        return _page("missing.html", 404, kb=kb, what=f"No variant called {variant_id!r}.", topics=kb.topics)
    variant = kb.variants[variant_id]
    body = guides.guide_html(kb, variant_id=variant_id)
    # Exclusions that route elsewhere, unless the guide text already links there.
    routes = [{"text": x.text, "to": x.routes_to, "title": kb.variants[x.routes_to].title,
               "topic": kb.topic_of(x.routes_to).source.title, "number": kb.variants[x.routes_to].number}
              for x in variant.exclusions if x.routes_to and x.routes_to in kb.variants
              and not (body and f'href="/guide/{x.routes_to}"' in body)]
    return _page("guide.html", kb=kb, body=body, title=variant.title, kind="variant",
                 data=None if body else guides.variant_guide_data(kb, variant_id), figure=guides.pathway_figure(kb, variant_id),
                 nav=guides.guide_nav(kb, kb.variant_topic[variant_id], variant_id), routes=routes, variant=variant)


# --------------------------------------------------------------------- static files


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str) -> Response:
    """The page's own CSS and JavaScript (vendored; nothing is fetched from elsewhere)."""
    if name not in _STATIC:
        return Response("not found", status_code=404, media_type="text/plain")
    body = (_HERE / "static" / name).read_bytes()
    return Response(body, media_type=_STATIC[name], headers={"Cache-Control": "public, max-age=300"})
