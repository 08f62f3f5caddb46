"""Score predicted quotations against PolNeAR gold: span P/R/F1 per role, matching mode and subset.

Everything here is a pure function of an article's text, its gold attributions and the predicted
``Quote`` records; offsets are character offsets into the article text (the spans' own ``text`` is not
trusted). Definitions, in the order they are applied:

Span sets
    A role of an attribution is a set of fragments: content can be discontinuous (a quote interrupted
    by its attribution, or running over a paragraph break). A prediction's content is
    ``Quote.content_spans`` when given, else ``Quote.content``; its cue and source are single spans.

Edge normalisation
    Each fragment is trimmed, at both ends, of whitespace and punctuation (Unicode category P, which
    includes straight and curly quote marks, commas, full stops, colons and dashes). A content's first
    fragment also loses a leading lowercase complementiser "that" ("said that he would" and "said he
    would" give the same content), after which trimming repeats. Fragments left empty are dropped. A span
    that is nothing but punctuation (the colon cue of ``Trump: "..."``) is left as written, minus whitespace.

Word characters and word tokens
    After normalisation a span set is compared through the article's characters and tokens it covers:
    word characters (regex ``\\w``) and word tokens (``\\w+``; a token counts when the span overlaps
    it). A punctuation-only span uses its punctuation characters and tokens instead.

Matching modes (gold span set G, predicted span set P)
    exact    G and P cover the same word characters. Whitespace and punctuation between fragments do not
             count, so a quote given as one span equals the same quote split at a paragraph break.
    lenient  token Jaccard |G ∩ P| / |G ∪ P| >= 0.5 over word tokens.
    soft     soft overlap: G and P share at least one word token (touching only at punctuation or
             whitespace is no overlap).
    exact implies lenient implies soft, so the three F1 scores never decrease in that order.

Alignment (one-to-one, per article, per role, per mode)
    Candidate pairs are the (gold, predicted) pairs that match under the mode. They are taken greedily by
    descending token Jaccard (ties: earlier gold, then earlier prediction), then augmenting paths
    (Kuhn's algorithm) add pairs until no more can be added: the result is a maximum-cardinality
    matching, so a prediction never matches two gold spans, nor two predictions one gold span, and no
    possible match is lost to an unlucky greedy choice. Roles are aligned independently, as in span-level
    evaluation (CofeNet's PolNeAR figures are per-role span scores); an attribution without a source
    (gold ``Attribution-no-source``, or a prediction with ``source=None``) takes no part in the source
    scores. Counts are summed over articles (micro average): P = matched predictions / predictions,
    R = matched gold / gold, F1 their harmonic mean; a ratio with a zero denominator is 0.

Subsets
    ALL     every attribution.
    SPEECH  the cue contains a form of a speech verb (``SPEECH_VERBS``); "according to", "found",
            "believes", "shows" and "called" are not speech. A prediction without a cue span is not speech.
    DIRECT  the content holds a double quotation mark (``" “ ” „ « »``, or two apostrophes ``''`` as the New
            York Times copy in PolNeAR writes them; counted since session 8), counting one that sits just
            outside a fragment behind other punctuation (``,”`` after a content that stops before it).
    A subset never re-aligns: the ALL alignment is counted with gold filtered by the subset's test for
    recall and predictions filtered by the same test for precision, so a gold direct quote found by a
    prediction that dropped the quote marks still counts for DIRECT recall.

Who said what (end to end)
    A pair aligned on content (lenient) whose speaker is right. The speaker is right when the gold has
    a source and either the predicted source span matches it leniently, or the predicted canonical
    ``speaker``'s last capitalised word (the surname: "Trump" of "Donald J. Trump") is a word of the gold
    source mention. When the gold has no source, the speaker is right only if the prediction has neither
    source nor speaker. PolNeAR has no coreference for sources: a gold "he" is matched only by a predicted
    source span on that "he", so an extractor should report the mention as written and put the resolved
    name in ``speaker``. A shared surname ("Bill" vs "Hillary Clinton") passes the name test.
    ``direct_speaker_accuracy`` is the share of content-lenient pairs with a DIRECT gold whose speaker is right.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from storytrace.bench.attributions import GoldAttribution
from storytrace.errors import BenchmarkError
from storytrace.model import Quote, Span

ROLES = ("content", "source", "cue")
MODES = ("exact", "lenient", "soft")
SUBSETS = ("ALL", "SPEECH", "DIRECT")
LENIENT_JACCARD = 0.5
QUOTE_MARKS = frozenset('"“”„«»')  # double marks only: ’ is this corpus's apostrophe

# Speech cue verbs: lemma -> its forms. Verbs that report an utterance or a written statement; not
# beliefs (think, believe), findings (show, find), evaluations (call, accuse, criticize, praise) or
# sourcing phrases ("according to"), which PolNeAR also annotates as attributions. Kept apart from the
# extractor's cue list (nlp/quotes.py) on purpose: the scorer must not share the system's definitions.
SPEECH_VERBS: dict[str, tuple[str, ...]] = {
    "say": ("say", "says", "said", "saying"),
    "tell": ("tell", "tells", "told", "telling"),
    "add": ("add", "adds", "added", "adding"),
    "claim": ("claim", "claims", "claimed", "claiming"),
    "insist": ("insist", "insists", "insisted", "insisting"),
    "ask": ("ask", "asks", "asked", "asking"),
    "argue": ("argue", "argues", "argued", "arguing"),
    "explain": ("explain", "explains", "explained", "explaining"),
    "note": ("note", "notes", "noted", "noting"),
    "warn": ("warn", "warns", "warned", "warning"),
    "write": ("write", "writes", "wrote", "written", "writing"),
    "declare": ("declare", "declares", "declared", "declaring"),
    "announce": ("announce", "announces", "announced", "announcing"),
    "state": ("state", "states", "stated", "stating"),
    "reply": ("reply", "replies", "replied", "replying"),
    "respond": ("respond", "responds", "responded", "responding"),
    "acknowledge": ("acknowledge", "acknowledges", "acknowledged", "acknowledging"),
    "admit": ("admit", "admits", "admitted", "admitting"),
    "concede": ("concede", "concedes", "conceded", "conceding"),
    "deny": ("deny", "denies", "denied", "denying"),
    "tweet": ("tweet", "tweets", "tweeted", "tweeting"),
    "recall": ("recall", "recalls", "recalled", "recalling"),
    "suggest": ("suggest", "suggests", "suggested", "suggesting"),
    "predict": ("predict", "predicts", "predicted", "predicting"),
    "promise": ("promise", "promises", "promised", "promising"),
    "vow": ("vow", "vows", "vowed", "vowing"),
    "pledge": ("pledge", "pledges", "pledged", "pledging"),
    "urge": ("urge", "urges", "urged", "urging"),
    "report": ("report", "reports", "reported", "reporting"),
    "reveal": ("reveal", "reveals", "revealed", "revealing"),
    "confirm": ("confirm", "confirms", "confirmed", "confirming"),
    "comment": ("comment", "comments", "commented", "commenting"),
    "remark": ("remark", "remarks", "remarked", "remarking"),
    "mention": ("mention", "mentions", "mentioned", "mentioning"),
    "complain": ("complain", "complains", "complained", "complaining"),
    "joke": ("joke", "jokes", "joked", "joking"),
    "quip": ("quip", "quips", "quipped", "quipping"),
    "boast": ("boast", "boasts", "boasted", "boasting"),
    "testify": ("testify", "testifies", "testified", "testifying"),
    "tout": ("tout", "touts", "touted", "touting"),
    "shout": ("shout", "shouts", "shouted", "shouting"),
    "yell": ("yell", "yells", "yelled", "yelling"),
    "chant": ("chant", "chants", "chanted", "chanting"),
    "speak": ("speak", "speaks", "spoke", "spoken", "speaking"),
}
_SPEECH_FORMS = frozenset(form for forms in SPEECH_VERBS.values() for form in forms)

_TOKEN = re.compile(r"\w+|[^\w\s]")
_WORD = re.compile(r"\w")
_WORD_RUN = re.compile(r"\w+")
_NON_SPACE_RUN = re.compile(r"\S+")
_LETTERS = re.compile(r"[a-z]+")
_LEADING_THAT = re.compile(r"that\s+")


# -- span sets ---------------------------------------------------------------------------------------
def _is_edge(char: str) -> bool:
    return char.isspace() or unicodedata.category(char).startswith("P")


def _trim(text: str, start: int, end: int, *, punctuation: bool = True) -> tuple[int, int]:
    strip = _is_edge if punctuation else str.isspace
    while start < end and strip(text[start]):
        start += 1
    while end > start and strip(text[end - 1]):
        end -= 1
    return start, end


def normalise(text: str, fragments: Iterable[tuple[int, int]], *, content: bool = False) -> tuple[tuple[int, int], ...]:
    """Trim each fragment's edges as the module docstring says; return the non-empty fragments in order."""
    ordered = sorted((max(0, s), min(len(text), e)) for s, e in fragments)
    kept = [f for f in (_trim(text, s, e) for s, e in ordered) if f[0] < f[1]]
    if content and kept:
        start, end = kept[0]
        while match := _LEADING_THAT.match(text, start, end):
            start, end = _trim(text, match.end(), end)
        kept = ([(start, end)] if start < end else []) + kept[1:]
    if kept:
        return tuple(kept)
    # Nothing but punctuation: compare what is written.
    return tuple(f for f in (_trim(text, s, e, punctuation=False) for s, e in ordered) if f[0] < f[1])


@dataclass(frozen=True)
class SpanKey:
    """A normalised span set and the characters and tokens it covers, for matching."""

    fragments: tuple[tuple[int, int], ...]
    chars: tuple[tuple[int, int], ...]  # maximal runs of covered word characters: equal runs, equal characters
    tokens: frozenset[int]  # indices into the article's token list


class ArticleText:
    """An article's text with its tokens, turning span sets into ``SpanKey`` records."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = [(m.start(), m.end(), bool(_WORD.match(m.group()))) for m in _TOKEN.finditer(text)]
        self._starts = [start for start, _, _ in self.tokens]
        self._ends = [end for _, end, _ in self.tokens]
        self._is_word = [is_word for _, _, is_word in self.tokens]

    def key(self, fragments: Iterable[tuple[int, int]], *, content: bool = False) -> SpanKey:
        normal = normalise(self.text, fragments, content=content)
        covered = [i for start, end in normal
                   for i in range(bisect.bisect_right(self._ends, start), bisect.bisect_left(self._starts, end))]
        words = [i for i in covered if self._is_word[i]]
        runs = _WORD_RUN if words else _NON_SPACE_RUN  # a punctuation-only span keeps its punctuation
        chars: list[tuple[int, int]] = []
        for start, end in sorted(m.span() for s, e in normal for m in runs.finditer(self.text, s, e)):
            if chars and chars[-1][1] >= start:  # abutting or overlapping fragments
                chars[-1] = (chars[-1][0], max(chars[-1][1], end))
            else:
                chars.append((start, end))
        return SpanKey(normal, tuple(chars), frozenset(words or covered))

    def is_direct(self, fragments: Iterable[tuple[int, int]]) -> bool:
        """Whether the content holds a double quote mark (or ``''``), or has one just outside behind punctuation."""
        text = self.text
        for start, end in fragments:
            while start > 0 and unicodedata.category(text[start - 1]).startswith("P"):
                start -= 1
            while end < len(text) and unicodedata.category(text[end]).startswith("P"):
                end += 1
            if any(char in QUOTE_MARKS for char in text[start:end]) or "''" in text[start:end]:
                return True
        return False


def is_speech(cue_text: str) -> bool:
    """Whether a cue's words include a form of a speech verb (``SPEECH_VERBS``)."""
    return any(word in _SPEECH_FORMS for word in _LETTERS.findall(cue_text.lower()))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    """Jaccard index of two sets; 0 when both are empty."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def match_score(gold: SpanKey, predicted: SpanKey, mode: str) -> float | None:
    """The pair's token Jaccard if the two span sets match under ``mode``, else None."""
    if mode not in MODES:
        raise ValueError(f"unknown matching mode {mode!r}; expected one of {MODES}")
    if not gold.tokens or not predicted.tokens or gold.tokens.isdisjoint(predicted.tokens):
        return None
    score = jaccard(gold.tokens, predicted.tokens)
    if mode == "exact":
        return score if gold.chars == predicted.chars else None
    if mode == "lenient":
        return score if score >= LENIENT_JACCARD else None
    return score  # soft


def align(gold: Sequence[SpanKey | None], predicted: Sequence[SpanKey | None], mode: str) -> list[tuple[int, int]]:
    """Pair gold and predicted span sets one-to-one under ``mode``; return (gold index, predicted index) pairs.

    None entries (an attribution lacking the role) never match. Greedy by descending Jaccard, then
    augmenting paths to a maximum-cardinality matching.
    """
    if mode not in MODES:
        raise ValueError(f"unknown matching mode {mode!r}; expected one of {MODES}")
    by_token: dict[int, list[int]] = {}
    for j, p in enumerate(predicted):
        for token in p.tokens if p is not None else ():
            by_token.setdefault(token, []).append(j)
    candidates: list[tuple[float, int, int]] = []
    for i, g in enumerate(gold):
        if g is None:
            continue
        for j in sorted({j for token in g.tokens for j in by_token.get(token, ())}):
            p = predicted[j]
            if p is not None and (score := match_score(g, p, mode)) is not None:
                candidates.append((-score, i, j))
    candidates.sort()
    to_pred: dict[int, int] = {}
    to_gold: dict[int, int] = {}
    options: dict[int, list[int]] = {}
    for _, i, j in candidates:
        options.setdefault(i, []).append(j)
        if i not in to_pred and j not in to_gold:
            to_pred[i], to_gold[j] = j, i

    def augment(i: int, seen: set[int]) -> bool:
        for j in options[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in to_gold or augment(to_gold[j], seen):
                to_pred[i], to_gold[j] = j, i
                return True
        return False

    for i in options:
        if i not in to_pred:
            augment(i, set())
    return sorted(to_pred.items())


# -- counting ----------------------------------------------------------------------------------------
@dataclass
class Counts:
    """Gold and predicted items, and how many of each were matched."""

    gold: int = 0
    predicted: int = 0
    matched_gold: int = 0
    matched_predicted: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        self.gold += other.gold
        self.predicted += other.predicted
        self.matched_gold += other.matched_gold
        self.matched_predicted += other.matched_predicted
        return self

    @property
    def precision(self) -> float:
        return self.matched_predicted / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.matched_gold / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def prf(self) -> dict[str, float]:
        return {"p": round(self.precision, 4), "r": round(self.recall, 4), "f1": round(self.f1, 4)}


@dataclass
class Tally:
    """Counts for one article or summed over many: (subset, role, mode) -> Counts.

    The role "who" holds who-said-what, under mode "lenient". ``direct_matched`` and ``direct_right``
    count content-lenient pairs with a DIRECT gold, and those with the speaker right.
    """

    counts: dict[tuple[str, str, str], Counts] = field(default_factory=dict)
    direct_matched: int = 0
    direct_right: int = 0
    articles: int = 0

    def get(self, subset: str, role: str, mode: str) -> Counts:
        return self.counts.setdefault((subset, role, mode), Counts())

    def __iadd__(self, other: Tally) -> Tally:
        for key, counts in other.counts.items():
            self.get(*key).__iadd__(counts)
        self.direct_matched += other.direct_matched
        self.direct_right += other.direct_right
        self.articles += other.articles
        return self


@dataclass(frozen=True)
class _Item:
    keys: dict[str, SpanKey | None]
    source_text: str | None
    speaker: str | None
    has_source: bool
    subsets: frozenset[str]


def _fragments(spans: Iterable[Span]) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in spans]


def _item(doc: ArticleText, content: list[tuple[int, int]], cue: list[tuple[int, int]],
          source: list[tuple[int, int]] | None, speaker: str | None) -> _Item:
    for start, end in [*content, *cue, *(source or [])]:
        if not 0 <= start <= end <= len(doc.text):
            raise BenchmarkError(f"span {start}-{end} lies outside the article text ({len(doc.text)} characters)")
    subsets = {"ALL"}
    if cue and is_speech(" ".join(doc.text[s:e] for s, e in cue)):
        subsets.add("SPEECH")
    if doc.is_direct(content):
        subsets.add("DIRECT")
    return _Item(
        keys={"content": doc.key(content, content=True), "cue": doc.key(cue) if cue else None,
              "source": doc.key(source) if source else None},
        source_text=" ".join(doc.text[s:e] for s, e in source) if source else None,
        speaker=speaker,
        has_source=bool(source) or bool(speaker),
        subsets=frozenset(subsets),
    )


def _gold_item(doc: ArticleText, gold: GoldAttribution) -> _Item:
    return _item(doc, _fragments(gold.content), _fragments(gold.cue),
                 _fragments(gold.source) if gold.source else None, None)


def _predicted_item(doc: ArticleText, quote: Quote) -> _Item:
    content = _fragments(quote.content_spans or (quote.content,))
    return _item(doc, content, _fragments([quote.cue] if quote.cue else []),
                 _fragments([quote.source]) if quote.source else None, quote.speaker)


def _surname(name: str) -> str | None:
    capitalised = [w for w in re.findall(r"[\w'’-]+", name) if w[:1].isupper()]
    return capitalised[-1].lower() if capitalised else None


def speaker_right(gold: _Item, predicted: _Item) -> bool:
    """Whether a predicted attribution names the gold speaker (see "Who said what" above)."""
    if gold.keys["source"] is None:
        return not predicted.has_source
    g, p = gold.keys["source"], predicted.keys["source"]
    if p is not None and match_score(g, p, "lenient") is not None:
        return True
    if predicted.speaker and gold.source_text and (surname := _surname(predicted.speaker)):
        return surname in re.findall(r"[\w'’-]+", gold.source_text.lower())
    return False


def score_article(text: str, gold: Sequence[GoldAttribution], predicted: Sequence[Quote]) -> Tally:
    """Count matches of one article's predictions against its gold attributions."""
    doc = ArticleText(text)
    golds = [_gold_item(doc, g) for g in gold]
    preds = [_predicted_item(doc, q) for q in predicted]
    tally = Tally(articles=1)
    content_pairs: list[tuple[int, int]] = []
    for role in ROLES:
        gold_keys = [g.keys[role] for g in golds]
        pred_keys = [p.keys[role] for p in preds]
        for mode in MODES:
            pairs = align(gold_keys, pred_keys, mode)
            if role == "content" and mode == "lenient":
                content_pairs = pairs
            _count(tally, role, mode, golds, preds, gold_keys, pred_keys, pairs)
    right = [(i, j) for i, j in content_pairs if speaker_right(golds[i], preds[j])]
    _count(tally, "who", "lenient", golds, preds, [g.keys["content"] for g in golds],
           [p.keys["content"] for p in preds], right)
    direct = [(i, j) for i, j in content_pairs if "DIRECT" in golds[i].subsets]
    tally.direct_matched = len(direct)
    tally.direct_right = len(set(direct) & set(right))
    return tally


def _count(tally: Tally, role: str, mode: str, golds: list[_Item], preds: list[_Item],
           gold_keys: list[SpanKey | None], pred_keys: list[SpanKey | None], pairs: list[tuple[int, int]]) -> None:
    matched_gold = {i for i, _ in pairs}
    matched_pred = {j for _, j in pairs}
    for subset in SUBSETS:
        in_gold = [i for i, g in enumerate(golds) if gold_keys[i] is not None and subset in g.subsets]
        in_pred = [j for j, p in enumerate(preds) if pred_keys[j] is not None and subset in p.subsets]
        tally.get(subset, role, mode).__iadd__(Counts(
            gold=len(in_gold), predicted=len(in_pred),
            matched_gold=sum(1 for i in in_gold if i in matched_gold),
            matched_predicted=sum(1 for j in in_pred if j in matched_pred),
        ))


# -- figures -----------------------------------------------------------------------------------------
def summarise(tally: Tally) -> dict[str, Any]:
    """Turn a tally into JSON-ready figures: per subset and role, gold/predicted counts and P/R/F1 per mode."""
    figures: dict[str, Any] = {}
    for subset in SUBSETS:
        section: dict[str, Any] = {}
        for role in ROLES:
            first = tally.get(subset, role, MODES[0])
            section[role] = {"gold": first.gold, "predicted": first.predicted,
                             **{mode: tally.get(subset, role, mode).prf() for mode in MODES}}
        who = tally.get(subset, "who", "lenient")
        section["who_said_what"] = {"gold": who.gold, "predicted": who.predicted, **who.prf()}
        figures[subset] = section
    figures["direct_speaker_accuracy"] = {
        "matched": tally.direct_matched, "speaker_right": tally.direct_right,
        "accuracy": round(tally.direct_right / tally.direct_matched, 4) if tally.direct_matched else 0.0,
    }
    return figures


def outlet_summary(tally: Tally) -> dict[str, Any]:
    """A compact line of F1 figures for one outlet: ALL roles x modes, who said what, DIRECT content."""
    line: dict[str, Any] = {"articles": tally.articles, "gold": tally.get("ALL", "content", "exact").gold}
    for role in ROLES:
        for mode in MODES:
            line[f"{role}_{mode}_f1"] = round(tally.get("ALL", role, mode).f1, 4)
    line["who_said_what_f1"] = round(tally.get("ALL", "who", "lenient").f1, 4)
    line["direct_content_lenient_f1"] = round(tally.get("DIRECT", "content", "lenient").f1, 4)
    line["direct_speaker_accuracy"] = (round(tally.direct_right / tally.direct_matched, 4)
                                       if tally.direct_matched else 0.0)
    return line
