"""W3C Web Annotation (JSON-LD) for quotation spans: TextQuoteSelector + TextPositionSelector per quote.

Positions are character offsets into the article's raw text (the text storytrace stores byte for byte); the
target's ``source`` names the article (``urn:storytrace:article:<id>``) and, when known, its URL. Each
annotation carries the quote's kind, speaker, confidence and cue/source offsets as storytrace extensions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from storytrace.export import atomic_text

CONTEXT = ["http://www.w3.org/ns/anno.jsonld", {"storytrace": "urn:storytrace:ns#"}]
AFFIX = 32  # characters of prefix/suffix context, enough to disambiguate a repeated quotation


def annotations(quoted: Iterable[tuple[str, str, str | None, list[dict[str, Any]]]]) -> Iterator[dict[str, Any]]:
    """One annotation per quotation span, from (article id, raw text, url, quotes) tuples."""
    for article_id, raw, url, quotes in quoted:
        for i, q in enumerate(quotes):
            spans = q.get("content_spans") or [[q["content_start"], q["content_end"]]]
            for j, (start, end) in enumerate(spans):
                source: dict[str, Any] | str = f"urn:storytrace:article:{article_id}"
                target: dict[str, Any] = {"source": source, "selector": [
                    {"type": "TextQuoteSelector", "exact": raw[start:end], "prefix": raw[max(0, start - AFFIX):start],
                     "suffix": raw[end:end + AFFIX]},
                    {"type": "TextPositionSelector", "start": start, "end": end},
                ]}
                if url:
                    target["storytrace:url"] = url
                speaker = q.get("speaker")
                bodies: list[dict[str, Any]] = [{"type": "TextualBody", "purpose": "describing", "format": "text/plain",
                                                 "value": f"{q.get('kind', 'quotation')} quotation"
                                                          + (f" by {speaker}" if speaker else "")}]
                if speaker:
                    bodies.append({"type": "TextualBody", "purpose": "identifying", "value": speaker})
                yield {
                    "id": f"urn:storytrace:quote:{article_id}:{i}:{j}", "type": "Annotation",
                    "motivation": "identifying", "body": bodies, "target": target,
                    "storytrace:article_id": article_id, "storytrace:kind": q.get("kind"),
                    "storytrace:speaker": speaker, "storytrace:source_mention": q.get("source"),
                    "storytrace:source_start": q.get("source_start"), "storytrace:source_end": q.get("source_end"),
                    "storytrace:cue": q.get("cue"), "storytrace:cue_start": q.get("cue_start"),
                    "storytrace:cue_end": q.get("cue_end"), "storytrace:confidence": q.get("confidence"),
                    "storytrace:offsets": "raw_text",
                }


def export(quoted: Iterable[tuple[str, str, str | None, list[dict[str, Any]]]], out: Path, *,
           manifest: dict[str, Any]) -> Path:
    """Write an AnnotationCollection (one page, streamed) to ``out`` and ``<out>.manifest.json``."""
    with atomic_text(out) as handle:
        handle.write('{"@context": ' + json.dumps(CONTEXT) + ', "type": "AnnotationCollection", '
                     '"label": "storytrace quotations", "first": {"type": "AnnotationPage", "items": [\n')
        n = 0
        for item in annotations(quoted):
            handle.write((",\n" if n else "") + json.dumps(item, ensure_ascii=False))
            n += 1
        handle.write('\n]}, "total": ' + str(n) + "}\n")
    with atomic_text(out.with_name(out.name + ".manifest.json")) as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
    return out
