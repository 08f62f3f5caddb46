"""`storytrace bench web`: p50/p95 latency of every page and API endpoint over real HTTP.

A store is built from the bench corpora (PolNeAR, bbc-news-2225, reuters21578 texts, repeated with seeded
perturbation by ``bench.resolve.corpus``; ten synthetic outlets; dates over one year), ingested and analyzed
with ``STAGES`` and rules-only quotations (the model's per-article NLP of a 100k store takes hours). It lives
in a temporary folder, or in ``--store DIR`` (env STORYTRACE_BENCH_WEB_STORE) where it is kept and reused, so
a 100k store is built once (``python -m storytrace.bench.web --limit 100000 --store DIR --build-only``). The
app is served by uvicorn on 127.0.0.1 and each URL is requested ``REPEATS`` times after one warm-up request
(the first, cold request of each URL is reported apart).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from storytrace.bench.resolve import corpus as bench_corpus
from storytrace.errors import BenchmarkError
from storytrace.settings import Settings

REPEATS = 30
DEFAULT_SIZE = 1000
# The stages whose records the pages show, without the slow per-article ones (dates, stances, facts: tens of
# ms per article each, docs/benchmarks.md "Web app latency").
STAGES = ["quotes", "speakers", "actors", "stories", "variants"]


def write_corpus(data: Path, path: Path, size: int) -> None:
    """Write ``size`` bench articles (``bench.resolve.corpus``) as JSON Lines: ten outlets, a year of dates."""
    with open(path, "w", encoding="utf-8") as handle:
        for i, (_id, text, day) in enumerate(bench_corpus(data, size)):
            handle.write(json.dumps({"title": text.strip().split("\n", 1)[0][:90], "outlet": f"Outlet {i % 10}",
                                     "published": day, "text": text}) + "\n")


def build_store(data: Path, folder: Path, size: int, *, stages: list[str] | None = None,
                settings: Settings | None = None, name: str = "bench.db") -> tuple[Path, dict[str, Any]]:
    """A store of ``size`` bench articles in ``folder``, analysed with ``stages``; reused when already built.

    ``settings`` defaults to rules-only quotations (``quote_parse=False``) without progress bars; pass
    ``Settings(quote_parse=True)`` for the full model. A store whose ingest finished (``<name>.ingested``) is
    not re-ingested, and analysis only runs stages that are stale, so an interrupted build resumes.
    Timings are wall-clock and process CPU seconds (this process and its finished children).
    """
    from storytrace import Corpus

    db = folder / name
    base = settings or Settings(quote_parse=False, progress=False)
    base = base.replace(db=db)
    timings: dict[str, Any] = {}
    with Corpus(settings=base) as corpus:
        # Not the article count: near-duplicate texts of the corpus are stored once (99,617 of 100k).
        ingested = folder / f"{name}.ingested"
        if not ingested.exists():
            source = folder / "articles.jsonl"
            # Kept between runs: a resumed build re-reads it and skips the records already stored.
            if not source.exists() or _lines(source) != size:
                write_corpus(data, source.with_suffix(".part"), size)
                source.with_suffix(".part").replace(source)
            with _clock(timings, "ingest"):
                corpus.ingest([str(source)])
            ingested.write_text(f"{size}\n", encoding="utf-8")
        with _clock(timings, "analyze"):
            corpus.analyze(stages=stages or STAGES)
    return db, timings


def _lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


class _clock:
    """Record wall-clock and CPU seconds (self + children) of a block into ``timings`` under ``name``."""

    def __init__(self, timings: dict[str, Any], name: str) -> None:
        self.timings, self.name = timings, name

    def __enter__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), _cpu()

    def __exit__(self, *exc: object) -> None:
        self.timings[f"{self.name}_seconds"] = round(time.perf_counter() - self.wall, 1)
        self.timings[f"{self.name}_cpu_seconds"] = round(_cpu() - self.cpu, 1)


def _cpu() -> float:
    r, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def urls(base: str, db: Path) -> dict[str, str]:
    """One URL per page and API endpoint, using ids that exist in the store."""
    from storytrace import Corpus

    with Corpus(db, readonly=True) as corpus:
        count = corpus.store.count_articles()
        article = corpus.articles(limit=1, offset=count // 2)[0].id
        actors = corpus.actors(limit=1)
        speaker = actors[0]["name"] if actors else "said"
        actor = actors[0]["id"] if actors else "none"
        stories = corpus.stories(limit=1)  # the largest story first
        story = stories[0]["story"] if stories else 1
    return {
        "page /": "/", "page /articles": "/articles?page=40", "page /articles/{id}": f"/articles/{article}",
        "page /articles?page=last": f"/articles?page={max(1, (count + 24) // 25)}",
        "page /articles?outlet": "/articles?outlet=Outlet%203&page=20",
        "page /stories/{n}": f"/stories/{story}", "api /api/stories/{n}": f"/api/stories/{story}",
        "page /search?q": "/search?q=president", "page /search?speaker": f"/search?speaker={_q(speaker)}",
        "page /actors": "/actors", "page /actors/{id}": f"/actors/{actor}", "page /stories": "/stories",
        "api /api/overview": "/api/overview", "api /api/articles": "/api/articles?offset=500&limit=50",
        "api /api/articles/{id}": f"/api/articles/{article}", "api /api/quotes?q": "/api/quotes?q=president",
        "api /api/search": "/api/search?q=election", "api /api/actors": "/api/actors?name=a",
        "api /api/actors/{id}": f"/api/actors/{actor}",
    }


def _q(value: str) -> str:
    from urllib.parse import quote

    return quote(value)


def _fetch(url: str) -> tuple[float, int]:
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    return (time.perf_counter() - t) * 1000, status


def measure(db: Path, *, repeats: int = REPEATS) -> dict[str, Any]:
    import uvicorn

    from storytrace.web.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(db), host="127.0.0.1", port=port, log_level="warning",
                                           ws="none", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, Any] = {}
    try:
        for name, path in urls(base, db).items():
            cold, status = _fetch(base + path)
            times = [_fetch(base + path)[0] for _ in range(repeats)]
            times.sort()
            out[name] = {"status": status, "cold_ms": round(cold, 1), "p50_ms": round(statistics.median(times), 1),
                         "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1)}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return out


def run(data: Path, *, split: str = "all", limit: int | None = None, store: Path | None = None,
        jobs: int = 1) -> dict[str, Any]:
    """Build a store of ``limit`` articles (default 1000) from the bench corpora and time every URL.

    ``store`` (or env STORYTRACE_BENCH_WEB_STORE) is a folder kept between runs: the store is built there
    once (a 100k build takes hours) and reused; without it the store lives in a temporary folder.
    """
    if split != "all":
        raise BenchmarkError("bench web has one split: all")
    size = limit or DEFAULT_SIZE
    folder = store or (Path(os.environ["STORYTRACE_BENCH_WEB_STORE"]) if os.environ.get("STORYTRACE_BENCH_WEB_STORE")
                       else None)
    settings = Settings(quote_parse=False, progress=False, jobs=jobs)
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="storytrace-bench-web-")))
        folder.mkdir(parents=True, exist_ok=True)
        db, timings = build_store(data, folder, size, settings=settings, name=f"bench-{size}.db")
        figures = measure(db)
    pages = [v["p95_ms"] for k, v in figures.items() if k.startswith("page")]
    return {"articles": size, "stages": STAGES, "quote_parse": False, **timings, "repeats": REPEATS,
            "worst_page_p95_ms": max(pages), "urls": figures}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--limit", type=int, default=None, help=f"Articles in the store [default: {DEFAULT_SIZE}].")
    parser.add_argument("--store", type=Path, default=None, help="Folder to build the store in, or reuse it from.")
    parser.add_argument("--jobs", type=int, default=1, help="Worker processes for the store's analysis.")
    parser.add_argument("--build-only", action="store_true", help="Build (or finish building) the store; no timing.")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.build_only:
        if args.store is None:
            parser.error("--build-only needs --store")
        size = args.limit or DEFAULT_SIZE
        args.store.mkdir(parents=True, exist_ok=True)
        db, timings = build_store(args.data, args.store, size, name=f"bench-{size}.db",
                                  settings=Settings(quote_parse=False, progress=False, jobs=args.jobs))
        print(json.dumps({"db": str(db), **timings}))
        return 0
    figures = run(args.data, limit=args.limit, store=args.store, jobs=args.jobs)
    print(json.dumps(figures, indent=None if args.json else 1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
