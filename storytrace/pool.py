"""The process pool the ingest and analysis runners share.

Workers are forked where the platform can fork (Linux): they start with everything the parent has
imported (trafilatura, lxml, spaCy), where spawned workers import it all again. That import is paid per
worker and per run: on the 181-page HTML ingest benchmark a spawned pool did 24.6 pages/s with 2 jobs and
a forked one 35-39 (``docs/benchmarks.md``). Asking for fork explicitly also keeps the figure the same
when storytrace runs inside a spawned process (the benchmarks' measuring child, where the default start
method is inherited as spawn) and when Python's default changes (3.14 makes it forkserver). Workers only
compute: they never write to the store or the terminal, so forking a parent that holds a progress bar's
thread is safe here. Elsewhere (macOS, Windows) the platform default is used.

One thing a forked child cannot inherit is a running OpenMP team: torch (GNU OpenMP) hangs a child forever at its
first parallel operator when the parent had already run one on several threads (session 15 traced the accurate
pipeline's hang to ``gomp_team_barrier_wait_end`` in ``index_select``: a training checkpoint, loaded without the
one-thread setting). So each worker of a parent that has imported torch asks torch for one thread first, as the
pipelines do in the parent.
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor


def process_pool(jobs: int) -> ProcessPoolExecutor | None:
    """A pool of ``jobs`` worker processes, or None when ``jobs`` is 1 (work then runs in this process)."""
    if jobs <= 1:
        return None
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context(method),
                               initializer=_one_torch_thread if "torch" in sys.modules else None)


def _one_torch_thread() -> None:
    """In a forked worker: torch on one thread, so no operator waits for OpenMP threads the fork left behind."""
    import torch

    torch.set_num_threads(1)
