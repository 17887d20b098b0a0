"""FHIR Bulk Data NDJSON input to the population audit: the same orders as the CSV form, bad lines refused."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import date

import orjson
import pytest

from workup.audit.bulk import DEPARTMENT_URL, BulkInput
from workup.audit.demo import order_log, write_order_log
from workup.audit.run import audit_orders, column_map
from workup.errors import IntakeError

KW = dict(as_of=date(2026, 1, 1), use_imported=False, progress=False)
OUTPUTS = ("orders.parquet", "orders.csv", "refused.csv", "summary.json", "report.html")


def _csv(path):
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _patient(pid, birth="1970-06-15", gender="female"):
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": birth}


def _order(oid, pid, at="2025-06-15T09:00:00Z", **more):
    sr = {"resourceType": "ServiceRequest", "id": oid, "status": "active", "intent": "order",
          "code": {"text": "XR Lumbar Spine 2-3 Views"}, "subject": {"reference": f"Patient/{pid}"}, "authoredOn": at,
          "requester": {"reference": "Practitioner/dr-1"}, "note": [{"text": "Low back pain for 3 weeks."}]}
    return sr | more


def _write(path, lines):
    path.write_bytes(b"".join((ln if isinstance(ln, bytes) else orjson.dumps(ln)) + b"\n" for ln in lines))
    return path


def _rows(path):
    return [r for chunk in BulkInput(path).chunks(rows=3) for r in chunk]


def test_ndjson_form_of_the_demo_log_gives_the_csv_forms_orders(audited, tmp_path):
    csv_out, csv_summary = audited
    bulk = tmp_path / "bulk"
    write_order_log(order_log(400, 11), bulk, "ndjson")  # the conftest's log, as Bulk files
    s = audit_orders(bulk, tmp_path / "out", workers=2, **KW)
    assert s["rows_in"] == 400 == s["rows_out"] + s["rows_refused"]
    want, got = _csv(csv_out / "orders.csv"), _csv(tmp_path / "out" / "orders.csv")
    assert len(got) == len(want) > 300
    for w, g in zip(want, got):
        # FHIR times carry a zone; a demo patient is one Patient across their orders
        assert g.pop("ordered_at") == w.pop("ordered_at") + "Z"
        assert g == w
    # the same orders refused, at the same rows; a bad date is an invalid FHIR dateTime there
    want_ref, got_ref = _csv(csv_out / "refused.csv"), _csv(tmp_path / "out" / "refused.csv")
    assert [(r["row"], r["order_id"]) for r in got_ref] == [(r["row"], r["order_id"]) for r in want_ref]
    assert {(w["code"], g["code"]) for w, g in zip(want_ref, got_ref) if w["code"] != g["code"]} <= {("IN271", "IN242")}
    assert all(r["message"].startswith(f"{r['code']}: ServiceRequest.ndjson line {r['row']}: ") for r in got_ref)
    patients = [orjson.loads(line) for line in (bulk / "Patient.ndjson").read_bytes().splitlines()]
    assert len({p["id"] for p in patients}) == len(patients) < 400  # one Patient a patient, not one an order
    same = {k: v for k, v in s.items() if k not in ("refused", "refused_by_code", "memo_hits", "memo_misses")}
    assert same == {k: csv_summary[k] for k in same}


def test_one_mixed_file_and_its_gzip_give_the_directory_forms_bytes(tmp_path):
    rows = order_log(40, 2)
    write_order_log(rows, tmp_path / "dir", "ndjson")
    write_order_log(rows, tmp_path / "all.ndjson")
    (tmp_path / "all.ndjson.gz").write_bytes(gzip.compress((tmp_path / "all.ndjson").read_bytes(), mtime=0))
    for src in ("dir", "all.ndjson", "all.ndjson.gz"):
        audit_orders(tmp_path / src, tmp_path / f"out-{src}", workers=1, report=False, **KW)
    for src in ("all.ndjson", "all.ndjson.gz"):
        for name in ("orders.csv", "refused.csv", "summary.json"):
            assert (tmp_path / f"out-{src}" / name).read_bytes() == (tmp_path / "out-dir" / name).read_bytes(), (src, name)


@pytest.mark.parametrize("workers", [1, 2])  # 2: the ServiceRequests are validated in the pool's workers
def test_bad_lines_are_refused_with_file_line_and_code_never_dropped(tmp_path, workers):
    d = tmp_path / "export"
    d.mkdir()
    _write(d / "Patient.ndjson", [
        _patient("p1"),
        _patient("p2", birth="15/06/1970"),  # line 2: not a FHIR date
        b"",  # a blank line is no resource and no row
        _patient("p1", gender="male"),  # line 4: p1 again
    ])
    _write(d / "ServiceRequest.ndjson", [
        _order("o1", "p1"),
        b'{"resourceType": "ServiceRequest", "id": "o2"',  # line 2: cut short
        b"[1, 2]",  # line 3: JSON, but no resource
        {"resourceType": "Condition", "id": "c1"},  # line 4: another type
        _order("o5", "p1", at="2025-06-15 09:00"),  # line 5: not a FHIR dateTime
        _order("o6", "p2"),  # line 6: its Patient was refused
        _order("o7", "nobody"),  # line 7
        _order("o8", "p1", status="entered-in-error"),  # line 8
        _order("o9", "p1", at="1969-01-01T09:00:00Z"),  # line 9: before the patient was born
        _order("o10", "p1", subject={"reference": "Group/g1"}),  # line 10
    ])
    s = audit_orders(d, tmp_path / "out", workers=workers, report=False, **KW)
    refused = [(r["row"], r["order_id"], r["code"], r["message"].split(": ", 2)[1]) for r in _csv(tmp_path / "out" / "refused.csv")]
    assert refused == [
        ("1", "p2", "IN242", "Patient.ndjson line 2"),
        ("2", "p1", "IN278", "Patient.ndjson line 4"),
        ("4", "", "IN275", "ServiceRequest.ndjson line 2"),
        ("5", "", "IN276", "ServiceRequest.ndjson line 3"),
        ("6", "c1", "IN276", "ServiceRequest.ndjson line 4"),
        ("7", "o5", "IN242", "ServiceRequest.ndjson line 5"),
        ("8", "o6", "IN277", "ServiceRequest.ndjson line 6"),
        ("9", "o7", "IN277", "ServiceRequest.ndjson line 7"),
        ("10", "o8", "IN279", "ServiceRequest.ndjson line 8"),
        ("11", "o9", "IN272", "ServiceRequest.ndjson line 9"),
        ("12", "o10", "IN277", "ServiceRequest.ndjson line 10"),
    ]
    assert [(o["row"], o["order_id"]) for o in _csv(tmp_path / "out" / "orders.csv")] == [("3", "o1")]
    assert s["rows_in"] == 12 == s["rows_out"] + s["rows_refused"]
    assert "birthDate" in _csv(tmp_path / "out" / "refused.csv")[0]["message"]  # the validator's problem, located


def test_patient_age_is_taken_on_the_order_date_and_sex_from_gender(tmp_path):
    src = _write(tmp_path / "log.ndjson", [
        _order("eve", "a", at="2025-06-14T23:00:00Z"),  # orders before their patients: the first pass reads them
        _order("day", "a", at="2025-06-15"),
        _order("unknown", "b"),
        _order("partial", "c"),
        _patient("a"),
        _patient("b", gender="unknown"),
        {"resourceType": "Patient", "id": "c", "birthDate": "1970"},
    ])
    got = {r["order_id"]: (r["patient_id"], r["patient_age"], r["patient_sex"]) for r in _rows(src)}
    assert got == {"eve": ("a", "54", "female"), "day": ("a", "55", "female"), "unknown": ("b", "55", ""),
                   "partial": ("c", "", "")}


def test_an_order_reads_codes_texts_provider_and_department(tmp_path):
    src = _write(tmp_path / "log.ndjson", [_patient("p1"), _order(
        "o1", "p1", identifier=[{"value": "placer-1"}],
        code={"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "72100", "display": "XR lumbar spine"}]},
        reasonCode=[{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M54.50"},
                                {"system": "http://snomed.info/sct", "code": "279039007"}]},
                    {"text": "Sciatica"}, {"coding": [{"system": "http://snomed.info/sct", "display": "Leg numbness"}]}],
        note=[{"text": "3 weeks, no red flags."}],
        requester={"reference": "PractitionerRole/r9"},
        locationReference=[{"display": "Radiology, main site"}],
        extension=[{"url": DEPARTMENT_URL, "valueCodeableConcept": {"text": "emergency"}}])])
    (row,) = _rows(src)
    assert row == {"source": "log.ndjson line 2", "order_id": "o1", "ordered_at": "2025-06-15T09:00:00Z", "patient_id": "p1", "patient_age": "55",
                   "patient_sex": "female", "provider_id": "PractitionerRole/r9", "department": "emergency",
                   "procedure_code": "72100", "procedure_display": "XR lumbar spine", "reason_codes": "M54.50",
                   "indication": "Sciatica. Leg numbness. 3 weeks, no red flags."}
    no_ext = _write(tmp_path / "b.ndjson", [_patient("p1"), _order("o1", "p1", locationReference=[{"display": "Clinic 4"}])])
    assert _rows(no_ext)[0]["department"] == "Clinic 4"


def test_ndjson_audit_reruns_are_byte_identical(tmp_path):
    write_order_log(order_log(60, 8), tmp_path / "bulk", "ndjson")
    write_order_log(order_log(60, 8), tmp_path / "again", "ndjson")
    for name in ("Patient.ndjson", "ServiceRequest.ndjson"):
        assert (tmp_path / "bulk" / name).read_bytes() == (tmp_path / "again" / name).read_bytes()
    audit_orders(tmp_path / "bulk", tmp_path / "a", workers=1, **KW)
    audit_orders(tmp_path / "bulk", tmp_path / "b", workers=2, **KW)
    for name in OUTPUTS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["rows_in"] == 60


@pytest.mark.parametrize("case, code", [("column", "IN268"), ("empty-dir", "IN269"), ("missing", "IN215")])
def test_unusable_ndjson_input_is_a_coded_error_before_any_output(tmp_path, case, code):
    src = tmp_path / ("missing.ndjson" if case == "missing" else "export")
    if case != "missing":
        src.mkdir()
        (src / "manifest.json").write_text("{}")
    if case == "column":
        _write(src / "Patient.ndjson", [_patient("p1")])
    with pytest.raises(IntakeError) as e:
        audit_orders(src, tmp_path / "out", columns=column_map(["indication=note"]) if case == "column" else None,
                     workers=1, **KW)
    assert e.value.code == code
    assert not (tmp_path / "out").exists()


def test_demo_writer_refuses_a_format_its_name_contradicts(tmp_path):
    with pytest.raises(IntakeError) as e:
        write_order_log(order_log(5, 1), tmp_path / "log.csv", "parquet")
    assert e.value.code == "IN260"
    assert not (tmp_path / "log.csv").exists()


def test_an_unforeseen_validator_failure_refuses_the_line_as_wk999(tmp_path, monkeypatch):
    import workup.intake.fhir as fhir

    real = fhir.validated_resource

    def flaky(resource):
        if resource.get("id") == "boom":
            raise RuntimeError("validator bug")
        return real(resource)

    monkeypatch.setattr(fhir, "validated_resource", flaky)
    src = _write(tmp_path / "log.ndjson", [_patient("p1"), _order("boom", "p1"), _order("ok", "p1")])
    rows = _rows(src)
    assert [(r["order_id"], r.get("refused_code", "")) for r in rows] == [("boom", "WK999"), ("ok", "")]
    assert rows[0]["refused_message"].startswith("WK999: log.ndjson line 2: internal error (RuntimeError)")
