"""A small demo order log audited once for the module's tests (the local engine, 2 workers)."""

from __future__ import annotations

from datetime import date

import pytest

pytest.importorskip("pyarrow", reason="pyarrow (the audit extra) is not installed")


@pytest.fixture(scope="session")
def demo_log(tmp_path_factory):
    """A 400-order demo log as CSV."""
    from workup.audit.demo import order_log, write_order_log

    path = tmp_path_factory.mktemp("log") / "log.csv"
    write_order_log(order_log(400, 11), path)
    return path


@pytest.fixture(scope="session")
def audited(demo_log, tmp_path_factory):
    """The demo log audited into a directory; returns (directory, summary)."""
    from workup.audit.run import audit_orders

    out = tmp_path_factory.mktemp("audit")
    s = audit_orders(demo_log, out, workers=2, as_of=date(2026, 1, 1), use_imported=False, progress=False)
    return out, s
