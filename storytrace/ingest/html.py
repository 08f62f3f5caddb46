"""Extract an HTML page's main text and metadata with trafilatura.

The main text is plain text, one paragraph per line; it becomes the article's raw text, so cleaning
and every offset downstream refer to it. Extraction never raises: a page with nothing extractable
(or nothing but site furniture) gives empty text, and the caller reports it (ItemError E110).
"""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Iterator
from copy import copy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import htmldate
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction, fromstring
from trafilatura import bare_extraction
from trafilatura.settings import Extractor
from trafilatura.utils import load_html, repair_faulty_html

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


@lru_cache(maxsize=8)
def _extractor(options: tuple[tuple[str, Any], ...]) -> Extractor:
    """trafilatura's option object for ``trafilatura_options``, built once per settings.

    ``bare_extraction`` takes a ready ``Extractor`` (its documented ``options`` argument); building one
    per page re-reads trafilatura's config file values each time (about 1 ms per page).
    """
    kw = dict(options)
    return Extractor(output_format="python", fast=kw["fast"], precision=kw["favor_precision"],
                     recall=kw["favor_recall"], comments=kw["include_comments"], tables=kw["include_tables"],
                     dedup=kw["deduplicate"], with_metadata=False)


def _page_extractor(settings: Settings, url: str | None) -> Extractor:
    options = copy(_extractor(tuple(sorted(trafilatura_options(settings).items()))))
    options.url = url
    options.source = url and url.encode("utf-8", "replace").decode("utf-8")  # as Extractor.__init__ sets it
    return options


# The parser trafilatura uses (trafilatura.utils.HTML_PARSER, same settings), but every element built
# with lxml's C-level default class lookup: lxml.html's own lookup is a Python function, called for
# each element the extractor touches (about 5% of the extraction time). All elements are still
# HtmlElement; only the form-control subclasses of lxml.html (which nothing here uses) are not made.
_PARSER = etree.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
                           remove_pis=True)
_PARSER.set_element_class_lookup(etree.ElementDefaultClassLookup(
    element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity))
# Characters trafilatura strips before parsing (trafilatura.utils.INVALID_XML_CHARS), as UTF-8 bytes.
_CONTROL_BYTES = bytes(range(0x09)) + b"\x0b\x0c" + bytes(range(0x0e, 0x20))
_REPAIR_SPAN = 4096


def parse_html(html: str) -> HtmlElement | None:
    """Parse a page as ``trafilatura.utils.load_html`` does, about three times faster; None if it is not HTML.

    trafilatura's loader runs a regular expression over the whole page to drop control characters
    (5 ms on a 150 KB page, more than the parse itself). Here a byte-level scan (0.4 ms) decides
    whether that pass is needed; pages that have such characters, or that the fast parse cannot
    handle, go through trafilatura's loader unchanged. Its other repairs (a DOCTYPE with a URL, a
    self-closed <html/>) only ever touch the first lines, so they are applied to the first 4 KB (cut
    after a newline) rather than the whole page. The result is the same tree (checked on the Zyte pages).
    """
    data = html.encode("utf-8", "surrogatepass")
    if len(data.translate(None, _CONTROL_BYTES)) != len(data) or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:
        return load_html(html)
    beginning = html[:50].lower()
    cut = html.find("\n", _REPAIR_SPAN)
    head = html if cut == -1 else html[: cut + 1]
    repaired = repair_faulty_html(head, beginning)
    if repaired != head:
        data = (repaired + html[len(head):]).encode("utf-8", "surrogatepass")
    try:
        tree = fromstring(data, parser=_PARSER)
    except Exception:  # lxml refuses some input trafilatura's loader still recovers: let it
        return load_html(html)
    if tree is None or len(tree) < 1:
        return load_html(html)
    if "html" not in beginning and len(tree) < 2:  # trafilatura's "is this HTML at all" rejection
        return None
    return tree


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value or None


# Metadata is read here from the page's standard markup (meta tags, JSON-LD, <title>, canonical link)
# plus htmldate, instead of trafilatura's metadata pass: that pass (authors searched in the body,
# categories, tags, licence) took about 40% of the extraction time on the Zyte pages (measured:
# 13.8 pages/s with it, 21.9 without, one core), and storytrace needs only these five fields.
_META_TITLE = ("og:title", "twitter:title", "dc.title", "title", "headline", "sailthru.title")
_META_SITE = ("og:site_name", "application-name", "twitter:site", "publisher", "dc.publisher")
_META_AUTHOR = ("author", "article:author", "byl", "dc.creator", "parsely-author", "sailthru.author",
                "cxenseparse:author", "citation_author")
_META_DATE = ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
              "date", "dc.date", "dc.date.issued", "dcterms.created", "sailthru.date", "parsely-pub-date",
              "citation_publication_date", "article.published", "published_time")
_ARTICLE_TYPES = ("article", "newsarticle", "reportagenewsarticle", "blogposting", "webpage", "report")


def _meta_tags(tree: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in tree.iter("meta"):
        key = (node.get("property") or node.get("name") or node.get("itemprop") or "").strip().lower()
        value = node.get("content") or node.get("datetime") or ""
        if key and value.strip() and key not in found:
            found[key] = value.strip()
    for node in tree.iter("time"):  # <time itemprop="datePublished" datetime="...">
        if (node.get("itemprop") or "").lower() == "datepublished" and node.get("datetime"):
            found.setdefault("datepublished", node.get("datetime"))
    return found


def _json_ld(tree: Any) -> Iterator[dict[str, Any]]:
    """Yield the article-like objects of the page's JSON-LD blocks (malformed blocks are skipped)."""
    for node in tree.iter("script"):
        if (node.get("type") or "").lower() != "application/ld+json" or not node.text:
            continue
        try:
            data = json.loads(node.text)
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                kind = item.get("@type")
                kinds = kind if isinstance(kind, list) else [kind]
                if any(isinstance(k, str) and k.lower() in _ARTICLE_TYPES for k in kinds):
                    yield item
                stack.extend(v for k, v in item.items() if k == "@graph")


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


def _first(meta: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((meta[k] for k in keys if k in meta), None)


def markup_metadata(tree: Any, *, url: str | None) -> dict[str, str | None]:
    """Read title, author, date, site name and canonical URL from a parsed page's markup."""
    meta = _meta_tags(tree)
    ld = next(_json_ld(tree), {})
    title = _first(meta, _META_TITLE) or (ld.get("headline") if isinstance(ld.get("headline"), str) else None)
    if not title:
        heading = next(tree.iter("h1"), None)
        title = heading.text_content() if heading is not None else None
    if not title:
        node = next(tree.iter("title"), None)
        title = node.text_content() if node is not None else None
    authors = _names(ld.get("author")) or [a for a in [_first(meta, _META_AUTHOR)] if a]
    authors = [a for a in authors if not a.startswith(("http://", "https://"))]
    site = _first(meta, _META_SITE) or next(iter(_names(ld.get("publisher"))), None)
    if site and site.startswith("@"):
        site = None  # a Twitter handle, not a name
    date = _first(meta, _META_DATE) or (ld.get("datePublished") if isinstance(ld.get("datePublished"), str) else None)
    if not date:
        try:
            date = htmldate.find_date(tree, extensive_search=False, original_date=True, url=url)
        except Exception:  # htmldate on arbitrary markup: no date is an answer
            date = None
    canonical = next((n.get("href") for n in tree.iter("link") if (n.get("rel") or "").lower() == "canonical"), None)
    return {"title": title, "author": "; ".join(dict.fromkeys(authors)) or None, "date": date, "sitename": site,
            "url": canonical or meta.get("og:url") or url, "description": _first(meta, ("og:description",
                                                                                         "description"))}


def extract_html(html: str, *, url: str | None, settings: Settings) -> HtmlExtract:
    """Return the main text and markup metadata of ``html``; empty text when there is none."""
    if not html or not html.strip():
        return HtmlExtract(text="", url=url)
    # Parse once, with trafilatura's own parser: the metadata is read from the tree first, because
    # extraction then prunes it in place.
    tree: Any = None
    found: dict[str, str | None] = {"url": url}
    try:
        tree = parse_html(html)
        if tree is not None:
            found = markup_metadata(tree, url=url)
    except Exception:  # unparseable markup: let trafilatura try on the string, without markup metadata
        tree = None
    try:
        document = bare_extraction(html if tree is None else tree, options=_page_extractor(settings, url))
    except Exception:  # a third-party parser on arbitrary input: any failure means "nothing extractable"
        document = None
    if document is None or isinstance(document, dict):
        return HtmlExtract(text="", url=url)
    text = unicodedata.normalize("NFC", getattr(document, "text", None) or "").strip()
    if all(chrome_reason(line) for line in text.splitlines() if line.strip()):
        text = ""  # nothing but site furniture ("Home", "Share"): no main text on this page
    return HtmlExtract(
        text=text,
        title=_text(found.get("title")),
        author=_text(found.get("author")),
        date=_text(found.get("date")),
        sitename=_text(found.get("sitename")),
        url=_text(found.get("url")) or url,
        description=_text(found.get("description")),
        language=_text(getattr(document, "language", None)),
    )
