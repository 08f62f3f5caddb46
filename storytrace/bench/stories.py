"""`storytrace bench stories`: streaming story clustering scored as in Miranda et al. (2018).

Reads articles in the Miranda et al. format (a JSON array of objects with ``id``, ``lang``, ``date``
``%Y-%m-%d %H:%M:%S``, ``cluster``, and the text in ``title`` + ``text``/``body``/``content``), replays them
in date order through ``storytrace.resolve.stories``, and prints pairwise P/R/F1 (over all document pairs,
as Priberam's ``eval.py``), BCubed P/R/F1 and AMI (adjusted mutual information, arithmetic
normalisation as scikit-learn's default; implemented here in ``ami``).

``data`` is one of:

- a folder holding ``dataset.<split>.json`` (the original benchmark, not obtainable offline);
- the shared data folder or ``reuters21578`` (splits ``dev``, ``test``, ``heldout2``): the project's story-level set
  ``resources/benchmarks/stories-reuters.json`` (NEWIDs and story labels only). A split is a window of dates;
  every Reuters record with a body in the window is streamed, and only the labelled ones are scored (as
  Priberam's ``eval.py -f``), so unlabelled articles can still pull labelled ones into wrong stories.
  ``heldout2`` (1987-03-21..03-29, labelled blind to the clusterer) is reserved for held-out scoring: never tune on it;
- the ``semeval2015-timeline`` folder (splits ``train``, ``test``): the older topic-level Wikinews set
  ``resources/benchmarks/stories-wikinews.json``, four SemEval corpora spanning years.

With ``STORYTRACE_BENCH_STORY_EMBEDDINGS=1`` (or ``python -m storytrace.bench.stories --embeddings``) each article
is also embedded as the ``embedding`` stage does (title + lead, all-MiniLM-L6-v2; needs the ``embeddings`` extra)
and clustered with ``EMBEDDING_OPTIONS``; the figures then include the model's CPU time per article.

With ``STORYTRACE_BENCH_STORY_ENTITIES=1`` (or ``--entities``) each article's names are the PERSON and ORG
entities the shipped model finds in it, as the ``stories`` stage takes them from the ``entities`` stage (without,
the bench clusters on words and time only, while the stage also weighs shared names). ``--names-cache FILE``
keeps them between runs (a JSON object, article id -> names; recomputed when it lacks an article).
"""

from __future__ import annotations

import argparse
import html
import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from storytrace.errors import BenchmarkError
from storytrace.resolve.stories import (
    EMBEDDING_OPTIONS,
    StoryOptions,
    cluster,
    embed_texts,
    embeddings_unavailable,
    lead_span,
    make_doc,
)

DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
LABELS = Path(__file__).resolve().parent.parent / "resources" / "benchmarks" / "stories-wikinews.json"
REUTERS_LABELS = LABELS.with_name("stories-reuters.json")
# Chosen on the train split (trial + corpus_1) by a grid over threshold x decay x centroid size, best pairwise F1:
# the labelled set's "stories" are topics spanning years, so it wants a low threshold and almost no decay.
BENCH_OPTIONS = StoryOptions(threshold=0.03, follow_threshold=0.015, decay_days=3650.0, retire_days=10950.0,
                             story_terms=400)
_TOKEN = re.compile(r'<token[^>]*sentence="(\d+)"[^>]*>([^<]*)</token>')


def load(data: Path, split: str) -> list[dict[str, Any]]:
    """Articles of a split as Miranda-format records (English only; ``cluster`` None when unlabelled)."""
    miranda = data / f"dataset.{split}.json"
    if miranda.exists():
        rows = json.loads(miranda.read_text(encoding="utf-8"))
        return [r for r in rows if r.get("lang", "eng") == "eng"]
    reuters = data if data.name == "reuters21578" else data / "reuters21578"
    if reuters.is_dir() and not (data / "SemEval_Task4_data").exists():
        return _load_reuters(reuters, split)
    root = data if (data / "SemEval_Task4_data").exists() else data / "semeval2015-timeline"
    if not (root / "SemEval_Task4_data").exists():
        raise BenchmarkError(f"no dataset.{split}.json, reuters21578 or semeval2015-timeline folder under {data}",
                             code="E501")
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    wanted = [a for a in labels["articles"] if split in ("all", a["split"])]
    if not wanted:
        raise BenchmarkError(f"split {split!r} is not in the labelled set: use train, test or all", code="E502")
    rows = []
    for a in wanted:
        title, text = _read_cat(root / a["path"])
        rows.append({**a, "title": title, "text": text})
    return rows


_REUTERS = re.compile(r'<REUTERS[^>]*NEWID="(\d+)"[^>]*>(.*?)</REUTERS>', re.S)
_FIELD = {name: re.compile(rf"<{name}>(.*?)</{name}>", re.S) for name in ("DATE", "TITLE", "BODY")}


def _load_reuters(folder: Path, split: str) -> list[dict[str, Any]]:
    """Every Reuters record with a body dated inside the split's window, labelled where the set says so."""
    labels = json.loads(REUTERS_LABELS.read_text(encoding="utf-8"))
    if split not in labels["windows"]:
        raise BenchmarkError(f"split {split!r} is not in the Reuters story set: use dev, test or heldout2", code="E502")
    first, last = labels["windows"][split]
    story = {a["newid"]: a["story"] for a in labels["articles"] if a["split"] == split}
    rows = []
    for f in sorted(folder.glob("reut2-*.sgm")):
        for m in _REUTERS.finditer(f.read_bytes().decode("latin-1")):
            fields = {k: p.search(m.group(2)) for k, p in _FIELD.items()}
            if not fields["BODY"] or not fields["DATE"]:
                continue
            when = _reuters_date(fields["DATE"].group(1))
            if when is None or not first <= when[:10] <= last:
                continue
            newid = int(m.group(1))
            title = fields["TITLE"].group(1) if fields["TITLE"] else ""
            rows.append({"id": newid, "date": when, "cluster": story.get(newid),
                         "title": html.unescape(" ".join(title.split())),
                         "text": html.unescape(fields["BODY"].group(1))})
    missing = set(story) - {r["id"] for r in rows}
    if missing:
        raise BenchmarkError(f"{len(missing)} labelled Reuters articles not found in {folder} (e.g. {min(missing)}): "
                             "is it the unmodified Reuters-21578 distribution?", code="E501")
    return rows


def _reuters_date(raw: str) -> str | None:
    """``26-FEB-1987 15:01:01.79`` as ``1987-02-26 15:01:01``; a malformed clock (a few records) reads as midnight."""
    m = re.match(r"\s*(\d{1,2}-[A-Z]{3}-\d{4})\s+(\d{1,2}:\d\d:\d\d)?", raw)
    if not m:
        return None
    day = datetime.strptime(m.group(1), "%d-%b-%Y").date().isoformat()
    try:
        clock = datetime.strptime(m.group(2) or "", "%H:%M:%S").strftime("%H:%M:%S")
    except ValueError:
        clock = "00:00:00"
    return f"{day} {clock}"


def _read_cat(path: Path) -> tuple[str, str]:
    """Title (sentence 0) and body (sentences 2..) of a NewsReader CAT file, tokens joined by spaces."""
    sentences: dict[int, list[str]] = {}
    for m in _TOKEN.finditer(path.read_text(encoding="utf-8")):
        sentences.setdefault(int(m.group(1)), []).append(m.group(2))
    title = " ".join(sentences.get(0, []))
    body = "\n".join(" ".join(sentences[i]) for i in sorted(sentences) if i >= 2)
    return title, body


def entity_names(ids: Sequence[str], texts: Sequence[str], cache: Path | None = None) -> dict[str, list[str]]:
    """PERSON and ORG entity texts per article from the shipped model's NER path (the ``entities`` stage's)."""
    known: dict[str, list[str]] = json.loads(cache.read_text("utf-8")) if cache and cache.is_file() else {}
    todo = [(i, t) for i, t in zip(ids, texts, strict=True) if i not in known]
    if todo:
        from storytrace.nlp import load
        from storytrace.stages import ENTITY_EXCLUDE

        nlp = load(exclude=ENTITY_EXCLUDE)
        for (article_id, _text), doc in zip(todo, nlp.pipe((t for _i, t in todo), batch_size=32), strict=True):
            known[article_id] = sorted({e.text for e in doc.ents if e.label_ in ("PERSON", "ORG")})
        if cache:
            cache.write_text(json.dumps(known, ensure_ascii=False), "utf-8")
    return {i: known[i] for i in ids}


def _flag(value: bool | None, variable: str) -> bool:
    return value if value is not None else os.environ.get(variable, "") not in ("", "0")


def run(data: Path = DEFAULT_DATA, *, split: str = "test", limit: int | None = None,
        options: StoryOptions | None = None, embeddings: bool | None = None, entities: bool | None = None,
        names_cache: Path | None = None) -> dict[str, Any]:
    """Cluster a split in date order and score it; return JSON-serialisable figures."""
    embeddings = _flag(embeddings, "STORYTRACE_BENCH_STORY_EMBEDDINGS")
    entities = _flag(entities, "STORYTRACE_BENCH_STORY_ENTITIES")
    rows = sorted(load(data, split), key=lambda r: (r["date"], str(r["id"])))
    if limit:
        rows = rows[:limit]
    texts = [r.get("text") or r.get("body") or r.get("content") or "" for r in rows]
    embedding: dict[str, Any] = {}
    vectors: list[Any] = [None] * len(rows)
    if embeddings:
        if why := embeddings_unavailable():
            raise BenchmarkError(f"--embeddings: {why}", code="E501")
        t0 = time.process_time()
        embed_texts(["warm-up"])  # the model load, timed apart
        load_cpu = time.process_time() - t0
        t0 = time.process_time()
        vectors = list(embed_texts([lead_span(r.get("title") or "", t)[0] for r, t in zip(rows, texts, strict=True)]))
        cpu = time.process_time() - t0
        embedding = {"model_load_cpu_s": round(load_cpu, 1),
                     "cpu_ms_per_article": round(1000 * cpu / max(1, len(rows)), 1)}
        options = options or EMBEDDING_OPTIONS
    options = options or (BENCH_OPTIONS if rows and "path" in rows[0] else StoryOptions())
    ids = [str(r["id"]) for r in rows]
    names = entity_names(ids, texts, names_cache) if entities else {}
    docs = [make_doc(i, t, title=r.get("title") or "", published=r["date"][:10], vector=v, names=names.get(i, ()))
            for i, r, t, v in zip(ids, rows, texts, vectors, strict=True)]
    t0 = time.perf_counter()
    predicted = {a.doc_id: a.story for a in cluster(docs, options)}
    seconds = time.perf_counter() - t0
    scored = [r for r in rows if r.get("cluster") is not None]
    gold = [str(r["cluster"]) for r in scored]
    pred = [predicted[str(r["id"])] for r in scored]
    figures = {"split": split, "articles": len(rows), "scored": len(scored), "gold_stories": len(set(gold)),
               "predicted_stories": len(set(pred)), **scores(gold, pred),
               "pairwise_f1_drop_one": drop_one_spread(gold, pred), "seconds": round(seconds, 3),
               "options": asdict(options)}
    if embeddings:
        figures["embeddings"] = embedding
    if entities:
        figures["names"] = "PERSON and ORG entities of the shipped model"
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


def drop_one_spread(gold: Sequence[Any], pred: Sequence[Any]) -> list[float]:
    """Lowest and highest pairwise F1 with one gold story left out: how far a single story moves the figure.

    On the Reuters windows one long story holds up to a third of the labelled pairs, so a difference between two
    configurations smaller than this spread says little. Only the range is given, never which story, so that a
    held-out split can be scored without reading its errors.
    """
    def pairs(c: Iterable[int]) -> int:
        return sum(x * (x - 1) // 2 for x in c)

    joint = Counter(zip(gold, pred, strict=True))
    g, p = Counter(gold), Counter(pred)
    tp, pp, gp = pairs(joint.values()), pairs(p.values()), pairs(g.values())
    out = []
    for story in g if len(g) > 1 else ():
        inside = [(pl, c) for (gl, pl), c in joint.items() if gl == story]
        tp_ = tp - pairs(c for _, c in inside)
        pp_ = pp - sum(p[pl] * (p[pl] - 1) // 2 - (p[pl] - c) * (p[pl] - c - 1) // 2 for pl, c in inside)
        gp_ = gp - pairs([g[story]])
        prec = tp_ / pp_ if pp_ else 1.0
        rec = tp_ / gp_ if gp_ else 1.0
        out.append(_f(prec, rec))
    return [round(min(out), 4), round(max(out), 4)] if out else []


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
        f"story clustering, split {f['split']}: {f['articles']} articles streamed, {f['scored']} scored in "
        f"{f['gold_stories']} gold stories, "
        f"{f['predicted_stories']} predicted ({f['seconds']} s)",
        f"  pairwise  P {f['pairwise_p']:.4f}  R {f['pairwise_r']:.4f}  F1 {f['pairwise_f1']:.4f}",
        *([f"  pairwise F1 with one gold story left out: {f['pairwise_f1_drop_one'][0]:.4f} .. "
           f"{f['pairwise_f1_drop_one'][1]:.4f} (how far one story moves it)"]
          if f.get("pairwise_f1_drop_one") else []),
        f"  BCubed    P {f['bcubed_p']:.4f}  R {f['bcubed_r']:.4f}  F1 {f['bcubed_f1']:.4f}",
        f"  AMI {f['ami']:.4f}",
        *([f"  embeddings: {f['embeddings']['cpu_ms_per_article']} ms CPU per article "
           f"(model load {f['embeddings']['model_load_cpu_s']} s CPU), threshold {f['options']['threshold']}"]
          if f.get("embeddings") else []),
    ])


def main() -> None:
    """``python -m storytrace.bench.stories``: the bench command, plus ``--embeddings`` and ``--entities``."""
    ap = argparse.ArgumentParser(description="story clustering bench (see storytrace bench stories --help)")
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--split", default="dev")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--embeddings", action="store_true", help="add the title + lead embedding signal")
    ap.add_argument("--entities", action="store_true", help="names from the shipped model's PERSON/ORG entities")
    ap.add_argument("--names-cache", type=Path, default=None, help="keep --entities names in this JSON file")
    args = ap.parse_args()
    figures = run(args.data, split=args.split, limit=args.limit, embeddings=args.embeddings or None,
                  entities=args.entities or None, names_cache=args.names_cache)
    print(json.dumps(figures, ensure_ascii=False) if args.json else report(figures))


if __name__ == "__main__":
    main()
