"""The rows the Spark engine writes, and the way back to the library's records.

One place says what an article, a stage result, an ingest error and a corpus record look like as
Parquet rows, so the writer (``scale/spark.py``) and the loader (``scale/load.py``) cannot drift apart.
JSON columns hold exactly what the SQLite store holds in the same-named columns (``store._dumps``).
"""

from __future__ import annotations

import json
from typing import Any

from storytrace.model import Article, Cleaned, ItemError, Metadata, MetaValue, RemovedLine, StageOutput
from storytrace.store import SourceRef, clean_hash


def dumps(value: Any) -> str:
    """JSON as the store writes it (compact, UTF-8 kept)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Column names and Arrow/Spark types ("string", "long"), in order; spark.py builds its schemas from these.
ARTICLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("num", "long"), ("id", "string"), ("format", "string"), ("raw_text", "string"), ("html", "string"),
    ("clean_text", "string"), ("clean_hash", "string"), ("segments", "string"), ("removed", "string"),
    ("title", "string"), ("outlet", "string"), ("author", "string"), ("published", "string"), ("url", "string"),
    ("meta", "string"), ("sources", "string"), ("line_keys", "string"),
)
STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("article_id", "string"), ("stage", "string"), ("input_key", "string"), ("status", "string"),
    ("payload", "string"), ("summary", "string"), ("error", "string"),
)
ERROR_COLUMNS: tuple[tuple[str, str], ...] = (
    ("path", "string"), ("record", "string"), ("code", "string"), ("message", "string"),
)
CORPUS_RECORD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("stage", "string"), ("seq", "long"), ("key", "string"), ("article_id", "string"), ("payload", "string"),
)
CORPUS_RESULT_COLUMNS: tuple[tuple[str, str], ...] = (("stage", "string"), ("summary", "string"))


def article_row(article: Article, *, num: int, sources: list[SourceRef], line_keys: frozenset[str]) -> tuple[Any, ...]:
    """An article as one row of ARTICLE_COLUMNS; ``num`` is its place in input order."""
    meta = article.meta
    return (
        num, article.id, article.format, article.raw_text, article.html, article.clean.text,
        clean_hash(article.clean.text), dumps(article.clean.segments),
        dumps([[r.start, r.end, r.text, r.reason] for r in article.clean.removed]),
        article.title, article.outlet, article.author, article.published, meta.url.value if meta.url else None,
        dumps({k: v.to_dict() for k, v in meta.fields().items()}),
        dumps([[s.path, s.record, s.sha256] for s in sources]), dumps(sorted(line_keys)),
    )


def article_from_row(row: dict[str, Any]) -> tuple[Article, list[SourceRef], list[str]]:
    """The article, its sources (first = the one it was read from) and its boilerplate line keys."""
    removed = tuple(RemovedLine(r[0], r[1], r[2], r[3]) for r in json.loads(row["removed"]))
    segments = tuple((s[0], s[1], s[2]) for s in json.loads(row["segments"]))
    fields = {k: MetaValue.from_dict(v) for k, v in json.loads(row["meta"]).items()}
    sources = [SourceRef(p, r, s) for p, r, s in json.loads(row["sources"])]
    article = Article(
        id=row["id"], raw_text=row["raw_text"], clean=Cleaned(row["clean_text"], segments, removed),
        meta=Metadata.from_fields(fields), format=row["format"],
        sources=tuple(f"{s.path} ({s.record})" if s.record else s.path for s in sources),
        html=row["html"], content_hash=row["clean_hash"],
    )
    return article, sources, json.loads(row["line_keys"])


def stage_row(result: StageOutput | tuple[str, str, str], key: str) -> tuple[Any, ...]:
    """A stage result (or its failure) as one row of STAGE_COLUMNS."""
    if isinstance(result, StageOutput):
        return (result.article_id, result.stage, key, "done", dumps(result.payload), dumps(result.summary), None)
    article_id, stage, error = result
    return (article_id, stage, key, "error", None, "{}", error)


def stage_from_row(row: dict[str, Any]) -> StageOutput | tuple[str, str, str]:
    if row["status"] == "done":
        return StageOutput(row["stage"], row["article_id"], json.loads(row["payload"]), json.loads(row["summary"]))
    return (row["article_id"], row["stage"], row["error"] or "")


def error_row(error: ItemError) -> tuple[Any, ...]:
    return (error.source_path, error.record, error.code, error.message)


def error_from_row(row: dict[str, Any]) -> ItemError:
    return ItemError(row["path"], row["record"], row["message"], row["code"])
