"""The Spark engine's pure parts, without Spark: line ranges of JSON Lines inputs, task spans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storytrace.ingest.readers import iter_documents
from storytrace.model import ItemError
from storytrace.scale import spark
from storytrace.settings import Settings


def _lines_file(folder: Path) -> Path:
    rows = [json.dumps({"text": f"Article {n} says something about item {n}.", "title": f"T{n}"}).encode()
            for n in range(40)]
    rows[5] = b"{not json"
    rows[9] = b""  # a blank line: no document, but it is counted
    rows[14] = json.dumps({"text": "caf\u00e9 " * 5}).encode("latin-1", "replace")  # not UTF-8
    rows[20] = json.dumps({"text": "x" * 5000}).encode()  # over the document limit below
    rows[33] = b"  \r"
    path = folder / "in.jsonl"
    path.write_bytes(b"\n".join(rows).replace(b"T3\"}", b"T3\"}\r") + b"\n")
    return path


def _as_rows(docs: list[object]) -> list[tuple[object, ...]]:
    out = []
    for d in docs:
        if isinstance(d, ItemError):
            out.append(("error", d.source_path, d.record, d.code, d.message))
        else:
            out.append(("doc", d.source_path, d.record, d.text, d.source_sha256, d.encoding, repr(d.given)))
    return out


@pytest.mark.parametrize("parts", [1, 2, 3, 7, 40, 100])
def test_line_ranges_read_the_records_the_local_reader_reads(tmp_path: Path, parts: int) -> None:
    path = _lines_file(tmp_path)
    settings = Settings(max_document_bytes=2000)
    ranges = spark.line_ranges(str(path), parts)
    assert ranges is not None and 1 <= len(ranges) <= parts
    data = path.read_bytes()
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (start, end, first), nxt in zip(ranges, [*ranges[1:], None], strict=True):
        assert start == 0 or data[start - 1 : start] == b"\n"  # every range starts a line
        assert first == data[:start].count(b"\n") + 1
        assert nxt is None or nxt[0] == end
    whole = list(iter_documents([str(path)], settings=settings))
    split = [doc for part in ranges for _order, doc in spark._read_range(0, str(path), part, settings)]
    assert _as_rows(split) == _as_rows(whole)
    assert {"E107", "E104"} <= {d.code for d in whole if isinstance(d, ItemError)}


def test_a_range_that_would_start_on_binary_content_leaves_the_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"text": "one two three"}\n' * 50 + b"\x00\x01\x02binary\n" + b'{"text": "more"}\n' * 50)
    assert spark.line_ranges(str(path), 101) is None  # a range per line: one starts on the binary line
    assert spark.line_ranges(str(path), 1) == [(0, path.stat().st_size, 1)]


def test_parallelism_counts_tasks_that_ran_at_once() -> None:
    spans = [("read", 1, 0.0, 1.0, 10), ("prepare", 1, 0.0, 4.0, 10), ("prepare", 2, 1.0, 5.0, 10),
             ("prepare", 1, 5.0, 6.0, 3), ("analyze", 1, 0.0, 2.0, 5), ("analyze", 1, 2.0, 4.0, 5)]
    found = spark.parallelism(spans)
    assert found["prepare"] == {"tasks": 3, "processes": 2, "items": 23, "busy_s": 9.0, "span_s": 6.0,
                                "concurrency": 1.5, "most_at_once": 2}
    assert found["analyze"]["most_at_once"] == 1 and found["analyze"]["concurrency"] == 1.0  # one after another
    assert found["read"]["tasks"] == 1


def test_a_bench_run_in_a_work_folder_resumes_and_sums_its_sittings(tmp_path: Path) -> None:
    """`bench scale --work`: a later run continues the stored job; its figures add the sittings up."""
    from storytrace.bench import scale
    from storytrace.store import Store
    from tests.conftest import require_data

    data = require_data()
    work = tmp_path / "scale"
    first = scale.run(data, sizes=[40], engines=["local1"], stages=["profile"], work_dir=work)["runs"]["40"]["local1"]
    assert first["sittings"] == 1 and first["articles"] > 30 and "failed" not in first
    # a sitting killed before it finished (only its running note is left) still counts
    (work / "local1-40" / "sitting-2.json").write_text(json.dumps({"wall_s": 100.0, "peak_rss_mb": 9999,
                                                                   "finished": False}))
    second = scale.run(data, sizes=[40], engines=["local1"], stages=["profile"], work_dir=work)["runs"]["40"]["local1"]
    assert second["sittings"] == 3 and second["articles"] == 0  # nothing new to ingest: the store was kept
    assert second["wall_s"] == pytest.approx(first["wall_s"] + 100.0 + second["this_sitting"]["wall_s"], abs=0.2)
    assert second["peak_rss_mb"] == 9999
    assert second["articles_per_s"] == pytest.approx(40 / second["wall_s"], abs=0.01)
    with Store(work / "local1-40" / "bench.db", readonly=True) as store:
        assert store.count_articles() == first["articles"]
