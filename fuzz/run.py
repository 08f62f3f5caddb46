"""Run every fuzz target of fuzz_ingest.py for a bounded time and report runs, coverage and crashes.

    nice -n 10 .venv/bin/python fuzz/run.py --seconds 600 --json > fuzz-figures.json

Each target starts from seed files (the test fixtures of its format) copied into a scratch corpus;
crash and timeout inputs that libFuzzer writes are kept in --artifacts for triage and regression tests.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def run_target(target: str, seconds: int, work: Path, artifacts: Path) -> dict[str, object]:
    corpus = work / target
    seeds = seed(target, corpus)
    prefix = artifacts / f"{target}-"
    cmd = [sys.executable, str(HERE / "fuzz_ingest.py"), f"--target={target}", f"-max_total_time={seconds}",
           "-timeout=30", "-rss_limit_mb=3072", "-max_len=65536", f"-artifact_prefix={prefix}",
           "-print_final_stats=1", str(corpus)]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    log = done.stderr
    runs = cov = ft = 0
    for m in STATS.finditer(log):
        runs, cov, ft = int(m.group(1)), int(m.group(2)), int(m.group(3))
    final = re.search(r"stat::number_of_executed_units:\s*(\d+)", log)
    if final:
        runs = int(final.group(1))
    found = sorted(p.name for p in artifacts.glob(f"{target}-*"))
    return {"runs": runs, "seconds": round(time.perf_counter() - started, 1), "coverage": cov, "features": ft,
            "seed_files": seeds, "exit_code": done.returncode, "crashes_or_hangs": found,
            "error": None if done.returncode == 0 else log[-1500:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="Fuzzing time per target.")
    parser.add_argument("--targets", default=",".join(SEEDS), help="Comma-separated targets.")
    parser.add_argument("--artifacts", type=Path, default=HERE / "artifacts")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.artifacts.mkdir(parents=True, exist_ok=True)
    figures = {}
    with tempfile.TemporaryDirectory(prefix="storytrace-fuzz-corpus-") as tmp:
        for target in args.targets.split(","):
            figures[target] = run_target(target, args.seconds, Path(tmp), args.artifacts)
            print(f"{target}: {figures[target]['runs']} runs in {figures[target]['seconds']} s, "
                  f"cov {figures[target]['coverage']}, crashes {figures[target]['crashes_or_hangs']}",
                  file=sys.stderr, flush=True)
    print(json.dumps(figures, indent=None if args.json else 2))
    return 1 if any(f["crashes_or_hangs"] or f["exit_code"] for f in figures.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
