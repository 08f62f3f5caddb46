"""Load a Spark engine's Parquet output into the SQLite store, batch by batch, safely re-runnable.

Articles go in through ``Store.add_article`` (so sources, duplicates and boilerplate line counts are
recorded as a local ingest records them), stage results with the input keys the Spark job computed, and
ingest errors under this run. Each batch is one transaction: an interrupted load keeps its finished
batches, and running it again skips what is already stored (sources with the same bytes are
"unchanged"; stage results are replaced by identical ones). The boilerplate refresh of a local ingest
runs afterwards; it changes nothing when the Spark job saw the whole corpus.

Corpus results computed on Spark (near-duplicates) are stored only when the store then holds exactly the
articles of this output: they describe that corpus and no other. Otherwise the local engine recomputes
them on the next ``storytrace analyze``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storytrace.errors import InputError
from storytrace.model import StageOutput
from storytrace.scale import records as rec
from storytrace.settings import Settings
from storytrace.store import Store

TABLES = ("articles", "stage_results", "errors", "corpus_records", "corpus_results")


@dataclass
class LoadCounts:
    added: int = 0
    duplicates: int = 0
    unchanged: int = 0
    updated: int = 0
    stage_results: int = 0
    errors: int = 0
    recleaned: int = 0
    corpus: dict[str, str] = field(default_factory=dict)  # corpus stage -> "loaded" or why it was not

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _files(folder: Path, table: str) -> list[Path]:
    """A table's Parquet files in part order (Spark names them part-00000-..., in row order)."""
    return sorted((folder / table).glob("*.parquet"))


def _rows(folder: Path, table: str, batch: int) -> Iterator[list[dict[str, Any]]]:
    import pyarrow.parquet as pq

    for path in _files(folder, table):
        for chunk in pq.ParquetFile(path).iter_batches(batch_size=batch):
            yield chunk.to_pylist()


def check(folder: Path) -> None:
    """Raise a clear error unless ``folder`` is a Spark engine output."""
    missing = [t for t in ("articles", "stage_results", "errors") if not (folder / t).is_dir()]
    if missing:
        raise InputError(f"{folder} is not a storytrace Spark output (no {', '.join(missing)} folder); "
                         "make one with 'storytrace analyze --engine spark --input ... --output DIR'", code="E115")


def load(store: Store, folder: str | Path, *, settings: Settings, run_id: int) -> LoadCounts:
    """Load every table of a Spark output folder into ``store``."""
    from storytrace.ingest.pipeline import refresh_boilerplate
    from storytrace.runner import corpus_input_key
    from storytrace.stages import CORPUS_STAGES

    root = Path(folder)
    check(root)
    counts = LoadCounts()
    before = store.outlet_boilerplate(min_articles=settings.boilerplate_min_articles,
                                      min_share=settings.boilerplate_min_share)
    size = max(settings.batch_size, 256)
    ids = 0
    for rows in _rows(root, "articles", size):
        with store.transaction() as conn:
            for row in rows:
                article, sources, line_keys = rec.article_from_row(row)
                ids += 1
                for n, source in enumerate(sources):
                    outcome = store.add_article(conn, article, source=source,
                                                line_keys=line_keys if n == 0 else (), run_id=run_id)
                    name = {"duplicate": "duplicates"}.get(outcome, outcome)
                    setattr(counts, name, getattr(counts, name) + 1)
    for rows in _rows(root, "stage_results", size):
        with store.transaction() as conn:
            done = []
            for row in rows:
                result = rec.stage_from_row(row)
                if isinstance(result, StageOutput):
                    done.append((result, row["input_key"]))
                else:
                    store.save_stage_error(conn, result[0], result[1], row["input_key"], result[2], run_id=run_id)
            store.save_stage_outputs(conn, done, run_id=run_id)
            counts.stage_results += len(rows)
    errors = [rec.error_from_row(r) for rows in _rows(root, "errors", size) for r in rows]
    if errors:
        store.record_errors(run_id, errors)
    counts.errors = len(errors)
    counts.recleaned = refresh_boilerplate(store, before=before, settings=settings)

    whole = store.count_articles() == ids and counts.recleaned == 0
    for rows in _rows(root, "corpus_results", size) if (root / "corpus_results").is_dir() else ():
        for row in rows:
            stage = CORPUS_STAGES.get(row["stage"])
            if stage is None:
                counts.corpus[row["stage"]] = "not a known corpus stage: skipped"
                continue
            if not whole:
                counts.corpus[stage.name] = "the store holds other articles too: recomputed by the next analyze"
                continue
            store.save_corpus_result(stage.name, corpus_input_key(store, stage, settings), json.loads(row["summary"]),
                                     run_id=run_id, records=_corpus_records(root, stage.name, size))
            counts.corpus[stage.name] = "loaded"
    return counts


def _corpus_records(root: Path, stage: str, size: int) -> Iterator[tuple[str, str | None, Any]]:
    """A corpus stage's records in the order the Spark job made them (small: groups, not articles)."""
    found = [r for rows in _rows(root, "corpus_records", size) for r in rows if r["stage"] == stage]
    found.sort(key=lambda r: r["seq"])
    for r in found:
        yield r["key"], r["article_id"], json.loads(r["payload"])
