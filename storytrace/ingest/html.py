"""Extract an HTML page's main text and metadata with trafilatura.

The main text is plain text, one paragraph per line; it becomes the article's raw text, so cleaning
and every offset downstream refer to it. Extraction never raises: a page with nothing extractable
(or nothing but site furniture) gives empty text, and the caller reports it (ItemError E110).
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from typing import Any

from trafilatura import bare_extraction

from storytrace.ingest.clean import chrome_reason
from storytrace.settings import Settings

# trafilatura logs each page it discards at WARNING; the caller reports those pages itself (E110), so
# keep them off stderr unless the application configured logging to show them.
logging.getLogger("trafilatura").addHandler(logging.NullHandler())


@dataclass(frozen=True)
class HtmlExtract:
    """What a page yields: main text (paragraphs separated by newlines) and the metadata its markup gives."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None  # ISO date as found by trafilatura (htmldate), publication date preferred
    sitename: str | None = None
    url: str | None = None
    description: str | None = None
    language: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def markup(self) -> dict[str, str]:
        """The metadata as ``metadata.detect(markup=...)`` takes it (field name → value, non-empty only)."""
        pairs = (("title", self.title), ("author", self.author), ("published", self.date),
                 ("outlet", self.sitename), ("url", self.url))
        return {key: value for key, value in pairs if value}


def trafilatura_options(settings: Settings) -> dict[str, Any]:
    """The keyword options storytrace passes to trafilatura (also used by the extraction benchmark)."""
    return {
        # Reader comments are never the article; trafilatura includes them by default.
        "include_comments": False,
        "include_tables": True,
        "favor_precision": settings.html_favor_precision,
        "favor_recall": settings.html_favor_recall,
        # trafilatura's deduplication keeps a cache across calls: it would make extraction depend on
        # what was extracted before. Repeated lines are cleaning's job.
        "deduplicate": False,
        # trafilatura's documented fast mode skips its readability/justext fallbacks. Measured on the
        # Zyte benchmark (docs/benchmarks.md): about 1.3x the pages per second at no loss of F1
        # (0.9646 vs 0.9607 with the fallbacks); the benchmark has no held-out split, see there.
        "fast": True,
    }


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


def extract_html(html: str, *, url: str | None, settings: Settings) -> HtmlExtract:
    """Return the main text and markup metadata of ``html``; empty text when there is none."""
    if not html or not html.strip():
        return HtmlExtract(text="", url=url)
    try:
        document = bare_extraction(html, url=url, with_metadata=True, **trafilatura_options(settings))
    except Exception:  # a third-party parser on arbitrary input: any failure means "nothing extractable"
        document = None
    if document is None or isinstance(document, dict):
        return HtmlExtract(text="", url=url)
    text = unicodedata.normalize("NFC", getattr(document, "text", None) or "").strip()
    if all(chrome_reason(line) for line in text.splitlines() if line.strip()):
        text = ""  # nothing but site furniture ("Home", "Share"): no main text on this page
    return HtmlExtract(
        text=text,
        title=_text(document.title),
        author=_text(document.author),
        date=_text(document.date),
        sitename=_text(document.sitename),
        url=_text(document.url) or url,
        description=_text(document.description),
        language=_text(document.language),
        categories=tuple(c for c in (document.categories or ()) if isinstance(c, str) and c),
        tags=tuple(t for t in (document.tags or ()) if isinstance(t, str) and t),
    )
