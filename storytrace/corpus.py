"""Corpus: the library's front door. Open a store, ingest, analyze, query, report, export."""

from __future__ import annotations

import hashlib
import platform
import sys
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from storytrace.model import Article, IngestReport
from storytrace.runner import AnalyzeCounts
from storytrace.settings import Settings
from storytrace.store import ArticleRow, Store

if TYPE_CHECKING:
    from storytrace.scale.load import LoadCounts


def versions() -> dict[str, str]:
    """Versions of storytrace and the packages whose behaviour shapes its results."""
    found = {"python": platform.python_version()}
    for name in ("storytrace", "spacy", "trafilatura", "warcio", "charset-normalizer", "pyarrow"):
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return found


class Corpus:
    """A corpus of articles in one SQLite store.

    >>> with Corpus("labour.db") as corpus:          # doctest: +SKIP
    ...     corpus.ingest(["examples/"])
    ...     corpus.analyze()
    """

    def __init__(self, db: str | Path | None = None, *, settings: Settings | None = None,
                 readonly: bool = False) -> None:
        base = settings or Settings.from_env()
        self.settings = base if db is None else base.replace(db=Path(db))
        self.store = Store(self.settings.db, readonly=readonly)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self, command: str) -> int:
        return self.store.start_run(command, settings=self.settings.as_dict(), versions=versions(),
                                    wait=self.settings.lock_wait)

    # -- writing -----------------------------------------------------------------------------------
    def ingest(self, inputs: Iterable[str | Path], *, manifest: Path | None = None,
               stdin: BinaryIO | None = None, on_item: Callable[[str], None] | None = None) -> IngestReport:
        """Read files, folders, globs or "-" (stdin) into the store; bad items are reported, not fatal."""
        from storytrace.ingest.pipeline import ingest

        names = [str(i) for i in inputs]
        run_id = self._start("ingest " + " ".join(names))
        status, counts_dict = "failed", {}
        try:
            counts = ingest(self.store, names, settings=self.settings, run_id=run_id, manifest=manifest,
                            stdin=stdin, on_item=on_item)
            counts_dict = counts.as_dict()
            status = "partial" if counts.errors else "ok"
        finally:
            self.store.finish_run(run_id, status=status, counts=counts_dict, inputs=self._input_digest(run_id))
        return IngestReport(added=counts.added, duplicates=counts.duplicates,
                            unchanged=counts.unchanged, errors=tuple(counts.errors),
                            run_id=run_id, updated=counts.updated, recleaned=counts.recleaned)

    def _input_digest(self, run_id: int) -> list[dict[str, Any]]:
        rows = self.store.conn.execute(
            "SELECT path, record, sha256 FROM sources WHERE run_id = ? ORDER BY path, record", (run_id,)
        ).fetchall()
        digest = hashlib.sha256("".join(f"{p}\0{r}\0{s}\n" for p, r, s in rows).encode()).hexdigest()
        return [{"sources": len(rows), "sha256": digest, "detail": "see the sources table, run_id"}]

    def analyze(self, stages: list[str] | None = None) -> AnalyzeCounts:
        """Run the analysis stages that are stale (all registered stages by default)."""
        from storytrace.runner import analyze

        run_id = self._start("analyze " + " ".join(stages or []))
        status, counts_dict = "failed", {}
        try:
            counts = analyze(self.store, settings=self.settings, run_id=run_id, stages=stages)
            counts_dict = counts.as_dict()
            status = "partial" if counts.errors else "ok"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            self.store.finish_run(run_id, status=status, counts=counts_dict)
        return counts

    def load(self, folder: str | Path) -> LoadCounts:
        """Load a Spark engine output (``storytrace analyze --engine spark``) into the store; re-runnable."""
        from storytrace.scale.load import load

        run_id = self._start(f"load {folder}")
        status, counts_dict = "failed", {}
        try:
            counts = load(self.store, folder, settings=self.settings, run_id=run_id)
            counts_dict = counts.as_dict()
            status = "partial" if counts.errors else "ok"
        finally:
            self.store.finish_run(run_id, status=status, counts=counts_dict)
        return counts

    # -- reading -----------------------------------------------------------------------------------
    def articles(self, *, limit: int = 50, offset: int = 0, outlet: str | None = None) -> list[ArticleRow]:
        return self.store.list_articles(limit=limit, offset=offset, outlet=outlet)

    def article(self, ref: str) -> Article:
        """One article by number, id or unique id prefix."""
        return self.store.get_article(ref)

    def iter_articles(self) -> Iterable[Article]:
        return self.store.iter_articles()

    def quotes(self, *, speaker: str | None = None, article: str | None = None) -> Iterator[dict[str, Any]]:
        """Yield the stored quotations, one flat record each, with the article's id, source and outlet.

        ``speaker`` keeps quotes whose resolved speaker or source mention contains it (any case);
        ``article`` is a number, id or id prefix.
        """
        if article is not None:
            article_id = self.store.resolve_ref(article)
            stream: Iterable[tuple[str, Any]] = [(article_id, self.store.stage_payloads(article_id, ["quotes"])
                                                  .get("quotes", {"quotes": []}))]
        else:
            stream = self.store.iter_stage_payloads("quotes")
        needle = speaker.casefold() if speaker else None
        for article_id, payload in stream:
            rows = [
                q for q in payload["quotes"]
                if needle is None or needle in (q.get("speaker") or "").casefold()
                or needle in (q.get("source") or "").casefold()
            ]
            if not rows:
                continue
            info = self.store.article_info([article_id]).get(article_id, {})
            for q in rows:
                yield {"article_id": article_id, "source_path": info.get("source_path"),
                       "outlet": info.get("outlet"), "published": info.get("published"), **q}

    def actors(self, *, name: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Canonical actors (run 'analyze' first), most mentioned first; ``name`` filters by any name variant.

        Each has its id, name, kind, variants, roles with date and evidence offsets, affiliations and the
        reason for every merge; ``mentions`` lists where it is named, with why each mention belongs to it.
        """
        result = self.store.corpus_result("actors")
        if result is None:
            return []
        needle = name.casefold() if name else None
        found = [a for a in result[1].get("actors", [])
                 if needle is None or any(needle in v.casefold() for v in [a["name"], *a["variants"]])][:limit]
        if needle is None:
            return found
        detailed = []
        for actor in found:  # one actor's full record: roles with evidence, merges, every mention
            rows = self.store.corpus_records("actors", key=actor["id"], limit=10**6)
            head = next((p for _k, a, p in rows if a is None), actor)
            detailed.append({**head, "mentions_detail": [{"article_id": a, **p} for _k, a, p in rows if a is not None]})
        return detailed

    def stories(self, *, story: int | None = None, limit: int = 100,
                max_articles: int | None = None) -> list[dict[str, Any]]:
        """Story clusters (run 'analyze' first), largest first, or one story with its articles and reasons.

        With ``story``, ``max_articles`` keeps the story's first articles only (in the order they joined it; its
        ``size`` still counts them all): a page shows a few hundred of a story that may hold thousands.
        """
        if story is not None:
            # The story's own record comes first (rowid order), then its articles.
            wanted = 10**6 if max_articles is None else max_articles + 1
            rows = self.store.corpus_records("stories", key=str(story), limit=wanted)
            if not rows:
                from storytrace.errors import StoreError

                raise StoreError(f"no story {story}: see 'storytrace stories' for the list", code="E205")
            head = next(p for _k, a, p in rows if a is None)
            members = [{"article_id": a, **p} for _k, a, p in rows if a is not None]
            info = self.store.article_info([m["article_id"] for m in members])
            for m in members:
                m["outlet"] = info.get(m["article_id"], {}).get("outlet")
            return [{**head, "articles": members}]
        result = self.store.corpus_result("stories")
        return [] if result is None else list(result[1].get("largest", []))[:limit]

    def stances(self, *, actor: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Each actor's stance toward each target over time (run 'analyze' first), with changes and evidence.

        ``actor`` keeps holders whose name contains it (any case).
        """
        needle = actor.casefold() if actor else None
        rows = self.store.corpus_records("stance_changes", limit=10**6)
        return [p for _k, a, p in rows if a is None and (needle is None or needle in p["holder"].casefold())][:limit]

    def stance_statements(self) -> Iterator[dict[str, Any]]:
        """Every stance statement with its article, date, outlet and evidence offsets."""
        for article_id, payload in self.store.iter_stage_payloads("stances"):
            info = self.store.article_info([article_id]).get(article_id, {})
            for s in payload["statements"]:
                yield {"article_id": article_id, "outlet": info.get("outlet"), **s,
                       "date": s.get("date") or info.get("published")}

    def facts(self, *, story: int | None = None) -> list[dict[str, Any]]:
        """Facts aligned across the articles of each story (or one story), with agree/conflict and citations."""
        # Records are keyed "<story>:<n>": one story's facts are an index range, not the whole stage.
        prefix = None if story is None else f"{story}:"
        rows = self.store.corpus_records("fact_alignment", key_prefix=prefix, limit=10**6)
        return [p for _k, _a, p in rows if story is None or str(p["story"]) == str(story)]

    def brief(self, story: int) -> dict[str, Any]:
        """One story's brief: cited sentences in chronological order, with the story's stances and facts."""
        from storytrace.errors import StoreError

        rows = self.store.corpus_records("briefs", key=str(story), limit=10)
        if not rows:
            self.stories(story=story, max_articles=0)  # no such story: that error first
            raise StoreError(f"no brief for story {story}: run 'storytrace analyze' first", code="E206")
        head = self.stories(story=story)[0]
        brief = rows[0][2]
        members = {m["article_id"] for m in head["articles"]}
        info = self.store.article_info(sorted(members))
        for s in brief["sentences"]:
            s["outlet"] = info.get(s["article_id"], {}).get("outlet")
            s["title"] = info.get(s["article_id"], {}).get("title")
        # The holders with a stance in a member article (stance_changes records per article), then their
        # summaries by key: work bounded by the story's size, not the corpus's.
        holders: dict[str, None] = {}
        for article_id in sorted(members):
            for key, _a, _p in self.store.corpus_records("stance_changes", article_id=article_id, limit=10**4):
                holders.setdefault(key)
        summaries = [p for h in holders for _k, a, p in self.store.corpus_records("stance_changes", key=h, limit=10**4)
                     if a is None]
        stances = [{**p, "timeline": [t for t in p["timeline"] if t["article_id"] in members]} for p in summaries]
        stances = [p for p in stances if p["timeline"]]
        return {"story": head, "brief": brief, "stances": stances, "facts": self.facts(story=story),
                "articles": {a: info.get(a, {}) for a in sorted(members)}}

    def inferred_dates(self) -> dict[str, dict[str, Any]]:
        """Publication dates the ``timeline`` stage inferred for articles whose metadata has none, by article id.

        Ingest metadata is never overwritten; readers that need an article's date use the stored one, else
        this (each value carries ``source: inferred``, a confidence and evidence offsets).
        """
        return {a: p["published"] for _k, a, p in self.store.corpus_records("timeline", key="published", limit=10**7)
                if a is not None and p.get("published") and p["published"].get("source") == "inferred"}

    def dates(self, *, article: str | None = None) -> Iterator[dict[str, Any]]:
        """Yield every time expression (run 'analyze' first) with its article, offsets, type, value and anchor.

        Values are resolved against the article's publication date: the stored one, else the date the
        ``timeline`` stage inferred (``published_source`` is then "inferred"), else left relative.
        """
        wanted = self.store.resolve_ref(article) if article is not None else None
        final = {a: p for _k, a, p in self.store.corpus_records("timeline", key="published", article_id=wanted,
                                                                   limit=10**7) if a is not None}
        if wanted is not None:
            stream: Iterable[tuple[str, Any]] = [(wanted, self.store.stage_payloads(wanted, ["dates"]).get("dates"))]
        else:
            stream = self.store.iter_stage_payloads("dates")
        for article_id, payload in stream:
            payload = final.get(article_id) or payload
            if not payload:
                continue
            info = self.store.article_info([article_id]).get(article_id, {})
            published = payload.get("published") or {}
            for t in payload["timex"]:
                yield {"article_id": article_id, "source_path": info.get("source_path"),
                       "published": published.get("value"), "published_source": published.get("source"), **t}

    def timeline(self, *, story: int | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        """Dated events in date order (run 'analyze' first), each with every citation and any date conflicts.

        ``story`` keeps the events cited by that story's articles (see ``stories``).
        """
        members: set[str] | None = None
        if story is not None:
            self.stories(story=story, max_articles=0)  # no such story: its error, as before
        events = []
        for key, _a, payload in self.store.corpus_records("timeline", limit=10**7):
            if not key.startswith("event:"):
                continue
            if story is not None and members is None:  # the story's articles, read once there are events
                members = {m["article_id"] for m in self.stories(story=story)[0]["articles"]}
            if members is not None and not any(c["article_id"] in members for c in payload["citations"]):
                continue
            events.append({"id": key, **payload})
        return events[:limit]

    def groups(self, stage: str, *, limit: int = 50, offset: int = 0) -> list[tuple[str, list[dict[str, Any]]]]:
        """A page of a corpus stage's groups (duplicates, variants): (group key, member payloads with article_id)."""
        return [
            (key, [{"article_id": a, **p} for _, a, p in self.store.corpus_records(stage, key=key, limit=100_000)])
            for key in self.store.corpus_keys(stage, limit=limit, offset=offset)
        ]

    def coverage(self) -> list[dict[str, Any]]:
        """Articles per outlet and publication month, for coverage charts."""
        return self.store.coverage()

    def search(self, query: str, *, limit: int = 20) -> list[tuple[str, str]]:
        return self.store.search(query, limit=limit)

    def report(self, *, format: str = "markdown") -> str:
        """The corpus report as Markdown, HTML or JSON."""
        from storytrace import report

        return report.render(report.build(self.store), format=format)

    def export(self, out: str | Path, *, format: str) -> Path:
        """Export articles (with provenance and a run manifest) as JSONL, CSV or Parquet; one row per quotation
        (speaker, actor, article, outlet, date, offsets, confidence) as ``quotes-csv``, ``quotes-jsonl`` or
        ``quotes-parquet``; stance statements as DNA-style statements (``dna``) or a network (``gexf``,
        ``graphml``); quotation spans as W3C Web Annotations (``annotations``)."""
        from storytrace.export import export_articles

        if format.startswith("quotes-"):
            from storytrace.export import statements

            return statements.export(self.store, Path(out), format=format[len("quotes-"):],
                                     manifest=self.manifest())
        if format == "dna":
            from storytrace.export import dna

            return dna.export(self.stance_statements(), Path(out), manifest=self.manifest())
        if format in ("gexf", "graphml"):
            from storytrace.export import gexf, graphml

            writer = gexf if format == "gexf" else graphml
            return writer.export(self.stance_statements(), Path(out), manifest=self.manifest())
        if format == "annotations":
            from storytrace.export import webannotation

            return webannotation.export(self._quoted_texts(), Path(out), manifest=self.manifest())
        return export_articles(self.store, Path(out), format=format, manifest=self.manifest())

    def _quoted_texts(self) -> Iterator[tuple[str, str, str | None, list[dict[str, Any]]]]:
        """(article id, raw text, url, quotes) for every article with quotations, for span exports."""
        for article_id, payload in self.store.iter_stage_payloads("quotes"):
            if payload.get("quotes"):
                article = self.store.get_article(article_id)
                url = article.meta.url.value if article.meta.url else None
                yield article_id, article.raw_text, url, payload["quotes"]

    def manifest(self) -> dict[str, Any]:
        """What produced this store: versions, the latest runs with their settings and input hashes."""
        return {
            "store": str(self.settings.db),
            "schema": self.store.migrations(),
            "versions": versions(),
            "argv": sys.argv,
            "runs": self.store.runs(limit=10),
        }
