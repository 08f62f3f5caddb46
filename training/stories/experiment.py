"""Does a sentence-embedding signal lift story clustering? Dev-window experiment (not the product).

    nice -n 10 .venv/bin/python training/stories/experiment.py --vectors /tmp/emb/dev-lead.npz [--split dev]

Needs only numpy: the vectors come from ``embed.py``. Prints one line per configuration, pairwise F1 first:

- (a) the current clusterer (``StoryOptions()``), as ``storytrace bench stories`` runs it;
- (b) the current clusterer with the embedding cosine (article vector vs. the story's mean vector) added to the
  join score, ``score = (text cosine + name share + weight * max(0, emb - floor)) * decay``; optionally as a gate
  (no join below ``gate``) and with embedding-nearest live stories added to the candidates;
- (c) embedding only: each article joins the live story whose mean vector is most similar, when that cosine
  (times the time decay) reaches the threshold, else starts a story.

Tune on dev only: the held-out window is scored once, with the chosen setting, by ``storytrace bench stories``.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # a multi-threaded matrix-vector product spins on a busy machine

import numpy as np  # noqa: E402

from storytrace.bench.stories import DEFAULT_DATA, load, scores  # noqa: E402
from storytrace.resolve.stories import Assignment, Doc, StoryClusterer, StoryOptions, _Story, make_doc  # noqa: E402


class _Vectors:
    """Story mean vectors in one growing matrix, so the nearest live stories are one matrix product away."""

    def __init__(self, dim: int) -> None:
        self.sums = np.zeros((1024, dim), dtype=np.float32)
        self.unit = np.zeros((1024, dim), dtype=np.float32)
        self.last = np.full(1024, -10**9, dtype=np.int64)

    def ensure(self, sid: int) -> None:
        if sid >= len(self.sums):
            grow = len(self.sums)
            self.sums = np.vstack([self.sums, np.zeros_like(self.sums[:grow])])
            self.unit = np.vstack([self.unit, np.zeros_like(self.unit[:grow])])
            self.last = np.concatenate([self.last, np.full(grow, -10**9, dtype=np.int64)])

    def add(self, sid: int, v: np.ndarray, day: int | None) -> None:
        self.ensure(sid)
        self.sums[sid] += v
        self.unit[sid] = self.sums[sid] / (np.linalg.norm(self.sums[sid]) or 1.0)
        if day is not None:
            self.last[sid] = max(self.last[sid], day)

    def cos(self, sid: int, v: np.ndarray) -> float:
        return float(self.unit[sid] @ v) if sid < len(self.unit) else 0.0

    def nearest(self, v: np.ndarray, day: int | None, *, k: int, window: float, upto: int) -> list[int]:
        sims = self.unit[:upto] @ v
        if day is not None:
            sims = np.where(day - self.last[:upto] <= window, sims, -1.0)
        if k >= upto:
            top = np.argsort(-sims)
        else:
            top = np.argpartition(-sims, k)[:k]
        return [int(i) for i in top if sims[i] > 0]


class EmbeddingClusterer(StoryClusterer):
    """The product's clusterer plus an embedding term (experiment copy of ``StoryClusterer.add``)."""

    def __init__(self, options: StoryOptions, *, dim: int, weight: float, floor: float, gate: float = -1.0,
                 extra_candidates: int = 0, window: float = 30.0) -> None:
        super().__init__(options)
        self.vectors = _Vectors(dim)
        self.weight, self.floor, self.gate = weight, floor, gate
        self.extra, self.window = extra_candidates, window

    def add_with(self, doc: Doc, v: np.ndarray) -> Assignment:
        opts = self.options
        vec, hits = self._look_up(doc)
        candidates = [sid for sid, _ in hits.most_common(opts.max_candidates)]
        if self.extra:
            near = self.vectors.nearest(v, doc.day, k=self.extra, window=self.window, upto=self._next)
            candidates += [s for s in near if s in self.stories and s not in hits]
        best: tuple[float, int, str] | None = None
        for sid in candidates:
            story = self.stories[sid]
            centroid = story.centroid
            cos = sum(vec[t] * centroid[t] for t in vec.keys() & centroid.keys()) / (story.norm or 1.0)
            shared = [n for n in doc.names if n in story.names]
            name_share = len(shared) / len(doc.names) if doc.names else 0.0
            gap = 0 if doc.day is None or story.last_day is None else max(0, doc.day - story.last_day)
            decay = math.exp(-gap / opts.decay_days)
            emb = self.vectors.cos(sid, v)
            score = (cos + opts.name_weight * name_share + self.weight * max(0.0, emb - self.floor)) * decay
            if gap > opts.retire_days or emb < self.gate:
                score = min(score, opts.threshold - 1e-6)
            if best is None or score > best[0]:
                best = (score, sid, f"text {cos:.2f} emb {emb:.2f}")
        if best is not None and best[0] >= opts.threshold:
            score, sid, why = best
            self._update(self.stories[sid], vec, doc)
            self.vectors.add(sid, v, doc.day)
            return Assignment(doc.id, sid, round(score, 4), False, why)
        story = _Story(self._next, doc.day, doc.day, title=doc.title)
        self._next += 1
        self.stories[story.id] = story
        self._update(story, vec, doc)
        self.vectors.add(story.id, v, doc.day)
        return Assignment(doc.id, story.id, 1.0, True, "started")


def embedding_only(ids: list[str], days: list[int | None], vectors: np.ndarray, *, threshold: float,
                   decay_days: float = 365.0, window: float = 30.0) -> dict[str, int]:
    """Single pass on embeddings alone: join the most similar live story mean at or above the threshold."""
    store = _Vectors(vectors.shape[1])
    out: dict[str, int] = {}
    n = 0
    for doc_id, day, v in zip(ids, days, vectors, strict=True):
        best, score = -1, -1.0
        if n:
            sims = store.unit[:n] @ v
            if day is not None:
                gap = np.maximum(0, day - store.last[:n])
                sims = np.where(gap <= window, sims * np.exp(-gap / decay_days), -1.0)
            best = int(np.argmax(sims))
            score = float(sims[best])
        if score >= threshold:
            sid = best
        else:
            sid, n = n, n + 1
        store.add(sid, v, day)
        out[doc_id] = sid
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--vectors", type=Path, required=True)
    ap.add_argument("--only", choices=("a", "b", "c"), action="append")
    ap.add_argument("--extra", type=int, nargs="*", default=[0], help="embedding-nearest candidates added in (b)")
    ap.add_argument("--weights", type=float, nargs="*", default=[0.25, 0.5, 1.0], help="(b) embedding weights")
    ap.add_argument("--floors", type=float, nargs="*", default=[0.3, 0.5], help="(b) embedding floors")
    ap.add_argument("--thresholds", type=float, nargs="*", default=[0.15, 0.2, 0.25, 0.3], help="(b) join thresholds")
    ap.add_argument("--gates", type=float, nargs="*", default=[0.2, 0.3, 0.4, 0.5], help="(b) gate-only settings")
    ap.add_argument("--emb-thresholds", type=float, nargs="*", default=[0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7],
                    help="(c) thresholds")
    args = ap.parse_args()
    if args.split != "dev":
        ap.error("tune on dev only")
    rows = sorted(load(args.data, args.split), key=lambda r: (r["date"], str(r["id"])))
    docs = [make_doc(str(r["id"]), r.get("text") or "", title=r.get("title") or "", published=r["date"][:10])
            for r in rows]
    saved = np.load(args.vectors)
    index = {str(i): k for k, i in enumerate(saved["ids"])}
    vectors = saved["vectors"][[index[d.id] for d in docs]]
    scored = [r for r in rows if r.get("cluster") is not None]
    gold = [str(r["cluster"]) for r in scored]
    parts = set(args.only or ("a", "b", "c"))

    largest = Counter(gold).most_common(1)[0][0]
    rest = [k for k, g in enumerate(gold) if g != largest]

    def line(label: str, predicted: dict[str, Any], cpu: float) -> None:
        pred = [predicted[str(r["id"])] for r in scored]
        f = scores(gold, pred)
        # the largest gold story (Brazil's debt on dev) holds a third of the pairs: F1 without it, for robustness
        f2 = scores([gold[k] for k in rest], [pred[k] for k in rest])
        print(f"{f['pairwise_f1']:.4f}  P {f['pairwise_p']:.3f} R {f['pairwise_r']:.3f}  B3 {f['bcubed_f1']:.3f} "
              f"AMI {f['ami']:.3f}  w/o {largest} {f2['pairwise_f1']:.3f}  stories {len(set(predicted.values()))}  "
              f"{cpu:.1f}s  {label}", flush=True)

    def run_b(options: StoryOptions, **kw: Any) -> dict[str, int]:
        c = EmbeddingClusterer(options, dim=vectors.shape[1], **kw)
        return {d.id: c.add_with(d, v).story for d, v in zip(docs, vectors, strict=True)}

    if "a" in parts:
        t = time.process_time()
        c0 = StoryClusterer(StoryOptions())
        line("(a) current", {d.id: c0.add(d).story for d in docs}, time.process_time() - t)
    if "c" in parts:
        ids = [d.id for d in docs]
        days = [d.day for d in docs]
        for window in (7.0,):
            for thr in args.emb_thresholds:
                t = time.process_time()
                line(f"(c) emb-only thr {thr} window {window}",
                     embedding_only(ids, days, vectors, threshold=thr, window=window), time.process_time() - t)
    if "b" in parts:
        for weight in args.weights:
            for floor in args.floors:
                for thr in args.thresholds:
                    for extra in args.extra:
                        t = time.process_time()
                        p = run_b(StoryOptions(threshold=thr), weight=weight, floor=floor, extra_candidates=extra)
                        line(f"(b) add thr {thr} w {weight} floor {floor} extra {extra}", p, time.process_time() - t)
        for thr in (0.13, 0.15):
            for gate in args.gates:
                t = time.process_time()
                p = run_b(StoryOptions(threshold=thr), weight=0.0, floor=0.0, gate=gate)
                line(f"(b) gate thr {thr} gate {gate}", p, time.process_time() - t)


if __name__ == "__main__":
    main()
