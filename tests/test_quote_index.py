"""The quotation index (migration 0005): filled for older stores, kept current by stage writes, searched by the web."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storytrace import Corpus
from storytrace.errors import StoreError
from storytrace.model import StageOutput
from storytrace.settings import Settings
from storytrace.store import Store
from storytrace.store import store as store_module
from storytrace.store.schema import MIGRATIONS
from storytrace.web import views
from tests.conftest import EXAMPLES, XSS_RECORD

RULES = Settings(quote_parse=False, progress=False)  # rules-only quotations: seconds, not the model's minutes
BEFORE = [m for m in MIGRATIONS if m[0] <= "0004_articles_num"]


@pytest.fixture(scope="module")
def old_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds (plus the hostile article: another outlet and date), quotes analysed, schema as of 0004."""
    folder = tmp_path_factory.mktemp("quote_index")
    hostile = folder / "hostile.jsonl"
    hostile.write_text(json.dumps(XSS_RECORD) + "\n", encoding="utf-8")
    db = folder / "old.db"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(store_module, "MIGRATIONS", BEFORE)
        with Corpus(db, settings=RULES) as corpus:
            corpus.ingest([str(EXAMPLES), str(hostile)])
            corpus.analyze(stages=["quotes"])
            assert not corpus.store.has_quote_index()
    return db


@pytest.fixture
def corpus(old_store: Path, tmp_path: Path) -> Iterator[Corpus]:
    """A writable copy of the old store: opening it applies 0005."""
    db = tmp_path / "s.db"
    shutil.copy(old_store, db)
    with Corpus(db, settings=RULES) as c:
        yield c


def stored_quotes(store: Store) -> list[dict[str, Any]]:
    """Every stored quotation with its article's number, outlet and day, read from the payloads (the truth)."""
    rows = store.conn.execute(
        "SELECT a.num, a.id, a.outlet, substr(a.published, 1, 10), s.payload FROM stage_results s "
        "JOIN articles a ON a.id = s.article_id WHERE s.stage = 'quotes' AND s.status = 'done' ORDER BY a.num"
    ).fetchall()
    return [{"num": r[0], "article_id": r[1], "outlet": r[2], "day": r[3], "n": n, **q}
            for r in rows for n, q in enumerate(json.loads(r[4])["quotes"])]


def index_rows(store: Store) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in store.conn.execute(
        "SELECT article_num, quote, content, speaker, source, outlet, day FROM quote_index "
        "ORDER BY article_num, quote")]


def check_fts(store: Store) -> None:
    store.conn.execute("INSERT INTO quotes_fts (quotes_fts, rank) VALUES ('integrity-check', 1)")


def key(row: dict[str, Any]) -> tuple[str, int]:
    return row["article_id"], row["content_start"]


def test_the_migration_fills_the_index_of_a_store_built_before_it(corpus: Corpus) -> None:
    store = corpus.store
    assert "0005_quote_index" in store.migrations() and store.has_quote_index()
    truth = stored_quotes(store)
    assert len(truth) > 40
    assert index_rows(store) == [(q["num"], q["n"], q["content"], q["speaker"], q["source"], q["outlet"], q["day"])
                                 for q in truth]
    check_fts(store)
    assert {q["outlet"] for q in truth} >= {"The Independent", XSS_RECORD["outlet"]}  # the filters have something


def test_saving_quotes_again_replaces_an_articles_rows(corpus: Corpus) -> None:
    store = corpus.store
    article_id, payload = next((a, p) for a, p in store.iter_stage_payloads("quotes") if len(p["quotes"]) >= 3)
    before = index_rows(store)
    run = store.start_run("test", settings={}, versions={})
    try:
        with store.transaction() as conn:  # the runner's write path, twice: nothing doubles
            store.save_stage_outputs(conn, [(StageOutput("quotes", article_id, payload, {}), "k1")], run_id=run)
        with store.transaction() as conn:
            store.save_stage_outputs(conn, [(StageOutput("quotes", article_id, payload, {}), "k1")], run_id=run)
        assert index_rows(store) == before
        # Fewer quotations: the dropped ones leave the index and the search.
        dropped = payload["quotes"][1]["content"]
        word = max(re.findall(r"[A-Za-z]{4,}", dropped), key=len)
        with store.transaction() as conn:
            store.save_stage_outputs(conn, [(StageOutput("quotes", article_id, {"quotes": payload["quotes"][:1]}, {}),
                                             "k2")], run_id=run)
        assert len(index_rows(store)) == len(before) - len(payload["quotes"]) + 1
        assert all(a != article_id or n == 0 for a, n in store.quote_hits(word, limit=1000))
        # A failed re-run keeps no quotations for the article, as Corpus.quotes shows none.
        with store.transaction() as conn:
            store.save_stage_error(conn, article_id, "quotes", "k3", "boom", run_id=run)
        assert len(index_rows(store)) == len(before) - len(payload["quotes"])
        assert not list(corpus.quotes(article=article_id))
        # A write that fails rolls the index back with the stage result.
        with pytest.raises(RuntimeError), store.transaction() as conn:
            store.save_stage_outputs(conn, [(StageOutput("quotes", article_id, payload, {}), "k4")], run_id=run)
            raise RuntimeError("interrupted")
        assert len(index_rows(store)) == len(before) - len(payload["quotes"])
    finally:
        store.finish_run(run, status="ok", counts={})
    check_fts(store)


def test_reanalysis_with_other_settings_replaces_the_rows(old_store: Path, tmp_path: Path) -> None:
    """The runner re-runs `quotes` when its settings change (the parse model finds other quotations)."""
    db = tmp_path / "s.db"
    shutil.copy(old_store, db)
    with Corpus(db, settings=RULES.replace(quote_parse=True)) as again:
        before = len(index_rows(again.store))
        again.analyze(stages=["quotes"])
        truth = stored_quotes(again.store)
        assert len(truth) != before  # other quotations, so the rows were replaced, not kept
        assert index_rows(again.store) == [
            (q["num"], q["n"], q["content"], q["speaker"], q["source"], q["outlet"], q["day"]) for q in truth]
        check_fts(again.store)


def test_a_search_finds_words_of_quotes_not_of_the_article_around_them(corpus: Corpus) -> None:
    store = corpus.store
    truth = stored_quotes(store)
    quoted = {w.casefold() for q in truth for w in re.findall(r"\w+", q["content"])}
    hit = next(q for q in truth if "lynching" in q["content"])
    found = list(views.search_quotes(corpus, views.Cache(corpus.settings.db), q="lynching"))
    assert key(hit) in {key(r) for r in found}
    assert all("lynching" in r["content"].lower() for r in found)
    assert all({"article_id", "outlet", "published", "source_path", "speaker", "confidence"} <= set(r) for r in found)
    # A word of an article's body that no quotation contains: the article search finds it, the quote search not.
    body = store.get_article(hit["article_id"]).clean.text
    unquoted = next(w for w in sorted(set(re.findall(r"\b[a-z]{6,}\b", body))) if w not in quoted)
    assert any(a == hit["article_id"] for a, _s in corpus.search(unquoted, limit=100))
    assert store.quote_hits(unquoted) == []
    assert list(views.search_quotes(corpus, views.Cache(corpus.settings.db), q=unquoted)) == []


def old_keep(row: dict[str, Any], *, speaker: str = "", outlet: str = "", date_from: str = "",
             date_to: str = "") -> bool:
    """The filters' meaning, as the web app had them before the index (substring speaker, exact outlet, days)."""
    needle = speaker.casefold()
    if needle and needle not in (row.get("speaker") or "").casefold() \
            and needle not in (row.get("source") or "").casefold():
        return False
    if outlet and (row.get("outlet") or "") != outlet:
        return False
    day = (row.get("published") or "")[:10]
    return not ((date_from and (not day or day < date_from)) or (date_to and (not day or day > date_to)))


@pytest.mark.parametrize("filters", [
    {"speaker": "McCluskey"}, {"speaker": "watson"}, {"speaker": "Len McCluskey"}, {"outlet": "The Independent"},
    {"outlet": XSS_RECORD["outlet"]}, {"date_from": "2016-07-05"}, {"date_to": "2016-07-04"},
    {"date_from": "2016-07-04", "date_to": "2016-07-04", "outlet": "The Independent"}, {"q": "Corbyn"},
    {"q": "Corbyn", "speaker": "Watson"}, {"q": "party OR politics", "date_from": "2016-07-01"}, {},
])
def test_filters_select_the_same_quotes_as_reading_every_one(corpus: Corpus, filters: dict[str, str]) -> None:
    q = filters.get("q", "")
    rest = {k: v for k, v in filters.items() if k != "q"}
    words = set(views.query_words(q))  # one word, or words joined by OR: a quote has one of them as a word
    expected = {key(r) for r in corpus.quotes() if old_keep(r, **rest)
                and (not words or words & {w.casefold() for w in re.findall(r"\w+", r["content"])})}
    found = list(views.search_quotes(corpus, views.Cache(corpus.settings.db), q=q, **rest))
    assert {key(r) for r in found} == expected and len(found) == len(expected)
    if rest or not q:
        assert expected, "a filter that selects nothing tests nothing"


def test_speaker_alone_matches_from_the_start_of_a_word(corpus: Corpus) -> None:
    cache = views.Cache(corpus.settings.db)
    whole = {key(r) for r in views.search_quotes(corpus, cache, speaker="McCluskey")}
    assert whole and {key(r) for r in views.search_quotes(corpus, cache, speaker="mcclusk")} == whole
    # Inside a word it is not looked up (the index is by word); with a query, it is a plain substring filter.
    assert not list(views.search_quotes(corpus, cache, speaker="cluskey"))
    assert {key(r) for r in views.search_quotes(corpus, cache, q="lynching", speaker="cluskey")} == \
        {key(r) for r in views.search_quotes(corpus, cache, q="lynching", speaker="McCluskey")}


def test_pages_are_disjoint_and_cover_every_hit(corpus: Corpus) -> None:
    cache = views.Cache(corpus.settings.db)
    every = [key(r) for r in views.search_quotes(corpus, cache)]  # more than one chunk of 50 hits
    assert len(every) > 50 and len(set(every)) == len(every)
    pages = [views.page_of(views.search_quotes(corpus, cache), page=p, size=20) for p in range(1, 10)]
    assert [key(r) for rows, _more in pages for r in rows] == every
    assert [more for _rows, more in pages][: (len(every) - 1) // 20] == [True] * ((len(every) - 1) // 20)
    ranked = [key(r) for r in views.search_quotes(corpus, cache, q="Corbyn")]
    assert [key(r) for r in views.page_of(views.search_quotes(corpus, cache, q="Corbyn"), page=2, size=5)[0]] == \
        ranked[5:10]


def test_a_common_word_is_listed_in_index_order_past_the_ranking_bound(corpus: Corpus) -> None:
    store = corpus.store
    ranked = store.quote_hits("Corbyn", limit=1000)
    streamed = store.quote_hits("Corbyn", limit=1000, ordered_up_to=3)
    assert len(ranked) > 3 and sorted(ranked) == sorted(streamed) and streamed != ranked
    ids = [store.conn.execute("SELECT q.id FROM quote_index q JOIN articles a ON a.num = q.article_num "
                              "WHERE a.id = ? AND q.quote = ?", hit).fetchone()[0] for hit in streamed]
    assert ids == sorted(ids, reverse=True)
    pages = [store.quote_hits("Corbyn", limit=4, offset=o, ordered_up_to=3) for o in range(0, len(ranked), 4)]
    assert [h for page in pages for h in page] == streamed
    by_speaker = store.quote_hits(speaker="Watson", limit=1000)
    assert sorted(store.quote_hits(speaker="Watson", limit=1000, ordered_up_to=2)) == sorted(by_speaker)
    assert sorted(store.quote_hits("Corbyn", outlet="The Independent", ordered_up_to=3)) == \
        sorted(store.quote_hits("Corbyn", outlet="The Independent"))


@pytest.mark.parametrize("query", ['"unbalanced', "AND", "NEAR(", "*", "title:x", "(a"])
def test_bad_fts5_syntax_is_a_coded_error(corpus: Corpus, query: str) -> None:
    with pytest.raises(StoreError) as info:
        list(views.search_quotes(corpus, views.Cache(corpus.settings.db), q=query))
    assert info.value.code == "E205" and "cannot search" in str(info.value)


def test_a_store_opened_read_only_before_the_migration_is_searched_the_old_way(old_store: Path) -> None:
    with Corpus(old_store, readonly=True) as old:
        assert not old.store.has_quote_index()
        cache = views.Cache(old_store)
        found = list(views.search_quotes(old, cache, q="lynching"))
        assert found and all("lynching" in r["content"].lower() for r in found)
        assert len(list(views.search_quotes(old, cache, outlet="The Independent"))) == \
            sum(1 for r in old.quotes() if r["outlet"] == "The Independent")
    conn = sqlite3.connect(old_store)
    try:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'quote_index'").fetchone()[0] == 0
    finally:
        conn.close()
