"""Read metadata supplied beside the articles: ``*.meta.json`` sidecars and manifest CSVs.

Both use the record field names of ``read_records`` (title/headline, url/link, outlet/source/site/
publisher, published/date/pubdate/published_at, author/byline/authors). A malformed sidecar or manifest
is reported once (E114) and ignored: the articles it describes are still ingested, with whatever
metadata the rest of the input gives them, because losing an article over a bad date column is worse
than ingesting it without that date.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from storytrace.errors import InputError
from storytrace.ingest.decode import decode_bytes, problem
from storytrace.ingest.read_records import meta_fields, norm_key
from storytrace.model import ItemError

SIDECAR_SUFFIX = ".meta.json"
MANIFEST_NAMES = ("manifest.csv", "metadata.csv")
PATH_COLUMNS = ("path", "file", "filename")
# Metadata files are small; anything larger is a mistake, not metadata.
MAX_SIDECAR_BYTES = 1024 * 1024
MAX_MANIFEST_BYTES = 256 * 1024 * 1024


def path_key(path: Path | str) -> str:
    """Identify a file for manifest lookup and de-duplication, whatever path spelling reached it."""
    return os.path.normcase(os.path.realpath(path))


def sidecar_for(path: Path) -> Path:
    """Return where the sidecar of a document would be: ``page.html.gz`` -> ``page.meta.json``."""
    name = path.name
    for suffix in (".gz", ".warc", ".arc"):
        name = name[: -len(suffix)] if name.lower().endswith(suffix) else name
    stem, dot, _ = name.rpartition(".")
    return path.with_name((stem if dot and stem else name) + SIDECAR_SUFFIX)


def _read_small(path: Path, limit: int, what: str) -> bytes:
    try:
        info = os.stat(path)
    except OSError as exc:
        raise problem("E114", f"{what} cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise problem("E114", f"{what} is not a regular file")
    if info.st_size > limit:
        raise problem("E114", f"{what} is {info.st_size:,} bytes, over the {limit:,}-byte limit for metadata")
    try:
        with open(path, "rb") as handle:
            return handle.read(limit + 1)
    except OSError as exc:
        raise problem("E114", f"{what} cannot be read ({exc.strerror})") from None


def read_sidecar(path: Path, display: str) -> tuple[dict[str, str], ItemError | None]:
    """Return the metadata of the sidecar beside ``path`` (empty if none), and an error if malformed."""
    sidecar = sidecar_for(path)
    if not os.path.lexists(sidecar):
        return {}, None
    where = os.path.join(os.path.dirname(display), sidecar.name)
    try:
        text, _ = decode_bytes(_read_small(sidecar, MAX_SIDECAR_BYTES, "metadata sidecar"))
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise problem("E114", f"malformed metadata sidecar: {exc.msg} at line {exc.lineno}, column "
                          f"{exc.colno}; {path.name} was ingested without it") from None
        if not isinstance(data, dict):
            raise problem("E114", f"metadata sidecar must hold one JSON object; {path.name} was ingested "
                          "without it")
        return meta_fields(data), None
    except InputError as exc:
        message = str(exc.args[0])
        if exc.code != "E114":
            message = f"malformed metadata sidecar: {message}; {path.name} was ingested without it"
        return {}, ItemError(source_path=where, record="", message=message, code="E114")


@dataclass
class Manifest:
    """Metadata per file, from a CSV with a path column; paths are relative to the manifest's folder."""

    path: Path
    rows: dict[str, dict[str, str]] = field(default_factory=dict)

    def get(self, file: Path) -> dict[str, str]:
        return self.rows.get(path_key(file), {})


def is_manifest_name(path: Path) -> bool:
    return path.name.lower() in MANIFEST_NAMES


def manifest_header(path: Path) -> list[str] | None:
    """Return the header of a CSV that has a path/file/filename column, else None (not a manifest)."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(64 * 1024)
    except OSError:
        return None
    line = first.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    header = next(csv.reader([line], delimiter=_sniff(line)), [])
    return header if any(norm_key(h) in PATH_COLUMNS for h in header) else None


def _sniff(line: str) -> str:
    try:
        return csv.Sniffer().sniff(line, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def load_manifest(path: Path, display: str) -> tuple[Manifest | None, list[ItemError]]:
    """Read a manifest CSV; return it (None if unusable) and one E114 error per problem found."""
    errors: list[ItemError] = []

    def fail(message: str, record: str = "") -> ItemError:
        return ItemError(source_path=display, record=record, message=message, code="E114")

    try:
        text, _ = decode_bytes(_read_small(path, MAX_MANIFEST_BYTES, "manifest"))
    except InputError as exc:
        return None, [fail(f"manifest cannot be used: {exc.args[0]}; files were ingested without it")]
    lines = text.lstrip("\ufeff")
    first = lines.splitlines()[0] if lines.strip() else ""
    reader = csv.reader(io.StringIO(lines, newline=""), delimiter=_sniff(first))
    try:
        header = next(reader, [])
        keys = [norm_key(h) for h in header]
        column = next((i for i, k in enumerate(keys) if k in PATH_COLUMNS), None)
        if column is None:
            return None, [fail(f"manifest has no path, file or filename column (found {', '.join(header[:8])}"
                               "); files were ingested without it")]
        manifest = Manifest(path=path)
        for number, fields in enumerate(reader, start=1):
            if not any(f.strip() for f in fields):
                continue
            name = fields[column].strip() if column < len(fields) else ""
            if not name:
                errors.append(fail("manifest row has no path", f"row {number}"))
                continue
            target = path.parent / name
            key = path_key(target)
            if key in manifest.rows:
                errors.append(fail(f"manifest lists {name} twice; the first row is used", f"row {number}"))
                continue
            if not os.path.lexists(target):
                errors.append(fail(f"manifest names {name}, which does not exist", f"row {number}"))
            row = {h: v for h, v in zip(header, fields, strict=False) if norm_key(h) not in PATH_COLUMNS}
            manifest.rows[key] = meta_fields(row)
    except csv.Error as exc:
        return None, [fail(f"malformed manifest CSV: {exc}; files were ingested without it")]
    return manifest, errors

