"""`storytrace bench stories`: streaming story clustering scored as in Miranda et al. (2018).

Reads articles in the Miranda et al. format (a JSON array of objects with ``id``, ``lang``, ``date``
``%Y-%m-%d %H:%M:%S``, ``cluster``, and the text in ``title`` + ``text``/``body``/``content``), replays them
in date order through ``storytrace.resolve.stories``, and prints pairwise P/R/F1 (over all document pairs,
as Priberam's ``eval.py``), BCubed P/R/F1 and AMI (adjusted mutual information, arithmetic
normalisation as scikit-learn's default; implemented here in ``ami``).

``data`` is either a folder holding ``dataset.<split>.json`` (the original benchmark, not obtainable
offline) or the ``semeval2015-timeline`` folder (or the data folder holding it): then the project's
labelled set ``resources/benchmarks/stories-wikinews.json`` (references and labels only) says which
Wikinews articles belong to which story and split, and their text is read from the data folder.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from storytrace.errors import BenchmarkError
from storytrace.resolve.stories import StoryOptions, cluster, make_doc

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
LABELS = Path(__file__).resolve().parent.parent / "resources" / "benchmarks" / "stories-wikinews.json"
# Chosen on the train split (trial + corpus_1) by a grid over threshold x decay x centroid size, best pairwise F1:
# the labelled set's "stories" are topics spanning years, so it wants a low threshold and almost no decay.
BENCH_OPTIONS = StoryOptions(threshold=0.03, follow_threshold=0.015, decay_days=3650.0, retire_days=10950.0,
                             story_terms=400)
_TOKEN = re.compile(r'<token[^>]*sentence="(\d+)"[^>]*>([^<]*)</token>')


def load(data: Path, split: str) -> list[dict[str, Any]]:
    """Articles of a split as Miranda-format records (English only), in file order."""
    miranda = data / f"dataset.{split}.json"
    if miranda.exists():
        rows = json.loads(miranda.read_text(encoding="utf-8"))
        return [r for r in rows if r.get("lang", "eng") == "eng"]
    root = data if (data / "SemEval_Task4_data").exists() else data / "semeval2015-timeline"
    if not (root / "SemEval_Task4_data").exists():
        raise BenchmarkError(f"no dataset.{split}.json and no semeval2015-timeline folder under {data}", code="E501")
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    wanted = [a for a in labels["articles"] if split in ("all", a["split"])]
    if not wanted:
        raise BenchmarkError(f"split {split!r} is not in the labelled set: use train, test or all", code="E502")
    rows = []
    for a in wanted:
        title, text = _read_cat(root / a["path"])
        rows.append({**a, "title": title, "text": text})
    return rows


def _read_cat(path: Path) -> tuple[str, str]:
    """Title (sentence 0) and body (sentences 2..) of a NewsReader CAT file, tokens joined by spaces."""
    sentences: dict[int, list[str]] = {}
    for m in _TOKEN.finditer(path.read_text(encoding="utf-8")):
        sentences.setdefault(int(m.group(1)), []).append(m.group(2))
    title = " ".join(sentences.get(0, []))
    body = "\n".join(" ".join(sentences[i]) for i in sorted(sentences) if i >= 2)
    return title, body


def run(data: Path = DEFAULT_DATA, *, split: str = "test", limit: int | None = None,
        options: StoryOptions | None = None) -> dict[str, Any]:
    """Cluster a split in date order and score it; return JSON-serialisable figures."""
    rows = sorted(load(data, split), key=lambda r: (r["date"], str(r["id"])))
    if limit:
        rows = rows[:limit]
    options = options or (BENCH_OPTIONS if not (data / f"dataset.{split}.json").exists() else StoryOptions())
    docs = [make_doc(str(r["id"]), r.get("text") or r.get("body") or r.get("content") or "", title=r.get("title") or "",
                     published=r["date"][:10]) for r in rows]
    t0 = time.perf_counter()
    predicted = {a.doc_id: a.story for a in cluster(docs, options)}
    seconds = time.perf_counter() - t0
    gold = [str(r["cluster"]) for r in rows]
    pred = [predicted[str(r["id"])] for r in rows]
    figures = {"split": split, "articles": len(rows), "gold_stories": len(set(gold)),
               "predicted_stories": len(set(pred)), **scores(gold, pred), "seconds": round(seconds, 3),
               "options": asdict(options)}
    return figures


def scores(gold: Sequence[Any], pred: Sequence[Any]) -> dict[str, float]:
    """Pairwise and BCubed P/R/F1 and AMI of a predicted clustering against gold labels."""
    n = len(gold)
    joint = Counter(zip(gold, pred, strict=True))
    g, p = Counter(gold), Counter(pred)

    def pairs(c: Iterable[int]) -> int:
        return sum(x * (x - 1) // 2 for x in c)

    tp = pairs(joint.values())
    fp, fn = pairs(p.values()) - tp, pairs(g.values()) - tp
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    b_p = sum(c * c / p[pl] for (gl, pl), c in joint.items()) / n if n else 0.0
    b_r = sum(c * c / g[gl] for (gl, pl), c in joint.items()) / n if n else 0.0
    return {"pairwise_p": round(prec, 4), "pairwise_r": round(rec, 4), "pairwise_f1": round(_f(prec, rec), 4),
            "bcubed_p": round(b_p, 4), "bcubed_r": round(b_r, 4), "bcubed_f1": round(_f(b_p, b_r), 4),
            "ami": round(ami(gold, pred), 4)}


def _f(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def ami(gold: Sequence[Any], pred: Sequence[Any]) -> float:
    """Adjusted mutual information, arithmetic-mean normalisation (scikit-learn's default since 0.22)."""
    n = len(gold)
    if n == 0:
        return 0.0
    joint = Counter(zip(gold, pred, strict=True))
    a, b = list(Counter(gold).values()), list(Counter(pred).values())
    if len(a) == len(b) == 1 or len(a) == len(b) == n:
        return 1.0
    mi = sum(c / n * math.log(n * c / (Counter(gold)[gl] * Counter(pred)[pl])) for (gl, pl), c in joint.items())
    h_a = -sum(x / n * math.log(x / n) for x in a)
    h_b = -sum(x / n * math.log(x / n) for x in b)
    emi = _expected_mi(a, b, n)
    denom = (h_a + h_b) / 2 - emi
    return (mi - emi) / denom if abs(denom) > 1e-12 else 0.0


def _expected_mi(a: list[int], b: list[int], n: int) -> float:
    """Expected mutual information under the hypergeometric model (Vinh et al. 2010)."""
    lg = [math.lgamma(i + 1) for i in range(n + 1)]
    emi = 0.0
    for ai in a:
        for bj in b:
            for nij in range(max(1, ai + bj - n), min(ai, bj) + 1):
                term = nij / n * math.log(n * nij / (ai * bj))
                log_p = (lg[ai] + lg[bj] + lg[n - ai] + lg[n - bj] - lg[n] - lg[nij] - lg[ai - nij]
                         - lg[bj - nij] - lg[n - ai - bj + nij])
                emi += term * math.exp(log_p)
    return emi


def report(figures: dict[str, Any]) -> str:
    f = figures
    return "\n".join([
        f"story clustering, split {f['split']}: {f['articles']} articles, {f['gold_stories']} gold stories, "
        f"{f['predicted_stories']} predicted ({f['seconds']} s)",
        f"  pairwise  P {f['pairwise_p']:.4f}  R {f['pairwise_r']:.4f}  F1 {f['pairwise_f1']:.4f}",
        f"  BCubed    P {f['bcubed_p']:.4f}  R {f['bcubed_r']:.4f}  F1 {f['bcubed_f1']:.4f}",
        f"  AMI {f['ami']:.4f}",
    ])
