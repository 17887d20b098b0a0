"""Order words (intake/rules/orders.yaml): validated like every rule file, and in the catalogue's terms."""

from __future__ import annotations

from importlib import resources

import pytest

from workup.errors import KnowledgeError
from workup.intake.orders import parse_order_words, read_order
from workup.kb import load

TEXT = resources.files("workup.intake").joinpath("rules", "orders.yaml").read_text(encoding="utf-8")


def test_the_words_name_the_procedure_catalogues_own_values():
    words, kb = parse_order_words(TEXT), load()
    procs = list(kb.procedures.values())
    assert set(words.modality) <= {p.modality for p in procs}
    assert set(words.region) <= {p.region for p in procs}
    assert set(words.contrast) | set(words.default_contrast.values()) <= {p.contrast for p in procs}


@pytest.mark.parametrize("old, new, where", [
    ("  mri: '\\b(mri|mr|magnetic resonance)\\b'", "  mri: '\\b(mri|mr'", "intake/rules/orders.yaml:modality.mri"),
    ("dynamic_views:", "dynamic_view:", "intake/rules/orders.yaml:dynamic_view"),
    ("  myelography: intrathecal", "  myelogram: intrathecal", "intake/rules/orders.yaml:default_contrast.myelogram"),
])
def test_a_malformed_order_words_file_is_refused_with_file_and_path(old, new, where):
    assert old in TEXT
    with pytest.raises(KnowledgeError) as e:
        parse_order_words(TEXT.replace(old, new))
    assert e.value.code == "KB150"
    assert where in {d["where"] for d in e.value.details}


@pytest.mark.parametrize("text, modality, region, contrast, dynamic, spine", [
    ("MRI C-spine w/o contrast", "mri", "cervical", "none", False, True),
    ("CT lumbar spine without and with IV contrast", "ct", "lumbar", "without-and-with", False, True),
    ("XR cervical spine flexion/extension", "radiography", "cervical", "none", True, True),
    ("CT myelogram thoracic", "myelography", "thoracic", "intrathecal", False, True),
    ("MRI spine", "mri", None, None, False, True),
    ("CT neck soft tissue with contrast", "ct", None, "with", False, False),
])
def test_order_text_is_read_in_the_catalogues_terms(text, modality, region, contrast, dynamic, spine):
    r = read_order(text)
    assert (r.modality, r.region, r.contrast, r.dynamic_views, r.spine) == (modality, region, contrast, dynamic, spine)
