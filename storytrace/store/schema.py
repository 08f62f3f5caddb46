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
    (
        "0005_quote_index",
        """
        -- Quotation search (web /search, /api/quotes): one row per stored quotation, keyed by (article num,
        -- quote = its position in the article's `quotes` stage payload), so a hit leads straight to the quote.
        -- The filter fields are copied from the article (outlet, published day) so that a search reads neither
        -- article rows (they carry whole texts) nor payloads it will not show. Only the `quotes` stage is
        -- indexed: speakers are resolved inside it (stages.quotes writes `speaker` and `source`); the
        -- `speakers` stage is a corpus-wide count with nothing per quotation.
        CREATE TABLE quote_index (
            id INTEGER PRIMARY KEY,
            article_num INTEGER NOT NULL REFERENCES articles(num),
            quote INTEGER NOT NULL,
            content TEXT NOT NULL,
            speaker TEXT,
            source TEXT,
            outlet TEXT,
            day TEXT,
            UNIQUE (article_num, quote)
        );
        CREATE INDEX quote_index_outlet ON quote_index(outlet, day);
        CREATE INDEX quote_index_day ON quote_index(day);
        -- External content: the text lives once, in quote_index; the triggers below keep the index in step.
        CREATE VIRTUAL TABLE quotes_fts USING fts5(
            content, speaker, source, content='quote_index', content_rowid='id', tokenize='unicode61'
        );
        INSERT INTO quote_index (article_num, quote, content, speaker, source, outlet, day)
            SELECT a.num, j.key, coalesce(json_extract(j.value, '$.content'), ''), json_extract(j.value, '$.speaker'),
                   json_extract(j.value, '$.source'), a.outlet, substr(a.published, 1, 10)
            FROM stage_results s JOIN articles a ON a.id = s.article_id, json_each(s.payload, '$.quotes') j
            WHERE s.stage = 'quotes' AND s.status = 'done'
            ORDER BY a.num, j.key;
        INSERT INTO quotes_fts (quotes_fts) VALUES ('rebuild');
        CREATE TRIGGER quote_index_ai AFTER INSERT ON quote_index BEGIN
            INSERT INTO quotes_fts (rowid, content, speaker, source)
                VALUES (new.id, new.content, new.speaker, new.source);
        END;
        CREATE TRIGGER quote_index_ad AFTER DELETE ON quote_index BEGIN
            INSERT INTO quotes_fts (quotes_fts, rowid, content, speaker, source)
                VALUES ('delete', old.id, old.content, old.speaker, old.source);
        END;
        CREATE TRIGGER quote_index_au AFTER UPDATE OF content, speaker, source ON quote_index BEGIN
            INSERT INTO quotes_fts (quotes_fts, rowid, content, speaker, source)
                VALUES ('delete', old.id, old.content, old.speaker, old.source);
            INSERT INTO quotes_fts (rowid, content, speaker, source)
                VALUES (new.id, new.content, new.speaker, new.source);
        END;
        -- Kept current by triggers on stage_results, so every writer (runner, Spark load) updates it in its own
        -- transaction. INSERT OR REPLACE fires no DELETE trigger (recursive_triggers is off), so the insert
        -- trigger drops the article's rows first: a re-run replaces them, never duplicates them.
        CREATE TRIGGER stage_results_quotes_ai AFTER INSERT ON stage_results WHEN new.stage = 'quotes' BEGIN
            DELETE FROM quote_index WHERE article_num = (SELECT num FROM articles WHERE id = new.article_id);
            INSERT INTO quote_index (article_num, quote, content, speaker, source, outlet, day)
                SELECT a.num, j.key, coalesce(json_extract(j.value, '$.content'), ''),
                       json_extract(j.value, '$.speaker'), json_extract(j.value, '$.source'), a.outlet,
                       substr(a.published, 1, 10)
                FROM articles a, json_each(new.payload, '$.quotes') j
                WHERE a.id = new.article_id AND new.status = 'done';
        END;
        CREATE TRIGGER stage_results_quotes_au AFTER UPDATE ON stage_results WHEN new.stage = 'quotes' BEGIN
            DELETE FROM quote_index WHERE article_num = (SELECT num FROM articles WHERE id = old.article_id);
            DELETE FROM quote_index WHERE article_num = (SELECT num FROM articles WHERE id = new.article_id);
            INSERT INTO quote_index (article_num, quote, content, speaker, source, outlet, day)
                SELECT a.num, j.key, coalesce(json_extract(j.value, '$.content'), ''),
                       json_extract(j.value, '$.speaker'), json_extract(j.value, '$.source'), a.outlet,
                       substr(a.published, 1, 10)
                FROM articles a, json_each(new.payload, '$.quotes') j
                WHERE a.id = new.article_id AND new.status = 'done';
        END;
        CREATE TRIGGER stage_results_quotes_ad AFTER DELETE ON stage_results WHEN old.stage = 'quotes' BEGIN
            DELETE FROM quote_index WHERE article_num = (SELECT num FROM articles WHERE id = old.article_id);
        END;
        CREATE TRIGGER articles_quote_fields_au AFTER UPDATE OF outlet, published ON articles BEGIN
            UPDATE quote_index SET outlet = new.outlet, day = substr(new.published, 1, 10)
                WHERE article_num = new.num;
        END;
        """,
    ),
]
