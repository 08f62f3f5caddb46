from __future__ import annotations

from pathlib import Path

from storytrace.analyze.brief import summarise
from storytrace.corpus import Corpus
from storytrace.report import render_story
from storytrace.settings import Settings
from tests.conftest import EXAMPLES


def _s(aid: str, pos: int, text: str) -> dict:
    return {"article_id": aid, "start": pos * 100, "end": pos * 100 + len(text), "text": text, "position": pos,
            "quote": False, "fact": False}


def test_redundancy_removed_and_chronological() -> None:
    sentences = [_s("b", 0, "The union leader backed the party leader in the vote on Monday."),
                 _s("a", 0, "The union leader backed the party leader in the vote on Monday."),
                 _s("a", 1, "Rebels plan a leadership challenge against the party leader next week.")]
    picked = summarise(sentences, dates={"a": "2016-07-01", "b": "2016-07-03"}, n=3)
    assert len(picked) == 2
    assert [p["date"] for p in picked] == sorted(p["date"] for p in picked)


def test_story_brief_every_sentence_cited(tmp_path: Path) -> None:
    db = tmp_path / "b.db"
    with Corpus(db, settings=Settings(progress=False, brief_sentences=5)) as corpus:
        corpus.ingest([str(EXAMPLES)])
        corpus.analyze()
        data = corpus.brief(1)
        raw = {a.id: a.raw_text for a in corpus.iter_articles()}
    sentences = data["brief"]["sentences"]
    assert len(sentences) == 5
    for s in sentences:
        assert raw[s["article_id"]][s["start"]:s["end"]] == s["text"]
    page = render_story(data, format="markdown")
    assert "## Brief" in page and "172-40" in page


def test_bench_brief_scores_rouge_on_gum_summaries() -> None:
    from storytrace.bench import brief as bench
    from tests.conftest import require_data

    data = require_data("gum")
    docs = [d for d in bench.documents(data) if d["genre"] == "news"]
    assert len(docs) >= 20 and all(len(d["summaries"]) == 5 and "\n\n" in d["text"] for d in docs)
    figures = bench.run(data, split="news", limit=2)
    assert figures["documents"] == 2
    for name in ("brief-1", "lead-1", "brief-3", "lead-3"):
        assert 0 < figures["systems"][name]["rouge1"]["mean"] <= figures["systems"][name]["rouge1"]["max"] <= 1
    assert "not the multi-document part" in figures["measured"]
