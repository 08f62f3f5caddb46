"""Turn the paths a user names into a stream of raw documents, one error per bad item.

``iter_documents(inputs, settings=...)`` takes files, folders (read recursively in sorted order,
skipping hidden files and folders), glob patterns (expanded here if the shell did not) and ``-`` for
standard input, and yields a ``model.RawDocument`` per document or a ``model.ItemError`` per item that
cannot be read. A bad item never stops the batch.

Formats, chosen by extension (case-insensitive):

=========================  ===========================================================================
``.txt``, ``.text``        one document, format ``text``; extensionless files are sniffed (HTML, JSON,
                           JSON Lines, WARC, else text)
``.html``, ``.htm``,       one document, format ``html``: ``html`` holds the markup, ``text`` is empty
``.xhtml``                 until main-text extraction
``.json``                  one object (one document), or an array of objects (one per ``item N``); a
                           .json file holding one object per line is read as JSON Lines
``.jsonl``, ``.ndjson``    one document per non-blank ``line N``
``.csv``, ``.tsv``         one document per ``row N`` (N counts data rows; the header is not a row);
                           delimiter sniffed from the header (``,`` ``;`` tab ``|``)
``.warc``, ``.warc.gz``,   one document per 2xx ``response``/``resource`` record of type HTML or plain
``.arc``, ``.arc.gz``      text, ``record <WARC-Record-ID>``; ``given["url"]`` from WARC-Target-URI and
                           ``given["crawled"]`` from WARC-Date (a capture date, not a publication date)
``<any of these>.gz``      decompressed as a stream, refused past ``settings.max_decompressed_bytes``
``-``                      standard input, sniffed: gzip, WARC, HTML, JSON / JSON Lines, else text
=========================  ===========================================================================

Record fields (JSON, JSON Lines, CSV, sidecars, manifests) match case-insensitively, ignoring ``_``,
``-`` and spaces:

- text: ``text``, ``body``, ``content``, ``article``, ``articleBody``, ``main_text``, ``full_text``
  (a list of strings is joined as paragraphs with blank lines); markup: ``html``, ``raw_html``.
  A record with markup and no text is format ``html``; with both, both are kept.
- ``given["title"]``: ``title``, ``headline``; ``given["url"]``: ``url``, ``link``;
  ``given["outlet"]``: ``outlet``, ``source``, ``site``, ``publisher``, ``site_name``;
  ``given["published"]``: ``published``, ``date``, ``pubdate``, ``published_at``, ``datePublished``;
  ``given["author"]``: ``author``, ``byline``, ``authors`` (lists joined with ", ");
  ``given["crawled"]``: ``crawled``. ``{"name": ...}`` objects (schema.org style) give their name.

Metadata beside the articles, weakest first (a stronger source overrides a field):

1. a manifest CSV with a ``path``/``file``/``filename`` column: the ``manifest`` argument, or a
   ``manifest.csv``/``metadata.csv`` at the top of a folder named as input, of one of its subfolders,
   or beside a file named as input. Its paths are relative to the manifest's folder; it is never read
   as articles. A manifest counts only if its header has a path column (else it is an ordinary CSV).
   The ``manifest`` argument wins over folder manifests;
2. a sidecar ``name.meta.json`` beside ``name.txt``/``name.html``/``name.jsonl``... (one JSON object);
   sidecars are never read as articles;
3. the record's own fields (JSON/CSV) or the archive's headers (WARC).

A malformed sidecar or manifest is reported once (E114) and ignored; the documents are still read.

Every document carries ``source_path`` (the input as given, joined with the path inside a folder),
``record`` ("" for a whole file), ``encoding`` and ``source_sha256`` (of that document's bytes: the
file, the decompressed content of a .gz, the line/row/item without its line break, the WARC payload).
Text is kept exactly as decoded: a leading byte-order mark is the only thing removed.

Errors (``model.ItemError.code``, see ``errors.ITEM_CODES``): E101 missing path or no glob match,
E102 FIFO/socket/device/dangling link (never opened), E103 empty or whitespace-only, E104 over
``max_document_bytes`` (checked before reading) or a zip bomb, E105 binary, E106 undecodable, E107 bad
JSON (with its line or item), E108 bad CSV, E109 truncated or corrupt .gz/WARC (earlier records are
still yielded), E110 HTML without visible text, E111 unsupported type, E112 record without a text
field, E113 permission denied, E114 bad sidecar or manifest.
"""

from __future__ import annotations

import glob
import hashlib
import io
import os
import re
import stat
import sys
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from storytrace.errors import InputError
from storytrace.ingest.decode import (
    SNIFF_BYTES,
    Prefixed,
    check_html,
    declared_charset,
    decode_bytes,
    open_gzip,
    problem,
    read_capped,
    too_large,
)
from storytrace.ingest.read_meta import (
    SIDECAR_SUFFIX,
    Manifest,
    is_manifest_name,
    load_manifest,
    manifest_header,
    path_key,
    read_sidecar,
)
from storytrace.ingest.read_records import read_csv, read_json, read_jsonl
from storytrace.ingest.read_warc import read_warc
from storytrace.model import ItemError, RawDocument
from storytrace.settings import Settings

__all__ = ["EXTENSIONS", "iter_documents", "sniff_format"]

EXTENSIONS = {
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".warc": "warc",
    ".arc": "warc",
}
SUPPORTED = (".txt, .html/.htm, .json, .jsonl/.ndjson, .csv/.tsv, .warc/.warc.gz/.arc.gz, those "
             "formats .gz-compressed, or extensionless text")
STDIN = "<stdin>"
_EXTENSION = re.compile(r"\.(?=[a-z0-9]*[a-z])[a-z0-9]{1,8}")
_HTML_START = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|section|main|span|h[1-6]|!--|\?xml)\b",
    re.IGNORECASE,
)
_GLOB_CHARS = re.compile(r"[*?\[]")


def _extension(name: str) -> str | None:
    """Return a file name's extension (lower case), or None if it has none worth the name."""
    suffix = Path(name.lower()).suffix
    return suffix if _EXTENSION.fullmatch(suffix) else None


def _sniff_bytes(head: bytes) -> str:
    """Guess a format from the first bytes of some content: warc, html, json, jsonl or text."""
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if head.startswith((b"WARC/", b"filedesc://")):
        return "warc"
    if _HTML_START.match(head):
        return "html"
    if re.match(rb"\[\s*[{\]]", head):
        return "json"
    if re.match(rb'\{\s*"', head):
        first, newline, rest = head.partition(b"\n")
        return "jsonl" if newline and rest.strip() and first.rstrip().endswith(b"}") else "json"
    return "text"


def sniff_format(path: Path) -> str | None:
    """Return the reader format of a path (text, html, json, jsonl, csv, warc), or None if unsupported.

    The extension decides; a file without one is sniffed from its first bytes (never opening anything
    but a regular file).
    """
    name = path.name.lower()
    if name.endswith((".warc", ".warc.gz", ".arc", ".arc.gz")):
        return "warc"
    inner = name.removesuffix(".gz")
    if (ext := _extension(inner)) is not None:
        return EXTENSIONS.get(ext)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
            if name.endswith(".gz"):
                handle.seek(0)
                head = open_gzip(handle, limit=1 << 20).peek(SNIFF_BYTES)[:SNIFF_BYTES]
    except (OSError, InputError):
        return "text"  # reading will report the real problem
    return _sniff_bytes(head)


def iter_documents(
    inputs: Iterable[str | Path],
    *,
    settings: Settings,
    manifest: Path | None = None,
    stdin: BinaryIO | None = None,
) -> Iterator[RawDocument | ItemError]:
    """Yield a RawDocument per readable document and an ItemError per bad item, in input order."""
    batch = _Batch(settings, stdin=stdin)
    if manifest is not None:
        found, errors = load_manifest(Path(manifest), str(manifest))
        batch.skip.add(path_key(manifest))
        batch.explicit = found
        yield from errors
    for given in inputs:
        yield from batch.read_input(os.fspath(given))


def _error(source: str, code: str, message: str, record: str = "") -> ItemError:
    return ItemError(source_path=source, record=record, message=message, code=code)


class _Batch:
    """The state of one ``iter_documents`` call: files seen, manifests found, stdin."""

    def __init__(self, settings: Settings, *, stdin: BinaryIO | None) -> None:
        self.settings = settings
        self.stdin = stdin
        self.stdin_read = False
        self.explicit: Manifest | None = None
        self.manifests: dict[str, list[Manifest]] = {}  # folder -> manifests at its top
        self.seen: set[str] = set()
        self.skip: set[str] = set()  # manifest files: metadata, not articles

    def read_input(self, given: str) -> Iterator[RawDocument | ItemError]:
        if given == "-":
            yield from self._stdin()
            return
        try:
            os.lstat(given)
        except PermissionError:
            yield _error(given, "E113", "permission denied: a folder on this path cannot be searched")
            return
        except OSError as exc:
            if not _GLOB_CHARS.search(given):
                yield _error(given, "E101", f"path does not exist ({exc.strerror})")
                return
            matches = sorted(glob.glob(given, recursive=True))
            if not matches:
                yield _error(given, "E101", "no files match this pattern")
            for match in matches:
                yield from self._path(match)
            return
        yield from self._path(given)

    def _path(self, given: str) -> Iterator[RawDocument | ItemError]:
        path = Path(given)
        kind = _classify(path, given)
        if isinstance(kind, ItemError):
            yield kind
        elif kind == "dir":
            yield from self._folder(path, given)
        else:
            manifests = yield from self._manifests_in(path.parent, os.path.dirname(given))
            yield from self._file(path, given, manifests)

    def _manifests_in(self, folder: Path, display: str) -> Generator[ItemError, None, list[Manifest]]:
        """Load (once) the manifests at the top of a folder, yield their errors, return them."""
        key = path_key(folder)
        if key in self.manifests:
            return self.manifests[key]
        found: list[Manifest] = []
        self.manifests[key] = found
        try:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if is_manifest_name(Path(e.name)) and e.is_file())
        except OSError:
            return found
        for name in names:
            candidate = folder / name
            if manifest_header(candidate) is None:
                continue  # a CSV of articles that happens to be called metadata.csv
            self.skip.add(path_key(candidate))
            manifest, errors = load_manifest(candidate, os.path.join(display, name))
            yield from errors
            if manifest is not None:
                found.append(manifest)
        return found

    def _folder(self, folder: Path, given: str) -> Iterator[RawDocument | ItemError]:
        top = yield from self._manifests_in(folder, given)
        for item in _walk(folder, given, set()):
            if isinstance(item, ItemError):
                yield item
                continue
            path, shown = item
            own: list[Manifest] = []
            if path.parent != folder:  # a subfolder's own manifest describes its files more closely
                own = yield from self._manifests_in(path.parent, os.path.dirname(shown))
            yield from self._file(path, shown, [*top, *own])

    def _file(self, path: Path, display: str, manifests: list[Manifest]) -> Iterator[RawDocument | ItemError]:
        key = path_key(path)
        if key in self.seen or key in self.skip or path.name.lower().endswith(SIDECAR_SUFFIX):
            return
        self.seen.add(key)
        fmt = sniff_format(path)
        if fmt is None:
            ext = _extension(path.name.lower().removesuffix(".gz")) or path.suffix
            yield _error(display, "E111", f"unsupported file type '{ext}'; supported: {SUPPORTED}")
            return
        compressed = path.name.lower().endswith(".gz") and fmt != "warc"
        try:
            size = os.stat(path).st_size
        except OSError as exc:
            yield _error(display, "E101", f"path cannot be read ({exc.strerror})")
            return
        limit = self.settings.max_document_bytes
        if size == 0:
            yield _error(display, "E103", "file is empty (0 bytes)")
            return
        if fmt in ("text", "html") and not compressed and size > limit:
            yield _error(display, "E104", str(too_large(size, limit, what="file").args[0]))
            return
        defaults: dict[str, str] = {}
        for manifest in (*manifests, *([self.explicit] if self.explicit else [])):
            defaults.update(manifest.get(path))
        sidecar, sidecar_error = read_sidecar(path, display)
        if sidecar_error is not None:
            yield sidecar_error
        defaults.update(sidecar)
        try:
            # O_NONBLOCK: should the file have been swapped for a FIFO since it was checked, do not hang.
            handle = os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb")
        except PermissionError:
            yield _error(display, "E113", "permission denied: the file cannot be opened for reading")
            return
        except OSError as exc:
            yield _error(display, "E101", f"file cannot be opened ({exc.strerror})")
            return
        with handle:
            stream: BinaryIO = handle
            if compressed:
                stream = open_gzip(handle, limit=self.settings.max_decompressed_bytes)
            delimiter = "\t" if path.name.lower().removesuffix(".gz").endswith(".tsv") else None
            yield from self._read_stream(stream, fmt, display, defaults, delimiter=delimiter)

    def _stdin(self) -> Iterator[RawDocument | ItemError]:
        if self.stdin_read:
            yield _error(STDIN, "E101", "standard input ('-') was named twice; it is read once")
            return
        self.stdin_read = True
        raw = self.stdin if self.stdin is not None else sys.stdin.buffer
        stream = io.BufferedReader(Prefixed(b"", raw), buffer_size=64 * 1024)
        head = stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]
        if not head:
            yield _error(STDIN, "E103", "standard input is empty")
            return
        if head.startswith(b"\x1f\x8b"):
            inflated = open_gzip(stream, limit=self.settings.max_decompressed_bytes)
            try:
                fmt = _sniff_bytes(inflated.peek(SNIFF_BYTES)[:SNIFF_BYTES])
            except InputError as exc:
                yield _error(STDIN, exc.code, str(exc.args[0]))
                return
            yield from self._read_stream(inflated, fmt, STDIN, {})
            return
        yield from self._read_stream(stream, _sniff_bytes(head), STDIN, {})

    def _read_stream(
        self, stream: BinaryIO, fmt: str, source: str, defaults: dict[str, str], *, delimiter: str | None = None
    ) -> Iterator[RawDocument | ItemError]:
        """Read one opened input in a given format; turn anything it raises into one error."""
        settings = self.settings
        items: Iterator[RawDocument | ItemError]
        try:
            if fmt in ("text", "html"):
                yield _single(stream, fmt, source, defaults, settings)
                return
            if fmt == "jsonl":
                items = read_jsonl(stream, source=source, defaults=defaults, settings=settings)
            elif fmt == "json":
                items = read_json(stream, source=source, defaults=defaults, settings=settings)
            elif fmt == "csv":
                items = read_csv(stream, source=source, defaults=defaults, settings=settings, delimiter=delimiter)
            else:
                items = read_warc(stream, source=source, defaults=defaults, settings=settings)
            empty = True
            for item in items:
                empty = False
                yield item
            if empty:
                what = "HTML or plain-text pages" if fmt == "warc" else "records"
                yield _error(source, "E103", f"file holds no {what}")
        except InputError as exc:
            yield _error(source, exc.code, str(exc.args[0]))
        except PermissionError:
            yield _error(source, "E113", "permission denied while reading")
        except Exception as exc:  # a reader bug must cost one item, never the batch
            detail = " ".join(f"{type(exc).__name__}: {exc}".split())[:200]
            yield _error(source, "E100", f"unexpected error while reading ({detail}); please report it")


def _single(stream: BinaryIO, fmt: str, source: str, defaults: dict[str, str], settings: Settings) -> RawDocument:
    """Read a whole-file document (text or HTML), or raise the InputError that says why not."""
    data = read_capped(stream, settings.max_document_bytes, what="file")
    if not data:
        raise problem("E103", "file is empty (0 bytes)")
    declared = declared_charset(data) if fmt == "html" else None
    text, encoding = decode_bytes(data, declared=declared)
    if not text.strip():
        raise problem("E103", "file holds only whitespace")
    sha256 = hashlib.sha256(data).hexdigest()
    if fmt == "html":
        check_html(text)
        return RawDocument(source_path=source, html=text, format="html", given=dict(defaults),
                           encoding=encoding, source_sha256=sha256)
    return RawDocument(source_path=source, text=text, format="text", given=dict(defaults),
                       encoding=encoding, source_sha256=sha256)


def _classify(path: Path, display: str) -> str | ItemError:
    """Say whether a path is a "dir" or a regular "file", without opening it; else the error."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            try:
                info = os.stat(path)
            except FileNotFoundError:
                return _error(display, "E102", f"dangling symbolic link (its target {os.readlink(path)} "
                              "does not exist)")
            except OSError as exc:
                return _error(display, "E102", f"symbolic link cannot be followed ({exc.strerror})")
    except PermissionError:
        return _error(display, "E113", "permission denied: the path cannot be examined")
    except OSError as exc:
        return _error(display, "E101", f"path does not exist ({exc.strerror})")
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    return _error(display, "E102", f"{kind}, not a regular file; it was not opened")


def _walk(folder: Path, display: str, visited: set[tuple[int, int]]) -> Iterator[tuple[Path, str] | ItemError]:
    """Yield the regular files under a folder in sorted order (or their errors), skipping hidden ones."""
    try:
        info = os.stat(folder)
        visited.add((info.st_dev, info.st_ino))
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries)
    except PermissionError:
        yield _error(display, "E113", "permission denied: the folder cannot be listed")
        return
    except OSError as exc:
        yield _error(display, "E101", f"folder cannot be listed ({exc.strerror})")
        return
    for name in names:
        if name.startswith(".") or name.lower().endswith(SIDECAR_SUFFIX):
            continue
        path = folder / name
        shown = os.path.join(display, name)
        kind = _classify(path, shown)
        if isinstance(kind, ItemError):
            yield kind
        elif kind == "dir":
            info = os.stat(path)
            if (info.st_dev, info.st_ino) not in visited:  # a symlink loop is walked once
                yield from _walk(path, shown, visited)
        else:
            yield path, shown

