"""The distributed back end: the per-article pipeline as a Spark job, and loading its output into a store.

Two phases, one set of functions. Phase 1 (``scale.spark.analyze``, on a cluster or ``local[N]``): read,
prepare, de-duplicate by content, pick per-outlet boilerplate, run the per-article stages and the
near-duplicate grouping; write Parquet. Phase 2 (``scale.load.load``, on one machine): load the Parquet
into the SQLite store; ``storytrace analyze`` then finds the per-article results up to date and runs the
remaining corpus stages (actors, variants, stories, timeline, ...) over the store, streaming.
"""

from __future__ import annotations
