"""Convert UD English-EWT, GUM and UniversalNER-EWT into spaCy training corpora.

The readers and the entity mapping live in ``storytrace.bench.ud`` (the benchmark reads the same data
the same way); this module turns their documents into gold spaCy ``Doc`` objects and ``.spacy`` files.
GUM genres under a non-commercial licence never reach the training or dev corpora.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from storytrace.bench.ud import (  # noqa: F401  (re-exported for train.py)
    GUM_NC_GENRES,
    LABELS,
    Document,
    Sentence,
    read_ewt,
    read_gum,
    source_files,
)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --- spaCy docs -----------------------------------------------------------------------------------


def chunks(doc: Document, size: int) -> Iterator[list[Sentence]]:
    """Group a document's sentences into runs of about ``size`` sentences (0 = whole document)."""
    if size <= 0:
        yield doc.sentences
        return
    for i in range(0, len(doc.sentences), size):
        yield doc.sentences[i : i + size]


def to_spacy_doc(vocab, sentences: list[Sentence], *, with_ents: bool = True):  # type: ignore[no-untyped-def]
    """Build one gold spaCy Doc from consecutive sentences."""
    from spacy.tokens import Doc

    words, spaces, tags, pos, morphs, lemmas, heads, deps, sent_starts, ents = ([] for _ in range(10))
    for sent in sentences:
        offset = len(words)
        for j, w in enumerate(sent.words):
            words.append(w.form)
            spaces.append(w.space)
            tags.append(w.xpos)
            pos.append(w.upos)
            morphs.append(w.feats)
            lemmas.append(w.lemma)
            heads.append(offset + (w.head - 1 if w.head else j))
            deps.append(w.deprel)
            sent_starts.append(j == 0)
        spaces[-1] = True
        ents.extend(sent.ents if sent.ents is not None else [""] * len(sent.words))
    if spaces:
        spaces[-1] = False
    return Doc(
        vocab,
        words=words,
        spaces=spaces,
        tags=tags,
        pos=pos,
        morphs=morphs,
        lemmas=lemmas,
        heads=heads,
        deps=deps,
        ents=ents if with_ents else None,
    )


def write_corpus(docs: Iterable[list[Sentence]], path: Path) -> int:
    """Write gold docs to a .spacy file; return the number of words."""
    import spacy
    from spacy.tokens import DocBin

    vocab = spacy.blank("en").vocab
    db = DocBin(store_user_data=False)
    n = 0
    for sentences in docs:
        d = to_spacy_doc(vocab, sentences)
        n += len(d)
        db.add(d)
    path.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(path)
    return n
