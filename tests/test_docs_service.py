"""docs/service.md, the operator's guide, names the settings and error codes the code has: no more, no fewer.

Settings: every ``WORKUP_*`` variable the guide names is a field of the service's
``Settings`` (pydantic-settings reads exactly those), its settings table lists every field,
and a default written there as a literal is the value the code defaults to. Error codes:
every code the guide names is raised somewhere under ``src/workup`` (as a string literal),
every code raised there is named, and the HTTP status the guide gives a code is the one the
service answers with.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workup.errors import EvaluationError, IntakeError, ServiceError
from workup.service.app import status_for
from workup.service.config import Settings

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
PROSE = re.sub(r"^```.*?^```", "", GUIDE, flags=re.S | re.M)  # without code blocks, whose "# …" lines are no headings
CODE = r"(?:KB|IN|EV|SV|WK)\d{3}"
VARIABLE = re.compile(r"\bWORKUP_[A-Z][A-Z0-9_]*")


def _section(title: str) -> str:
    """The text under a heading of the guide, up to the next heading of the same or a higher level."""
    m = re.search(rf"^(#+) {re.escape(title)}\s*$", PROSE, re.M)
    assert m, f"no section {title!r} in docs/service.md"
    level = len(m.group(1))
    end = re.compile(rf"^#{{1,{level}}} ", re.M).search(PROSE, m.end())
    return PROSE[m.end(): end.start() if end else len(PROSE)]


def _rows(text: str) -> list[list[str]]:
    """The cells of every table row in ``text`` (header and rule rows included)."""
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.lstrip().startswith("|")]


def _env_names() -> dict[str, str]:
    """``WORKUP_<FIELD>`` → field name, for every setting the service reads."""
    return {f"WORKUP_{name.upper()}": name for name in Settings.model_fields}


def _settings_table() -> dict[str, str]:
    """Variable → its default cell, from the guide's settings table."""
    out = {}
    for cells in _rows(_section("Settings")):
        m = re.fullmatch(r"`(WORKUP_[A-Z0-9_]+)`", cells[0])
        if m:
            out[m.group(1)] = cells[1]
    return out


def _raised_codes() -> set[str]:
    """Every error code written as a string literal in the package's source."""
    found: set[str] = set()
    for path in (ROOT / "src" / "workup").rglob("*.py"):
        found.update(re.findall(rf"[\"']({CODE})[\"']", path.read_text(encoding="utf-8")))
    return found


def test_every_variable_the_guide_names_is_a_setting_the_service_reads():
    named = set(VARIABLE.findall(GUIDE))
    assert named, "the guide names no WORKUP_* variable"
    assert named - set(_env_names()) == set()


def test_the_settings_table_lists_every_setting_once():
    rows = [cells[0] for cells in _rows(_section("Settings")) if cells[0].startswith("`WORKUP_")]
    assert len(rows) == len(set(rows)), "a variable is listed twice"
    assert set(_settings_table()) == set(_env_names())


def test_defaults_in_the_settings_table_are_the_code_defaults(monkeypatch):
    for var in list(__import__("os").environ):
        if var.startswith("WORKUP_"):
            monkeypatch.delenv(var)
    defaults = Settings()
    checked = 0
    for var, cell in _settings_table().items():
        field = _env_names()[var]
        if cell == "unset":
            assert getattr(defaults, field) is None, f"{var} is documented as unset by default"
            checked += 1
            continue
        literal = re.fullmatch(r"`([^`]*)`", cell)
        if literal is None:
            continue
        # the documented default, given as the variable's value, is the value the code uses without it
        monkeypatch.setenv(var, literal.group(1))
        assert getattr(Settings(), field) == getattr(defaults, field), f"{var}: documented default {cell}"
        monkeypatch.delenv(var)
        checked += 1
    assert checked >= len(_env_names()) - 2  # every default but the descriptive ones is checked


def test_every_error_code_the_guide_names_is_raised_by_the_code():
    named = set(re.findall(rf"\b{CODE}\b", GUIDE))
    assert named - _raised_codes() == set()


def test_every_error_code_the_code_raises_is_in_the_guide():
    assert _raised_codes() - set(re.findall(rf"\b{CODE}\b", GUIDE)) == set()


def _status_rows(title: str) -> list[tuple[str, str]]:
    out = []
    for cells in _rows(_section(title)):
        m = re.fullmatch(rf"`({CODE})`", cells[0])
        if m:
            out.append((m.group(1), cells[1]))
    return out


def test_the_http_status_given_for_each_service_code_is_the_services():
    rows = _status_rows("Service (`SV`)")
    assert len(rows) >= 10
    for code, cell in rows:
        number = re.match(r"\d{3}", cell)
        if number is None:  # start-up or CLI only: no HTTP answer
            continue
        # SV400 is the request-validation handler's code, which answers 422 (checked below)
        expected = 422 if code == "SV400" else status_for(ServiceError("x", code=code))
        assert int(number.group()) == expected, f"{code}: the guide says {cell}"


@pytest.mark.parametrize(("title", "cls"), [("Input (`IN`), answered 422", IntakeError),
                                            ("Engine (`EV`), answered 422", EvaluationError)])
def test_input_and_engine_codes_are_answered_422(title: str, cls: type):
    codes = [c for cells in _rows(_section(title)) for c in re.findall(rf"`({CODE})`", cells[0])]
    assert codes
    for code in codes:
        assert status_for(cls("x", code=code)) == 422, code


def test_a_request_the_model_refuses_is_answered_422_sv400(tmp_path):
    pytest.importorskip("httpx")
    from fastapi.testclient import TestClient

    from workup.service.app import create_app

    app = create_app(Settings(dev_insecure=True, audit_path=tmp_path / "audit.sqlite3"))
    try:
        r = TestClient(app).post("/v1/recommend", json={"text": 5})
        assert r.status_code == 422 and r.json()["error"]["code"] == "SV400"
    finally:
        app.state.workup.store.close()
