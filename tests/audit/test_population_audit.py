"""The population audit: demo log, per-order function, local engine, outputs."""

from __future__ import annotations

import csv
import json
from datetime import date

import pyarrow.parquet as pq
import pytest

from workup.audit.demo import COLUMNS, order_log, spec
from workup.audit.orders import COLUMNS as OUT_COLUMNS, OrderAuditor
from workup.audit.run import audit_orders, column_map
from workup.errors import IntakeError
from workup.kb import load


def test_demo_log_is_the_same_for_the_same_seed_and_differs_for_another():
    assert order_log(300, 5) == order_log(300, 5)
    assert order_log(300, 5) != order_log(300, 6)


def test_demo_log_has_outside_orders_malformed_rows_and_prone_providers():
    rows = order_log(2000, 3)
    outside = {spec().procedures[k].display for o in spec().outside for k in o.procedures}
    assert 0.05 < sum(r["procedure_display"] in outside for r in rows) / len(rows) < 0.25
    assert sum(r["patient_age"] == "old" or r["order_id"] == "" for r in rows) >= 2
    assert set(rows[0]) == set(COLUMNS)
    assert len({r["indication"] for r in rows}) > 100  # varied text, yet repeated
    assert len({r["indication"] for r in rows}) < len(rows) / 2


def _born_within(row):
    """The birth dates (ordinals, both ends in) that give the row its age on its order date."""
    on, age = date.fromisoformat(row["ordered_at"][:10]), int(row["patient_age"])
    return on.replace(year=on.year - age - 1).toordinal() + 1, on.replace(year=on.year - age).toordinal()


def test_demo_patient_keeps_one_sex_and_a_birth_date_across_their_orders():
    rows = [r for r in order_log(3000, 4) if r["patient_age"].isdigit() and r["ordered_at"][:4] == "2025"]
    by_patient: dict[str, list[dict]] = {}
    for r in rows:
        by_patient.setdefault(r["patient_id"], []).append(r)
    repeat = [orders for orders in by_patient.values() if len(orders) > 1]
    assert len(repeat) > 200  # patients come back
    assert sum(len({r["patient_age"] for r in orders}) > 1 for orders in repeat) > 10  # a year older, some of them
    for orders in repeat:
        assert len({r["patient_sex"] for r in orders}) == 1, orders[0]["patient_id"]
        spans = [_born_within(r) for r in orders]
        assert max(lo for lo, _ in spans) <= min(hi for _, hi in spans), orders[0]["patient_id"]  # one birth date fits
    ages = {sc.id: sc.ages for sc in spec().scenarios + spec().outside}
    assert 18 <= min(int(r["patient_age"]) for r in rows) and max(int(r["patient_age"]) for r in rows) <= max(
        hi for _, hi in ages.values())


def test_rows_in_equal_rows_out_plus_refused_and_each_refusal_has_its_row(audited, demo_log):
    out, s = audited
    assert s["rows_in"] == 400 == s["rows_out"] + s["rows_refused"]
    assert s["rows_refused"] >= 1
    with (out / "refused.csv").open(encoding="utf-8") as f:
        refused = list(csv.DictReader(f))
    with demo_log.open(encoding="utf-8") as f:
        src = list(csv.DictReader(f))
    for r in refused:
        assert r["code"].startswith("IN")
        assert src[int(r["row"]) - 1]["order_id"] == r["order_id"]
    table = pq.read_table(out / "orders.parquet")
    assert table.column_names == list(OUT_COLUMNS)
    assert table.num_rows == s["rows_out"]
    rows = sorted(set(table.column("row").to_pylist()) | {int(r["row"]) for r in refused})
    assert rows == list(range(1, 401))


def test_every_unrated_order_has_a_coded_reason_and_rated_ones_a_rating(audited):
    out, _ = audited
    t = pq.read_table(out / "orders.parquet").to_pylist()
    assert any(o["rated"] for o in t) and any(not o["rated"] for o in t)
    for o in t:
        if o["rated"]:
            assert 1 <= o["rating"] <= 9 and o["reason"] == "" and o["matched_procedure"]
        else:
            assert o["reason"] and o["rating"] is None and o["appropriateness"] == "unrated"
        if o["reason"] == "needs-information":
            assert o["missing_facts"]


def test_outputs_are_byte_identical_on_rerun_with_another_worker_count(audited, demo_log, tmp_path):
    out, _ = audited
    audit_orders(demo_log, tmp_path, workers=1, as_of=date(2026, 1, 1), use_imported=False, progress=False)
    for name in ("orders.parquet", "orders.csv", "refused.csv", "summary.json", "report.html"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_csv_and_parquet_agree(audited):
    out, _ = audited
    with (out / "orders.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    t = pq.read_table(out / "orders.parquet").to_pylist()
    assert [r["order_id"] for r in rows] == [o["order_id"] for o in t]
    assert [r["rating"] for r in rows] == ["" if o["rating"] is None else str(o["rating"]) for o in t]


def test_summary_counts_add_up(audited):
    out, s = audited
    j = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert sum(j["appropriateness"].values()) == j["rows_out"]
    assert sum(j["status"].values()) == j["rows_out"]
    assert "memo_hits" not in j  # nothing that depends on the engine or worker count


def test_memo_gives_the_same_result_as_a_fresh_auditor():
    kb = load()
    rows = order_log(120, 9)
    memo = OrderAuditor(kb, as_of=date(2026, 1, 1))
    first = [memo.audit(r, i) for i, r in enumerate(rows, 1)]
    again = [memo.audit(r, i) for i, r in enumerate(rows, 1)]
    assert memo.hits >= len(rows)
    assert first == again
    fresh = [OrderAuditor(kb, as_of=date(2026, 1, 1)).audit(r, i) for i, r in enumerate(rows[:15], 1)]
    assert fresh == first[:15]


def test_a_dated_text_is_read_again_for_another_as_of():
    kb = load()
    a = OrderAuditor(kb)
    row = {"order_id": "o1", "ordered_at": "2025-03-01", "indication": "low back pain since 2024, no red flags",
           "procedure_display": "XR lumbar spine"}
    a.audit(row, 1)
    a.audit({**row, "ordered_at": "2026-03-01"}, 2)
    assert len(a._readings) == 2 and len(a._results) == 2
    b = OrderAuditor(kb)
    plain = {**row, "indication": "low back pain for 3 weeks, no red flags"}
    b.audit(plain, 1)
    b.audit({**plain, "ordered_at": "2026-03-01"}, 2)
    assert len(b._readings) == 1 and len(b._results) == 1 and b.hits == 1


def test_column_options_map_fields_and_reject_unknown_ones(demo_log, tmp_path):
    assert column_map(["indication=reason_text"])["indication"] == "reason_text"
    with pytest.raises(IntakeError) as e:
        column_map(["nonsense=x"])
    assert e.value.code == "IN266"
    with pytest.raises(IntakeError) as e:
        audit_orders(demo_log, tmp_path / "x", columns=column_map(["indication=reason_text"]), progress=False)
    assert e.value.code == "IN264"


def test_parquet_input_gives_the_same_orders_as_csv(audited, tmp_path):
    from workup.audit.demo import write_order_log

    out, _ = audited
    src = tmp_path / "log.parquet"
    write_order_log(order_log(400, 11), src)
    audit_orders(src, tmp_path / "o", workers=2, as_of=date(2026, 1, 1), use_imported=False, progress=False,
                 report=False)
    assert (tmp_path / "o" / "orders.parquet").read_bytes() == (out / "orders.parquet").read_bytes()
