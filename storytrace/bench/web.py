"""`storytrace bench web`: p50/p95 latency of every page and API endpoint over real HTTP.

A store is built in a temporary folder from the bench corpora (PolNeAR, bbc-news-2225, reuters21578 texts,
repeated with seeded perturbation by ``bench.resolve.corpus``; ten synthetic outlets; dates over one year),
ingested and analyzed (stages ``quotes`` and ``actors`` by default: the per-article NLP of a 100k store takes
far longer than a benchmark run). The app is served by uvicorn on 127.0.0.1 and each URL is requested
``REPEATS`` times after one warm-up request (the first, cold request of each URL is reported apart).
"""

from __future__ import annotations

import json
import socket
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from storytrace.bench.resolve import corpus as bench_corpus
from storytrace.errors import BenchmarkError

REPEATS = 30
DEFAULT_SIZE = 1000
STAGES = ["quotes", "actors"]


def build_store(data: Path, folder: Path, size: int, *,
                stages: list[str] | None = None) -> tuple[Path, dict[str, float]]:
    from storytrace import Corpus

    source = folder / "articles.jsonl"
    with open(source, "w", encoding="utf-8") as handle:
        for i, (_id, text, day) in enumerate(bench_corpus(data, size)):
            handle.write(json.dumps({"title": text.strip().split("\n", 1)[0][:90], "outlet": f"Outlet {i % 10}",
                                     "published": day, "text": text}) + "\n")
    db = folder / "bench.db"
    timings = {}
    with Corpus(db) as corpus:
        t = time.perf_counter()
        corpus.ingest([str(source)])
        timings["ingest_seconds"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        corpus.analyze(stages=stages or STAGES)
        timings["analyze_seconds"] = round(time.perf_counter() - t, 1)
    return db, timings


def urls(base: str, db: Path) -> dict[str, str]:
    """One URL per page and API endpoint, using ids that exist in the store."""
    from storytrace import Corpus

    with Corpus(db, readonly=True) as corpus:
        article = corpus.articles(limit=1, offset=corpus.store.count_articles() // 2)[0].id
        actors = corpus.actors(limit=1)
        speaker = actors[0]["name"] if actors else "said"
        actor = actors[0]["id"] if actors else "none"
    return {
        "page /": "/", "page /articles": "/articles?page=40", "page /articles/{id}": f"/articles/{article}",
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


def run(data: Path, *, split: str = "all", limit: int | None = None) -> dict[str, Any]:
    """Build a store of ``limit`` articles (default 1000) from the bench corpora and time every URL."""
    if split != "all":
        raise BenchmarkError("bench web has one split: all")
    size = limit or DEFAULT_SIZE
    with tempfile.TemporaryDirectory(prefix="storytrace-bench-web-") as tmp:
        db, timings = build_store(data, Path(tmp), size)
        figures = measure(db)
    pages = [v["p95_ms"] for k, v in figures.items() if k.startswith("page")]
    return {"articles": size, "stages": STAGES, **timings, "repeats": REPEATS,
            "worst_page_p95_ms": max(pages), "urls": figures}
