"""Time and peak memory of the cross-article steps (stories, actors) at 1k, 10k, 100k articles.

Texts come from reuters21578 (SGML bodies) and bbc-news-2225, repeated with seeded perturbation (words
dropped, dates spread over a year) until the size is reached; actor mentions
are synthetic names drawn from a seeded pool of first names and surnames. The functions are called
directly (``resolve.stories.StoryClusterer``, ``resolve.actors.resolve``), without the store.
Run: ``python -m storytrace.bench.resolve_scale_stories ../shared/data 1000 10000 100000``.
"""

from __future__ import annotations

import random
import re
import resource
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from storytrace.resolve.actors import Mention, resolve
from storytrace.resolve.stories import StoryClusterer, make_doc


def texts(data: Path) -> list[str]:
    found = []
    for f in sorted((data / "reuters21578").glob("reut2-*.sgm")):
        raw = f.read_bytes().decode("latin-1")
        found += [m.group(1) for m in re.finditer(r"<BODY>(.*?)</BODY>", raw, re.S)]
    for f in sorted((data / "bbc-news-2225").glob("*/*.txt")):
        found.append(f.read_bytes().decode("latin-1"))
    return found


def run(data: Path, size: int, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    pool = texts(data)
    first = ["John", "Mary", "Tom", "Len", "Anna", "Jeremy", "Sarah", "David", "Emma", "Paul"]
    surnames = [f"Name{i}" for i in range(5000)]
    t0 = time.perf_counter()
    clusterer = StoryClusterer()
    mentions = []
    for i in range(size):
        words = pool[i % len(pool)].split()
        if i >= len(pool):  # perturb repeats: drop about 10% of words, swap a few neighbours
            words = [w for w in words if rng.random() > 0.1]
        day = 736330 + (i * 365) // size
        names = [f"{rng.choice(first)} {rng.choice(surnames)}" for _ in range(2)]
        clusterer.add(make_doc(str(i), " ".join(words), published=date.fromordinal(day).isoformat(), names=names))
        for n in names:
            mentions.append(Mention(str(i), n, n, 0, len(n)))
            mentions.append(Mention(str(i), n.split()[-1], n.split()[-1], 0, 1))
    t_stories = time.perf_counter() - t0
    t1 = time.perf_counter()
    actors = resolve(mentions)
    t_actors = time.perf_counter() - t1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"articles": size, "stories_s": round(t_stories, 1), "actors_s": round(t_actors, 1),
            "stories": clusterer._next - 1, "actors": len(actors), "peak_mib": round(peak)}


if __name__ == "__main__":
    for n in sys.argv[2:]:
        print(run(Path(sys.argv[1]), int(n)), flush=True)
