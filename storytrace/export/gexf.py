"""GEXF 1.3 (Gephi): actors as nodes, stance statements as dated edges with polarity, weight and provenance.

The graph is dynamic (``timeformat="date"``): every edge has the day of its statement as ``start`` and ``end``,
every node the span of days it appears in, so Gephi's timeline can replay how stances formed and changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import XMLGenerator

from storytrace.export import atomic_path, atomic_text
from storytrace.export.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES, Network, build, edge_value

NS = "http://gexf.net/1.3"
TYPES = {"string": "string", "integer": "integer", "double": "double"}


def write(net: Network, out: Path, manifest: dict[str, Any]) -> None:
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        xml = XMLGenerator(handle, encoding="utf-8", short_empty_elements=True)
        xml.startDocument()
        # No xsi:schemaLocation: the normative GEXF 1.3 grammar (RELAX NG, gexf.rng) allows no foreign attributes.
        xml.startElement("gexf", {"xmlns": NS, "version": "1.3"})
        xml.startElement("meta", {"lastmodifieddate": datetime.now(UTC).date().isoformat()})
        _text(xml, "creator", f"storytrace {manifest.get('versions', {}).get('storytrace', '')}".strip())
        _text(xml, "description", "Who supports or opposes whom: stance statements with evidence offsets. "
                                  "Run manifest: " + json.dumps({k: manifest.get(k) for k in ("versions", "schema")},
                                                                default=str))
        xml.endElement("meta")
        xml.startElement("graph", {"defaultedgetype": "directed", "mode": "dynamic", "timeformat": "date"})
        _attributes(xml, "node", NODE_ATTRIBUTES)
        _attributes(xml, "edge", EDGE_ATTRIBUTES)
        xml.startElement("nodes", {})
        for i, (name, node) in enumerate(net.nodes.items()):
            attrs = {"id": f"n{i}", "label": name}
            if node["first_date"]:
                attrs.update(start=node["first_date"], end=node["last_date"])
            xml.startElement("node", attrs)
            _values(xml, [(j, node.get(n)) for j, (n, _t) in enumerate(NODE_ATTRIBUTES)])
            xml.endElement("node")
        xml.endElement("nodes")
        ids = {name: f"n{i}" for i, name in enumerate(net.nodes)}
        xml.startElement("edges", {})
        for i, edge in enumerate(net.edges):
            attrs = {"id": f"e{i}", "source": ids[edge["source"]], "target": ids[edge["target"]],
                     "label": edge["polarity"], "weight": repr(edge["confidence"])}
            if edge["date"]:
                attrs.update(start=edge["date"], end=edge["date"])
            xml.startElement("edge", attrs)
            _values(xml, [(j, edge_value(edge, n)) for j, (n, _t) in enumerate(EDGE_ATTRIBUTES)])
            xml.endElement("edge")
        xml.endElement("edges")
        xml.endElement("graph")
        xml.endElement("gexf")
        xml.endDocument()
        handle.write("\n")


def _text(xml: XMLGenerator, tag: str, text: str) -> None:
    xml.startElement(tag, {})
    xml.characters(text)
    xml.endElement(tag)


def _attributes(xml: XMLGenerator, cls: str, spec: list[tuple[str, str]]) -> None:
    # No mode attribute: GEXF 1.3 dropped it from <attributes> (1.2draft had it); static is the default.
    xml.startElement("attributes", {"class": cls})
    for j, (name, kind) in enumerate(spec):
        xml.startElement("attribute", {"id": str(j), "title": name, "type": TYPES[kind]})
        xml.endElement("attribute")
    xml.endElement("attributes")


def _values(xml: XMLGenerator, values: list[tuple[int, Any]]) -> None:
    xml.startElement("attvalues", {})
    for j, value in values:
        if value is None:
            continue
        xml.startElement("attvalue", {"for": str(j), "value": str(value)})
        xml.endElement("attvalue")
    xml.endElement("attvalues")


def export(statements: Iterable[dict[str, Any]], out: Path, *, manifest: dict[str, Any]) -> Path:
    """Write the stance network to ``out`` (GEXF 1.3) and ``<out>.manifest.json``."""
    write(build(statements), out, manifest)
    with atomic_text(out.with_name(out.name + ".manifest.json")) as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
    return out
