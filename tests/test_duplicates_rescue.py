"""The duplicates stage's second look (``duplicates.rescue``) on repeated texts, against a brute-force reference.

``rescue`` counts each copy group's shingle frequencies once (session 4: it used to recount both groups
for every borderline pair, quadratic on repeated texts); these tests pin that its answers are still the
plain definition: a shingle is rare when fewer than ``frequent`` documents outside the two texts' own
groups hold it, counted here with Python sets, pair by pair.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence

import numpy as np

from storytrace.resolve import duplicates as d
from storytrace.resolve.groups import UnionFind


def _words(rng: random.Random, n: int) -> list[str]:
    return [f"w{rng.randrange(10**6)}" for _ in range(n)]


def _repeated_texts(seed: int) -> list[str]:
    """Stories syndicated several times, partial copies wrapped in shared furniture, follow-ups, fillers."""
    rng = random.Random(seed)
    furniture = [" ".join(_words(rng, 25)) for _ in range(4)]
    texts = []
    for _ in range(4):
        base = _words(rng, 150)
        texts += [" ".join(base) + f" via{n}" for n in range(rng.randrange(2, 6))]
        for _ in range(4):
            start = rng.randrange(0, 60)
            texts.append("\n".join(rng.sample(furniture, 2)) + "\n" + " ".join(base[start:start + 80]) + " "
                         + " ".join(_words(rng, rng.randrange(0, 30))))
        texts.append(" ".join(_words(rng, 50) + base[40:120] + _words(rng, 50)))
    rng.shuffle(texts)
    return texts + [" ".join(_words(rng, 120)) + "\n" + "\n".join(furniture) for _ in range(6)]


def _brute_rescue(sets: Sequence[np.ndarray], pairs: Sequence[tuple[int, int]],
                  copies: Mapping[int, Collection[int]]) -> list[tuple[int, int, float]]:
    holders: dict[int, set[int]] = {}
    for m, values in enumerate(sets):
        for s in values.tolist():
            holders.setdefault(s, set()).add(m)
    out = []
    for i, j in pairs:
        own = set(copies.get(i, (i,))) | set(copies.get(j, (j,)))
        rare = [{s for s in sets[k].tolist() if len(holders[s] - own) < d.FREQUENT} for k in (i, j)]
        common, smaller = len(rare[0] & rare[1]), min(len(rare[0]), len(rare[1]))
        if common >= d.MIN_SHINGLES and common / smaller >= d.MIN_SHARED:
            out.append((i, j, common / smaller))
    return out


def _pairs(sets: Sequence[np.ndarray]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    copies: list[tuple[int, int]] = []
    borderline: list[tuple[int, int]] = []
    for i in range(len(sets)):
        for j in range(i + 1, len(sets)):
            verdict = d.check(sets[i], sets[j])
            if verdict is not None:
                (copies if verdict else borderline).append((i, j))
    return copies, borderline


def test_rescue_on_repeated_texts_equals_the_brute_force_definition() -> None:
    for seed in (5, 6, 7):
        sets = [d.shingles(t) for t in _repeated_texts(seed)]
        copies, borderline = _pairs(sets)
        needs = d.rescue_needs(UnionFind().union_all(copies), borderline)
        assert max(len(g) for g in needs.values()) >= 3  # groups of copies, not just pairs
        found = d.rescue(sets, borderline, needs)
        assert found == _brute_rescue(sets, borderline, needs)
        assert 0 < len(found) < len(borderline)  # some pairs pass the second look, some do not


def test_rescue_with_frequencies_counted_elsewhere_reads_only_the_pairs_groups() -> None:
    # The Spark engine's call: the pairs' documents and their copies only, frequencies over all documents.
    texts = _repeated_texts(8)
    rng = random.Random(3)
    furniture = texts[-1].split("\n")[1:]  # the last text is a filler wrapped in all four furniture lines
    texts += [" ".join(_words(rng, 300)) + "\n" + line for line in furniture]  # in no pair, holding furniture
    sets = [d.shingles(t) for t in texts]
    copies, borderline = _pairs(sets)
    needs = d.rescue_needs(UnionFind().union_all(copies), borderline)
    wanted = {m: sets[m] for group in needs.values() for m in group}
    assert len(wanted) < len(sets)
    queries = d.rescue_queries(wanted, borderline)
    every = np.concatenate(sets)
    frequency = np.array([int((every == q).sum()) for q in queries], dtype=np.int64)
    assert d.rescue(wanted, borderline, needs, frequency=frequency) == _brute_rescue(sets, borderline, needs)


def test_rescue_with_overlapping_copy_groups_counts_the_union_once() -> None:
    # ``copies`` from the union-find partitions the documents; any other mapping keeps the plain definition.
    sets = [d.shingles(t) for t in _repeated_texts(9)]
    _copies, borderline = _pairs(sets)
    rng = random.Random(2)
    overlapping = {k: sorted({k, *rng.sample(range(len(sets)), 3)}) for pair in borderline for k in pair}
    assert d.rescue(sets, borderline, overlapping) == _brute_rescue(sets, borderline, overlapping)


def test_connect_groups_repeated_texts_as_the_brute_force_second_look_does() -> None:
    sets = [d.shingles(t) for t in _repeated_texts(10)]
    copies, borderline = _pairs(sets)
    needs = d.rescue_needs(UnionFind().union_all(copies), borderline)
    expected = UnionFind().union_all(copies).union_all((i, j) for i, j, _ in _brute_rescue(sets, borderline, needs))
    assert d.connect(copies, borderline, sets).groups(min_size=2) == expected.groups(min_size=2)
