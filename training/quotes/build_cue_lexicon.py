"""Mine the cue lexicon from PolNeAR train: how often each word is (part of) a gold cue where it appears.

    python training/quotes/build_cue_lexicon.py [--data ../shared/data] [--out storytrace/resources/quotes/cues.tsv]

Only the ``train`` split is read (never dev or test). For every lowercased word form the script counts its
occurrences in the article texts and how many of them fall inside a gold cue span (first ``.ann`` per
article, as the benchmark scores). Forms seen as a cue at least ``--min-count`` times with
P(cue | form) >= ``--min-p`` are written, one per line: ``form<TAB>cue_count<TAB>occurrences<TAB>p``.
No article text is written, only word forms and counts.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from storytrace.bench.attributions import load_split  # noqa: E402

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Function words that sit inside multi-word cues ("has said", "said in a statement") but are no cue heads.
_FUNCTION = frozenset("""a an the to in of on for with at by has have had is was were be been are will would
could should may might can do does did not also as that this it he she they we i you his her their its from
and or but""".split())


def mine(data: Path) -> list[tuple[str, int, int]]:
    """Return (form, times inside a gold cue, occurrences) for every form seen in train."""
    inside: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for article in load_split(data, "train"):
        cues = sorted((s.start, s.end) for a in article.attributions for s in a.cue)
        for m in _WORD.finditer(article.text):
            form = m.group().lower().replace("’", "'")
            seen[form] += 1
            if any(s <= m.start() and m.end() <= e for s, e in cues):
                inside[form] += 1
    return [(form, inside[form], seen[form]) for form in inside]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "storytrace" / "resources" / "quotes" / "cues.tsv")
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--min-p", type=float, default=0.08)
    args = parser.parse_args(argv)
    rows = [(form, n, total) for form, n, total in mine(args.data)
            if n >= args.min_count and n / total >= args.min_p and form not in _FUNCTION]
    rows.sort(key=lambda r: (-r[1], r[0]))
    lines = ["# form\tcue_count\toccurrences\tp  (PolNeAR train; rebuilt by training/quotes/build_cue_lexicon.py)"]
    lines += [f"{form}\t{n}\t{total}\t{n / total:.3f}" for form, n, total in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(rows)} cue forms -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
