from __future__ import annotations

import sqlite3

import pytest

from storytrace.errors import StoreError
from storytrace.model import Article, Cleaned, Metadata, MetaValue, RemovedLine
from storytrace.store import SourceRef, Store
from storytrace.store.schema import MIGRATIONS


def make_article(text: str, *, article_id: str = "a" * 16, outlet: str | None = "The Test") -> Article:
    keep = text.split("\n", 1)[-1]
    start = len(text) - len(keep)
    cleaned = Cleaned(keep, ((0, start, len(keep)),), (RemovedLine(0, start - 1, text[: start - 1], "chrome"),))
    meta = Metadata(outlet=MetaValue(outlet, "given") if outlet else None,
                    published=MetaValue("2016-07-04", "dateline", 0.9, 0, 10))
    return Article(article_id, text, cleaned, meta)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "t.db") as s:
        yield s


def test_migrations_are_recorded_and_idempotent(tmp_path):
    with Store(tmp_path / "t.db") as s:
        assert s.migrations() == [name for name, _ in MIGRATIONS]
        assert s.migrate() == []
    with Store(tmp_path / "t.db") as s:  # reopening applies nothing twice
        assert s.migrate() == []
        assert s.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_add_article_outcomes(store):
    run = store.start_run("test", settings={}, versions={})
    article = make_article("Chrome line\nJeremy Corbyn said it.")
    with store.transaction() as conn:
        assert store.add_article(conn, article, source=SourceRef("a.txt", "", "s1"), line_keys=["x"], run_id=run) \
            == "added"
        assert store.add_article(conn, article, source=SourceRef("a.txt", "", "s1"), line_keys=["x"], run_id=run) \
            == "unchanged"
        assert store.add_article(conn, article, source=SourceRef("b.txt", "", "s1"), line_keys=["x"], run_id=run) \
            == "duplicate"
        other = make_article("Chrome\nSomething else.", article_id="b" * 16)
        assert store.add_article(conn, other, source=SourceRef("a.txt", "", "s2"), line_keys=[], run_id=run) \
            == "updated"
    assert store.count_articles() == 2
    stored = store.get_article("a" * 6)
    assert stored.raw_text == article.raw_text
    assert stored.clean.text == "Jeremy Corbyn said it."
    assert stored.clean.removed[0].reason == "chrome"
    assert stored.meta.published == MetaValue("2016-07-04", "dateline", 0.9, 0, 10)
    assert stored.sources == ("b.txt",)  # a.txt now points at the new content; nothing was deleted
    # line counts are per outlet and per distinct article
    assert store.outlet_boilerplate(min_articles=1, min_share=0.1) == {"The Test": frozenset({"x"})}


def test_transaction_rolls_back_everything_on_error(store):
    run = store.start_run("test", settings={}, versions={})
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.add_article(conn, make_article("x\ny"), source=SourceRef("a", "", "s"), line_keys=[], run_id=run)
        raise RuntimeError("boom")
    assert store.count_articles() == 0
    assert store.conn.execute("SELECT count(*) FROM sources").fetchone()[0] == 0


def test_fts_search_and_bad_query(store):
    run = store.start_run("test", settings={}, versions={})
    with store.transaction() as conn:
        store.add_article(conn, make_article("Chrome\nA political lynching of a decent man."),
                          source=SourceRef("a", "", "s"), line_keys=[], run_id=run)
    hits = store.search('"political lynching"')
    assert hits and hits[0][0] == "a" * 16 and "[political lynching]" in hits[0][1]
    assert store.search("Chrome") == []  # removed lines are not in the clean text index
    with pytest.raises(StoreError, match="cannot search"):
        store.search('"unbalanced')


def test_resolve_ref_by_number_prefix_and_errors(store):
    run = store.start_run("test", settings={}, versions={})
    with store.transaction() as conn:
        for i, prefix in enumerate(["ab", "ac"]):
            store.add_article(conn, make_article(f"c\nbody {i}", article_id=prefix + "0" * 14),
                              source=SourceRef(str(i), "", str(i)), line_keys=[], run_id=run)
    assert store.resolve_ref("1") == "ab" + "0" * 14
    assert store.resolve_ref("ac") == "ac" + "0" * 14
    with pytest.raises(StoreError, match="ambiguous"):
        store.resolve_ref("a")
    with pytest.raises(StoreError, match="no article"):
        store.resolve_ref("zz")


def test_readonly_store_refuses_writes_and_missing_file(tmp_path):
    with pytest.raises(StoreError, match="no store"):
        Store(tmp_path / "missing.db", readonly=True)
    Store(tmp_path / "t.db").close()
    with Store(tmp_path / "t.db", readonly=True) as s, pytest.raises(sqlite3.OperationalError):
        s.conn.execute("INSERT INTO runs (command, started_at) VALUES ('x', 'y')")


def test_not_a_database(tmp_path):
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open store"):
        Store(bad)
