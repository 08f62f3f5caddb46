"""One typed, frozen Settings object with commented defaults; core functions receive only this."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from storytrace.errors import InputError

DEFAULT_DB = "storytrace.db"


@dataclass(frozen=True)
class Settings:
    # The SQLite store; one file per corpus. Overridden by --db or STORYTRACE_DB.
    db: Path = Path(DEFAULT_DB)
    # Worker processes for per-article analysis (1 = in-process).
    jobs: int = 1
    # A single document (a file, or one record of a JSONL/CSV/WARC container) larger than this is
    # refused with a per-item error instead of being read into memory.
    max_document_bytes: int = 10 * 1024 * 1024
    # Per-article analysis refuses an article whose clean text is longer than this (error E320) rather than
    # stall on it: ~33,000 words, far past any news article; the dates stage alone needs ~10 s per 200,000
    # characters on one core (docs/reliability.md).
    max_analysis_chars: int = 200_000
    # CPU seconds one item may use (and ten times as many wall seconds, a backstop for an item that waits):
    # preparing one document during ingest (error E115), or one per-article stage on one article (error
    # E330). The item becomes a per-item error, nothing of it is stored and the batch goes on; 0 = no limit.
    # Generous: 25x the slowest genuine item measured, and CPU time does not grow with the machine's load
    # (docs/reliability.md has timings). Unix, main thread only (storytrace/timelimit.py).
    # Env: STORYTRACE_MAX_ITEM_SECONDS; CLI: --max-item-seconds.
    max_item_seconds: float = 600.0
    # A decompressed .gz stream larger than this is treated as a zip bomb and refused.
    max_decompressed_bytes: int = 512 * 1024 * 1024
    # Articles handled per database transaction during ingest and analysis.
    batch_size: int = 64
    # A line that appears in at least this many articles of one outlet is outlet boilerplate ...
    boilerplate_min_articles: int = 3
    # ... and in at least this share of that outlet's articles.
    boilerplate_min_share: float = 0.5
    # Lines longer than this are never boilerplate (they are sentences of the article).
    boilerplate_max_chars: int = 200
    # trafilatura tuning for HTML main-text extraction: favour recall (keeps more body text).
    html_favor_recall: bool = False
    html_favor_precision: bool = False
    # Quotations: also read attributions off the dependency parse (indirect and non-speech cues). Off =
    # rules only: several times faster, lower recall (docs/benchmarks.md, Quotations).
    quote_parse: bool = True
    # Quotations: join the attributions of the MiniLM span tagger (nlp/quotetagger.py) to those of the rule and
    # parse layers (docs/benchmarks.md, Quotations, session 12: more found, ~0.7 s more CPU per article). Needs the
    # 'embeddings' extra (torch, CPU wheel). CLI: --quote-tagger.
    quote_tagger: bool = False
    # The English pipeline of the entities stage and of the quotations' parse layer: "fast" (CNN) or "accurate"
    # (MiniLM: on the test sets LAS +1.7, UNER PERSON F +10 but ORG F -10, ~5x slower; the 'embeddings' extra),
    # or a trained model folder (docs/benchmarks.md, English NLP pipeline). Env: STORYTRACE_NLP_MODEL; CLI:
    # analyze --nlp-model.
    nlp_model: str = "fast"
    # Show progress bars (None = only when stderr is a terminal).
    progress: bool | None = None
    # Actor corrections (TOML: merge, split, rename, set_role), applied after automatic merging; None means
    # storytrace-corrections.toml beside the store, when it exists.
    corrections: Path | None = None
    # Stories: add the cosine of each article's title + lead sentence embedding (all-MiniLM-L6-v2) to the join
    # score (docs/benchmarks.md, Story clustering: +0.03 pairwise F1 on dev, -0.03 held out, so off by default).
    # Needs the 'embeddings' extra (torch, CPU wheel); without it
    # the stories stage falls back to words, names and time and says so in its summary. CLI: --story-embeddings.
    story_embeddings: bool = False
    # Stances: the polarity classifier also reads the all-MiniLM-L6-v2 vector of each candidate ("[HOLDER] cue
    # content", resources/stance/polarity-v3-embed.json; grouped-CV macro F1 0.557 against 0.520 without, on the
    # train labels). Needs the 'embeddings' extra; without it the stage uses polarity-v2 and says so in its summary.
    # CLI: --stance-embeddings.
    stance_embeddings: bool = False
    # Sentences in each story brief (storytrace report --story N).
    brief_sentences: int = 8
    # Seconds an ingest or analyze waits for another command writing to the same store before giving up
    # (0 = refuse at once, with a message naming the other command). Env: STORYTRACE_LOCK_WAIT.
    lock_wait: float = 0.0

    def replace(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: (str(v) if isinstance(v := getattr(self, f.name), Path) else v) for f in fields(self)}

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults, then the STORYTRACE_* variables, then explicit overrides (None means 'not given')."""
        values: dict[str, Any] = {}
        if env_db := os.environ.get("STORYTRACE_DB"):
            values["db"] = Path(env_db)
        if env_wait := os.environ.get("STORYTRACE_LOCK_WAIT"):
            try:
                values["lock_wait"] = float(env_wait)
            except ValueError:
                raise InputError(f"STORYTRACE_LOCK_WAIT must be a number of seconds, not {env_wait!r}") from None
        if env_limit := os.environ.get("STORYTRACE_MAX_ITEM_SECONDS"):
            try:
                values["max_item_seconds"] = float(env_limit)
            except ValueError:
                raise InputError("STORYTRACE_MAX_ITEM_SECONDS must be a number of seconds, "
                                 f"not {env_limit!r}") from None
        if env_model := os.environ.get("STORYTRACE_NLP_MODEL"):
            values["nlp_model"] = env_model
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("db", "corrections"):
            if key in values:
                values[key] = Path(values[key])
        return cls(**values)
