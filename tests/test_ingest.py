"""End-to-end ingest into a real SQLite store, on real article text."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storytrace.corpus import Corpus
from storytrace.settings import Settings
from tests.conftest import EXAMPLES, FIXTURES

SENTENCE_END = re.compile(r"[.!?:][”\"’]?\s*$")


def body_sentences(text: str) -> list[str]:
    """Lines of a seed that are clearly article prose: long and ending like a sentence."""
    return [line.strip() for line in text.splitlines() if len(line.split()) >= 12 and SENTENCE_END.search(line)]


@pytest.fixture
def corpus(tmp_path):
    with Corpus(settings=Settings(db=tmp_path / "c.db", progress=False)) as c:
        yield c


def test_seeds_ingest_clean_and_keep_every_sentence(corpus, seed_texts):
    report = corpus.ingest([EXAMPLES])
    assert (report.added, len(report.errors)) == (5, 0)
    by_source = {Path(a.sources[0]).name: a for a in corpus.iter_articles()}
    assert set(by_source) == set(seed_texts)
    for name, raw in seed_texts.items():
        article = by_source[name]
        assert article.raw_text == raw  # byte for byte
        for sentence in body_sentences(raw):
            assert sentence in article.clean.text, f"{name}: lost {sentence[:60]!r}"
        for i, ch in enumerate(article.clean.text):  # every clean offset maps back to the same character
            assert raw[article.clean.to_raw(i)] == ch
        for removed in article.clean.removed:
            assert raw[removed.start:removed.end].strip() == removed.text.strip() and removed.reason

    independent = by_source["001_5eab56d17bbf0643.txt"]
    assert independent.published.startswith("2016-07-04")
    assert independent.meta.published.source == "dateline"
    assert independent.outlet == "The Independent"
    assert independent.author == "Caroline Mortimer"
    assert "Stay up to date with notifications from The Independent" not in independent.clean.text
    assert "Join our commenting forum" not in independent.clean.text
    assert by_source["002_f5f0807e30fc34e7.txt"].outlet == "LabourList"
    assert "More from LabourList" not in by_source["002_f5f0807e30fc34e7.txt"].clean.text
    assert "Photograph: Leon Neal/AFP/Getty" not in by_source["004_2eff0df1e710e36d.txt"].clean.text
    assert "Carolyn Leckie: Tories find" not in by_source["000_4b265e9908216e3e.txt"].clean.text


def test_reingest_changes_nothing_and_copies_are_stored_once(corpus, tmp_path):
    corpus.ingest([EXAMPLES])
    before = corpus.store.conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    again = corpus.ingest([EXAMPLES])
    assert (again.added, again.unchanged) == (0, 5)
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(EXAMPLES / "000_4b265e9908216e3e.txt", copy / "renamed.txt")
    dup = corpus.ingest([copy])
    assert (dup.added, dup.duplicates) == (0, 1)
    assert corpus.store.count_articles() == before
    article = next(a for a in corpus.iter_articles() if any("renamed.txt" in s for s in a.sources))
    assert len(article.sources) == 2


def test_bad_inputs_are_reported_per_item_and_the_batch_goes_on(corpus, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(FIXTURES / "bad", folder)
    shutil.copy(EXAMPLES / "003_cfce1aa51925a04d.txt", folder / "good.txt")
    os.mkfifo(folder / "pipe.txt")
    (folder / "dangling.txt").symlink_to(folder / "missing-target.txt")
    report = corpus.ingest([folder])
    assert report.errors, "the bad fixtures must produce errors"
    assert report.added >= 1
    assert any("pipe.txt" in e.source_path for e in report.errors)
    assert any("dangling.txt" in e.source_path for e in report.errors)
    for error in report.errors:
        assert "\n" not in error.message and error.message
    # errors are stored with the run, and nothing half-written is left
    assert corpus.store.ingest_errors(report.run_id)
    for article in corpus.iter_articles():
        assert article.raw_text and article.clean.text


def test_outlet_boilerplate_is_learned_across_articles(corpus, tmp_path):
    paragraphs = EXAMPLES.joinpath("003_cfce1aa51925a04d.txt").read_text(encoding="utf-8").split("\n\n")
    with open(tmp_path / "feed.jsonl", "w", encoding="utf-8") as out:
        for i in range(4):
            text = "\n\n".join([paragraphs[i], "Follow The Daily Example on Twitter", paragraphs[i + 4]])
            out.write(json.dumps({"text": text, "outlet": "The Daily Example", "title": f"Story {i}"}) + "\n")
    report = corpus.ingest([tmp_path / "feed.jsonl"])
    assert report.added == 4
    for article in corpus.iter_articles():
        assert "Follow The Daily Example on Twitter" not in article.clean.text
        assert any(r.reason == "outlet-boilerplate" for r in article.clean.removed)


def _count(db: Path) -> tuple[int, int]:
    try:
        with sqlite3.connect(db) as conn:
            return (conn.execute("SELECT count(*) FROM articles").fetchone()[0],
                    conn.execute("SELECT count(*) FROM sources").fetchone()[0])
    except sqlite3.Error:
        return (0, 0)


@pytest.mark.slow
def test_killed_ingest_resumes_without_loss_or_duplicates(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    seeds = sorted(EXAMPLES.glob("*.txt"))
    n = 600
    for i in range(n):
        text = seeds[i % len(seeds)].read_text(encoding="utf-8")
        (folder / f"{i:04d}.txt").write_text(f"{text}\n\nUpdate number {i} was added later.\n", encoding="utf-8")
    db = tmp_path / "k.db"
    cmd = [sys.executable, "-m", "storytrace.cli", "--db", str(db), "--no-progress", "ingest", str(folder)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while _count(db)[0] < 64 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _count(db)
    assert 0 < partial[0] < n, "the kill should land mid-way"
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "failed" in done.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == n
        assert conn.execute("SELECT count(*) FROM sources").fetchone()[0] == n
        assert conn.execute("SELECT count(DISTINCT path) FROM sources").fetchone()[0] == n


def test_parallel_ingest_stores_the_same_articles(tmp_path):
    def stored(jobs: int) -> dict[str, tuple[str, tuple[str, ...]]]:
        settings = Settings(db=tmp_path / f"j{jobs}.db", jobs=jobs, batch_size=2, progress=False)
        with Corpus(settings=settings) as corpus:
            report = corpus.ingest([EXAMPLES, FIXTURES / "good"])
            assert report.added > 5
            return {a.id: (a.clean.text, tuple(Path(s).name for s in a.sources)) for a in corpus.iter_articles()}

    assert stored(2) == stored(1)
