"""Statement-level tables: one row per quotation, the same columns in CSV, JSON Lines and Parquet.

Each row names who spoke (the mention in the article, the speaker resolved within the article, and the
canonical actor across the corpus, with how that actor was found), what was said and where: article id,
outlet, publication date and the raw-text offsets of the quotation, its source mention and its cue, with
the extractor's confidence. The actor comes from the ``actors`` stage's mention records when one covers
the quotation's source span (``actor_match = "mention"``), else from a canonical name or name variant
equal to the speaker (``"name"``); with neither, the actor columns are empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from storytrace.errors import InputError
from storytrace.export import atomic_text
from storytrace.store import Store

# (column, Arrow type): the one schema every format follows, in this order.
SCHEMA: list[tuple[str, pa.DataType]] = [
    ("statement_id", pa.string()), ("article_id", pa.string()), ("outlet", pa.string()),
    ("published", pa.string()), ("title", pa.string()), ("speaker", pa.string()), ("actor_id", pa.string()),
    ("actor", pa.string()), ("actor_match", pa.string()), ("source", pa.string()), ("anonymous", pa.bool_()),
    ("kind", pa.string()), ("cue", pa.string()), ("text", pa.string()), ("start", pa.int64()),
    ("end", pa.int64()), ("source_start", pa.int64()), ("source_end", pa.int64()), ("cue_start", pa.int64()),
    ("cue_end", pa.int64()), ("confidence", pa.float64()), ("unresolved_reason", pa.string()),
]
COLUMNS = [name for name, _type in SCHEMA]
FORMATS = ("csv", "jsonl", "parquet")


class ActorLookup:
    """Find the canonical actor of a quotation: by its source span's mention record, else by name."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.by_name: dict[str, tuple[str, str]] = {}
        result = store.corpus_result("actors")
        actors = (result[1].get("actors", []) if result else [])
        # Most mentioned first (the stage's order), so a variant shared by two actors goes to the better known.
        for actor in actors:
            for name in [actor["name"], *actor.get("variants", [])]:
                self.by_name.setdefault(name, (actor["id"], actor["name"]))

    def for_article(self, article_id: str) -> dict[tuple[int, int], tuple[str, str]]:
        spans: dict[tuple[int, int], tuple[str, str]] = {}
        for key, _a, payload in self.store.corpus_records("actors", article_id=article_id, limit=100_000):
            if payload.get("start") is not None:
                spans.setdefault((payload["start"], payload["end"]), (key, payload.get("name") or key))
        return spans

    def name(self, speaker: str | None) -> tuple[str, str] | None:
        return self.by_name.get(speaker) if speaker else None


def quote_rows(store: Store) -> Iterator[dict[str, Any]]:
    """One flat row per stored quotation, in article order, with its provenance and actor."""
    lookup = ActorLookup(store)
    for article_id, payload in store.iter_stage_payloads("quotes"):
        quotes = payload.get("quotes") or []
        if not quotes:
            continue
        info = store.article_info([article_id]).get(article_id, {})
        spans = lookup.for_article(article_id)
        for i, q in enumerate(quotes):
            actor, match = None, None
            if q.get("source_start") is not None and (q["source_start"], q.get("source_end")) in spans:
                actor, match = spans[(q["source_start"], q["source_end"])], "mention"
            elif (found := lookup.name(q.get("speaker"))) is not None:
                actor, match = found, "name"
            yield {
                "statement_id": f"{article_id}:{i}", "article_id": article_id, "outlet": info.get("outlet"),
                "published": info.get("published"), "title": info.get("title"), "speaker": q.get("speaker"),
                "actor_id": actor[0] if actor else None, "actor": actor[1] if actor else None,
                "actor_match": match, "source": q.get("source"), "anonymous": bool(q.get("anonymous")),
                "kind": q.get("kind"), "cue": q.get("cue"), "text": q.get("content"),
                "start": q.get("content_start"), "end": q.get("content_end"),
                "source_start": q.get("source_start"), "source_end": q.get("source_end"),
                "cue_start": q.get("cue_start"), "cue_end": q.get("cue_end"),
                "confidence": q.get("confidence"), "unresolved_reason": q.get("unresolved_reason"),
            }


def export(store: Store, out: Path, *, format: str, manifest: dict[str, Any]) -> Path:
    """Write every quotation to ``out`` as ``format`` (csv, jsonl or parquet), plus ``<out>.manifest.json``."""
    from storytrace.export import csvfile, jsonl, parquet

    rows = quote_rows(store)
    if format == "csv":
        csvfile.write(rows, out, manifest, columns=COLUMNS)
    elif format == "jsonl":
        jsonl.write(rows, out, manifest)
    elif format == "parquet":
        parquet.write(rows, out, manifest, schema=pa.schema(SCHEMA))
    else:
        raise InputError(f"unknown quotation table format {format!r}; choose one of {', '.join(FORMATS)}",
                         code="E121")
    with atomic_text(out.with_name(out.name + ".manifest.json")) as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
    return out
