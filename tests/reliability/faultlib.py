"""Fault injection for the store: build a mixed corpus, run ingest + analyze, kill it, compare stores.

The kill campaign forks the test process (modules and caches already warm, so a kill point costs a
fraction of a second instead of a fresh interpreter's start-up), lets the child run ``ingest`` then
``analyze`` on the cheap stages, and sends it SIGKILL after a seeded random delay. A chain of killed
runs ends with one run that is left to finish; its store must then equal a store built without faults:
same articles, sources, removed lines, boilerplate counts, stage results and corpus results, each
exactly once, and ``PRAGMA integrity_check`` / the FTS5 index check pass.

Run a campaign outside pytest (the figures in docs/reliability.md)::

    nice -n 10 .venv/bin/python -m tests.reliability.faultlib --kills 1000 --seed 1 --json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import signal
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
# Cheap per-article stages plus corpus stages that read them: seconds, not minutes, per run.
STAGES = ["profile", "dates", "facts", "duplicates", "timeline"]
BATCH = 4  # small batches: many transactions, so kills land between and inside them


def build_corpus(folder: Path) -> Path:
    """Write a small corpus that exercises every writer path: text files, JSON Lines and CSV records,
    a duplicate, a bad file, and one outlet whose boilerplate line is learned across batches."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = sorted(EXAMPLES.glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in seeds]
    (folder / "txt").mkdir(exist_ok=True)
    for i in range(14):
        body = texts[i % len(texts)]
        (folder / "txt" / f"{i:03d}.txt").write_text(f"{body}\n\nUpdate number {i} was added later.\n",
                                                      encoding="utf-8")
    (folder / "txt" / "999-copy.txt").write_bytes((folder / "txt" / "000.txt").read_bytes())
    (folder / "txt" / "bad.bin").write_bytes(b"\x00\x01\x02\xff" * 64)
    paragraphs = [p for t in texts for p in t.split("\n\n") if len(p.split()) > 12]
    with open(folder / "feed.jsonl", "w", encoding="utf-8") as out:
        for i in range(14):
            text = "\n\n".join([paragraphs[i], "Follow The Daily Example on Twitter", paragraphs[i + 20],
                                f"On Monday the council said {i + 3} more homes would be built by 2017."])
            out.write(json.dumps({"text": text, "outlet": "The Daily Example", "title": f"Story {i}",
                                  "published": f"2016-07-{i % 28 + 1:02d}"}) + "\n")
    rows = ["title,outlet,published,text"]
    for i in range(6):
        text = f"{paragraphs[40 + i]}\n\nRead more from the Example Gazette\n\nA 172-40 vote on {i + 1} July."
        rows.append(f"Row {i},Example Gazette,2016-06-{i + 10},\"{text.replace(chr(34), chr(34) * 2)}\"")
    (folder / "table.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


def settings_for(db: Path, *, jobs: int = 1) -> Any:
    from storytrace.settings import Settings

    return Settings(db=db, progress=False, batch_size=BATCH, jobs=jobs)


def run_pipeline(db: Path, corpus: Path, *, jobs: int = 1, between: Any = None) -> None:
    """What one user command sequence does: ingest the folder, then analyze the cheap stages."""
    from storytrace.corpus import Corpus

    with Corpus(settings=settings_for(db, jobs=jobs)) as c:
        c.ingest([str(corpus)])
        if between is not None:
            between()
        c.analyze(STAGES)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def snapshot(db: Path) -> dict[str, Any]:
    """Everything a user would read from the store, timestamps and run ids left out."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        q = conn.execute
        return {
            "articles": [tuple(r) for r in q(
                "SELECT id, format, raw_text, html, clean_text, clean_hash, segments, title, outlet, author, "
                "published, url, meta, chars, words FROM articles ORDER BY num")],
            "sources": sorted(tuple(r) for r in q("SELECT path, record, sha256, article_id FROM sources")),
            "removed_lines": sorted(tuple(r) for r in q(
                "SELECT article_id, start, end, reason, text FROM removed_lines")),
            "line_counts": sorted(tuple(r) for r in q("SELECT outlet, key, n FROM line_counts")),
            "stage_results": sorted(tuple(r) for r in q(
                "SELECT article_id, stage, input_key, status, payload, summary, error FROM stage_results")),
            "corpus_results": sorted(tuple(r) for r in q("SELECT stage, input_key, payload FROM corpus_results")),
            "corpus_records": [tuple(r) for r in q(
                "SELECT stage, key, article_id, payload FROM corpus_records ORDER BY stage, rowid")],
            "fts": sorted(tuple(r) for r in q("SELECT rowid, title, clean_text FROM articles_fts")),
        }


def check_store(db: Path) -> list[str]:
    """Integrity problems of a store: SQLite's own checks, the FTS5 index, and duplicated rows."""
    problems = []
    with sqlite3.connect(db) as conn:
        integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if integrity != ["ok"]:
            problems.append(f"integrity_check: {integrity[:5]}")
        if fk := conn.execute("PRAGMA foreign_key_check").fetchall():
            problems.append(f"foreign_key_check: {fk[:5]}")
        try:
            conn.execute("INSERT INTO articles_fts(articles_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            problems.append(f"fts integrity-check: {exc}")
        for table, key in (("articles", "id"), ("sources", "path, record"), ("stage_results", "article_id, stage"),
                           ("corpus_results", "stage")):
            dup = conn.execute(f"SELECT count(*) - count(DISTINCT {key.replace(', ', ' || char(0) || ')}) "
                               f"FROM {table}").fetchone()[0]
            if dup:
                problems.append(f"{dup} duplicated rows in {table}")
        running = conn.execute("SELECT count(*) FROM corpus_records r WHERE NOT EXISTS "
                               "(SELECT 1 FROM corpus_results c WHERE c.stage = r.stage)").fetchone()[0]
        if running:
            problems.append(f"{running} corpus records without their stage result")
    return problems


def diff(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Which parts of two snapshots differ, with counts (lost = in expected only, extra = in got only)."""
    out = []
    for part in expected:
        a, b = expected[part], got[part]
        if a == b:
            continue
        sa, sb = {_digest(x) for x in a}, {_digest(x) for x in b}
        out.append(f"{part}: {len(a)} expected, {len(b)} found, {len(sa - sb)} lost or changed, "
                   f"{len(sb - sa)} extra or changed" + ("" if sa != sb else " (same rows, other order)"))
    return out


def in_child(fn: Any, *args: Any, before: Any = None, timeout: float = 300) -> tuple[int | None, str | None]:
    """Run ``fn(*args)`` in a forked child (after ``before()`` there); return its exit code and the
    ``str()`` of the exception it raised, if any. Faults such as resource limits stay in the child."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def target() -> None:
        if before is not None:
            before()
        try:
            fn(*args)
        except BaseException as exc:  # report any failure to the parent, as the user would see it
            send.send(f"{type(exc).__name__}: {exc}")
            raise SystemExit(1) from None
        send.send(None)

    child = ctx.Process(target=target)
    child.start()
    message = receive.recv() if receive.poll(timeout) else f"no answer from the child within {timeout} s"
    child.join(5 if message and message.startswith("no answer") else timeout)
    if child.is_alive():  # a hang: stop it, and say so
        child.kill()
        child.join()
        return None, message
    return child.exitcode, message


def _own_tqdm_lock() -> None:
    """Give this forked process its own tqdm lock.

    tqdm's write lock is a multiprocessing semaphore, shared by every process forked after it was made. A
    child SIGKILLed while holding it (tqdm takes it to register every bar, even a disabled one) leaves it
    taken for all of them: in the first 20-lane campaign every lane then hung in its next run. A command run
    by a user does not share it with another command, and the pool workers never create bars.
    """
    import threading

    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


def _child(db: str, corpus: str, jobs: int) -> None:
    _own_tqdm_lock()
    # stdout/stderr of a killed child are noise; the parent judges the store, not the output.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    # The marker tells the parent whether its kill landed during ingest or during analyze.
    run_pipeline(Path(db), Path(corpus), jobs=jobs, between=Path(f"{db}.analyzing").touch)


@dataclass
class Campaign:
    """What a kill campaign did and found."""

    seed: int
    window: float = 1.1
    kills: int = 0  # SIGKILLs that landed while the child was still working
    in_ingest: int = 0  # ... of them, while it was starting up or ingesting
    in_analyze: int = 0  # ... while it was analysing
    finished_early: int = 0  # children that finished before their kill time
    chains: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    full_run_seconds: float = 0.0
    kill_times: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        times = sorted(self.kill_times)
        return {"seed": self.seed, "window": self.window, "kills": self.kills, "kills_in_ingest": self.in_ingest,
                "kills_in_analyze": self.in_analyze, "chains": self.chains, "finished_early": self.finished_early,
                "failures": self.failures, "seconds": round(self.seconds, 1),
                "full_run_seconds": round(self.full_run_seconds, 2),
                "kill_time_min_s": round(times[0], 3) if times else None,
                "kill_time_max_s": round(times[-1], 3) if times else None}


def kill_campaign(work: Path, *, kills: int, seed: int, max_per_chain: int = 6, jobs: int = 1, window: float = 1.1,
                  lanes: int = 1, timing_run: bool = True, log: Any = None, progress: Path | None = None) -> Campaign:
    """SIGKILL ingest+analyze at seeded random points until ``kills`` kills have landed; check every chain.

    Each kill delay is drawn uniformly over ``window`` times an uninterrupted run. With the default (1.1) a
    kill can land anywhere in a whole run, and a chain soon ends with a re-run that finishes before its kill
    time. A small window (0.2) kills each re-run early, so a chain walks through the whole work in many short,
    killed steps: many more kills for the same CPU time, each at a random point of what was left to do.
    ``lanes`` > 1 runs that many chains at once (forked lanes, each with its own stores and random stream),
    all checked against the same reference.

    ``progress``: a JSON file rewritten after every chain with the figures so far, so that a campaign
    stopped part-way (a long one, on a shared machine) still leaves its result. ``timing_run=False`` takes
    the reference run (cold: imports included, so longer) as the run length instead of timing a warm child,
    saving one run on a starved machine; every chain's check still compares with the reference.
    """
    corpus = build_corpus(work / "corpus")
    reference = work / "reference.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{reference}{suffix}").unlink(missing_ok=True)
    t = time.perf_counter()
    run_pipeline(reference, corpus, jobs=jobs)  # also warms every module and cache the children inherit
    full_run = time.perf_counter() - t
    problems = check_store(reference)
    assert not problems, problems
    expected = snapshot(reference)
    ctx = multiprocessing.get_context("fork")
    if timing_run:  # kill times are drawn over the length of an uninterrupted run of a (warm) child
        scratch = work / "timing.db"
        t = time.perf_counter()
        child = ctx.Process(target=_child, args=(str(scratch), str(corpus), jobs))
        child.start()
        child.join()
        full_run = time.perf_counter() - t
        assert diff(expected, snapshot(scratch)) == [], "two uninterrupted runs differ: the store is not deterministic"
    if log is not None:
        print(f"reference built; run length {full_run:.1f} s; {lanes} lane(s) start", file=log, flush=True)
    plan = _Plan(work, corpus, expected, jobs, window, max_per_chain, full_run)
    started = time.perf_counter()
    if lanes <= 1:
        result = _lane(plan, 0, kills, random.Random(seed), Campaign(seed=seed, window=window,
                                                                      full_run_seconds=full_run), log, progress)
        result.seconds = time.perf_counter() - started
        if progress is not None:
            progress.write_text(json.dumps({**result.as_dict(), "target_kills": kills, "finished": True}))
        return result
    per_lane = [kills // lanes + (1 if i < kills % lanes else 0) for i in range(lanes)]
    files = [work / f"lane{i}.json" for i in range(lanes)]
    procs = []
    for i in range(lanes):
        files[i].unlink(missing_ok=True)
        proc = ctx.Process(target=_lane, args=(plan, i, per_lane[i], random.Random(f"{seed}-{i}"),
                                               Campaign(seed=seed, window=window, full_run_seconds=full_run),
                                               log, files[i]))
        proc.start()
        procs.append(proc)
    while True:
        alive = any(p.is_alive() for p in procs)
        result = _merge(seed, window, full_run, files)
        result.seconds = time.perf_counter() - started
        if progress is not None:
            partial = progress.with_suffix(".tmp")
            partial.write_text(json.dumps({**result.as_dict(), "target_kills": kills, "finished": not alive,
                                           "lanes": lanes, "load_average": os.getloadavg()}))
            partial.replace(progress)
        if not alive:
            break
        time.sleep(10)
    if any(p.exitcode for p in procs):
        result.failures.append(f"lane exit codes {[p.exitcode for p in procs]}")
    return result


@dataclass
class _Plan:
    work: Path
    corpus: Path
    expected: dict[str, Any]
    jobs: int
    window: float
    max_per_chain: int
    full_run: float


def _merge(seed: int, window: float, full_run: float, files: list[Path]) -> Campaign:
    merged = Campaign(seed=seed, window=window, full_run_seconds=full_run)
    for i, path in enumerate(files):
        if not path.exists():
            continue
        lane = json.loads(path.read_text())
        for key in ("kills", "chains", "finished_early"):
            setattr(merged, key, getattr(merged, key) + lane[key])
        merged.in_ingest += lane["kills_in_ingest"]
        merged.in_analyze += lane["kills_in_analyze"]
        merged.failures += [f"lane {i}: {f}" for f in lane["failures"]]
        merged.kill_times += [t for t in (lane["kill_time_min_s"], lane["kill_time_max_s"]) if t is not None]
    return merged


def _lane(plan: _Plan, lane: int, kills: int, rng: random.Random, result: Campaign, log: Any,
          progress: Path | None) -> Campaign:
    """Kill chains one after the other until ``kills`` have landed (one lane of a campaign)."""
    _own_tqdm_lock()
    ctx = multiprocessing.get_context("fork")
    work, corpus, jobs = plan.work, plan.corpus, plan.jobs
    started = time.perf_counter()
    while result.kills < kills:
        result.chains += 1
        db = work / f"chain{lane}-{result.chains % 2}.db"
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        in_chain = 0
        while in_chain < plan.max_per_chain and result.kills < kills:
            delay = rng.uniform(0.0, plan.full_run * plan.window)
            marker = Path(f"{db}.analyzing")
            marker.unlink(missing_ok=True)
            child = ctx.Process(target=_child, args=(str(db), str(corpus), jobs))
            child.start()
            child.join(delay)
            if not child.is_alive():
                result.finished_early += 1
                break
            os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
            child.join()
            result.kills += 1
            if marker.exists():
                result.in_analyze += 1
            else:
                result.in_ingest += 1
            in_chain += 1
            result.kill_times.append(delay)
        run_pipeline(db, corpus, jobs=jobs)  # the run that is left to finish
        problems = check_store(db) + diff(plan.expected, snapshot(db))
        if problems:
            result.failures.append(f"chain {result.chains} ({in_chain} kills): " + "; ".join(problems))
        result.seconds = time.perf_counter() - started
        if log is not None:
            print(f"lane {lane} chain {result.chains}: {in_chain} kills, lane total {result.kills}, "
                  f"{result.seconds:.0f} s, {'FAIL ' + '; '.join(problems) if problems else 'ok'}",
                  file=log, flush=True)
        if progress is not None:
            partial = progress.with_suffix(".tmp")
            partial.write_text(json.dumps({**result.as_dict(), "target_kills": kills, "finished": False,
                                           "load_average": os.getloadavg()}))
            partial.replace(progress)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None, help="Scratch folder (default: a temporary one).")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--window", type=float, default=1.1,
                        help="Kill delays are drawn over this many uninterrupted runs (0.2: many short steps).")
    parser.add_argument("--max-per-chain", type=int, default=6, help="Kills before a chain's run is left to finish.")
    parser.add_argument("--lanes", type=int, default=1, help="Chains run at once (forked lanes).")
    parser.add_argument("--no-timing-run", action="store_true",
                        help="Use the (cold) reference run's length for kill delays instead of timing a warm run.")
    parser.add_argument("--progress", type=Path, default=None,
                        help="JSON file rewritten after every chain with the figures so far.")
    args = parser.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="storytrace-kills-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        found = kill_campaign(work, kills=args.kills, seed=args.seed, jobs=args.jobs, log=sys.stderr,
                              progress=args.progress, window=args.window, max_per_chain=args.max_per_chain,
                              lanes=args.lanes, timing_run=not args.no_timing_run)
    print(json.dumps(found.as_dict()) if args.json else found)
    return 1 if found.failures else 0


if __name__ == "__main__":
    sys.exit(main())
