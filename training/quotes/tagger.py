"""Train, score and ship the quotation span tagger (``storytrace/nlp/quotespans.py``).

    python training/quotes/tagger.py convert                 # PolNeAR -> training/corpus/quotes/{train,tune,dev}.spacy
    python training/quotes/tagger.py train [--name tagger1]  # spacy train config.cfg (one core, ~2 h)
    python training/quotes/tagger.py evaluate --name tagger1 [--checkpoint model-best] [--modes off,first,last]
    python training/quotes/tagger.py package --name tagger1  # -> storytrace/resources/quotes/tagger-v1
    python training/quotes/tagger.py all                     # the four in a row

The head is a spaCy ``ner`` over the shipped backbone's frozen tok2vec (``config.cfg``), trained on PolNeAR
train without its tune part (every sixth article, ``convert.TUNE``). ``evaluate`` scores the quotation finder
on the tune part with the benchmark's own scorer, once per way of joining the tagger to the rule layers
(``quotes.TAGGER``): the choice is made there, and PolNeAR dev is scored once afterwards with
``storytrace bench quotes``. A new backbone means retraining the head (it reads the backbone's rows).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from convert import TUNE, convert_all  # noqa: E402

CORPUS = REPO / "training" / "corpus" / "quotes"
RUNS = REPO / "training" / "runs" / "quotes"
CONFIG = Path(__file__).resolve().parent / "config.cfg"
DATA = REPO.parent / "shared" / "data"


def train(name: str, *, max_steps: int | None = None, corpus: Path = CORPUS) -> Path:
    out = RUNS / name
    cmd = [sys.executable, "-m", "spacy", "train", str(CONFIG), "--output", str(out),
           "--paths.train", str(corpus / "train.spacy"), "--paths.dev", str(corpus / "tune.spacy"),
           "--paths.backbone", str(REPO / "storytrace" / "resources" / "model")]
    if max_steps is not None:
        cmd += ["--training.max_steps", str(max_steps), "--training.eval_frequency", str(max(1, max_steps // 2))]
    subprocess.run(cmd, check=True)
    return out


def package(run: Path, dest: Path, *, tune_scores: dict[str, Any] | None = None) -> Path:
    """Write the head alone (config, vocab, ``ner``; no tok2vec) with a meta.json naming its backbone."""
    import spacy

    from storytrace.nlp.pipeline import model_meta

    nlp = spacy.load(run)
    if dest.exists():
        shutil.rmtree(dest)
    nlp.to_disk(dest, exclude=["tok2vec"])
    backbone = model_meta()
    meta = json.loads((dest / "meta.json").read_text(encoding="utf-8"))
    meta.update({
        "name": "storytrace_quote_tagger", "version": "1.0.0",
        "description": "CONTENT / CUE / SOURCE span tagger on the storytrace backbone's frozen tok2vec "
                       "(training/quotes/tagger.py), trained on PolNeAR train without every sixth article",
        "storytrace_backbone": {"name": backbone.get("name"), "version": backbone.get("version")},
        "checkpoint": str(run.relative_to(REPO)) if run.is_relative_to(REPO) else str(run),
    })
    if tune_scores is not None:
        meta["tune_scores"] = tune_scores
    (dest / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    shutil.rmtree(dest / "tok2vec", ignore_errors=True)
    return dest


def evaluate(run: Path, modes: list[str], data: Path, *, limit: int | None = None) -> dict[str, Any]:
    """Score the quotation finder on the tune part of train, once per way of joining the tagger."""
    from storytrace.bench import quotes as bench
    from storytrace.nlp import quotes, quotespans

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        quotespans.OVERRIDE = package(run, Path(tmp) / "head")
        try:
            for mode in modes:
                quotes.TAGGER = mode
                result = bench.run(data, split="train", fold=TUNE, limit=limit, speed=False)
                figures[mode] = result
                print(mode, json.dumps(_headline(result)), flush=True)
        finally:
            quotespans.OVERRIDE = None
            quotespans._load.cache_clear()
    return figures


def _headline(result: dict[str, Any]) -> dict[str, Any]:
    """The figures the choice is made on: ALL and DIRECT F1 by role (exact, lenient), who said what, speakers."""
    out: dict[str, Any] = {"predicted": result["predicted_attributions"],
                           "articles_per_second": result["articles_per_second"]}
    for subset in ("ALL", "DIRECT"):
        for role in ("content", "source", "cue"):
            for mode in ("exact", "lenient"):
                out[f"{subset}.{role}.{mode}"] = result[subset][role][mode]["f1"]
        out[f"{subset}.who_said_what"] = result[subset]["who_said_what"]["f1"]
    out["direct_speaker_accuracy"] = result["direct_speaker_accuracy"]["accuracy"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["convert", "train", "evaluate", "package", "all"])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--name", default="tagger1")
    parser.add_argument("--checkpoint", default="model-best")
    parser.add_argument("--modes", default="off,first,last")
    parser.add_argument("--limit", type=int, default=None, help="evaluate: the first N tune articles")
    parser.add_argument("--max-steps", type=int, default=None, help="train: stop early (a quick check)")
    args = parser.parse_args()
    run = RUNS / args.name / args.checkpoint
    dest = REPO / "storytrace" / "resources" / "quotes" / "tagger-v1"
    if args.step in ("convert", "all"):
        convert_all(args.data / "polnear" if (args.data / "polnear").is_dir() else args.data, CORPUS)
    if args.step in ("train", "all"):
        train(args.name, max_steps=args.max_steps)
    scores = None
    if args.step in ("evaluate", "all"):
        scores = evaluate(run, args.modes.split(","), args.data, limit=args.limit)
    if args.step in ("package", "all"):
        package(run, dest, tune_scores={m: _headline(r) for m, r in scores.items()} if scores else None)
        print("packaged", dest, flush=True)


if __name__ == "__main__":
    main()
