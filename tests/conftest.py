"""Every test runs with its own empty data directory, so a developer's own import never leaks in."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("WORKUP_DATA_DIR", str(tmp_path_factory.mktemp("workup-data")))
