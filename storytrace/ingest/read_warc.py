"""Read web archives (WARC, gzipped WARC, ARC) with warcio, one captured page at a time.

Every 2xx ``response`` (or ``resource``) record whose content type is HTML or plain text becomes a
document; other records (requests, metadata, images, scripts, redirects, errors) are skipped silently,
since a crawl holds far more of them than of articles. ``url`` comes from WARC-Target-URI and the
capture time from WARC-Date goes to ``given["crawled"]`` (a crawl date is not a publication date).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from warcio.archiveiterator import ArchiveIterator

from storytrace.errors import InputError
from storytrace.ingest.decode import check_html, declared_charset, decode_bytes, problem, too_large
from storytrace.model import ItemError, RawDocument
from storytrace.settings import Settings

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain"})
_DRAIN = 64 * 1024


class _QuietIterator(ArchiveIterator):  # type: ignore[misc]
    """warcio's iterator, minus its stderr message on a bad Content-Length (counted and reported here)."""

    INC_RECORD = ""


def _content_type(record: Any) -> str:
    headers = record.http_headers if record.rec_type == "response" else record.rec_headers
    return (headers.get_header("Content-Type") or "") if headers is not None else ""


def _wanted(record: Any) -> bool:
    if record.rec_type not in ("response", "resource"):
        return False
    if record.rec_type == "response":
        if record.http_headers is None or not str(record.http_headers.get_statuscode() or "").startswith("2"):
            return False
    mime = _content_type(record).split(";")[0].strip().lower()
    return mime in HTML_TYPES or mime in TEXT_TYPES


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _drain(stream: Any) -> None:
    while stream.read(_DRAIN):
        pass


def _truncated(record: Any) -> bool:
    """Tell whether the archive ended before the record's declared Content-Length."""
    _drain(record.raw_stream)
    return int(getattr(record.raw_stream, "limit", 0) or 0) > 0


def read_warc(
    stream: BinaryIO, *, source: str, defaults: Mapping[str, str], settings: Settings
) -> Iterator[RawDocument | ItemError]:
    """Yield one document per captured page; a truncated archive ends with one E109 error."""
    limit = settings.max_document_bytes
    seen = 0
    archive = _QuietIterator(stream, arc2warc=True)
    try:
        for record in archive:
            seen += 1
            if not _wanted(record):
                if _truncated(record):
                    break
                continue
            record_id = record.rec_headers.get_header("WARC-Record-ID") or f"#{seen}"
            where = f"record {record_id}"
            content = record.content_stream()
            payload = content.read(limit + 1)
            _drain(content)
            if _truncated(record):
                break
            try:
                if len(payload) > limit:
                    raise too_large(None, limit, what="captured page")
                yield _document(record, payload, source=source, where=where, defaults=defaults)
            except InputError as exc:
                yield ItemError(source_path=source, record=where, message=str(exc.args[0]), code=exc.code)
        else:
            if seen == 0:
                yield ItemError(source_path=source, record="", code="E109",
                                message="archive holds no WARC or ARC records")
            elif archive.err_count:
                yield ItemError(source_path=source, record="", code="E109", message=(
                    f"archive has {archive.err_count} record(s) whose Content-Length does not match their "
                    "content; pages next to them may be cut short or padded"))
            return
        yield ItemError(source_path=source, record="", code="E109",
                        message=f"archive is truncated: its record #{seen} is cut short; the records before it "
                        "were read")
    except InputError as exc:
        yield ItemError(source_path=source, record="", message=str(exc.args[0]), code=exc.code)
    except Exception as exc:  # warcio signals damage with many types (ArchiveLoadFailed, EOFError, ...)
        what = "not a readable WARC/ARC archive" if seen == 0 else (
            f"archive is truncated or corrupt after record {seen}; the records before it were read")
        detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:160]
        yield ItemError(source_path=source, record="", code="E109", message=f"{what} ({detail})")


def _document(record: Any, payload: bytes, *, source: str, where: str,
              defaults: Mapping[str, str]) -> RawDocument:
    if not payload.strip():
        raise problem("E103", "captured page is empty")
    content_type = _content_type(record)
    is_html = content_type.split(";")[0].strip().lower() in HTML_TYPES
    declared = _charset(content_type) or (declared_charset(payload) if is_html else None)
    text, encoding = decode_bytes(payload, declared=declared)
    if not text.strip():
        raise problem("E103", "captured page holds only whitespace")
    given = dict(defaults)
    if url := record.rec_headers.get_header("WARC-Target-URI"):
        given["url"] = url.strip("<> ")
    if crawled := record.rec_headers.get_header("WARC-Date"):
        given["crawled"] = crawled
    sha256 = hashlib.sha256(payload).hexdigest()
    if is_html:
        check_html(text)
        return RawDocument(source_path=source, record=where, html=text, format="html", given=given,
                           encoding=encoding, source_sha256=sha256)
    return RawDocument(source_path=source, record=where, text=text, format="warc", given=given,
                       encoding=encoding, source_sha256=sha256)
