"""Both engines give the same records: the local engine over a store, and the Spark job loaded into one."""

from __future__ import annotations

import json
import random
import re
import sqlite3
from pathlib import Path

import pytest

from storytrace import Corpus
from storytrace.settings import Settings
from tests.conftest import EXAMPLES, require_data

pyspark = pytest.importorskip("pyspark")

STAGES = ["profile", "dates", "facts", "quotes", "duplicates", "variants"]


def _second_look_texts() -> list[str]:
    """Texts whose grouping needs the duplicates stage's second look (``duplicates.rescue``): a copy wrapped
    in furniture other texts repeat (rescued), and a follow-up reusing background paragraphs, syndicated
    four times (grouped with its own copies, not with the original)."""
    rng = random.Random(7)

    def words(n: int) -> list[str]:
        return [f"w{rng.randrange(10**6)}" for _ in range(n)]

    original = words(200)
    junk = [" ".join(words(30)) for _ in range(4)]
    texts = [" ".join(original)]
    texts += [" ".join(words(200)) + "\n" + "\n".join(junk) for _ in range(5)]
    texts.append("\n".join(junk[:2]) + "\n" + " ".join(original[:100]) + "\n" + "\n".join(junk[2:]))
    follow = " ".join(words(60) + original[60:160] + words(60))
    return texts + [follow] + [follow + f" via{n}" for n in range(4)]


def _input(folder: Path) -> Path:
    """The seed articles as JSON Lines, plus an exact copy, a truncated near-copy, a malformed line and texts
    for the duplicates stage's second look."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
    lines = [json.dumps({"text": t, "url": f"https://example.org/{n}"}) for n, t in enumerate(texts)]
    lines.append(json.dumps({"text": texts[0], "title": "A copy"}))
    lines.append(json.dumps({"text": texts[1][: len(texts[1]) * 4 // 5] + "\nRead more on our site."}))
    lines.append("{not json")
    lines += [json.dumps({"text": t}) for t in _second_look_texts()]
    path = folder / "seeds.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _tables(db: Path) -> dict[str, list[tuple[object, ...]]]:
    """The records both engines must agree on (run ids and timestamps aside)."""
    conn = sqlite3.connect(db)
    queries = {
        "articles": "SELECT num, id, format, raw_text, clean_text, clean_hash, segments, title, outlet, author, "
                    "published, url, meta, words FROM articles ORDER BY num",
        "sources": "SELECT path, record, sha256, article_id FROM sources ORDER BY path, record",
        "removed": "SELECT article_id, start, end, reason, text FROM removed_lines ORDER BY article_id, start",
        "line_counts": "SELECT outlet, key, n FROM line_counts ORDER BY outlet, key",
        "stage_results": "SELECT article_id, stage, input_key, status, payload, summary, error FROM stage_results "
                         "ORDER BY article_id, stage",
        "corpus_records": "SELECT stage, key, article_id, payload FROM corpus_records ORDER BY rowid",
        "corpus_results": "SELECT stage, input_key, payload FROM corpus_results ORDER BY stage",
        "errors": "SELECT path, record, code, message FROM ingest_errors ORDER BY path, record",
    }
    try:
        return {name: conn.execute(sql).fetchall() for name, sql in queries.items()}
    finally:
        conn.close()


@pytest.mark.slow
def test_spark_and_local_engines_store_the_same_records(tmp_path, monkeypatch):
    from storytrace.scale import spark as engine
    from storytrace.scale.spark import analyze as spark_analyze
    from storytrace.scale.spark import session

    source = _input(tmp_path)
    # Read the input in line ranges (one task each), as big JSON Lines inputs are read.
    monkeypatch.setattr(engine, "SPLIT_BYTES", source.stat().st_size // 8)
    settings = Settings(db=tmp_path / "local.db", progress=False, quote_parse=False)

    with Corpus(settings=settings) as local:
        local.ingest([str(source)])
        counts = local.analyze(STAGES)
    assert counts.stages["quotes"].done == 18 and counts.stages["duplicates"].done == 1

    spark = session("local[2]")
    try:
        report = spark_analyze([str(source)], tmp_path / "out", settings=settings, stages=STAGES)
    finally:
        spark.stop()
    assert (report.documents, report.articles, report.duplicates, report.errors) == (19, 18, 1, 1)
    # Three groups: the seed and its near-copy, the original and its copy wrapped in furniture (found by
    # the second look only), the follow-up and its four copies (kept apart from the original).
    assert report.stages["quotes"]["done"] == 18 and report.stages["duplicates"]["groups"] == 3
    assert report.parallel["read"]["tasks"] == 4 and report.parallel["prepare"]["tasks"] == 4

    spark_settings = settings.replace(db=tmp_path / "spark.db")
    with Corpus(settings=spark_settings) as loaded:
        first = loaded.load(tmp_path / "out")
        assert (first.added, first.duplicates, first.errors) == (18, 1, 1)
        assert first.corpus == {"duplicates": "loaded", "variants": "loaded"}
        # Every result is already up to date for the local engine: nothing re-runs.
        again = loaded.analyze(STAGES)
        assert all(c.done == 0 and c.errors == 0 for c in again.stages.values()), again.as_dict()
        assert again.stages["quotes"].fresh == 18 and again.stages["duplicates"].fresh == 1
        assert again.stages["variants"].fresh == 1

    local_tables, spark_tables = _tables(tmp_path / "local.db"), _tables(tmp_path / "spark.db")
    for name, rows in local_tables.items():
        assert spark_tables[name] == rows, f"{name} differs between the engines"
    assert {r[0] for r in local_tables["corpus_records"]} == {"duplicates", "variants"}

    # Loading again changes nothing and duplicates nothing.
    with Corpus(settings=spark_settings) as loaded:
        second = loaded.load(tmp_path / "out")
    assert (second.added, second.unchanged) == (0, 19)
    assert _tables(tmp_path / "spark.db") == {**spark_tables, "errors": spark_tables["errors"] * 2}


def _reuters_slice(folder: Path, size: int) -> Path:
    bodies: list[str] = []
    for f in sorted(require_data("reuters21578").glob("reut2-*.sgm")):
        bodies += re.findall(r"<BODY>(.*?)</BODY>", f.read_bytes().decode("latin-1"), re.S)
        if len(bodies) >= size:
            break
    path = folder / "reuters.jsonl"
    path.write_text("".join(json.dumps({"text": b}) + "\n" for b in bodies[:size]), encoding="utf-8")
    return path


@pytest.mark.slow
def test_spark_finds_the_local_duplicate_groups_on_a_reuters_slice_two_tasks_at_once(tmp_path, monkeypatch):
    """Reuters bodies: many near-copies and borderline pairs (templates, corrections, follow-ups); the
    groups must be the local stage's. On local[2] the heavy phases run two tasks at the same moment."""
    from storytrace.scale import spark as engine
    from storytrace.scale.spark import analyze as spark_analyze
    from storytrace.scale.spark import session

    source = _reuters_slice(tmp_path, 1500)
    monkeypatch.setattr(engine, "SPLIT_BYTES", source.stat().st_size // 8)  # read in ranges, as a big file is
    settings = Settings(db=tmp_path / "local.db", progress=False)
    stages = ["profile", "duplicates"]
    with Corpus(settings=settings) as local:
        local.ingest([str(source)])
        local.analyze(stages)
        expected = local.store.corpus_records("duplicates")
        summary = local.store.corpus_result("duplicates")[1]
    assert summary["groups"] >= 40

    spark = session("local[2]")
    try:
        report = spark_analyze([str(source)], tmp_path / "out", settings=settings, stages=stages)
    finally:
        spark.stop()
    with Corpus(settings=settings.replace(db=tmp_path / "spark.db")) as loaded:
        assert loaded.load(tmp_path / "out").corpus == {"duplicates": "loaded"}
        assert loaded.store.corpus_records("duplicates") == expected
        assert loaded.store.corpus_result("duplicates")[1] == summary
    assert report.parallel["read"]["tasks"] == 4 and report.parallel["prepare"]["tasks"] == 4
    for phase in ("read", "prepare", "analyze"):  # wall-clock overlap: holds on a busy machine too
        assert report.parallel[phase]["processes"] >= 2 and report.parallel[phase]["most_at_once"] == 2, report.parallel


def test_inputs_are_listed_as_the_local_readers_list_them(tmp_path):
    from storytrace.scale.spark import input_files

    (tmp_path / "a").mkdir()
    for name in ("a/2.txt", "a/1.jsonl", "a/x.parquet", "a/1.meta.json", "a/.hidden.txt", "a/_SUCCESS"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    files, errors = input_files([str(tmp_path / "a"), str(tmp_path / "missing.jsonl")])
    assert files == [("file", str(tmp_path / "a" / "1.jsonl")), ("file", str(tmp_path / "a" / "2.txt")),
                     ("parquet", str(tmp_path / "a" / "x.parquet"))]
    assert [e.code for e in errors] == ["E101"]


def test_a_parquet_row_is_read_like_a_json_record():
    import datetime

    from storytrace.model import ItemError, RawDocument
    from storytrace.scale.spark import _read_row

    order, doc = _read_row(2, "in.parquet", {"body": "Text here.", "date": datetime.date(2016, 7, 4)}, 3)
    assert order == (2, 3) and isinstance(doc, RawDocument)
    assert (doc.record, doc.text, doc.given["published"]) == ("row 3", "Text here.", "2016-07-04")
    _order, bad = _read_row(2, "in.parquet", {"title": "no text"}, 4)
    assert isinstance(bad, ItemError) and bad.code == "E112" and bad.record == "row 4"


def _write_table(folder: Path, columns: tuple[tuple[str, str], ...], rows: list[tuple[object, ...]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True)
    types = {"string": pa.string(), "long": pa.int64()}
    schema = pa.schema([(name, types[kind]) for name, kind in columns])
    table = pa.Table.from_pylist([dict(zip([c for c, _k in columns], r, strict=True)) for r in rows], schema=schema)
    pq.write_table(table, folder / "part-00000.parquet")


def test_load_command_brings_an_engine_output_into_the_store_and_can_run_again(tmp_path):
    """`storytrace load` on Parquet tables as the Spark job writes them (made here without Spark)."""
    from click.testing import CliRunner

    from storytrace.cli import main
    from storytrace.ingest.pipeline import prepare
    from storytrace.model import ItemError, RawDocument
    from storytrace.runner import input_key
    from storytrace.scale import records as rec
    from storytrace.stages import STAGES
    from storytrace.store import clean_hash

    settings = Settings(progress=False)
    text = (EXAMPLES / sorted(p.name for p in EXAMPLES.glob("*.txt"))[0]).read_text(encoding="utf-8")
    prepared = prepare(RawDocument("in.jsonl", "line 1", text, format="jsonl", source_sha256="ab"),
                       boilerplate={}, settings=settings)
    article = prepared.article
    result = STAGES["profile"].run(article, {}, settings)
    key = input_key(STAGES["profile"], clean_hash(article.clean.text), settings)
    out = tmp_path / "out"
    _write_table(out / "articles", rec.ARTICLE_COLUMNS,
                 [rec.article_row(article, num=0, sources=[prepared.source], line_keys=prepared.line_keys)])
    _write_table(out / "stage_results", rec.STAGE_COLUMNS, [rec.stage_row(result, key)])
    _write_table(out / "errors", rec.ERROR_COLUMNS, [rec.error_row(ItemError("in.jsonl", "line 2", "bad", "E107"))])

    runner = CliRunner()
    args = ["--db", str(tmp_path / "s.db"), "--no-progress"]
    first = runner.invoke(main, [*args, "load", str(out)], catch_exceptions=False)
    assert first.exit_code == 0 and "loaded: 1 new" in first.output and "1 stage results" in first.output
    second = runner.invoke(main, [*args, "load", str(out)], catch_exceptions=False)
    assert "loaded: 0 new, 0 duplicate content, 1 unchanged" in second.output
    analyzed = runner.invoke(main, [*args, "analyze", "--stage", "profile"], catch_exceptions=False)
    assert "profile: 0 done, 1 already up to date" in analyzed.output
    not_output = runner.invoke(main, [*args, "load", str(tmp_path)])
    assert not_output.exit_code == 1 and "not a storytrace Spark output" in not_output.output
