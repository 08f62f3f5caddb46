"""(holder, target) candidates on PolNeAR *train* articles, from the corpus's own attribution layer.

Each PolNeAR attribution (Source, Cue, Content) becomes a quotation record as the `quotes` stage writes them; its
speaker is the first full personal name inside the Source span ("Clinton campaign spokesman Brian Fallon"),
else its first named actor, or for a bare
"he"/"she" the last person named before it; then ``storytrace.analyze.stance_model.candidates`` pairs the
speaker with the people and organisations the content names, exactly as the stance stage does at run time.

Usage (prints a sample to label, one block per candidate):
    python training/stance/candidates.py --data ../shared/data --sample 420 > /tmp/candidates.txt

``--exclude-labelled FILE`` (repeatable) skips every article named in the ``article`` column (the second) of a
label file such as ``storytrace/resources/benchmarks/stance_labels_train.tsv``, so a new batch comes from articles
with no labels yet. The shuffle is unchanged (articles are dropped after it), so without the option the output is
exactly as before:
    python training/stance/candidates.py --data ../shared/data --sample 750 --seed 7 \
        --exclude-labelled storytrace/resources/benchmarks/stance_labels_train.tsv > /tmp/candidates.txt
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from storytrace.analyze import stance, stance_model

_ENTRY = re.compile(r"^([TE]\d+)\t(.*)$")
_PRONOUN = re.compile(r"^(?:he|she)$", re.I)


def attributions(ann: Path) -> list[dict[str, tuple[int, int]]]:
    """The E relations of one .ann file as {role: (start, end)} (first fragment of each span)."""
    spans: dict[str, tuple[str, int, int]] = {}
    rels = []
    for line in ann.read_text(encoding="utf-8").splitlines():
        m = _ENTRY.match(line)
        if not m:
            continue
        ident, rest = m.groups()
        if ident.startswith("T"):
            head = rest.split("\t")[0]
            label, _, offsets = head.partition(" ")
            bounds = [tuple(int(x) for x in part.split()) for part in offsets.split(";")]
            spans[ident] = (label, bounds[0][0], bounds[-1][1])
        else:
            rels.append(dict(part.split(":") for part in rest.split()))
    out = []
    for rel in rels:
        entry = {}
        for role, ref in rel.items():
            role = re.sub(r"\d+$", "", role)
            if ref in spans and role in ("Source", "Cue", "Content"):
                entry[role] = spans[ref][1:]
        if "Content" in entry and "Source" in entry:
            out.append(entry)
    return out


def article_candidates(text: str, ann: Path) -> Iterator[tuple[dict[str, Any], stance_model.Candidate]]:
    """Candidates of one article with the attribution they came from."""
    names = stance._Names(text, [])  # clean text == raw text for PolNeAR's plain-text files
    mentions = [(m.start, m.end, m.name, m.kind) for m in names.mentions if not m.pronoun]
    kinds = {m[2]: m[3] for m in mentions}
    for att in attributions(ann):
        s0, s1 = att["Source"]
        inside = [m for m in mentions if s0 <= m[0] and m[1] <= s1]
        if inside:  # a full personal name first ("Clinton campaign spokesman Brian Fallon"), else the first actor
            speaker = next((m[2] for m in inside if m[3] == "person" and " " in m[2]), inside[0][2])
        elif _PRONOUN.match(text[s0:s1].strip()):
            before = [m for m in mentions if m[3] == "person" and s0 - 400 <= m[0] < s0]
            if not before:
                continue
            speaker = before[-1][2]
        else:
            continue
        c0, c1 = att["Content"]
        k0, k1 = att.get("Cue", (-1, -1))
        quote = {"speaker": speaker, "content_start": c0, "content_end": c1, "cue": text[k0:k1] if k0 >= 0 else "",
                 "cue_start": k0, "cue_end": k1, "kind": stance_model.quote_kind(text[c0:c1]), "source_start": s0,
                 "source_end": s1}
        for cand in stance_model.candidates(text, mentions, names.focal, [quote], kinds=kinds):
            yield quote, cand


def first_annotations(data: Path) -> list[tuple[Path, Path]]:
    """(text, .ann) per train article: the first annotation file in sort order."""
    root = data / "polnear" / "train"
    chosen: dict[str, Path] = {}
    for ann in sorted((root / "attributions").glob("*.ann")):
        chosen.setdefault(ann.stem.rsplit("_", 1)[0], ann)
    return [(root / "text" / f"{name}.txt", ann) for name, ann in sorted(chosen.items())]


def labelled_articles(path: Path) -> set[str]:
    """The article file names (second column) of a tab-separated label file; ``#`` lines are comments."""
    out = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.add(line.split("\t")[1])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--sample", type=int, default=420)
    parser.add_argument("--per-article", type=int, default=3)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--exclude-labelled", type=Path, action="append", default=[], metavar="FILE",
                        help="skip articles named in the article column of this label file (repeatable)")
    args = parser.parse_args()
    pairs = first_annotations(args.data)
    random.Random(args.seed).shuffle(pairs)
    if args.exclude_labelled:
        skip = set().union(*(labelled_articles(path) for path in args.exclude_labelled))
        pairs = [(text_path, ann) for text_path, ann in pairs if text_path.name not in skip]
    n = 0
    for text_path, ann in pairs:
        text = text_path.read_text(encoding="utf-8")
        found = list(article_candidates(text, ann))
        random.Random(f"{args.seed}:{text_path.name}").shuffle(found)
        for quote, c in found[:args.per_article]:
            n += 1
            ctx = text[max(0, quote["source_start"] - 160):quote["source_start"]].replace("\n", " ")
            print(f"### {n}\t{text_path.name}\t{ann.name}\t{c.holder}\t{c.target}\t{quote['source_start']}\t"
                  f"{quote['source_end']}\t{c.cue_start}\t{c.cue_end}\t{c.content_start}\t{c.content_end}\t"
                  f"{c.target_start}\t{c.target_end}")
            print(f"  ctx: ...{ctx}")
            print(f"  [{text[quote['source_start']:quote['source_end']]}] <{c.cue}> "
                  f"{text[c.content_start:c.content_end]}".replace("\n", " "))
            if n >= args.sample:
                return


if __name__ == "__main__":
    main()
