"""Run ingest and the per-article stages as one Spark job, writing Parquet tables the store can load.

The job runs the very functions the local engine runs: ``ingest.pipeline.prepare`` and
``runner.run_stages``, inside ``mapPartitions`` so that a Python worker loads the NLP model once
(``storytrace.nlp.load`` caches per process, and Spark reuses its Python workers) and then serves every
article of every partition it is given. Python workers are forked from a daemon that has imported
the pipeline already (``scale/daemon.py``), so no task pays that import. What differs from the local
engine is only what a store did for it:

1. read: one task per input file (the local readers, so the same records, errors and sha256s), except
   Parquet inputs (Spark reads them; one document per row) and JSON Lines files of ``2 * SPLIT_BYTES``
   or more with no sidecar or manifest beside them: those are cut at line starts into up to one range
   per partition (``line_ranges``), each read by the local reader in its own task with its line
   numbers shifted, so reading and preparing run on every core from the first stage, with no shuffle;
2. prepare every document with no boilerplate, then keep one article per content id (the first in
   input order, with every source it was read from), as ``Store.add_article`` does;
3. count each outlet's candidate boilerplate lines over the whole input (a ``reduceByKey``), pick the
   boilerplate exactly as ``Store.outlet_boilerplate`` does, broadcast it, and re-clean those outlets'
   articles (``ingest.pipeline.reclean``), as the local ingest's boilerplate refresh does;
4. run the stale-free stage plan on every article (``run_stages``), with the input keys the local
   runner would compute, so that after ``storytrace load`` a local ``storytrace analyze`` finds them up
   to date and runs only the corpus stages;
5. near-duplicates (``duplicates``), when planned, as DataFrame/RDD steps: MinHash signatures per
   article in the same pass, LSH bands grouped by key for candidate pairs, candidates checked on the
   exact shingle sets by joins (``duplicates.check``), then on the driver the local stage's own grouping
   (``duplicates.connect``: verified copies, then the second look at borderline pairs, fed the pairs'
   shingle sets and their document frequencies counted by a Spark step), and each group's members
   built from its articles' shingles on the executors (``duplicates.members``);
6. quote variants (``variants``), when planned: word 3-gram postings, document frequencies and candidate
   pairs as RDD steps, pairs scored on the executors, and the strongest-first union with its chaining
   guard on the driver over the linked units only. The other corpus stages (actors, stories, timeline,
   ...) run locally over the store after ``storytrace load``.

``SparkReport.parallel`` says, per heavy phase (read, prepare, analyze), how many tasks ran and how many
at once (``parallelism``), from the wall-clock span of each task's Python work.

Output folder: ``articles/``, ``stage_results/``, ``errors/``, ``corpus_records/``, ``corpus_results/``
(Parquet, columns in ``scale/records.py``) and ``manifest.json`` (what ran, counts, settings).
"""

from __future__ import annotations

import glob
import io
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from itertools import combinations
from pathlib import Path
from typing import Any

from storytrace.errors import InputError, PipelineError
from storytrace.ingest.pipeline import Prepared, prepare, reclean
from storytrace.ingest.read_meta import MANIFEST_NAMES, SIDECAR_SUFFIX
from storytrace.ingest.read_records import read_jsonl, record_document
from storytrace.ingest.readers import iter_documents
from storytrace.model import Article, ItemError, RawDocument
from storytrace.scale import records as rec
from storytrace.settings import Settings
from storytrace.stages import STAGES, Stage, plan

# JSON Lines files with no sidecar or manifest are read in line ranges of at least this many bytes, one
# task per range (at most the job's partitions): reading and preparing then start on every core at once.
SPLIT_BYTES = 1024 * 1024
# The corpus stages this engine computes itself; the others run locally after `storytrace load`.
SPARK_CORPUS_STAGES = ("duplicates", "variants")


@dataclass
class SparkReport:
    """What one Spark run did."""

    output: str
    inputs: int = 0  # input files
    documents: int = 0
    articles: int = 0
    duplicates: int = 0  # documents whose content another document already had
    errors: int = 0
    stages: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # stage -> why it did not run here
    local: list[str] = field(default_factory=list)  # corpus stages left for the local engine
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase
    # per heavy phase (read, prepare, analyze): how its Python work spread over tasks (``parallelism``)
    parallel: dict[str, dict[str, float]] = field(default_factory=dict)

    def lap(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[phase] = round(now - since, 2)
        return now

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Spans:
    """An accumulator of (phase, process id, start, end, items) per task: when each task's Python work ran."""

    def zero(self, _value: list[Any]) -> list[Any]:
        return []

    def addInPlace(self, a: list[Any], b: list[Any]) -> list[Any]:  # noqa: N802 (pyspark's name)
        a.extend(b)
        return a


def _timed(items: Iterable[Any], spans: Any, phase: str) -> Iterator[Any]:
    """Pass a partition's items through, then record when its work began and ended (wall clock)."""
    begun, n = time.time(), 0
    for item in items:
        n += 1
        yield item
    spans.add([(phase, os.getpid(), begun, time.time(), n)])


def parallelism(spans: Iterable[tuple[str, int, float, float, int]]) -> dict[str, dict[str, float]]:
    """Per phase: tasks, Python processes, items, busy seconds (summed over tasks), span (first start to
    last end), concurrency (busy / span: about N when N tasks ran side by side all along) and the most
    tasks that ran at the same moment. Wall-clock overlaps, so they hold on a busy machine too: two tasks
    at once is two tasks at once, however many cores they then share."""
    by_phase: dict[str, list[tuple[str, int, float, float, int]]] = {}
    for task in spans:
        by_phase.setdefault(task[0], []).append(task)
    out: dict[str, dict[str, float]] = {}
    for phase, rows in by_phase.items():
        busy = sum(end - start for _p, _pid, start, end, _n in rows)
        span = max(r[3] for r in rows) - min(r[2] for r in rows)
        edges = sorted([(r[2], 1) for r in rows] + [(r[3], -1) for r in rows])  # an end before a start at a tie
        running = most = 0
        for _t, step in edges:
            running += step
            most = max(most, running)
        out[phase] = {"tasks": len(rows), "processes": len({r[1] for r in rows}), "items": sum(r[4] for r in rows),
                      "busy_s": round(busy, 2), "span_s": round(span, 2),
                      "concurrency": round(busy / span, 2) if span > 0 else 0.0, "most_at_once": most}
    return out


# -- inputs ---------------------------------------------------------------------------------------------
def input_files(inputs: Iterable[str]) -> tuple[list[tuple[str, str]], list[ItemError]]:
    """Expand files, folders and globs into (kind, path) pairs in the local readers' order.

    kind: ``parquet`` (read by Spark), ``lines`` (a big JSON Lines file, split by lines) or ``file``
    (read whole by the local readers in one task). Paths are shown as the local engine shows them.
    """
    found: list[tuple[str, str]] = []
    errors: list[ItemError] = []

    def add(path: str) -> None:
        name = os.path.basename(path).lower()
        if name.startswith(".") or name.endswith(SIDECAR_SUFFIX) or name.startswith("_"):
            return  # hidden files, sidecars (metadata, not articles), Spark's _SUCCESS markers
        if name.endswith(".parquet"):
            found.append(("parquet", path))
        elif name.endswith((".jsonl", ".ndjson")) and _splittable(path):
            found.append(("lines", path))
        else:
            found.append(("file", path))

    for given in inputs:
        matches = [given] if os.path.exists(given) else sorted(glob.glob(given, recursive=True))
        if not matches:
            errors.append(ItemError(given, "", "path does not exist and matches no files", "E101"))
        for match in matches:
            if os.path.isdir(match):
                for folder, dirs, files in os.walk(match):
                    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                    for name in sorted(files):
                        add(os.path.join(folder, name))
            else:
                add(match)
    return found, errors


def _splittable(path: str) -> bool:
    """A JSON Lines file the local reader reads with no metadata, big enough to read in line ranges."""
    folder = os.path.dirname(path) or "."
    if os.path.getsize(path) < 2 * SPLIT_BYTES:
        return False
    stem = os.path.basename(path).rsplit(".", 1)[0]
    beside = set(os.listdir(folder))
    return stem + SIDECAR_SUFFIX not in beside and not any(m in beside for m in MANIFEST_NAMES)


def line_ranges(path: str, parts: int) -> list[tuple[int, int, int]] | None:
    """Split a JSON Lines file into up to ``parts`` byte ranges at line starts: (start, end, first line).

    Each range is read by the local reader (``_read_range``), so records, errors and sha256s are the
    local engine's; only line numbers are shifted. None (read the file whole) when a range would begin
    with a line the reader would take for binary content (it checks line 1 only, and stops there).
    """
    from storytrace.ingest.decode import binary_kind

    size = os.path.getsize(path)
    starts = [0]
    with open(path, "rb") as handle:
        for k in range(1, parts):
            handle.seek(max(size * k // parts - 1, starts[-1]))
            handle.readline()  # to the start of the next line
            at = handle.tell()
            if at >= size:
                break
            if at > starts[-1]:
                if binary_kind(handle.readline(4096)) is not None:  # what the reader checks of a line 1
                    return None
                starts.append(at)
        # Line numbers: the newlines before each start, counted in one pass.
        numbers, seen, pos = [1], 0, 0
        handle.seek(0)
        for start in starts[1:]:
            while pos < start:
                chunk = handle.read(min(1 << 20, start - pos))
                seen += chunk.count(b"\n")
                pos += len(chunk)
            numbers.append(seen + 1)
    ends = [*starts[1:], size]
    return list(zip(starts, ends, numbers, strict=True))


class _Slice(io.RawIOBase):
    """``length`` bytes of an open file from its current position, as a readable stream."""

    def __init__(self, handle: Any, length: int) -> None:
        self.handle, self.left = handle, length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            return 0
        n = self.handle.readinto(memoryview(buffer)[: self.left]) or 0
        self.left -= n
        return n


def _read_file(item: tuple[int, str], settings: Settings) -> Iterator[tuple[tuple[int, int], RawDocument | ItemError]]:
    index, path = item
    for n, doc in enumerate(iter_documents([path], settings=settings)):
        yield (index, n), doc


def _read_files(items: Iterable[tuple[int, str]], settings: Settings,
                spans: Any) -> Iterator[tuple[tuple[int, int], RawDocument | ItemError]]:
    """A partition of whole input files, read by the local readers (timed as the ``read`` phase)."""
    return _timed((doc for item in items for doc in _read_file(item, settings)), spans, "read")


def _read_ranges(items: Iterable[tuple[int, str, tuple[int, int, int]]], settings: Settings,
                 spans: Any) -> Iterator[tuple[tuple[int, int], RawDocument | ItemError]]:
    """A partition of JSON Lines line ranges (timed as the ``read`` phase)."""
    return _timed((doc for i, path, part in items for doc in _read_range(i, path, part, settings)), spans, "read")


def _read_range(index: int, path: str, part: tuple[int, int, int],
                settings: Settings) -> Iterator[tuple[tuple[int, int], RawDocument | ItemError]]:
    """The documents of one line range of a JSON Lines file, read by the local reader (``line N`` kept)."""
    start, end, first = part
    with open(path, "rb") as handle:
        handle.seek(start)
        stream = io.BufferedReader(_Slice(handle, end - start), buffer_size=1 << 16)
        for doc in read_jsonl(stream, source=path, defaults={}, settings=settings):
            number = int(doc.record.removeprefix("line ")) + first - 1
            yield (index, number), replace(doc, record=f"line {number}")


def _plain(value: Any) -> Any:
    """A Parquet value as JSON would hold it (dates as ISO strings)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _read_row(index: int, path: str, row: dict[str, Any],
              number: int) -> tuple[tuple[int, int], RawDocument | ItemError]:
    import hashlib

    record = _plain(row)
    where = f"row {number}"
    try:
        doc: RawDocument | ItemError = record_document(
            record, source=path, where=where, fmt="parquet", encoding="utf-8",
            sha256=hashlib.sha256(rec.dumps(record).encode("utf-8")).hexdigest(), defaults={})
    except InputError as exc:
        doc = ItemError(path, where, str(exc.args[0]), exc.code)
    return (index, number), doc


def _prepare_partition(items: Iterable[tuple[tuple[int, int], RawDocument | ItemError]],
                       settings: Settings) -> Iterator[tuple[tuple[int, int], Prepared | ItemError]]:
    for order, item in items:
        if isinstance(item, ItemError):
            yield order, item
            continue
        try:
            yield order, prepare(item, boilerplate={}, settings=settings)
        except Exception as exc:  # one bad document must not stop the partition
            yield order, ItemError(item.source_path, item.record, f"could not process: {type(exc).__name__}: {exc}",
                                   "E199")


def _first(a: tuple[Any, Prepared, list[Any]], b: tuple[Any, Prepared, list[Any]]) -> tuple[Any, Prepared, list[Any]]:
    """Of two documents with the same content, keep the first in input order, with both sources."""
    head = a if a[0] <= b[0] else b
    return head[0], head[1], sorted(a[2] + b[2])


# -- per-article analysis ---------------------------------------------------------------------------------
def _analyze_partition(items: Iterable[tuple[tuple[Any, Prepared, list[Any]], int]], settings: Settings,
                       stage_names: list[str], boilerplate: Any, dup: bool, var: bool) -> Iterator[tuple[Any, ...]]:
    """(article row, stage rows, duplicate features or None, quotation units or None) for each article."""
    from storytrace.runner import input_key, run_stages
    from storytrace.store import clean_hash

    lines: dict[str, frozenset[str]] = boilerplate.value
    stages = [STAGES[n] for n in stage_names]
    batch: list[tuple[int, Article, Prepared, list[Any]]] = []

    def flush() -> Iterator[tuple[Any, ...]]:
        keys = {article.id: {s.name: input_key(s, clean_hash(article.clean.text), settings) for s in stages}
                for _num, article, _p, _s in batch}
        results = run_stages([(article, stage_names, {}) for _num, article, _p, _s in batch], settings) \
            if stages else []
        by_article: dict[str, list[tuple[Any, ...]]] = {}
        quoted: dict[str, list[dict[str, Any]]] = {}
        for r in results:
            article_id, name = (r.article_id, r.stage) if not isinstance(r, tuple) else (r[0], r[1])
            by_article.setdefault(article_id, []).append(rec.stage_row(r, keys[article_id][name]))
            if name == "quotes" and not isinstance(r, tuple):
                quoted[article_id] = r.payload["quotes"]
        for num, article, prepared, sources in batch:
            row = rec.article_row(article, num=num, sources=[s for _o, s in sources], line_keys=prepared.line_keys)
            yield (row, by_article.get(article.id, []), _features(num, article) if dup else None,
                   _units(article, quoted.get(article.id, [])) if var else None)
        batch.clear()

    for (_order, prepared, sources), num in items:
        article = prepared.article
        outlet_lines = lines.get(article.outlet or "", frozenset())
        if outlet_lines:
            article = reclean(article, boilerplate=outlet_lines, settings=settings)
        batch.append((num, article, prepared, sources))
        if len(batch) >= settings.batch_size:
            yield from flush()
    if batch:
        yield from flush()


def _features(num: int, article: Article) -> tuple[int, str, str, bytes, bytes] | None:
    """MinHash input of one article: (num, id, date, shingles, signature), or None when it is too short."""
    from storytrace.resolve import duplicates as d

    values = d.shingles(article.clean.text, size=d.SHINGLE)
    if values.size < d.MIN_SHINGLES:
        return None
    signature = d._Perms(d.NUM_PERM).signature(values)  # the local stage's permutations (fixed seed)
    return num, article.id, article.published or "", values.tobytes(), signature.tobytes()


def _units(article: Article, quotes: list[dict[str, Any]]) -> list[Any]:
    """The article's quotation units for variant grouping, as the local ``variants`` stage makes them."""
    from storytrace.resolve.variants import loose_fragments, units_from_quotes

    found = units_from_quotes(article.id, quotes, outlet=article.outlet, published=article.published)
    covered = [(q["content_start"], q["content_end"]) for q in quotes]
    return found + loose_fragments(article.id, article.raw_text, covered, outlet=article.outlet,
                                   published=article.published)


# -- quote variants as Spark steps ------------------------------------------------------------------------------
def _grams(unit: Any) -> set[str]:
    """A unit's word 3-grams as strings (the local stage hashes them; strings hash alike in every process)."""
    from storytrace.resolve.variants import words

    w = words(unit.text)
    return {"\x00".join(w[i : i + 3]) for i in range(len(w) - 2)}


def _pairs(posting: tuple[str, Iterable[tuple[int, str, int]]]) -> Iterator[tuple[tuple[int, int], tuple[int, int]]]:
    units = sorted(posting[1])
    for a, b in combinations(units, 2):
        if a[1] != b[1]:  # units of one article never link
            yield (a[0], b[0]), (1, min(a[2], b[2]))


def _score(pair: tuple[int, tuple[tuple[int, Any], Any]]) -> list[tuple[float, int, int]]:
    from storytrace.resolve import variants as v

    j, ((i, ui), uj) = pair
    score = v.match_score(v._prepare(ui), v._prepare(uj))
    return [(score, i, j)] if score >= v.MIN_CONTAIN else []


def _variants(done: Any, sc: Any) -> tuple[dict[str, Any], list[tuple[str, str | None, dict[str, Any]]]]:
    """Quote-variant groups: 3-gram postings, document frequencies and candidate pairs as RDD steps, pairs
    scored on the executors; the strongest-first union with its chaining guard runs on the driver over the
    linked units only (``variants.group_links``)."""
    from pyspark import StorageLevel

    from storytrace.resolve import variants as v

    units = (done.flatMap(lambda d: [((d[0][0], n), u) for n, u in enumerate(d[3] or [])])
             .sortByKey().zipWithIndex().map(lambda x: (x[1], x[0][1])).persist(StorageLevel.MEMORY_AND_DISK))
    grams = units.map(lambda ku: (ku[0], ku[1].article_id, _grams(ku[1])))
    common = grams.flatMap(lambda g: ((x, 1) for x in g[2])).reduceByKey(lambda a, b: a + b) \
        .filter(lambda gc: gc[1] <= v.MAX_DF)
    posting = grams.flatMap(lambda g: ((x, (g[0], g[1], len(g[2]))) for x in g[2]))
    pairs = (posting.join(common).map(lambda p: (p[0], p[1][0])).groupByKey().flatMap(_pairs)
             .reduceByKey(lambda a, b: (a[0] + b[0], a[1]))
             .filter(lambda kv: kv[1][0] >= max(1.0, v.MIN_SHARED * kv[1][1]))
             .keys())
    links = (pairs.join(units).map(lambda x: (x[1][0], (x[0], x[1][1]))).join(units).flatMap(_score).collect())
    linked = sc.broadcast({k for _s, i, j in links for k in (i, j)})
    prepared = {k: v._prepare(u) for k, u in units.filter(lambda ku: ku[0] in linked.value).collect()}
    out = v.stage_output(units.count(), v.group_links(prepared, links))
    units.unpersist()
    return out.summary, list(out.records)


# -- near-duplicates as Spark steps ---------------------------------------------------------------------------
def _verify(pair: tuple[int, tuple[tuple[int, bytes], bytes]]) -> list[tuple[bool, int, int]]:
    """A candidate pair checked as the local stage checks it (``duplicates.check``): copy or borderline."""
    import numpy as np

    from storytrace.resolve import duplicates as d

    j, ((i, a), b) = pair
    verdict = d.check(np.frombuffer(a, dtype=np.uint64), np.frombuffer(b, dtype=np.uint64))
    return [] if verdict is None else [(verdict, min(i, j), max(i, j))]


def _group_members(rows: Iterable[tuple[int, str, str, bytes]]) -> list[Any]:
    """One group's members (``duplicates.members``) from its articles' (num, id, date, shingles)."""
    import numpy as np

    from storytrace.resolve.duplicates import members

    return members((article_id, date or None, num, np.frombuffer(shingles, dtype=np.uint64))
                   for num, article_id, date, shingles in rows)


def _frequencies(features: Any, sc: Any, sets: dict[int, Any], borderline: list[tuple[int, int]]) -> Any:
    """The document frequencies of ``duplicates.rescue_queries`` over every article, counted by a Spark step."""
    import numpy as np

    from storytrace.resolve import duplicates as d

    queries = d.rescue_queries(sets, borderline)
    asked = sc.broadcast(queries)

    def held(f: tuple[Any, ...]) -> list[tuple[int, int]]:
        values = np.frombuffer(f[3], dtype=np.uint64)
        return [(int(v), 1) for v in np.intersect1d(values, asked.value, assume_unique=True)]

    counted = dict(features.flatMap(held).reduceByKey(lambda a, b: a + b).collect())
    asked.unpersist()
    return np.array([counted.get(int(v), 0) for v in queries], dtype=np.int64)


def _duplicates(features: Any, sc: Any) -> tuple[dict[str, Any], list[tuple[str, str | None, dict[str, Any]]]]:
    """Near-duplicate groups over the features RDD; returns the local stage's summary and records.

    Candidates come from LSH bands (a groupByKey) and are checked on the executors; the driver then runs
    the local stage's own grouping step (``duplicates.connect``: verified copies, then the second look at
    borderline pairs) over the pairs' documents only, with shingle frequencies counted by a Spark step.
    """
    import numpy as np

    from storytrace.resolve import duplicates as d
    from storytrace.resolve.groups import UnionFind

    b, r = d.band_params()  # the local stage's bands
    sigs = features.map(lambda f: (f[0], f[4]))
    buckets = sigs.flatMap(lambda s: (((i, s[1][i * r * 8 : (i + 1) * r * 8]), s[0]) for i in range(b)))
    pairs = (buckets.groupByKey()
             .flatMap(lambda kv: combinations(sorted(set(kv[1])), 2))
             .distinct())
    shingles = features.map(lambda f: (f[0], f[3]))
    edges = (pairs.join(shingles)  # (i, (j, sh_i))
             .map(lambda kv: (kv[1][0], (kv[0], kv[1][1])))
             .join(shingles)  # (j, ((i, sh_i), sh_j))
             .flatMap(_verify)
             .collect())
    copies = [(i, j) for verified, i, j in edges if verified]
    borderline = sorted((i, j) for verified, i, j in edges if not verified)
    sets: dict[int, Any] = {}
    frequency = None
    if borderline and d.FREQUENT > 0:
        needs = d.rescue_needs(UnionFind().union_all(copies), borderline)
        wanted = sc.broadcast({m for group in needs.values() for m in group})
        sets = {n: np.frombuffer(sh, dtype=np.uint64)
                for n, sh in features.filter(lambda f: f[0] in wanted.value).map(lambda f: (f[0], f[3])).collect()}
        wanted.unpersist()
        frequency = _frequencies(features, sc, sets, borderline)
    found = d.connect(copies, borderline, sets, frequency=frequency)
    root = sc.broadcast({i: g for g, idx in found.groups(min_size=2).items() for i in idx})
    groups = (features.filter(lambda f: f[0] in root.value)
              .map(lambda f: (root.value[f[0]], (f[0], f[1], f[2], f[3])))
              .groupByKey()
              .map(lambda kv: _group_members(kv[1]))
              .collect())
    root.unpersist()
    out = d.stage_output(d.named(groups))
    return out.summary, list(out.records)


# -- the job ----------------------------------------------------------------------------------------------------
def session(master: str | None = None) -> Any:
    """The active Spark session, or a new one on ``master`` (default local[*]) with the UI off."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise PipelineError("the Spark engine needs pyspark: pip install 'storytrace[spark]' "
                            f"(and Java 17 or later) ({exc})", code="E320") from exc
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # executors run this interpreter (its packages)
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    spark = (SparkSession.builder.master(master or "local[*]").appName("storytrace")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.python.worker.reuse", "true")
            .config("spark.python.daemon.module", "storytrace.scale.daemon")  # workers forked with the imports
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _schema(columns: tuple[tuple[str, str], ...]) -> Any:
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    return StructType([StructField(name, LongType() if kind == "long" else StringType(), True)
                       for name, kind in columns])


# The analysis runs in ANALYZE_SPLIT times as many tasks as reading: articles differ in cost (a long one with many
# quotations takes ten times a brief), so with two tasks per core the last one ran alone for a while (1,000
# articles, full analysis on local[2]: 1.77 tasks at once on average). Smaller tasks even that out; each costs
# ~0.1 s and one Parquet part, and the model stays loaded in the reused Python worker.
ANALYZE_SPLIT = 4


def analyze(inputs: Iterable[str], output: str | Path, *, settings: Settings, stages: list[str] | None = None,
            master: str | None = None, partitions: int | None = None) -> SparkReport:
    """Ingest ``inputs`` and run the per-article stages (and duplicates) on Spark; write Parquet to ``output``."""
    from pyspark import StorageLevel

    started = time.perf_counter()
    out = Path(output)
    report = SparkReport(output=str(out))
    wanted = stages or [*STAGES, *SPARK_CORPUS_STAGES]
    article_stages, corpus_stages = plan(wanted)
    runnable: list[Stage] = []
    for stage in article_stages:
        why = stage.unavailable()
        if why:
            report.skipped[stage.name] = why
        else:
            runnable.append(stage)
    names = [s.name for s in runnable]
    dup = any(c.name == "duplicates" for c in corpus_stages) and "profile" in names
    var = any(c.name == "variants" for c in corpus_stages) and "quotes" in names
    report.local = [c.name for c in corpus_stages if not (c.name == "duplicates" and dup)
                    and not (c.name == "variants" and var)]

    files, input_errors = input_files(list(inputs))
    report.inputs = len(files)
    spark = session(master)
    sc = spark.sparkContext
    mark = report.lap("start", started)
    parallel = partitions or max(sc.defaultParallelism * 2, 2)
    spans = sc.accumulator([], _Spans())
    parts: list[Any] = []
    whole = [(i, p) for i, (kind, p) in enumerate(files) if kind == "file"]
    for i, (kind, path) in enumerate(files):
        if kind == "lines":
            ranges = line_ranges(path, max(1, min(parallel, os.path.getsize(path) // SPLIT_BYTES)))
            if ranges is None:
                whole.append((i, path))
            else:
                parts.append(sc.parallelize([(i, path, r) for r in ranges], len(ranges))
                             .mapPartitions(lambda it: _read_ranges(it, settings, spans)))
    for i, (kind, path) in enumerate(files):
        if kind == "parquet":
            rows = spark.read.parquet(path).rdd.zipWithIndex()
            parts.append(rows.map(lambda ri, i=i, p=path: _read_row(i, p, ri[0].asDict(recursive=True), ri[1] + 1)))
    if whole:
        whole.sort()
        parts.insert(0, sc.parallelize(whole, min(len(whole), parallel))
                     .mapPartitions(lambda it: _read_files(it, settings, spans)))
    # One input RDD is used as it is: a union is a JVM step that would split reading and preparing into
    # two Python processes per task, the documents serialised between them.
    docs = (parts[0] if len(parts) == 1 else sc.union(parts)) if parts else sc.emptyRDD()
    if docs.getNumPartitions() < parallel:
        docs = docs.repartition(parallel)
    prepared = (docs.mapPartitions(lambda it: _timed(_prepare_partition(it, settings), spans, "prepare"))
                .persist(StorageLevel.MEMORY_AND_DISK))
    errors = [e for _o, e in sorted(prepared.filter(lambda x: isinstance(x[1], ItemError)).collect())]
    errors = input_errors + errors

    articles = (prepared.filter(lambda x: isinstance(x[1], Prepared))
                .map(lambda x: (x[1].article.id, (x[0], x[1], [(x[0], x[1].source)])))
                .reduceByKey(_first)
                .values()
                .sortBy(lambda v: v[0], numPartitions=parallel * ANALYZE_SPLIT)
                .zipWithIndex()
                .persist(StorageLevel.MEMORY_AND_DISK))
    report.errors = len(errors)
    report.documents = prepared.count() - (len(errors) - len(input_errors))
    report.articles = articles.count()
    report.duplicates = report.documents - report.articles
    mark = report.lap("read_prepare", mark)

    # Boilerplate: lines in at least min_articles and min_share of an outlet's articles (Store.outlet_boilerplate).
    with_outlet = articles.filter(lambda a: a[0][1].article.outlet)
    sizes = with_outlet.map(lambda a: (a[0][1].article.outlet, 1)).reduceByKey(lambda x, y: x + y).collectAsMap()
    least, share = settings.boilerplate_min_articles, settings.boilerplate_min_share
    counted = (with_outlet.flatMap(lambda a: ((a[0][1].article.outlet, k) for k in a[0][1].line_keys))
               .map(lambda k: (k, 1)).reduceByKey(lambda x, y: x + y)
               .filter(lambda kn: kn[1] >= least).collect())
    lines: dict[str, set[str]] = {}
    for (outlet, key), n in counted:
        if n >= share * sizes.get(outlet, 0):
            lines.setdefault(outlet, set()).add(key)
    boilerplate = sc.broadcast({o: frozenset(k) for o, k in lines.items()})
    mark = report.lap("boilerplate", mark)

    done = (articles.mapPartitions(lambda it: _timed(_analyze_partition(it, settings, names, boilerplate, dup, var),
                                                     spans, "analyze"))
            .persist(StorageLevel.MEMORY_AND_DISK))
    prepared.unpersist()
    write = {"compression": "snappy"}
    spark.createDataFrame(done.map(lambda d: d[0]), _schema(rec.ARTICLE_COLUMNS)) \
        .write.mode("overwrite").options(**write).parquet(str(out / "articles"))
    stage_df = spark.createDataFrame(done.flatMap(lambda d: d[1]), _schema(rec.STAGE_COLUMNS))
    stage_df.write.mode("overwrite").options(**write).parquet(str(out / "stage_results"))
    spark.createDataFrame([rec.error_row(e) for e in errors], _schema(rec.ERROR_COLUMNS)) \
        .write.mode("overwrite").parquet(str(out / "errors"))
    for row in stage_df.groupBy("stage", "status").count().collect():
        report.stages.setdefault(row["stage"], {"done": 0, "error": 0})[row["status"]] = row["count"]
    mark = report.lap("analyze_write", mark)

    corpus_rows: list[tuple[Any, ...]] = []
    result_rows: list[tuple[Any, ...]] = []
    if dup:
        summary, records = _duplicates(done.flatMap(lambda d: [d[2]] if d[2] else []), sc)
        corpus_rows += [("duplicates", n, key, article_id, rec.dumps(payload))
                        for n, (key, article_id, payload) in enumerate(records)]
        result_rows.append(("duplicates", rec.dumps(summary)))
        report.stages["duplicates"] = {"done": 1, "error": 0, "groups": summary["groups"]}
    if var:
        summary, records = _variants(done, sc)
        corpus_rows += [("variants", n, key, article_id, rec.dumps(payload))
                        for n, (key, article_id, payload) in enumerate(records)]
        result_rows.append(("variants", rec.dumps(summary)))
        report.stages["variants"] = {"done": 1, "error": 0, "groups": summary["groups"]}
    spark.createDataFrame(corpus_rows, _schema(rec.CORPUS_RECORD_COLUMNS)) \
        .write.mode("overwrite").parquet(str(out / "corpus_records"))
    spark.createDataFrame(result_rows, _schema(rec.CORPUS_RESULT_COLUMNS)) \
        .write.mode("overwrite").parquet(str(out / "corpus_results"))
    done.unpersist()
    articles.unpersist()
    report.lap("corpus", mark)
    report.parallel = parallelism(spans.value)
    report.seconds = round(time.perf_counter() - started, 2)
    manifest = {"engine": "spark", "master": sc.master, "spark": spark.version, "stages": names,
                "settings": settings.as_dict(), "report": report.as_dict()}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return report
