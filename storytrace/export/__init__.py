"""Exports, one module per format. Every file is written atomically and comes with a run manifest."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from storytrace.errors import InputError
from storytrace.store import Store

FORMATS = ("jsonl", "csv", "parquet", "quotes-csv", "quotes-jsonl", "quotes-parquet", "dna", "gexf", "graphml",
           "annotations")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; it replaces ``target`` only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_text(target: Path) -> Iterator[IO[str]]:
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        yield handle


def article_rows(store: Store) -> Iterator[dict[str, Any]]:
    """One flat record per article, with its provenance (sources, metadata origins, removed lines)."""
    for article in store.iter_articles():
        meta = article.meta.fields()
        yield {
            "id": article.id,
            "title": article.title,
            "outlet": article.outlet,
            "author": article.author,
            "published": article.published,
            "published_source": meta["published"].source if "published" in meta else None,
            "url": meta["url"].value if "url" in meta else None,
            "format": article.format,
            "sources": list(article.sources),
            "words": len(article.clean.text.split()),
            "raw_text": article.raw_text,
            "clean_text": article.clean.text,
            "segments": [list(s) for s in article.clean.segments],
            "removed_lines": [r.to_dict() for r in article.clean.removed],
            "metadata": {k: v.to_dict() for k, v in meta.items()},
        }


def export_articles(store: Store, out: Path, *, format: str, manifest: dict[str, Any]) -> Path:
    """Write every article to ``out`` in ``format``, plus ``<out>.manifest.json``."""
    writers: dict[str, Callable[[Iterable[dict[str, Any]], Path, dict[str, Any]], None]]
    from storytrace.export import csvfile, jsonl, parquet

    writers = {"jsonl": jsonl.write, "csv": csvfile.write, "parquet": parquet.write}
    if format not in writers:
        raise InputError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}", code="E121")
    writers[format](article_rows(store), out, manifest)
    with atomic_text(out.with_name(out.name + ".manifest.json")) as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=2)
    return out
