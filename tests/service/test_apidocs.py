"""``/docs`` works offline: the page and its assets come from this server, never a CDN."""

from __future__ import annotations

import re


def test_docs_reference_no_external_url(make_client):
    client = make_client()
    page = client.get("/docs")
    assert page.status_code == 200
    refs = re.findall(r"""(?:src|href)\s*=\s*['"]([^'"]+)['"]|url:\s*['"]([^'"]+)['"]""", page.text)
    urls = [a or b for a, b in refs]
    assert urls, "the page names its assets"
    assert not [u for u in urls if re.match(r"(?i)^(https?:)?//", u)]
    assert "cdn" not in page.text.lower()
    for u in urls:
        assert client.get(u).status_code == 200, u


def test_redoc_which_has_no_bundled_copy_is_off(make_client):
    assert make_client().get("/redoc").status_code == 404
