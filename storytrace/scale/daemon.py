"""The PySpark daemon for storytrace jobs: import the pipeline once, then fork Python workers from it.

PySpark starts its Python workers by forking a daemon process (``pyspark.daemon``). By default the
daemon has imported nothing of storytrace, so every worker imports the pipeline itself on its first task
(``storytrace`` pulls in numpy, scipy through datasketch, lxml, trafilatura: 2-10 s of a 1k-article
job's 12-17 s phases, paid again by each worker and counted as task time). The session sets
``spark.python.daemon.module`` to this module, so the imports are paid once, before the first fork, and
each worker starts with them, as the local engine's forked pool does (``storytrace/pool.py``).
Nothing here may start a thread or print to standard output (the daemon reports its port there).
"""

from __future__ import annotations


def preload() -> None:
    """Import what the job's tasks run (reading, preparing, the stage runner, the corpus steps)."""
    import storytrace.ingest.pipeline  # noqa: F401
    import storytrace.ingest.readers  # noqa: F401
    import storytrace.resolve.duplicates  # noqa: F401
    import storytrace.resolve.variants  # noqa: F401
    import storytrace.runner  # noqa: F401
    import storytrace.scale.spark  # noqa: F401
    import storytrace.store  # noqa: F401


if __name__ == "__main__":
    preload()
    from pyspark import daemon

    daemon.manager()
