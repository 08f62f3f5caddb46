"""`storytrace bench soak`: hold `storytrace serve` under steady load on loopback; errors, latency and memory over time.

A store of ``limit`` articles (default 300) is built from the bench corpora (``bench.resolve.corpus``; ten
synthetic outlets, dates over a year) with the fast stages (rules-only quotations, dates, actors,
stories). ``storytrace serve`` runs as its own process on 127.0.0.1; ``CLIENTS`` threads, each with a
keep-alive connection, request every page and API URL of ``bench.web.urls`` in turn for ``seconds``
(default 180; env STORYTRACE_SOAK_SECONDS). Reported: requests, errors (any status other than 200, or a
failed connection), p50/p95/p99 latency overall and per window, and the server's resident memory sampled
every few seconds, so that a leak or a slowdown over time shows as a trend between the first and last window.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from storytrace.errors import BenchmarkError

DEFAULT_SECONDS = 180
DEFAULT_SIZE = 300
CLIENTS = 4
WINDOW = 30.0  # seconds per reporting window
RSS_EVERY = 5.0
STAGES = ["quotes", "dates", "actors", "stories"]


def build_store(data: Path, folder: Path, size: int) -> Path:
    """A store of ``size`` bench articles, analysed with the fast stages (rules-only quotations)."""
    from storytrace.bench.web import build_store as build
    from storytrace.settings import Settings

    db, _timings = build(data, folder, size, stages=STAGES, settings=Settings(quote_parse=False, progress=False),
                         name="soak.db")
    return db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchmarkError(f"storytrace serve exited with code {proc.returncode} before answering")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise BenchmarkError(f"storytrace serve did not answer on port {port} within {timeout:.0f} s")


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


class Load:
    """``clients`` threads requesting ``paths`` round-robin on keep-alive connections until ``stop``."""

    def __init__(self, port: int, paths: list[str], clients: int) -> None:
        self.port, self.paths, self.clients = port, paths, clients
        self.samples: list[tuple[float, float, int]] = []  # (seconds since start, latency ms, status; 0 = failed)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.started = time.perf_counter()

    def worker(self, offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        i = offset
        while not self.stop.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            t = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            done = time.perf_counter()
            with self.lock:
                self.samples.append((done - self.started, (done - t) * 1000, status))
        conn.close()

    def run(self, seconds: float, on_tick: Any = None) -> None:
        threads = [threading.Thread(target=self.worker, args=(k * 7,), daemon=True) for k in range(self.clients)]
        for th in threads:
            th.start()
        end = self.started + seconds
        while time.perf_counter() < end:
            if on_tick is not None:
                on_tick(time.perf_counter() - self.started)
            time.sleep(min(RSS_EVERY, max(0.0, end - time.perf_counter())))
        self.stop.set()
        for th in threads:
            th.join(timeout=70)


def soak(db: Path, *, seconds: float, clients: int = CLIENTS) -> dict[str, Any]:
    """Serve ``db`` in a child process, load it for ``seconds``, and summarise what happened."""
    import psutil

    from storytrace.bench.web import urls

    port = _free_port()
    cmd = [sys.executable, "-m", "storytrace.cli", "--db", str(db), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = open(db.parent / "serve.log", "wb")  # noqa: SIM115 - a file, not a pipe: access logs must never block
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    rss: list[tuple[float, float]] = []
    try:
        _wait_for(port, proc)
        server = psutil.Process(proc.pid)
        paths = list(urls(f"http://127.0.0.1:{port}", db).values())
        load = Load(port, paths, clients)

        def sample(at: float) -> None:
            rss.append((round(at, 1), round(server.memory_info().rss / 2**20, 1)))

        load.run(seconds, on_tick=sample)
        sample(time.perf_counter() - load.started)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    return summarise(load.samples, rss, seconds=seconds, clients=clients, urls=len(paths))


def summarise(samples: list[tuple[float, float, int]], rss: list[tuple[float, float]], *, seconds: float,
              clients: int, urls: int) -> dict[str, Any]:
    latencies = [ms for _t, ms, _s in samples]
    errors = [s for _t, _ms, s in samples if s != 200]
    windows = []
    n_windows = max(1, int(seconds // WINDOW))
    for w in range(n_windows):
        lo, hi = w * WINDOW, (w + 1) * WINDOW if w < n_windows - 1 else float("inf")
        inside = [ms for t, ms, _s in samples if lo <= t < hi]
        mem = [m for t, m in rss if lo <= t < hi] or [m for _t, m in rss[-1:]]
        span = max(1e-9, min(hi, seconds) - lo)
        windows.append({"from_s": lo, "requests": len(inside), "rps": round(len(inside) / span, 1),
                        "p50_ms": _pct(inside, 0.5), "p95_ms": _pct(inside, 0.95),
                        "rss_mb": max(mem) if mem else None})
    first, last = windows[0], windows[-1]
    return {
        "seconds": seconds, "clients": clients, "urls": urls, "requests": len(samples),
        "errors": len(errors), "error_rate": round(len(errors) / max(1, len(samples)), 6),
        "error_statuses": {str(s): errors.count(s) for s in sorted(set(errors))},
        "rps": round(len(samples) / seconds, 1), "p50_ms": _pct(latencies, 0.5), "p95_ms": _pct(latencies, 0.95),
        "p99_ms": _pct(latencies, 0.99), "max_ms": round(max(latencies), 1) if latencies else 0.0,
        "mean_ms": round(statistics.fmean(latencies), 1) if latencies else 0.0,
        "rss_mb_start": rss[0][1] if rss else None, "rss_mb_end": rss[-1][1] if rss else None,
        "rss_mb_max": max(m for _t, m in rss) if rss else None,
        "p95_last_over_first": round(last["p95_ms"] / first["p95_ms"], 2) if first["p95_ms"] else None,
        "windows": windows, "rss_samples": rss,
    }


def run(data: Path, *, split: str = "all", limit: int | None = None, seconds: float | None = None) -> dict[str, Any]:
    """Build a store of ``limit`` articles (default 300) and soak ``storytrace serve`` over it."""
    if split != "all":
        raise BenchmarkError("bench soak has one split: all")
    duration = seconds if seconds is not None else float(os.environ.get("STORYTRACE_SOAK_SECONDS", DEFAULT_SECONDS))
    size = limit or DEFAULT_SIZE
    with tempfile.TemporaryDirectory(prefix="storytrace-bench-soak-") as tmp:
        t = time.perf_counter()
        db = build_store(data, Path(tmp), size)
        built = round(time.perf_counter() - t, 1)
        figures = soak(db, seconds=duration)
    return {"articles": size, "stages": STAGES, "build_seconds": built, **figures}


def report(figures: dict[str, Any]) -> str:
    lines = [f"{figures['requests']} requests in {figures['seconds']:.0f} s from {figures['clients']} clients over "
             f"{figures['urls']} URLs ({figures['articles']} articles): {figures['errors']} errors, "
             f"{figures['rps']} req/s, p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
             f"p99 {figures['p99_ms']} ms; server RSS {figures['rss_mb_start']} -> {figures['rss_mb_end']} MB "
             f"(max {figures['rss_mb_max']})", "", "from_s  requests  req/s  p50_ms  p95_ms  rss_mb"]
    for w in figures["windows"]:
        lines.append(f"{w['from_s']:>6.0f}  {w['requests']:>8}  {w['rps']:>5}  {w['p50_ms']:>6}  {w['p95_ms']:>6}  "
                     f"{w['rss_mb']}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--limit", type=int, default=None, help=f"Articles in the store [default: {DEFAULT_SIZE}].")
    parser.add_argument("--seconds", type=float, default=None, help=f"Load duration [default: {DEFAULT_SECONDS}].")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.data, limit=args.limit, seconds=args.seconds)
    print(json.dumps(figures) if args.json else report(figures))
    return 0 if figures["errors"] == 0 else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
