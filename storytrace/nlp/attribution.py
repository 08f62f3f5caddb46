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

A lexicon word used as a plain verb ("issued", "showed up", "voters who said") makes a frame that is no
attribution. A *frame filter* decides: a logistic regression over features of the frame (the form, its
P(cue | form), tag, dependency, how the content was found, the kind of subject, modals, negation, ...), trained
on PolNeAR train by ``training/quotes/frames.py`` and shipped as plain JSON weights
(``resources/quotes/frames-v1.json``: feature -> weight, intercept, the candidate threshold ``min_p`` and the
decision threshold chosen by cross-validation on train). With the filter, candidates go down to its lower
``min_p`` and the filter's probability becomes the frame's confidence; without the file, frames are kept on
the lexicon threshold alone (``MIN_P``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any

LEXICON = "cues.tsv"
FILTER = "frames-v1.json"  # trained on the fast pipeline's parse
# The filter trained on each pipeline's parse (features such as the dependency labels come from it); a pipeline
# without one of its own uses FILTER.
FILTERS = {"fast": FILTER, "accurate": "frames-accurate-v1.json"}
MIN_P = 0.4  # P(cue | form) a word needs to be a cue candidate without the frame filter (chosen on a train slice)
COLLECT_MIN_P = 0.1  # candidates while collecting training frames for the filter
MIN_COUNT = 5  # times seen as a cue in train
_EXCLUDE = ("ner", "trainable_lemmatizer", "morphologizer")
_SUBJECTS = frozenset({"nsubj", "nsubj:pass", "csubj"})
_COMPLEMENTS = frozenset({"obj", "iobj", "xcomp", "ccomp"})
_SMALL_CLAUSE_CUES = frozenset("show shows showed showing shown".split())
# Raising verbs: "The decision is widely expected to be unfavorable", "Trump seemed to overstay his welcome".
# PolNeAR's content is the subject and the infinitive clause (two pieces), with no source: nobody is quoted.
_RAISING_CUES = frozenset("expected seem seems seemed appear appears appeared".split())
# Prepositions heading what a cue says of its object: "slammed X as too vague", "accused X of", "praised X for"
_OBJECT_PREDICATES = frozenset({"as", "of", "for", "about", "over", "against"})


@dataclass(frozen=True)
class Frame:
    """One attribution read off a parse; offsets into the article text."""

    cue: tuple[int, int]
    cue_form: str
    content: tuple[int, int]
    source: tuple[int, int] | None
    p: float  # P(cue | form) of the cue word
    inherit: bool = False  # no subject anywhere: the speaker continues the previous attribution
    lead: tuple[int, int] | None = None  # a raised subject, the content's first part ("The decision ... to be")
    features: dict[str, float] = field(default_factory=dict, compare=False, hash=False)
    prob: float | None = None  # the frame filter's P(attribution), when it ran


@dataclass(frozen=True)
class FrameFilter:
    """A binary logistic regression over frame features (see the module docstring)."""

    weights: dict[str, float]
    intercept: float
    threshold: float
    min_p: float
    meta: dict[str, Any]

    def prob(self, features: dict[str, float]) -> float:
        z = self.intercept + sum(self.weights.get(k, 0.0) * v for k, v in features.items())
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0


def frame_filter() -> FrameFilter | None:
    """The shipped frame filter for the pipeline in use (``using``), or None when the package has none (frames
    then pass on ``MIN_P``)."""
    return _filter(FILTERS.get(current_model(), FILTER))


@lru_cache(maxsize=4)
def _filter(name: str) -> FrameFilter | None:
    path = files("storytrace") / "resources" / "quotes" / name
    if not path.is_file():
        path = files("storytrace") / "resources" / "quotes" / FILTER
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return FrameFilter(weights=data["weights"], intercept=float(data["intercept"]),
                       threshold=float(data["threshold"]), min_p=float(data["min_p"]),
                       meta={k: v for k, v in data.items() if k != "weights"})


_COLLECTING: list[bool] = []  # non-empty inside ``collecting()``
_USING: list[str] = []  # the pipeline named by the innermost ``using()``


@contextmanager
def using(model: str) -> Iterator[None]:
    """Parse with the English pipeline ``model`` ("fast", "accurate" or a model folder, as ``nlp.load`` takes
    it) inside this block, and keep frames with the filter trained on that pipeline's parse."""
    _USING.append(model)
    try:
        yield
    finally:
        _USING.pop()


def current_model() -> str:
    """The pipeline the parse layer runs: the innermost ``using()``'s, else "fast"."""
    return _USING[-1] if _USING else "fast"


@contextmanager
def collecting() -> Iterator[None]:
    """Training mode: candidates down to ``COLLECT_MIN_P`` and every frame kept, with its features.

    ``training/quotes/frames.py`` runs the quotation extractor inside this to gather the frames the filter
    learns from (each parse-layer attribution carries its ``Frame`` in ``notes["frame"]``).
    """
    _COLLECTING.append(True)
    try:
        yield
    finally:
        _COLLECTING.pop()


def candidate_min_p() -> float:
    """The P(cue | form) a word needs to be parsed as a cue candidate, as things stand."""
    if _COLLECTING:
        return COLLECT_MIN_P
    model = frame_filter()
    return model.min_p if model is not None else MIN_P


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
    return lexicon().get(word.lower().replace("’", "'"), 0.0) >= (candidate_min_p() if min_p is None else min_p)


def _nlp() -> Any:
    from storytrace.nlp import load

    return load(current_model(), exclude=_EXCLUDE)


# The last whole-text Doc the ``entities`` stage made in this process ((pipeline, text) -> Doc). Its ``doc.tensor``
# is that pipeline's tok2vec output over the whole text, so parsing its sentences need not encode them again.
_SHARED: dict[tuple[str, str], Any] = {}


def share(doc: Any, model: str = "fast") -> None:
    """Offer a Doc of a whole text (with the tok2vec output of the pipeline ``model``) to the next ``parse`` of
    that text's sentences with the same pipeline."""
    _SHARED.clear()
    if doc.tensor is not None and doc.tensor.size:
        _SHARED[(model, doc.text)] = doc


def encode(text: str) -> Any:
    """A Doc of the whole text with the tok2vec rows of the pipeline in use in ``doc.tensor``: the one ``share``
    offered for this text and pipeline, else a new encoding (the same rows: same tokenizer, same weights)."""
    model = current_model()
    whole = _SHARED.get((model, text))
    if whole is None:
        nlp = _nlp()
        whole = next(iter(nlp.get_pipe("tok2vec").pipe([nlp.make_doc(text)])))
        share(whole, model)
    return whole


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
    whole = encode(text)
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


def _raised(verb: Any, subj: Any | None, holder: Any, how: str) -> tuple[int, int] | None:
    """The subject span of a raising frame ("X is expected to ...", "X seemed to ..."), else None.

    Not for an active "expects" (a frame with its subject as source); a raising verb whose infinitive is itself a
    cue ("seemed to indicate") makes no frame at all (``frames``)."""
    if verb.text.lower() not in _RAISING_CUES or how != "xcomp" or subj is None or holder is not verb:
        return None
    if verb.text.lower() == "expected" and not any(c.dep_ == "aux:pass" for c in verb.children):
        return None
    return _edges(_subtree(subj))


def _cue_inside(verb: Any, min_p: float) -> bool:
    """Whether the verb's infinitive complement is itself a cue candidate ("seemed to indicate")."""
    comp = next((c for c in verb.children if c.dep_ == "xcomp"), None)
    return comp is not None and lexicon().get(comp.text.lower(), 0.0) >= min_p


def _raising_cue(verb: Any) -> list[Any]:
    """The raising verb with the auxiliaries, negation and adverbs right before it: "is widely expected",
    "does not seem", "may seem"."""
    run = [verb]
    for tok in reversed(list(verb.doc[max(0, verb.i - 4):verb.i])):
        if tok.head.i != verb.i or tok.dep_ not in {"aux", "aux:pass", "advmod", "neg"}:
            break
        run.insert(0, tok)
    return run


def _noun_holder(verb: Any) -> Any | None:
    """The noun a participle clause hangs on, as the clause's subject: "recent polls *showing* X", "a California
    Democrat *supporting* Clinton", "placards *supporting* Sanders"."""
    head = verb.head
    if verb.dep_ != "acl" or not head.tag_.startswith("NN") or head.i > verb.i:
        return None
    # after a comma the participle is the sentence's ("Carson saw no need to change ..., telling X that ...")
    return None if any(t.text == "," for t in verb.doc[head.i:verb.i]) else head


def _verb_by_structure(tok: Any) -> bool:
    """A word the tagger read as a plural noun but the parser as a clause's verb: a subject and an object of its
    own ("The most recent polling in Florida shows Rubio closing the gap": "shows" tagged NNS)."""
    deps = {c.dep_ for c in tok.children}
    return tok.tag_ == "NNS" and bool(deps & _SUBJECTS) and bool(deps & {"obj", "ccomp"})


def _complement(verb: Any, after: int) -> tuple[tuple[int, int] | None, str]:
    """The verb's complements after the cue: its objects and clausal complements, else its first oblique;
    with the relation of the first one."""
    kids = [c for c in verb.children if c.i > after and c.dep_ in _COMPLEMENTS]
    if not kids:
        kids = [c for c in verb.children if c.i > after and c.dep_ == "obl"][:1]
    if not kids:
        return None, ""
    if kids[0].dep_ == "obj" and verb.text.lower() in _SMALL_CLAUSE_CUES:
        # what a poll shows is its object with what is said of it: "showed Rubio *in third at 11 percent*"
        kids += [c for c in verb.children if c.i > kids[-1].i and c.dep_ in {"obl", "xcomp", "advcl"}]
    elif kids[0].dep_ in {"obj", "iobj"}:
        # what is said of the object: "slammed his proposal as too vague", "accused the FDIC of trying to ..."
        kids += [c for c in verb.children if c.i > kids[-1].i and c.dep_ in {"obl", "advcl"} and any(
            k.dep_ in {"case", "mark"} and k.i == c.left_edge.i and k.text.lower() in _OBJECT_PREDICATES
            for k in c.children)]
    return _edges(list(verb.doc[kids[0].left_edge.i:kids[-1].right_edge.i + 1])), kids[0].dep_


_PRONOUNS = frozenset("i you he she it we they this that who".split())
# Cues whose object is the addressee, not what is said ("told him", "asked her", "called them")
_ADDRESSEE_CUES = frozenset(
    "tell tells told telling ask asks asked asking call calls called calling urge urges urged urging warn warns"
    " warned warning remind reminds reminded reminding inform informs informed informing assure assures assured"
    " assuring thank thanks thanked thanking".split())
_CONTENT_OPENERS = frozenset("to that for about if whether on of with in by".split())


def _bucket(n: int, edges: tuple[int, ...]) -> str:
    return next((f"<={e}" for e in edges if n <= e), f">{edges[-1]}")


def features(verb: Any, cue: list[Any], subj: Any | None, holder: Any, how: str,
             content: tuple[int, int], source: tuple[int, int] | None, p: float) -> dict[str, float]:
    """What the frame filter reads of one frame (offsets relative to ``verb.doc``)."""
    doc = verb.doc
    form = verb.text.lower().replace("’", "'")
    inside = [t for t in doc if content[0] <= t.idx < content[1]]
    n_words = sum(1 for t in inside if t.is_alpha)
    if subj is None:
        subject = "none"
    elif holder is not verb:
        subject = "inherited"
    elif subj.tag_ == "PRP" or subj.text.lower() in _PRONOUNS:
        subject = "pron:" + subj.text.lower()
    else:
        words = _subtree(subj)
        subject = "proper" if any(t.tag_ in {"NNP", "NNPS"} for t in words) else "common"
        if len(words) > 6:
            subject += ":long"
    first = inside[0].text.lower() if inside else ""
    out = {
        "logit_p": math.log(max(p, 1e-3) / max(1 - p, 1e-3)),
        f"form={form}": 1.0,
        f"tag={verb.tag_}": 1.0,
        f"dep={verb.dep_}": 1.0,
        f"how={how}": 1.0,
        f"form|how={form}|{how}": 1.0,
        f"subject={subject}": 1.0,
        f"subject|how={subject.split(':')[0]}|{how}": 1.0,
        f"content_words{_bucket(n_words, (2, 4, 8, 16, 32))}": 1.0,
        f"content_opens={first if first in _CONTENT_OPENERS else 'other'}": 1.0,
        f"cue_words={len(cue)}": 1.0,
    }
    kids = {c.dep_ for c in verb.children}
    for dep in ("neg", "aux:pass", "mark", "advmod", "obj", "iobj", "xcomp"):
        if dep in kids:
            out[f"child={dep}"] = 1.0
    if any(c.dep_ == "aux" and c.tag_ == "MD" for c in verb.children):
        out["modal"] = 1.0
    if any(t.text in {"“", "”", '"'} for t in inside):
        out["quoted_content"] = 1.0
    if source is None:
        out["no_source"] = 1.0
    if verb.i == 0 or all(t.is_punct or t.is_space for t in doc[:verb.i]):
        out["sentence_initial"] = 1.0
    return out


def frames(doc: Any, offset: int, wanted: set[int], *, min_p: float | None = None) -> list[Frame]:
    """Attributions of a parsed sentence whose cue verb is a token index in ``wanted``.

    With the frame filter (and not ``collecting()``), a frame is kept when the filter's probability reaches
    its threshold; ``prob`` carries that probability.
    """
    table = lexicon()
    min_p = candidate_min_p() if min_p is None else min_p
    model = None if _COLLECTING else frame_filter()
    out: list[Frame] = []
    for tok in doc:
        if tok.i not in wanted:
            continue
        form = tok.text.lower().replace("’", "'")
        p = table.get(form, 0.0)
        if p < min_p or not (tok.tag_.startswith("VB") or _verb_by_structure(tok)):
            continue
        cue = _cue_tokens(tok)
        acl_head = None
        subj = _subject(tok) or (acl_head := _noun_holder(tok))
        holder = tok
        while subj is None and holder.dep_ in {"advcl", "xcomp", "conj", "acl"} and holder.head is not holder:
            coordinated = holder.dep_ == "conj"  # "placards supporting Sanders or slamming the DNC"
            holder = holder.head
            subj = _subject(holder) or ((acl_head := _noun_holder(holder)) if coordinated else None)
        content_span: tuple[int, int] | None = None
        how = "before"
        if tok.dep_ in {"parataxis", "ccomp"} and tok.head.i < tok.i and not any(
                c.dep_ == "ccomp" for c in tok.children):
            # "A, X said." : the clause before the cue
            head_span = [t for t in doc[tok.head.left_edge.i:tok.left_edge.i]]
            content_span = _edges(head_span)
        if content_span is None:
            comp = next((c for c in tok.children if c.dep_ == "ccomp"), None)
            if comp is not None:
                content_span, how = _edges(_subtree(comp)), "ccomp"
            else:
                content_span, how = _complement(tok, cue[-1].i)
        if content_span is None:
            continue
        n_words = sum(1 for t in doc if content_span[0] <= t.idx < content_span[1] and t.is_alpha)
        if n_words < (1 if how == "obj" and form not in _ADDRESSEE_CUES else 2):
            continue  # one word is enough for a stance on it ("endorsed Cruz", "opposed it"), not "told him"
        if form in _RAISING_CUES and how == "xcomp" and _cue_inside(tok, min_p):
            continue  # "he seemed to indicate ...": the frame of "indicate" reads it
        source = None
        if subj is not None:
            src = _edges([t for t in doc[subj.left_edge.i:subj.i + 1] if not (t.dep_ == "case" and t.head.i == subj.i)]
                         if subj is acl_head else _subtree(subj))
            if src is not None and not (content_span[0] <= src[0] < content_span[1]):
                source = src
        if source is None and subj is None and holder is tok:
            # no subject: a passive or imperative use; not an attribution we can tell apart
            continue
        feats = features(tok, cue, subj, holder, how, content_span, source, p) if model or _COLLECTING else {}
        prob = model.prob(feats) if model is not None else None
        if prob is not None and model is not None and prob < model.threshold:
            continue
        lead = _raised(tok, subj, holder, how)
        if lead is not None:
            cue, source = _raising_cue(tok), None
        out.append(Frame(
            cue=(offset + cue[0].idx, offset + cue[-1].idx + len(cue[-1].text)),
            cue_form=form,
            content=(offset + content_span[0], offset + content_span[1]),
            source=(offset + source[0], offset + source[1]) if source else None,
            p=p,
            features=feats if _COLLECTING else {},
            prob=prob,
            lead=(offset + lead[0], offset + lead[1]) if lead else None,
        ))
    return out
