"""A story page reads a bounded part of a story, however large (a 100k store has stories of thousands)."""

from __future__ import annotations

from pathlib import Path

from storytrace import Corpus
from storytrace.settings import Settings
from storytrace.web import views


def test_a_story_can_be_read_with_its_first_articles_only_and_keeps_its_size(web_store: Path) -> None:
    with Corpus(settings=Settings(db=web_store, progress=False), readonly=True) as corpus:
        largest = corpus.stories(limit=1)[0]
        whole = corpus.stories(story=largest["story"])[0]
        first = corpus.stories(story=largest["story"], max_articles=1)[0]
        assert largest["size"] >= 2 and len(whole["articles"]) == largest["size"]
        assert first["articles"] == whole["articles"][:1] and first["size"] == whole["size"]


def test_the_story_page_says_it_shows_part_of_a_story_larger_than_its_cap(web_store: Path, monkeypatch) -> None:
    with Corpus(settings=Settings(db=web_store, progress=False), readonly=True) as corpus:
        largest = corpus.stories(limit=1)[0]
        monkeypatch.setattr(views, "MAX_STORY_ARTICLES", largest["size"] - 1)
        view = views.story_view(corpus, largest["story"])
        assert view["truncated"]
        quoted = {row["article_id"] for _name, rows in view["speakers"] for row in rows}
        shown = [m["article_id"] for m in view["brief"]["story"]["articles"]]
        assert quoted <= set(shown[: largest["size"] - 1])
