"""Every development vignette renders as a page whose variant matches the engine's answer.

Reads ../shared/vignettes/ (relative to the repository root); skipped when absent.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient



def make_app(tmp_path: Path):
    """The real service app (the web router alone when the service is not importable)."""
    try:
        from workup.service.app import create_app
        from workup.service.config import Settings
    except ImportError:
        from fastapi import FastAPI

        from workup.service.web import router

        app = FastAPI()
        app.include_router(router)
        return app
    return create_app(Settings(dev_insecure=True, audit_path=tmp_path / "audit.sqlite3"))

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / ".." / "shared" / "vignettes"
FILES = ("dev.jsonl", "dev_pathways.jsonl")


def vignettes() -> list[dict]:
    out = []
    for name in FILES:
        path = SHARED / name
        if path.exists():
            out.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return out


@pytest.mark.skipif(not vignettes(), reason="../shared/vignettes is not available")
def test_every_vignette_page_shows_the_engines_answer(tmp_path):
    pytest.importorskip("workup.intake.text", reason="the free-text intake is not in this build")
    from workup.consult import consult_payload
    from workup.kb import load

    kb = load()
    client = TestClient(make_app(tmp_path))
    for v in vignettes():
        r = client.get("/?" + urlencode({"text": v["text"], "as_of": "2026-05-30"}))
        assert r.status_code == 200, v["id"]
        rec = consult_payload({"text": v["text"]}, kb, date(2026, 5, 30)).recommendation
        shown = re.search(r'<span class="variant-no">Variant (\d+)</span>', r.text)
        if rec.variant is None:
            assert shown is None, v["id"]
        else:
            assert shown and int(shown.group(1)) == rec.variant.source_variant, v["id"]
        nodes = re.findall(r'data-node="([^"]+)"', r.text.split('id="next-steps"')[1].split("</ol>")[0]) if rec.next_steps else []
        assert nodes == [s.node_id for s in rec.next_steps], v["id"]
