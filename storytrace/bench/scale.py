"""`storytrace bench scale`: articles per second and peak memory of ingest + analysis, by engine and size.

Inputs: PolNeAR (train, dev), bbc-news-2225 and reuters21578 texts (``bench.resolve.corpus``: the
sources in a fixed order, then repeats with seeded perturbation, dates spread over a year) written as one
JSON Lines file per size. Each (engine, size) runs in a fresh child process; the parent samples the
resident memory of the child's whole process tree (worker processes, Spark's JVM and its Python workers)
every 0.2 s and keeps the peak of the sum.

Engines: ``localN`` = ``storytrace ingest`` then ``analyze`` into a new SQLite store with N worker
processes; ``sparkN`` = ``analyze --engine spark`` on ``local[N]`` (ingest and analysis in one job,
Parquet written), without the load into a store. Throughput is articles (input documents) over the
wall time of the whole run, start-up included.

Spark runs also report ``parallel``: per heavy phase (read, prepare, analyze), the tasks, the Python
worker processes that ran them, the summed task time (busy), first start to last end (span), busy / span
(``concurrency``) and the most tasks running at one moment (``scale.spark.parallelism``). These show
whether ``local[2]`` runs two tasks at once even on a machine too busy for the wall times to show a
speed-up: wall-clock overlap does not depend on how many cores the tasks then share.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from storytrace.errors import BenchmarkError

# Assumptions for the cost figures, stated in every result.
PRICE_PER_CORE_HOUR = 0.04  # USD, a general-purpose cloud vCPU-hour on demand (2026 list prices vary 0.03-0.05)
CLUSTER_CORES = 1600  # the projected cluster: 100 workers x 16 cores
CLUSTER_EFFICIENCY = 0.8  # per-core throughput on the cluster relative to local[N] here (shuffles, stragglers)


def write_corpus(data: Path, size: int, path: Path) -> None:
    """The benchmark corpus of ``size`` articles as JSON Lines (text and publication date)."""
    from storytrace.bench.resolve import corpus

    with path.open("w", encoding="utf-8") as out:
        for _id, text, day in corpus(data, size):
            out.write(json.dumps({"text": text, "published": day}, ensure_ascii=False) + "\n")


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total


def measure(engine: str, corpus_path: Path, work: Path, stages: list[str] | None,
            sitting: Path | None = None) -> dict[str, Any]:
    """Run one engine on one corpus in a child process; its figures plus the tree's peak RSS.

    ``sitting``: a file to keep this run's wall time and peak so far in (every 10 s), so a run killed
    before it ends still counts when a later run resumes it (``--work``).
    """
    args = [sys.executable, "-m", "storytrace.bench.scale", engine, str(corpus_path), str(work),
            ",".join(stages) if stages else "all"]
    started = time.perf_counter()
    log = work / "child.log"
    with log.open("a" if sitting else "w") as err:
        child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)
        peak = 0
        noted = started
        while child.poll() is None:
            peak = max(peak, _tree_rss(child.pid))
            time.sleep(0.2)
            if sitting is not None and time.perf_counter() - noted >= 10:
                noted = time.perf_counter()
                _write_json(sitting, {"wall_s": round(noted - started, 1), "peak_rss_mb": round(peak / 2**20),
                                      "finished": False})
    out = ""
    if child.stdout:
        with child.stdout:
            out = child.stdout.read()
    if child.returncode != 0 or not out.strip():
        # One failed run is a result too (e.g. out of memory): record it and go on with the others.
        tail = [line for line in log.read_text(errors="replace").splitlines() if line.strip()][-6:]
        return {"failed": f"exit {child.returncode}", "stderr_tail": tail, "peak_rss_mb": round(peak / 2**20),
                "wall_s": round(time.perf_counter() - started, 1)}
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    figures["wall_s"] = round(time.perf_counter() - started, 1)
    figures["articles_per_s"] = round(figures["documents"] / figures["wall_s"], 2)
    figures["peak_rss_mb"] = round(peak / 2**20)
    return figures


def _write_json(path: Path, value: Any) -> None:
    """Write JSON atomically (a kill mid-write leaves the previous file)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=1))
    os.replace(tmp, path)


def resume_figures(work: Path, figures: dict[str, Any], sitting: Path) -> dict[str, Any]:
    """Fold this run into the earlier sittings of the same (engine, size) in ``work``.

    A local run resumes an interrupted one (ingest keeps what is stored, analyze runs only stale stages),
    so the whole job's cost is the sum of the sittings' wall times, and its peak memory their maximum.
    """
    _write_json(sitting, {"wall_s": figures["wall_s"], "peak_rss_mb": figures["peak_rss_mb"], "finished": True,
                          **({"failed": figures["failed"]} if "failed" in figures else {})})
    sittings = [json.loads(p.read_text()) for p in sorted(work.glob("sitting-*.json"), key=_sitting_number)]
    wall = round(sum(s["wall_s"] for s in sittings), 1)
    out = {**figures, "sittings": len(sittings), "wall_s": wall,
           "peak_rss_mb": max(s["peak_rss_mb"] for s in sittings),
           "this_sitting": {"wall_s": figures["wall_s"], "peak_rss_mb": figures["peak_rss_mb"]}}
    if "documents" in figures and wall:
        out["articles_per_s"] = round(figures["documents"] / wall, 2)
    return out


def _sitting_number(path: Path) -> int:
    return int(path.stem.removeprefix("sitting-"))


def _child(engine: str, corpus_path: str, work: str, stages_arg: str) -> dict[str, Any]:
    """Inside the child: run the engine and report counts and phase times."""
    from storytrace.settings import Settings
    from storytrace.stages import STAGES

    # "all" = every per-article stage (the model's included), for both engines alike
    stages = list(STAGES) if stages_arg == "all" else stages_arg.split(",")
    workers = int(engine.removeprefix("local").removeprefix("spark"))
    settings = Settings(db=Path(work) / "bench.db", jobs=workers if engine.startswith("local") else 1,
                        progress=False)
    documents = sum(1 for _ in open(corpus_path, encoding="utf-8"))
    if engine.startswith("local"):
        from storytrace.corpus import Corpus

        with Corpus(settings=settings) as corpus:
            start = time.perf_counter()
            report = corpus.ingest([corpus_path])
            ingest_s = time.perf_counter() - start
            start = time.perf_counter()
            counts = corpus.analyze(stages)
            analyze_s = time.perf_counter() - start
        return {"documents": documents, "articles": report.added, "errors": len(report.errors),
                "ingest_s": round(ingest_s, 1), "analyze_s": round(analyze_s, 1),
                "stage_errors": counts.errors}
    from storytrace.scale.spark import analyze

    result = analyze([corpus_path], Path(work) / "out", settings=settings, stages=stages, master=f"local[{workers}]")
    return {"documents": documents, "articles": result.articles, "errors": result.errors,
            "phases_s": result.timings, "parallel": result.parallel,
            "stage_errors": sum(s.get("error", 0) for s in result.stages.values())}


def run(data: Path, *, sizes: list[int], engines: list[str], stages: list[str] | None,
        progress: Path | None = None, work_dir: Path | None = None) -> dict[str, Any]:
    """Measure every engine at every size; add scaling, cost per million articles and a cluster projection.

    ``work_dir`` keeps the corpora and stores there instead of in a temporary folder, and a local run
    there resumes the interrupted one before it (figures summed over sittings: ``resume_figures``): a
    full analysis of 100k articles takes longer than one sitting on a small machine.
    """
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
        return _run(data, sizes, engines, stages, progress, work_dir, keep=True)
    with tempfile.TemporaryDirectory(prefix="storytrace-scale-") as tmp:
        return _run(data, sizes, engines, stages, progress, Path(tmp), keep=False)


def _run(data: Path, sizes: list[int], engines: list[str], stages: list[str] | None, progress: Path | None,
         base: Path, *, keep: bool) -> dict[str, Any]:
    for engine in engines:
        if not re.fullmatch(r"(local|spark)[1-9]\d*", engine):
            raise BenchmarkError(f"unknown engine {engine!r}: use localN or sparkN, e.g. local2,spark2")
    out: dict[str, Any] = {
        "machine": {"cores": os.cpu_count(), "load_average_at_start": [round(x, 1) for x in os.getloadavg()]},
        "stages": stages or "all per-article stages",
        "runs": {},
    }
    for size in sizes:
        corpus_path = base / f"corpus-{size}.jsonl"
        if not keep or not corpus_path.is_file():
            write_corpus(data, size, corpus_path.with_suffix(".part"))
            os.replace(corpus_path.with_suffix(".part"), corpus_path)
        for engine in engines:
            work = base / f"{engine}-{size}"
            resumable = keep and engine.startswith("local")
            if keep and not resumable and work.exists():
                shutil.rmtree(work)  # a Spark job starts over: it writes its whole output in one go
            work.mkdir(exist_ok=resumable)
            sitting = (work / f"sitting-{1 + max(map(_sitting_number, work.glob('sitting-*.json')), default=0)}"
                       ".json") if resumable else None
            figures = measure(engine, corpus_path, work, stages, sitting)
            if sitting is not None:
                figures = resume_figures(work, figures, sitting)
            out["runs"].setdefault(str(size), {})[engine] = figures
            if progress is not None:  # figures so far, should a later run take the machine down
                progress.write_text(json.dumps(out, indent=1))
        if not keep:
            corpus_path.unlink()
    out["machine"]["load_average_at_end"] = [round(x, 1) for x in os.getloadavg()]
    out["derived"] = derive(out["runs"])
    return out


def derive(runs: dict[str, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    """Speed-up from 1 to 2 workers, core-hours and cost per million articles, and a 100M-article projection."""
    derived: dict[str, Any] = {"assumptions": {
        "price_per_core_hour_usd": PRICE_PER_CORE_HOUR, "cluster_cores": CLUSTER_CORES,
        "cluster_efficiency": CLUSTER_EFFICIENCY}}
    for size, by_engine in runs.items():
        row: dict[str, Any] = {}
        for kind in ("local", "spark"):
            one, two = by_engine.get(f"{kind}1"), by_engine.get(f"{kind}2")
            if one and two and "failed" not in one and "failed" not in two:
                row[f"{kind}_speedup_1_to_2"] = round(two["articles_per_s"] / one["articles_per_s"], 2)
        for engine, f in by_engine.items():
            if "failed" in f:
                continue
            cores = int(engine.removeprefix("local").removeprefix("spark"))
            per_core = f["articles_per_s"] / cores
            core_hours = 1e6 / per_core / 3600
            row[engine] = {"articles_per_s_per_core": round(per_core, 2),
                           "core_hours_per_million": round(core_hours, 1),
                           "usd_per_million": round(core_hours * PRICE_PER_CORE_HOUR, 2)}
            if engine.startswith("spark"):
                rate = per_core * CLUSTER_CORES * CLUSTER_EFFICIENCY
                row[engine]["cluster_100M_hours"] = round(1e8 / rate / 3600, 1)
                row[engine]["cluster_100M_usd"] = round(1e8 / (per_core * CLUSTER_EFFICIENCY) / 3600
                                                        * PRICE_PER_CORE_HOUR)
        derived[size] = row
    return derived


def report(figures: dict[str, Any]) -> str:
    """A readable table of the runs."""
    lines = ["size     engine   articles/s  peak RSS MB  wall s"]
    for size, by_engine in figures["runs"].items():
        for engine, f in by_engine.items():
            rate = f.get("articles_per_s", f.get("failed"))
            lines.append(f"{size:>8} {engine:<8} {rate:>10} {f['peak_rss_mb']:>12} {f['wall_s']:>7}")
            for phase, p in f.get("parallel", {}).items():
                lines.append(f"{'':>17} {phase:<8} {p['tasks']} tasks, {p['processes']} workers, "
                             f"concurrency {p['concurrency']}, at most {p['most_at_once']} at once")
    lines.append(json.dumps(figures["derived"], indent=1))
    return "\n".join(lines)


if __name__ == "__main__":  # the child process of measure()
    print(json.dumps(_child(*sys.argv[1:5])))
