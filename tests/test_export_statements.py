"""Statement-level exports from a real analyzed store: one row per quotation (CSV, JSONL, Parquet), DNA rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq

from storytrace import Corpus
from storytrace.export.statements import COLUMNS


def test_quotation_tables_have_the_same_rows_and_columns_in_every_format(web_store: Path, tmp_path: Path) -> None:
    with Corpus(web_store, readonly=True) as corpus:
        for fmt in ("csv", "jsonl", "parquet"):
            corpus.export(tmp_path / f"quotes.{fmt}", format=f"quotes-{fmt}")
        stored = list(corpus.quotes())
        with (tmp_path / "quotes.csv").open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            from_csv = list(reader)
            assert reader.fieldnames == COLUMNS
        from_jsonl = [json.loads(line) for line in (tmp_path / "quotes.jsonl").read_text(encoding="utf-8").splitlines()]
        table = pq.read_table(tmp_path / "quotes.parquet")
        assert table.column_names == COLUMNS and all(list(r) == COLUMNS for r in from_jsonl)
        assert len(from_csv) == len(from_jsonl) == table.num_rows == len(stored) > 0
        assert "storytrace_manifest" in {k.decode() for k in table.schema.metadata}
        for fmt in ("csv", "jsonl", "parquet"):
            assert (tmp_path / f"quotes.{fmt}.manifest.json").exists()
        from_parquet = table.to_pylist()
        assert [r["statement_id"] for r in from_parquet] == [r["statement_id"] for r in from_jsonl] \
            == [r["statement_id"] for r in from_csv]
        for row, flat in zip(from_jsonl, from_csv, strict=True):
            # Every row's offsets select its text in the article's raw text, in every format.
            raw = corpus.article(row["article_id"]).raw_text
            assert raw[row["start"]:row["end"]] == row["text"] == flat["text"]
            assert int(flat["start"]) == row["start"] and 0 < row["confidence"] <= 1
            if row["source_start"] is not None:
                assert raw[row["source_start"]:row["source_end"]] == row["source"]
    mccluskey = [r for r in from_parquet if r["actor_id"] == "len-mccluskey"]
    assert mccluskey and {r["actor"] for r in mccluskey} == {"Len McCluskey"}
    assert len({r["outlet"] for r in mccluskey if r["outlet"]}) >= 2
    assert {r["actor_match"] for r in from_parquet if r["actor_id"]} <= {"mention", "name"}


def test_dna_has_one_row_per_stance_statement_with_offsets(web_store: Path, tmp_path: Path) -> None:
    out = tmp_path / "dna.csv"
    with Corpus(web_store, readonly=True) as corpus:
        corpus.export(out, format="dna")
        statements = list(corpus.stance_statements())
        with out.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == len(statements) > 0
        for row in rows:
            raw = corpus.article(row["article_id"]).raw_text
            start, end = int(row["start"]), int(row["end"])
            assert 0 <= start < end <= len(raw) and raw[start:end] == row["text"]
            assert row["person"] or row["organisation"]
