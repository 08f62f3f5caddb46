from __future__ import annotations

import random
from pathlib import Path

from storytrace.bench.duplicates import make_copy
from storytrace.corpus import Corpus
from storytrace.resolve.duplicates import find_duplicates, pairs_of, shingles
from tests.conftest import EXAMPLES, require_data


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


def _words(rng: random.Random, n: int) -> list[str]:
    return [f"w{rng.randrange(10**6)}" for _ in range(n)]


def test_copy_wrapped_in_frequent_junk_is_rescued_but_follow_ups_are_not() -> None:
    rng = random.Random(7)
    original = _words(rng, 200)
    junk = [" ".join(_words(rng, 30)) for _ in range(4)]  # furniture lines another site repeats everywhere
    docs = [("original", " ".join(original), None)]
    docs += [(f"other{n}", " ".join(_words(rng, 200)) + "\n" + "\n".join(junk), None) for n in range(5)]
    # The copy: the first half of the original, wrapped in the junk (about 0.45 of it is the original's).
    docs.append(("copy", "\n".join(junk[:2]) + "\n" + " ".join(original[:100]) + "\n" + "\n".join(junk[2:]), None))
    # A follow-up: a lead of its own, then the original's background paragraphs, then more of its own;
    # syndicated four times, so its own text is frequent too, but only among its own verified copies.
    follow = " ".join(_words(rng, 60) + original[60:160] + _words(rng, 60))
    docs += [("follow-up", follow, None)] + [(f"follow-up{n}", follow + f" via{n}", None) for n in range(4)]
    found = pairs_of(find_duplicates(docs))
    assert ("copy", "original") in found
    assert not any({"original", "copy"} & set(p) and any(x.startswith("follow-up") for x in p) for p in found)
    assert ("follow-up", "follow-up3") in found
    assert ("copy", "original") not in pairs_of(find_duplicates(docs, frequent=0))  # the plain check misses it


def test_bench_texts_are_what_ingest_stores() -> None:
    from storytrace.bench.duplicates import as_ingested

    text = "Share this article\nA headline\n\nThe body of the article says something worth reading here.\n"
    [(doc_id, clean, date)] = as_ingested([("a", text, None)])
    assert (doc_id, date) == ("a", None) and "Share this article" not in clean and "worth reading" in clean
