"""The command line on the sample articles, through click's runner and a real store."""

from __future__ import annotations

import json
import re

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from storytrace.cli import EXIT_PARTIAL, main
from tests.conftest import EXAMPLES, FIXTURES


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()
    db = str(tmp_path / "cli.db")

    def invoke(*args: str, code: int = 0) -> str:
        result = runner.invoke(main, ["--db", db, "--no-progress", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    return invoke


def test_ingest_analyze_list_show_report_export(run, tmp_path):
    out = run("ingest", str(EXAMPLES))
    assert "5 new" in out and "0 failed" in out
    assert "5 unchanged" in run("ingest", str(EXAMPLES))
    out = run("analyze", "--stage", "profile")
    assert "profile: 5 done" in out
    listing = run("articles", "--format", "jsonl")
    rows = [json.loads(line) for line in listing.splitlines()]
    assert len(rows) == 5
    independent = next(r for r in rows if r["outlet"] == "The Independent")
    assert independent["published"].startswith("2016-07-04") and independent["published_source"] == "dateline"
    shown = run("show", str(independent["num"]))
    assert "[removed: " in shown and "Caroline Mortimer" in shown
    md = run("report")
    assert "# storytrace corpus report" in md and "The Independent" in md
    html = run("report", "--html")
    assert html.startswith("<!doctype html>") and "<script" not in html
    data = json.loads(run("report", "--json"))
    assert data["articles"] == 5 and data["stages"]["profile"]["done"] == 5
    for fmt in ("jsonl", "csv", "parquet"):
        target = tmp_path / f"articles.{fmt}"
        run("export", "--format", fmt, "-o", str(target))
        assert target.exists() and (tmp_path / f"articles.{fmt}.manifest.json").exists()
    table = pq.read_table(tmp_path / "articles.parquet")
    assert table.num_rows == 5 and "storytrace_manifest" in {k.decode() for k in table.schema.metadata}
    assert re.search(r"\[political lynching\]", run("search", '"political lynching"'))


def test_partial_failure_exit_code_and_clear_errors(run):
    out = run("ingest", str(FIXTURES / "bad"), code=EXIT_PARTIAL)
    assert "error:" in out


def test_unknown_article_and_bad_search_are_clean_errors(run):
    run("ingest", str(EXAMPLES))
    assert "no article" in run("show", "zzzz", code=1)
    assert "cannot search" in run("search", '"unbalanced', code=1)


def test_every_command_has_an_example_in_its_help(run):
    def walk(group, prefix=()):
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):
                yield from walk(cmd, (*prefix, name))
            else:
                yield (*prefix, name)

    for path in walk(main):
        assert "Example:" in run(*path, "--help"), f"{' '.join(path)} --help lacks an example"


def test_quotes_command_rows_carry_offsets_into_the_raw_text(run):
    run("ingest", str(EXAMPLES))
    assert "no quotations stored yet" in run("quotes", code=1)
    run("analyze", "--stage", "quotes")
    rows = [json.loads(line) for line in run("quotes", "--speaker", "mccluskey", "--format", "jsonl").splitlines()]
    assert rows and all(r["speaker"] == "Len McCluskey" for r in rows)
    assert len({r["article_id"] for r in rows}) >= 3  # the utterance travelled across outlets
    raw = {}
    for r in rows:
        if r["article_id"] not in raw:
            raw[r["article_id"]] = json.loads(run("show", r["article_id"], "--format", "json"))["raw_text"]
        text = raw[r["article_id"]]
        assert text[r["content_start"]:r["content_end"]] == r["content"]
        assert r["source_path"].endswith(".txt") and 0 <= r["confidence"] <= 1
        for start, end in r["content_spans"]:
            assert r["content_start"] <= start < end <= r["content_end"]
    table = run("quotes", "--article", rows[0]["article_id"])
    assert rows[0]["article_id"][:8] in table


def test_quote_tagger_option_reruns_the_quotes_stage_and_keeps_raw_offsets(run):
    from storytrace.nlp import quotetagger

    if (why := quotetagger.unavailable()) is not None:
        pytest.skip(why)
    run("ingest", str(EXAMPLES))
    run("analyze", "--stage", "quotes")
    plain = [json.loads(line) for line in run("quotes", "--format", "jsonl").splitlines()]
    assert "quotes: 5 done" in run("analyze", "--stage", "quotes", "--quote-tagger")  # its settings changed
    tagged = [json.loads(line) for line in run("quotes", "--format", "jsonl").splitlines()]
    assert len(tagged) > len(plain)
    raw = {a: json.loads(run("show", a, "--format", "json"))["raw_text"] for a in {r["article_id"] for r in tagged}}
    for r in tagged:
        assert raw[r["article_id"]][r["content_start"]:r["content_end"]] == r["content"]
        assert 0 <= r["confidence"] <= 1
    assert "5 already up to date" in run("analyze", "--stage", "quotes", "--quote-tagger")


def test_nlp_model_option_reruns_entities_and_quotes_on_the_accurate_pipeline(run, tmp_path, monkeypatch):
    from storytrace.nlp.pipeline import unavailable

    if (why := unavailable("accurate")) is not None:
        pytest.skip(why)
    assert "missing" in run("analyze", "--nlp-model", str(tmp_path / "nowhere"), code=2)
    monkeypatch.setenv("STORYTRACE_NLP_MODEL", str(tmp_path / "elsewhere"))
    assert "elsewhere" in run("analyze", code=2)
    monkeypatch.delenv("STORYTRACE_NLP_MODEL")
    run("ingest", str(EXAMPLES))
    run("analyze", "--stage", "entities", "--stage", "quotes")
    fast = [json.loads(line) for line in run("quotes", "--format", "jsonl").splitlines()]
    out = run("analyze", "--stage", "entities", "--stage", "quotes", "--nlp-model", "accurate")
    assert "entities: 5 done" in out and "quotes: 5 done" in out  # another pipeline: both stale
    accurate = [json.loads(line) for line in run("quotes", "--format", "jsonl").splitlines()]
    assert abs(len(accurate) - len(fast)) <= len(fast) // 5  # the parse layer's frames differ, the rules do not
    raw = {a: json.loads(run("show", a, "--format", "json"))["raw_text"] for a in {r["article_id"] for r in accurate}}
    for r in accurate:
        assert raw[r["article_id"]][r["content_start"]:r["content_end"]] == r["content"]
    assert any(r["speaker"] == "Len McCluskey" and "stronger" in r["content"] for r in accurate)
    again = run("analyze", "--stage", "entities", "--stage", "quotes", "--nlp-model", "accurate")
    assert "entities: 0 done, 5 already up to date" in again and "quotes: 0 done, 5 already up to date" in again


def test_variants_and_duplicates_commands(run):
    run("ingest", str(EXAMPLES))
    assert "run 'storytrace analyze' first" in run("quotes", "--variants", code=1)
    run("analyze", "--stage", "variants", "--stage", "duplicates")
    table = run("quotes", "--variants", "--speaker", "McCluskey")
    assert "stronger → sterner" in table and "stand → step" in table
    rows = [json.loads(line) for line in run("quotes", "--variants", "--format", "jsonl").splitlines()]
    assert {"group", "article_id", "text", "flags", "canonical"} <= set(rows[0])
    assert "no near-duplicate articles found" in run("duplicates")


def test_every_command_is_in_the_readme():
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"storytrace {name}" in readme, f"'storytrace {name}' is not documented in README.md"
