"""`storytrace bench resolve`: time and peak memory of every cross-article step at 1k, 10k, 100k articles.

The steps are those of issue 5: near-duplicate grouping (``resolve.duplicates``), quote-variant grouping
(``resolve.variants``), streaming story clustering (``resolve.stories``) and actor merging
(``resolve.actors``), called directly on in-memory inputs, without the store. Each size runs in a fresh
child process so that its peak memory (max RSS) is its own.

Inputs: PolNeAR texts (train, dev), bbc-news-2225 texts and reuters21578 bodies, repeated with seeded
perturbation (about 10% of words dropped, a sentence of another article appended) until the size is
reached; publication dates spread over one year. Quotations come from the fast regex baseline
(``bench.quote_baseline``: quoted spans with a guessed speaker), so variant grouping sees realistic quote
text without paying for the full extractor, which ``bench quotes`` measures. Actor mentions are the
baseline's speakers plus two seeded synthetic names per article (full name and bare surname).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import resource
import time
from datetime import date
from pathlib import Path
from typing import Any

from storytrace.errors import BenchmarkError

SIZES = (1_000, 10_000, 100_000)


def source_texts(data: Path) -> list[str]:
    """Article texts of PolNeAR (train, dev), bbc-news-2225 and reuters21578, in a fixed order."""
    found: list[str] = []
    for split in ("train", "dev"):
        for f in sorted((data / "polnear" / split / "text").glob("*.txt")):
            found.append(f.read_text(encoding="utf-8", errors="replace"))
    for f in sorted((data / "bbc-news-2225").glob("*/*.txt")):
        found.append(f.read_bytes().decode("latin-1"))
    for f in sorted((data / "reuters21578").glob("reut2-*.sgm")):
        raw = f.read_bytes().decode("latin-1")
        found += [m.group(1) for m in re.finditer(r"<BODY>(.*?)</BODY>", raw, re.S)]
    if not found:
        raise BenchmarkError(f"no polnear, reuters21578 or bbc-news-2225 texts under {data}: "
                             "is --data the shared data folder?")
    return found


def corpus(data: Path, size: int, *, seed: int = 7) -> list[tuple[str, str, str]]:
    """``size`` (id, text, ISO date) articles: the sources, then perturbed repeats of them."""
    rng = random.Random(seed)
    pool = source_texts(data)
    out = []
    for i in range(size):
        text = pool[i % len(pool)]
        if i >= len(pool):
            words = [w for w in text.split(" ") if rng.random() > 0.1]
            other = pool[rng.randrange(len(pool))].split(". ")
            text = " ".join(words) + " " + other[rng.randrange(len(other))]
        day = date.fromordinal(736330 + (i * 365) // size).isoformat()
        out.append((str(i), text, day))
    return out


def _measure(data: str, size: int, queue: Any) -> None:
    from storytrace.bench.quote_baseline import extract
    from storytrace.resolve.actors import Mention, resolve
    from storytrace.resolve.duplicates import find_duplicates
    from storytrace.resolve.stories import StoryClusterer, make_doc
    from storytrace.resolve.variants import QuoteUnit, find_variants

    articles = corpus(Path(data), size)
    rng = random.Random(11)
    first = ["John", "Mary", "Tom", "Len", "Anna", "Jeremy", "Sarah", "David", "Emma", "Paul"]
    surnames = [f"Name{i}" for i in range(5000)]
    units, mentions, names_of = [], [], {}
    for article_id, text, day in articles:
        names = [f"{rng.choice(first)} {rng.choice(surnames)}" for _ in range(2)]
        for n, q in enumerate(extract(text, article_id)):
            units.append(QuoteUnit(key=f"{article_id}:{n}", article_id=article_id, text=q.content.text,
                                   start=q.content.start, end=q.content.end, kind=q.kind,
                                   speaker=q.source.text if q.source else None, published=day))
            if q.source is not None:
                names.append(q.source.text)
        names_of[article_id] = names
        for name in names:
            mentions.append(Mention(article_id, name, name, None, None))
            mentions.append(Mention(article_id, name.split()[-1], name.split()[-1], None, None))
    figures: dict[str, Any] = {"articles": size, "quotations": len(units), "mentions": len(mentions)}

    def step(name: str, fn: Any) -> Any:
        # wall and CPU time both: on a shared machine only the CPU time says what the step costs
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        figures[f"{name}_s"] = round(time.perf_counter() - wall, 1)
        figures[f"{name}_cpu_s"] = round(time.process_time() - cpu, 1)
        return result

    groups = step("duplicates", lambda: find_duplicates((a, t, d) for a, t, d in articles))
    figures["duplicate_groups"] = len(groups)
    # repeats that carry another whole article chain sources into large groups (docs/benchmarks.md)
    figures["largest_duplicate_group"] = max((len(g.members) for g in groups), default=0)
    del groups
    figures["variant_groups"] = len(step("variants", lambda: find_variants(units)))

    def stories() -> set[int]:
        clusterer = StoryClusterer()
        return {clusterer.add(make_doc(a, t, published=d, names=names_of[a])).story for a, t, d in articles}

    figures["stories"] = len(step("stories", stories))
    figures["actors"] = len(step("actors", lambda: resolve(mentions)))
    steps = ("duplicates", "variants", "stories", "actors")
    figures["total_s"] = round(sum(figures[f"{k}_s"] for k in steps), 1)
    figures["total_cpu_s"] = round(sum(figures[f"{k}_cpu_s"] for k in steps), 1)
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    figures["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    queue.put(figures)


def run(data: Path, *, split: str = "all", limit: int | None = None) -> dict[str, Any]:
    """Measure the cross-article steps at each size (``limit`` caps the sizes, for quick runs)."""
    if split != "all":
        raise BenchmarkError("the resolve scale benchmark has one split, 'all'")
    sizes = [s for s in SIZES if limit is None or s <= limit] or [limit or SIZES[0]]
    ctx = multiprocessing.get_context("spawn")
    out: dict[str, Any] = {"machine": {"cores": multiprocessing.cpu_count()}}
    for size in sizes:
        queue = ctx.Queue()
        proc = ctx.Process(target=_measure, args=(str(data), size, queue))
        proc.start()
        out[f"n{size}"] = queue.get()
        proc.join()
    return out
