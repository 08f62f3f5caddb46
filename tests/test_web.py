"""The web app over real HTTP: a real uvicorn server on 127.0.0.1 serving a real store built from the seeds."""

from __future__ import annotations

import html
import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the web extra is not installed")

from storytrace.web.app import create_app  # noqa: E402

TOKEN = "test-token-123"


class Server:
    """A uvicorn server in a background thread, stopped at the end of the test module."""

    def __init__(self, app: Any) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", ws="none",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        for _ in range(200):  # bounded wait for startup
            if self.server.started:
                break
            time.sleep(0.05)
        assert self.server.started, "uvicorn did not start"
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start(app: Any) -> Server:
    return Server(app)


@pytest.fixture(scope="module")
def server(web_store: Path) -> Iterator[Server]:
    s = start(create_app(web_store))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def writable(web_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    db = tmp_path_factory.mktemp("writable") / "w.db"
    shutil.copy(web_store, db)
    s = start(create_app(db, token=TOKEN, max_upload_bytes=64 * 1024))
    yield s, db
    s.stop()


def get(server: Server, path: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(server.base + path, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8")


def post(server: Server, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(server.base + path, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def multipart(files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, data in files:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                     "Content-Type: text/plain\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def test_every_page_answers_with_security_headers(server: Server) -> None:
    status, _h, body = get(server, "/api/actors?name=McCluskey")
    actor = json.loads(body)[0]["id"]
    for path in ["/", "/articles", "/articles/1", "/search?q=lynching", "/stories", "/stories/1", "/actors",
                 f"/actors/{actor}", "/search?speaker=McCluskey&page=1"]:
        status, headers, body = get(server, path)
        assert status == 200, (path, body[:300])
        assert "script-src" not in headers["content-security-policy"] or "'unsafe" not in headers[
            "content-security-policy"]
        assert headers["content-security-policy"].startswith("default-src 'none'")
        assert headers["x-content-type-options"] == "nosniff"
        assert "<script" not in body.lower(), path


def test_mccluskey_is_answerable_by_following_links(server: Server) -> None:
    """What did McCluskey say, in which outlets, with what differences, and how did his stance change."""
    _s, _h, body = get(server, "/api/actors?name=McCluskey")
    actor = json.loads(body)[0]
    _s, _h, page = get(server, f"/actors/{actor['id']}")
    assert "political lynching" in page  # what he said
    assert "Stance over time" in page and 'id="stance-chart"' in page
    api = json.loads(get(server, f"/api/actors/{actor['id']}")[2])
    outlets = {q["outlet"] for q in api["quotes"]}
    assert len(outlets) >= 2  # in which outlets
    # The story page shows the utterance's versions with word-level differences.
    story = get(server, "/stories/1")[2]
    assert "One utterance across outlets" in story and ("<del>" in story or "<ins>" in story)
    assert 'id="network"' in story and "<line" in story


def test_a_citation_opens_the_article_at_the_highlighted_sentence(server: Server) -> None:
    quotes = json.loads(get(server, "/api/quotes?speaker=McCluskey&limit=5")[2])["quotes"]
    q = quotes[0]
    status, _h, body = get(server, f"/articles/{q['article_id']}?start={q['content_start']}&end={q['content_end']}")
    assert status == 200
    assert 'id="cited"' in body
    cited = body.split('id="cited"', 1)[1].split(">", 1)[1].split("</span>", 1)[0]
    assert cited and html.unescape(cited) in q["content"]


def test_markup_in_an_article_is_shown_as_text(server: Server) -> None:
    hits = json.loads(get(server, "/api/search?q=politics")[2])
    article = next(h["article_id"] for h in hits)
    _s, _h, body = get(server, f"/articles/{article}")
    assert "<script>" not in body and "&lt;script&gt;alert(" in body
    assert "<img src=x" not in body and "&lt;img src=x onerror" in body
    assert "<b>should</b>" not in body and "&lt;b&gt;should&lt;/b&gt;" in body
    for path in ["/", "/articles", "/search?q=politics", "/stories", f"/search?q={quote('<script>')}"]:
        _s, _h, page = get(server, path)
        assert "<script>alert" not in page and "<img src=x" not in page, path


def test_a_query_with_bad_fts5_syntax_is_a_400(server: Server) -> None:
    for q in ['"unbalanced', "AND", "NEAR(", "*"]:
        status, _h, body = get(server, "/api/search?" + urlencode({"q": q}))
        assert status == 400, (q, body)
        assert "error" in json.loads(body)
        status, _h, body = get(server, "/search?" + urlencode({"q": q}))
        assert status == 400 and "Error 400" in body


def test_missing_things_are_404(server: Server) -> None:
    assert get(server, "/stories/9999")[0] == 404
    assert get(server, "/articles/zzzz")[0] == 404
    assert get(server, "/actors/nobody-at-all")[0] == 404
    assert get(server, "/api/articles/zzzz")[0] == 404


def test_api_pages_and_filters(server: Server) -> None:
    first = json.loads(get(server, "/api/articles?limit=2&offset=0")[2])
    second = json.loads(get(server, "/api/articles?limit=2&offset=2")[2])
    assert len(first) == 2 and {a["id"] for a in first}.isdisjoint({a["id"] for a in second})
    found = json.loads(get(server, "/api/quotes?" + urlencode({"q": "lynching", "speaker": "McCluskey"}))[2])
    assert found["quotes"] and all("lynching" in q["content"].lower() for q in found["quotes"])
    assert all("confidence" in q and "content_start" in q for q in found["quotes"])
    dated = json.loads(get(server, "/api/quotes?date_from=2017-01-01")[2])["quotes"]
    assert all((q["published"] or "")[:10] >= "2017-01-01" for q in dated)
    assert get(server, "/api/articles?limit=100000")[0] == 422  # bounded pages


def test_openapi_describes_the_api(server: Server) -> None:
    spec = json.loads(get(server, "/openapi.json")[2])
    assert spec["openapi"].startswith("3.")
    for path in ["/api/overview", "/api/articles", "/api/quotes", "/api/stories/{story}", "/api/actors/{actor_id}",
                 "/api/ingest", "/api/analyze"]:
        assert path in spec["paths"], path


def test_read_only_without_a_token(server: Server) -> None:
    body, ctype = multipart([("a.txt", b"Some text said by someone.")])
    status, found = post(server, "/api/ingest", body, {"Content-Type": ctype})
    assert status == 403 and "read-only" in found["error"]
    assert post(server, "/api/analyze")[0] == 403


def test_writes_need_the_right_token(writable: tuple[Server, Path]) -> None:
    server, _db = writable
    body, ctype = multipart([("a.txt", b"x")])
    assert post(server, "/api/ingest", body, {"Content-Type": ctype})[0] == 401
    assert post(server, "/api/ingest", body, {"Content-Type": ctype, "Authorization": "Bearer wrong"})[0] == 401


@pytest.mark.parametrize("name", ["../evil.txt", "..\\evil.txt", "/etc/passwd", "sub/dir.txt", ".hidden", "..",
                                  "a\x00b.txt"])
def test_an_upload_with_a_path_in_its_name_is_refused(writable: tuple[Server, Path], name: str) -> None:
    server, db = writable
    body, ctype = multipart([(name, b"Jeremy Corbyn said: \"I am staying.\"")])
    status, found = post(server, "/api/ingest", body, {"Content-Type": ctype, "Authorization": f"Bearer {TOKEN}"})
    assert status == 400, (name, found)
    assert not (db.parent.parent / "evil.txt").exists()


def test_a_too_large_upload_is_refused(writable: tuple[Server, Path]) -> None:
    server, _db = writable
    body, ctype = multipart([("big.txt", b"word " * 20_000)])
    status, found = post(server, "/api/ingest", body, {"Content-Type": ctype, "Authorization": f"Bearer {TOKEN}"})
    assert status == 413, found


def test_ingest_and_analyze_with_the_token(writable: tuple[Server, Path]) -> None:
    server, _db = writable
    text = b"Angela Eagle said: \"I will stand against Jeremy Corbyn for the leadership of the party.\"\n"
    body, ctype = multipart([("eagle.txt", text)])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, found = post(server, "/api/ingest", body, {"Content-Type": ctype, **auth})
    assert status == 200 and found["added"] == 1, found
    status, counts = post(server, "/api/analyze", b"", auth)
    assert status == 200, counts
    hits = json.loads(get(server, "/api/search?q=%22stand%20against%22")[2])
    assert hits


def test_a_story_page_without_briefs_still_shows_the_story(web_store: Path, tmp_path: Path) -> None:
    """A store analysed without the briefs stage (e.g. the 100k bench store) has story pages, without a brief."""
    import sqlite3

    db = tmp_path / "nobrief.db"
    shutil.copy(web_store, db)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM corpus_records WHERE stage = 'briefs'")
        conn.execute("DELETE FROM corpus_results WHERE stage = 'briefs'")
    s = start(create_app(db))
    try:
        status, _h, page = get(s, "/stories/1")
        assert status == 200 and "No brief yet" in page and "Quotes by speaker" in page
        status, _h, body = get(s, "/api/stories/1")
        assert status == 200 and json.loads(body)["brief"]["sentences"] == []
        assert get(s, "/stories/99999")[0] == 404
    finally:
        s.stop()
