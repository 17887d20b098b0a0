"""Hostile requests: a forged Host header never reaches a redirect's Location."""

from __future__ import annotations

import pytest

from workup.service.guards import relative_location


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8443", "127.0.0.1:1"],
)
def test_trailing_slash_redirect_ignores_the_host_header(client, host):
    r = client.get("/guide/cervical-pain-3/", headers={"Host": host}, follow_redirects=False)
    assert 300 <= r.status_code < 400
    loc = r.headers["location"]
    assert loc == "/guide/cervical-pain-3"
    assert "evil" not in loc and "//" not in loc


def test_form_redirect_is_relative(client):
    r = client.get("/?text=neck+pain&age=", headers={"Host": "evil.example"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/")
    assert "evil.example" not in r.headers["location"]


@pytest.mark.parametrize(
    "given, expected",
    [
        ("http://evil.example/guide/x?a=1", "/guide/x?a=1"),
        ("//evil.example/x", "/x"),
        ("https://h/", "/"),
        ("/already/relative#f", "/already/relative#f"),
        ("http://evil.example", "/"),
    ],
)
def test_relative_location_drops_scheme_and_host(given, expected):
    assert relative_location(given) == expected
