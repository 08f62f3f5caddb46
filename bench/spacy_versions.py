"""CPU time of each component of the shipped model under the spaCy release this interpreter has.

The shipped weights load in every spaCy 3.7.5-3.8.x release, so running this script with several interpreters
(one virtual environment per release) compares the releases on the same model and texts. It needs spaCy only, not
storytrace, so an old release can be measured without installing the project:

    for v in 3.8.6 3.8.7 3.8.18; do
        python3 -m venv /tmp/spacy-$v && /tmp/spacy-$v/bin/pip install -q "spacy==$v" click
        OMP_NUM_THREADS=1 /tmp/spacy-$v/bin/python bench/spacy_versions.py --data ../shared/data --split dev --json
    done

Texts: the first ``--limit`` PolNeAR articles of ``--split``. Each component runs over all of them in turn
(``proc.pipe``), after a warm-up; figures are CPU milliseconds per article (one process), plus the whole pipeline's
tokens per second. The rule components of ``storytrace.nlp.rules`` are not loaded (they do not depend on spaCy's
compiled parser).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

MODEL = Path(__file__).resolve().parents[1] / "storytrace" / "resources" / "model"


def texts(data: Path, split: str, limit: int) -> list[str]:
    root = data / "polnear" if (data / "polnear").is_dir() else data
    paths = sorted((root / split / "text").glob("*.txt"))[:limit]
    if not paths:
        raise SystemExit(f"no PolNeAR texts in {root / split / 'text'}")
    return [p.read_text(encoding="utf-8") for p in paths]


def measure(batch: list[str]) -> dict[str, object]:
    import spacy

    warnings.simplefilter("ignore")  # a model built by another 3.x release warns on load
    nlp = spacy.load(MODEL)
    list(nlp.pipe(batch[:2]))
    docs = [nlp.make_doc(t) for t in batch]
    tokens = sum(len(d) for d in docs)
    per_article: dict[str, float] = {}
    for name, proc in nlp.pipeline:
        start = time.process_time()
        docs = list(proc.pipe(docs, batch_size=64))
        per_article[name] = round((time.process_time() - start) * 1000 / len(docs), 1)
    start = time.process_time()
    list(nlp.pipe(batch))
    whole = time.process_time() - start
    return {"spacy": spacy.about.__version__, "articles": len(batch), "tokens": tokens,
            "ms_per_article": per_article, "pipeline_tokens_per_second": round(tokens / whole)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--split", default="dev")
    parser.add_argument("--limit", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = measure(texts(args.data, args.split, args.limit))
    if args.json:
        print(json.dumps(figures))
        return
    print(f"spaCy {figures['spacy']}: {figures['articles']} articles, {figures['tokens']} tokens, "
          f"pipeline {figures['pipeline_tokens_per_second']} tokens/s")
    for name, ms in figures["ms_per_article"].items():  # type: ignore[union-attr]
        print(f"  {name:22s} {ms:7.1f} ms/article")


if __name__ == "__main__":
    main()
