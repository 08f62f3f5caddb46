"""`storytrace bench variants`: quote-variant linking scored on labelled pairs of PolNeAR quotations.

The labelled pairs (``resources/benchmarks/quote_pairs_<split>.tsv``; how they were chosen and
the labelling rules are in its header) are references to gold attributions; their text is read from
the data folder. Every gold content of the split becomes units as a ``quotes`` payload would (a content
holding quoted fragments gives its fragments of three words or more; see ``units_from_quotes``), all of them are
grouped by ``find_variants`` (so distractors are real), and a labelled pair counts as linked when both
land in one group. Baseline: exact match after lower-casing and removing punctuation. Dev and train have
labels; test is held back. Train pairs (``quote_pairs_train.tsv``, 1,095 pairs, 76 'same') were labelled later,
without the linker's output, but train was looked at (candidate pairs) while building the linker in session 1,
so train figures are not fully held out; dev is the cleaner measure.

``halves``: the linker's counts on two halvings of the labelled pairs (even / odd row, and by a hash of the
pair's first article name, ``hash_a`` / ``hash_b``). The project keeps a change to the linker only when both
halvings agree it helps (or it is neutral on one half) and precision does not fall.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storytrace.bench.attributions import load_split
from storytrace.bench.metrics import prf
from storytrace.errors import BenchmarkError
from storytrace.resolve.variants import (
    OPENERS,
    QUOTED,
    QuoteUnit,
    find_variants,
    normalise,
    pairs_of,
    units_from_quotes,
)


def _labels(split: str) -> list[tuple[str, str, bool]]:
    from importlib import resources

    path = resources.files("storytrace") / "resources" / "benchmarks" / f"quote_pairs_{split}.tsv"
    if not path.is_file():
        raise BenchmarkError(f"no labelled quote pairs for split {split!r} (only dev and train are labelled)")
    out = []
    for line in path.read_text("utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        a, ea, _sa, _ea, b, eb, _sb, _eb, label = line.split("\t")
        out.append((f"{a}|{ea}", f"{b}|{eb}", label == "same"))
    return out


def _kind(text: str) -> str:
    """A gold content's kind as the quotes stage would give it: opening with a quote mark, holding one, neither."""
    if text.lstrip()[:1] in OPENERS:
        return "direct"
    return "partial" if QUOTED.search(text) else "indirect"


def _halves(scored: list[tuple[str, str, bool]],
            predict: Callable[[str, str], bool]) -> dict[str, dict[str, int]]:
    """Linker counts (tp / fp / fn) on the even and odd labelled rows, and on the two halves by article hash."""
    out = {name: {"tp": 0, "fp": 0, "fn": 0} for name in ("even", "odd", "hash_a", "hash_b")}
    for row, (a, b, gold) in enumerate(scored):
        found = predict(a, b)
        if not (gold or found):
            continue
        count = "tp" if gold and found else "fp" if found else "fn"
        article = min(a, b).split("|")[0]
        side = "hash_a" if int(hashlib.md5(article.encode()).hexdigest(), 16) % 2 == 0 else "hash_b"
        for name in ("even" if row % 2 == 0 else "odd", side):
            out[name][count] += 1
    return out


def run(data: Path, *, split: str = "dev", limit: int | None = None) -> dict[str, Any]:
    """Score quote-variant linking and the exact-match baseline on a split's labelled pairs."""
    labels = _labels(split)
    units: list[QuoteUnit] = []
    texts, gold_key = {}, {}
    for article in load_split(data, split, limit=limit):
        date = article.name.split("_")[1] if "_" in article.name else None
        quotes = []
        for g in article.attributions:
            start, end = g.content[0].start, g.content[-1].end
            text = article.text[start:end]
            texts[f"{article.name}|{g.id}"] = text
            quotes.append({"content": text, "content_start": start, "content_end": end, "kind": _kind(text)})
        for unit in units_from_quotes(article.name, quotes, outlet=article.outlet, published=date):
            gold_key[unit.key] = f"{article.name}|{article.attributions[unit.quote_index].id}"
            units.append(unit)
    groups = find_variants(units)
    linked = {tuple(sorted((gold_key[a], gold_key[b]))) for a, b in pairs_of(groups)}
    scored = [(a, b, gold) for a, b, gold in labels if a in texts and b in texts]
    figures: dict[str, Any] = {"split": split, "units": len(units), "groups": len(groups),
                               "labelled_pairs": len(scored), "positive_pairs": sum(g for *_x, g in scored)}
    for name, predict in (("linker", lambda a, b: (min(a, b), max(a, b)) in linked),
                          ("baseline_exact", lambda a, b: normalise(texts[a]) == normalise(texts[b]))):
        tp = sum(1 for a, b, g in scored if g and predict(a, b))
        fp = sum(1 for a, b, g in scored if not g and predict(a, b))
        fn = sum(1 for a, b, g in scored if g and not predict(a, b))
        figures[name] = prf(tp, fp, fn)
    figures["halves"] = _halves(scored, lambda a, b: (min(a, b), max(a, b)) in linked)
    figures["errors"] = [[a, b, gold] for a, b, gold in scored
                         if gold != ((min(a, b), max(a, b)) in linked)][:20]
    return figures
