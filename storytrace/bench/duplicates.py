"""`storytrace bench duplicates`: near-duplicate detection scored on BBC News plus generated copies.

Gold pairs (pairwise P/R/F1 over every pair of the scored corpus):

- BBC's 98 exact-duplicate pairs (identical text under two file names);
- BBC's 71 natural near-copies: the other pairs with 5-word-shingle Jaccard >= 0.5 (the data README
  counts 169 such pairs in all by brute force). They are listed by name in
  ``resources/benchmarks/bbc_near_copies.tsv``; each was checked by reading both headlines and leads:
  every one is the same story re-headlined or updated (e.g. "Italy 17-28 Ireland" / "O'Driscoll saves
  Irish blushes");
- generated copies of a seeded sample of articles (``COPIES_PER_KIND`` per kind): ``edited`` (a few
  words changed, one sentence dropped, one added), ``truncated`` (the first 45-80% of the body),
  ``reheadlined`` (a new headline and standfirst), ``syndicated`` (another site's chrome added above
  and below: share links, copyright, "Read more" lists), and ``mixed`` (all of these at once).

Every other pair in the corpus, mostly articles of the same section on the same topics, is a negative.
Each text is scored as the product sees it: the ``duplicates`` stage reads the clean text ingest stores,
so every document goes through ``ingest.pipeline.prepare`` (metadata lines, chrome, related links,
captions dropped) and the per-outlet boilerplate the store learns across articles (a no-op here: plain
BBC files name no outlet).
Splits are by section, fixed before any tuning: ``dev`` = business, entertainment, politics (tuning),
``test`` = sport and tech (reported, never tuned on), ``all`` = both. The text is read from the data
folder at run time; only file names are committed.
"""

from __future__ import annotations

import random
import re
import time
import tracemalloc
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

from storytrace.bench.metrics import prf
from storytrace.errors import BenchmarkError
from storytrace.ingest.pipeline import prepare, reclean
from storytrace.model import ItemError, RawDocument
from storytrace.resolve.duplicates import find_duplicates, pairs_of
from storytrace.settings import Settings

SPLITS = {"dev": ("business", "entertainment", "politics"), "test": ("sport", "tech"),
          "all": ("business", "entertainment", "politics", "sport", "tech")}
COPIES_PER_KIND = 60
KINDS = ("edited", "truncated", "reheadlined", "syndicated", "mixed")
_SEED = 20161121

_CHROME_TOP = ["Share this article", "Share on Facebook Share on Twitter Email", "Advertisement",
               "Published by Daily Wire Services", "Sign up for our morning newsletter"]
_CHROME_BOTTOM = ["Copyright 2005 Wire Services. All rights reserved.", "Read more:",
                  "Councils face new budget squeeze", "Storm warning for the north coast",
                  "Join the conversation in the comments below", "Follow us on Twitter and Facebook",
                  "This article was originally published by a partner site."]
_HEADLINES = ["What we know so far", "Latest: the story in full", "Update as talks go on",
              "Everything you need to know", "Analysis: what happens next"]
_FILLER = ["The report was seen by reporters on Tuesday.", "Officials did not respond to a request for comment.",
           "More details are expected later this week.", "The figures have not been independently verified."]
_SENT = re.compile(r"[^.!?]+[.!?]+[\"']?\s*|[^.!?]+$")


def resolve_root(data: Path) -> Path:
    for root in (data, data / "bbc-news-2225"):
        if (root / "business").is_dir():
            return root
    raise BenchmarkError(f"BBC News data not found under {data}: expected <data>/bbc-news-2225/<section>/NNN.txt")


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:  # sport/199.txt is latin-1 (see the data README)
        return raw.decode("latin-1")


def natural_pairs() -> set[tuple[str, str]]:
    """The labelled natural near-copy pairs of BBC (file names relative to the data folder)."""
    text = (resources.files("storytrace") / "resources" / "benchmarks" / "bbc_near_copies.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return {(min(a, b), max(a, b)) for a, b, label, *_ in rows if label == "copy"}


def _sentences(body: str) -> list[str]:
    return [s for s in _SENT.findall(body) if s.strip()]


def make_copy(text: str, kind: str, rng: random.Random) -> str:
    """A deterministic near-copy of a BBC article (headline line, blank line, body) of the given kind."""
    headline, _, body = text.partition("\n")
    body = body.strip("\n")
    if kind in ("edited", "mixed"):
        sents = _sentences(body)
        if len(sents) > 4:
            sents.pop(rng.randrange(1, len(sents)))
        sents.insert(rng.randrange(1, len(sents) + 1), rng.choice(_FILLER) + " ")
        words = "".join(sents).split(" ")
        for _ in range(max(2, len(words) // 60)):
            i = rng.randrange(len(words))
            words[i] = rng.choice(["the", "a", "said", "new", "also", "more"])
        body = " ".join(words)
    if kind in ("truncated", "mixed"):
        cut = int(len(body) * rng.uniform(0.45, 0.8))
        body = body[:cut].rsplit(" ", 1)[0] + " ..."
    if kind in ("reheadlined", "mixed"):
        headline = f"{rng.choice(_HEADLINES)}: {headline.split()[-1]}"
        body = f"{rng.choice(_FILLER)}\n\n{body}"
    if kind in ("syndicated", "mixed"):
        top = "\n".join(rng.sample(_CHROME_TOP, 3))
        bottom = "\n".join(rng.sample(_CHROME_BOTTOM, 4))
        return f"{top}\n{headline}\n\n{body}\n\n{bottom}\n"
    return f"{headline}\n\n{body}\n"


def as_ingested(docs: list[tuple[str, str, str | None]], settings: Settings | None = None
                ) -> list[tuple[str, str, str | None]]:
    """The texts as the ``duplicates`` stage reads them after ingest: each document prepared (cleaned),
    then re-cleaned against its outlet's boilerplate lines, counted across the documents as the store does
    (``Store.outlet_boilerplate``). A document ingest would refuse keeps its raw text."""
    settings = settings or Settings()
    prepared = [prepare(RawDocument(doc_id, text=text), boilerplate={}, settings=settings)
                for doc_id, text, _ in docs]
    sizes: Counter[str] = Counter()
    counts: Counter[tuple[str, str]] = Counter()
    for p in prepared:
        if not isinstance(p, ItemError) and p.article.outlet:
            sizes[p.article.outlet] += 1
            counts.update((p.article.outlet, key) for key in p.line_keys)
    lines: dict[str, set[str]] = {}
    for (outlet, key), n in counts.items():
        if n >= settings.boilerplate_min_articles and n >= settings.boilerplate_min_share * sizes[outlet]:
            lines.setdefault(outlet, set()).add(key)
    out = []
    for (doc_id, text, date), p in zip(docs, prepared, strict=True):
        if isinstance(p, ItemError):
            out.append((doc_id, text, date))
            continue
        article = p.article
        if article.outlet in lines:
            article = reclean(article, boilerplate=frozenset(lines[article.outlet]), settings=settings)
        out.append((doc_id, article.clean.text, date))
    return out


def build(data: Path, split: str, *, limit: int | None = None
          ) -> tuple[list[tuple[str, str, str | None]], set[tuple[str, str]], dict[str, str]]:
    """The scored corpus (id, text, date), its gold pairs, and each generated copy's kind."""
    if split not in SPLITS:
        raise BenchmarkError(f"unknown split {split!r} for bench duplicates; choose from {', '.join(SPLITS)}")
    root = resolve_root(data)
    paths = sorted(p for section in SPLITS[split] for p in (root / section).glob("*.txt"))
    if limit:
        paths = paths[:limit]
    docs: list[tuple[str, str, str | None]] = [(str(p.relative_to(root)), read_text(p), None) for p in paths]
    parent: dict[str, str] = {d[0]: d[0] for d in docs}

    def find(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    by_text: dict[str, str] = {}
    for doc_id, text, _ in docs:
        if text in by_text:
            union(by_text[text], doc_id)
        by_text.setdefault(text, doc_id)
    for a, b in natural_pairs():
        if a in parent and b in parent:
            union(a, b)
    rng = random.Random(_SEED)
    originals = rng.sample(docs, min(len(docs), COPIES_PER_KIND * len(KINDS)))
    kinds: dict[str, str] = {}
    for n, (doc_id, text, _) in enumerate(originals):
        kind = KINDS[n % len(KINDS)]
        copy_id = f"copy/{kind}/{doc_id}"
        docs.append((copy_id, make_copy(text, kind, rng), None))
        parent[copy_id] = copy_id
        union(doc_id, copy_id)
        kinds[copy_id] = kind
    groups: dict[str, list[str]] = {}
    for doc_id in parent:
        groups.setdefault(find(doc_id), []).append(doc_id)
    gold = {(min(a, b), max(a, b)) for ids in groups.values() for n, a in enumerate(ids) for b in ids[n + 1 :]}
    return docs, gold, kinds


def run(data: Path, *, split: str = "dev", limit: int | None = None, ingested: bool = True) -> dict[str, Any]:
    """Score ``find_duplicates`` on a BBC split plus generated near-copies; return the figures.

    ``ingested=False`` scores the raw files instead of the clean text ingest would store (the figures
    before 2026-11-21 were on raw text)."""
    docs, gold, kinds = build(data, split, limit=limit)
    if ingested:
        docs = as_ingested(docs)
    tracemalloc.start()
    start = time.perf_counter()
    groups = find_duplicates(docs)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    found = pairs_of(groups)
    exact = {(a, b) for a, b in gold if not a.startswith("copy/") and not b.startswith("copy/")}
    figures: dict[str, Any] = {
        "split": split, "text": "ingested" if ingested else "raw", "articles": len(docs) - len(kinds),
        "generated_copies": len(kinds),
        "gold_pairs": len(gold), "predicted_pairs": len(found), "groups": len(groups),
        "pairs": prf(len(found & gold), len(found - gold), len(gold - found)),
        "bbc_pairs_recall": round(len(found & exact) / len(exact), 4) if exact else None,
        "seconds": round(seconds, 2), "peak_mib": round(peak / 2**20, 1),
    }
    by_kind: dict[str, dict[str, int]] = {}
    for a, b in gold:
        copy = a if a in kinds else b if b in kinds else None
        if copy is None:
            continue
        row = by_kind.setdefault(kinds[copy], {"gold": 0, "found": 0})
        row["gold"] += 1
        row["found"] += (a, b) in found
    figures["recall_by_kind"] = {k: round(v["found"] / v["gold"], 4) for k, v in sorted(by_kind.items())}
    figures["false_positives"] = [list(p) for p in sorted(found - gold)[:20]]
    figures["false_negatives"] = [list(p) for p in sorted(gold - found)[:20]]
    return figures
