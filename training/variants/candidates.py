"""List candidate pairs of PolNeAR train gold contents for labelling quote-variant links (references only).

    python training/variants/candidates.py [--data ../shared/data] [--group high3] [--out FILE] [--context]

Reads PolNeAR ``train`` (first ``.ann`` per article, as the benchmark scores). A unit is one gold
attribution's content, from its first piece's start to its last piece's end, with three words or more
(words: lower-cased, punctuation stripped). Pairs are only formed across different outlets.

* group ``high``: every pair sharing at least 2 distinct word 4-grams (a seeded sample of 300, seed 7,
  when there are more than 400);
* group ``low``: a seeded sample (seed 7) of 60 of the pairs sharing exactly one word 3-gram or 4-gram,
  i.e. exactly one shared 4-gram, or no shared 4-gram and exactly one shared 3-gram.

These two groups are the default output and reproduce rows 1-360 of quote_pairs_train.tsv. With
``--group high3`` the script lists instead group ``high3``: every pair sharing at least 3 distinct word
4-grams that is not yet labelled in quote_pairs_train.tsv (compared by (article, E id) of both sides, in
either order), sorted by the sides' (article, E id) in name order; no sampling. Rows 361-1095 of the
file were drawn this way against its rows 1-360 (735 pairs), so it now lists none.

Output, one pair per line (tab-separated): article a, E id a, start a, end a, article b, E id b,
start b, end b, group, shared 4-grams, shared 3-grams; pair sides in name order. No text is written.
With ``--context`` the script instead prints each pair's two contents with ~200 characters of context
to the terminal, for reading while labelling; that output must not be saved into the repository.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import defaultdict
from itertools import combinations
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from storytrace.bench.attributions import load_split  # noqa: E402

# Its own word split, not storytrace.resolve.variants.words (which keeps apostrophes as "'"): the committed
# quote_pairs_train.tsv was drawn with this one, and the other gives 3,440 'high' pairs instead of 3,444 and so
# another seeded sample.
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
SEED = 7
LOW_SAMPLE = 60
HIGH_LIMIT, HIGH_SAMPLE = 400, 300


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "").replace("'", "") for w in _WORD.findall(text)]


def _grams(ws: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)}


def _units(data: Path) -> tuple[list[tuple], dict[str, str]]:
    units, texts = [], {}
    for article in load_split(data / "polnear", "train"):
        texts[article.name] = article.text
        for g in article.attributions:
            start, end = g.content[0].start, g.content[-1].end
            ws = _words(article.text[start:end])
            if len(ws) >= 3:
                units.append((article.name, article.outlet, g.id, start, end, _grams(ws, 3), _grams(ws, 4)))
    return units, texts


def _shared(units: list[tuple], slot: int) -> dict[tuple[int, int], int]:
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, u in enumerate(units):
        for gram in u[slot]:
            index[gram].append(i)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for members in index.values():
        for i, j in combinations(members, 2):
            if units[i][1] != units[j][1]:
                counts[(i, j)] += 1
    return counts


def candidates(data: Path) -> tuple[list[tuple], dict[str, str], list[tuple[int, int, str, int, int]], int]:
    """Units, article texts, the candidate pairs (i, j, group, shared 4-grams, shared 3-grams), high total."""
    units, texts = _units(data)
    four = _shared(units, 6)
    three = _shared(units, 5)
    rng = random.Random(SEED)
    high = sorted(p for p, c in four.items() if c >= 2)
    total_high = len(high)
    if total_high > HIGH_LIMIT:
        high = sorted(rng.sample(high, HIGH_SAMPLE))
    low_pool = sorted(p for p in set(four) | set(three)
                      if four.get(p, 0) == 1 or (four.get(p, 0) == 0 and three.get(p, 0) == 1))
    low = sorted(rng.sample(low_pool, min(LOW_SAMPLE, len(low_pool))))
    out = [(i, j, "high", four.get((i, j), 0), three.get((i, j), 0)) for i, j in high]
    out += [(i, j, "low", four.get((i, j), 0), three.get((i, j), 0)) for i, j in low]
    return units, texts, out, total_high


LABELS = REPO / "storytrace" / "resources" / "benchmarks" / "quote_pairs_train.tsv"


def _labelled(path: Path = LABELS) -> set[frozenset[tuple[str, str]]]:
    """The pairs already in the labels file, each as an unordered pair of (article, E id)."""
    out = set()
    for line in path.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            f = line.split("\t")
            out.add(frozenset(((f[0], f[1]), (f[4], f[5]))))
    return out


def high3(units: list[tuple], four: dict[tuple[int, int], int], three: dict[tuple[int, int], int],
          labelled: set[frozenset[tuple[str, str]]]) -> list[tuple[int, int, str, int, int]]:
    """Unlabelled pairs sharing 3+ distinct word 4-grams, sorted by the sides' (article, E id) in name order."""
    def key(p: tuple[int, int]) -> tuple:
        a, b = _ordered(units, *p)
        return (a[0], a[2], b[0], b[2], a[3], b[3])
    pairs = sorted((p for p, c in four.items() if c >= 3
                    and frozenset(((units[p[0]][0], units[p[0]][2]), (units[p[1]][0], units[p[1]][2])))
                    not in labelled), key=key)
    return [(i, j, "high3", four[(i, j)], three.get((i, j), 0)) for i, j in pairs]


def _ordered(units: list[tuple], i: int, j: int) -> tuple[tuple, tuple]:
    a, b = units[i], units[j]
    return (a, b) if (a[0], a[2]) <= (b[0], b[2]) else (b, a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, help="write the reference lines here (default: stdout)")
    parser.add_argument("--context", action="store_true", help="print the contents in context for reading")
    parser.add_argument("--group", choices=("high3",),
                        help="list this group instead of the default sample ('high3': unlabelled pairs, 3+ 4-grams)")
    args = parser.parse_args()
    if args.group == "high3":
        units, texts = _units(args.data)
        pairs = high3(units, _shared(units, 6), _shared(units, 5), _labelled())
        print(f"units {len(units)}; high3 candidates {len(pairs)}", file=sys.stderr)
    else:
        units, texts, pairs, total_high = candidates(args.data)
        print(f"units {len(units)}; high pairs {total_high}"
              f"{' (sampled 300)' if total_high > HIGH_LIMIT else ''}; candidates {len(pairs)}", file=sys.stderr)
    lines = []
    for n, (i, j, group, c4, c3) in enumerate(pairs):
        a, b = _ordered(units, i, j)
        if args.context:
            print(f"=== {n} {group} 4g={c4} 3g={c3}")
            for u in (a, b):
                text = texts[u[0]]
                before = text[max(0, u[3] - 200):u[3]].replace("\n", " ")
                after = text[u[4]:u[4] + 200].replace("\n", " ")
                print(f"--- {u[0]} {u[2]} ({u[1]})\n...{before}[[{text[u[3]:u[4]]}]]{after}...")
            continue
        lines.append("\t".join(map(str, (a[0], a[2], a[3], a[4], b[0], b[2], b[3], b[4], group, c4, c3))))
    if args.context:
        return
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", "utf-8")
    else:
        print("\n".join(lines))


if __name__ == "__main__":
    main()
