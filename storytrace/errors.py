"""The storytrace exception tree; every user-facing error has a code and lives here.

    StorytraceError                 base: anything storytrace raises on purpose
    ├── InputError                  the user's input cannot be read (one item, or the arguments)
    ├── StoreError                  the store cannot be opened, migrated or written
    │   └── StoreBusyError          another process holds the write lock
    ├── PipelineError               an analysis stage failed or is misconfigured
    │   ├── ModelError              a shipped model is missing or incompatible
    │   └── ItemTimeLimitError      one item ran past ``Settings.max_item_seconds`` (caught per item)
    └── BenchmarkError              benchmark data missing or malformed

Per-item problems in a batch are not raised: they become ``model.ItemError`` records (with one of
the ``E1xx`` codes below) so that the rest of the batch goes on.
"""

from __future__ import annotations


class StorytraceError(Exception):
    """Base class; ``code`` identifies the error in docs and logs."""

    code = "E000"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"[{self.code}] {self.args[0]}"


class InputError(StorytraceError):
    code = "E100"


class StoreError(StorytraceError):
    code = "E200"


class StoreBusyError(StoreError):
    code = "E201"


class PipelineError(StorytraceError):
    code = "E300"


class ModelError(PipelineError):
    code = "E310"


class ItemTimeLimitError(PipelineError):
    """A document being prepared, or one stage on one article, ran past ``Settings.max_item_seconds``."""

    code = "E330"


class BenchmarkError(StorytraceError):
    code = "E400"


# Codes for per-item ingest errors (model.ItemError.code). One line each: what went wrong.
ITEM_CODES = {
    "E100": "unexpected failure while reading an item (a bug in storytrace: please report it)",
    "E101": "path does not exist",
    "E102": "not a regular file (FIFO, device, socket or dangling link)",
    "E103": "file is empty or holds no text",
    "E104": "file is larger than the configured limit",
    "E105": "binary content, not text",
    "E106": "text could not be decoded",
    "E107": "malformed JSON / JSONL record",
    "E108": "malformed CSV",
    "E109": "truncated or corrupt compressed file or archive",
    "E110": "HTML holds no extractable main text",
    "E111": "unsupported file type",
    "E112": "record has no text field",
    "E113": "permission denied",
    "E114": "malformed metadata sidecar or manifest",
    "E115": "preparing the document took longer than the per-item time limit (max_item_seconds)",
    "E199": "unexpected failure while preparing a document (a bug in storytrace: please report it)",
}
