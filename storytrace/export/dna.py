"""DNA-style statements (Discourse Network Analyzer): one row per stance statement, CSV.

Columns: person, organisation (the holder, in the column of its kind), concept (the target, or the proposition
"<target> should stay as leader"), agreement (1 support, 0 oppose; neutral and mixed statements are kept with an
empty agreement so nothing is silently dropped), date, article id, start/end (raw-text offsets of the evidence
sentence), cue offsets, text, confidence.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from storytrace.export import atomic_text

COLUMNS = ["person", "organisation", "concept", "agreement", "polarity", "date", "article_id", "outlet", "start",
           "end", "cue_start", "cue_end", "text", "confidence"]


def rows(statements: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for s in statements:
        organisation = s["holder"] if s["holder_kind"] == "organisation" else ""
        yield {"person": "" if organisation else s["holder"], "organisation": organisation, "concept": s["concept"],
               "agreement": {"support": 1, "oppose": 0}.get(s["polarity"], ""), "polarity": s["polarity"],
               "date": (s.get("date") or "")[:10], "article_id": s["article_id"], "outlet": s.get("outlet") or "",
               "start": s["evidence_start"], "end": s["evidence_end"], "cue_start": s["cue_start"],
               "cue_end": s["cue_end"], "text": s["evidence"], "confidence": s["confidence"]}


def export(statements: Iterable[dict[str, Any]], out: Path, *, manifest: dict[str, Any]) -> Path:
    """Write the statements to ``out`` (CSV) and ``<out>.manifest.json``."""
    with atomic_text(out) as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows(statements))
    with atomic_text(out.with_name(out.name + ".manifest.json")) as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
    return out
