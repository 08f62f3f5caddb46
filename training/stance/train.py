"""Train the stance stage's polarity classifier and write it as JSON weights under storytrace/resources/stance/.

Data: ``storytrace/resources/benchmarks/stance_labels_train.tsv`` (PolNeAR *train* attributions labelled support /
oppose / neutral / mixed / none; see its header), with the article texts read from ``<data>/polnear/train/text``.
Model: scikit-learn ``LogisticRegression`` (multinomial, L2) over ``DictVectorizer`` features from
``storytrace.analyze.stance_model.candidate_features``: a linear model because there are a few hundred labels, and
its weights ship as plain JSON (no pickle). Classes: support, oppose, none; the 5 neutral and 4 mixed labels are
too few to learn and are left out (the stage keeps its rules for "refused to be drawn", and "mixed" is an
article-level summary of several statements). C is chosen by 5-fold cross-validation grouped by article (so no
article is in both the training and the scoring folds); the scores reported are those folds' pooled predictions.

Usage:
    python training/stance/train.py --data ../shared/data            # rebuild the shipped artefact
    python training/stance/train.py --data ../shared/data --check     # cross-validate only, write nothing
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from storytrace.analyze import stance, stance_model

CLASSES = ("support", "oppose", "none")
C_GRID = (0.1, 0.3, 1.0, 3.0)
VERSION = "2"  # 2: trained on 1,384 labels (session 8); 1: 680 labels (session 4)
NONE_BELOW = 0.5  # the stage's decision (stance_model.PolarityModel.decide): a stance when P(none) is below this
OUT = Path(__file__).resolve().parents[2] / "storytrace" / "resources" / "stance" / stance_model.MODEL_FILE


def label_file() -> Path:
    return Path(str(resources.files("storytrace.resources") / "benchmarks" / "stance_labels_train.tsv"))


def instances(data: Path, labels: Path | None = None) -> Iterator[tuple[str, str, stance_model.Candidate,
                                                                          list[tuple[int, int, str, str]], str]]:
    """(article, its text, candidate, the actors it names, label) of each trainable row of the label file."""
    path = labels or label_file()
    texts: dict[str, str] = {}
    mentions: dict[str, list[tuple[int, int, str, str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        (_split, article, _ann, holder, target, polarity, _s0, _s1, k0, k1, c0, c1, t0, t1) = line.split("\t")
        if polarity not in CLASSES:
            continue
        if article not in texts:
            texts[article] = (data / "polnear" / "train" / "text" / article).read_text(encoding="utf-8")
            names = stance._Names(texts[article], [])
            mentions[article] = [(m.start, m.end, m.name, m.kind) for m in names.mentions if not m.pronoun]
        text = texts[article]
        content = text[int(c0):int(c1)]
        kind = next((m[3] for m in mentions[article] if (m[0], m[1]) == (int(t0), int(t1))), "person")
        cand = stance_model.Candidate(holder, "person", target, kind, int(t0), int(t1), int(c0), int(c1),
                                      text[int(k0):int(k1)] if int(k0) >= 0 else "", int(k0), int(k1),
                                      stance_model.quote_kind(content))
        yield article, text, cand, mentions[article], polarity


def load(data: Path, labels: Path | None = None) -> tuple[list[dict[str, float]], list[str], list[str], str]:
    """Features, labels and article names of the trainable rows; the sha256 of the label file."""
    path = labels or label_file()
    xs, ys, groups = [], [], []
    for article, text, cand, mentions, polarity in instances(data, path):
        xs.append(stance_model.candidate_features(text, cand, mentions))
        ys.append(polarity)
        groups.append(article)
    return xs, ys, groups, hashlib.sha256(path.read_bytes()).hexdigest()


def _model(c: float) -> Any:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(DictVectorizer(sort=True),
                         LogisticRegression(C=c, max_iter=5000, class_weight="balanced"))


def cross_validate(xs: list[dict[str, float]], ys: list[str], groups: list[str]) -> dict[str, Any]:
    """Grouped 5-fold cross-validation for each C; the scores of the best C (accuracy, macro F1, per class)."""
    from sklearn.metrics import accuracy_score, classification_report, f1_score
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    folds = StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=6)
    results = {}
    for c in C_GRID:
        pred = cross_val_predict(_model(c), xs, ys, groups=groups, cv=folds)
        results[c] = (f1_score(ys, pred, average="macro"), pred)
    best = max(C_GRID, key=lambda c: (round(results[c][0], 4), -c))
    pred = results[best][1]
    report = classification_report(ys, pred, labels=list(CLASSES), output_dict=True, zero_division=0)
    stance_only = [(g, p) for g, p in zip(ys, pred, strict=True) if g != "none"]
    return {"C": best, "folds": 5, "grouped_by": "article", "instances": len(ys),
            "accuracy": round(accuracy_score(ys, pred), 4), "macro_f1": round(results[best][0], 4),
            "macro_f1_by_C": {str(c): round(results[c][0], 4) for c in C_GRID},
            "polarity_accuracy_on_stance_labels": round(sum(g == p for g, p in stance_only) / len(stance_only), 4),
            "per_class": {k: {"precision": round(report[k]["precision"], 4), "recall": round(report[k]["recall"], 4),
                              "support": int(report[k]["support"])} for k in CLASSES}}


def fit(xs: list[dict[str, float]], ys: list[str], c: float) -> dict[str, Any]:
    """Fit on every label; the weights as {feature: [weight per class]} (zero rows dropped)."""
    model = _model(c).fit(xs, ys)
    vec, lr = model.steps[0][1], model.steps[1][1]
    classes = [str(k) for k in lr.classes_]
    weights = {}
    for name, column in zip(vec.get_feature_names_out(), lr.coef_.T, strict=True):
        if any(abs(w) >= 1e-6 for w in column):
            weights[str(name)] = [round(float(w), 6) for w in column]
    return {"classes": classes, "intercept": [round(float(b), 6) for b in lr.intercept_], "weights": weights}


def build(data: Path, *, labels: Path | None = None) -> dict[str, Any]:
    """Cross-validate, fit on all labels and return the artefact's JSON object."""
    import sklearn

    xs, ys, groups, digest = load(data, labels)
    scores = cross_validate(xs, ys, groups)
    spec = fit(xs, ys, scores["C"])
    counts = {k: ys.count(k) for k in CLASSES}
    return {"name": "storytrace stance polarity", "version": VERSION, "model": "multinomial logistic regression",
            "trainer": f"scikit-learn {sklearn.__version__}", "training_data": "stance_labels_train.tsv",
            "training_data_sha256": digest, "label_counts": counts, "cross_validation": scores,
            "decision": {"none_below": NONE_BELOW}, **spec}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="cross-validate only; write nothing")
    args = parser.parse_args()
    import sklearn.linear_model  # noqa: F401  (load the BLAS libraries before limiting their threads)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # BLAS threads only spin on a shared 2-core machine for a model this small
        spec = build(args.data)
    print(json.dumps({k: spec[k] for k in ("training_data_sha256", "label_counts", "cross_validation")}, indent=1))
    if not args.check:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(spec, indent=0, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {args.out} ({len(spec['weights'])} features)")


if __name__ == "__main__":
    main()
