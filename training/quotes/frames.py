"""Train the parse layer's frame filter on PolNeAR train: which parse frames are attributions.

    python training/quotes/frames.py [--data ../shared/data] [--model fast|accurate]
                                     [--out storytrace/resources/quotes/frames-v1.json]
                                     [--limit N] [--folds 5] [--cache /tmp/frames.pkl]

Only the ``train`` split is read (never dev or test). Steps:

1. Run the quotation extractor on every train article inside ``attribution.collecting()``: the parse layer
   then takes every lexicon word with P(cue | form) >= ``COLLECT_MIN_P`` as a candidate and keeps every frame
   it reads, with its features. A frame is a positive when a gold attribution (first ``.ann`` per article,
   as the benchmark scores) has a cue overlapping the frame's cue and a content overlapping its content.
2. Cross-validation by article (``--folds``): each frame gets a probability from a model that did not see
   its article. For each candidate threshold ``min_p`` and decision threshold, the article's predictions are
   the rule layers' attributions plus the frames passing both, scored with the benchmark's own scorer
   (``storytrace.bench.quote_scoring``); the pair with the best mean of content, source and cue exact F1
   is chosen, the highest ``min_p`` among those within ``TIE`` of the best (fewer sentences to parse).
3. The final model is fitted on all train frames and written as plain JSON (feature -> weight, intercept,
   ``min_p``, ``threshold``, the cross-validated scores, a sha256 of the gold attributions read).
   No article text is written.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from storytrace.bench import quote_scoring  # noqa: E402
from storytrace.bench.attributions import load_split  # noqa: E402
from storytrace.model import Quote, Span  # noqa: E402
from storytrace.nlp import attribution, quotes  # noqa: E402

MIN_PS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)
THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)
TIE = 0.002  # mean exact F1 this close to the best counts as a tie, broken by the higher min_p
C = 1.0  # inverse regularisation strength of the logistic regression


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def collect(data: Path, limit: int | None, model: str = "fast") -> list[dict[str, Any]]:
    """Per train article: its text, gold, the rule layers' attributions and the labelled frames."""
    out = []
    articles = load_split(data, "train", limit=limit)
    started = time.monotonic()
    for n, article in enumerate(articles, 1):
        with attribution.using(model), attribution.collecting():
            found = quotes.find_in_text(quotes.curl_double_apostrophes(article.text))  # as quotes.extract reads it
        rules = [f for f in found if "frame" not in f.notes]
        frames = []
        for f in found:
            fr = f.notes.get("frame")
            if fr is None:
                continue
            positive = any(
                any(_overlaps(fr.cue, (s.start, s.end)) for s in g.cue)
                and any(_overlaps(fr.content, (s.start, s.end)) for s in g.content)
                for g in article.attributions)
            frames.append({"found": f, "p": fr.p, "features": fr.features, "label": int(positive)})
        out.append({"name": article.name, "text": article.text, "gold": article.attributions,
                    "rules": rules, "frames": frames,
                    "gold_sha256": hashlib.sha256(repr((article.name, article.attributions)).encode()).hexdigest()})
        if n % 50 == 0:
            print(f"  {n}/{len(articles)} articles, {time.monotonic() - started:.0f} s", flush=True)
    return out


def _fit(rows: list[dict[str, Any]]) -> tuple[Any, Any]:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer()
    x = vec.fit_transform([r["features"] for r in rows])
    model = LogisticRegression(C=C, max_iter=2000)
    model.fit(x, [r["label"] for r in rows])
    return vec, model


def cross_validate(articles: list[dict[str, Any]], folds: int) -> None:
    """Give every frame an out-of-fold probability (``cv_prob``)."""
    for k in range(folds):
        train = [r for i, a in enumerate(articles) if i % folds != k for r in a["frames"]]
        vec, model = _fit(train)
        held = [r for i, a in enumerate(articles) if i % folds == k for r in a["frames"]]
        if held:
            probs = model.predict_proba(vec.transform([r["features"] for r in held]))[:, 1]
            for r, p in zip(held, probs, strict=True):
                r["cv_prob"] = float(p)


def _quote(text: str, f: Any) -> Quote:
    """A found attribution as a ``Quote`` without its speaker: the exact scores read spans only, and resolving
    speakers for every threshold would take most of the run."""
    frags = tuple(Span(s, e, text[s:e]) for s, e in f.fragments)
    return Quote(article_id="", kind=f.kind, content=Span(f.start, f.end, text[f.start:f.end]),
                 content_spans=frags if len(frags) > 1 else (),
                 cue=Span(f.cue[0], f.cue[1], text[f.cue[0]:f.cue[1]]) if f.cue else None,
                 source=Span(f.source[0], f.source[1], text[f.source[0]:f.source[1]]) if f.source else None)


def score(articles: list[dict[str, Any]], min_p: float | None, threshold: float | None) -> dict[str, float]:
    """The scorer's exact F1s with the frames passing (``min_p``, ``threshold``); None = no parse layer."""
    tally = quote_scoring.Tally()
    for a in articles:
        kept = [] if min_p is None else [
            r["found"] for r in a["frames"]
            if r["p"] >= min_p and (threshold is None or r["cv_prob"] >= threshold)]
        found = sorted(a["rules"] + kept, key=lambda f: f.start)
        tally += quote_scoring.score_article(a["text"], a["gold"], [_quote(a["text"], f) for f in found])
    s = quote_scoring.summarise(tally)["ALL"]
    out = {role: s[role]["exact"]["f1"] for role in ("content", "source", "cue")}
    out["content_lenient"] = s["content"]["lenient"]["f1"]  # who-said-what is not scored: no speakers here
    out["mean_exact"] = round(sum(out[r] for r in ("content", "source", "cue")) / 3, 4)
    return out


def _pipeline(model: str) -> str:
    from storytrace.nlp import model_meta

    meta = model_meta(model)
    return f"{meta.get('name')}-{meta.get('version')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--model", default="fast", help="the English pipeline whose parse the filter reads "
                        "(fast, accurate or a model folder); the filter is written as that pipeline's")
    parser.add_argument("--out", type=Path, default=None,
                        help="default: storytrace/resources/quotes/ + attribution.FILTERS[--model]")
    parser.add_argument("--limit", type=int, default=None, help="first N train articles (a quick run)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--cache", type=Path, default=None, help="keep the collected frames here (pickle)")
    args = parser.parse_args(argv)
    if args.out is None:
        name = attribution.FILTERS.get(args.model)
        if name is None:
            parser.error(f"--out is needed for the pipeline {args.model!r} (no filter name in attribution.FILTERS)")
        args.out = REPO / "storytrace" / "resources" / "quotes" / name

    if args.cache and args.cache.exists():
        articles = pickle.loads(args.cache.read_bytes())
    else:
        print("collecting frames on PolNeAR train ...", flush=True)
        articles = collect(args.data, args.limit, args.model)
        if args.cache:
            args.cache.write_bytes(pickle.dumps(articles))
    rows = [r for a in articles for r in a["frames"]]
    print(f"{len(articles)} articles, {len(rows)} frames, {sum(r['label'] for r in rows)} positive", flush=True)
    cross_validate(articles, args.folds)

    results = [{"min_p": None, "threshold": None, **score(articles, None, None)},
               {"min_p": attribution.MIN_P, "threshold": None, **score(articles, attribution.MIN_P, None)}]
    print(f"rules only: {results[0]}\nlexicon >= {attribution.MIN_P}, no filter: {results[1]}", flush=True)
    for min_p in MIN_PS:
        for threshold in THRESHOLDS:
            results.append({"min_p": min_p, "threshold": threshold, **score(articles, min_p, threshold)})
            print(f"min_p {min_p} threshold {threshold}: {results[-1]}", flush=True)
    tried = [r for r in results if r["threshold"] is not None]
    top = max(r["mean_exact"] for r in tried)
    # the fewest parsed sentences among the near-best: a lower min_p parses more of every article
    best = max((r for r in tried if r["mean_exact"] >= top - TIE), key=lambda r: (r["min_p"], r["mean_exact"]))
    print(f"chosen: {best}")

    kept = [r for r in rows if r["p"] >= best["min_p"]]
    vec, model = _fit(kept)
    names = vec.get_feature_names_out()
    weights = {str(n): round(float(w), 6) for n, w in zip(names, model.coef_[0], strict=True) if abs(w) > 1e-6}
    digest = hashlib.sha256("".join(sorted(a["gold_sha256"] for a in articles)).encode()).hexdigest()
    args.out.write_text(json.dumps({
        "model": "frame filter (binary logistic regression), storytrace.nlp.attribution",
        "parse": _pipeline(args.model),  # the English pipeline whose parse it was trained on
        "trained_on": f"PolNeAR train, {len(articles)} articles, first .ann per article",
        "gold_sha256": digest,  # over each article's name and parsed gold attributions
        "frames": len(kept), "positives": sum(r["label"] for r in kept),
        "C": C, "folds": args.folds,
        "min_p": best["min_p"], "threshold": best["threshold"],
        "cross_validated": {"chosen": best, "rules_only": results[0], "lexicon_only": results[1]},
        "intercept": round(float(model.intercept_[0]), 6),
        "weights": dict(sorted(weights.items())),
    }, indent=1) + "\n", encoding="utf-8")
    print(f"{len(weights)} weights -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
