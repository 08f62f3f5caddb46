"""The quotation span tagger: CONTENT, CUE and SOURCE spans read off the backbone's encoding by a trained head.

The head is a spaCy ``ner`` component (a transition-based span tagger) trained by ``training/quotes/tagger.py``
on PolNeAR train over the shipped backbone's tok2vec, which stayed frozen while it learned. So it ships alone
(``resources/quotes/tagger-v1``: its config, labels and weights, no encoder of its own) and reads the rows the
``entities`` stage or the parse layer already made for the same text (``attribution.encode``): the tagger costs
its head only. It is tied to the backbone it was trained on: its ``meta.json`` names the backbone's version, and a
different backbone makes ``head()`` raise ``ModelError`` (retrain it with ``training/quotes/tagger.py``).

The head tags paragraph by paragraph, as it was trained. ``spans`` returns character spans into the text; how
they become attributions, and how they join the rule layers, is ``quotes``'s business.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from storytrace.errors import ModelError

NAME = "tagger-v1"
LABELS = ("CONTENT", "CUE", "SOURCE")
# Another head to use instead of the shipped one (training/quotes/tagger.py scores its checkpoints this way).
OVERRIDE: Path | None = None


def path() -> Path:
    return OVERRIDE or Path(str(files("storytrace") / "resources" / "quotes" / NAME))


def meta(where: Path | None = None) -> dict[str, Any] | None:
    """The shipped head's meta.json, or None when no head is shipped."""
    file = (where or path()) / "meta.json"
    if not file.is_file():
        return None
    data: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return data


def head(where: str | None = None) -> Any | None:
    """The trained head (a spaCy ``ner`` pipe) in ``where`` (default: the shipped one), None when there is
    none; ``ModelError`` when it was trained on another backbone than the shipped one."""
    from storytrace.nlp.pipeline import model_meta

    folder = Path(where) if where else path()
    info = meta(folder)
    if info is None:
        return None
    backbone = model_meta()
    trained_on = info.get("storytrace_backbone", {})
    if (trained_on.get("name"), trained_on.get("version")) != (backbone.get("name"), backbone.get("version")):
        raise ModelError(
            f"the quotation tagger in {folder} was trained on backbone {trained_on.get('name')} "
            f"{trained_on.get('version')}, but {backbone.get('name')} {backbone.get('version')} is shipped: retrain "
            "it with `python training/quotes/tagger.py all`")
    return _load(str(folder))


@lru_cache(maxsize=2)
def _load(folder: str) -> Any:
    """Load a head once per process (without the encoder it was trained over: it reads the backbone's rows)."""
    import spacy

    try:
        nlp = spacy.load(folder, exclude=["tok2vec"])
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"the quotation tagger in {folder} could not be loaded: {exc}") from exc
    return nlp.get_pipe("ner")


def spans(text: str, paragraphs: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """Tagged (start, end, label) character spans of ``text``, paragraph by paragraph, in text order."""
    tagger = head(str(path()))
    if tagger is None or not paragraphs:
        return []
    from storytrace.nlp import attribution

    whole = attribution.encode(text)
    for label in LABELS:
        whole.vocab.strings.add(label)
    docs, starts = [], []
    for start, end in paragraphs:
        span = whole.char_span(start, end, alignment_mode="expand")
        if span is None or not len(span):
            continue
        doc = span.as_doc()  # copies the tok2vec rows
        doc.set_ents([], default="missing")  # no constraints from the entities the backbone found
        docs.append(doc)
        starts.append(span.start_char)
    out: list[tuple[int, int, str]] = []
    for base, doc in zip(starts, tagger.pipe(docs, batch_size=64), strict=True):
        out += [(base + ent.start_char, base + ent.end_char, ent.label_) for ent in doc.ents]
    return out
