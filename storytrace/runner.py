"""Run analysis stages over a store: only what is stale, in batches, optionally over a process pool.

A stage result is stale when it is missing, failed, or was computed from other input: the input key
joins the stage version, the article's clean-text hash and the versions of the stages it requires.
Work goes article by article: a batch of articles is loaded once, each article runs all its stale stages
in plan order in one process (a stage reads what the ones before it produced without a store round
trip), and the batch's results are written in one transaction, so an interrupted run keeps what it
finished and a re-run resumes with the rest.
Corpus stages run after, each over the whole store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from storytrace.model import Article, StageOutput
from storytrace.pool import process_pool
from storytrace.settings import Settings
from storytrace.stages import CORPUS_STAGES, STAGES, CorpusStage, Stage, plan
from storytrace.store import Store
from storytrace.timelimit import time_limit


@dataclass
class StageCounts:
    done: int = 0
    errors: int = 0
    fresh: int = 0  # already up to date
    skipped: str = ""  # why the stage did not run at all


@dataclass
class AnalyzeCounts:
    stages: dict[str, StageCounts] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {name: dict(c.__dict__) for name, c in self.stages.items()}

    @property
    def errors(self) -> int:
        return sum(c.errors for c in self.stages.values())


def input_key(stage: Stage, clean_hash: str, settings: Settings) -> str:
    versions = ",".join(f"{r}@{STAGES[r].version}" for r in stage.requires if r in STAGES)
    return f"{stage.version}:{clean_hash}:{versions}:{stage.fingerprint(settings)}"


def run_stages(items: list[tuple[Article, list[str], dict[str, Any]]],
               settings: Settings) -> list[StageOutput | tuple[str, str, str]]:
    """Run the stale stages of each article, in plan order, over a batch of articles.

    All of an article's stages run one after the other in the same process, so a stage gets the payloads
    of the stages it requires straight from the ones before it (``stored`` holds those already fresh in the
    store). The same function runs inside the Spark engine's ``mapPartitions``. A failing stage yields
    (article id, stage, error); the article's other stages go on, except those that need the failed one.
    A stage running past ``settings.max_item_seconds`` on an article is stopped and fails that way (E330,
    its partial result dropped); the limit needs the main thread of a Unix process (pool workers and Spark's
    Python workers are), elsewhere stages run unlimited (``storytrace.timelimit``).
    """
    out: list[StageOutput | tuple[str, str, str]] = []
    for article, names, stored in items:
        inputs = dict(stored)
        for name in names:
            stage = STAGES[name]
            missing = [r for r in stage.requires if r not in inputs]
            if missing:
                out.append((article.id, name, f"needs {', '.join(missing)}, which has no result for this article"))
                continue
            try:
                with time_limit(settings.max_item_seconds, f"stage {name!r} on article {article.id}"):
                    result = stage.run(article, {r: inputs[r] for r in stage.requires}, settings)
            except Exception as exc:  # one article's failure must not stop the others
                out.append((article.id, name, f"{type(exc).__name__}: {exc}"))
                continue
            inputs[name] = result.payload
            out.append(result)
    return out


def analyze(store: Store, *, settings: Settings, run_id: int, stages: list[str] | None = None) -> AnalyzeCounts:
    """Bring the requested stages (all by default) up to date for every article."""
    article_stages, corpus_stages = plan(stages)
    counts = AnalyzeCounts()
    runnable: list[Stage] = []
    for stage in article_stages:
        counts.stages[stage.name] = StageCounts(skipped=stage.unavailable() or "")
        if not counts.stages[stage.name].skipped:
            runnable.append(stage)
    if runnable:
        _run_article_stages(store, runnable, settings, run_id, counts)
    for cstage in corpus_stages:
        counts.stages[cstage.name] = _run_corpus_stage(store, cstage, settings, run_id, counts)
    return counts


def _run_article_stages(store: Store, stages: list[Stage], settings: Settings, run_id: int,
                        counts: AnalyzeCounts) -> None:
    """Run every stale (article, stage) pair, article by article, batches written in one transaction each."""
    existing = {s.name: store.stage_keys(s.name) for s in stages}
    todo: dict[str, dict[str, str]] = {}  # article id -> {stale stage: its input key}, in plan order
    for article_id, chash in store.article_keys():
        for stage in stages:
            key = input_key(stage, chash, settings)
            if existing[stage.name].get(article_id) == (key, "done"):
                counts.stages[stage.name].fresh += 1
            else:
                todo.setdefault(article_id, {})[stage.name] = key
    del existing
    if not todo:
        return
    bar = tqdm(total=len(todo), desc="analyze", unit="art", disable=_no_progress(settings))
    pool = process_pool(settings.jobs)
    try:
        for results in _results(store, todo, settings, pool):
            outputs = [(r, todo[r.article_id][r.stage]) for r in results if isinstance(r, StageOutput)]
            failures = [r for r in results if not isinstance(r, StageOutput)]
            with store.transaction() as conn:
                store.save_stage_outputs(conn, outputs, run_id=run_id)
                for article_id, name, error in failures:
                    store.save_stage_error(conn, article_id, name, todo[article_id][name], error, run_id=run_id)
            for r, _key in outputs:
                counts.stages[r.stage].done += 1
            for _article_id, name, _error in failures:
                counts.stages[name].errors += 1
            bar.update(len({r.article_id if isinstance(r, StageOutput) else r[0] for r in results}))
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _results(store: Store, todo: dict[str, dict[str, str]], settings: Settings,
             pool: ProcessPoolExecutor | None) -> Iterator[list[StageOutput | tuple[str, str, str]]]:
    """Yield results batch by batch, keeping at most two batches per worker in flight."""
    size = settings.batch_size
    ids = list(todo)

    def load(chunk: list[str]) -> list[tuple[Article, list[str], dict[str, Any]]]:
        items = []
        for article in store.iter_articles(ids=chunk):
            names = list(todo[article.id])
            # inputs the batch does not compute itself: results already in the store
            needed = {r for n in names for r in STAGES[n].requires} - set(names)
            items.append((article, names, store.stage_payloads(article.id, needed) if needed else {}))
        return items

    chunks = (ids[i : i + size] for i in range(0, len(ids), size))
    if pool is None:
        for chunk in chunks:
            yield run_stages(load(chunk), settings)
        return
    in_flight: list[Future[list[StageOutput | tuple[str, str, str]]]] = []
    for chunk in chunks:
        in_flight.append(pool.submit(run_stages, load(chunk), settings))
        if len(in_flight) >= 2 * settings.jobs:
            yield in_flight.pop(0).result()
    for future in in_flight:
        yield future.result()


def corpus_input_key(store: Store, stage: CorpusStage, settings: Settings) -> str:
    """What a corpus stage's result is built from: its version, settings, and every input's key."""
    digest = hashlib.sha256(stage.version.encode())
    digest.update(stage.fingerprint(settings).encode())
    for req in (*stage.requires, *stage.optional):
        if req in CORPUS_STAGES:  # another corpus stage: its own input key says what it was built from
            upstream = store.corpus_result(req)
            digest.update(f"{req}={upstream[0] if upstream else None};".encode())
            continue
        for article_id, (key, status) in sorted(store.stage_keys(req).items()):
            digest.update(f"{article_id}:{key}:{status};".encode())
    return digest.hexdigest()[:16]


def _run_corpus_stage(store: Store, stage: CorpusStage, settings: Settings, run_id: int,
                      counts: AnalyzeCounts) -> StageCounts:
    result = StageCounts()
    missing = [r for r in stage.requires if counts.stages.get(r) and counts.stages[r].skipped]
    if missing:
        result.skipped = f"requires {', '.join(missing)}, which did not run"
        return result
    key = corpus_input_key(store, stage, settings)
    stored = store.corpus_result(stage.name)
    if stored is not None and stored[0] == key:
        result.fresh = 1
        return result

    output = stage.run(_View(store, stage.requires, stage.optional), settings)
    store.save_corpus_result(stage.name, key, output.summary, run_id=run_id, records=output.records)
    result.done = 1
    return result


class _View:
    """The store as a corpus stage sees it: streamed articles and required per-article payloads."""

    def __init__(self, store: Store, requires: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
        self.store = store
        # inputs() joins per-article payloads; corpus stages among the requirements are read by records().
        self.requires = tuple(r for r in requires if r in STAGES)
        self.optional = tuple(r for r in optional if r in STAGES)

    def count(self) -> int:
        return self.store.count_articles()

    def records(self, stage: str) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        offset = 0
        while rows := self.store.corpus_records(stage, limit=5000, offset=offset):
            yield from rows
            offset += len(rows)

    def articles(self) -> Iterator[Article]:
        return self.store.iter_articles()

    def inputs(self) -> Iterator[tuple[str, dict[str, Any]]]:
        if not self.requires:
            return
        first, rest = self.requires[0], self.requires[1:]
        for article_id, payload in self.store.iter_stage_payloads(first):
            more = (*rest, *self.optional)
            found = {first: payload, **(self.store.stage_payloads(article_id, more) if more else {})}
            if all(r in found for r in rest):
                yield article_id, found


def _no_progress(settings: Settings) -> bool | None:
    return None if settings.progress is None else not settings.progress
