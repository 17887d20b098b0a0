"""`workup kb lint`: each kind of problem in a deliberately broken pack is reported at its place."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from workup.errors import KnowledgeError
from workup.kb import build, default
from workup.kb.lint import lint

CP_VARIANTS = "topics/cervical-pain/variants.yaml"
CP_TOPIC = "topics/cervical-pain/topic.yaml"
CP_PATHWAY = "topics/cervical-pain/pathway.yaml"


def edit(changes: dict[str, Callable[[Any], None]]) -> dict[str, str]:
    """Copy the built-in pack's files and apply ``changes`` (file → function mutating its data)."""
    files = dict(default().files)
    for name, fn in changes.items():
        data = copy.deepcopy(yaml.safe_load(files[name])) if name in files else None
        result = fn(data)
        data = result if result is not None else data
        files[name] = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return files


def problems(changes: dict[str, Callable[[Any], None]]) -> list[dict]:
    return lint(build(edit(changes)))


def assert_reported(found: list[dict], where: str, words: str) -> None:
    hits = [p for p in found if p["where"] == where]
    assert hits, f"nothing reported at {where}; got {found}"
    assert any(words in p["message"] for p in hits), f"{where}: expected {words!r} in {hits}"


def fact_index(fact_id: str) -> int:
    return list(default().facts).index(fact_id)


def set_criterion(criterion: dict) -> Callable[[Any], None]:
    """Replace the first condition of cervical-pain-1's criteria."""

    def fn(d: Any) -> None:
        d["variants"][0]["criteria"]["of"][0] = criterion

    return fn


def test_builtin_pack_lints_clean():
    assert lint(default()) == []


def test_pack_without_source_files_is_not_reported_clean():
    bare = dataclasses.replace(default(), files={})
    assert [p["where"] for p in lint(bare)] == ["(pack)"]


def test_lint_is_sorted_and_repeatable():
    def break_many(d: Any) -> None:
        for v in d["variants"]:
            v["citations"] = ["nope"]

    found = problems({CP_VARIANTS: break_many})
    assert [p["where"] for p in found][:3] == [
        f"{CP_VARIANTS}:variants.0.citations.0",
        f"{CP_VARIANTS}:variants.1.citations.0",
        f"{CP_VARIANTS}:variants.2.citations.0",
    ]
    assert found[-1]["where"] == f"{CP_VARIANTS}:variants.7.citations.0"  # natural order: 7 after 2
    assert found == problems({CP_VARIANTS: break_many})


@pytest.mark.parametrize(
    "criterion,path,words",
    [
        ({"type": "fact", "fact": "no_such_fact"}, "of.0.fact", "unknown fact 'no_such_fact'"),
        ({"type": "fact", "fact": "region", "equals": "cervicle"}, "of.0.equals", "'cervicle' is not a value of 'region'"),
        ({"type": "fact", "fact": "region", "in": ["cervical", "neck"]}, "of.0.in", "'neck' is not a value of 'region'"),
        ({"type": "fact", "fact": "region", "is": True}, "of.0.is", "'is' tests a bool fact"),
        ({"type": "fact", "fact": "region"}, "of.0", "test it with equals or in"),
        ({"type": "fact", "fact": "pain", "equals": "yes"}, "of.0.equals", "tests an enum fact"),
        ({"type": "number", "fact": "region", "gte": 1}, "of.0.fact", "a number range needs a number fact"),
        ({"type": "duration", "fact": "pain", "lt": "6w"}, "of.0.fact", "a duration range needs a number fact"),
        ({"type": "duration", "fact": "age", "lt": "6w"}, "of.0.fact", "needs a fact in days"),
        ({"type": "number", "fact": "age", "gte": 65, "lt": 18}, "of.0", "empty range"),
        ({"type": "ref", "ref": "no_such_rule"}, "of.0.ref", "unknown named criterion 'no_such_rule'"),
        ({"type": "not", "of": {"type": "fact", "fact": "ghost"}}, "of.0.of.fact", "unknown fact 'ghost'"),
    ],
)
def test_dangling_or_mistyped_criterion_is_reported(criterion, path, words):
    found = problems({CP_VARIANTS: set_criterion(criterion)})
    assert_reported(found, f"{CP_VARIANTS}:variants.0.criteria.{path}", words)


def test_named_criterion_with_unknown_fact_is_reported():
    def fn(d: Any) -> None:
        d["criteria"][0]["criterion"] = {"type": "fact", "fact": "regoin", "in": ["cervical"]}

    assert_reported(problems({"criteria.yaml": fn}), "criteria.yaml:criteria.0.criterion.fact", "unknown fact 'regoin'")


def test_named_criterion_that_refers_to_itself_is_reported():
    def fn(d: Any) -> None:
        d["criteria"][0]["criterion"] = {"type": "not", "of": {"type": "ref", "ref": d["criteria"][0]["id"]}}

    assert_reported(problems({"criteria.yaml": fn}), "criteria.yaml:criteria.0", "refers to itself")


def test_derive_rule_using_a_later_fact_is_reported():
    i = fact_index("sudden_onset")
    assert fact_index("fever") > i

    def fn(d: Any) -> None:
        d["facts"][i]["derive"] = {"type": "fact", "fact": "fever"}

    assert_reported(problems({"facts.yaml": fn}), f"facts.yaml:facts.{i}.derive.fact", "'fever', which is defined at or after it")


def test_derive_rule_through_a_named_criterion_using_a_later_fact_is_reported():
    i = fact_index("sudden_onset")

    def fn(d: Any) -> None:
        d["facts"][i]["derive"] = {"type": "ref", "ref": "infection_signs"}

    assert_reported(problems({"facts.yaml": fn}), f"facts.yaml:facts.{i}.derive.ref", "defined at or after it")


def test_derive_rule_with_unknown_fact_is_reported():
    i = fact_index("adult")

    def fn(d: Any) -> None:
        d["facts"][i]["derive"] = {"type": "fact", "fact": "grown_up"}

    assert_reported(problems({"facts.yaml": fn}), f"facts.yaml:facts.{i}.derive.fact", "unknown fact 'grown_up'")


def test_unknown_topic_source_citation_is_reported():
    def fn(d: Any) -> None:
        d["topic"]["source"]["citation"] = "acr-neck-2099"

    assert_reported(problems({CP_TOPIC: fn}), f"{CP_TOPIC}:topic.source.citation", "unknown citation 'acr-neck-2099'")


def test_unknown_topic_applies_when_fact_is_reported():
    def fn(d: Any) -> None:
        d["topic"]["applies_when"] = {"type": "fact", "fact": "neck"}

    assert_reported(problems({CP_TOPIC: fn}), f"{CP_TOPIC}:topic.applies_when.fact", "unknown fact 'neck'")


@pytest.mark.parametrize(
    "key,item,what",
    [
        ("pitfalls", {"text": "An uncited pitfall."}, "pitfall"),
        ("payer_notes", {"text": "An uncited payer note."}, "payer note"),
        ("faq", {"question": "Q?", "answer": "An uncited answer."}, "FAQ answer"),
        ("differentials", {"name": "Something", "text": "An uncited differential."}, "differential"),
    ],
)
def test_topic_statement_without_citation_is_reported(key, item, what):
    n = len(default().topics["cervical-pain"].model_dump()[key])

    def fn(d: Any) -> None:
        d["topic"].setdefault(key, []).append(item)

    assert_reported(problems({CP_TOPIC: fn}), f"{CP_TOPIC}:topic.{key}.{n}.citations", f"{what} has no citation")


def test_topic_statement_with_unknown_citation_is_reported():
    def fn(d: Any) -> None:
        d["topic"].setdefault("pitfalls", []).append({"text": "x", "citations": ["acr-cervical-pain", "made-up"]})

    n = len(default().topics["cervical-pain"].pitfalls)
    assert_reported(problems({CP_TOPIC: fn}), f"{CP_TOPIC}:topic.pitfalls.{n}.citations.1", "unknown citation 'made-up'")


def test_unknown_related_topic_is_reported():
    def fn(d: Any) -> None:
        d["topic"]["related"] = ["low-back-pain", "knee-pain"]

    assert_reported(problems({CP_TOPIC: fn}), f"{CP_TOPIC}:topic.related.1", "unknown topic 'knee-pain'")


def test_exclusion_routing_to_unknown_variant_is_reported():
    def fn(d: Any) -> None:
        d["variants"][0]["exclusions"] = [
            {"text": "Trauma goes elsewhere.", "routes_to": "spinal-trauma-99", "citations": ["acr-cervical-pain"]}
        ]

    assert_reported(problems({CP_VARIANTS: fn}), f"{CP_VARIANTS}:variants.0.exclusions.0.routes_to", "unknown variant 'spinal-trauma-99'")


def test_exclusion_without_citation_is_reported():
    def fn(d: Any) -> None:
        d["variants"][0]["exclusions"] = [{"text": "Trauma goes elsewhere.", "routes_to": "spinal-trauma-1"}]

    assert_reported(problems({CP_VARIANTS: fn}), f"{CP_VARIANTS}:variants.0.exclusions.0.citations", "exclusion has no citation")


def test_variant_without_exclusions_is_reported_when_its_topic_has_other_variants():
    def fn(d: Any) -> None:
        del d["variants"][0]["exclusions"]

    found = problems({CP_VARIANTS: fn})
    assert [p for p in found if p["where"].endswith(".exclusions")] == [
        {"where": f"{CP_VARIANTS}:variants.0.exclusions",
         "message": "variant 'cervical-pain-1' has no exclusions (its topic has other variants): say who does not fit and where they go"}
    ]


def test_only_variant_of_a_topic_needs_no_exclusions():
    def only_first(d: Any) -> None:
        d["variants"] = d["variants"][:1]
        del d["variants"][0]["exclusions"]

    found = problems({"topics/myelopathy/variants.yaml": only_first})
    assert found, "dropping myelopathy-2 leaves dangling references, so the pack is not clean"
    assert not [p for p in found if p["where"].endswith(".exclusions")], found


def test_exclusion_routing_back_to_its_own_variant_is_reported():
    def fn(d: Any) -> None:
        d["variants"][0]["exclusions"][0]["routes_to"] = d["variants"][0]["id"]

    assert_reported(problems({CP_VARIANTS: fn}), f"{CP_VARIANTS}:variants.0.exclusions.0.routes_to", "routes back to 'cervical-pain-1'")


def test_rating_of_unknown_procedure_is_reported():
    def fn(d: Any) -> None:
        d["variants"][0]["ratings"][0]["procedure"] = "x-ray-of-everything"

    assert_reported(problems({CP_VARIANTS: fn}), f"{CP_VARIANTS}:variants.0.ratings.0.procedure", "unknown procedure 'x-ray-of-everything'")


def test_variant_with_unknown_citation_is_reported():
    def fn(d: Any) -> None:
        d["variants"][0]["citations"] = ["acr-cervical-pain", "acr-elbow"]

    assert_reported(problems({CP_VARIANTS: fn}), f"{CP_VARIANTS}:variants.0.citations.1", "unknown citation 'acr-elbow'")


def test_rating_rationale_without_citation_is_reported():
    def fn(d: Any) -> None:
        d["variants"][0]["ratings"][0]["rationale"] = {"text": "Because."}

    assert_reported(problems({CP_VARIANTS: fn}), f"{CP_VARIANTS}:variants.0.ratings.0.rationale.citations", "no citation")


@pytest.mark.parametrize(
    "rating,category",
    [
        (8, "may-be-appropriate"),
        (3, "may-be-appropriate-disagreement"),
        (5, "usually-appropriate"),
        (4, "usually-not-appropriate"),
        (9, "usually-not-appropriate"),
    ],
)
def test_rating_inconsistent_with_category_is_reported(rating, category):
    def fn(d: Any) -> None:
        d["variants"][0]["ratings"][0].update(rating=rating, category=category)

    assert_reported(problems({CP_VARIANTS: fn}), f"{CP_VARIANTS}:variants.0.ratings.0.category", f"rating {rating} is inconsistent with {category}")


@pytest.mark.parametrize("rating", [0, 10])
def test_rating_outside_1_to_9_is_rejected_with_its_place(rating):
    def fn(d: Any) -> None:
        d["variants"][0]["ratings"][0]["rating"] = rating

    with pytest.raises(KnowledgeError) as e:
        build(edit({CP_VARIANTS: fn}))
    assert f"{CP_VARIANTS}:variants.0.ratings.0.rating" in [p["where"] for p in e.value.details]


def test_malformed_rrl_is_reported():
    def fn(d: Any) -> None:
        d["variants"][0]["ratings"][0]["rrl"] = "two symbols"

    assert_reported(problems({CP_VARIANTS: fn}), f"{CP_VARIANTS}:variants.0.ratings.0.rrl", "not an ACR adult RRL")


def test_duplicate_procedure_within_a_variant_is_reported():
    n = len(default().variants["cervical-pain-1"].ratings)

    def fn(d: Any) -> None:
        d["variants"][0]["ratings"].append(dict(d["variants"][0]["ratings"][0]))

    assert_reported(problems({CP_VARIANTS: fn}), f"{CP_VARIANTS}:variants.0.ratings.{n}.procedure", "already rated at ratings.0")


def test_two_variants_with_the_same_number_are_reported():
    def fn(d: Any) -> None:
        d["variants"][1]["number"] = 1

    found = problems({CP_VARIANTS: fn})
    assert_reported(found, f"{CP_VARIANTS}:variants.1.number", "variant number 1 is also used by 'cervical-pain-1'")
    assert_reported(found, f"{CP_VARIANTS}:variants.1.id", "must have id 'cervical-pain-1'")


def test_variant_id_not_topic_dash_number_is_reported():
    def fn(d: Any) -> None:
        d["variants"][4]["id"] = "neck-five"

    assert_reported(problems({CP_VARIANTS: fn}), f"{CP_VARIANTS}:variants.4.id", "must have id 'cervical-pain-5'")


def test_pathway_listing_unknown_variant_is_reported():
    def fn(d: Any) -> None:
        d["pathways"][0]["variants"].append("cervical-pain-42")

    n = len(default().pathways["cervical-postop"].variants)
    assert_reported(problems({CP_PATHWAY: fn}), f"{CP_PATHWAY}:pathways.0.variants.{n}", "unknown variant 'cervical-pain-42'")


@pytest.mark.parametrize(
    "node,mutate,path",
    [
        ("red-flags", lambda n: n["transitions"][0].update(to="nowhere"), "transitions.0.to"),
        ("red-flags", lambda n: n.update({"else": "nowhere"}), "else"),
        ("escalate-infection", lambda n: n.update(then=["infection-labs", "nowhere"]), "then.1"),
    ],
)
def test_pathway_edge_to_unknown_node_is_reported(node, mutate, path):
    def fn(d: Any) -> None:
        mutate(d["pathways"][0]["nodes"][node])

    assert_reported(problems({CP_PATHWAY: fn}), f"{CP_PATHWAY}:pathways.0.nodes.{node}.{path}", "unknown node 'nowhere'")


def test_pathway_start_unknown_is_reported():
    def fn(d: Any) -> None:
        d["pathways"][0]["start"] = "begin"

    found = problems({CP_PATHWAY: fn})
    assert_reported(found, f"{CP_PATHWAY}:pathways.0.start", "unknown node 'begin'")
    assert_reported(found, f"{CP_PATHWAY}:pathways.0.nodes.red-flags", "not reachable")


def test_unreachable_pathway_node_is_reported():
    def fn(d: Any) -> None:
        d["pathways"][0]["nodes"]["orphan"] = {"type": "defer", "text": "Wait.", "citations": ["guide-postop-cervical"]}

    found = problems({CP_PATHWAY: fn})
    assert found == [{"where": f"{CP_PATHWAY}:pathways.0.nodes.orphan", "message": "node 'orphan' is not reachable from 'red-flags'"}]


def test_pathway_node_with_unknown_procedure_is_reported():
    def fn(d: Any) -> None:
        d["pathways"][0]["nodes"]["infection-mri"]["procedure"] = "mri-neck-magic"

    assert_reported(problems({CP_PATHWAY: fn}), f"{CP_PATHWAY}:pathways.0.nodes.infection-mri.procedure", "unknown procedure 'mri-neck-magic'")


def test_pathway_node_without_citation_is_reported():
    def fn(d: Any) -> None:
        d["pathways"][0]["nodes"]["infection-labs"]["citations"] = []

    assert_reported(problems({CP_PATHWAY: fn}), f"{CP_PATHWAY}:pathways.0.nodes.infection-labs.citations", "pathway node has no citation")


def test_pathway_transition_with_unknown_fact_is_reported():
    def fn(d: Any) -> None:
        d["pathways"][0]["nodes"]["infection-imaging"]["transitions"][0]["when"] = {"type": "fact", "fact": "claustrophobia"}

    assert_reported(
        problems({CP_PATHWAY: fn}),
        f"{CP_PATHWAY}:pathways.0.nodes.infection-imaging.transitions.0.when.fact",
        "unknown fact 'claustrophobia'",
    )


def test_procedure_resolving_to_unknown_procedure_is_reported():
    def fn(d: Any) -> None:
        for i, p in enumerate(d["procedures"]):
            if p.get("resolves"):
                p["resolves"]["lumbar"] = "mri-lumbar-spine-magic"
                fn.index = i  # type: ignore[attr-defined]
                return

    found = problems({"procedures.yaml": fn})
    assert_reported(found, f"procedures.yaml:procedures.{fn.index}.resolves.lumbar", "unknown procedure 'mri-lumbar-spine-magic'")  # type: ignore[attr-defined]


def test_golden_case_referring_to_unknown_ids_is_reported():
    case = {
        "id": "broken",
        "facts": {"region": "cervical", "neck_ache": True},
        "order": "MRI of the soul",
        "expect": {
            "status": "maybe",
            "variant": "cervical-pain-99",
            "topic": "knee",
            "pathway": "cervical-postop",
            "usually_appropriate": ["MRI Cervical Spine Without IV Contrast", "PET Spine"],
            "first_step": {"kind": "imaging", "reference_name": "CT Neck Sideways"},
            "next_steps": [{"kind": "consult", "node": "radiographs"}, {"node": "no-imaging"}],
            "forbid_next": [{"kind": "imaging", "reference_name": "Ultrasound Spine"}],
            "missing_facts": ["trauma", "wobble"],
            "path": ["red-flags", "no-such-node"],
            "order": {"category": "sometimes-appropriate", "alternatives": ["Radiography Cervical Spine", "X"]},
        },
    }

    def fn(_: Any) -> dict:
        return {"schema_version": 1, "cases": [case]}

    found = problems({"cases/broken.yaml": fn})
    base = "cases/broken.yaml:cases.0"
    assert found == [
        {"where": f"{base}.expect.first_step.reference_name", "message": "unknown procedure 'CT Neck Sideways'"},
        {"where": f"{base}.expect.forbid_next.0.reference_name", "message": "unknown procedure 'Ultrasound Spine'"},
        {"where": f"{base}.expect.missing_facts.1", "message": "unknown fact 'wobble'"},
        {"where": f"{base}.expect.next_steps.0.kind", "message": "unknown step kind 'consult'"},
        {"where": f"{base}.expect.next_steps.1.node", "message": "unknown node 'no-imaging' in pathway 'cervical-postop'"},
        {"where": f"{base}.expect.order.alternatives.1", "message": "unknown procedure 'X'"},
        {"where": f"{base}.expect.order.category", "message": "unknown category 'sometimes-appropriate'"},
        {"where": f"{base}.expect.path.1", "message": "unknown node 'no-such-node' in pathway 'cervical-postop'"},
        {"where": f"{base}.expect.status", "message": "unknown status 'maybe'"},
        {"where": f"{base}.expect.topic", "message": "unknown topic 'knee'"},
        {"where": f"{base}.expect.usually_appropriate.1", "message": "unknown procedure 'PET Spine'"},
        {"where": f"{base}.expect.variant", "message": "unknown variant 'cervical-pain-99'"},
        {"where": f"{base}.facts.neck_ache", "message": "unknown fact 'neck_ache'"},
        {"where": f"{base}.order", "message": "unknown procedure 'MRI of the soul'"},
    ]


def test_golden_case_with_unknown_pathway_is_reported():
    def fn(_: Any) -> dict:
        return {"schema_version": 1, "cases": [{"id": "x", "facts": {}, "expect": {"status": "rated", "pathway": "neck-magic"}}]}

    assert problems({"cases/x.yaml": fn}) == [{"where": "cases/x.yaml:cases.0.expect.pathway", "message": "unknown pathway 'neck-magic'"}]


def test_every_problem_is_reported_not_just_the_first():
    def variants(d: Any) -> None:
        d["variants"][0]["ratings"][0]["procedure"] = "nope-1"
        d["variants"][2]["criteria"] = {"type": "fact", "fact": "nope_2"}

    def topic(d: Any) -> None:
        d["topic"]["source"]["citation"] = "nope-3"

    def pathway(d: Any) -> None:
        d["pathways"][0]["nodes"]["infection-labs"]["citations"] = ["nope-4"]

    found = problems({CP_VARIANTS: variants, CP_TOPIC: topic, CP_PATHWAY: pathway})
    assert [p["where"] for p in found] == [
        f"{CP_PATHWAY}:pathways.0.nodes.infection-labs.citations.0",
        f"{CP_TOPIC}:topic.source.citation",
        f"{CP_VARIANTS}:variants.0.ratings.0.procedure",
        f"{CP_VARIANTS}:variants.2.criteria.fact",
    ]
