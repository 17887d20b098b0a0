"""ICD-10-CM reason codes → facts, and the mapping table checked against simple-icd-10-cm."""

from __future__ import annotations

import pytest
import simple_icd_10_cm as icd

from workup.errors import IntakeError
from workup.intake.icd10 import facts_from_codes, lookup, normalize, table
from workup.kb import load

KB = load()


@pytest.mark.parametrize("row", table(), ids=lambda r: r.code)
def test_table_code_exists_and_description_fits(row):
    assert icd.is_valid_item(row.code), f"{row.code} is not an ICD-10-CM code"
    desc = icd.get_description(row.code)
    assert row.check.lower() in desc.lower(), f"{row.code}: {desc!r} does not contain {row.check!r}"


@pytest.mark.parametrize("row", table(), ids=lambda r: r.code)
def test_table_facts_are_in_the_vocabulary(row):
    for fid, value in row.facts:
        if fid == "prior_surgery":
            continue
        fd = KB.facts[fid]
        if fd.type == "bool":
            assert isinstance(value, bool)
        if fd.type == "enum":
            assert value in fd.values


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        (["M54.2"], {"region": "cervical", "pain": True}),
        (["M54.12"], {"region": "cervical", "radiculopathy": True}),
        (["M47.12"], {"region": "cervical", "myelopathy": True}),
        (["M47.16"], {"myelopathy": True}),
        (["M54.2", "Z98.1"], {"prior_surgery_cervical": True, "region": "cervical"}),
        (["M54.50", "Z98.1"], {"prior_surgery_lumbar": True, "region": "lumbar"}),
        (["Z85.3"], {"malignancy_history": True}),
        (["T84.216A"], {"hardware_failure": True}),
        (["T84.226A"], {"hardware_failure": True}),
        (["T84.296A"], {"hardware_equivocal": True}),
        (["M46.26"], {"infection_suspected": True}),
        (["M46.36"], {"infection_suspected": True}),
        (["M54.6"], {"region": "thoracic", "pain": True}),
        (["M54.16"], {"region": "lumbar", "radiculopathy": True}),
        (["M54.17"], {"region": "lumbar", "radiculopathy": True}),
        (["m5412"], {"region": "cervical", "radiculopathy": True}),
    ],
)
def test_codes_give_facts(codes, expected):
    got = {k: f.value for k, f in facts_from_codes(codes, KB).items()}
    assert {k: got.get(k) for k in expected} == expected


def test_hardware_codes_are_careful():
    assert "hardware_failure" not in facts_from_codes(["T84.296A"], KB)
    # joint prostheses (T84.0x) are not spine hardware
    assert facts_from_codes(["T84.010A"], KB) == {}


def test_arthrodesis_without_region_gives_no_regional_surgery():
    got = facts_from_codes(["Z98.1"], KB)
    assert not any(k.startswith("prior_surgery_") for k in got)


def test_code_evidence_names_the_code():
    f = facts_from_codes(["M54.2"], KB)["pain"]
    assert f.evidence[0].source == "icd10:M54.2"
    assert f.origin.value == "icd10"


def test_unmapped_codes_are_ignored_and_longest_prefix_wins():
    assert facts_from_codes(["J45.909"], KB) == {}
    assert lookup("M47.12").code == "M47.12"
    assert lookup("M47.13").code == "M47.1"
    assert normalize(" m542 ") == "M54.2"


@pytest.mark.parametrize("bad", [["not a code"], "M54.2", [42], None, [["M54.2"]]])
def test_bad_codes_raise_intake_error(bad):
    with pytest.raises(IntakeError):
        facts_from_codes(bad, KB)
