"""The duplicates stage's LSH candidates (``duplicates.candidates``) are the pairs datasketch's index returns."""

from __future__ import annotations

import random

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

from storytrace.resolve import duplicates as d


def _datasketch_pairs(signatures: np.ndarray, bands: int, rows: int) -> list[tuple[int, int]]:
    """What the stage did before: query each signature in a ``MinHashLSH``, then insert it."""
    lsh = MinHashLSH(num_perm=signatures.shape[1], params=(bands, rows))
    pairs: set[tuple[int, int]] = set()
    for i, row in enumerate(signatures):
        sig = LeanMinHash(seed=1, hashvalues=row, scheme="legacy")
        pairs.update((other, i) for other in lsh.query(sig))
        lsh.insert(i, sig, check_duplication=False)
    return sorted(pairs)


def _texts(seed: int) -> list[str]:
    """Articles, perturbed repeats of them (words dropped, a sentence added) and a template filled in."""
    rng = random.Random(seed)
    sources = [" ".join(f"w{rng.randrange(3000)}" for _ in range(rng.randrange(20, 200))) for _ in range(40)]
    texts = list(sources)
    for _ in range(160):
        words = [w for w in rng.choice(sources).split() if rng.random() > 0.1]
        texts.append(" ".join(words) + " " + rng.choice(sources)[:60])
    texts += [f"Qtly div {rng.randrange(5, 30)} cts vs {rng.randrange(5, 30)} cts prior Pay April {n} Record"
              for n in range(60)]
    rng.shuffle(texts)
    return texts


def test_candidates_are_the_pairs_datasketch_returns_on_repeated_texts() -> None:
    bands, rows = d.band_params()
    perms = d._Perms(d.NUM_PERM)
    for seed in (1, 2):
        signatures = np.array([perms.signature(d.shingles(t)) for t in _texts(seed)])
        expected = _datasketch_pairs(signatures, bands, rows)
        assert len(expected) > 200  # repeats and templates: buckets of several texts
        assert [tuple(p) for p in d.candidates(signatures, bands, rows).tolist()] == expected


def test_candidates_in_large_buckets_and_other_band_shapes() -> None:
    rng = np.random.default_rng(4)
    for bands, rows, spread in ((51, 2, 3), (8, 4, 2), (20, 1, 40), (4, 3, 1)):
        signatures = rng.integers(0, spread + 1, size=(150, bands * rows + 3), dtype=np.uint64)
        assert [tuple(p) for p in d.candidates(signatures, bands, rows).tolist()] == \
            _datasketch_pairs(signatures, bands, rows)
    assert d.candidates(np.zeros((1, 8), dtype=np.uint64), 4, 2).shape == (0, 2)
    assert d.candidates(np.zeros((0, 8), dtype=np.uint64), 4, 2).shape == (0, 2)
