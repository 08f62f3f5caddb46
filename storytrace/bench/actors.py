"""`storytrace bench actors`: pairwise merge precision/recall of canonical actors on labelled speaker mentions.

Two labelled samples (file name, raw-text span and the real person or organisation of each speaker mention):

- ``seeds`` (``resources/benchmarks/actors-seeds.json``): the five seed articles in ``examples/``; the merging
  rules were written on them, so their figure is not a held-out one.
- ``polnear`` (``resources/benchmarks/actors-dev.json``): 30 PolNeAR dev articles read from
  ``<data>/polnear/dev/text``, labelled before the merger ran on them; held out, never tuned on.
- ``all``: both sets of articles in one store and one resolution (as one corpus), scored on every label; the
  figures of each sample from that same run are under ``by_split``.

The labels are matched by span to the mentions the pipeline produces: quotes stage, then
``resolve.actors.resolve``. Over every pair of labelled mentions, a true positive is a pair that is one person
and one predicted actor; precision and recall follow. A labelled mention the pipeline did not produce (the
quotes stage found no speaker span there) counts as an actor of its own, so it costs recall; ``found`` says how
many were produced, to tell attribution misses from merge errors. ``split_people`` lists the people spread over
several predicted actors, ``merged_actors`` the predicted actors holding several people.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from storytrace.errors import BenchmarkError

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BENCHMARKS = Path(__file__).resolve().parent.parent / "resources" / "benchmarks"
LABELS = BENCHMARKS / "actors-seeds.json"
POLNEAR_LABELS = BENCHMARKS / "actors-dev.json"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SPLITS = ("seeds", "polnear", "all")


def _seeds(data: Path, limit: int | None) -> tuple[list[dict[str, Any]], list[Path]]:
    labels = json.loads(LABELS.read_text(encoding="utf-8"))["mentions"][:limit]
    files = sorted(EXAMPLES.glob("*.txt"))
    if not files:
        raise BenchmarkError(f"no seed articles in {EXAMPLES}", code="E504")
    return labels, files


def _polnear(data: Path, limit: int | None) -> tuple[list[dict[str, Any]], list[Path]]:
    labels = json.loads(POLNEAR_LABELS.read_text(encoding="utf-8"))["mentions"][:limit]
    folder = Path(data) / "polnear" / "dev" / "text"
    if not folder.is_dir():
        raise BenchmarkError(f"PolNeAR dev articles not found in {folder}: pass --data, the folder that holds "
                             "polnear/dev/text (default ../shared/data)", code="E504")
    names = sorted({row["file"] for row in labels})
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise BenchmarkError(f"{len(missing)} labelled PolNeAR dev articles missing from {folder}, e.g. {missing[0]}",
                             code="E504")
    return labels, [folder / n for n in names]


def run(data: Path = DEFAULT_DATA, *, split: str = "all", limit: int | None = None) -> dict[str, Any]:
    """Run quotes + actors over the split's articles and score merging against its labels.

    ``limit`` keeps the first N labelled mentions of each sample (for polnear, only their articles are read).
    """
    from storytrace.corpus import Corpus
    from storytrace.resolve.actors import article_mentions, resolve
    from storytrace.settings import Settings

    if split not in SPLITS:
        raise BenchmarkError(f"split {split!r}: the labelled actor samples are 'seeds', 'polnear' (PolNeAR dev, "
                             "held out) or 'all' (both)", code="E503")
    samples = {name: load(data, limit) for name, load in (("seeds", _seeds), ("polnear", _polnear))
               if split in (name, "all")}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(db=Path(tmp) / "bench.db", progress=False)
        with Corpus(settings=settings) as corpus:
            corpus.ingest([str(f) for _labels, files in samples.values() for f in files])
            corpus.analyze(["quotes"])
            mentions, texts, file_of = [], {}, {}
            for article_id, payload in corpus.store.iter_stage_payloads("quotes"):
                article = corpus.store.get_article(article_id)
                texts[article_id] = article.raw_text
                file_of[article_id] = Path(article.sources[0]).name
                mentions += article_mentions(article_id, {"quotes": payload})
    actors = resolve(mentions, texts=texts)
    predicted = {(file_of[m.article_id], m.start, m.end): a.id for a in actors for m, _ in a.mentions}
    names = {a.id: a.name for a in actors}
    by_split = {name: score(labels, predicted, names) for name, (labels, _files) in samples.items()}
    if split != "all":
        return {"split": split, **by_split[split]}
    pooled = score([row for labels, _files in samples.values() for row in labels], predicted, names)
    return {"split": split, **pooled, "by_split": by_split}


def score(labels: list[dict[str, Any]], predicted: dict[tuple[str, int, int], str],
          names: dict[str, str] | None = None) -> dict[str, Any]:
    """Pairwise merge P/R/F1 of labelled mentions against predicted actor ids keyed by (file, start, end)."""
    names = names or {}
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
    found = sum(1 for x in pred if not x.startswith("missing-"))
    actors_of: dict[str, Counter[str]] = defaultdict(Counter)
    people_of: dict[str, Counter[str]] = defaultdict(Counter)
    for (person, actor), n in joint.items():
        shown = "(not produced)" if actor.startswith("missing-") else names.get(actor, actor)
        actors_of[person][shown] += n
        if not actor.startswith("missing-"):
            people_of[names.get(actor, actor)][person] += n
    return {"mentions": len(labels), "people": len(g), "actors": len(p), "found": found,
            "found_share": round(found / len(labels), 4) if labels else 1.0,
            "merge_p": round(prec, 4), "merge_r": round(rec, 4),
            "merge_f1": round(2 * prec * rec / (prec + rec), 4) if prec + rec else 0.0,
            "split_people": {person: dict(c.most_common()) for person, c in sorted(actors_of.items())
                             if len(c) > 1},
            "merged_actors": {actor: dict(c.most_common()) for actor, c in sorted(people_of.items())
                              if len(c) > 1}}


def _line(name: str, f: dict[str, Any]) -> str:
    return (f"{name}: {f['mentions']} labelled mentions of {f['people']} people "
            f"({f['found']} produced by the quotes stage, {f['found_share']:.1%}), {f['actors']} predicted actors\n"
            f"  merge P {f['merge_p']:.4f}  R {f['merge_r']:.4f}  F1 {f['merge_f1']:.4f}  "
            f"({len(f['split_people'])} people split, {len(f['merged_actors'])} actors merging people)")


def report(figures: dict[str, Any]) -> str:
    lines = [_line(f"actor merging, {figures['split']}", figures)]
    for name, sub in figures.get("by_split", {}).items():
        lines.append(_line(f"  of which {name} (same run)", sub))
    return "\n".join(lines)
