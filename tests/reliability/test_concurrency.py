"""Concurrency: two writing commands on one store, and the web app answering while the store is written."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from storytrace.corpus import Corpus
from storytrace.errors import StoreBusyError
from storytrace.store.lock import lock_path
from tests.reliability.faultlib import STAGES, check_store, diff, run_pipeline, settings_for, snapshot


def _hold_lock_then_analyze(db: str, ready: Any, release: Any) -> None:
    with Corpus(settings=settings_for(Path(db))) as c:
        run_id = c.store.start_run("analyze --stage profile", settings={}, versions={})
        ready.set()
        release.wait(60)
        c.store.finish_run(run_id, status="ok", counts={})


@pytest.fixture
def ingested(fault_corpus: Path, tmp_path: Path) -> Path:
    db = tmp_path / "s.db"
    with Corpus(settings=settings_for(db)) as c:
        c.ingest([str(fault_corpus)])
    return db


def _holder(db: Path) -> tuple[Any, Any, Any]:
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_lock_then_analyze, args=(str(db), ready, release))
    child.start()
    assert ready.wait(60), "the first analyze did not start"
    return child, ready, release


def test_a_second_analyze_is_refused_with_a_message_naming_the_first(ingested: Path) -> None:
    child, _ready, release = _holder(ingested)
    try:
        with pytest.raises(StoreBusyError) as err, Corpus(settings=settings_for(ingested)) as c:
            c.analyze(STAGES)
        message = str(err.value)
        assert err.value.code == "E201"
        assert "'storytrace analyze --stage profile'" in message and f"pid {child.pid}" in message
        assert "wait for it to finish" in message
        with Corpus(settings=settings_for(ingested)) as c, pytest.raises(StoreBusyError):
            c.ingest([str(ingested)])  # any writing command, not only analyze
        with Corpus(settings=settings_for(ingested), readonly=True) as c:
            assert c.store.count_articles() > 0  # reading is never blocked
    finally:
        release.set()
        child.join(30)
    with Corpus(settings=settings_for(ingested)) as c:  # free again once the first has finished
        assert c.analyze(["profile"]).stages["profile"].done > 0


def test_with_a_wait_the_second_analyze_runs_after_the_first(ingested: Path) -> None:
    child, _ready, release = _holder(ingested)
    threading_timer = __import__("threading").Timer(1.0, release.set)
    threading_timer.start()
    started = time.monotonic()
    with Corpus(settings=settings_for(ingested).replace(lock_wait=30)) as c:
        counts = c.analyze(["profile"])
    assert time.monotonic() - started >= 0.9 and counts.stages["profile"].done > 0
    child.join(30)


def test_the_lock_of_a_killed_command_is_released_by_the_system(ingested: Path) -> None:
    child, _ready, _release = _holder(ingested)
    os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    child.join(30)
    assert lock_path(ingested).exists()  # the file stays; the flock went with the process
    with Corpus(settings=settings_for(ingested)) as c:
        assert c.analyze(["profile"]).stages["profile"].done > 0


def test_two_clis_started_at_once_one_runs_one_refuses_clearly(ingested: Path) -> None:
    cmd = [sys.executable, "-m", "storytrace.cli", "--db", str(ingested), "--no-progress", "analyze",
           "--stage", "dates", "--stage", "facts", "--no-quote-parse"]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(600), *p.communicate()) for p in procs]
    codes = sorted(code for code, _out, _err in results)
    refused = [err for code, _out, err in results if code == 1]
    if codes == [0, 0]:  # the first finished before the second started: still no overlap, nothing to refuse
        pytest.skip("the runs did not overlap on this machine")
    assert codes == [0, 1], results
    assert "[E201]" in refused[0] and "is writing to the store" in refused[0] and "Traceback" not in refused[0]
    assert check_store(ingested) == []


# -- serve while writing --------------------------------------------------------------------------------------
def _get(base: str, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(base + path, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _writer(db: str, corpus: str) -> None:
    run_pipeline(Path(db), Path(corpus))


def test_serve_answers_while_ingest_and_analyze_write(fault_corpus: Path, reference: dict[str, Any],
                                                      tmp_path: Path) -> None:
    pytest.importorskip("uvicorn", reason="the web extra is not installed")
    from storytrace.web.app import create_app
    from tests.test_web import start

    db = tmp_path / "s.db"
    with Corpus(settings=settings_for(db)) as c:  # an empty store to start from
        c.store.count_articles()
    server = start(create_app(db))
    ctx = multiprocessing.get_context("fork")
    writer = ctx.Process(target=_writer, args=(str(db), str(fault_corpus)))
    paths = ["/", "/articles", "/api/overview", "/api/articles?limit=5", "/api/search?q=Corbyn", "/api/quotes?q=said",
             "/stories", "/actors", "/search?q=Labour"]
    statuses: dict[int, int] = {}
    seen_articles = []
    try:
        writer.start()
        while writer.is_alive() or len(seen_articles) < 3:
            for path in paths:
                status, body = _get(server.base, path)
                statuses[status] = statuses.get(status, 0) + 1
                assert status == 200, (path, status, body[:300])
                if path == "/api/overview":
                    seen_articles.append(json.loads(body)["articles"])
        writer.join()
        assert writer.exitcode == 0
    finally:
        server.stop()
        if writer.is_alive():
            writer.kill()
    assert seen_articles == sorted(seen_articles), "a reader saw articles disappear"
    assert sum(statuses.values()) >= 3 * len(paths)
    assert diff(reference, snapshot(db)) == []  # the reads did not disturb the writes


def _lock_fork_worker_then_wait(db: str, ready: Any) -> None:
    from storytrace.store import Store

    store = Store(db)
    store.start_run("analyze --jobs 2", settings={}, versions={})
    if os.fork() == 0:  # a pool worker: outlives its parent when the parent is killed
        time.sleep(30)
        os._exit(0)
    ready.set()
    time.sleep(60)


def test_workers_of_a_killed_command_do_not_keep_the_lock(ingested: Path) -> None:
    # Regression: with flock the forked workers of a SIGKILLed 'analyze --jobs 2' held the lock on.
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    child = ctx.Process(target=_lock_fork_worker_then_wait, args=(str(ingested), ready))
    child.start()
    assert ready.wait(60)
    os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    child.join(30)
    with Corpus(settings=settings_for(ingested)) as c:  # the orphaned worker is still sleeping
        assert c.analyze(["profile"]).stages["profile"].done > 0


def test_two_stores_of_one_process_exclude_each_other_too(ingested: Path) -> None:
    from storytrace.store import Store

    with Store(ingested) as first, Store(ingested) as second:
        run = first.start_run("ingest a", settings={}, versions={})
        with pytest.raises(StoreBusyError, match="another command of this process"):
            second.start_run("analyze", settings={}, versions={})
        first.finish_run(run, status="ok", counts={})
        second.finish_run(second.start_run("analyze", settings={}, versions={}), status="ok", counts={})
