"""`storytrace bench ingest`: ingest + clean throughput and peak memory, and HTML main-text F1.

Throughput is measured end to end through ``Corpus.ingest`` (read, decode, extract, detect metadata,
clean, store in SQLite) in a fresh child process per measurement, so the reported peak memory (maximum
resident set size, including pool workers) belongs to that run alone. The ingest code (trafilatura,
lxml, htmldate: about half a second, more under load) is imported before the clock starts and its
import time is reported apart (``import_seconds``): it is paid once per process, not per document,
and on a 181-page run it would otherwise take several percent off the rate. ``cpu_ms_per_document``
(user + system CPU time of the process and its pool workers, per document) is reported beside the
wall-clock rate: on a machine shared with other jobs the wall rate follows the load, the CPU time
much less, so it is the figure to compare runs made at different loads.
"""

from __future__ import annotations

import multiprocessing
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from storytrace.errors import BenchmarkError
from storytrace.settings import Settings


def _inputs(data: Path, kind: str, limit: int | None) -> list[Path]:
    if kind == "text":
        folder = data / "bbc-news-2225"
        files = sorted(p for p in folder.rglob("*.txt") if p.parent != folder)
    else:
        folder = data / "article-extraction" / "html"
        files = sorted(folder.glob("*.html.gz"))
    if not files:
        raise BenchmarkError(f"no {kind} benchmark files under {folder}: is --data the shared data folder?")
    return files[:limit] if limit else files


def _cpu_seconds() -> float:
    """User + system CPU time of this process and of its finished children (the pool's workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _measure(kind: str, files: list[str], jobs: int, queue: Any) -> None:
    from storytrace.corpus import Corpus

    started = time.perf_counter()
    import storytrace.ingest.pipeline  # noqa: F401  (imported here so the clock below measures documents)

    import_seconds = time.perf_counter() - started
    workdir = Path(tempfile.mkdtemp(prefix="storytrace-bench-"))
    try:
        settings = Settings(db=workdir / "bench.db", jobs=jobs, progress=False)
        with Corpus(settings=settings) as corpus:
            cpu_start = _cpu_seconds()
            start = time.perf_counter()
            report = corpus.ingest(files)
            seconds = time.perf_counter() - start
            cpu = _cpu_seconds() - cpu_start
        peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        queue.put({
            "documents": len(files), "stored": report.added + report.duplicates, "errors": len(report.errors),
            "seconds": round(seconds, 3), "per_second": round(len(files) / seconds, 1),
            "cpu_ms_per_document": round(1000 * cpu / len(files), 1),
            "peak_memory_mb": round(peak_kb / 1024, 1), "import_seconds": round(import_seconds, 3),
        })
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def measure(kind: str, files: list[Path], *, jobs: int) -> dict[str, Any]:
    """Ingest ``files`` into a fresh store in a child process; return its speed and peak memory."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_measure, args=(kind, [str(f) for f in files], jobs, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return dict(result)


def run(data: Path, *, split: str = "all", limit: int | None = None) -> dict[str, Any]:
    """Measure text and HTML ingest at 1 and 2 jobs, and main-text F1 on the Zyte benchmark."""
    from storytrace.bench import extraction

    if split != "all":
        raise BenchmarkError("the ingest benchmark has one split, 'all' (no data is held back for it)")
    figures: dict[str, Any] = {"machine": {"cores": multiprocessing.cpu_count()}}
    for kind in ("text", "html"):
        files = _inputs(data, kind, limit)
        for jobs in (1, 2):
            figures[f"{kind}_jobs{jobs}"] = measure(kind, files, jobs=jobs)
    figures["extraction"] = extraction.run(data / "article-extraction", limit=limit)
    return figures
