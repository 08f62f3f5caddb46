"""The SQLite store: schema, migrations and every query. The only package that speaks SQL."""

from storytrace.store.store import ArticleRow, SourceRef, Store, clean_hash

__all__ = ["ArticleRow", "SourceRef", "Store", "clean_hash"]
