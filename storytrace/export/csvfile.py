"""CSV (RFC 4180, UTF-8 with header); nested values are written as JSON text."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from storytrace.export import atomic_text


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def write(rows: Iterable[dict[str, Any]], out: Path, manifest: dict[str, Any], *,
          columns: list[str] | None = None) -> None:
    """Write ``rows``; the header is ``columns`` (written even with no rows) or the first row's keys."""
    with atomic_text(out) as handle:
        writer: csv.DictWriter[str] | None = None
        if columns is not None:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(handle, fieldnames=list(row))
                writer.writeheader()
            writer.writerow({k: _cell(v) for k, v in row.items()})
