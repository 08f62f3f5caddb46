"""Coverage-guided fuzzing (atheris / libFuzzer) of every reader, the cleaner and the quotation rules.

One target per run; the input bytes become a file of the target's type (or text for clean/quotes), and
the whole per-document path runs: read -> prepare (HTML extraction, metadata, cleaning) -> for text
targets the cheap analysis stages. A crash is any exception escaping that path (readers and prepare turn
bad input into per-item errors, so an escaping exception is a bug); a hang is libFuzzer's -timeout.

    .venv/bin/python fuzz/fuzz_ingest.py --target=jsonl -max_total_time=600 -timeout=20 fuzz/corpus/jsonl
    .venv/bin/python fuzz/run.py --seconds 600 --json          # every target, one after the other
"""

from __future__ import annotations

import os
import sys
import tempfile

import atheris

TARGETS = {"text": ".txt", "html": ".html", "json": ".json", "jsonl": ".jsonl", "csv": ".csv", "warc": ".warc",
           "gz": ".jsonl.gz", "clean": None, "quotes": None}


def _target() -> str:
    for arg in sys.argv:
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
    return os.environ.get("FUZZ_TARGET", "text")


TARGET = _target()
if TARGET not in TARGETS:
    raise SystemExit(f"unknown target {TARGET!r}; one of {', '.join(TARGETS)}")

with atheris.instrument_imports(include=["storytrace"]):
    from storytrace.ingest.clean import clean
    from storytrace.ingest.metadata import detect
    from storytrace.ingest.pipeline import Prepared, prepare
    from storytrace.ingest.readers import iter_documents
    from storytrace.model import ItemError
    from storytrace.nlp.quotes import extract
    from storytrace.settings import Settings

SETTINGS = Settings(progress=False, quote_parse=False, max_document_bytes=256 * 1024,
                    max_decompressed_bytes=1024 * 1024)
FOLDER = tempfile.mkdtemp(prefix="storytrace-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
PATH = os.path.join(FOLDER, "input" + (TARGETS[TARGET] or ".txt"))


def check_text(text: str) -> None:
    meta = detect(text, given={}, source_path="fuzz.txt")
    cleaned = clean(text, metadata=meta, settings=SETTINGS)
    for clean_start, raw_start, length in cleaned.segments:
        if cleaned.text[clean_start:clean_start + length] != text[raw_start:raw_start + length]:
            raise AssertionError("a clean segment does not map back onto the raw text")
    for quote in extract(text, parse=False):
        for span in (quote.content, quote.cue, quote.source):
            if span is not None and text[span.start:span.end] != span.text:
                raise AssertionError("a quotation span is not the text at its offsets")


def one_input(data: bytes) -> None:
    if TARGETS[TARGET] is None:
        check_text(atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data)))
        return
    with open(PATH, "wb") as out:
        out.write(data)
    for item in iter_documents([PATH], settings=SETTINGS):
        if isinstance(item, ItemError):
            if item.code in ("E100", "E199"):  # "a bug in storytrace": the reader failed unexpectedly
                raise AssertionError(f"unexpected reader failure: {item}")
            continue
        result = prepare(item, boilerplate={}, settings=SETTINGS)
        if isinstance(result, Prepared) and TARGET == "text":
            check_text(result.article.raw_text)


if __name__ == "__main__":
    argv = [a for a in sys.argv if not a.startswith("--target=")]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()
