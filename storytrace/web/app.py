"""The web app: server-rendered pages and a JSON API over one store; read-only unless started with a token."""

from __future__ import annotations

import hmac
import re
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from storytrace.corpus import Corpus
from storytrace.errors import InputError, StoreError, StorytraceError
from storytrace.settings import Settings
from storytrace.web import views

HERE = Path(__file__).resolve().parent
# No script runs on any page; styles and images only from this server (inline SVG is part of the document).
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_FILES = 100
# Story numbers in paths: bounded, so a huge number is a 422, never an integer overflow further down.
_STORY = PathParam(..., ge=0, le=2**31 - 1)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,200}$")


class WebError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def safe_filename(name: str | None) -> str:
    """Return an upload's file name if it is a plain name; refuse paths, traversal and hidden files."""
    if not name or "/" in name or "\\" in name or "\0" in name or ".." in name or not SAFE_NAME.match(name):
        raise WebError(400, f"refused upload file name {name!r}: give a plain file name, no folders or '..'")
    return name


def create_app(db: str | Path, *, token: str | None = None, settings: Settings | None = None,
               max_upload_bytes: int = MAX_UPLOAD_BYTES) -> FastAPI:
    """Build the app over the store at ``db``; ``token`` enables the ingest and analyze endpoints."""
    base = (settings or Settings.from_env()).replace(db=Path(db))
    if not Path(db).exists():
        raise StoreError(f"no store at {db}: run 'storytrace ingest' first", code="E202")
    cache = views.Cache(Path(db))
    local = threading.local()
    write_lock = threading.Lock()

    def corpus() -> Corpus:
        # One read-only connection per worker thread: sqlite3 connections are not shared across threads.
        found: Corpus | None = getattr(local, "corpus", None)
        if found is None:
            found = Corpus(settings=base, readonly=True)
            local.corpus = found
        return found

    app = FastAPI(title="storytrace", version=_version(), docs_url=None, redoc_url=None,
                  description="Who said what, who stands where, and what happened when, in a pile of news articles. "
                              "Read-only unless the server was started with --token.")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))
    env.globals["qs"] = lambda **kw: urlencode({k: v for k, v in kw.items() if v not in (None, "")})
    templates = Jinja2Templates(env=env)

    @app.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error_response(request: Request, status: int, message: str) -> Response:
        if is_api(request):
            return JSONResponse({"error": message}, status_code=status)
        return templates.TemplateResponse(request, "error.html", {"message": message, "status": status},
                                          status_code=status)

    @app.exception_handler(WebError)
    async def on_web_error(request: Request, exc: WebError) -> Response:
        return error_response(request, exc.status, exc.message)

    @app.exception_handler(StorytraceError)
    async def on_storytrace_error(request: Request, exc: StorytraceError) -> Response:
        # Missing things are 404; everything else (bad FTS5 syntax, ambiguous refs, bad input) is the caller's 400.
        missing = exc.code in {"E202", "E203", "E206"} or (exc.code == "E205" and str(exc.args[0]).startswith("no "))
        status = 404 if missing else 409 if exc.code == "E201" else 400  # E201: another command is writing
        return error_response(request, status, str(exc))

    def page(request: Request, template: str, /, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, template, {"writable": token is not None, **context})

    # -- pages ------------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview_page(request: Request) -> HTMLResponse:
        data = views.overview(corpus(), cache)
        return page(request, "overview.html", o=data, chart=views.coverage_chart(data["coverage"]),
                    actors=views.actor_index(corpus(), cache)[:20])

    @app.get("/articles", response_class=HTMLResponse, include_in_schema=False)
    def articles_page(request: Request, page_no: int = Query(1, alias="page", ge=1, le=100_000),
                      outlet: str = "") -> HTMLResponse:
        rows = corpus().articles(limit=views.PAGE_SIZE + 1, offset=(page_no - 1) * views.PAGE_SIZE,
                                 outlet=outlet or None)
        return page(request, "articles.html", rows=rows[: views.PAGE_SIZE], more=len(rows) > views.PAGE_SIZE,
                    page=page_no, outlet=outlet)

    @app.get("/articles/{ref}", response_class=HTMLResponse, include_in_schema=False)
    def article_page(request: Request, ref: str, start: int | None = Query(None, ge=0),
                     end: int | None = Query(None, ge=0)) -> HTMLResponse:
        view = views.article_view(corpus(), ref, start=start, end=end)
        return page(request, "article.html", v=view, a=view["article"])

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request, q: str = "", speaker: str = "", outlet: str = "", date_from: str = "",
                    date_to: str = "", page_no: int = Query(1, alias="page", ge=1, le=10_000)) -> HTMLResponse:
        _check_query(q, speaker, outlet, date_from, date_to)
        rows, more = views.page_of(views.search_quotes(corpus(), cache, q=q, speaker=speaker, outlet=outlet,
                                                       date_from=date_from, date_to=date_to), page=page_no)
        hits = corpus().search(q, limit=10) if q and page_no == 1 else []
        outlets = [o["outlet"] for o in views.overview(corpus(), cache)["outlets"]]
        return page(request, "search.html", rows=rows, more=more, page=page_no, hits=hits, outlets=outlets,
                    f={"q": q, "speaker": speaker, "outlet": outlet, "date_from": date_from, "date_to": date_to})

    @app.get("/stories", response_class=HTMLResponse, include_in_schema=False)
    def stories_page(request: Request) -> HTMLResponse:
        return page(request, "stories.html", stories=corpus().stories(limit=200))

    @app.get("/stories/{story}", response_class=HTMLResponse, include_in_schema=False)
    def story_page(request: Request, story: int = _STORY) -> HTMLResponse:
        return page(request, "story.html", s=views.story_view(corpus(), story), story=story,
                    actor_for=lambda n: views.actor_for_name(corpus(), cache, n))

    @app.get("/actors", response_class=HTMLResponse, include_in_schema=False)
    def actors_page(request: Request, name: str = "",
                    page_no: int = Query(1, alias="page", ge=1, le=100_000)) -> HTMLResponse:
        needle = name.casefold()
        found = (a for a in views.actor_index(corpus(), cache)
                 if not needle or any(needle in v.casefold() for v in [a["name"], *a["variants"]]))
        rows, more = views.page_of(found, page=page_no, size=50)
        return page(request, "actors.html", rows=rows, more=more, page=page_no, name=name)

    @app.get("/actors/{actor_id}", response_class=HTMLResponse, include_in_schema=False)
    def actor_page(request: Request, actor_id: str,
                   page_no: int = Query(1, alias="page", ge=1, le=10_000)) -> HTMLResponse:
        view = views.actor_view(corpus(), cache, actor_id, page=page_no)
        if view is None:
            raise WebError(404, f"no actor {actor_id!r}: see /actors")
        return page(request, "actor.html", v=view, actor_for=lambda n: views.actor_for_name(corpus(), cache, n))

    # -- API --------------------------------------------------------------------------------------
    @app.get("/api/overview", tags=["corpus"])
    def api_overview() -> dict[str, Any]:
        """Corpus figures: articles, outlets, dates, stories, top speakers, coverage per outlet and month."""
        return views.overview(corpus(), cache)

    @app.get("/api/articles", tags=["articles"])
    def api_articles(limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=100_000_000),
                     outlet: str | None = None) -> list[dict[str, Any]]:
        """A page of articles (listing fields, no texts)."""
        return [vars(r) for r in corpus().articles(limit=limit, offset=offset, outlet=outlet)]

    @app.get("/api/articles/{ref}", tags=["articles"])
    def api_article(ref: str) -> dict[str, Any]:
        """One article: metadata with provenance, raw and clean text, removed lines, sources, quotes and dates."""
        a = corpus().article(ref)
        payloads = corpus().store.stage_payloads(a.id, ["quotes", "dates"])
        return {"id": a.id, "title": a.title, "outlet": a.outlet, "author": a.author, "published": a.published,
                "format": a.format, "sources": list(a.sources),
                "metadata": {k: v.to_dict() for k, v in a.meta.fields().items()},
                "raw_text": a.raw_text, "clean_text": a.clean.text, "segments": [list(s) for s in a.clean.segments],
                "removed_lines": [r.to_dict() for r in a.clean.removed],
                "quotes": payloads.get("quotes", {}).get("quotes", []),
                "dates": (payloads.get("dates") or {}).get("timex", [])}

    @app.get("/api/quotes", tags=["quotes"])
    def api_quotes(q: str = "", speaker: str = "", outlet: str = "", date_from: str = "", date_to: str = "",
                   limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=100_000)) -> dict[str, Any]:
        """Quotations matching an FTS5 query and filters, each with article, offsets, speaker and confidence."""
        _check_query(q, speaker, outlet, date_from, date_to)
        rows, more = views.page_of(
            _skip(views.search_quotes(corpus(), cache, q=q, speaker=speaker, outlet=outlet, date_from=date_from,
                                      date_to=date_to), offset), page=1, size=limit)
        return {"quotes": rows, "offset": offset, "more": more}

    @app.get("/api/search", tags=["articles"])
    def api_search(q: str, limit: int = Query(20, ge=1, le=200)) -> list[dict[str, str]]:
        """Full-text search (SQLite FTS5 syntax) over titles and clean text: article ids with snippets."""
        _check_query(q)
        return [{"article_id": a, "snippet": s} for a, s in corpus().search(q, limit=limit)]

    @app.get("/api/stories", tags=["stories"])
    def api_stories(limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
        """Story clusters, largest first."""
        return corpus().stories(limit=limit)

    @app.get("/api/stories/{story}", tags=["stories"])
    def api_story(story: int = _STORY) -> dict[str, Any]:
        """One story's cited brief, articles, stances and facts (no brief sentences until 'briefs' has run).

        Without a brief, at most the story's first 200 articles are listed; ``story.size`` counts them all.
        """
        return views.story_brief(corpus(), story)

    @app.get("/api/stories/{story}/timeline", tags=["stories"])
    def api_story_timeline(limit: int = Query(200, ge=1, le=5000), story: int = _STORY) -> list[dict[str, Any]]:
        """Dated events cited by a story's articles, in date order."""
        return corpus().timeline(story=story, limit=limit)

    @app.get("/api/actors", tags=["actors"])
    def api_actors(name: str = "", limit: int = Query(50, ge=1, le=1000),
                   offset: int = Query(0, ge=0, le=100_000_000)) -> list[dict[str, Any]]:
        """Canonical actors, most mentioned first; ``name`` filters by any name variant."""
        needle = name.casefold()
        found = (a for a in views.actor_index(corpus(), cache)
                 if not needle or any(needle in v.casefold() for v in [a["name"], *a["variants"]]))
        return views.page_of(_skip(found, offset), page=1, size=limit)[0]

    @app.get("/api/actors/{actor_id}", tags=["actors"])
    def api_actor(actor_id: str, page_no: int = Query(1, alias="page", ge=1, le=10_000)) -> dict[str, Any]:
        """One actor: roles with evidence, a page of quotes, stances held and stances about them."""
        view = views.actor_view(corpus(), cache, actor_id, page=page_no)
        if view is None:
            raise WebError(404, f"no actor {actor_id!r}")
        return {k: view[k] for k in ("actor", "quotes", "more", "page", "stances", "about")}

    @app.get("/api/stances", tags=["actors"])
    def api_stances(actor: str = "", limit: int = Query(200, ge=1, le=5000)) -> list[dict[str, Any]]:
        """Each holder's stance toward each target over time, with evidence offsets and confidence."""
        return corpus().stances(actor=actor or None, limit=limit)

    @app.get("/api/manifest", tags=["corpus"])
    def api_manifest() -> dict[str, Any]:
        """What produced this store: versions, the latest runs with settings and input hashes."""
        found = corpus().manifest()
        found["store"] = Path(found["store"]).name  # do not reveal server paths
        found.pop("argv", None)
        return found

    # -- writes (only with a token) ----------------------------------------------------------------
    def require_token(request: Request) -> None:
        if token is None:
            raise WebError(403, "this server is read-only: start it with 'storytrace serve --token T' to allow writes")
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise WebError(401, "missing or wrong token: send 'Authorization: Bearer <token>'")

    @app.post("/api/ingest", tags=["writes"])
    def api_ingest(request: Request, files: list[UploadFile]) -> dict[str, Any]:
        """Ingest uploaded files (multipart field ``files``); needs the server's token. Size-limited."""
        require_token(request)
        length = int(request.headers.get("content-length") or 0)
        if length > max_upload_bytes:
            raise WebError(413, f"upload too large: {length} bytes, the limit is {max_upload_bytes}")
        if len(files) > MAX_UPLOAD_FILES:
            raise WebError(413, f"too many files: {len(files)}, the limit is {MAX_UPLOAD_FILES}")
        names = [safe_filename(f.filename) for f in files]
        folder = Path(tempfile.mkdtemp(prefix="storytrace-upload-"))
        try:
            total = 0
            for f, name in zip(files, names, strict=True):
                target = folder / name
                with open(target, "wb") as out:
                    while chunk := f.file.read(1 << 16):
                        total += len(chunk)
                        if total > max_upload_bytes:
                            raise WebError(413, f"upload too large: the limit is {max_upload_bytes} bytes")
                        out.write(chunk)
            with write_lock, Corpus(settings=base) as writer:
                report = writer.ingest([str(folder / n) for n in names])
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return {"added": report.added, "duplicates": report.duplicates, "unchanged": report.unchanged,
                "run_id": report.run_id,
                "errors": [{"file": Path(e.source_path).name, "code": e.code, "message": e.message.replace(
                    str(folder), "upload")} for e in report.errors]}

    @app.post("/api/analyze", tags=["writes"])
    def api_analyze(request: Request) -> dict[str, Any]:
        """Run the analysis stages that are out of date; needs the server's token."""
        require_token(request)
        with write_lock, Corpus(settings=base) as writer:
            return writer.analyze().as_dict()

    return app


def _skip(items: Any, n: int) -> Any:
    from itertools import islice

    return islice(items, n, None)


def _check_query(*values: str) -> None:
    for v in values:
        if len(v) > 500:
            raise InputError("query too long: at most 500 characters", code="E130")


def _version() -> str:
    from storytrace.corpus import versions

    return versions().get("storytrace", "0")
