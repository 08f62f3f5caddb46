"""Parse-based attribution: read cue, source and content off the dependency parse of a sentence.

The rule layers of ``quotes`` find direct quotes and the common speech frames without a parse. This layer
covers the long tail they miss (non-speech cues such as "called", "accused", "showed", "endorsed"; indirect
contents the rules cannot bound). A word is a *cue candidate* when the mined lexicon
(``resources/quotes/cues.tsv``, built from PolNeAR train by ``training/quotes/build_cue_lexicon.py``) says it
is part of a gold cue at least ``min_p`` of the times it appears. Only sentences holding a candidate the rule
layers did not use are parsed (``nlp.pipe`` with tagger and parser only), so the cost stays bounded.

On the parse (UD labels) of a candidate verb:

- source: its ``nsubj`` subtree as written ("he", "Manuel Cortes, the general secretary"); a participle or
  coordinated verb with no subject of its own ("..., saying ...", "and added ...") takes its head's;
- content: its ``ccomp`` subtree (with "that"); when the verb is a ``parataxis`` of the clause
  ("A, X said.") the clause before it; else the rest of its own subtree after it ("called him a liar");
- cue: the verb with its auxiliaries and particle ("has said", "pointed out").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

LEXICON = "cues.tsv"
MIN_P = 0.4  # P(cue | form) a word needs to be a cue candidate (chosen on a train slice)
MIN_COUNT = 5  # times seen as a cue in train
_EXCLUDE = ("ner", "trainable_lemmatizer", "morphologizer")
_SUBJECTS = frozenset({"nsubj", "nsubj:pass", "csubj"})
_COMPLEMENTS = frozenset({"obj", "iobj", "xcomp", "ccomp"})


@dataclass(frozen=True)
class Frame:
    """One attribution read off a parse; offsets into the article text."""

    cue: tuple[int, int]
    cue_form: str
    content: tuple[int, int]
    source: tuple[int, int] | None
    p: float  # P(cue | form) of the cue word
    inherit: bool = False  # no subject anywhere: the speaker continues the previous attribution


@lru_cache(maxsize=1)
def lexicon() -> dict[str, float]:
    """Cue word form -> P(cue | form) from the shipped lexicon (forms with enough evidence only)."""
    path = files("storytrace") / "resources" / "quotes" / LEXICON
    out: dict[str, float] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        form, count, _, p = line.split("\t")
        if int(count) >= MIN_COUNT:
            out[form] = float(p)
    return out


def is_candidate(word: str, *, min_p: float | None = None) -> bool:
    """Whether a word form is a likely cue word."""
    return lexicon().get(word.lower().replace("’", "'"), 0.0) >= (MIN_P if min_p is None else min_p)


def _nlp() -> Any:
    from storytrace.nlp import load

    return load(exclude=_EXCLUDE)


# The last whole-text Doc the ``entities`` stage made in this process (text -> Doc). Its ``doc.tensor`` is the
# shared tok2vec's output over the whole text, so parsing its sentences need not tokenise and encode them again.
_SHARED: dict[str, Any] = {}


def share(doc: Any) -> None:
    """Offer a Doc of a whole text (with its tok2vec output) to the next ``parse`` of that text's sentences."""
    _SHARED.clear()
    if doc.tensor is not None and doc.tensor.size:
        _SHARED[doc.text] = doc


def parse(text: str, spans: list[tuple[int, int]]) -> list[Any]:
    """Parse the sentences ``text[s:e]`` with the shipped pipeline (tagger + parser only).

    The sentences are cut out of one encoding of the whole text (tokens and tok2vec rows, as ``Span.as_doc``
    copies them), so the encoder runs once per article and each sentence's edge words see their neighbours.
    That encoding is the ``entities`` stage's when ``share`` was just given a Doc of this text (same tokenizer,
    same tok2vec weights, so the same rows), else it is made here: the parse, and so the quotations, do not
    depend on whether ``entities`` ran in this process first. Offsets in the returned Docs are relative to
    their sentence.
    """
    if not spans:
        return []
    nlp = _nlp()
    tok2vec = nlp.get_pipe("tok2vec")
    whole = _SHARED.get(text)
    if whole is None or whole.tensor.shape[1] != tok2vec.model.get_dim("nO"):
        whole = next(iter(tok2vec.pipe([nlp.make_doc(text)])))
    docs = []
    for s, e in spans:
        span = whole.char_span(s, e, alignment_mode="expand")
        if span is None or span.start_char != s or span.end_char != e:  # a sentence edge inside a token
            docs.append(next(iter(tok2vec.pipe([nlp.make_doc(text[s:e])]))))
            continue
        doc = span.as_doc()
        doc.ents = []
        for tok in doc[1:]:
            tok.is_sent_start = None  # no sentence marks before the parse, as for a freshly made Doc
        docs.append(doc)
    for name, proc in nlp.pipeline:
        if name != "tok2vec":
            docs = list(proc.pipe(docs, batch_size=64)) if hasattr(proc, "pipe") else [proc(d) for d in docs]
    return docs


def _edges(tokens: list[Any]) -> tuple[int, int] | None:
    """Character range of tokens with leading/trailing punctuation dropped; None when nothing is left."""
    words = [t for t in tokens if not t.is_space]
    while words and words[0].is_punct and words[0].text not in {"“", '"'}:
        words.pop(0)
    while words and words[-1].is_punct and words[-1].text not in {"”", '"', ".", "!", "?"}:
        words.pop()
    if not words:
        return None
    return words[0].idx, words[-1].idx + len(words[-1].text)


def _subtree(tok: Any) -> list[Any]:
    return list(tok.doc[tok.left_edge.i:tok.right_edge.i + 1])


def _subject(verb: Any) -> Any | None:
    for child in verb.children:
        if child.dep_ in _SUBJECTS:
            return child
    return None


def _cue_tokens(verb: Any) -> list[Any]:
    """The verb with auxiliaries right before it and a particle after it ("has said", "pointed out")."""
    toks = [verb]
    for child in verb.children:
        if child.dep_ in {"aux", "aux:pass"} and child.i < verb.i and child.i >= verb.i - 2:
            toks.append(child)
        if child.dep_ == "compound:prt" and child.i == verb.i + 1:
            toks.append(child)
    toks.sort(key=lambda t: t.i)
    # keep a contiguous run around the verb
    run = [verb]
    for t in reversed([t for t in toks if t.i < verb.i]):
        if t.i == run[0].i - 1:
            run.insert(0, t)
    for t in [t for t in toks if t.i > verb.i]:
        if t.i == run[-1].i + 1:
            run.append(t)
    return run


def _complement(verb: Any, after: int) -> tuple[int, int] | None:
    """The verb's complements after the cue: its objects and clausal complements, else its first oblique."""
    kids = [c for c in verb.children if c.i > after and c.dep_ in _COMPLEMENTS]
    if not kids:
        kids = [c for c in verb.children if c.i > after and c.dep_ == "obl"][:1]
    if not kids:
        return None
    return _edges(list(verb.doc[kids[0].left_edge.i:kids[-1].right_edge.i + 1]))


def frames(doc: Any, offset: int, wanted: set[int], *, min_p: float | None = None) -> list[Frame]:
    """Attributions of a parsed sentence whose cue verb is a token index in ``wanted``."""
    table = lexicon()
    min_p = MIN_P if min_p is None else min_p
    out: list[Frame] = []
    for tok in doc:
        if tok.i not in wanted:
            continue
        form = tok.text.lower().replace("’", "'")
        p = table.get(form, 0.0)
        if p < min_p or not tok.tag_.startswith("VB"):
            continue
        cue = _cue_tokens(tok)
        subj = _subject(tok)
        holder = tok
        while subj is None and holder.dep_ in {"advcl", "xcomp", "conj", "acl"} and holder.head is not holder:
            holder = holder.head
            subj = _subject(holder)
        content_span: tuple[int, int] | None = None
        if tok.dep_ in {"parataxis", "ccomp"} and tok.head.i < tok.i and not any(
                c.dep_ == "ccomp" for c in tok.children):
            # "A, X said." : the clause before the cue
            head_span = [t for t in doc[tok.head.left_edge.i:tok.left_edge.i]]
            content_span = _edges(head_span)
        if content_span is None:
            comp = next((c for c in tok.children if c.dep_ == "ccomp"), None)
            if comp is not None:
                content_span = _edges(_subtree(comp))
            else:
                content_span = _complement(tok, cue[-1].i)
        if content_span is None:
            continue
        n_words = sum(1 for t in doc if content_span[0] <= t.idx < content_span[1] and t.is_alpha)
        if n_words < 2:
            continue
        source = None
        if subj is not None:
            src = _edges(_subtree(subj))
            if src is not None and not (content_span[0] <= src[0] < content_span[1]):
                source = src
        if source is None and subj is None and holder is tok:
            # no subject: a passive or imperative use; not an attribution we can tell apart
            continue
        out.append(Frame(
            cue=(offset + cue[0].idx, offset + cue[-1].idx + len(cue[-1].text)),
            cue_form=form,
            content=(offset + content_span[0], offset + content_span[1]),
            source=(offset + source[0], offset + source[1]) if source else None,
            p=p,
        ))
    return out
