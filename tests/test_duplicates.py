from __future__ import annotations

import random
from pathlib import Path

from tests.conftest import EXAMPLES, require_data

from storytrace.bench.duplicates import make_copy
from storytrace.corpus import Corpus
from storytrace.resolve.duplicates import find_duplicates, pairs_of, shingles


def test_shingles_ignore_case_and_position() -> None:
    assert set(shingles("one two three four five six").tolist()) <= set(
        shingles("zero ONE two three four five six seven").tolist())


def test_copies_of_a_seed_are_grouped_with_shared_fractions(seed_texts: dict[str, str]) -> None:
    name, text = sorted(seed_texts.items())[0]
    rng = random.Random(1)
    docs = [(n, t, None) for n, t in seed_texts.items()]
    docs += [("copy-trunc", make_copy(text, "truncated", rng), None),
             ("copy-synd", make_copy(text, "syndicated", rng), "2016-07-01")]
    groups = find_duplicates(docs)
    assert pairs_of(groups) == {(name, "copy-synd"), (name, "copy-trunc"), ("copy-synd", "copy-trunc")}
    members = groups[0].members
    assert members[0].article_id == "copy-synd" and members[0].first  # the dated one is first
    assert all(0.6 <= m.shared <= 1.0 for m in members)


def test_duplicates_stage_on_seeds_finds_no_copies(tmp_path: Path) -> None:
    with Corpus(tmp_path / "d.db") as corpus:
        corpus.ingest([EXAMPLES])
        corpus.analyze(["duplicates"])
        assert corpus.store.corpus_records("duplicates") == []
        assert corpus.store.corpus_result("duplicates")[1]["groups"] == 0


def test_bench_duplicates_smoke() -> None:
    from storytrace.bench.duplicates import run

    data = require_data("bbc-news-2225")
    figures = run(data, split="dev", limit=200)
    assert figures["pairs"]["precision"] >= 0.9
