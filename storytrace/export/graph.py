"""The supports/opposes network shared by the GEXF and GraphML exports: actors as nodes, stance statements as edges.

Each edge is one stance statement (holder -> target) with its polarity, date, confidence and the article and
raw-text offsets of its evidence, so every edge in Gephi or networkx can be traced back to its sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

# Signed agreement for tools that weigh edges numerically (DNA convention: support 1, oppose -1).
AGREEMENT = {"support": 1, "oppose": -1}

NODE_ATTRIBUTES = [("kind", "string"), ("statements", "integer"), ("first_date", "string"),
                   ("last_date", "string")]
EDGE_ATTRIBUTES = [("polarity", "string"), ("agreement", "integer"), ("confidence", "double"), ("date", "string"),
                   ("concept", "string"), ("cue", "string"), ("source", "string"), ("article_id", "string"),
                   ("outlet", "string"), ("evidence_start", "integer"), ("evidence_end", "integer"),
                   ("cue_start", "integer"), ("cue_end", "integer")]


@dataclass
class Network:
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)


def build(statements: Iterable[dict[str, Any]]) -> Network:
    """Collect nodes and edges from stance statements (see ``Corpus.stance_statements``)."""
    net = Network()
    for s in statements:
        day = (s.get("date") or "")[:10] or None
        for name, kind in ((s["holder"], s.get("holder_kind")), (s["target"], s.get("target_kind"))):
            node = net.nodes.setdefault(name, {"kind": kind or "unknown", "statements": 0, "first_date": None,
                                               "last_date": None})
            node["statements"] += 1
            if day:
                node["first_date"] = min(filter(None, [node["first_date"], day]))
                node["last_date"] = max(filter(None, [node["last_date"], day]))
        net.edges.append({
            "source": s["holder"], "target": s["target"], "polarity": s["polarity"],
            "agreement": AGREEMENT.get(s["polarity"], 0), "confidence": float(s.get("confidence") or 0.0),
            "date": day, "concept": s.get("concept") or "", "cue": s.get("cue") or "",
            "source_kind": s.get("source") or "", "article_id": s["article_id"], "outlet": s.get("outlet") or "",
            "evidence_start": s["evidence_start"], "evidence_end": s["evidence_end"],
            "cue_start": s.get("cue_start"), "cue_end": s.get("cue_end"),
        })
    return net


def edge_value(edge: dict[str, Any], name: str) -> Any:
    return edge["source_kind"] if name == "source" else edge.get(name)
