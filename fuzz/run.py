"""Run every fuzz target of fuzz_ingest.py for a bounded time and report runs, coverage and crashes.

    nice -n 10 .venv/bin/python fuzz/run.py --seconds 600 --json > fuzz-figures.json
    nice -n 15 .venv/bin/python fuzz/run.py --seconds 3600 --parallel 9 --json   # every target at once
    .venv/bin/python fuzz/run.py --cpu-seconds 600 --json     # 10 minutes of CPU each, however loaded the machine

Each target starts from seed files (the test fixtures of its format) copied into a scratch corpus (or into
--corpus DIR/<target>, which a later run goes on from);
crash and timeout inputs that libFuzzer writes are kept in --artifacts for triage and regression tests.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SEEDS = {"text": ["*.txt"], "html": ["*.html", "*.htm"], "json": ["*.json"], "jsonl": ["*.jsonl"], "csv": ["*.csv"],
         "warc": ["*.warc", "*.warc.gz"], "gz": ["*.gz"], "clean": ["*.txt"], "quotes": ["*.txt"]}
STATS = re.compile(r"#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+)")


def seed(target: str, corpus: Path) -> int:
    corpus.mkdir(parents=True, exist_ok=True)
    n = 0
    for folder in (ROOT / "tests" / "fixtures", ROOT / "examples"):
        for pattern in SEEDS[target]:
            for path in sorted(folder.rglob(pattern)):
                if path.is_file() and path.stat().st_size <= 64 * 1024:
                    shutil.copy(path, corpus / f"seed-{n:03d}{path.suffix}")
                    n += 1
    return n


def start_target(target: str, seconds: int, work: Path, artifacts: Path, timeout: int = 30,
                 cpu_seconds: int = 0) -> dict[str, Any]:
    """Start libFuzzer on one target; its log goes to a file as it runs (a run stopped part-way still shows it)."""
    corpus = work / target
    seeds = seed(target, corpus)
    prefix = artifacts / f"{target}-"
    cmd = [sys.executable, str(HERE / "fuzz_ingest.py"), f"--target={target}", f"-max_total_time={seconds}",
           f"-timeout={timeout}", "-rss_limit_mb=3072", "-max_len=65536", f"-artifact_prefix={prefix}",
           "-print_final_stats=1", str(corpus)]
    log_path = artifacts / "logs" / f"{target}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log_file:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log_file, cwd=ROOT)
    return {"proc": proc, "log": log_path, "seeds": seeds, "started": time.perf_counter(), "cpu_budget": cpu_seconds}


def _cpu_of(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (Linux: /proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_at_cpu_budget(runs: list[dict[str, Any]]) -> None:
    """With a CPU budget, SIGINT each fuzzer once it has used that much CPU *fuzzing* (counted from libFuzzer's
    INITED line, after the instrumented imports and the seed corpus; libFuzzer then prints its final statistics
    and exits with 72): on a shared machine wall time says little about how much fuzzing was done."""
    waiting = [r for r in runs if r["cpu_budget"]]
    while waiting:
        for run in list(waiting):
            proc = run["proc"]
            if proc.poll() is not None:
                waiting.remove(run)
                continue
            cpu = _cpu_of(proc.pid)
            if "cpu_at_start" not in run:
                if re.search(r"\sINITED\s", run["log"].read_text(encoding="utf-8", errors="replace")):
                    run["cpu_at_start"] = cpu
            elif cpu - run["cpu_at_start"] >= run["cpu_budget"]:
                proc.send_signal(signal.SIGINT)
                run["stopped_at_budget"] = True
                waiting.remove(run)
        time.sleep(1.0)


def finish_target(target: str, run: dict[str, Any], artifacts: Path) -> dict[str, object]:
    """Wait for a target's fuzzer and read its figures; CPU time is the fuzzer's own (user + system)."""
    proc = run["proc"]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    # Interrupted, as asked: libFuzzer's 72, Python's 130, the signal itself, or libFuzzer's own per-input alarm
    # (SIGALRM) landing while the interrupted process shuts down (seen once in session 4; no input blamed).
    if run.get("stopped_at_budget") and proc.returncode in (72, 130, -signal.SIGINT, -signal.SIGALRM):
        proc.returncode = 0
    seconds = time.perf_counter() - run["started"]
    # CPU time, not wall time, is what the fuzzer got on a shared machine; the load average says why.
    cpu = usage.ru_utime + usage.ru_stime
    fuzz_cpu = cpu - run["cpu_at_start"] if "cpu_at_start" in run else None
    log = run["log"].read_text(encoding="utf-8", errors="replace")
    runs = cov = ft = 0
    for m in STATS.finditer(log):
        runs, cov, ft = int(m.group(1)), int(m.group(2)), int(m.group(3))
    final = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    if final:
        runs = int(final.group(1))
    found = sorted(p.name for p in artifacts.glob(f"{target}-*"))
    return {"runs": runs, "seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1),
            "fuzzing_cpu_seconds": round(fuzz_cpu, 1) if fuzz_cpu is not None else None,
            "runs_per_cpu_second": round(runs / cpu, 1) if cpu else None, "load_average": os.getloadavg()[0],
            "coverage": cov, "features": ft, "seed_files": run["seeds"], "exit_code": proc.returncode,
            "crashes_or_hangs": found, "error": None if proc.returncode == 0 else log[-1500:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="Fuzzing (wall) time per target.")
    parser.add_argument("--cpu-seconds", type=int, default=0,
                        help="Instead: fuzz each target until it has used this much CPU (wall cap: 50x).")
    parser.add_argument("--targets", default=",".join(SEEDS), help="Comma-separated targets.")
    parser.add_argument("--artifacts", type=Path, default=HERE / "artifacts")
    parser.add_argument("--corpus", type=Path, default=None,
                        help="Keep each target's corpus in DIR/<target> (a later run goes on from it; default: a "
                             "temporary folder, seeds only).")
    parser.add_argument("--parallel", type=int, default=1, help="Targets fuzzed at once.")
    parser.add_argument("--timeout", type=int, default=30,
                        help="Wall seconds an input may take before it counts as a hang (more on a loaded machine).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.artifacts.mkdir(parents=True, exist_ok=True)
    figures = {}
    targets = args.targets.split(",")
    with tempfile.TemporaryDirectory(prefix="storytrace-fuzz-corpus-") as scratch:
        tmp = str(args.corpus or scratch)
        # --parallel N: N targets fuzz at once (on a shared machine each gets a share of the CPU; say so).
        for i in range(0, len(targets), args.parallel):
            group = targets[i : i + args.parallel]
            wall = args.cpu_seconds * 50 if args.cpu_seconds else args.seconds
            runs = {t: start_target(t, wall, Path(tmp), args.artifacts, args.timeout, args.cpu_seconds) for t in group}
            stop_at_cpu_budget(list(runs.values()))
            for target in group:
                figures[target] = finish_target(target, runs[target], args.artifacts)
                f = figures[target]
                print(f"{target}: {f['runs']} runs in {f['seconds']} s ({f['cpu_seconds']} s CPU, "
                      f"load {f['load_average']:.1f}), cov {f['coverage']}, crashes {f['crashes_or_hangs']}",
                      file=sys.stderr, flush=True)
                print(json.dumps({target: f}), file=sys.stderr, flush=True)
    print(json.dumps(figures, indent=None if args.json else 2))
    return 1 if any(f["crashes_or_hangs"] or f["exit_code"] for f in figures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
