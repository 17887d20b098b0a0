"""Shared fixtures for the service tests: settings on a temporary audit log, fixed clock and ids."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient  # noqa: E402

from workup.service.app import create_app  # noqa: E402
from workup.service.config import Settings  # noqa: E402

from service_helpers import NOW, Ids  # noqa: E402


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(dev_insecure=True, audit_path=tmp_path / "audit.sqlite3")


@pytest.fixture
def make_client(tmp_path):
    """Build a TestClient for settings overrides (audit log in tmp_path, fixed clock and ids)."""
    clients = []

    def make(new_id=None, **overrides) -> TestClient:
        base = {"dev_insecure": True, "audit_path": tmp_path / "audit.sqlite3"}
        base.update(overrides)
        app = create_app(Settings(**base), clock=lambda: NOW, new_id=new_id or Ids())
        c = TestClient(app, raise_server_exceptions=False)
        clients.append(app)
        return c

    yield make
    for app in clients:
        app.state.workup.store.close()


@pytest.fixture
def client(make_client) -> TestClient:
    return make_client()
