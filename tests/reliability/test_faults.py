"""Faults during ingest and analyze: SIGKILL at random points, a full disk, a read-only store, a locked
database. After each, re-running the same commands must give the store an uninterrupted run gives."""

from __future__ import annotations

import random
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from storytrace.corpus import Corpus
from storytrace.errors import StoreBusyError, StoreError
from storytrace.ingest import pipeline
from storytrace.store import store as store_module
from tests.reliability.conftest import read_only, small_tmpfs
from tests.reliability.faultlib import (
    STAGES,
    check_store,
    diff,
    in_child,
    kill_campaign,
    run_pipeline,
    settings_for,
    snapshot,
)


def assert_same_as_reference(db: Path, reference: dict[str, Any]) -> None:
    assert check_store(db) == []
    assert diff(reference, snapshot(db)) == []


# -- SIGKILL -----------------------------------------------------------------------------------------------
def test_killed_at_random_points_the_rerun_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    found = kill_campaign(tmp_path, kills=4, seed=7)
    assert found.failures == []
    assert found.kills == 4


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_many_kills_lose_and_duplicate_nothing(tmp_path: Path, jobs: int) -> None:
    found = kill_campaign(tmp_path, kills=60 if jobs == 1 else 20, seed=100 + jobs, jobs=jobs)
    assert found.failures == []


def test_ingest_killed_before_its_boilerplate_refresh_is_recleaned_by_the_next_run(
        fault_corpus: Path, reference: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Regression: articles stored before an outlet's boilerplate was learned kept the boilerplate line when
    # the ingest died before refresh_boilerplate and the next run saw no change of the lines "during" it.
    db = tmp_path / "s.db"

    def die(*_args: Any, **_kwargs: Any) -> int:
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(pipeline, "refresh_boilerplate", die)
        with pytest.raises(KeyboardInterrupt), Corpus(settings=settings_for(db)) as c:
            c.ingest([str(fault_corpus)])
    run_pipeline(db, fault_corpus)
    assert_same_as_reference(db, reference)


# -- full disk ---------------------------------------------------------------------------------------------
def _file_size_limit(limit: int) -> Any:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_file_size_limit_mid_run_is_a_clear_error_and_the_rerun_completes(
        fault_corpus: Path, reference: dict[str, Any], tmp_path: Path, seed: int) -> None:
    db = tmp_path / "s.db"
    limits = sorted(random.Random(seed).sample(range(150_000, 1_500_000, 10_000), 3))
    failures = 0
    for limit in limits:  # each run gets a little further before the "disk" fills up
        code, message = in_child(run_pipeline, db, fault_corpus, before=_file_size_limit(limit))
        if code != 0:
            failures += 1
            assert message and message.startswith("StoreError: [E20"), message
            assert "Free some space and run the same command again" in message
    assert failures, "the limits should make at least one run fail"
    run_pipeline(db, fault_corpus)
    assert_same_as_reference(db, reference)


def test_the_cli_says_the_disk_is_full_without_a_traceback(fault_corpus: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    done = subprocess.run([sys.executable, "-m", "storytrace.cli", "--db", str(db), "--no-progress", "ingest",
                           str(fault_corpus)], capture_output=True, text=True, preexec_fn=_file_size_limit(200_000))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "Error: [E20" in done.stderr and "Free some space" in done.stderr


def test_a_full_tmpfs_is_a_clear_error_and_the_rerun_after_growing_it_completes(
        fault_corpus: Path, reference: dict[str, Any], tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "400k") as disk:
        db = disk / "s.db"
        code, message = in_child(run_pipeline, db, fault_corpus)
        assert code == 1 and message is not None
        assert "[E207]" in message or "[E209]" in message, message
        assert "disk is full" in message or "refused the write" in message
        assert check_store(db) == []
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        run_pipeline(db, fault_corpus)
        assert_same_as_reference(db, reference)


# -- read-only store -----------------------------------------------------------------------------------------
def test_a_read_only_store_refuses_writes_clearly_still_reads_and_resumes_when_writable(
        fault_corpus: Path, reference: dict[str, Any], tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir()
    db = folder / "s.db"
    with Corpus(settings=settings_for(db)) as c:  # ingest done, analyze not yet: then the store goes read-only
        c.ingest([str(fault_corpus)])
    with read_only(folder) as view:
        for step in ("ingest", "analyze"):
            with pytest.raises(StoreError) as err:
                with Corpus(settings=settings_for(view / "s.db")) as c:
                    c.ingest([str(fault_corpus)]) if step == "ingest" else c.analyze(STAGES)
            assert err.value.code == "E208"
            assert "read-only" in str(err.value) and "permissions" in str(err.value)
        with Corpus(settings=settings_for(view / "s.db"), readonly=True) as c:
            assert c.store.count_articles() > 0  # reading works on a read-only medium
        with pytest.raises(StoreError, match="E208"):  # a new store in a read-only folder
            Corpus(settings=settings_for(view / "sub" / "new.db"))
    run_pipeline(db, fault_corpus)
    assert_same_as_reference(db, reference)


# -- locked database -------------------------------------------------------------------------------------------
def test_a_database_locked_by_another_connection_is_a_clear_busy_error_then_resumes(
        fault_corpus: Path, reference: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.db"
    with Corpus(settings=settings_for(db)) as c:
        c.ingest([str(fault_corpus / "feed.jsonl")])
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 300)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # e.g. a sqlite3 shell or another tool in the middle of a write
    try:
        for step in ("ingest", "analyze"):
            with pytest.raises(StoreBusyError) as err:
                with Corpus(settings=settings_for(db)) as c:
                    c.ingest([str(fault_corpus)]) if step == "ingest" else c.analyze(STAGES)
            assert err.value.code == "E201" and "busy" in str(err.value) and "try again" in str(err.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert check_store(db) == []
    run_pipeline(db, fault_corpus)
    assert_same_as_reference(db, reference)


def test_an_exclusive_lock_mid_analyze_fails_the_batch_cleanly(
        fault_corpus: Path, reference: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "s.db"
    with Corpus(settings=settings_for(db)) as c:
        c.ingest([str(fault_corpus)])
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_MS", 200)
    original = store_module.Store.transaction
    calls = {"n": 0}
    other = sqlite3.connect(db, isolation_level=None)

    def lock_then_begin(self: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 4:  # another writer grabs the database between two batches
            other.execute("BEGIN IMMEDIATE")
        return original(self)

    monkeypatch.setattr(store_module.Store, "transaction", lock_then_begin)
    with pytest.raises(StoreBusyError), Corpus(settings=settings_for(db)) as c:
        c.analyze(STAGES)
    other.execute("ROLLBACK")
    other.close()
    monkeypatch.undo()
    run_pipeline(db, fault_corpus)
    assert_same_as_reference(db, reference)
