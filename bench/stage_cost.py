"""CPU time per article of each per-article stage, in one process: where the full analysis spends its time.

    python bench/stage_cost.py --data ../shared/data [--size 100000] [--sample 60] [--json]

Articles: every (size / sample)-th article of the scale benchmark's corpus of ``--size`` articles
(``storytrace.bench.resolve.corpus``: Reuters, BBC and PolNeAR texts, repeated with perturbation), prepared as
``ingest`` would (cleaning not timed). Each article runs every per-article stage in plan order, as the runner does;
each stage's CPU time is summed. The models load and warm up on the first three articles before the clock starts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storytrace.bench.resolve import corpus  # noqa: E402
from storytrace.ingest.pipeline import Prepared, prepare  # noqa: E402
from storytrace.model import Article, RawDocument  # noqa: E402
from storytrace.runner import plan  # noqa: E402
from storytrace.settings import Settings  # noqa: E402
from storytrace.stages import STAGES  # noqa: E402


def sample(data: Path, size: int, n: int, settings: Settings) -> list[Article]:
    step = max(1, size // n)
    out: list[Article] = []
    for i, (_id, text, _day) in enumerate(corpus(data, size)):
        if i % step == 0:
            prepared = prepare(RawDocument(f"bench-{i}.txt", text=text), boilerplate={}, settings=settings)
            if isinstance(prepared, Prepared):
                out.append(prepared.article)
        if len(out) >= n:
            break
    return out


def measure(articles: list[Article], settings: Settings) -> dict[str, float]:
    names = [stage.name for stage in plan(None)[0]]
    seconds: dict[str, float] = defaultdict(float)
    for article in articles:
        inputs: dict[str, object] = {}
        for name in names:
            stage = STAGES[name]
            start = time.process_time()
            result = stage.run(article, {r: inputs[r] for r in stage.requires}, settings)
            seconds[name] += time.process_time() - start
            inputs[name] = result.payload
    return {name: round(seconds[name] * 1000 / len(articles), 1) for name in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=60)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = Settings(progress=False)
    articles = sample(args.data, args.size, args.sample + 3, settings)
    measure(articles[:3], settings)  # load and warm the models
    articles = articles[3:]
    ms = measure(articles, settings)
    words = sum(len(a.clean.text.split()) for a in articles) / len(articles)
    figures = {"articles": len(articles), "words_per_article": round(words), "ms_per_article": ms,
               "total_ms_per_article": round(sum(ms.values()), 1)}
    if args.json:
        print(json.dumps(figures))
        return
    print(f"{figures['articles']} articles of ~{figures['words_per_article']} words, one process, CPU ms per article:")
    for name, value in ms.items():
        print(f"  {name:12s} {value:7.1f}")
    print(f"  {'total':12s} {figures['total_ms_per_article']:7.1f}")


if __name__ == "__main__":
    main()
