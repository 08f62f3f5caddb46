"""`storytrace bench actors`: pairwise merge precision/recall of canonical actors on labelled speaker mentions.

The labelled sample (``resources/benchmarks/actors-seeds.json``: file name, raw-text span and the real
person for each speaker mention of the seed articles) is matched by span to the mentions the pipeline
produces: quotes stage, then ``resolve.actors.resolve``. Over every pair of labelled mentions, a true
positive is a pair that is one person and one predicted actor; precision and recall follow. A labelled
mention the pipeline did not produce counts as an actor of its own (it costs recall).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from storytrace.errors import BenchmarkError

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
LABELS = Path(__file__).resolve().parent.parent / "resources" / "benchmarks" / "actors-seeds.json"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(data: Path = DEFAULT_DATA, *, split: str = "all", limit: int | None = None) -> dict[str, Any]:
    """Run quotes + actors over the seed articles and score merging against the labels."""
    from storytrace.corpus import Corpus
    from storytrace.resolve.actors import article_mentions, resolve
    from storytrace.settings import Settings

    if split not in ("all", "seeds"):
        raise BenchmarkError(f"split {split!r}: the labelled actor sample has only 'seeds' (or 'all')", code="E503")
    labels = json.loads(LABELS.read_text(encoding="utf-8"))["mentions"][:limit]
    files = sorted(EXAMPLES.glob("*.txt"))
    if not files:
        raise BenchmarkError(f"no seed articles in {EXAMPLES}", code="E504")
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(db=Path(tmp) / "bench.db", progress=False)
        with Corpus(settings=settings) as corpus:
            corpus.ingest([str(f) for f in files])
            corpus.analyze(["quotes"])
            mentions, texts, file_of = [], {}, {}
            for article_id, payload in corpus.store.iter_stage_payloads("quotes"):
                article = corpus.store.get_article(article_id)
                texts[article_id] = article.raw_text
                file_of[article_id] = Path(article.sources[0]).name
                mentions += article_mentions(article_id, {"quotes": payload})
    actors = resolve(mentions, texts=texts)
    predicted = {(file_of[m.article_id], m.start, m.end): a.id for a in actors for m, _ in a.mentions}
    gold, pred = [], []
    for i, row in enumerate(labels):
        gold.append(row["gold"])
        pred.append(predicted.get((row["file"], row["start"], row["end"]), f"missing-{i}"))
    joint, g, p = Counter(zip(gold, pred, strict=True)), Counter(gold), Counter(pred)

    def pairs(c: Any) -> int:
        return sum(x * (x - 1) // 2 for x in c)

    tp = pairs(joint.values())
    prec = tp / pairs(p.values()) if pairs(p.values()) else 1.0
    rec = tp / pairs(g.values()) if pairs(g.values()) else 1.0
    return {"split": split, "mentions": len(labels), "people": len(g), "actors": len(p),
            "found": sum(1 for x in pred if not x.startswith("missing-")),
            "merge_p": round(prec, 4), "merge_r": round(rec, 4),
            "merge_f1": round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0}


def report(figures: dict[str, Any]) -> str:
    f = figures
    return (f"actor merging, {f['split']}: {f['mentions']} labelled mentions of {f['people']} people "
            f"({f['found']} produced), {f['actors']} predicted actors\n"
            f"  merge P {f['merge_p']:.4f}  R {f['merge_r']:.4f}  F1 {f['merge_f1']:.4f}")
