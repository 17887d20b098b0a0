"""Schema validation on load: unknown keys, schema_version, every error with its file and path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from workup.errors import KnowledgeError
from workup.kb import build, default

CP_VARIANTS = "topics/cervical-pain/variants.yaml"
CP_PATHWAY = "topics/cervical-pain/pathway.yaml"


def edit(changes: dict[str, Callable[[Any], Any]]) -> dict[str, str]:
    """Copy the built-in pack's files and apply ``changes`` (file → function of its YAML data)."""
    files = dict(default().files)
    for name, fn in changes.items():
        data = yaml.safe_load(files[name]) if name in files else None
        result = fn(data)
        files[name] = yaml.safe_dump(result if result is not None else data, allow_unicode=True, sort_keys=False)
    return files


def load_error(files: dict[str, str]) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as e:
        build(files)
    return e.value


def places(err: KnowledgeError) -> dict[str, str]:
    return {d["where"]: d["message"] for d in err.details}


def test_builtin_pack_validates():
    kb = default()
    assert len(kb.variants) == 36
    assert set(kb.files) >= {"facts.yaml", "criteria.yaml", "citations.yaml", "procedures.yaml"}


@pytest.mark.parametrize(
    "file,mutate,where",
    [
        (CP_VARIANTS, lambda d: d["variants"][0].update(colour="red"), f"{CP_VARIANTS}:variants.0.colour"),
        ("facts.yaml", lambda d: d["facts"][0].update(units="years"), "facts.yaml:facts.0.units"),
        (
            CP_PATHWAY,
            lambda d: d["pathways"][0]["nodes"]["infection-labs"].update(next="x"),
            f"{CP_PATHWAY}:pathways.0.nodes.infection-labs.next",
        ),
        ("citations.yaml", lambda d: d.update(extra=[]), "citations.yaml:extra"),
        (
            CP_VARIANTS,
            lambda d: d["variants"][0]["criteria"]["of"][0].update(value="cervical"),
            f"{CP_VARIANTS}:variants.0.criteria.all.of.0.fact.value",
        ),
    ],
)
def test_unknown_key_is_rejected_with_its_place(file, mutate, where):
    err = load_error(edit({file: mutate}))
    assert err.code == "KB101"
    assert where in places(err), places(err)
    assert "Extra inputs are not permitted" in places(err)[where]


@pytest.mark.parametrize("file", ["criteria.yaml", CP_VARIANTS, "topics/myelopathy/topic.yaml", CP_PATHWAY])
def test_missing_schema_version_is_reported(file):
    def drop(d: Any) -> None:
        del d["schema_version"]

    err = load_error(edit({file: drop}))
    assert places(err)[f"{file}:schema_version"] in ("missing schema_version", "Field required")


def test_wrong_schema_version_is_reported():
    def bump(d: Any) -> None:
        d["schema_version"] = 2

    assert f"{CP_VARIANTS}:schema_version" in places(load_error(edit({CP_VARIANTS: bump})))


def test_every_error_is_reported_with_file_and_path_not_just_the_first():
    def variants(d: Any) -> None:
        d["variants"][0]["colour"] = "red"
        d["variants"][3]["ratings"][1]["rating"] = 11
        del d["variants"][5]["summary"]

    def citations(d: Any) -> None:
        d["citations"][0]["kind"] = "rumour"

    def criteria(d: Any) -> None:
        del d["schema_version"]

    err = load_error(edit({CP_VARIANTS: variants, "citations.yaml": citations, "criteria.yaml": criteria}))
    assert set(places(err)) >= {
        f"{CP_VARIANTS}:variants.0.colour",
        f"{CP_VARIANTS}:variants.3.ratings.1.rating",
        f"{CP_VARIANTS}:variants.5.summary",
        "citations.yaml:citations.0.kind",
        "criteria.yaml:schema_version",
    }
    assert "5 problem(s)" in err.message or len(err.details) >= 5
    assert all({"where", "message"} <= set(d) for d in err.details)


@pytest.mark.parametrize(
    "file,mutate,where",
    [
        (
            CP_VARIANTS,
            lambda d: d["variants"][0]["criteria"]["of"].__setitem__(2, {"type": "sometimes", "fact": "pain"}),
            f"{CP_VARIANTS}:variants.0.criteria.all.of.2",
        ),
        (
            "criteria.yaml",
            lambda d: d["criteria"][0].update(criterion={"type": "maybe"}),
            "criteria.yaml:criteria.0.criterion",
        ),
        (
            CP_PATHWAY,
            lambda d: d["pathways"][0]["nodes"]["red-flags"]["transitions"][0].update(when={"type": "xor", "of": []}),
            f"{CP_PATHWAY}:pathways.0.nodes.red-flags.transitions.0.when",
        ),
    ],
)
def test_unknown_criterion_type_is_a_coded_error_naming_file_and_path(file, mutate, where):
    err = load_error(edit({file: mutate}))
    assert err.code.startswith("KB1")
    assert where in places(err), places(err)
    assert "tag" in places(err)[where] and "'type'" in places(err)[where]
    assert err.to_dict()["error"]["code"] == err.code
    assert where in str(err)


def test_invalid_yaml_is_reported_with_the_file():
    files = dict(default().files)
    files["criteria.yaml"] = "schema_version: 1\ncriteria: [unclosed\n"
    err = load_error(files)
    assert any(d["where"] == "criteria.yaml" and "not valid YAML" in d["message"] for d in err.details)


def test_missing_required_file_is_reported():
    files = {k: v for k, v in default().files.items() if k != "procedures.yaml"}
    assert places(load_error(files))["procedures.yaml"] == "required file is missing"


def test_topic_directory_without_variants_is_reported():
    files = {k: v for k, v in default().files.items() if k != CP_VARIANTS}
    assert "topics/cervical-pain" in places(load_error(files))


def test_duplicate_variant_id_is_reported():
    def dup(d: Any) -> None:
        d["variants"][1]["id"] = d["variants"][0]["id"]

    assert f"{CP_VARIANTS}:variants.1.id" in places(load_error(edit({CP_VARIANTS: dup})))


def test_decision_node_without_else_is_rejected():
    def no_else(d: Any) -> None:
        del d["pathways"][0]["nodes"]["red-flags"]["else"]

    p = places(load_error(edit({CP_PATHWAY: no_else})))
    assert "explicit else" in p[f"{CP_PATHWAY}:pathways.0.nodes.red-flags"]


def test_bad_duration_is_rejected():
    def bad(d: Any) -> None:
        d["criteria"].append({"id": "x", "description": "x", "criterion": {"type": "duration", "fact": "symptom_duration_days", "lt": "six weeks"}})

    n = len(yaml.safe_load(default().files["criteria.yaml"])["criteria"])
    p = places(load_error(edit({"criteria.yaml": bad})))
    assert "not a duration" in p[f"criteria.yaml:criteria.{n}.criterion.duration.lt"]
