from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from storytrace.analyze.timeline import compatible, group
from storytrace.cli import main
from storytrace.corpus import Corpus
from tests.conftest import require_data


def _event(article: str, day: str, text: str, actors: list[str]) -> dict:
    from storytrace.analyze.timeline import content_words

    return {"article_id": article, "date": day, "granularity": "week" if "W" in day else "day", "start": 0,
            "end": len(text), "text": text, "timex": {"text": "x"}, "date_inferred": False, "published": None,
            "actors": actors, "words": sorted(content_words(text))}


def test_events_group_by_date_and_names_and_conflicts_are_shown() -> None:
    a = _event("a", "2016-07-03", "McCluskey told Andrew Marr the coup had failed", ["McCluskey", "Andrew Marr"])
    b = _event("b", "2016-07-03", "McCluskey described the coup on Marr as a lynching", ["McCluskey"])
    c = _event("c", "2016-07-02", "McCluskey told Andrew Marr the coup had failed badly", ["McCluskey", "Andrew Marr"])
    groups = group([a, b, c])
    joined = next(g for g in groups if g["date"] == "2016-07-03")
    assert joined["articles"] == 2 and len(joined["citations"]) == 2
    assert joined["conflicts"] and joined["conflicts"][0]["other_date"] == "2016-07-02"
    assert compatible("2016-06-28", "2016-W26") and not compatible("2016-07-05", "2016-W26")


def test_seed_timeline_has_the_story_events(tmp_path: Path, seed_paths: list[Path]) -> None:
    with Corpus(tmp_path / "c.db") as corpus:
        corpus.ingest(seed_paths)
        corpus.analyze(["dates", "quotes", "timeline"])
        events = corpus.timeline()

    def cited(day: str, word: str) -> list[dict]:
        return [e for e in events if compatible(e["date"], day)
                and any(word in c["text"] for c in e["citations"])]

    # The vote: "last week" in the Independent (4 July), "on Tuesday after the vote" in the Guardian's undated
    # article, which its lead ("vote of no confidence") places in that week: 28 June, at day level.
    vote = cited("2016-06-28", "no confidence")
    assert vote and any(e["date"] == "2016-06-28" and e["granularity"] == "day" and e["articles"] > 1 for e in vote)
    assert cited("2016-07-03", "Marr")
    assert cited("2016-07-04", "this evening")  # the PLP meeting
    union = cited("2016-07-05", "union")
    assert union and any(len({c["article_id"] for c in e["citations"]}) > 1 for e in union)
    assert cited("2016-07-06", "Chilcot")
    assert all(c["article_id"] and c["end"] > c["start"] for e in events for c in e["citations"])


def test_a_definite_noun_brings_the_words_of_its_first_mention() -> None:
    from storytrace.analyze.timeline import antecedent_words

    text = "Rallies after a vote of no confidence from party MPs. They met on Tuesday after the vote."
    start = text.index("They")
    assert {"confidence", "mps"} <= antecedent_words(text, start, text[start:])


def test_dates_and_timeline_commands(tmp_path: Path, seed_paths: list[Path]) -> None:
    db = tmp_path / "c.db"
    with Corpus(db) as corpus:
        corpus.ingest(seed_paths)
        corpus.analyze(["dates", "quotes", "timeline"])
    runner = CliRunner()
    out = runner.invoke(main, ["--db", str(db), "dates", "--article", "1", "--format", "jsonl"])
    assert out.exit_code == 0 and '"value"' in out.output
    out = runner.invoke(main, ["--db", str(db), "timeline"])
    assert out.exit_code == 0 and "inferred" in out.output
    out = runner.invoke(main, ["--db", str(db), "articles"])
    assert "(inferred)" in out.output


def test_bench_timeline_smoke() -> None:
    from storytrace.bench import timeline as bench

    figures = bench.run(require_data("semeval2015-timeline"), split="corpus_1", limit=2)
    assert figures["timelines"] == 2 and 0 <= figures["pairwise_order_accuracy"] <= 1
