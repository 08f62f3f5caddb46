"""Stance benchmark: article-level stance of a holder toward a target, on the project's labelled set.

The labels (``resources/benchmarks/stances.tsv``) are references only: split, article file name, holder,
target, polarity and the raw offsets of the sentence part that shows it; never article text. Labelling rules:

- one label per (article, holder, target) where the article states or clearly reports the holder's stance;
  the polarity is the article's overall picture of that stance (support, oppose, neutral, mixed);
- target is a person; "support" of a leader includes backing their staying as leader, "oppose" includes urging
  them to quit, challenging them or saying they cannot carry on; a leader refusing to quit supports the proposition
  "<leader> should stay as leader" (the label's target; no actor is labelled as their own target);
- declining to take a side ("refused to be drawn") is neutral; a stance the article says the holder held in the
  past ("who previously backed") is not labelled for this article;
- stances the reader must infer from tone alone are not labelled.

Splits: ``seeds`` (the five seed articles, 21 labels; the rules were written while reading them, so this
measures fit, not generalisation), ``unseen`` (one PolNeAR dev article, 4 labels, never read while writing the
rules), ``dev`` and ``all`` (seeds + unseen), and from ``stance_labels_dev.tsv`` (18 PolNeAR dev articles,
labelled before the system was run on them): ``tune`` (9 articles, 19 labels: error analysis allowed),
``heldout`` (9 articles, 23 labels: the final figure only), ``polnear`` (both) and ``everything`` (every label).
The stance stage's classifier is trained on other labels, ``stance_labels_train.tsv`` (PolNeAR *train* articles
only; see ``training/stance/``), which this benchmark never scores.
Articles are read from ``examples/`` (seeds; set by the project) and from
``<data>/polnear/dev/text`` (or ``<data>/dev/text``).

Scoring: a label is correct when the system's article-level polarity for a holder/target pair whose names
match (surname or full name, any case) equals it; a missing pair counts as wrong (predicted "none").
Precision per class is over the system's pairs that match a label; pairs the system finds in labelled
articles that match no label are counted as ``unlabelled_system_pairs`` (not all of them are errors).
"""

from __future__ import annotations

import os
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

from storytrace.analyze import stance_model
from storytrace.bench.quotes import tagger_requested
from storytrace.errors import BenchmarkError
from storytrace.ingest.pipeline import Prepared, prepare
from storytrace.model import RawDocument
from storytrace.settings import Settings
from storytrace.stages import STAGES

CLASSES = ("support", "oppose", "neutral", "mixed")
SPLITS = ("seeds", "unseen", "dev", "all", "tune", "heldout", "polnear", "everything")
LABEL_FILES = ("stances.tsv", "stance_labels_dev.tsv")


def _selected(row_split: str, split: str) -> bool:
    if split == "everything":
        return True
    if split in ("all", "dev"):
        return row_split in ("seeds", "unseen")
    if split == "polnear":
        return row_split in ("tune", "heldout")
    return row_split == split


def labels() -> list[dict[str, Any]]:
    text = "\n".join((resources.files("storytrace.resources") / "benchmarks" / name).read_text(encoding="utf-8")
                     for name in LABEL_FILES)
    rows = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        split, article, holder, target, polarity, start, end = line.split("\t")
        rows.append({"split": split, "article": article, "holder": holder, "target": target, "polarity": polarity,
                     "start": int(start), "end": int(end)})
    return rows


def _same(a: str, b: str) -> bool:
    a, b = a.casefold(), b.casefold()
    if " should " in a or " should " in b:  # a proposition about a person ("corbyn should stay as leader")
        (pa, _, ra), (pb, _, rb) = a.partition(" should "), b.partition(" should ")
        return ra == rb and bool(pa) and bool(pb) and _same(pa, pb)
    return a == b or a.split()[-1] == b.split()[-1]


def _locate(name: str, data: Path) -> Path:
    for folder in (Path(__file__).resolve().parents[2] / "examples", data / "polnear" / "dev" / "text",
                   data / "dev" / "text"):
        if (folder / name).is_file():
            return folder / name
    raise BenchmarkError(f"article {name} not found under examples/ or {data}/polnear/dev/text; pass --data")


def run(data: Path, *, split: str = "dev", limit: int | None = None, embeddings: bool | None = None) -> dict[str, Any]:
    """Score article-level stances on the labelled set; ``split`` is seeds, unseen, dev or all. ``embeddings``
    (default: the ``STORYTRACE_BENCH_STANCE_EMBEDDINGS`` environment variable) turns on
    ``Settings.stance_embeddings``; it needs the ``embeddings`` extra. ``STORYTRACE_BENCH_QUOTE_TAGGER=1`` finds
    the quotations with the MiniLM span tagger joined (``Settings.quote_tagger``)."""
    if split not in SPLITS:
        raise BenchmarkError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if embeddings is None:
        embeddings = os.environ.get("STORYTRACE_BENCH_STANCE_EMBEDDINGS", "") not in ("", "0")
    if embeddings and (why := stance_model.embeddings_unavailable()):
        raise BenchmarkError(f"stance embeddings asked for but unavailable: {why}")
    wanted = [r for r in labels() if _selected(r["split"], split)]
    articles = list(dict.fromkeys(r["article"] for r in wanted))[:limit]
    wanted = [r for r in wanted if r["article"] in articles]
    settings = Settings(stance_embeddings=embeddings, quote_tagger=tagger_requested())
    predicted: dict[str, list[dict[str, Any]]] = {}
    for name in articles:
        path = _locate(name, data)
        prepared = prepare(RawDocument(source_path=name, text=path.read_text(encoding="utf-8")), boilerplate={},
                           settings=settings)
        if not isinstance(prepared, Prepared):
            raise BenchmarkError(f"could not read {name}: {prepared}")
        article = prepared.article
        quotes = STAGES["quotes"].run(article, {}, settings).payload
        predicted[name] = STAGES["stances"].run(article, {"quotes": quotes}, settings).payload["pairs"]
    gold_counts: Counter[str] = Counter()
    pred_counts: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    errors = []
    matched_pairs = 0
    for r in wanted:
        pair = next((p for p in predicted[r["article"]]
                     if _same(p["holder"], r["holder"]) and _same(p["target"], r["target"])), None)
        got = pair["polarity"] if pair else "none"
        gold_counts[r["polarity"]] += 1
        if pair:
            matched_pairs += 1
            pred_counts[got] += 1
        if got == r["polarity"]:
            correct[got] += 1
        else:
            errors.append({"article": r["article"], "holder": r["holder"], "target": r["target"],
                           "gold": r["polarity"], "predicted": got})
    unlabelled = sum(1 for name, pairs in predicted.items() for p in pairs
                     if not any(_same(p["holder"], r["holder"]) and _same(p["target"], r["target"])
                                for r in wanted if r["article"] == name))
    per_class = {c: {"precision": round(correct[c] / pred_counts[c], 4) if pred_counts[c] else None,
                     "recall": round(correct[c] / gold_counts[c], 4) if gold_counts[c] else None,
                     "gold": gold_counts[c]} for c in CLASSES if gold_counts[c] or pred_counts[c]}
    total = len(wanted)
    return {"split": split, "articles": len(articles), "labels": total, "stance_embeddings": embeddings,
            "quote_tagger": settings.quote_tagger,
            "accuracy": round(sum(correct.values()) / total, 4) if total else None,
            "found": matched_pairs, "per_class": per_class, "unlabelled_system_pairs": unlabelled,
            "errors": errors}


def report(figures: dict[str, Any]) -> str:
    lines = [f"stance benchmark, split {figures['split']}: {figures['labels']} labels in {figures['articles']} "
             f"articles", f"accuracy {figures['accuracy']}  (pairs found {figures['found']}/{figures['labels']}; "
             f"unlabelled system pairs {figures['unlabelled_system_pairs']})"]
    for c, v in figures["per_class"].items():
        lines.append(f"  {c:8} P {v['precision']}  R {v['recall']}  (gold {v['gold']})")
    for e in figures["errors"]:
        lines.append(f"  error: {e['article']}: {e['holder']} -> {e['target']}: gold {e['gold']}, got {e['predicted']}")
    return "\n".join(lines) + "\n"
