"""Identifying the ordered study: LOINC, exact ACR name, or an unambiguous reading of the text."""

from __future__ import annotations

import pytest

from workup.kb import load
from workup.service.hooks import identify, loinc_index, read_order_text


@pytest.mark.parametrize("text, expected", [
    ("MRI C-spine w/o contrast", "mri-cervical-spine-without-iv-contrast"),
    ("MR cervical spine without contrast", "mri-cervical-spine-without-iv-contrast"),
    ("MRI lumbar spine wo/w contrast", "mri-lumbar-spine-without-and-with-iv-contrast"),
    ("MRI thoracic spine with and without contrast", "mri-thoracic-spine-without-and-with-iv-contrast"),
    ("CT lumbar spine w/ contrast", "ct-lumbar-spine-with-iv-contrast"),
    ("CT cervical spine non-contrast", "ct-cervical-spine-without-iv-contrast"),
    ("XR cervical spine", "radiography-cervical-spine"),
    ("X-ray C-spine flexion/extension views", "radiography-cervical-spine-flexion-extension-lateral-views"),
    ("Lumbar spine radiographs", "radiography-lumbar-spine"),
])
def test_clear_order_text_names_one_study(text, expected):
    proc, spine = read_order_text(load(), text)
    assert spine and proc is not None and proc.id == expected


@pytest.mark.parametrize("text", [
    "Lumbar spine CT",  # no contrast phase: two different studies, never guessed
    "MRI cervical spine",
])
def test_ambiguous_spine_orders_are_not_guessed(text):
    proc, spine = read_order_text(load(), text)
    assert proc is None and spine


@pytest.mark.parametrize("text", ["MRA knee vessels right", "CT head without contrast", "Pureed diet"])
def test_non_spine_orders_are_not_spine(text):
    assert read_order_text(load(), text) == (None, False)


def test_loinc_code_wins_over_text():
    kb = load()
    sr = {"resourceType": "ServiceRequest", "id": "x",
          "code": {"coding": [{"system": "http://loinc.org", "code": "30667-0"}], "text": "CT lumbar spine w/ contrast"}}
    order = identify(kb, sr, loinc_index(kb))
    assert order.procedure.id == "mri-cervical-spine-without-iv-contrast"
    assert order.codes == ("http://loinc.org|30667-0",)


def test_exact_acr_name_is_recognised():
    kb = load()
    sr = {"resourceType": "ServiceRequest", "code": {"text": "CT Myelography Cervical Spine"}}
    assert identify(kb, sr, loinc_index(kb)).procedure.id == "ct-myelography-cervical-spine"


def test_loinc_codes_in_the_pack_are_unique():
    kb = load()
    codes = [p.loinc for p in kb.procedures.values() if p.loinc]
    assert len(codes) == len(set(codes)) >= 10


def test_without_something_else_is_not_a_contrast_phase():
    proc, spine = read_order_text(load(), "MRI lumbar spine without sedation")
    assert proc is None and spine
