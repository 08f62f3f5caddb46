"""The web app against hostile stores and hostile requests: stored XSS in every field a page shows (found by
crawling every linked page and parsing it), FTS5 syntax errors, and schemathesis over the OpenAPI."""

from __future__ import annotations

import json
import os
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlparse

import pytest

pytest.importorskip("fastapi", reason="the web extra is not installed")

from storytrace.corpus import Corpus  # noqa: E402
from storytrace.settings import Settings  # noqa: E402
from storytrace.web.app import create_app  # noqa: E402
from tests.conftest import EXAMPLES  # noqa: E402
from tests.test_web import Server, start  # noqa: E402 (a real uvicorn server on 127.0.0.1)

# Payloads from the usual XSS cheat sheets: tags, attributes, URLs, template and SVG tricks.
PAYLOADS = [
    "<script>alert('s')</script>",
    "<img src=x onerror=alert('i')>",
    "\"><svg onload=alert('v')>",
    "'><iframe src=javascript:alert('f')>",
    "<a href=\"javascript:alert('a')\">click</a>",
    "{{ 7*7 }}{% raw %}",
    "</textarea><style>*{x:expression(alert(1))}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('m')>",
    "\u202e<b>reversed</b>",
]


def hostile_records() -> list[dict[str, str]]:
    out = []
    for i, p in enumerate(PAYLOADS):
        out.append({"title": f"{p} story {i}", "outlet": f"{p} Outlet", "author": p,
                    "published": f"2016-07-{i + 1:02d}", "url": "javascript:alert('url')",
                    "text": f"Jeremy Corbyn said: \"{p} is not how we do politics.\"\n\n"
                            f"Tom Watson said the leader should resign {p}, according to {p} sources.\n\n"
                            f"\"We will fight on,\" said Len McCluskey {p}. On Monday 172-40 MPs voted."})
    return out


def poison(db: Path) -> None:
    """Put payloads where only the analysis writes: speaker names, source mentions, actor names and roles."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT article_id, payload FROM stage_results WHERE stage = 'quotes'").fetchall()
        for n, (article_id, payload) in enumerate(rows):
            data = json.loads(payload)
            for q in data.get("quotes", []):
                q["speaker"] = PAYLOADS[n % len(PAYLOADS)]
            conn.execute("UPDATE stage_results SET payload = ? WHERE article_id = ? AND stage = 'quotes'",
                         (json.dumps(data), article_id))
        actors = conn.execute("SELECT rowid, payload FROM corpus_records WHERE stage = 'actors'").fetchall()
        for rowid, payload in actors:
            data = json.loads(payload)
            if "name" in data:
                data["name"] = PAYLOADS[rowid % len(PAYLOADS)] + " " + data["name"]
                data["variants"] = [*data.get("variants", []), PAYLOADS[(rowid + 1) % len(PAYLOADS)]]
            conn.execute("UPDATE corpus_records SET payload = ? WHERE rowid = ?", (json.dumps(data), rowid))


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("xss")
    feed = folder / "hostile.jsonl"
    feed.write_text("".join(json.dumps(r) + "\n" for r in hostile_records()), encoding="utf-8")
    db = folder / "xss.db"
    with Corpus(settings=Settings(db=db, progress=False, quote_parse=False)) as c:
        c.ingest([str(EXAMPLES), str(feed)])
        c.analyze(["quotes", "dates", "facts", "stances", "actors", "stories", "timeline", "variants",
                   "stance_changes", "fact_alignment", "briefs"])
    poison(db)
    return db


class Answer:
    def __init__(self, status_code: int, headers: Any, body: bytes) -> None:
        self.status_code, self.headers, self.content = status_code, {k.lower(): v for k, v in headers.items()}, body
        self.text = body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class Client:
    """Plain HTTP against the live server (starlette's TestClient warns on this httpx version)."""

    def __init__(self, server: Server) -> None:
        self.base = server.base

    def request(self, method: str, path: str, *, params: dict[str, str] | None = None, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Answer:
        url = self.base + path + (("&" if "?" in path else "?") + urlencode(params) if params else "")
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return Answer(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Answer(e.code, e.headers, e.read())

    def get(self, path: str, params: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, params=params)

    def upload(self, name: str, data: bytes, headers: dict[str, str] | None = None) -> Answer:
        from tests.test_web import multipart

        body, ctype = multipart([(name, data)])
        return self.request("POST", "/api/ingest", body=body, headers={"Content-Type": ctype, **(headers or {})})


@pytest.fixture(scope="module")
def server(hostile_store: Path) -> Iterator[Server]:
    s = start(create_app(hostile_store, token="t0ken", max_upload_bytes=10 * 1024 * 1024))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> Client:
    return Client(server)


class Markup(HTMLParser):
    """Collect what a browser would run: script elements, event-handler attributes, javascript: URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.dangers: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed", "base", "img"} and tag != "img" or (
                tag == "img" and any(k == "onerror" for k, _ in attrs)):
            self.dangers.append(f"<{tag}>")
        for key, value in attrs:
            if key.startswith("on"):
                self.dangers.append(f"<{tag} {key}=...>")
            if key in {"href", "src", "action", "formaction", "xlink:href"} and value:
                if value.strip().lower().startswith(("javascript:", "data:text/html", "vbscript:")):
                    self.dangers.append(f"<{tag} {key}={value!r}>")
                if key == "href":
                    self.links.append(value)


def crawl(client: Client, *, limit: int = 400) -> dict[str, tuple[int, str]]:
    """Every same-origin page reachable from / (bounded), with its status and body."""
    seen: dict[str, tuple[int, str]] = {}
    todo = ["/", "/articles", "/stories", "/actors", "/search?q=Corbyn", "/search?speaker=script"]
    while todo and len(seen) < limit:
        path = todo.pop(0)
        if path in seen:
            continue
        r = client.get(path)
        seen[path] = (r.status_code, r.text)
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        parser = Markup()
        parser.feed(r.text)
        for link in parser.links:
            target = urlparse(urljoin(client.base + path, link))
            if target.netloc == urlparse(client.base).netloc and not target.path.startswith("/static"):
                todo.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


def test_no_page_runs_stored_markup(client: Client) -> None:
    pages = crawl(client)
    assert len(pages) >= 30, sorted(pages)
    assert any(p.startswith("/articles/") for p in pages) and any(p.startswith("/actors/") for p in pages)
    for path, (status, body) in pages.items():
        assert status < 500, (path, status, body[:300])
        parser = Markup()
        parser.feed(body)
        assert parser.dangers == [], (path, parser.dangers)
    shown = "".join(body for _status, body in pages.values())
    assert "&lt;script&gt;alert(&#39;s&#39;)&lt;/script&gt;" in shown  # the payloads are there, as text
    assert "{{ 7*7 }}{% raw %}" in shown  # a template payload is shown, never evaluated


def test_every_answer_carries_the_security_headers(client: Client) -> None:
    for path in ["/", "/articles", "/api/overview", "/api/articles?limit=3", "/nope", "/api/search?q=%22"]:
        r = client.get(path)
        assert r.headers["content-security-policy"].startswith("default-src 'none'")
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"


BAD_FTS = ['"', "a AND", "OR", "NEAR(", "*", "(a", "a)", "title:", "nosuchcolumn:x", "^", "a NOT", '"unterminated',
           "NEAR(a b, -1)", "a + + b", "{a b}", "-", ":", "''", "\\"]


@pytest.mark.parametrize("query", BAD_FTS)
def test_fts_syntax_errors_are_clear_400s_everywhere(client: Client, query: str) -> None:
    for path in ("/api/search", "/api/quotes", "/search"):
        r = client.get(path, params={"q": query})
        assert r.status_code in (200, 400), (path, query, r.status_code, r.text[:200])
        if r.status_code == 400 and path.startswith("/api/"):
            assert "cannot search" in r.json()["error"]


def test_upload_names_and_sizes_are_confined(client: Client) -> None:
    auth = {"Authorization": "Bearer t0ken"}
    for name in ["../../etc/passwd", "..", "/abs.txt", "a/b.txt", "a\\b.txt", ".hidden", "%2e%2e%2fx", "x;y|z.txt"]:
        r = client.upload(name, b"Corbyn said hello.", headers=auth)
        assert r.status_code in (400, 422), (name, r.status_code, r.text)
    assert client.upload("ok.txt", b"x").status_code == 401
    assert client.upload("ok.txt", b"x", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.upload("big.txt", b"a " * (6 * 1024 * 1024), headers=auth).status_code == 413


# -- schemathesis -----------------------------------------------------------------------------------------------
def test_schemathesis_finds_no_server_errors(server: Server) -> None:
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings

    schema = schemathesis.openapi.from_url(server.base + "/openapi.json")  # writes need the token: 401s
    failures: list[str] = []
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        # derandomize: the same requests on every run, so CI is reproducible; explore more with
        # STORYTRACE_SCHEMATHESIS_RANDOM=1 (a random run found the integer-overflow 500 fixed in d1d4fa5).
        @hsettings(max_examples=40, deadline=None, database=None,
                   derandomize=not os.environ.get("STORYTRACE_SCHEMATHESIS_RANDOM"),
                   suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            nonlocal tried
            tried += 1
            response = case.call()
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query}: {response.status_code}")

        check()
    print(f"schemathesis: {tried} generated requests, {len(failures)} server errors")
    assert tried >= 100
    assert failures == [], failures[:10]


@pytest.mark.parametrize("path", ["/api/actors?offset=99999999999999999999",
                                  "/api/articles?offset=99999999999999999999", "/api/quotes?offset=-1",
                                  "/api/articles?limit=0"])
def test_out_of_range_paging_is_a_422_not_a_crash(client: Client, path: str) -> None:
    # Regression: schemathesis found /api/actors?offset past sys.maxsize answering 500 (islice overflow).
    assert client.get(path).status_code == 422


def test_huge_numbers_in_paths_are_client_errors_not_500s(server: Server) -> None:
    # Regression: schemathesis sent /api/articles/<a 30-digit number> (SQLite integer overflow -> 500).
    import urllib.error
    import urllib.request

    for path in ("/api/articles/" + "9" * 30, "/api/stories/" + "9" * 30, "/api/stories/" + "9" * 30 + "/timeline",
                 "/articles/" + "9" * 30):
        try:
            status = urllib.request.urlopen(server.base + path).status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert 400 <= status < 500, (path, status)
