"""The Spark engine gives the local engine's outputs, byte for byte (local[2])."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

pytest.importorskip("pyspark", reason="pyspark (the spark extra) is not installed")
if shutil.which("java") is None:
    pytest.skip("no Java runtime; install it with scripts/ci/setup-java.sh", allow_module_level=True)


@pytest.mark.parametrize("name, n", [("log.parquet", 300), ("bulk", 149)])
def test_local_and_spark_engines_give_identical_outputs(tmp_path, name, n):
    from workup.audit.demo import order_log, write_order_log
    from workup.audit.run import audit_orders

    src = tmp_path / name
    write_order_log(order_log(n, 21), src, "ndjson" if name == "bulk" else None)
    if name == "bulk":  # a line the NDJSON reader refuses travels to Spark's workers as a refusal
        (src / "ServiceRequest.2.ndjson").write_text('{"resourceType": "ServiceRequest"\n', encoding="utf-8")
    kw = dict(as_of=date(2026, 1, 1), use_imported=False, progress=False)
    local = audit_orders(src, tmp_path / "local", workers=2, **kw)
    spark = audit_orders(src, tmp_path / "spark", engine="spark", spark_master="local[2]", **kw)
    assert spark["rows_in"] == local["rows_in"] == n + (name == "bulk")
    assert spark["rows_refused"] >= 1
    assert name != "bulk" or spark["refused_by_code"].get("IN275") == 1
    for out in ("orders.parquet", "orders.csv", "refused.csv", "summary.json", "report.html"):
        assert (tmp_path / "spark" / out).read_bytes() == (tmp_path / "local" / out).read_bytes(), out
    assert not (tmp_path / "spark" / "_spark").exists()
