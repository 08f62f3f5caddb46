"""Named, recorded schema migrations; applied in order, each in its own transaction.

Never edit a migration that has shipped: add a new one. ``schema_migrations`` records what ran.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            command TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL DEFAULT 'running',      -- running | ok | partial | failed
            versions TEXT NOT NULL DEFAULT '{}',          -- JSON: package versions
            settings TEXT NOT NULL DEFAULT '{}',          -- JSON: Settings.as_dict()
            inputs TEXT NOT NULL DEFAULT '[]',            -- JSON: [{path, record, sha256}]
            counts TEXT NOT NULL DEFAULT '{}'             -- JSON: what the run did
        );

        -- num is a stable small number for people; id is the content hash users and exports cite.
        CREATE TABLE articles (
            num INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            format TEXT NOT NULL,
            raw_text TEXT NOT NULL,                       -- as ingested, never modified
            html TEXT,                                    -- original markup for HTML input
            clean_text TEXT NOT NULL,
            clean_hash TEXT NOT NULL,
            segments TEXT NOT NULL,                       -- JSON [[clean_start, raw_start, length], ...]
            title TEXT, outlet TEXT, author TEXT, published TEXT, url TEXT,
            meta TEXT NOT NULL DEFAULT '{}',              -- JSON {field: MetaValue} with provenance
            chars INTEGER NOT NULL,
            words INTEGER NOT NULL,
            run_id INTEGER REFERENCES runs(id),
            ingested_at TEXT NOT NULL
        );
        CREATE INDEX articles_outlet ON articles(outlet);
        CREATE INDEX articles_published ON articles(published);

        -- Every place an article's content was read from (duplicates keep all their sources).
        CREATE TABLE sources (
            path TEXT NOT NULL,
            record TEXT NOT NULL DEFAULT '',
            sha256 TEXT NOT NULL,
            article_id TEXT NOT NULL REFERENCES articles(id),
            run_id INTEGER REFERENCES runs(id),
            added_at TEXT NOT NULL,
            PRIMARY KEY (path, record)
        );
        CREATE INDEX sources_article ON sources(article_id);

        CREATE TABLE removed_lines (
            article_id TEXT NOT NULL REFERENCES articles(id),
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            reason TEXT NOT NULL,
            text TEXT NOT NULL
        );
        CREATE INDEX removed_lines_article ON removed_lines(article_id);

        -- Cross-article boilerplate: in how many articles of an outlet a short line occurs.
        CREATE TABLE line_counts (
            outlet TEXT NOT NULL,
            key TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (outlet, key)
        ) WITHOUT ROWID;

        CREATE TABLE ingest_errors (
            run_id INTEGER NOT NULL REFERENCES runs(id),
            path TEXT NOT NULL,
            record TEXT NOT NULL DEFAULT '',
            code TEXT NOT NULL,
            message TEXT NOT NULL
        );

        -- Per-article stage results and status; input_key says what the result was computed from.
        CREATE TABLE stage_results (
            article_id TEXT NOT NULL REFERENCES articles(id),
            stage TEXT NOT NULL,
            input_key TEXT NOT NULL,
            status TEXT NOT NULL,                         -- done | error
            payload TEXT,                                 -- JSON
            summary TEXT NOT NULL DEFAULT '{}',           -- JSON counts for reports
            error TEXT,
            run_id INTEGER REFERENCES runs(id),
            updated_at TEXT NOT NULL,
            PRIMARY KEY (article_id, stage)
        ) WITHOUT ROWID;

        CREATE TABLE corpus_results (
            stage TEXT PRIMARY KEY,
            input_key TEXT NOT NULL,
            payload TEXT NOT NULL,
            run_id INTEGER REFERENCES runs(id),
            updated_at TEXT NOT NULL
        );

        CREATE VIRTUAL TABLE articles_fts USING fts5(
            title, clean_text, content='articles', content_rowid='num', tokenize='unicode61'
        );
        CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, title, clean_text) VALUES (new.num, new.title, new.clean_text);
        END;
        CREATE TRIGGER articles_ad AFTER DELETE ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, clean_text)
                VALUES ('delete', old.num, old.title, old.clean_text);
        END;
        CREATE TRIGGER articles_au AFTER UPDATE OF title, clean_text ON articles BEGIN
            INSERT INTO articles_fts(articles_fts, rowid, title, clean_text)
                VALUES ('delete', old.num, old.title, old.clean_text);
            INSERT INTO articles_fts(rowid, title, clean_text) VALUES (new.num, new.title, new.clean_text);
        END;
        """,
    ),
    (
        "0002_corpus_records",
        """
        -- Records produced by corpus stages (duplicate groups, quote-variant groups, stories, actors):
        -- many rows per stage, paged by key or by article; replaced whole when the stage re-runs.
        CREATE TABLE corpus_records (
            stage TEXT NOT NULL,
            key TEXT NOT NULL,
            article_id TEXT,
            payload TEXT NOT NULL
        );
        CREATE INDEX corpus_records_key ON corpus_records(stage, key);
        CREATE INDEX corpus_records_article ON corpus_records(stage, article_id);
        """,
    ),
    (
        "0003_outlet_cleaned",
        """
        -- The boilerplate line set (as a hash) every stored article of an outlet was last cleaned against.
        -- An ingest killed before its boilerplate refresh leaves articles cleaned against an older set; the
        -- next ingest sees the mismatch here and re-cleans them (ingest/pipeline.py, refresh_boilerplate).
        CREATE TABLE outlet_cleaned (
            outlet TEXT PRIMARY KEY,
            lines_hash TEXT NOT NULL
        );
        """,
    ),
    (
        "0004_articles_num",
        """
        -- A narrow index on the article number: paging the article list by OFFSET walks this index, not the
        -- table, whose rows carry whole texts (page 4,000 of 100k articles: ~1 s through the table at 40k rows,
        -- tens of ms through the index; docs/benchmarks.md, Web app latency).
        CREATE INDEX articles_num ON articles(num);
        """,
    ),
]
