"""Main-text extraction benchmark: the Zyte article-extraction set (181 pages with hand-made article bodies).

The metric, re-implemented from the benchmark's description: tokens are ``\\w+`` runs; each document's
truth and prediction become multisets of 4-token shingles; TP, FP and FN (multiset intersection and
differences) are normalised by their sum so long pages do not dominate; per-document precision and
recall are averaged over the corpus, and F1 is the harmonic mean of those two means. Accuracy is the
share of documents predicted exactly (no FP, no FN). ``run`` scores the reference systems' outputs
shipped with the data (checking this scorer reproduces the published figures), storytrace's HTML path
(trafilatura + metadata + cleaning) and its plain-text path (cleaning applied to full visible page
text, the ``html-text`` output, as a stand-in for text pasted from a browser).

The benchmark has no held-out split: every figure here is measured on the same 181 pages that any
choice of options was made on, so treat small differences as noise (see the bootstrap std).
"""

from __future__ import annotations

import gzip
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storytrace.errors import BenchmarkError
from storytrace.ingest.clean import clean
from storytrace.ingest.html import extract_html, trafilatura_options
from storytrace.ingest.metadata import detect
from storytrace.settings import Settings

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
SHINGLE = 4
BOOTSTRAP = 1000
_TOKEN = re.compile(r"\w+")

# Published F1 of the reference outputs shipped with the data (the benchmark's README table).
PUBLISHED_F1 = {"trafilatura": 0.958, "html-text": 0.665, "readability": 0.922}


@dataclass(frozen=True)
class Score:
    """One document's shingle counts, normalised so tp + fp + fn == 1 (all zero for two empty texts)."""

    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        return 0.0 if self.tp == 0 else self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> float:
        if self.fp == self.fn == 0:
            return 1.0
        return 0.0 if self.tp == 0 else self.tp / (self.tp + self.fn)

    @property
    def exact(self) -> bool:
        return self.fp == self.fn == 0


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    # A text shorter than one shingle still counts, as one short shingle.
    return Counter(tuple(tokens[i : i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1)) if tokens)


def score(truth: str, pred: str) -> Score:
    """Score one predicted article body against the true one."""
    true_sh, pred_sh = _shingles(truth), _shingles(pred)
    tp = sum((true_sh & pred_sh).values())
    fp = sum((pred_sh - true_sh).values())
    fn = sum((true_sh - pred_sh).values())
    total = tp + fp + fn
    if total == 0:
        return Score(0.0, 0.0, 0.0)
    return Score(tp / total, fp / total, fn / total)


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def summarise(scores: list[Score], *, seed: int = 0) -> dict[str, float]:
    """Corpus precision, recall, F1 (of the means), accuracy, and the bootstrap std of F1."""
    if not scores:
        raise BenchmarkError("nothing to score: no documents")

    def f1_of(sample: list[Score]) -> float:
        return _f1(sum(s.precision for s in sample) / len(sample), sum(s.recall for s in sample) / len(sample))

    precision = sum(s.precision for s in scores) / len(scores)
    recall = sum(s.recall for s in scores) / len(scores)
    rng = random.Random(seed)
    boot = [f1_of(rng.choices(scores, k=len(scores))) for _ in range(BOOTSTRAP)]
    mean = sum(boot) / len(boot)
    std = (sum((b - mean) ** 2 for b in boot) / (len(boot) - 1)) ** 0.5
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(_f1(precision, recall), 4),
        "accuracy": round(sum(s.exact for s in scores) / len(scores), 4),
        "f1_std": round(std, 4),
    }


def _folder(data: Path) -> Path:
    folder = data if (data / "ground-truth.json").exists() else data / "article-extraction"
    if not (folder / "ground-truth.json").exists():
        raise BenchmarkError(
            f"article-extraction data not found under {data}: pass the shared data folder "
            "(the one holding article-extraction/ground-truth.json)"
        )
    return folder


def _load_json(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise BenchmarkError(f"cannot read {path.name}: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("output"), dict):  # {"version": ..., "output": {...}}
        data = data["output"]
    if not isinstance(data, dict):
        raise BenchmarkError(f"{path.name} is not a JSON object of items")
    return data


def _bodies(items: Mapping[str, Any]) -> dict[str, str]:
    return {key: str((value or {}).get("articleBody") or "") for key, value in items.items()}


def score_outputs(truth: Mapping[str, str], predicted: Mapping[str, str]) -> dict[str, float]:
    """Score a system's predictions (item id → body) on every truth item; missing items count as empty."""
    return summarise([score(body, predicted.get(key, "")) for key, body in truth.items()])


def _timed(keys: Iterable[str], fn: Callable[[str], str]) -> tuple[dict[str, str], float]:
    out: dict[str, str] = {}
    start = time.perf_counter()
    for key in keys:
        out[key] = fn(key)
    return out, time.perf_counter() - start


def run(data: Path = DEFAULT_DATA, *, split: str = "all", limit: int | None = None) -> dict[str, Any]:
    """Score storytrace's HTML and plain-text paths, and check the scorer against published figures.

    ``data`` is the shared data folder or its ``article-extraction`` subfolder. The benchmark has a
    single split, ``all``; ``limit`` scores only the first pages (sorted by id), for quick runs.
    """
    if split != "all":
        raise BenchmarkError("the article-extraction benchmark has one split, 'all' (nothing is held back)")
    folder = _folder(Path(data))
    truth_items = _load_json(folder / "ground-truth.json")
    keys = sorted(truth_items)[:limit] if limit else sorted(truth_items)
    truth = {key: str(truth_items[key].get("articleBody") or "") for key in keys}
    urls = {key: truth_items[key].get("url") for key in keys}
    settings = Settings()

    pages: dict[str, str] = {}
    for key in keys:
        path = folder / "html" / f"{key}.html.gz"
        try:
            pages[key] = gzip.decompress(path.read_bytes()).decode("utf-8", errors="replace")
        except (OSError, EOFError) as exc:
            raise BenchmarkError(f"cannot read benchmark page {path.name}: {exc}") from exc

    extracted: dict[str, str] = {}

    def html_path(key: str) -> str:
        page = extract_html(pages[key], url=urls[key], settings=settings)
        extracted[key] = page.text
        meta = detect(page.text, given={}, markup=page.markup())
        return clean(page.text, metadata=meta, settings=settings).text

    ours, seconds = _timed(keys, html_path)
    html_text = _bodies(_load_json(folder / "output" / "html-text.json"))

    def text_path(key: str) -> str:
        raw = html_text.get(key, "")
        return clean(raw, metadata=detect(raw, given={}), settings=settings).text

    cleaned_text, text_seconds = _timed(keys, text_path)

    references: dict[str, dict[str, float]] = {}
    for path in sorted((folder / "output").glob("*.json")):
        references[path.stem] = score_outputs(truth, _bodies(_load_json(path)))
    return {
        "dataset": "Zyte article-extraction benchmark",
        "split": split,
        "pages": len(keys),
        "html": {**score_outputs(truth, ours), "pages_per_second": round(len(keys) / seconds, 2)},
        "html_without_cleaning": score_outputs(truth, extracted),
        "text": {**score_outputs(truth, cleaned_text), "pages_per_second": round(len(keys) / text_seconds, 2)},
        "text_without_cleaning": references.get("html-text", score_outputs(truth, html_text)),
        "references": references,
        "published_f1": PUBLISHED_F1,
        "trafilatura_options": trafilatura_options(settings),
        "note": "one split only: options were chosen on these same pages (no held-out data)",
    }

