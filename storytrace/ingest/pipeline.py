"""Ingest: readers → (HTML extraction → metadata → cleaning) per document → the store, in batches.

``prepare`` is the pure per-document step (document in, article out), so it runs the same in-process,
in a process pool or on a cluster. ``ingest`` drives it: it skips sources already stored with the same
bytes, writes each batch in one transaction (a killed ingest loses at most the batch in flight, and a
re-run picks up where it stopped), records per-item errors, and afterwards refreshes the per-outlet
boilerplate lines, re-cleaning the articles of any outlet whose boilerplate changed.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from storytrace.errors import ItemTimeLimitError
from storytrace.ingest import clean as cleaning
from storytrace.ingest import metadata as metadata_detection
from storytrace.ingest.html import extract_html
from storytrace.ingest.readers import iter_documents
from storytrace.model import Article, ItemError, Metadata, RawDocument
from storytrace.pool import process_pool
from storytrace.settings import Settings
from storytrace.store import SourceRef, Store
from storytrace.timelimit import time_limit


def content_id(text: str) -> str:
    """The article id: a hash of the text with Unicode and whitespace differences folded away."""
    normal = " ".join(unicodedata.normalize("NFKC", text).split())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Prepared:
    """A document ready for the store: its article, where it came from, and its boilerplate candidates."""

    article: Article
    source: SourceRef
    line_keys: frozenset[str]


def prepare(doc: RawDocument, *, boilerplate: Mapping[str, frozenset[str]], settings: Settings) -> Prepared | ItemError:
    """Turn one raw document into a cleaned article with metadata (pure: no I/O)."""
    markup: dict[str, str] = {}
    raw_text = doc.text
    if doc.html is not None:
        extracted = extract_html(doc.html, url=doc.given.get("url"), settings=settings)
        if not extracted.text.strip():
            return ItemError(doc.source_path, doc.record, "HTML holds no extractable main text", "E110")
        raw_text = extracted.text
        markup = {
            key: value
            for key, value in (("title", extracted.title), ("author", extracted.author),
                               ("published", extracted.date), ("outlet", extracted.sitename),
                               ("url", extracted.url))
            if value
        }
    if not raw_text.strip():
        return ItemError(doc.source_path, doc.record, "document holds no text", "E103")
    meta = metadata_detection.detect(raw_text, given=doc.given, markup=markup, source_path=doc.source_path)
    outlet = meta.outlet.value if meta.outlet else None
    cleaned = cleaning.clean(
        raw_text, metadata=meta, outlet_boilerplate=boilerplate.get(outlet or "", frozenset()), settings=settings
    )
    article = Article(
        id=content_id(raw_text),
        raw_text=raw_text,
        clean=cleaned,
        meta=meta,
        format="html" if doc.html is not None else doc.format,
        sources=(doc.location,),
        html=doc.html,
    )
    keys = frozenset(cleaning.candidate_lines(raw_text, settings=settings))
    return Prepared(article, SourceRef(doc.source_path, doc.record, doc.source_sha256), keys)


def reclean(article: Article, *, boilerplate: frozenset[str], settings: Settings) -> Article:
    """Clean an already stored article again, e.g. after its outlet's boilerplate lines changed."""
    given = {k: v.value for k, v in article.meta.fields().items() if v.source == "given"}
    markup = {k: v.value for k, v in article.meta.fields().items() if v.source == "markup"}
    meta = metadata_detection.detect(article.raw_text, given=given, markup=markup, source_path="")
    # Keep the stored metadata (it may carry provenance detect() cannot rebuild), take only the lines.
    meta = Metadata.from_fields(article.meta.fields(), lines=meta.lines)
    cleaned = cleaning.clean(article.raw_text, metadata=meta, outlet_boilerplate=boilerplate, settings=settings)
    return Article(article.id, article.raw_text, cleaned, article.meta, article.format, article.sources,
                   article.html, article.content_hash)


@dataclass
class IngestCounts:
    added: int = 0
    duplicates: int = 0
    unchanged: int = 0
    updated: int = 0
    recleaned: int = 0
    errors: list[ItemError] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "duplicates": self.duplicates, "unchanged": self.unchanged,
                "updated": self.updated, "recleaned": self.recleaned, "errors": len(self.errors)}


def _batches(items: Iterable[RawDocument | ItemError], size: int) -> Iterator[list[RawDocument | ItemError]]:
    batch: list[RawDocument | ItemError] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _prepare_many(docs: list[RawDocument], boilerplate: Mapping[str, frozenset[str]],
                  settings: Settings) -> list[Prepared | ItemError]:
    """Prepare each document; a failing one, or one running past ``settings.max_item_seconds``, is an error.

    The time limit needs the main thread of a Unix process (pool workers are); elsewhere documents are
    prepared without one (``storytrace.timelimit``).
    """
    out: list[Prepared | ItemError] = []
    for doc in docs:
        try:
            with time_limit(settings.max_item_seconds, "preparing the document"):
                prepared = prepare(doc, boilerplate=boilerplate, settings=settings)
        except ItemTimeLimitError as exc:
            out.append(ItemError(doc.source_path, doc.record, exc.args[0], "E115"))
            continue
        except Exception as exc:  # one bad document must not stop the batch
            out.append(ItemError(doc.source_path, doc.record, f"could not process: {type(exc).__name__}: {exc}",
                                 "E199"))
            continue
        out.append(prepared)
    return out


def ingest(
    store: Store,
    inputs: Iterable[str | Path],
    *,
    settings: Settings,
    run_id: int,
    manifest: Path | None = None,
    stdin: BinaryIO | None = None,
    on_item: Callable[[str], None] | None = None,
) -> IngestCounts:
    """Read, prepare and store every document under ``inputs``; per-item errors are collected."""
    counts = IngestCounts()
    boilerplate = store.outlet_boilerplate(
        min_articles=settings.boilerplate_min_articles, min_share=settings.boilerplate_min_share
    )
    pool = process_pool(settings.jobs)

    def store_batch(batch: list[RawDocument | ItemError], pending: _Pending) -> None:
        with store.transaction() as conn:
            for result in pending.results():
                if isinstance(result, ItemError):
                    counts.errors.append(result)
                    continue
                outcome = store.add_article(
                    conn, result.article, source=result.source, line_keys=result.line_keys, run_id=run_id
                )
                setattr(counts, _COUNTER[outcome], getattr(counts, _COUNTER[outcome]) + 1)
        if on_item:
            for item in batch:
                on_item(item.location)

    # With a pool, the next batch is prepared by the workers while this process writes the previous one.
    in_flight: deque[tuple[list[RawDocument | ItemError], _Pending]] = deque()
    try:
        stream = iter_documents(inputs, settings=settings, manifest=manifest, stdin=stdin)
        for batch in _batches(stream, settings.batch_size):
            todo: list[RawDocument] = []
            for item in batch:
                if isinstance(item, ItemError):
                    counts.errors.append(item)
                elif store.source_sha(item.source_path, item.record) == item.source_sha256:
                    counts.unchanged += 1
                else:
                    todo.append(item)
            in_flight.append((batch, _Pending(pool, todo, boilerplate, settings)))
            if len(in_flight) > (1 if pool is not None else 0):
                store_batch(*in_flight.popleft())
        while in_flight:
            store_batch(*in_flight.popleft())
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if counts.errors:
        store.record_errors(run_id, counts.errors)
    counts.recleaned = refresh_boilerplate(store, before=boilerplate, settings=settings)
    return counts


_COUNTER = {"added": "added", "duplicate": "duplicates", "unchanged": "unchanged", "updated": "updated"}


class _Pending:
    """One batch being prepared: in this process (at once), or spread over the pool's workers."""

    def __init__(self, pool: ProcessPoolExecutor | None, docs: list[RawDocument],
                 boilerplate: Mapping[str, frozenset[str]], settings: Settings) -> None:
        self.n = settings.jobs
        self.done: list[Prepared | ItemError] | None = None
        self.futures: list[Future[list[Prepared | ItemError]]] = []
        if pool is None or len(docs) < 4:
            self.done = _prepare_many(docs, boilerplate, settings)
        else:
            # Worker i gets docs i, i+n, i+2n, ...: similar loads without knowing document sizes.
            self.futures = [pool.submit(_prepare_many, docs[i :: self.n], boilerplate, settings)
                            for i in range(self.n)]

    def results(self) -> list[Prepared | ItemError]:
        if self.done is not None:
            return self.done
        parts = [f.result() for f in self.futures]
        ordered: list[Prepared | ItemError] = []
        for j in range(max(len(p) for p in parts)):  # restore input order
            ordered.extend(part[j] for part in parts if j < len(part))
        return ordered


def refresh_boilerplate(store: Store, *, before: Mapping[str, frozenset[str]], settings: Settings) -> int:
    """Re-clean the articles of every outlet whose boilerplate lines changed; return how many changed."""
    after = store.outlet_boilerplate(
        min_articles=settings.boilerplate_min_articles, min_share=settings.boilerplate_min_share
    )
    # An outlet is re-cleaned when its lines changed during this run, or when its articles were last all
    # cleaned against other lines (an earlier ingest was killed before it got here).
    recorded = store.cleaned_against()
    empty = lines_hash(frozenset())
    changed = {o for o in set(before) | set(after) | set(recorded)
               if before.get(o, frozenset()) != after.get(o, frozenset())
               or recorded.get(o, empty) != lines_hash(after.get(o, frozenset()))}
    recleaned = 0
    for outlet in sorted(changed):
        batch: list[Article] = []
        for article in store.iter_articles(outlet=outlet):
            new = reclean(article, boilerplate=after.get(outlet, frozenset()), settings=settings)
            if new.clean.text != article.clean.text or new.clean.removed != article.clean.removed:
                batch.append(new)
            if len(batch) >= settings.batch_size:
                recleaned += _save_recleaned(store, batch)
                batch = []
        recleaned += _save_recleaned(store, batch)
        store.set_cleaned_against(outlet, lines_hash(after.get(outlet, frozenset())))
    return recleaned


def lines_hash(lines: frozenset[str]) -> str:
    """A short hash of a set of boilerplate line keys."""
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()[:16]


def _save_recleaned(store: Store, articles: list[Article]) -> int:
    with store.transaction() as conn:
        for article in articles:
            store.update_clean(conn, article.id, article.clean)
    return len(articles)
