"""Every page's SQL, traced over real HTTP, uses an index: no table scan and no whole-stage read on a hot path."""

from __future__ import annotations

import re
import sqlite3
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason="the web extra is not installed")

from test_web import Server  # noqa: E402

from storytrace.bench.web import urls  # noqa: E402
from storytrace.store import Store  # noqa: E402
from storytrace.web.app import create_app  # noqa: E402

# Scans that are fine at any size: the schema table, FTS5's own config row, a constant row.
HARMLESS = re.compile(r"^SCAN (sqlite_master|main\.articles_fts_config|CONSTANT ROW)")
# Whole-stage reads still on a page, each a known cost (docs/benchmarks.md, Web app latency): a story's
# timeline events carry no article column to select them by (analyze/timeline.py stores them unkeyed).
KNOWN_WHOLE_STAGE = {"timeline"}
EXTRA = {"story page": "/stories/1", "story api": "/api/stories/1", "story timeline api": "/api/stories/1/timeline",
         "actor page (McCluskey)": "/actors/len-mccluskey", "outlet filter": "/articles?outlet=LabourList",
         "deep article page": "/articles?page=3"}


@pytest.fixture
def traced(web_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, list[str]]]:
    db = tmp_path / "web.db"
    db.write_bytes(web_store.read_bytes())
    with Store(db):  # apply any migration newer than the session store
        pass
    statements: list[str] = []
    connect = sqlite3.connect

    def tracing(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn: sqlite3.Connection = connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(sqlite3, "connect", tracing)
    server = Server(create_app(db))
    yield server, statements
    server.stop()


def test_every_page_query_uses_an_index(traced: tuple[Server, list[str]], web_store: Path) -> None:
    server, statements = traced
    paths = {**urls(server.base, web_store), **EXTRA}
    problems = []
    plan_db = sqlite3.connect(f"file:{web_store}?mode=ro", uri=True)
    for name, path in paths.items():
        # The second request: the first may fill a cache (the overview's corpus-wide counts are computed once
        # per store change, by design: they are full scans).
        with urllib.request.urlopen(server.base + path, timeout=60) as response:
            assert response.status == 200, name
        statements.clear()
        with urllib.request.urlopen(server.base + path, timeout=60) as response:
            assert response.status == 200, name
        for sql in dict.fromkeys(statements):
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            plan = [row[3] for row in plan_db.execute("EXPLAIN QUERY PLAN " + sql)]
            scans = [p for p in plan if p.startswith("SCAN") and "INDEX" not in p and not HARMLESS.match(p)]
            if scans:
                problems.append(f"{name}: {scans} in {sql[:160]}")
            whole = re.search(r"FROM corpus_records WHERE stage = '(\w+)' ORDER BY", sql)
            if whole and whole.group(1) not in KNOWN_WHOLE_STAGE:
                problems.append(f"{name}: reads every {whole.group(1)} record: {sql[:160]}")
    assert not problems, "\n".join(problems)


def test_article_pages_come_from_the_number_index(web_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "web.db"
    db.write_bytes(web_store.read_bytes())
    with Store(db) as store:
        assert "0004_articles_num" in store.migrations()
        first, second = store.list_articles(limit=3), store.list_articles(limit=3, offset=3)
        every = store.list_articles(limit=1000)
        plan = [r[3] for r in store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT num FROM articles ORDER BY num LIMIT 3 OFFSET 3")]
    assert [a.num for a in first + second] == [a.num for a in every[:6]]
    assert any("COVERING INDEX articles_num" in p for p in plan), plan
