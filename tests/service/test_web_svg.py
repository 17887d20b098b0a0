"""The server-side SVG of a pathway (workup.render.svg)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from workup.kb import load
from workup.kb.schema import PathwayDef
from workup.render.svg import pathway_svg

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def kb():
    return load()


@pytest.mark.parametrize("pathway_id", sorted(load().pathways))
def test_every_pathway_draws_one_box_per_node_as_valid_xml(kb, pathway_id):
    pw = kb.pathways[pathway_id]
    root = ET.fromstring(pathway_svg(kb, pw))
    groups = root.findall(f"{SVG}g")
    assert sorted(g.get("data-node") for g in groups) == sorted(pw.nodes)
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == pw.title


def test_path_nodes_and_taken_edges_are_highlighted(kb):
    pw = kb.pathways["cervical-postop"]
    path = ["red-flags", "findings", "radiographs", "flexext-timing", "flexext"]
    svg = pathway_svg(kb, pw, path, ["radiographs", "flexext"])
    root = ET.fromstring(svg)
    on = [g.get("data-node") for g in root.findall(f"{SVG}g") if "on" in g.get("class").split()]
    now = [g.get("data-node") for g in root.findall(f"{SVG}g") if "now" in g.get("class").split()]
    assert on == path and now == ["radiographs", "flexext"]
    taken = [p.find(f"{SVG}title").text.split(":")[0] for p in root.findall(f"{SVG}path") if "on" in p.get("class", "").split()]
    assert sorted(taken) == sorted(["red-flags → findings", "findings → radiographs", "radiographs → flexext-timing",
                                    "flexext-timing → flexext"])


def test_drawing_is_deterministic(kb):
    pw = kb.pathways["cervical-postop"]
    assert pathway_svg(kb, pw, ["red-flags"]) == pathway_svg(kb, pw, ["red-flags"])


def test_node_text_is_escaped():
    kb = load()
    pw = PathwayDef.model_validate({
        "id": "t", "title": "A <b>title</b> & more", "variants": ["cervical-pain-3"], "start": "a",
        "nodes": {"a": {"type": "assessment", "text": "<script>alert(1)</script> & co", "then": ["b"]},
                  "b": {"type": "end", "text": "done"}},
    })
    svg = pathway_svg(kb, pw, ["a"])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ET.fromstring(svg)  # still well-formed
    assert re.search(r'id="wu-node-a"', svg)
