"""Turn document bytes into text: BOMs, binary detection, UTF-8, declared and guessed encodings.

The decoded text is kept exactly as decoded (no newline or Unicode normalisation): offsets into an
article's raw text must stay valid. Only a leading byte-order mark is dropped.

Also holds the bounded readers shared by every input reader: a size-capped read, a capped gzip stream
(zip bombs), and an ``InputError`` per problem that readers turn into a ``model.ItemError``.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import charset_normalizer

from storytrace.errors import InputError

# Prefixes of binary formats people drop into article folders by mistake.
MAGIC_NUMBERS: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive (or .docx/.xlsx/.epub)"),
    (b"\x7fELF", "ELF executable"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"\x1f\x8b", "gzip data"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\x00", "xz data"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE document (.doc/.xls)"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\x00asm", "WebAssembly module"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"wOFF", "WOFF font"),
    (b"wOF2", "WOFF2 font"),
)

# Longest BOM first: the UTF-32-LE BOM starts with the UTF-16-LE one.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

SNIFF_BYTES = 8192
# Share of control bytes (other than tab, newlines, form feed, escape) above which a sample is binary.
MAX_CONTROL_SHARE = 0.1
_CONTROL = bytes(b for b in range(32) if b not in b"\t\n\r\x0b\x0c\x1b")
# A charset-normalizer guess loses to cp1252 unless it is clearly less chaotic: for the Western
# European news this tool mostly sees, close calls (cp1257, iso8859_10 ...) are wrong far more often.
CP1252_MARGIN = 0.1
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
MIXED_ENCODING = "utf-8+cp1252"


def _cp1252_byte(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 rejected as cp1252 (latin-1 for the five bytes cp1252 leaves undefined)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in bad), error.end


codecs.register_error("storytrace-cp1252", _cp1252_byte)


def problem(code: str, message: str) -> InputError:
    """Build the exception readers raise for a per-item problem (caught and turned into an ItemError)."""
    return InputError(" ".join(message.split()), code=code)


def binary_kind(sample: bytes) -> str | None:
    """Name what a byte sample looks like if it is binary, else None."""
    for magic, kind in MAGIC_NUMBERS:
        if sample.startswith(magic):
            return kind
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None  # UTF-16/32 text is full of NUL bytes
    head = sample[:SNIFF_BYTES]
    if b"\x00" in head:
        return "data with NUL bytes"
    if head and sum(head.count(c) for c in _CONTROL) / len(head) > MAX_CONTROL_SHARE:
        return "data with many control characters"
    return None


def declared_charset(data: bytes) -> str | None:
    """Return the charset an HTML page declares in a <meta> tag near its top, if Python knows it."""
    match = _META_CHARSET.search(data[:4096])
    return _known_codec(match.group(1).decode("ascii")) if match else None


def _known_codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        codec = codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None
    # As browsers do (WHATWG Encoding): pages labelled latin-1 or ASCII are really windows-1252.
    return "cp1252" if codec in ("iso8859-1", "ascii") else codec


def decode_bytes(data: bytes, *, declared: str | None = None) -> tuple[str, str]:
    """Decode one document's bytes; return ``(text, encoding)`` or raise E105 (binary) / E106.

    Order: a BOM wins; then binary detection; then strict UTF-8; then a declared charset (HTTP header or
    HTML meta) if it decodes cleanly; then UTF-8 with stray cp1252 bytes (files stitched from two
    sources); then charset-normalizer's guess, biased to cp1252 on close calls.
    """
    for bom, encoding in BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding.removesuffix("-sig")), encoding
            except UnicodeDecodeError as exc:
                raise problem("E106", f"text starts with a {encoding} byte-order mark but {exc.reason} "
                              f"at byte {exc.start + len(bom)}") from None
    if kind := binary_kind(data):
        raise problem("E105", f"binary content ({kind}), not text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if codec := _known_codec(declared):
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            pass
    if _mostly_utf8(data):
        return data.decode("utf-8", errors="storytrace-cp1252"), MIXED_ENCODING
    return _guess(data)


def _mostly_utf8(data: bytes) -> bool:
    """Tell whether valid UTF-8 sequences outnumber the stray non-UTF-8 bytes."""
    good = sum(len(m) for m in _UTF8_MULTIBYTE.findall(data))
    high = sum(1 for b in data if b >= 0x80)
    return good > 0 and high - good <= good


def _guess(data: bytes) -> tuple[str, str]:
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is None:
        raise problem("E106", "text is not UTF-8 and no other encoding fits; re-save it as UTF-8")
    encoding = best.encoding
    for match in matches:
        if "cp1252" in match.could_be_from_charset and match.chaos <= best.chaos + CP1252_MARGIN:
            encoding = "cp1252"
            break
    try:
        return data.decode(encoding), encoding
    except (UnicodeDecodeError, LookupError):
        raise problem("E106", "text is not UTF-8 and no other encoding fits; re-save it as UTF-8") from None


def read_capped(stream: BinaryIO, limit: int, *, what: str = "document") -> bytes:
    """Read a whole stream, raising E104 as soon as it passes ``limit`` bytes."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(None, limit, what=what)
    return data


def too_large(size: int | None, limit: int, *, what: str = "document") -> InputError:
    """Build the E104 error for a document over ``settings.max_document_bytes``."""
    seen = f"is {size:,} bytes, over" if size is not None else "is over"
    return problem("E104", f"{what} {seen} the {limit:,}-byte limit (max_document_bytes); split it or raise "
                   "the limit")


class CappedGzip(io.RawIOBase):
    """A streaming gzip reader that refuses to inflate past a byte limit (zip bombs) and names damage.

    Truncated or corrupt streams raise E109, an oversized one E104; both as ``InputError``.
    """

    def __init__(self, raw: BinaryIO, *, limit: int) -> None:
        self._gz = gzip.GzipFile(fileobj=raw, mode="rb")
        self._limit = limit
        self.inflated = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        try:
            chunk = self._gz.read1(len(buffer))  # read1: hand back what is inflated before any damage
        except EOFError:
            raise problem("E109", f"compressed stream is truncated after {self.inflated:,} bytes of "
                          "content") from None
        except (gzip.BadGzipFile, zlib.error, OSError) as exc:
            raise problem("E109", f"compressed stream is corrupt after {self.inflated:,} bytes of "
                          f"content ({exc})") from None
        n = len(chunk)
        buffer[:n] = chunk
        self.inflated += n
        if self.inflated > self._limit:
            raise problem("E104", f"decompresses to more than {self._limit:,} bytes (max_decompressed_bytes);"
                          " refusing it as a possible zip bomb")
        return n

    def close(self) -> None:
        self._gz.close()
        super().close()


def open_gzip(raw: BinaryIO, *, limit: int) -> io.BufferedReader:
    """Wrap a binary stream of gzip data as a buffered, capped stream of its content."""
    return io.BufferedReader(CappedGzip(raw, limit=limit), buffer_size=64 * 1024)


class Prefixed(io.RawIOBase):
    """A stream that replays bytes already read (for sniffing) before the rest of the source."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._read = getattr(rest, "read1", rest.read)  # read1: do not wait for a full buffer on a pipe

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        chunk = self._read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def bounded_lines(stream: BinaryIO, limit: int) -> Iterator[tuple[int, bytes | None]]:
    """Yield ``(line_number, line_bytes)``; a line over ``limit`` bytes comes as ``None`` and is skipped.

    Lines keep their terminators. Memory stays under ``limit`` plus one read buffer.
    """
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while (rest := stream.readline(1024 * 1024)) and not rest.endswith(b"\n"):
                pass
            yield number, None
            continue
        yield number, line


_NON_BODY = re.compile(
    r"<head\b.*?</head\s*>|<script\b.*?</script\s*>|<style\b.*?</style\s*>|<template\b.*?</template\s*>"
    r"|<noscript\b.*?</noscript\s*>|<!--.*?-->|<title\b.*?</title\s*>",
    re.IGNORECASE | re.DOTALL,
)
_TAG = re.compile(r"<[^>]*>")
_ENTITY = re.compile(r"&#?\w+;")


# Text right after an element that is not a script/style-like container: visible text, found fast.
_VISIBLE_AFTER_TAG = re.compile(
    r"<(?!(?:script|style|title|template|noscript)\b)[a-zA-Z][^>]*>\s*[^<\s]", re.IGNORECASE
)


def check_html(markup: str) -> None:
    """Raise E110 when markup carries no visible text outside head, scripts and styles.

    A cheap screen, not extraction: pages that pass may still yield no main text later.
    """
    if not markup.strip():
        raise problem("E103", "HTML is empty")
    body = re.search(r"<body\b", markup, re.IGNORECASE)
    if body is not None and _VISIBLE_AFTER_TAG.search(markup, body.end()):
        return  # the common case, decided without stripping the whole page
    visible = _TAG.sub(" ", _NON_BODY.sub(" ", markup))
    if not re.search(r"\w", _ENTITY.sub(" ", visible)):
        has_body = re.search(r"<body\b", markup, re.IGNORECASE) is not None
        raise problem("E110", "HTML has a body but no visible text" if has_body
                      else "HTML has no body and no visible text (only head, scripts or styles)")
