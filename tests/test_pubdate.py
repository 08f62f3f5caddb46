from __future__ import annotations

from datetime import date
from pathlib import Path

from storytrace.corpus import Corpus
from storytrace.nlp import pubdate


def test_weekday_references_place_the_article_near_a_related_date() -> None:
    text = "Len McCluskey spoke to Andrew Marr on Sunday. Watson told MPs this evening he meets unions tomorrow."
    inferred = pubdate.infer(text, near=[date(2016, 7, 4)])
    assert inferred is not None and inferred.value == "2016-07-04"
    assert inferred.evidence and 0 < inferred.confidence < 1


def test_a_dated_weekday_fixes_the_year_and_the_next_day_follows() -> None:
    text = "The column was published online on Sunday February 26. The next day, Mr McDonnell said it was old."
    inferred = pubdate.infer(text, near=[date(2016, 7, 4)])
    assert inferred is not None and inferred.value == "2017-02-27"


def test_a_reported_event_places_the_week_of_weekday_evidence() -> None:
    # "on Tuesday" / "on Monday night" read as well one week either side; the related article (4 July) is
    # nearer the later week, but the event the lead reports (a vote in the week of 27 June) is in the earlier.
    text = ("Unions prepare after a vote of no confidence. Momentum held rallies on Tuesday after the vote. "
            "Thousands had demonstrated on Monday night.")
    near = [date(2016, 7, 4)]
    assert pubdate.infer(text, near=near).value == "2016-07-06"  # type: ignore[union-attr]
    placed = pubdate.infer(text, near=near, reported=[(date(2016, 6, 27), date(2016, 7, 3))])
    assert placed is not None and placed.value == "2016-06-29" and "event" in placed.note


def test_nothing_to_go_on_is_unknown() -> None:
    assert pubdate.infer("Corbyn said he would not resign.") is None
    assert pubdate.infer("He spoke on Sunday.") is None  # no absolute date, no related article


def test_seed_articles_all_dated_through_the_store(tmp_path: Path, seed_paths: list[Path]) -> None:
    with Corpus(tmp_path / "c.db") as corpus:
        corpus.ingest(seed_paths)
        corpus.analyze(["dates", "quotes", "timeline"])
        inferred = corpus.inferred_dates()
        dates = {row.id: row.published for row in corpus.articles()}
        assert all(dates[a] or a in inferred for a in dates)
        assert all(v["source"] == "inferred" and v["evidence"] for v in inferred.values())
        by_file = {Path(r["source_path"]).name[:3]: r["article_id"] for r in corpus.dates()}
        # The Guardian's article of 29 June 2016 (only "on Tuesday"/"on Monday night" in it): within a day.
        guardian = inferred[by_file["004"]]["value"]
        assert abs((date.fromisoformat(guardian) - date(2016, 6, 29)).days) <= 1
        rows = list(corpus.dates())
        assert rows and all({"article_id", "source_path", "start", "end", "type", "value", "anchor"} <= set(r)
                            for r in rows)
