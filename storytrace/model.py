"""Plain records that cross every boundary of storytrace.

Nothing here imports spaCy or speaks SQL: readers produce these, stages consume and produce them, the
store persists them, exporters and pages render them. Offsets are character offsets into an article's
``raw_text`` unless a field says otherwise.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

# Where a metadata value came from, most trusted first.
META_SOURCES = ("given", "markup", "url", "dateline", "byline", "chrome", "filename", "inferred")
META_FIELDS = ("title", "outlet", "author", "published", "url")


@dataclass(frozen=True)
class MetaValue:
    """One metadata value and the evidence for it."""

    value: str
    source: str  # one of META_SOURCES
    confidence: float = 1.0
    start: int | None = None  # evidence offsets in raw_text, when the value was read from the text
    end: int | None = None
    note: str = ""  # e.g. which markup field or chrome phrase gave it

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ""}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetaValue:
        return cls(**data)


@dataclass(frozen=True)
class RawDocument:
    """One document as a reader found it, before extraction and cleaning.

    ``text`` is the document's text as ingested (decoded). For HTML input ``html`` holds the markup
    and ``text`` is empty until main-text extraction fills the article's raw text.
    """

    source_path: str  # the path as the user named it (or "<stdin>")
    record: str = ""  # "" for a whole file; "line 3", "row 5", "record <WARC-Record-ID>" inside a container
    text: str = ""
    html: str | None = None
    format: str = "text"  # text | html | json | jsonl | csv | warc
    given: dict[str, str] = field(default_factory=dict)  # title/url/outlet/published/author supplied by the input
    encoding: str = "utf-8"
    source_sha256: str = ""  # hash of the bytes this document came from

    @property
    def location(self) -> str:
        return f"{self.source_path} ({self.record})" if self.record else self.source_path


@dataclass(frozen=True)
class ItemError:
    """A per-item failure: the item is skipped, the batch goes on."""

    source_path: str
    record: str
    message: str  # one line: what was wrong, and what to do where that helps
    code: str = "E000"

    @property
    def location(self) -> str:
        return f"{self.source_path} ({self.record})" if self.record else self.source_path

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True)
class RemovedLine:
    """A line dropped from the clean text, kept with the reason it was dropped."""

    start: int  # raw_text offsets
    end: int
    text: str
    reason: str  # caption | credit | repeated-in-article | outlet-boilerplate | related-links | chrome | ...

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Cleaned:
    """Clean text as an ordered selection of raw-text pieces, so every offset maps back.

    ``segments`` are ``(clean_start, raw_start, length)`` triples in increasing order; the clean text
    is the concatenation of those raw pieces (joined pieces may include separator newlines that are
    themselves taken from the raw text).
    """

    text: str
    segments: tuple[tuple[int, int, int], ...]
    removed: tuple[RemovedLine, ...] = ()

    def to_raw(self, offset: int) -> int:
        """Map a clean-text offset to the raw-text offset of the same character."""
        if not self.segments:
            return offset
        starts = [s[0] for s in self.segments]
        i = max(bisect.bisect_right(starts, offset) - 1, 0)
        clean_start, raw_start, length = self.segments[i]
        return raw_start + min(offset - clean_start, length)

    def span_to_raw(self, start: int, end: int) -> tuple[int, int]:
        """Map a clean-text span to raw offsets (end exclusive)."""
        if end <= start:
            r = self.to_raw(start)
            return r, r
        return self.to_raw(start), self.to_raw(end - 1) + 1


@dataclass(frozen=True)
class Metadata:
    """Detected metadata with provenance, plus raw-text spans of lines that are metadata, not body."""

    title: MetaValue | None = None
    outlet: MetaValue | None = None
    author: MetaValue | None = None
    published: MetaValue | None = None  # ISO date or datetime string
    url: MetaValue | None = None
    # (start, end, reason) raw spans of lines holding byline/dateline/headline chrome to drop from clean text
    lines: tuple[tuple[int, int, str], ...] = ()

    def fields(self) -> dict[str, MetaValue]:
        return {name: v for name in META_FIELDS if (v := getattr(self, name)) is not None}

    @classmethod
    def from_fields(cls, values: dict[str, MetaValue], *, lines: tuple[tuple[int, int, str], ...] = ()) -> Metadata:
        return cls(title=values.get("title"), outlet=values.get("outlet"), author=values.get("author"),
                   published=values.get("published"), url=values.get("url"), lines=lines)


@dataclass(frozen=True)
class Article:
    """An ingested article: raw text byte for byte, clean text, metadata with provenance."""

    id: str
    raw_text: str
    clean: Cleaned
    meta: Metadata
    format: str = "text"
    sources: tuple[str, ...] = ()  # every location this content was ingested from
    html: str | None = None
    content_hash: str = ""

    @property
    def clean_text(self) -> str:
        return self.clean.text

    @property
    def title(self) -> str | None:
        return self.meta.title.value if self.meta.title else None

    @property
    def outlet(self) -> str | None:
        return self.meta.outlet.value if self.meta.outlet else None

    @property
    def published(self) -> str | None:
        return self.meta.published.value if self.meta.published else None

    @property
    def author(self) -> str | None:
        return self.meta.author.value if self.meta.author else None


@dataclass(frozen=True)
class StageOutput:
    """What a per-article stage returns: a JSON-serialisable payload, plus a summary for reports."""

    stage: str
    article_id: str
    payload: dict[str, Any]
    summary: dict[str, int | float] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestReport:
    """What an ingest run did."""

    added: int = 0
    duplicates: int = 0  # same content already stored (new source path recorded)
    unchanged: int = 0  # this exact source already stored
    updated: int = 0  # a source whose content changed since it was last ingested
    recleaned: int = 0  # stored articles cleaned again because their outlet's boilerplate changed
    errors: tuple[ItemError, ...] = ()
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Span:
    """A piece of an article's raw text: [start, end) offsets and the text itself."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}


@dataclass(frozen=True)
class Quote:
    """One attribution: who (source) said (cue) what (content), with offsets into the raw text."""

    article_id: str
    kind: str  # direct | partial | indirect
    content: Span  # from the first fragment's start to the last fragment's end
    content_spans: tuple[Span, ...] = ()  # the fragments when the attribution interrupts the quote
    cue: Span | None = None
    cue_lemma: str = ""
    source: Span | None = None  # the speaker mention as written ("he", "the Labour peer", "McCluskey")
    speaker: str | None = None  # canonical in-article name, None when unresolved
    anonymous: bool = False  # "a source", "sources close to Mr Corbyn"
    unresolved_reason: str = ""
    confidence: float = 0.0
