"""Network and span exports from a real analyzed store: GEXF 1.3, GraphML, W3C Web Annotation."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from storytrace import Corpus

nx = pytest.importorskip("networkx", reason="networkx is not installed (test extra)")
GEXF = "{http://gexf.net/1.3}"
SCHEMA = Path(__file__).resolve().parents[1] / "storytrace" / "resources" / "schemas" / "gexf-1.3"


def test_gexf_validates_against_the_gexf_1_3_grammar(web_store: Path, tmp_path: Path) -> None:
    etree = pytest.importorskip("lxml.etree")
    grammar = SCHEMA / "gexf.rng"
    if not grammar.exists():
        pytest.skip(f"the GEXF 1.3 grammar is not in {SCHEMA} (see the README there)")
    rng = etree.RelaxNG(etree.parse(str(grammar)))
    out = tmp_path / "stances.gexf"
    with Corpus(web_store, readonly=True) as corpus:
        corpus.export(out, format="gexf")
    doc = etree.parse(str(out))
    assert rng.validate(doc), str(rng.error_log)
    # The grammar is not vacuous: a wrong edge weight and an unknown attribute are rejected.
    edge = doc.getroot().find(f"{GEXF}graph/{GEXF}edges/{GEXF}edge")
    edge.set("weight", "heavy")
    assert not rng.validate(doc)
    edge.set("weight", "1.0")
    doc.getroot().find(f"{GEXF}graph/{GEXF}attributes").set("mode", "static")  # GEXF 1.2draft, not 1.3
    assert not rng.validate(doc)


def test_gexf_is_gexf_1_3_and_loads_in_networkx(web_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "stances.gexf"
    with Corpus(web_store, readonly=True) as corpus:
        corpus.export(out, format="gexf")
        statements = list(corpus.stance_statements())
    root = ET.parse(out).getroot()
    # The elements and attributes the GEXF 1.3 grammar requires (checked in full by the test above).
    assert root.tag == f"{GEXF}gexf" and root.get("version") == "1.3"
    graph = root.find(f"{GEXF}graph")
    assert graph is not None and graph.get("defaultedgetype") == "directed" and graph.get("timeformat") == "date"
    declared = {(a.get("class"), at.get("id")) for a in graph.findall(f"{GEXF}attributes")
                for at in a.findall(f"{GEXF}attribute")}
    nodes = graph.findall(f"{GEXF}nodes/{GEXF}node")
    edges = graph.findall(f"{GEXF}edges/{GEXF}edge")
    ids = {n.get("id") for n in nodes}
    assert len(ids) == len(nodes) and all(n.get("label") for n in nodes)
    assert len(edges) == len(statements) > 0
    for e in edges:
        assert e.get("source") in ids and e.get("target") in ids and float(e.get("weight")) >= 0
        for v in e.findall(f"{GEXF}attvalues/{GEXF}attvalue"):
            assert ("edge", v.get("for")) in declared
    g = nx.read_gexf(out)
    assert g.number_of_edges() == len(statements)
    data = [d for _u, _v, d in g.edges(data=True)]
    assert all({"polarity", "article_id", "evidence_start", "evidence_end", "confidence"} <= set(d) for d in data)
    assert any("start" in d for d in data)  # dated edges: Gephi's timeline
    assert (tmp_path / "stances.gexf.manifest.json").exists()


def test_graphml_loads_in_networkx(web_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "stances.graphml"
    with Corpus(web_store, readonly=True) as corpus:
        corpus.export(out, format="graphml")
    g = nx.read_graphml(out)
    assert g.number_of_edges() > 0
    assert {"polarity", "agreement", "article_id"} <= set(next(iter(g.edges(data=True)))[2])
    assert all("label" in d for _n, d in g.nodes(data=True))


def test_web_annotations_select_the_quoted_text(web_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "quotes.jsonld"
    with Corpus(web_store, readonly=True) as corpus:
        corpus.export(out, format="annotations")
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert doc["type"] == "AnnotationCollection" and doc["total"] == len(doc["first"]["items"]) > 0
        for item in doc["first"]["items"][:40]:
            quote, position = item["target"]["selector"]
            assert quote["type"] == "TextQuoteSelector" and position["type"] == "TextPositionSelector"
            raw = corpus.article(item["storytrace:article_id"]).raw_text
            assert raw[position["start"]:position["end"]] == quote["exact"]
            assert raw[: position["start"]].endswith(quote["prefix"])
            assert 0 <= item["storytrace:confidence"] <= 1
