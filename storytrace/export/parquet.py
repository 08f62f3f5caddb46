"""Apache Parquet via pyarrow, written in row groups (bounded memory); manifest in the file metadata."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from storytrace.export import atomic_path

ROW_GROUP = 1000


def _normalise(row: dict[str, Any]) -> dict[str, Any]:
    # Nested structures with varying keys are stored as JSON text so every row shares one schema.
    return {k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict) or k == "removed_lines" else v
            for k, v in row.items()}


def write(rows: Iterable[dict[str, Any]], out: Path, manifest: dict[str, Any], *,
          schema: pa.Schema | None = None) -> None:
    """Write ``rows``; with ``schema`` every file has exactly those columns and types, else they are inferred."""
    with atomic_path(out) as tmp:
        writer: pq.ParquetWriter | None = None
        if schema is not None:
            schema = schema.with_metadata({"storytrace_manifest": json.dumps(manifest, default=str)})
            writer = pq.ParquetWriter(tmp, schema)
        buffer: list[dict[str, Any]] = []

        def flush() -> None:
            nonlocal writer, schema
            if not buffer:
                return
            table = pa.Table.from_pylist(buffer, schema=schema)
            if writer is None:
                # A column that is empty in the first row group would be typed null; make it text.
                fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
                schema = pa.schema(fields, metadata={"storytrace_manifest": json.dumps(manifest, default=str)})
                table = table.cast(schema)
                writer = pq.ParquetWriter(tmp, schema)
            writer.write_table(table)
            buffer.clear()

        for row in rows:
            buffer.append(_normalise(row))
            if len(buffer) >= ROW_GROUP:
                flush()
        flush()
        if writer is None:  # no rows: still write a valid, empty file
            pq.write_table(pa.table({"id": pa.array([], pa.string())}), tmp)
        else:
            writer.close()
