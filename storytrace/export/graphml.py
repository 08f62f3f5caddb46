"""GraphML: the same stance network as the GEXF export (actors as nodes, stance statements as edges)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import XMLGenerator

from storytrace.export import atomic_path, atomic_text
from storytrace.export.graph import EDGE_ATTRIBUTES, NODE_ATTRIBUTES, Network, build, edge_value

NS = "http://graphml.graphdrawing.org/xmlns"
TYPES = {"string": "string", "integer": "int", "double": "double"}


def write(net: Network, out: Path, manifest: dict[str, Any]) -> None:
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as handle:
        xml = XMLGenerator(handle, encoding="utf-8", short_empty_elements=True)
        xml.startDocument()
        xml.startElement("graphml", {"xmlns": NS, "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                                     "xsi:schemaLocation": f"{NS} {NS}/1.0/graphml.xsd"})
        keys: dict[tuple[str, str], str] = {}
        for domain, spec in (("node", [("label", "string"), *NODE_ATTRIBUTES]), ("edge", EDGE_ATTRIBUTES)):
            for name, kind in spec:
                key = f"{domain[0]}_{name}"
                keys[(domain, name)] = key
                xml.startElement("key", {"id": key, "for": domain, "attr.name": name, "attr.type": TYPES[kind]})
                xml.endElement("key")
        xml.startElement("graph", {"id": "stances", "edgedefault": "directed"})
        xml.startElement("desc", {})
        xml.characters("storytrace stance network; run manifest: "
                       + json.dumps({k: manifest.get(k) for k in ("versions", "schema")}, default=str))
        xml.endElement("desc")
        ids = {}
        for i, (name, node) in enumerate(net.nodes.items()):
            ids[name] = f"n{i}"
            xml.startElement("node", {"id": f"n{i}"})
            _data(xml, keys[("node", "label")], name)
            for attr, _t in NODE_ATTRIBUTES:
                _data(xml, keys[("node", attr)], node.get(attr))
            xml.endElement("node")
        for i, edge in enumerate(net.edges):
            xml.startElement("edge", {"id": f"e{i}", "source": ids[edge["source"]], "target": ids[edge["target"]]})
            for attr, _t in EDGE_ATTRIBUTES:
                _data(xml, keys[("edge", attr)], edge_value(edge, attr))
            xml.endElement("edge")
        xml.endElement("graph")
        xml.endElement("graphml")
        xml.endDocument()
        handle.write("\n")


def _data(xml: XMLGenerator, key: str, value: Any) -> None:
    if value is None:
        return
    xml.startElement("data", {"key": key})
    xml.characters(str(value))
    xml.endElement("data")


def export(statements: Iterable[dict[str, Any]], out: Path, *, manifest: dict[str, Any]) -> Path:
    """Write the stance network to ``out`` (GraphML) and ``<out>.manifest.json``."""
    write(build(statements), out, manifest)
    with atomic_text(out.with_name(out.name + ".manifest.json")) as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
    return out
