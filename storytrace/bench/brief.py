"""`storytrace bench brief`: ROUGE of the extractive brief against human-written summaries.

What is measured, and what is not. The only reference summaries available offline are GUM's
(``<data>/gum``, or ``--data`` pointing at the gum folder): every document has five human summaries of one
sentence each. GUM's news documents are Wikinews articles, so the benchmark treats each one as a story of a
single article and runs the real brief code on it (``analyze.brief.candidates`` over the ``quotes`` and
``facts`` stages' output, then ``analyze.brief.summarise``). It therefore measures which sentences the brief
picks from one news article, not the cross-article part of a multi-document brief (redundancy removal between
outlets, chronological order); no multi-document news set with reference summaries is available offline
(``news-clustering`` has no articles, ``semeval2015-timeline`` and ``bbc-news-2225`` have no summaries).

Scores: ROUGE-1, ROUGE-2 and ROUGE-L F1 from ``rouge-score`` (Porter stemming), for each document the mean
over its five references (``max`` over references is reported too), averaged over documents. The brief is
scored at 1 sentence (the references' length) and 3 sentences, beside the lead baseline (the article's first
body sentences: the usual strong baseline for news) of the same lengths. The headline and dateline of a
GUM document are kept in the text, as an article page would have them; the brief's candidate filter drops
them, and the lead baseline starts after them.

Splits: ``news`` (23 Wikinews documents of GUM train+dev+test; the brief's settings were never tuned on
them), ``all`` (every GUM genre in the files, a looser check: academic, biography, fiction ... are not news).
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path
from typing import Any

from storytrace.analyze import brief
from storytrace.errors import BenchmarkError
from storytrace.ingest.pipeline import Prepared, prepare
from storytrace.model import RawDocument
from storytrace.settings import Settings
from storytrace.stages import STAGES

SPLITS = ("news", "all")
LENGTHS = (1, 3)
FILES = ("en_gum-ud-train.conllu", "en_gum-ud-dev.conllu", "en_gum-ud-test.conllu")


def documents(data: Path) -> list[dict[str, Any]]:
    """GUM documents as {id, genre, text, summaries}; the text is rebuilt from the ``# text`` lines, with
    a blank line between paragraphs (``# newpar``)."""
    root = data / "gum" if (data / "gum").is_dir() else data
    paths = [root / name for name in FILES if (root / name).is_file()]
    if not paths:
        raise BenchmarkError(f"no GUM .conllu files under {root}: pass the shared data folder with --data")
    docs: list[dict[str, Any]] = []
    for path in paths:
        current: dict[str, Any] | None = None
        paragraphs: list[list[str]] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                continue
            if line.startswith("# newdoc id = "):
                if current is not None:
                    current["text"] = "\n\n".join(" ".join(p) for p in paragraphs if p)
                    docs.append(current)
                current = {"id": line.split("=", 1)[1].strip(), "genre": "", "summaries": []}
                paragraphs = []
            elif current is None:
                continue
            elif line.startswith("# meta::genre = "):
                current["genre"] = line.split("=", 1)[1].strip()
            elif re.match(r"# meta::summary\d+ = ", line):
                summary = re.sub(r"^\(human\d+\)\s*", "", line.split("=", 1)[1].strip())
                if summary:
                    current["summaries"].append(summary)
            elif line == "# newpar" or line.startswith("# newpar "):
                paragraphs.append([])
            elif line.startswith("# text = "):
                if not paragraphs:
                    paragraphs.append([])
                paragraphs[-1].append(line.split("=", 1)[1].strip())
        if current is not None:
            current["text"] = "\n\n".join(" ".join(p) for p in paragraphs if p)
            docs.append(current)
    return [d for d in docs if d["summaries"] and d["text"]]


def _scorer() -> Any:
    try:
        from rouge_score import rouge_scorer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise BenchmarkError("rouge-score is not installed: pip install -e '.[test]'") from exc
    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def _rouge(scorer: Any, prediction: str, references: list[str]) -> dict[str, dict[str, float]]:
    per_ref = [scorer.score(ref, prediction) for ref in references]
    return {m: {"mean": statistics.fmean(s[m].fmeasure for s in per_ref),
                "max": max(s[m].fmeasure for s in per_ref)} for m in ("rouge1", "rouge2", "rougeL")}


def run(data: Path, *, split: str = "news", limit: int | None = None) -> dict[str, Any]:
    """ROUGE of the brief and of the lead baseline on GUM's human summaries (see the module docstring)."""
    if split not in SPLITS:
        raise BenchmarkError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    docs = [d for d in documents(data) if split == "all" or d["genre"] == "news"][:limit]
    if not docs:
        raise BenchmarkError(f"no GUM documents for split {split!r}")
    scorer = _scorer()
    settings = Settings()
    systems = [f"{kind}-{n}" for n in LENGTHS for kind in ("brief", "lead")]
    scores: dict[str, list[dict[str, dict[str, float]]]] = {s: [] for s in systems}
    words: dict[str, list[int]] = {s: [] for s in systems}
    t0 = time.perf_counter()
    for doc in docs:
        prepared = prepare(RawDocument(source_path=doc["id"], text=doc["text"]), boilerplate={}, settings=settings)
        if not isinstance(prepared, Prepared):
            raise BenchmarkError(f"could not read GUM document {doc['id']}: {prepared}")
        article = prepared.article
        quotes = STAGES["quotes"].run(article, {}, settings).payload["quotes"]
        facts = STAGES["facts"].run(article, {}, settings).payload["facts"]
        sentences = brief.candidates(article, quotes, facts)
        for n in LENGTHS:
            picked = brief.summarise(sentences, dates={article.id: None}, n=n)
            outputs = {f"brief-{n}": " ".join(s["text"] for s in picked),
                       f"lead-{n}": " ".join(s["text"] for s in sorted(sentences, key=lambda s: s["start"])[:n])}
            for name, text in outputs.items():
                scores[name].append(_rouge(scorer, text, doc["summaries"]))
                words[name].append(len(text.split()))
    elapsed = time.perf_counter() - t0
    figures: dict[str, Any] = {"split": split, "documents": len(docs),
                               "references_per_document": round(statistics.fmean(len(d["summaries"]) for d in docs), 2),
                               "reference_words": round(statistics.fmean(
                                   len(s.split()) for d in docs for s in d["summaries"]), 1),
                               "seconds": round(elapsed, 2), "systems": {}}
    for name in systems:
        figures["systems"][name] = {
            metric: {agg: round(statistics.fmean(s[metric][agg] for s in scores[name]), 4) for agg in ("mean", "max")}
            for metric in ("rouge1", "rouge2", "rougeL")}
        figures["systems"][name]["words"] = round(statistics.fmean(words[name]), 1)
    figures["measured"] = ("single-article briefs of GUM news documents vs five one-sentence human summaries each; "
                           "ROUGE F1 (stemmed), mean over references then over documents; not the multi-document part")
    return figures


def report(figures: dict[str, Any]) -> str:
    lines = [f"brief benchmark (GUM, split {figures['split']}): {figures['documents']} documents, "
             f"{figures['references_per_document']} references each (~{figures['reference_words']} words)",
             f"{'system':10} {'words':>6} {'R-1':>7} {'R-2':>7} {'R-L':>7}   (F1, mean over references)"]
    for name, v in figures["systems"].items():
        lines.append(f"{name:10} {v['words']:>6} {v['rouge1']['mean']:>7.4f} {v['rouge2']['mean']:>7.4f} "
                     f"{v['rougeL']['mean']:>7.4f}")
    lines.append(f"measured: {figures['measured']}")
    return "\n".join(lines) + "\n"
