"""Convert PolNeAR attributions into spaCy training docs for the quotation span tagger.

    python training/quotes/convert.py [--data ../shared/data] [--out training/corpus/quotes]

One ``Doc`` per paragraph (a run of non-blank lines), tokenised by ``spacy.blank("en")``, with the roles
of every attribution as entity spans labelled CONTENT, CUE and SOURCE (a discontinuous content gives one
CONTENT span per fragment). One annotation per article (the first ``.ann`` in sort order, as the
benchmark scores). Writes ``train.spacy`` (PolNeAR train without its tune part), ``tune.spacy`` (every
sixth train article in name order: ``TUNE``, kept back to choose checkpoints and how the tagger's spans
join the rule layers) and ``dev.spacy``; the data never enters the repository.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import spacy
from spacy.tokens import DocBin
from spacy.util import filter_spans

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from storytrace.bench.attributions import load_split  # noqa: E402

TUNE = (0, 6)  # load_split(fold=TUNE): the part of train the tagger does not learn from
_PARAGRAPH = re.compile(r"[^\n]+(?:\n[^\n]+)*")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Paragraph spans: runs of non-empty lines (PolNeAR separates paragraphs by blank lines)."""
    return [m.span() for m in _PARAGRAPH.finditer(text) if m.group().strip()]


def convert(data: Path, split: str, out: Path, *, name: str | None = None,
            fold: tuple[int, int] | None = None, rest: bool = False) -> dict[str, int]:
    nlp = spacy.blank("en")
    bin_ = DocBin(store_user_data=False)
    counts = {"articles": 0, "docs": 0, "CONTENT": 0, "CUE": 0, "SOURCE": 0, "dropped": 0}
    for article in load_split(data, split, fold=fold, rest=rest):
        counts["articles"] += 1
        pieces: list[tuple[int, int, str]] = []
        for att in article.attributions:
            pieces += [(s.start, s.end, "CONTENT") for s in att.content]
            pieces += [(s.start, s.end, "CUE") for s in att.cue]
            pieces += [(s.start, s.end, "SOURCE") for s in att.source or ()]
        for p_start, p_end in paragraphs(article.text):
            doc = nlp.make_doc(article.text[p_start:p_end])
            spans = []
            for start, end, label in pieces:
                s, e = max(start, p_start), min(end, p_end)
                if s >= e or not article.text[s:e].strip():
                    continue
                span = doc.char_span(s - p_start, e - p_start, label=label, alignment_mode="expand")
                if span is None:
                    counts["dropped"] += 1
                    continue
                spans.append(span)
            kept = filter_spans(spans)
            counts["dropped"] += len(spans) - len(kept)
            for span in kept:
                counts[span.label_] += 1
            doc.ents = kept
            bin_.add(doc)
            counts["docs"] += 1
    out.mkdir(parents=True, exist_ok=True)
    bin_.to_disk(out / f"{name or split}.spacy")
    return counts


def convert_all(data: Path, out: Path) -> None:
    """The tagger's three corpora: train without its tune part, the tune part, dev."""
    print("train", convert(data, "train", out, fold=TUNE, rest=True), flush=True)
    print("tune", convert(data, "train", out, name="tune", fold=TUNE), flush=True)
    print("dev", convert(data, "dev", out), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "training" / "corpus" / "quotes")
    args = parser.parse_args()
    convert_all(args.data, args.out)


if __name__ == "__main__":
    main()
