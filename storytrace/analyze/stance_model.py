"""The learned part of the stance stage: (holder, target) candidates from attributions, and a polarity classifier.

A *candidate* is one attribution (a quotation or reported speech: source, cue, content) whose speaker is a named
actor, paired with a person or organisation its content names (not the speaker), or, when the content names nobody
but speaks of "he"/"she"/"him"/"her", with the article's focal person. The classifier reads features of the
holder, the target mention and the attribution (cue words, the words near the target, evaluative words, negation,
the words between cue and target) and says support, oppose, neutral or "none" (no stance toward that target).

The model is a multinomial logistic regression trained by ``training/stance/train.py`` on
``resources/benchmarks/stance_labels_train.tsv`` (PolNeAR train articles, labelled by reading them). It ships as
plain JSON weights (``resources/stance/polarity-v2.json``: feature -> per-class weight, intercepts, the
training data's sha256 and its scores), so loading it needs no pickle and no scikit-learn; the probabilities are
the same softmax scikit-learn computes (tested).

Optional: ``resources/stance/polarity-v3-embed.json`` (``load(embeddings=True)``, built by
``training/stance/train_embed.py``) adds one input, the all-MiniLM-L6-v2 vector of ``relation_text`` (the
``embeddings`` extra, the model the stories stage uses): grouped-CV macro F1 0.557 against v2's 0.520 (nested CV
0.556 against 0.515; ``training/stance/embed_experiment.py``). Without the extra nothing here imports torch, and
``load()`` is v2, unchanged.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from storytrace.errors import ModelError

MODEL_FILE = "polarity-v2.json"
EMBED_MODEL_FILE = "polarity-v3-embed.json"  # optional: needs the `embeddings` extra at run time
NONE = "none"

_WORD = re.compile(r"[a-z][a-z’'-]*|[0-9]+|[“”\"!?]", re.I)
_NEGATORS = {"not", "no", "never", "n't", "n’t", "nothing", "nobody", "neither", "nor", "without", "hardly"}
_THIRD = re.compile(r"\b(?:he|she|him|her|his|hers|himself|herself)\b", re.I)
# crude English suffix folding, so "attacked"/"attacks"/"attacking" share a feature: a stemmer from a library
# (nltk, spaCy lookups) would be a new runtime dependency for three suffixes
_SUFFIX = re.compile(r"(?:ing|ed|es|s)$")


def _stem(word: str) -> str:
    word = word.casefold().replace("’", "'")
    if word.endswith("n't"):
        return "n't"
    return _SUFFIX.sub("", word) if len(word) > 4 else word


def quote_kind(content: str) -> str:
    """direct (the content is one quotation), partial (it holds quoted words) or indirect (none)."""
    s = content.strip()
    if s[:1] in "“\"" and s.rstrip(".,")[-1:] in "”\"":
        return "direct"
    return "partial" if re.search(r"[“”\"]", s) else "indirect"


@dataclass(frozen=True)
class Candidate:
    """One (holder, target) pair inside one attribution; offsets are into the text the features are read from."""

    holder: str
    holder_kind: str
    target: str
    target_kind: str
    target_start: int  # -1 when the target is the focal person spoken of by a pronoun
    target_end: int
    content_start: int
    content_end: int
    cue: str
    cue_start: int
    cue_end: int
    quote_kind: str  # direct | partial | indirect | author | ...


def features(text: str, c: Candidate, *, others: Sequence[tuple[int, int]] = ()) -> dict[str, float]:
    """Features of one candidate: cue words, the words just before and after the target (other names masked),
    evaluative words from the rules' lexicon, VADER sentiment, negation, the quotation's kind."""
    from storytrace.analyze.stance import _NEGATIVE, _POSITIVE  # the rules' evaluative lexicon

    f: dict[str, float] = {"bias": 1.0, f"kind={c.quote_kind}": 1.0, f"target_kind={c.target_kind}": 1.0}
    for w in _WORD.findall(c.cue):
        f[f"cue={_stem(w)}"] = 1.0
    content = text[c.content_start:c.content_end]
    # mask the target (T) and other names (P) so the weights learn roles, not people
    spans = sorted([(c.target_start, c.target_end, " TARGET ")] * (c.target_start >= 0)
                   + [(a, b, " PERSON ") for a, b in others if not (a < c.target_end and c.target_start < b)])
    masked, at = [], c.content_start
    for a, b, token in spans:
        if c.content_start <= a and b <= c.content_end and a >= at:
            masked.append(text[at:a])
            masked.append(token)
            at = b
    masked.append(text[at:c.content_end])
    words = [w if w in ("TARGET", "PERSON") else _stem(w) for w in _WORD.findall("".join(masked))]
    if c.target_start < 0:
        f["target=pronoun"] = 1.0
    # no bag of words of the whole content: on a few hundred labels it learns the topics of the training articles
    # (cross-validated: macro F1 0.52 with it, 0.51 without; support/oppose told apart on the true stances 0.71 with
    # it, 0.75 without)
    negated = any(w in _NEGATORS for w in words)
    if "TARGET" in words:
        at_t = words.index("TARGET")
        f["target_first"] = float(at_t == 0 or all(x in ("the", "that", "mr.", "mrs.") for x in words[:at_t]))
        for w in words[max(0, at_t - 4):at_t]:
            f[f"before={w}"] = 1.0
        for w in words[at_t + 1:at_t + 6]:
            f[f"after={w}"] = 1.0
    f["negated"] = float(negated)
    neg = len(re.findall(rf"\b(?:{_NEGATIVE})\b", content, re.I))
    pos = len(re.findall(rf"\b(?:{_POSITIVE})\b", content, re.I))
    if neg:
        f["lex_negative"] = float(neg)
    if pos:
        f["lex_positive"] = float(pos)
    f["long"] = min(len(words), 80) / 80
    f["third_person"] = float(bool(_THIRD.search(content)))
    # general-English sentiment (VADER's lexicon and rules: negation, boosters, "but"): of the whole content, of
    # the words around the target, and of the cue ("blasted", "praised")
    vader = _vader()
    near = text[max(c.content_start, c.target_start - 90):min(c.content_end, c.target_end + 120)] \
        if c.target_start >= 0 else content
    for key, part in (("content", content), ("near", near), ("cue", c.cue)):
        score = vader.polarity_scores(part) if part.strip() else {"compound": 0.0, "pos": 0.0, "neg": 0.0}
        f[f"vader_{key}"] = score["compound"]
        f[f"vader_{key}_pos"] = score["pos"]
        f[f"vader_{key}_neg"] = score["neg"]
    return f


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def candidate_features(text: str, c: Candidate, mentions: Sequence[tuple[int, int, str, str]]) -> dict[str, float]:
    """``features`` with the other actors the content names (``mentions``: start, end, name, kind) masked."""
    others = [(a, b) for a, b, _name, _kind in mentions
              if c.content_start <= a and b <= c.content_end and (a, b) != (c.target_start, c.target_end)]
    return features(text, c, others=others)


def relation_text(text: str, c: Candidate, mentions: Sequence[tuple[int, int, str, str]]) -> str:
    """What the optional sentence encoder reads for one candidate: "[HOLDER] <cue> <content>" with the target mention
    as [TARGET], the holder's own mentions as [HOLDER] and the other actors the content names (``mentions``: start,
    end, name, kind) as [PERSON], so the vector speaks of the relation, not of the people."""
    marks = [(c.target_start, c.target_end, "[TARGET]")] if c.target_start >= 0 else []
    marks += [(a, b, "[HOLDER]" if name == c.holder else "[PERSON]") for a, b, name, _kind in mentions
              if c.content_start <= a and b <= c.content_end and not (a < c.target_end and c.target_start < b)]
    parts, at = [], c.content_start
    for a, b, token in sorted(marks):
        if a >= at:
            parts += [text[at:a], token]
            at = b
    parts.append(text[at:c.content_end])
    return " ".join(f"[HOLDER] {c.cue} {''.join(parts)}".split())


class PolarityModel:
    """The shipped logistic-regression weights: ``predict(features) -> {class: probability}``."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.classes: list[str] = list(spec["classes"])
        self.intercept: list[float] = [float(x) for x in spec["intercept"]]
        self.weights: dict[str, list[float]] = {k: [float(x) for x in v] for k, v in spec["weights"].items()}
        self.version: str = str(spec.get("version", "?"))
        # a stance when P(none) is below this (then the likelier of support and oppose), else no stance
        self.none_below: float = float(spec.get("decision", {}).get("none_below", 0.5))
        # one [weight per class] row per dimension of relation_text's unit vector (None: hand features only)
        embedding = spec.get("embedding")
        self.embedding: list[list[float]] | None = (
            [[float(x) for x in row] for row in embedding["weights"]] if embedding else None)

    @property
    def uses_embeddings(self) -> bool:
        """Whether ``predict`` needs the candidate's sentence vector (``embed_candidates``)."""
        return self.embedding is not None

    def predict(self, feats: dict[str, float], vector: Sequence[float] | None = None) -> dict[str, float]:
        """{class: probability} from the hand features and, for a model with embedding weights, the candidate's
        vector (a model without them ignores it)."""
        scores = list(self.intercept)
        for name, value in feats.items():
            row = self.weights.get(name)
            if row is not None:
                for k, w in enumerate(row):
                    scores[k] += w * value
        if self.embedding is not None:
            if vector is None or len(vector) != len(self.embedding):
                raise ModelError(f"the stance classifier polarity-v{self.version} needs the candidate's "
                                 f"{len(self.embedding)}-dimension sentence vector (stance_model.embed_candidates)")
            for value, row in zip(vector, self.embedding, strict=True):
                for k, w in enumerate(row):
                    scores[k] += w * float(value)
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {cls: e / total for cls, e in zip(self.classes, exps, strict=True)}


    def decide(self, probs: dict[str, float]) -> tuple[str, float] | None:
        """(polarity, its probability) or None (no stance toward the target)."""
        if probs.get(NONE, 0.0) >= self.none_below:
            return None
        polarity = max(("support", "oppose"), key=lambda k: probs.get(k, 0.0))
        return polarity, probs.get(polarity, 0.0)


def load(*, embeddings: bool = False) -> PolarityModel:
    """The classifier shipped in the package: ``resources/stance/polarity-v2.json``, or with ``embeddings`` the
    optional ``polarity-v3-embed.json`` (its ``predict`` needs ``embed_candidates``' vectors: check
    ``embeddings_unavailable()`` first). Read once per process."""
    return _load(EMBED_MODEL_FILE if embeddings else MODEL_FILE)


@lru_cache(maxsize=2)
def _load(name: str) -> PolarityModel:
    recipe = "train_embed.py" if name == EMBED_MODEL_FILE else "train.py"
    path = resources.files("storytrace.resources") / "stance" / name
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"the stance classifier {name} could not be read ({exc}); reinstall storytrace or "
                         f"rebuild it with `python training/stance/{recipe}`") from exc
    return PolarityModel(spec)


def embeddings_unavailable() -> str | None:
    """Why candidate vectors cannot be computed here (the ``embeddings`` extra is missing), or None."""
    from storytrace.resolve import stories  # the one owner of the sentence-embedding model

    return stories.embeddings_unavailable()


def embed_candidates(text: str, cands: Sequence[Candidate],
                     mentions: Sequence[tuple[int, int, str, str]]) -> list[list[float]]:
    """The unit vector of each candidate's ``relation_text`` (one batch; needs the ``embeddings`` extra)."""
    if not cands:
        return []
    if why := embeddings_unavailable():
        raise ModelError(f"stance embeddings: {why}")
    from storytrace.resolve import stories

    vectors = stories.embed_texts([relation_text(text, c, mentions) for c in cands])
    return [[float(x) for x in row] for row in vectors]


def candidates(raw: str, mentions: Sequence[tuple[int, int, str, str]], focal: str | None,
               quotes: Sequence[dict[str, Any]], *, kinds: dict[str, str] | None = None) -> list[Candidate]:
    """(holder, target) candidates: each attributed quotation's speaker paired with every other person or
    organisation its content names (``mentions``: raw start, end, canonical name, kind), or, when it names nobody
    and speaks of a third person, with the article's focal person."""
    out: list[Candidate] = []
    for q in quotes:
        speaker = q.get("speaker")
        if not speaker or q.get("anonymous"):
            continue
        spans = q.get("content_spans") or [[q["content_start"], q["content_end"]]]
        cue_start, cue_end = q.get("cue_start"), q.get("cue_end")
        if not isinstance(cue_start, int) or not isinstance(cue_end, int):
            cue_start = cue_end = -1  # a quotation with no cue
        seen: set[str] = set()
        for start, end in spans:
            named = [m for m in mentions if start <= m[0] and m[1] <= end and m[2] != speaker]
            for m_start, m_end, name, kind in named:
                if name in seen:
                    continue
                seen.add(name)
                out.append(Candidate(speaker, (kinds or {}).get(speaker, "person"), name, kind, m_start, m_end,
                                     start, end, q.get("cue") or "", cue_start, cue_end, q.get("kind") or "indirect"))
            if not named and not seen and focal and focal != speaker and _THIRD.search(raw[start:end]):
                seen.add(focal)
                out.append(Candidate(speaker, (kinds or {}).get(speaker, "person"), focal, "person", -1, -1, start,
                                     end, q.get("cue") or "", cue_start, cue_end, q.get("kind") or "indirect"))
    return out
