"""Find near-duplicate and syndicated copies of articles: MinHash LSH over word shingles, then verify.

Exact copies are stored once by ingest; what is left are copies that differ a little: re-headlined,
edited, truncated, wrapped in another site's chrome. Each article's clean text becomes a set of hashed
word ``shingle``-grams; a MinHash signature of that set is cut into the LSH bands ``datasketch``'s
``MinHashLSH`` picks for a low Jaccard ``candidate_threshold`` (a copy truncated to 45% with a third of junk
added has Jaccard about 0.3 with its source, so the index must catch pairs well below that), and texts
equal on any band are candidates (``candidates``: the pairs datasketch's index returns, found by sorting
each band in numpy).
Every candidate pair is then verified on the exact shingle sets: the pair is a copy when the shorter
text's shingles are at least ``min_shared`` found in the longer one (containment, so truncation and
added chrome do not hide a copy).

A pair that falls short but still shares ``rescue_floor`` of the shorter text gets a second look that
tells "copy plus junk" from "a follow-up story reusing background paragraphs": containment again, over
the rare shingles only, those found in fewer than ``frequent`` documents outside the two texts' own
groups. Site chrome, stock filler and templates are frequent, so they drop out of both sides; a copy
wrapped in furniture then shares most of what is left, while a follow-up's own paragraphs are rare and
keep it below ``min_shared``. The groups (copies verified by the first check) do not count as
"elsewhere": a story syndicated twenty times makes its own sentences frequent, and they must not drop
out. Frequencies are exact, counted only for the shingles of the pairs looked at (``_frequency``).

Verified pairs are grouped by union-find; each member carries its ``shared`` fraction: the share of
its shingles found in the group's first article (earliest date, then input order).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from storytrace.resolve.groups import UnionFind
from storytrace.settings import Settings
from storytrace.stages import CorpusOutput, CorpusView

SHINGLE = 5  # words per shingle
NUM_PERM = 128  # MinHash permutations
CANDIDATE_THRESHOLD = 0.15  # LSH Jaccard threshold for candidates (recall-oriented; verified below)
MIN_SHARED = 0.6  # a pair is a copy when this share of the shorter text's shingles is in the longer
RESCUE_FLOOR = 0.4  # below MIN_SHARED but sharing this much: checked again on the rare shingles (``rescue``)
FREQUENT = 3  # a shingle in this many documents outside the pair's own groups is furniture, not evidence
MIN_SHINGLES = 8  # texts with fewer shingles (under ~12 words) are too short to call copies

_SEED = 1


@dataclass(frozen=True)
class Member:
    """One article of a duplicate group."""

    article_id: str
    shared: float  # share of this article's shingles found in the group's first article
    jaccard: float  # Jaccard of the two shingle sets
    first: bool = False


@dataclass(frozen=True)
class DuplicateGroup:
    """Articles that are copies of one another; members[0] is the first (earliest) article."""

    id: str
    members: tuple[Member, ...]

    def to_records(self) -> list[tuple[str, str, dict[str, Any]]]:
        first = self.members[0].article_id
        return [
            (self.id, m.article_id, {"shared": round(m.shared, 4), "jaccard": round(m.jaccard, 4),
                                     "first": m.first, "first_article": first, "size": len(self.members)})
            for m in self.members
        ]


@dataclass
class _Doc:
    id: str
    date: str
    order: int
    shingles: np.ndarray = field(repr=False)  # sorted unique uint64 shingle hashes


class _Powers:
    """Powers of an odd base and of its inverse modulo 2^64, grown on demand, for hashing words in numpy."""

    BASE = np.uint64(0x100000001B3)  # odd, so it has an inverse modulo 2^64

    def __init__(self) -> None:
        self.pow = np.ones(0, dtype=np.uint64)
        self.inv = np.ones(0, dtype=np.uint64)

    def upto(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if n > self.pow.size:
            size = max(n, 2 * self.pow.size, 1 << 16)
            inverse = pow(int(self.BASE), -1, 1 << 64)
            with np.errstate(over="ignore"):
                self.pow = np.concatenate(([np.uint64(1)], np.cumprod(np.full(size - 1, self.BASE, dtype=np.uint64))))
                self.inv = np.concatenate(([np.uint64(1)],
                                           np.cumprod(np.full(size - 1, np.uint64(inverse), dtype=np.uint64))))
        return self.pow[:n], self.inv[:n]


_POWERS = _Powers()


def word_hashes(text: str) -> np.ndarray:
    """Hash each whitespace-separated, lower-cased word of the text to 64 bits, all in numpy.

    A word's hash is the polynomial of its UTF-8 bytes, taken as a difference of prefix sums and
    shifted back by the inverse power of its start, so it does not depend on where the word stands.
    """
    data = np.frombuffer(text.lower().encode("utf-8", "replace"), dtype=np.uint8)
    if not data.size:
        return np.zeros(0, dtype=np.uint64)
    space = data <= 32
    word = ~space
    starts = np.flatnonzero(word & np.concatenate(([True], space[:-1])))
    ends = np.flatnonzero(word & np.concatenate((space[1:], [True]))) + 1
    powers, inverse = _POWERS.upto(data.size)
    with np.errstate(over="ignore"):
        prefix = np.concatenate(([np.uint64(0)], np.cumsum((data.astype(np.uint64) + np.uint64(1)) * powers)))
        hashes: np.ndarray = (prefix[ends] - prefix[starts]) * inverse[starts]
    return hashes


def shingles(text: str, *, size: int = SHINGLE) -> np.ndarray:
    """Hash the text's lower-cased word ``size``-grams into a sorted array of unique uint64 values.

    Words are split on whitespace with punctuation kept: copies carry the same punctuation.
    """
    arr = _mix(word_hashes(text))
    if not arr.size:
        return arr
    size = min(size, len(arr))
    # A polynomial hash of each window of word hashes, computed for all windows at once.
    acc = np.zeros(len(arr) - size + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(size):
            acc = acc * np.uint64(1_000_003) + arr[k : len(arr) - size + 1 + k]
    return np.unique(_mix(acc))


def _mix(x: np.ndarray) -> np.ndarray:
    """Scramble 64-bit values (the splitmix64 finaliser) so nearby inputs give unrelated outputs."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


class _Perms:
    """The MinHash permutations ``(a * h + b) mod p``, fixed by a seed so signatures are reproducible."""

    def __init__(self, num_perm: int) -> None:
        rng = np.random.RandomState(_SEED)
        # As datasketch does: a and b below the prime, products wrapping in 64 bits. Small a would keep
        # a * h below the prime, and every permutation would then order shingles alike.
        self.a = rng.randint(1, (1 << 61) - 1, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        self.b = rng.randint(0, (1 << 61) - 1, size=num_perm, dtype=np.uint64)
        self.num_perm = num_perm

    def signature(self, values: np.ndarray) -> np.ndarray:
        # Multiply-shift hashing in wrapping 64-bit arithmetic (no modulo: ten times cheaper), kept to
        # 61 bits like datasketch's values.
        with np.errstate(over="ignore"):
            perm = (values[:, None] * self.a[None, :] + self.b[None, :]) >> np.uint64(3)
        least: np.ndarray = perm.min(axis=0)
        return least


def _containment(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int]:
    common = int(np.intersect1d(a, b, assume_unique=True).size)
    return common, int(a.size), int(b.size)


def _frequency(queries: np.ndarray, docs: Iterable[np.ndarray]) -> np.ndarray:
    """How many of ``docs`` (sorted unique shingle arrays) hold each of ``queries`` (sorted, unique).

    Exact document frequencies for just the shingles asked about, in one numpy pass over the shingle
    sets already held: memory grows with the queries only, and no sketch over-counts a rare shingle
    into a frequent one (a false "junk" verdict would merge distinct stories).
    """
    counts = np.zeros(queries.size, dtype=np.int64)
    if not queries.size:
        return counts
    last = queries.size - 1
    for values in docs:
        at = np.minimum(np.searchsorted(queries, values), last)
        counts[at[queries[at] == values]] += 1  # values are unique, so each position once per document
    return counts


def rescue_queries(shingle_sets: Sequence[np.ndarray] | Mapping[int, np.ndarray],
                   pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """The shingles whose document frequencies ``rescue`` needs: the pairs' own, sorted and unique."""
    # Each document once, however many pairs it is in: a copy of a template is in hundreds.
    return np.unique(np.concatenate([shingle_sets[k] for k in sorted({k for pair in pairs for k in pair})]))


class _Held:
    """How many documents of each copy group hold each shingle, counted once per group, for ``rescue``.

    The second look needs, for every borderline pair, how often each shingle of the two texts occurs
    outside the two texts' groups. Counting the groups' documents again for every pair costs borderline
    pairs x group size, quadratic on repeated texts (a group of copies has borderline pairs with many
    others); here each group's counts are made once, each document's frequency outside its own group
    once, and a pair then only subtracts the other group's counts. Both are dropped after their last
    pair, so memory follows the pairs still to look at. ``copies`` normally partitions the documents
    (groups so far); when it does not, an overlap is counted once, as the union of the two groups is.
    """

    def __init__(self, shingle_sets: Sequence[np.ndarray] | Mapping[int, np.ndarray],
                 pairs: Sequence[tuple[int, int]], copies: Mapping[int, Collection[int]],
                 frequency: np.ndarray, queries: np.ndarray) -> None:
        self.sets, self.frequency, self.queries = shingle_sets, frequency, queries
        keys: dict[frozenset[int], int] = {}
        # id of a ``copies`` value -> (the value, kept so the id stays its own, its group): a group's members
        # share one list (``rescue_needs``)
        seen: dict[int, tuple[Collection[int], int]] = {}
        self.group_of: dict[int, int] = {}
        self.members: list[frozenset[int]] = []
        doc_refs: dict[int, int] = {}
        for pair in pairs:
            for k in pair:
                doc_refs[k] = doc_refs.get(k, 0) + 1
                if k in self.group_of:
                    continue
                given = copies.get(k)
                if given is not None and id(given) in seen:
                    self.group_of[k] = seen[id(given)][1]
                    continue
                # A group's members once per group, not once per member: groups of copies reach thousands.
                own = frozenset((k,) if given is None else given)
                self.group_of[k] = keys.setdefault(own, len(keys))
                if self.group_of[k] == len(self.members):
                    self.members.append(own)
                if given is not None:
                    seen[id(given)] = (given, self.group_of[k])
        owner: dict[int, int] = {}
        self.partition = all(owner.setdefault(m, g) == g for g, own in enumerate(self.members) for m in own)
        self.group_refs = [0] * len(self.members)
        for i, j in pairs:
            self.group_refs[self.group_of[i]] += 1
            self.group_refs[self.group_of[j]] += 1
        self.doc_refs = doc_refs
        self.counts: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
        self.outside: dict[int, np.ndarray] = {}

    def _count(self, own: Collection[int]) -> tuple[np.ndarray, np.ndarray | None]:
        sets = [self.sets[m] for m in own]
        if len(sets) == 1:
            return sets[0], None  # one document: each of its shingles once
        if not sets:
            return np.zeros(0, dtype=np.uint64), None
        values, counts = np.unique(np.concatenate(sets), return_counts=True)
        return values, counts

    @staticmethod
    def _lookup(held: tuple[np.ndarray, np.ndarray | None], values: np.ndarray) -> np.ndarray:
        group, counts = held
        if not group.size or not values.size:
            return np.zeros(values.size, dtype=np.int64)
        at = np.minimum(np.searchsorted(group, values), group.size - 1)
        hit = group[at] == values
        return np.where(hit, 1 if counts is None else counts[at], 0)

    def held(self, g: int, values: np.ndarray) -> np.ndarray:
        """How many documents of group ``g`` hold each of ``values``."""
        if g not in self.counts:
            self.counts[g] = self._count(self.members[g])
        return self._lookup(self.counts[g], values)

    def elsewhere(self, k: int, other: int) -> np.ndarray:
        """For each shingle of document ``k``: documents holding it outside ``k``'s group and group ``other``."""
        values, own = self.sets[k], self.group_of[k]
        if k not in self.outside:
            self.outside[k] = self.frequency[np.searchsorted(self.queries, values)] - self.held(own, values)
        if other == own:
            return self.outside[k]
        out: np.ndarray = self.outside[k] - self.held(other, values)
        if not self.partition:
            both = self.members[own] & self.members[other]
            if both:  # held by both groups: subtracted twice above, once is right
                out = out + self._lookup(self._count(sorted(both)), values)
        return out

    def done(self, i: int, j: int) -> None:
        """Forget what no later pair needs."""
        for k in (i, j):
            self.doc_refs[k] -= 1
            if not self.doc_refs[k]:
                self.outside.pop(k, None)
            g = self.group_of[k]
            self.group_refs[g] -= 1
            if not self.group_refs[g]:
                self.counts.pop(g, None)


def rescue(shingle_sets: Sequence[np.ndarray] | Mapping[int, np.ndarray], pairs: Sequence[tuple[int, int]],
           copies: Mapping[int, Collection[int]], *, min_shared: float = MIN_SHARED, frequent: int = FREQUENT,
           min_evidence: int = MIN_SHINGLES, frequency: np.ndarray | None = None) -> list[tuple[int, int, float]]:
    """Second look at pairs below ``min_shared``: (i, j, shared) for those that reach it on their rare
    shingles, those found in fewer than ``frequent`` documents outside the two texts' own groups.

    Chrome, stock filler and templates ("Qtly div 10 cts vs 10 cts prior") are frequent, so they count
    neither as shared nor as unshared text; a copy wrapped in furniture then shares most of what is left,
    a follow-up's own paragraphs stay in its denominator, and two filled-in templates share too few rare
    shingles (fewer than ``min_evidence``) to be copies. ``shingle_sets[k]`` is document k's sorted
    unique shingles; ``copies[k]`` the documents already verified as copies of k (its group so far, k
    included; k alone when absent): their holding a shingle is not "elsewhere", so a story syndicated
    many times does not make its own sentences frequent. ``frequency``, when given, holds the document
    frequencies of the pairs' sorted unique shingles, counted elsewhere (the Spark engine counts them over
    all documents; ``shingle_sets`` then needs only the pairs' documents and their copies). Each group's
    counts are made once (``_Held``): the cost is linear in the pairs and the groups' sizes.
    """
    if not pairs:
        return []
    queries = rescue_queries(shingle_sets, pairs)
    if frequency is None:
        frequency = _frequency(queries, shingle_sets if isinstance(shingle_sets, Sequence) else shingle_sets.values())
    held = _Held(shingle_sets, pairs, copies, frequency, queries)
    out = []
    for i, j in pairs:
        gi, gj = held.group_of[i], held.group_of[j]
        rare_i = shingle_sets[i][held.elsewhere(i, gj) < frequent]
        rare_j = shingle_sets[j][held.elsewhere(j, gi) < frequent]
        held.done(i, j)
        common = int(np.intersect1d(rare_i, rare_j, assume_unique=True).size)
        smaller = min(rare_i.size, rare_j.size)
        if common >= max(1, min_evidence) and common / smaller >= min_shared:
            out.append((i, j, common / smaller))
    return out


def check(a: np.ndarray, b: np.ndarray, *, min_shared: float = MIN_SHARED,
          rescue_floor: float = RESCUE_FLOOR) -> bool | None:
    """A candidate pair on its exact shingle sets: True a copy, False borderline (for ``rescue``), None neither."""
    common, na, nb = _containment(a, b)
    share = common / min(na, nb)
    if share >= min_shared:
        return True
    return False if share >= rescue_floor else None


def rescue_needs(found: UnionFind, borderline: Sequence[tuple[int, int]]) -> dict[int, list[int]]:
    """For each document of a borderline pair, its group so far (the verified copies, itself included):
    the ``copies`` argument of ``rescue``; their union is every shingle set the second look reads."""
    groups = found.groups()
    involved = sorted({k for pair in borderline for k in pair})
    return {k: groups.get(found.find(k), [k]) for k in involved}


def connect(copies: Iterable[tuple[int, int]], borderline: Sequence[tuple[int, int]],
            shingle_sets: Sequence[np.ndarray] | Mapping[int, np.ndarray], *, frequency: np.ndarray | None = None,
            min_shared: float = MIN_SHARED, frequent: int = FREQUENT) -> UnionFind:
    """The groups: verified copies unioned, then the borderline pairs that pass the second look (``rescue``).

    The step both engines run: the local stage with every document's shingles, the Spark engine with those
    of ``rescue_needs`` only and the ``frequency`` of ``rescue_queries`` counted over all documents.
    """
    found = UnionFind().union_all(copies)
    if borderline and frequent > 0:
        needs = rescue_needs(found, borderline)
        for i, j, _shared in rescue(shingle_sets, borderline, needs, min_shared=min_shared, frequent=frequent,
                                    frequency=frequency):
            found.union(i, j)
    return found


def members(docs: Iterable[tuple[str, str | None, int, np.ndarray]]) -> list[Member]:
    """One group's members from its (id, date, order, shingles): the first article (earliest known date,
    then input order) first, each with the share of its shingles found in the first article's."""
    rows = sorted(docs, key=lambda d: (d[1] or "9999", d[2]))
    head = rows[0][3]
    out = [Member(rows[0][0], 1.0, 1.0, first=True)]
    for doc_id, _date, _order, values in rows[1:]:
        common, na, nb = _containment(values, head)
        out.append(Member(doc_id, common / na if na else 0.0, common / (na + nb - common)))
    return out


def named(groups: Iterable[Sequence[Member]]) -> list[DuplicateGroup]:
    """Groups in the order of their first articles' ids, named d1, d2, ..."""
    ordered = sorted(groups, key=lambda rows: rows[0].article_id)
    return [DuplicateGroup(f"d{n + 1}", tuple(rows)) for n, rows in enumerate(ordered)]


def band_params(threshold: float = CANDIDATE_THRESHOLD, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """The (bands, rows per band) ``datasketch.MinHashLSH`` picks for ``threshold`` and ``num_perm``."""
    # Imported here: datasketch pulls in scipy.integrate (~1 s), which every CLI command would pay at start-up.
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


def candidates(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """LSH candidates: the pairs (i < j, sorted, unique) of rows of ``signatures`` equal on a whole band.

    The pairs a ``datasketch.MinHashLSH`` with these bands returns when each row is queried, then
    inserted (it keys a band by its values' bytes: equal bytes, equal values), found here by sorting each
    band's values in numpy. The index kept every band key of every text as a Python object (3.4 GB at
    100k articles) and hashed them one call per band, half the step's time; a sorted band costs 8 bytes a
    row. Rows tied on a band are its buckets; pairs are taken k apart within a bucket, k = 1, 2, ...
    """
    n = signatures.shape[0]
    found = np.zeros(0, dtype=np.int64)
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    positions = np.arange(n)
    for band in range(bands):
        values = signatures[:, band * rows : (band + 1) * rows]
        order = np.lexsort(values.T[::-1])
        ranked = values[order]
        first = np.concatenate(([True], np.any(ranked[1:] != ranked[:-1], axis=1)))  # a bucket starts here
        ends = np.append(np.flatnonzero(first)[1:], n)[np.cumsum(first) - 1]  # each position's bucket end
        at = np.flatnonzero(ends - positions > 1)
        chunks = []
        k = 1
        while at.size:
            a, b = order[at], order[at + k]
            chunks.append(np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b))
            k += 1
            at = at[at + k < ends[at]]
        if chunks:
            found = np.union1d(found, np.concatenate(chunks))
    return np.stack((found // n, found % n), axis=1)


def find_duplicates(
    docs: Iterable[tuple[str, str, str | None]], *, shingle: int = SHINGLE, num_perm: int = NUM_PERM,
    candidate_threshold: float = CANDIDATE_THRESHOLD, min_shared: float = MIN_SHARED,
    min_shingles: int = MIN_SHINGLES, rescue_floor: float = RESCUE_FLOOR, frequent: int = FREQUENT,
) -> list[DuplicateGroup]:
    """Group near-duplicate texts; ``docs`` yields (id, text, ISO date or None), streamed once."""
    perms = _Perms(num_perm)
    bands, rows = band_params(candidate_threshold, num_perm)
    kept: list[_Doc] = []
    banded: list[np.ndarray] = []
    for order, (doc_id, text, date) in enumerate(docs):
        values = shingles(text, size=shingle)
        if values.size < min_shingles:
            continue
        kept.append(_Doc(doc_id, date or "", order, values))
        banded.append(perms.signature(values)[: bands * rows].copy())  # values no band reads are not kept
    signatures = np.array(banded, dtype=np.uint64).reshape(len(banded), bands * rows)
    del banded
    pairs = candidates(signatures, bands, rows).tolist()
    del signatures

    copies: list[tuple[int, int]] = []
    borderline: list[tuple[int, int]] = []
    for i, j in pairs:
        verdict = check(kept[i].shingles, kept[j].shingles, min_shared=min_shared, rescue_floor=rescue_floor)
        if verdict is not None:
            (copies if verdict else borderline).append((i, j))
    found = connect(copies, sorted(borderline), [d.shingles for d in kept], min_shared=min_shared, frequent=frequent)
    return named(members((kept[i].id, kept[i].date, kept[i].order, kept[i].shingles) for i in idx)
                 for idx in found.groups(min_size=2).values())


def pairs_of(groups: Sequence[DuplicateGroup]) -> set[tuple[str, str]]:
    """Every unordered pair of article ids grouped together (sorted within the pair)."""
    out: set[tuple[str, str]] = set()
    for g in groups:
        ids = sorted(m.article_id for m in g.members)
        out.update((a, b) for n, a in enumerate(ids) for b in ids[n + 1 :])
    return out


def duplicates_stage(view: CorpusView, settings: Settings) -> CorpusOutput:
    """Corpus stage: group near-copies of articles; one record per member, keyed by group id."""
    docs = ((a.id, a.clean.text, a.published) for a in view.articles())
    return stage_output(find_duplicates(docs))


def stage_output(groups: Sequence[DuplicateGroup]) -> CorpusOutput:
    """The stage's summary and records (one per member, keyed by group id), for either engine."""
    records = [r for g in groups for r in g.to_records()]
    summary = {"groups": len(groups), "articles_in_groups": len(records),
               "largest": [{"id": g.id, "size": len(g.members), "first": g.members[0].article_id}
                           for g in sorted(groups, key=lambda g: -len(g.members))[:20]]}
    return CorpusOutput(summary, records)
