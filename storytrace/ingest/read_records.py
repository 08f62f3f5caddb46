"""Read record containers (JSON, JSONL, CSV) one record at a time, and map their fields.

Each reader takes an open binary stream and yields a ``RawDocument`` per good record and an
``ItemError`` per bad one. Memory stays bounded by ``settings.max_document_bytes`` per record, so a
container may be far larger than that limit.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from storytrace.errors import InputError
from storytrace.ingest.decode import (
    BOMS,
    Prefixed,
    binary_kind,
    bounded_lines,
    check_html,
    decode_bytes,
    problem,
    too_large,
)
from storytrace.model import ItemError, RawDocument
from storytrace.settings import Settings

# Field names are matched case-insensitively, ignoring "_", "-" and spaces ("articleBody" = "article_body").
TEXT_FIELDS = ("text", "body", "content", "article", "articlebody", "maintext", "fulltext")
HTML_FIELDS = ("html", "rawhtml")
META_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline"),
    "url": ("url", "link"),
    "outlet": ("outlet", "source", "site", "publisher", "sitename"),
    "published": ("published", "date", "pubdate", "publishedat", "datepublished"),
    "author": ("author", "byline", "authors"),
    "crawled": ("crawled",),
}
CHUNK = 1024 * 1024
_KEY_NOISE = re.compile(r"[\s_\-\ufeff]+")


# Python's JSON parser recurses once per nesting level; past the interpreter's limit it raises RecursionError.
TOO_DEEP = "JSON nested too deeply to be an article record (over ~1,000 levels of arrays or objects)"


def norm_key(key: object) -> str:
    """Normalise a field name for matching: lower case, no separators."""
    return _KEY_NOISE.sub("", str(key)).lower()


def _as_text(value: Any) -> str | None:
    """Flatten a metadata value (string, number, list, {"name": ...}) to one string, or None."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        return _as_text(value.get("name"))
    if isinstance(value, list | tuple):
        parts = [p for v in value if (p := _as_text(v))]
        return ", ".join(parts) or None
    return None


def meta_fields(record: Mapping[Any, Any]) -> dict[str, str]:
    """Pick title/url/outlet/published/author/crawled out of a record by their known aliases."""
    by_key = {norm_key(k): v for k, v in record.items()}
    given: dict[str, str] = {}
    for name, aliases in META_ALIASES.items():
        for alias in aliases:
            if (value := _as_text(by_key.get(alias))) is not None:
                given[name] = value
                break
    return given


def _body(by_key: Mapping[str, Any], fields: tuple[str, ...]) -> str | None:
    for name in fields:
        value = by_key.get(name)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return "\n\n".join(value)  # a list of paragraphs
        if isinstance(value, str) and value.strip():
            return value
    return None


def record_document(
    record: Any,
    *,
    source: str,
    where: str,
    fmt: str,
    encoding: str,
    sha256: str,
    defaults: Mapping[str, str],
) -> RawDocument:
    """Build the document for one JSON object or CSV row, or raise an ``InputError``.

    The text is kept exactly as the record holds it. A record with markup and no text is an HTML
    document; one with both keeps both (the text is the article's, the markup feeds metadata).
    """
    if not isinstance(record, Mapping):
        kind = {list: "an array", str: "a string", type(None): "null", bool: "a boolean"}.get(
            type(record), "a number")
        raise problem("E107", f"record is {kind}, not a JSON object")
    by_key = {norm_key(k): v for k, v in record.items()}
    text = _body(by_key, TEXT_FIELDS)
    markup = _body(by_key, HTML_FIELDS)
    if text is None and markup is None:
        blank = [k for k in (*TEXT_FIELDS, *HTML_FIELDS) if k in by_key]
        if blank:
            raise problem("E103", f"record has an empty '{blank[0]}' field")
        found = ", ".join(sorted(str(k) for k in record)[:8]) or "no fields"
        raise problem("E112", f"record has no text field (looked for text, body, content, article, "
                      f"articleBody, html; found {found})")
    if text is None and markup is not None:
        check_html(markup)
        fmt = "html"
    given = {**defaults, **meta_fields(record)}
    return RawDocument(source_path=source, record=where, text=text or "", html=markup, format=fmt,
                       given=given, encoding=encoding, source_sha256=sha256)


def _error(source: str, where: str, exc: InputError) -> ItemError:
    return ItemError(source_path=source, record=where, message=str(exc.args[0]), code=exc.code)


def _strip_eol(data: bytes) -> bytes:
    return data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith((b"\n", b"\r")) else data


def _refuse_binary(head: bytes) -> None:
    if (kind := binary_kind(head)) is not None:
        raise problem("E105", f"binary content ({kind}), not JSON or CSV text")


def read_jsonl(
    stream: BinaryIO, *, source: str, defaults: Mapping[str, str], settings: Settings, fmt: str = "jsonl"
) -> Iterator[RawDocument | ItemError]:
    """Yield one document per non-blank line; a bad line is one error and the next line goes on."""
    limit = settings.max_document_bytes
    for number, line in bounded_lines(stream, limit):
        where = f"line {number}"
        try:
            if line is None:
                raise too_large(None, limit, what="line")
            if number == 1:
                _refuse_binary(line[:4096])
            if not line.strip():
                continue
            data = _strip_eol(line)
            text, encoding = decode_bytes(data)
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise problem("E107", f"malformed JSON at column {exc.colno}: {exc.msg}") from None
            except RecursionError:
                raise problem("E107", TOO_DEEP) from None
            yield record_document(record, source=source, where=where, fmt=fmt, encoding=encoding,
                                  sha256=hashlib.sha256(data).hexdigest(), defaults=defaults)
        except InputError as exc:
            yield _error(source, where, exc)
            if number == 1 and exc.code == "E105":
                return


def read_json(
    stream: BinaryIO, *, source: str, defaults: Mapping[str, str], settings: Settings
) -> Iterator[RawDocument | ItemError]:
    """Yield the document of a one-object .json file, or one per item of a top-level array.

    Arrays are parsed item by item, so a .json file may be larger than ``max_document_bytes``. A
    .json file that is really JSON Lines (one object per line) is read as such.
    """
    head = stream.read(64 * 1024)
    body = Prefixed(head, stream)
    encoding = "utf-8"
    for bom, name in BOMS:
        if head.startswith(bom):
            encoding = name
            break
    try:
        _refuse_binary(head)
        start = _first_char(head, encoding)
        if start == "{" and _looks_like_lines(head):
            yield from read_jsonl(io.BufferedReader(body), source=source, defaults=defaults,
                                  settings=settings, fmt="json")
        elif start == "{":
            data = io.BufferedReader(body).read(settings.max_document_bytes + 1)
            if len(data) > settings.max_document_bytes:
                raise too_large(None, settings.max_document_bytes)
            text, encoding = decode_bytes(data)
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise problem("E107", f"malformed JSON at line {exc.lineno}, column {exc.colno}: "
                              f"{exc.msg}") from None
            except RecursionError:
                raise problem("E107", TOO_DEEP) from None
            yield record_document(record, source=source, where="", fmt="json", encoding=encoding,
                                  sha256=hashlib.sha256(data).hexdigest(), defaults=defaults)
        elif start == "[":
            yield from _read_array(body, encoding, source=source, defaults=defaults, settings=settings)
        elif start == "":
            raise problem("E103", "file holds only whitespace")
        else:
            raise problem("E107", "malformed JSON: expected an object or an array of objects")
    except InputError as exc:
        yield _error(source, "", exc)


def _first_char(head: bytes, encoding: str) -> str:
    try:
        text = codecs.getincrementaldecoder(encoding.removesuffix("-sig"))("replace").decode(head)
    except LookupError:
        return ""
    text = text.lstrip("\ufeff \t\r\n")
    return text[:1]


def _looks_like_lines(head: bytes) -> bool:
    """Tell whether the head holds a complete JSON object on its first line, followed by more data."""
    first, sep, rest = head.lstrip(b"\xef\xbb\xbf \t\r\n").partition(b"\n")
    if not sep or not rest.strip():
        return False
    try:
        return isinstance(json.loads(first), dict)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return False


def _read_array(
    raw: io.RawIOBase, encoding: str, *, source: str, defaults: Mapping[str, str], settings: Settings
) -> Iterator[RawDocument | ItemError]:
    limit = settings.max_document_bytes
    decoder = codecs.getincrementaldecoder(encoding.removesuffix("-sig"))()
    parser = json.JSONDecoder()
    stream = io.BufferedReader(raw)
    buf = ""
    pos = 0
    eof = False

    def fill() -> None:
        nonlocal buf, pos, eof
        chunk = stream.read(CHUNK)
        eof = not chunk
        try:
            buf = buf[pos:] + decoder.decode(chunk, final=eof)
        except UnicodeDecodeError as exc:
            raise problem("E106", f"JSON is not valid {encoding} ({exc.reason}); re-save it as UTF-8") from None
        pos = 0

    def skip_space() -> str:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n\ufeff":
                pos += 1
            if pos < len(buf) or eof:
                return buf[pos : pos + 1]
            fill()

    fill()
    skip_space()
    pos += 1  # the "["
    item = 0
    while True:
        where = f"item {item + 1}"
        char = skip_space()
        if char == "]":
            return
        if item:
            if char != ",":
                message = (f"malformed JSON: expected ',' or ']' after item {item}; items after it were not "
                           "read") if char else f"JSON array is truncated after item {item}"
                yield _error(source, where, problem("E107", message))
                return
            pos += 1
            if skip_space() == "]":
                return
        if pos >= len(buf):
            yield _error(source, where, problem("E107", f"JSON array is truncated after item {item}"))
            return
        while True:
            try:
                record, end = parser.raw_decode(buf, pos)
                if end < len(buf) or eof:
                    break
            except json.JSONDecodeError as exc:
                if eof:
                    yield _error(source, where, problem(
                        "E107", f"malformed JSON in {where}: {exc.msg}; items after it were not read"))
                    return
            except RecursionError:
                yield _error(source, where, problem("E107", f"{TOO_DEEP} in {where}; items after it were not read"))
                return
            if len(buf) - pos > limit:
                yield _error(source, where, too_large(None, limit, what=where))
                return
            fill()
        item += 1
        data = buf[pos:end].encode(encoding.removesuffix("-sig"))
        pos = end
        try:
            if len(data) > limit:
                raise too_large(len(data), limit, what=where)
            yield record_document(record, source=source, where=where, fmt="json", encoding=encoding,
                                  sha256=hashlib.sha256(data).hexdigest(), defaults=defaults)
        except InputError as exc:
            yield _error(source, where, exc)


class _LineFeed:
    """Feed text lines to the csv module, bounded in length, keeping each row's raw text for hashing."""

    def __init__(self, text: io.TextIOBase, limit: int) -> None:
        self._text = text
        self._limit = limit
        self.pending: list[str] = []
        self.oversized = False  # the current row had a line over the limit (skipped, not kept)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self._text.readline(self._limit + 1)
        if not line:
            raise StopIteration
        if len(line) > self._limit and not line.endswith("\n"):
            while (rest := self._text.readline(CHUNK)) and not rest.endswith("\n"):
                pass
            self.oversized = True
            line = "\n"  # stands in for the dropped line, so the csv module stays in step
        self.pending.append(line)
        return line

    def take(self) -> str:
        raw = "".join(self.pending)
        self.pending.clear()
        return raw


def _csv_encoding(head: bytes) -> str:
    for bom, name in BOMS:
        if head.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return decode_bytes(head)[1].replace("utf-8+cp1252", "cp1252")


def _delimiter(first_line: str) -> str:
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: first_line.count(d) for d in ",;\t|"}
        return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def read_csv(
    stream: BinaryIO,
    *,
    source: str,
    defaults: Mapping[str, str],
    settings: Settings,
    delimiter: str | None = None,
) -> Iterator[RawDocument | ItemError]:
    """Yield one document per data row ("row 1" is the first row after the header).

    A bad row is one error and the next row goes on; a CSV syntax error stops the file after one error.
    """
    limit = settings.max_document_bytes
    if csv.field_size_limit() < limit:
        csv.field_size_limit(limit)  # process-wide; only ever raised, so other users are unaffected
    head = stream.read(64 * 1024)
    row = 0
    try:
        _refuse_binary(head)
        if not head.strip():
            raise problem("E103", "file is empty or holds only whitespace")
        encoding = _csv_encoding(head)
        if delimiter is None:
            sample = head.decode(encoding.removesuffix("-sig"), errors="replace").lstrip("\ufeff")
            delimiter = _delimiter(sample.splitlines()[0] if sample.strip() else "")
        text = io.TextIOWrapper(io.BufferedReader(Prefixed(head, stream)), encoding=encoding, newline="")
        feed = _LineFeed(text, limit)
        reader = csv.reader(feed, delimiter=delimiter)
        header = next(reader, None)
        feed.take()
        keys = [norm_key(h) for h in header or ()]
        if not any(k in TEXT_FIELDS or k in HTML_FIELDS for k in keys):
            raise problem("E108", "no header row with a text column (looked for text, body, content, "
                          f"article, articleBody, html; found {', '.join((header or [])[:8]) or 'none'})")
        for fields in reader:
            row += 1
            raw = feed.take()
            if feed.oversized:
                feed.oversized = False
                yield _error(source, f"row {row}", too_large(None, limit, what="row"))
                continue
            if not any(f.strip() for f in fields):
                continue
            try:
                if raw.count('"') % 2 and len(raw.splitlines()) > 1:
                    raise problem("E108", "malformed CSV: a quoted field never closes, so the rest of the file "
                                  "was swallowed into this row")
                data = raw.rstrip("\r\n").encode(encoding.removesuffix("-sig"))
                if len(data) > limit:
                    raise too_large(len(data), limit, what="row")
                record = {h: v for h, v in zip(header or (), fields, strict=False)}
                yield record_document(record, source=source, where=f"row {row}", fmt="csv",
                                      encoding=encoding, sha256=hashlib.sha256(data).hexdigest(),
                                      defaults=defaults)
            except InputError as exc:
                yield _error(source, f"row {row}", exc)
    except csv.Error as exc:
        yield _error(source, f"row {row + 1}", problem("E108", f"malformed CSV: {exc}; rows after it were "
                                                               "not read"))
    except UnicodeDecodeError as exc:
        yield _error(source, f"row {row + 1}", problem("E106", f"text is not valid {exc.encoding} "
                                                               f"({exc.reason}); rows after it were not read"))
    except InputError as exc:
        yield _error(source, f"row {row + 1}" if row else "", exc)
