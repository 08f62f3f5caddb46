"""`storytrace bench quotes`: quotation extraction and speaker attribution scored on PolNeAR.

Runs an extractor over every article of a split (one annotation per article: the first ``.ann`` in sort
order), scores its ``Quote`` records with ``quote_scoring`` (definitions there), and returns the figures:
P/R/F1 per role (content, source, cue), matching mode (exact, lenient, soft) and subset (ALL, SPEECH,
DIRECT), who said what end to end, speaker accuracy on matched DIRECT quotes, a per-outlet line, and
articles per second (extraction time only; reading and scoring are not counted), and the throughput of
the whole per-article analysis (backbone entities + quotes + speakers) with 1 and 2 processes.

An extractor is any callable ``extract(text, article_id) -> list[Quote]`` with offsets into ``text``.
The default is the project's ``storytrace.nlp.quotes.extract`` once that module exists, else the regex
baseline in ``quote_baseline``; ``figures["extractor"]`` says which one ran.
"""

from __future__ import annotations

import functools
import importlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from storytrace.bench import quote_scoring
from storytrace.bench.attributions import load_split
from storytrace.errors import ModelError
from storytrace.model import Quote

Extractor = Callable[[str, str], list[Quote]]

# Where the benchmark data lives when no folder is given: ../shared/data beside the repository.
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def default_extractor() -> tuple[str, Extractor]:
    """The project's quotation extractor if it is built yet, else the regex baseline; with its name."""
    try:
        module = importlib.import_module("storytrace.nlp.quotes")
    except ModuleNotFoundError as exc:
        if exc.name != "storytrace.nlp.quotes":
            raise
        from storytrace.bench import quote_baseline

        return "storytrace.bench.quote_baseline.extract", quote_baseline.extract
    return "storytrace.nlp.quotes.extract", module.extract


def _name(extractor: Extractor) -> str:
    module = getattr(extractor, "__module__", None)
    qualname = getattr(extractor, "__qualname__", None) or type(extractor).__name__
    return f"{module}.{qualname}" if module else qualname


# The per-article analysis behind "who said what": the backbone's entities, then quotations with their
# parse layer and speakers (the runner runs them one after the other for each article).
ANALYSIS_STAGES = ["entities", "quotes"]


def _warm(tagger: bool, model: str = "fast") -> None:
    from storytrace.nlp import attribution, load
    from storytrace.stages import ENTITY_EXCLUDE

    load(model, exclude=ENTITY_EXCLUDE)
    with attribution.using(model):
        attribution._nlp()  # the parse layer's pipeline
    if tagger:
        from storytrace.nlp import quotetagger

        quotetagger.current()


def analysis_speed(texts: list[str], *, processes: int, tagger: bool = False,
                   model: str = "fast") -> dict[str, float]:
    """Articles per second of the per-article analysis (``ANALYSIS_STAGES``) over a pool of ``processes``.

    Articles are prepared as ``ingest`` would (cleaning is not timed); models load before the clock starts.
    """
    from concurrent.futures import ProcessPoolExecutor

    from storytrace.ingest.pipeline import Prepared, prepare
    from storytrace.model import RawDocument
    from storytrace.runner import run_stages
    from storytrace.settings import Settings

    settings = Settings(progress=False, quote_tagger=tagger, nlp_model=model)
    prepared = [prepare(RawDocument(f"bench-{i}.txt", text=text), boilerplate={}, settings=settings)
                for i, text in enumerate(texts)]
    items = [(p.article, ANALYSIS_STAGES, {}) for p in prepared if isinstance(p, Prepared)]
    chunks = [items[i:i + 4] for i in range(0, len(items), 4)]
    with ProcessPoolExecutor(max_workers=processes) as pool:
        list(pool.map(_warm, [tagger] * processes, [model] * processes))
        start = time.perf_counter()
        results = [r for batch in pool.map(run_stages, chunks, [settings] * len(chunks)) for r in batch]
        seconds = time.perf_counter() - start
    failed = sum(1 for r in results if isinstance(r, tuple))
    return {"articles": len(items), "seconds": round(seconds, 2),
            "articles_per_second": round(len(items) / seconds, 1), "stage_errors": failed}


def tagger_requested() -> bool:
    """Whether the ``STORYTRACE_BENCH_QUOTE_TAGGER`` environment variable asks benchmarks that find quotations to
    run them as ``analyze --quote-tagger`` does."""
    return os.environ.get("STORYTRACE_BENCH_QUOTE_TAGGER", "") not in ("", "0")


def run(data: Path = DEFAULT_DATA, *, split: str = "dev", limit: int | None = None,
        fold: tuple[int, int] | None = None, extractor: Extractor | None = None,
        speed: bool = True, tagger: bool | None = None) -> dict[str, Any]:
    """Score ``extractor`` on a PolNeAR split; return JSON-serialisable figures.

    ``data`` is the polnear folder or the data folder holding it; ``limit`` scores the first N articles
    in name order; ``fold`` scores one part of the split (``load_split``): the quotation tagger keeps part
    of ``train`` back this way to choose how its spans join the rules. ``tagger`` (default: the
    ``STORYTRACE_BENCH_QUOTE_TAGGER`` environment variable) runs the project's extractor with the MiniLM span
    tagger joined, as ``analyze --quote-tagger`` does. The ``STORYTRACE_NLP_MODEL`` environment variable runs
    the project's extractor and the analysis on another English pipeline, as ``analyze --nlp-model`` does.
    """
    if tagger is None:
        tagger = tagger_requested()
    from storytrace.nlp.pipeline import unavailable
    from storytrace.settings import Settings

    model = Settings.from_env().nlp_model
    if extractor is None:
        name, extractor = default_extractor()
        if model != "fast":
            if (why := unavailable(model)) is not None:
                raise ModelError(why)
            extractor = functools.partial(extractor, model=model)
            name += f" on the {model} pipeline"
        if tagger:
            from storytrace.nlp import quotes as quotes_module
            from storytrace.nlp import quotetagger

            if (why := quotetagger.unavailable()) is not None:
                raise ModelError(why)
            extractor = functools.partial(extractor, tagger=True)
            name += f" + {quotetagger.version()} ({quotes_module.TAGGER_JOIN})"
    else:
        name = _name(extractor)
    articles = load_split(data, split, limit=limit, fold=fold)
    total = quote_scoring.Tally()
    by_outlet: dict[str, quote_scoring.Tally] = {}
    seconds = 0.0
    predicted = 0
    for article in articles:
        start = time.perf_counter()
        quotes = extractor(article.text, article.name)
        seconds += time.perf_counter() - start
        predicted += len(quotes)
        tally = quote_scoring.score_article(article.text, article.attributions, quotes)
        total += tally
        by_outlet.setdefault(article.outlet, quote_scoring.Tally()).__iadd__(tally)
    return {
        "split": split,
        "extractor": name,
        "articles": len(articles),
        "annotation": "first .ann per article in sort order",
        "gold_attributions": sum(len(a.attributions) for a in articles),
        "predicted_attributions": predicted,
        "seconds": round(seconds, 3),
        "articles_per_second": round(len(articles) / seconds, 1) if seconds else 0.0,
        "machine": {"cores": os.cpu_count()},
        **quote_scoring.summarise(total),
        "outlets": {outlet: quote_scoring.outlet_summary(by_outlet[outlet]) for outlet in sorted(by_outlet)},
        **({"analysis_speed": {"stages": ANALYSIS_STAGES, **{
            f"processes_{n}": analysis_speed([a.text for a in articles], processes=n, tagger=tagger, model=model)
            for n in (1, 2)}}}
           if speed else {}),
    }


def report(figures: dict[str, Any]) -> str:
    """Render ``run()`` figures as plain-text tables, the way the benchmarks page shows them."""
    lines = [f"PolNeAR {figures['split']}: {figures['articles']} articles, {figures['gold_attributions']} gold "
             f"attributions, {figures['predicted_attributions']} predicted; extractor {figures['extractor']}; "
             f"{figures['articles_per_second']} articles/s"]
    if "analysis_speed" in figures:
        sp = figures["analysis_speed"]
        lines.append(f"analysis ({' + '.join(sp['stages'])}): {sp['processes_1']['articles_per_second']} articles/s "
                     f"with 1 process, {sp['processes_2']['articles_per_second']} with 2")
    header = f"{'subset':<7} {'role':<14} {'gold':>5} {'pred':>5}" + "".join(
        f" {mode + ' P/R/F1':>20}" for mode in quote_scoring.MODES)
    lines += ["", header]
    for subset in quote_scoring.SUBSETS:
        for role in quote_scoring.ROLES:
            row = figures[subset][role]
            lines.append(f"{subset:<7} {role:<14} {row['gold']:>5} {row['predicted']:>5}" + "".join(
                f" {row[m]['p']:6.3f} {row[m]['r']:6.3f} {row[m]['f1']:6.3f}" for m in quote_scoring.MODES))
        who = figures[subset]["who_said_what"]
        lines.append(f"{subset:<7} {'who said what':<14} {who['gold']:>5} {who['predicted']:>5}"
                     f" {'':>20} {who['p']:6.3f} {who['r']:6.3f} {who['f1']:6.3f}")
    acc = figures["direct_speaker_accuracy"]
    lines += ["", f"DIRECT speaker accuracy: {acc['accuracy']:.3f} ({acc['speaker_right']} of {acc['matched']} "
                  "content-lenient matches)", ""]
    columns = [("content_exact_f1", "cont.ex"), ("content_lenient_f1", "cont.len"), ("source_exact_f1", "src.ex"),
               ("source_lenient_f1", "src.len"), ("cue_exact_f1", "cue.ex"), ("cue_lenient_f1", "cue.len"),
               ("who_said_what_f1", "who"), ("direct_content_lenient_f1", "dir.len"),
               ("direct_speaker_accuracy", "dir.spk")]
    lines.append(f"{'outlet':<13} {'arts':>4} {'gold':>5}" + "".join(f" {label:>8}" for _, label in columns))
    for outlet, line in figures["outlets"].items():
        lines.append(f"{outlet:<13} {line['articles']:>4} {line['gold']:>5}"
                     + "".join(f" {line[key]:8.3f}" for key, _ in columns))
    return "\n".join(lines)
