"""Store: the one object that owns the SQLite file; every read and write of the corpus goes through it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storytrace.errors import StoreBusyError, StoreError
from storytrace.model import Article, Cleaned, ItemError, Metadata, MetaValue, RemovedLine, StageOutput
from storytrace.store.lock import WriteLock
from storytrace.store.schema import MIGRATIONS

BUSY_TIMEOUT_MS = 30_000


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class SourceRef:
    """Where one ingested document came from."""

    path: str
    record: str
    sha256: str


@dataclass(frozen=True)
class ArticleRow:
    """An article's listing fields, without its texts."""

    num: int
    id: str
    title: str | None
    outlet: str | None
    author: str | None
    published: str | None
    published_source: str | None
    format: str
    words: int
    removed: int
    sources: int


class Store:
    """A storytrace corpus in one SQLite file (WAL mode)."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._lock = WriteLock(self.path)
        self._open_runs: set[int] = set()
        if readonly and not self.path.exists():
            raise StoreError(f"no store at {self.path}: run 'storytrace ingest' first", code="E202")
        try:
            if readonly:
                uri = f"file:{self.path.resolve()}?mode=ro{'&immutable=1' if _on_readonly_medium(self.path) else ''}"
                self.conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
                self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # fail here, not on first use
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                self.conn.execute("PRAGMA journal_mode = WAL")
                self.conn.execute("PRAGMA synchronous = NORMAL")
                self.migrate()
        except OSError as exc:  # the folder cannot be created
            raise StoreError(f"cannot create the store's folder {self.path.parent}: {exc.strerror}",
                             code="E208") from exc
        except sqlite3.DatabaseError as exc:
            if _kind(exc) in ("notadb", "corrupt"):
                raise StoreError(f"cannot open store {self.path}: {exc} (is it a storytrace database?)") from exc
            raise self.write_error(exc, opening=True) from exc

    # -- lifecycle -------------------------------------------------------------------------------
    def close(self) -> None:
        self._lock.release()
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write_error(self, exc: sqlite3.Error, *, opening: bool = False) -> StoreError:
        """A clear, coded error for a failed write: busy, read-only, disk full, or an I/O error."""
        what = "open" if opening else "write to"
        wal = f"{self.path.name}-wal and {self.path.name}-shm"
        kind = _kind(exc)
        if kind == "busy":
            return StoreBusyError(f"the store {self.path} is busy: another process holds a write lock on it ({exc}); "
                                  "wait for it to finish and try again")
        if kind in ("readonly", "cantopen"):
            return StoreError(f"cannot {what} the store {self.path}: it is read-only for this user ({exc}); "
                              f"SQLite needs write access to the file and to its folder (for {wal}). Fix the "
                              "permissions, or copy the store somewhere writable; to only read it, use "
                              "'storytrace serve' or the read-only commands", code="E208")
        if kind == "full":
            return StoreError(f"cannot {what} the store {self.path}: the disk is full or a file size limit was "
                              f"reached ({exc}). Free some space and run the same command again: finished batches "
                              "are kept and the rest resumes", code="E207")
        if kind == "ioerr":
            return StoreError(f"cannot {what} the store {self.path}: the operating system refused the write "
                              f"({exc}); a full disk or a file size limit is the usual cause. Free some space and "
                              "run the same command again: finished batches are kept", code="E209")
        return StoreError(f"cannot {what} the store {self.path}: {exc}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run a block as one IMMEDIATE transaction: all of it lands, or none of it.

        SQLite errors become coded ``StoreError``s (busy, read-only, disk full, I/O); after a failed write
        SQLite may already have rolled back, so the rollback here is only attempted while one is open.
        """
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self.write_error(exc) from exc
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, sqlite3.Error):
                raise self.write_error(exc) from exc
            raise

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:  # nothing left to undo: SQLite rolled back on its own
                pass

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded; return their names."""
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        done = {r[0] for r in self.conn.execute("SELECT name FROM schema_migrations")}
        applied = []
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with self.transaction() as conn:
                # executescript would COMMIT our transaction; run statements one by one instead.
                for statement in _split_sql(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, now()))
            applied.append(name)
        return applied

    def migrations(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM schema_migrations ORDER BY name")]

    # -- runs ------------------------------------------------------------------------------------
    def start_run(self, command: str, *, settings: dict[str, Any], versions: dict[str, str],
                  wait: float = 0.0) -> int:
        """Record a writing command and take the store's write lock (lock.py) until ``finish_run``.

        Another process holding the lock makes this raise ``StoreBusyError`` (after ``wait`` seconds).
        """
        self._lock.acquire(command, wait=wait)
        try:
            with self.transaction() as conn:
                cur = conn.execute(
                    "INSERT INTO runs (command, started_at, versions, settings) VALUES (?, ?, ?, ?)",
                    (command, now(), _dumps(versions), _dumps(settings)),
                )
                run_id = int(cur.lastrowid or 0)
        except BaseException:
            if not self._open_runs:
                self._lock.release()
            raise
        self._open_runs.add(run_id)
        return run_id

    def finish_run(self, run_id: int, *, status: str, counts: dict[str, Any], inputs: Sequence[Any] = ()) -> None:
        try:
            with self.transaction() as conn:
                conn.execute(
                    "UPDATE runs SET finished_at = ?, status = ?, counts = ?, inputs = ? WHERE id = ?",
                    (now(), status, _dumps(counts), _dumps(list(inputs)), run_id),
                )
        finally:
            self._open_runs.discard(run_id)
            if not self._open_runs:
                self._lock.release()

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        out = []
        for r in rows:
            d = dict(r)
            for key in ("versions", "settings", "inputs", "counts"):
                d[key] = json.loads(d[key])
            out.append(d)
        return out

    # -- ingest ----------------------------------------------------------------------------------
    def source_sha(self, path: str, record: str) -> str | None:
        row = self.conn.execute("SELECT sha256 FROM sources WHERE path = ? AND record = ?", (path, record)).fetchone()
        return None if row is None else str(row[0])

    def has_article(self, article_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    def add_article(
        self, conn: sqlite3.Connection, article: Article, *, source: SourceRef, line_keys: Iterable[str], run_id: int
    ) -> str:
        """Store one article and its source inside the caller's transaction.

        Returns "added", "duplicate" (content already stored; this source recorded too), "unchanged"
        (this source with these bytes is already stored) or "updated" (the source's content changed:
        it now points at the new content, the old article is kept).
        """
        stamp = now()
        known = conn.execute(
            "SELECT sha256, article_id FROM sources WHERE path = ? AND record = ?", (source.path, source.record)
        ).fetchone()
        if known is not None and known["sha256"] == source.sha256:
            return "unchanged"
        exists = conn.execute("SELECT 1 FROM articles WHERE id = ?", (article.id,)).fetchone() is not None
        if not exists:
            meta = article.meta
            conn.execute(
                """INSERT INTO articles (id, format, raw_text, html, clean_text, clean_hash, segments, title,
                   outlet, author, published, url, meta, chars, words, run_id, ingested_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    article.id, article.format, article.raw_text, article.html, article.clean.text,
                    clean_hash(article.clean.text), _dumps(article.clean.segments),
                    article.title, article.outlet, article.author, article.published,
                    meta.url.value if meta.url else None,
                    _dumps({k: v.to_dict() for k, v in meta.fields().items()}),
                    len(article.raw_text), len(article.clean.text.split()), run_id, stamp,
                ),
            )
            self._write_removed(conn, article.id, article.clean.removed)
            if article.outlet:
                conn.executemany(
                    """INSERT INTO line_counts (outlet, key, n) VALUES (?, ?, 1)
                       ON CONFLICT (outlet, key) DO UPDATE SET n = n + 1""",
                    [(article.outlet, key) for key in set(line_keys)],
                )
        if known is not None:
            conn.execute(
                "UPDATE sources SET sha256 = ?, article_id = ?, run_id = ?, added_at = ? WHERE path = ? AND record = ?",
                (source.sha256, article.id, run_id, stamp, source.path, source.record),
            )
            return "updated"
        conn.execute(
            "INSERT INTO sources (path, record, sha256, article_id, run_id, added_at) VALUES (?, ?, ?, ?, ?, ?)",
            (source.path, source.record, source.sha256, article.id, run_id, stamp),
        )
        return "duplicate" if exists else "added"

    def _write_removed(self, conn: sqlite3.Connection, article_id: str, removed: Iterable[RemovedLine]) -> None:
        conn.execute("DELETE FROM removed_lines WHERE article_id = ?", (article_id,))
        conn.executemany(
            "INSERT INTO removed_lines (article_id, start, end, reason, text) VALUES (?, ?, ?, ?, ?)",
            [(article_id, r.start, r.end, r.reason, r.text) for r in removed],
        )

    def record_errors(self, run_id: int, errors: Iterable[ItemError]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT INTO ingest_errors (run_id, path, record, code, message) VALUES (?, ?, ?, ?, ?)",
                [(run_id, e.source_path, e.record, e.code, e.message) for e in errors],
            )

    def ingest_errors(self, run_id: int | None = None) -> list[ItemError]:
        if run_id is None:
            row = self.conn.execute("SELECT max(run_id) FROM ingest_errors").fetchone()
            run_id = row[0]
        rows = self.conn.execute(
            "SELECT path, record, message, code FROM ingest_errors WHERE run_id = ? ORDER BY rowid", (run_id,)
        )
        return [ItemError(r[0], r[1], r[2], r[3]) for r in rows]

    # -- cross-article boilerplate -----------------------------------------------------------------
    def outlet_sizes(self) -> dict[str, int]:
        rows = self.conn.execute("SELECT outlet, count(*) FROM articles WHERE outlet IS NOT NULL GROUP BY outlet")
        return {r[0]: r[1] for r in rows}

    def outlet_boilerplate(self, *, min_articles: int, min_share: float) -> dict[str, frozenset[str]]:
        """Lines seen in at least ``min_articles`` and ``min_share`` of an outlet's articles."""
        sizes = self.outlet_sizes()
        found: dict[str, set[str]] = {}
        rows = self.conn.execute("SELECT outlet, key, n FROM line_counts WHERE n >= ?", (min_articles,))
        for outlet, key, n in rows:
            if n >= min_share * sizes.get(outlet, 0):
                found.setdefault(outlet, set()).add(key)
        return {outlet: frozenset(keys) for outlet, keys in found.items()}

    def cleaned_against(self) -> dict[str, str]:
        """Per outlet, the hash of the boilerplate lines its articles were last all cleaned against."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT outlet, lines_hash FROM outlet_cleaned")}

    def set_cleaned_against(self, outlet: str, lines_hash: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO outlet_cleaned (outlet, lines_hash) VALUES (?, ?)",
                         (outlet, lines_hash))

    def update_clean(self, conn: sqlite3.Connection, article_id: str, cleaned: Cleaned) -> None:
        conn.execute(
            "UPDATE articles SET clean_text = ?, clean_hash = ?, segments = ?, words = ? WHERE id = ?",
            (cleaned.text, clean_hash(cleaned.text), _dumps(cleaned.segments), len(cleaned.text.split()), article_id),
        )
        self._write_removed(conn, article_id, cleaned.removed)

    # -- reading articles ----------------------------------------------------------------------------
    def count_articles(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM articles").fetchone()[0])

    def resolve_ref(self, ref: str) -> str:
        """Turn a user's article reference (number, id or unique id prefix) into an article id."""
        ref = ref.strip()
        if ref.isascii() and ref.isdigit() and int(ref) < 2**63:  # SQLite integers are 64-bit
            row = self.conn.execute("SELECT id FROM articles WHERE num = ?", (int(ref),)).fetchone()
            if row:
                return str(row[0])
        rows = self.conn.execute(
            "SELECT id FROM articles WHERE id >= ? AND id < ? LIMIT 2", (ref, ref + "\uffff")
        ).fetchall()
        if len(rows) == 1:
            return str(rows[0][0])
        if not rows:
            raise StoreError(f"no article {ref!r}: see 'storytrace articles' for numbers and ids", code="E203")
        raise StoreError(f"article reference {ref!r} is ambiguous: give more characters of the id", code="E204")

    def get_article(self, ref: str) -> Article:
        article_id = self.resolve_ref(ref)
        row = self.conn.execute("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        return self._article_from_row(row)

    def iter_articles(self, *, outlet: str | None = None, ids: Sequence[str] | None = None,
                      page: int = 200) -> Iterator[Article]:
        """Yield articles in ``num`` order, a page at a time (bounded memory at any corpus size)."""
        if ids is not None:
            for i in range(0, len(ids), page):
                chunk = list(ids[i : i + page])
                marks = ",".join("?" * len(chunk))
                found = self.conn.execute(f"SELECT * FROM articles WHERE id IN ({marks}) ORDER BY num", chunk)
                yield from (self._article_from_row(r) for r in found.fetchall())
            return
        last = 0
        while True:
            if outlet is None:
                rows = self.conn.execute(
                    "SELECT * FROM articles WHERE num > ? ORDER BY num LIMIT ?", (last, page)
                ).fetchall()
            else:
                rows = self.conn.execute(
                    "SELECT * FROM articles WHERE num > ? AND outlet = ? ORDER BY num LIMIT ?", (last, outlet, page)
                ).fetchall()
            if not rows:
                return
            for r in rows:
                yield self._article_from_row(r)
            last = rows[-1]["num"]

    def _article_from_row(self, row: sqlite3.Row) -> Article:
        article_id = row["id"]
        removed = tuple(
            RemovedLine(r[0], r[1], r[2], r[3])
            for r in self.conn.execute(
                "SELECT start, end, text, reason FROM removed_lines WHERE article_id = ? ORDER BY start", (article_id,)
            )
        )
        segments = tuple((s[0], s[1], s[2]) for s in json.loads(row["segments"]))
        meta_fields = {k: MetaValue.from_dict(v) for k, v in json.loads(row["meta"]).items()}
        sources = tuple(
            f"{r[0]} ({r[1]})" if r[1] else r[0]
            for r in self.conn.execute(
                "SELECT path, record FROM sources WHERE article_id = ? ORDER BY added_at, path", (article_id,)
            )
        )
        return Article(
            id=article_id,
            raw_text=row["raw_text"],
            clean=Cleaned(row["clean_text"], segments, removed),
            meta=Metadata.from_fields(meta_fields),
            format=row["format"],
            sources=sources,
            html=row["html"],
            content_hash=row["clean_hash"],
        )

    def list_articles(self, *, limit: int = 50, offset: int = 0, outlet: str | None = None) -> list[ArticleRow]:
        where, params = ("WHERE outlet = ?", [outlet]) if outlet else ("", [])
        # The page's numbers first, from an index (articles_num, articles_outlet): skipping OFFSET rows of the
        # table itself would step through every skipped article's text.
        rows = self.conn.execute(
            f"""SELECT a.num, a.id, a.title, a.outlet, a.author, a.published, a.format, a.words,
                       json_extract(a.meta, '$.published.source') AS published_source,
                       (SELECT count(*) FROM removed_lines r WHERE r.article_id = a.id) AS removed,
                       (SELECT count(*) FROM sources s WHERE s.article_id = a.id) AS sources
                FROM articles a
                WHERE a.num IN (SELECT num FROM articles {where} ORDER BY num LIMIT ? OFFSET ?)
                ORDER BY a.num""",
            [*params, limit, offset],
        )
        return [
            ArticleRow(r["num"], r["id"], r["title"], r["outlet"], r["author"], r["published"],
                       r["published_source"], r["format"], r["words"], r["removed"], r["sources"])
            for r in rows
        ]

    def article_info(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Listing fields (title, outlet, published, first source path) for the given article ids."""
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(ids), 500):
            chunk = list(ids[i : i + 500])
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"""SELECT a.id, a.num, a.title, a.outlet, a.published,
                           (SELECT s.path FROM sources s WHERE s.article_id = a.id ORDER BY s.added_at LIMIT 1)
                    FROM articles a WHERE a.id IN ({marks})""",
                chunk,
            )
            for r in rows:
                out[r[0]] = {"num": r[1], "title": r[2], "outlet": r[3], "published": r[4], "source_path": r[5]}
        return out

    def article_sources(self, article_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT * FROM sources WHERE article_id = ? ORDER BY added_at", (article_id,))
        return [dict(r) for r in rows]

    def search(self, query: str, *, limit: int = 20) -> list[tuple[str, str]]:
        """Full-text search over titles and clean text; returns (article id, snippet)."""
        try:
            rows = self.conn.execute(
                """SELECT a.id, snippet(articles_fts, 1, '[', ']', ' … ', 12) FROM articles_fts
                   JOIN articles a ON a.num = articles_fts.rowid
                   WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?""",
                (query, limit),
            ).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot search for {query!r}: {exc} (check the quotes and operators)",
                             code="E205") from exc
        return [(r[0], r[1]) for r in rows]

    def has_quote_index(self) -> bool:
        """Whether the store has the quotation index (migration 0005; a read-only open does not migrate)."""
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'quote_index'").fetchone() is not None

    def quote_hits(self, query: str = "", *, speaker: str = "", outlet: str = "", date_from: str = "",
                   date_to: str = "", limit: int = 50, offset: int = 0,
                   ordered_up_to: int = 5000) -> list[tuple[str, int]]:
        """A page of stored quotations as (article id, position in its ``quotes`` payload), from ``quote_index``.

        ``query`` is FTS5 syntax over the quotation text, best rank first; without it, newest first (by the
        article's published day, undated last; the day indexes serve the outlet and date filters in that order).
        When the query (or, without one, the speaker) matches more than ``ordered_up_to`` quotations, they come
        last-indexed first instead: FTS5 then streams them in rowid order and stops at the page, whereas ranking
        or sorting costs every match (a few us each: ~0.5 s for a word in 80k quotations).
        ``speaker`` keeps quotations whose resolved speaker or source mention contains it (case folded for
        ASCII, as SQLite's lower()); without a query it is looked up in the index by word prefix first, so
        it must start a word there ("McClus" finds "Len McCluskey", "Cluskey" does not). ``date_from`` and
        ``date_to`` compare the article's published day (YYYY-MM-DD); undated articles never pass them.
        """
        where: list[str] = []
        params: list[Any] = []
        words = re.findall(r"\w+", speaker)
        if query:
            source = "quotes_fts JOIN quote_index q ON q.id = quotes_fts.rowid"
            where.append("quotes_fts.content MATCH ?")  # the quotation text only, not the speaker columns
            params.append(query)
            order = "quotes_fts.rank"
        elif words:
            source = "quotes_fts JOIN quote_index q ON q.id = quotes_fts.rowid"
            where.append("quotes_fts MATCH ?")
            params.append("{speaker source} : (" + " AND ".join(f'"{w}"*' for w in words) + ")")
            order = "q.day DESC, q.article_num, q.quote"
        else:
            source, order = "quote_index q", "q.day DESC, q.article_num, q.quote"
        if speaker:
            where.append("(instr(lower(coalesce(q.speaker, '')), lower(?)) OR instr(lower(coalesce(q.source, '')), "
                         "lower(?)))")
            params += [speaker, speaker]
        for clause, value in (("q.outlet = ?", outlet), ("q.day >= ?", date_from), ("q.day <= ?", date_to)):
            if value:
                where.append(clause)
                params.append(value)
        try:
            if source != "quote_index q":
                # Is there a match past the bound? The FTS5 match alone, read only that far: cheap, and the same
                # answer for every page of the search.
                beyond = self.conn.execute(f"SELECT rowid FROM quotes_fts WHERE {where[0]} LIMIT 1 OFFSET ?",
                                           (params[0], ordered_up_to)).fetchone()
                if beyond is not None:
                    order = "quotes_fts.rowid DESC"
            sql = (f"SELECT a.id, q.quote FROM {source} JOIN articles a ON a.num = q.article_num"
                   f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY {order} LIMIT ? OFFSET ?")
            rows = self.conn.execute(sql, [*params, limit, offset]).fetchall()
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot search for {query!r}: {exc} (check the quotes and operators)",
                             code="E205") from exc
        return [(r[0], r[1]) for r in rows]

    def quotes_at(self, refs: Sequence[tuple[str, int]]) -> list[dict[str, Any] | None]:
        """The stored quotations at (article id, position in its ``quotes`` payload); None where there is none.

        SQLite cuts each one out of its payload (json_extract), so that one quotation of a long article does not
        cost decoding all of them in Python (that was most of a search's time on the 3k bench store).
        """
        out: list[dict[str, Any] | None] = []
        for article_id, n in refs:
            row = self.conn.execute(
                "SELECT json_extract(payload, ?) FROM stage_results WHERE article_id = ? AND stage = 'quotes' "
                "AND status = 'done'", (f"$.quotes[{int(n)}]", article_id)).fetchone()
            out.append(None if row is None or row[0] is None else json.loads(row[0]))
        return out

    # -- stage results -----------------------------------------------------------------------------
    def article_keys(self) -> Iterator[tuple[str, str]]:
        """Yield (article id, clean-text hash) for every article, in num order."""
        for row in self.conn.execute("SELECT id, clean_hash FROM articles ORDER BY num"):
            yield row[0], row[1]

    def stage_keys(self, stage: str) -> dict[str, tuple[str, str]]:
        rows = self.conn.execute("SELECT article_id, input_key, status FROM stage_results WHERE stage = ?", (stage,))
        return {r[0]: (r[1], r[2]) for r in rows}

    def save_stage_outputs(self, conn: sqlite3.Connection, outputs: Iterable[tuple[StageOutput, str]],
                           *, run_id: int) -> None:
        stamp = now()
        conn.executemany(
            """INSERT OR REPLACE INTO stage_results
               (article_id, stage, input_key, status, payload, summary, error, run_id, updated_at)
               VALUES (?, ?, ?, 'done', ?, ?, NULL, ?, ?)""",
            [(o.article_id, o.stage, key, _dumps(o.payload), _dumps(o.summary), run_id, stamp) for o, key in outputs],
        )

    def save_stage_error(self, conn: sqlite3.Connection, article_id: str, stage: str, key: str, error: str,
                         *, run_id: int) -> None:
        conn.execute(
            """INSERT OR REPLACE INTO stage_results
               (article_id, stage, input_key, status, payload, summary, error, run_id, updated_at)
               VALUES (?, ?, ?, 'error', NULL, '{}', ?, ?, ?)""",
            (article_id, stage, key, error, run_id, now()),
        )

    def stage_payloads(self, article_id: str, stages: Iterable[str] | None = None) -> dict[str, Any]:
        sql = "SELECT stage, payload FROM stage_results WHERE article_id = ? AND status = 'done'"
        args: list[str] = [article_id]
        if stages is not None:
            wanted = sorted(set(stages))
            sql += f" AND stage IN ({','.join('?' * len(wanted))})"  # placeholders only, values bound
            args += wanted
        return {r[0]: json.loads(r[1]) for r in self.conn.execute(sql, args)}

    def iter_stage_payloads(self, stage: str, *, page: int = 500) -> Iterator[tuple[str, Any]]:
        last = ""
        while True:
            rows = self.conn.execute(
                """SELECT article_id, payload FROM stage_results WHERE stage = ? AND status = 'done'
                   AND article_id > ? ORDER BY article_id LIMIT ?""",
                (stage, last, page),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield r[0], json.loads(r[1])
            last = rows[-1][0]

    def stage_summary(self) -> dict[str, dict[str, Any]]:
        """Per stage: articles done and in error, and summed summary counts."""
        out: dict[str, dict[str, Any]] = {}
        for stage, status, n in self.conn.execute(
            "SELECT stage, status, count(*) FROM stage_results GROUP BY stage, status"
        ):
            out.setdefault(stage, {"done": 0, "error": 0, "totals": {}})[status] = n
        for stage, summary in self.conn.execute("SELECT stage, summary FROM stage_results WHERE status = 'done'"):
            totals = out[stage]["totals"]
            for key, value in json.loads(summary).items():
                totals[key] = totals.get(key, 0) + value
        return out

    def stage_errors(self, stage: str | None = None, *, limit: int = 50) -> list[tuple[str, str, str]]:
        sql = "SELECT article_id, stage, error FROM stage_results WHERE status = 'error'"
        params: list[Any] = []
        if stage:
            sql += " AND stage = ?"
            params.append(stage)
        return [(r[0], r[1], r[2]) for r in self.conn.execute(sql + " LIMIT ?", [*params, limit])]

    def corpus_result(self, stage: str) -> tuple[str, Any] | None:
        row = self.conn.execute("SELECT input_key, payload FROM corpus_results WHERE stage = ?", (stage,)).fetchone()
        return None if row is None else (row[0], json.loads(row[1]))

    def save_corpus_result(self, stage: str, key: str, payload: Any, *, run_id: int,
                           records: Iterable[tuple[str, str | None, Any]] = ()) -> int:
        """Replace a corpus stage's summary and records in one transaction; return the record count."""
        n = 0
        with self.transaction() as conn:
            conn.execute("DELETE FROM corpus_records WHERE stage = ?", (stage,))
            batch: list[tuple[str, str, str | None, str]] = []
            for record_key, article_id, record in records:
                batch.append((stage, record_key, article_id, _dumps(record)))
                if len(batch) >= 5000:
                    conn.executemany("INSERT INTO corpus_records VALUES (?, ?, ?, ?)", batch)
                    n += len(batch)
                    batch = []
            conn.executemany("INSERT INTO corpus_records VALUES (?, ?, ?, ?)", batch)
            n += len(batch)
            conn.execute(
                "INSERT OR REPLACE INTO corpus_results (stage, input_key, payload, run_id, updated_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (stage, key, _dumps(payload), run_id, now()),
            )
        return n

    def corpus_keys(self, stage: str, *, limit: int = 50, offset: int = 0) -> list[str]:
        """A page of a corpus stage's record keys (groups, stories, actors), in the order they were written."""
        rows = self.conn.execute(
            "SELECT key FROM corpus_records WHERE stage = ? GROUP BY key ORDER BY min(rowid) LIMIT ? OFFSET ?",
            (stage, limit, offset),
        )
        return [r[0] for r in rows]

    def corpus_records(self, stage: str, *, key: str | None = None, article_id: str | None = None,
                       key_prefix: str | None = None, limit: int = 100,
                       offset: int = 0) -> list[tuple[str, str | None, Any]]:
        """Page through a corpus stage's records, optionally those of one key, key prefix or article."""
        sql, params = "SELECT key, article_id, payload FROM corpus_records WHERE stage = ?", [stage]
        if key is not None:
            sql += " AND key = ?"
            params.append(key)
        if key_prefix:
            # A range, not LIKE/GLOB, so that the (stage, key) index serves it whatever the pragmas.
            sql += " AND key >= ? AND key < ?"
            params += [key_prefix, key_prefix[:-1] + chr(ord(key_prefix[-1]) + 1)]
        if article_id is not None:
            sql += " AND article_id = ?"
            params.append(article_id)
        rows = self.conn.execute(sql + " ORDER BY rowid LIMIT ? OFFSET ?", [*params, limit, offset])
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    # -- overview ----------------------------------------------------------------------------------
    def coverage(self) -> list[dict[str, Any]]:
        """Articles per outlet and publication month (undated articles left out)."""
        rows = self.conn.execute(
            """SELECT coalesce(outlet, '(unknown)'), substr(published, 1, 7), count(*) FROM articles
               WHERE published IS NOT NULL GROUP BY 1, 2 ORDER BY 2, 1"""
        )
        return [{"outlet": r[0], "month": r[1], "articles": r[2]} for r in rows]

    def overview(self) -> dict[str, Any]:
        """Corpus figures for reports: sizes, outlets, dates, removed lines, metadata provenance."""
        c = self.conn
        n, words, chars = c.execute(
            "SELECT count(*), coalesce(sum(words), 0), coalesce(sum(chars), 0) FROM articles"
        ).fetchone()
        first, last = c.execute(
            "SELECT min(substr(published, 1, 10)), max(substr(published, 1, 10)) FROM articles"
        ).fetchone()
        outlets = [
            {"outlet": r[0], "articles": r[1]}
            for r in c.execute(
                "SELECT coalesce(outlet, '(unknown)'), count(*) FROM articles GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 100"
            )
        ]
        removed = {r[0]: r[1] for r in c.execute("SELECT reason, count(*) FROM removed_lines GROUP BY reason")}
        provenance: dict[str, dict[str, int]] = {}
        for field in ("title", "outlet", "author", "published"):
            rows = c.execute(
                f"SELECT coalesce(json_extract(meta, '$.{field}.source'), 'unknown'), count(*) "
                "FROM articles GROUP BY 1"
            )
            provenance[field] = {r[0]: r[1] for r in rows}
        return {
            "articles": n,
            "words": words,
            "chars": chars,
            "sources": c.execute("SELECT count(*) FROM sources").fetchone()[0],
            "first_published": first,
            "last_published": last,
            "outlets": outlets,
            "removed_lines": removed,
            "metadata_sources": provenance,
            "formats": {r[0]: r[1] for r in c.execute("SELECT format, count(*) FROM articles GROUP BY format")},
            "stages": self.stage_summary(),
        }


def _on_readonly_medium(path: Path) -> bool:
    """True when nobody can write beside the store and it has no WAL to replay, so SQLite may treat it as
    immutable (a WAL store on a read-only mount cannot otherwise be opened: there is no -shm to create)."""
    wal = Path(f"{path}-wal")
    return not os.access(path.resolve().parent, os.W_OK) and (not wal.exists() or wal.stat().st_size == 0)


def _kind(exc: sqlite3.Error) -> str:
    """What kind of failure an SQLite error is: busy, readonly, cantopen, full, ioerr, notadb, corrupt or other."""
    name = (getattr(exc, "sqlite_errorname", None) or "").upper()
    for prefix, kind in (("SQLITE_BUSY", "busy"), ("SQLITE_LOCKED", "busy"), ("SQLITE_READONLY", "readonly"),
                         ("SQLITE_CANTOPEN", "cantopen"), ("SQLITE_FULL", "full"), ("SQLITE_IOERR", "ioerr"),
                         ("SQLITE_NOTADB", "notadb"), ("SQLITE_CORRUPT", "corrupt")):
        if name.startswith(prefix):
            return kind
    text = str(exc).lower()
    for needle, kind in (("locked", "busy"), ("busy", "busy"), ("readonly", "readonly"), ("read-only", "readonly"),
                         ("unable to open", "cantopen"), ("disk is full", "full"), ("disk i/o", "ioerr"),
                         ("not a database", "notadb"), ("malformed", "corrupt")):
        if needle in text:
            return kind
    return "other"


def clean_hash(text: str) -> str:
    """Short hash of a clean text: what stage results were computed from."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies (BEGIN ... END;) whole."""
    statements, buf = [], []
    in_trigger = False
    for line in script.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("--"):
            continue
        buf.append(line)
        upper = stripped.upper()
        if upper.startswith("CREATE TRIGGER"):
            in_trigger = True
        if in_trigger:
            if upper == "END;":
                statements.append("\n".join(buf))
                buf, in_trigger = [], False
        elif stripped.endswith(";"):
            statements.append("\n".join(buf))
            buf = []
    if buf:
        statements.append("\n".join(buf))
    return statements
