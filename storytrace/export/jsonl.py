"""JSON Lines: one article (or record) per line, UTF-8."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from storytrace.export import atomic_text


def write(rows: Iterable[dict[str, Any]], out: Path, manifest: dict[str, Any]) -> None:
    with atomic_text(out) as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
