"""Find quotations in an article: direct, partial (mixed) and indirect, with cue and source mention.

Three layers: two rule layers over plain text, then a parse layer (``storytrace.nlp.attribution``) that
parses only the sentences holding a lexicon cue the rules left unused:

Direct-quote layer (deterministic)
    Quote marks are paired per paragraph (curly “...”, straight "..." by context; two apostrophes
    ''...'', as New York Times archive copy writes them, are read as curly marks). A paragraph that
    opens a quote and never closes it continues into the next paragraph when that one opens with a quote
    mark (the newspaper convention for a long quote); the quote is one attribution whose content has one
    fragment per paragraph. A quote that stands as a sentence of its own (at a paragraph or sentence start,
    or after ``said:``) is *direct*; its frame (``X said: “...”``, ``“...,” X said``, ``“...,” said X``)
    gives cue and source. A quote interrupted by its frame (``“A,” he said. “B”``, ``“A,” he said, “b”``) is
    one attribution with two fragments, and a whole-quote paragraph with no frame of its own right after a direct quote
    continues that quote (PolNeAR annotates it as another fragment of the same content). A paragraph
    ending in a frame and a colon (``He told his audience:``) introduces the quote paragraph after it. A
    quote with no frame at all is given, by newspaper convention, the speaker of the attribution before
    it, at a low confidence (``via="adjacent"``).

Cue layer (indirect and partial speech)
    Outside direct quotes, a reporting cue (``said``, ``told MPs``, ``insisted``, ``according to`` ...) with
    a source mention beside it takes the clause after it (``said [that] ...``) or, when the cue closes its
    sentence, the clause before it (``..., he said.``) as content. A content holding quote marks is
    *partial* (``said it was “outrageous” that ...``), else *indirect*. A paragraph that is a name, a colon
    and words (headlines ``Bernie Sanders: I'm Not ...``, transcripts ``TAPPER: ...``) is the name's, and
    ``, adding that ...`` after an attribution is a second one of the same speaker.

Spans follow PolNeAR's conventions: content includes quote marks, a leading "that" and closing
punctuation; the source is the mention as written ("he", "The Labour peer"); the resolved name goes in
``Quote.speaker`` (``speakers.resolve``). Public entry points: ``extract(text, article_id)`` and
``find(doc)`` for a parsed ``Doc`` (its text is used; the parse layer parses its own sentences).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from storytrace.errors import ModelError
from storytrace.model import Quote, Span

# -- lexicon ------------------------------------------------------------------------------------------
# Reporting verbs: lemma -> inflected forms. "takes" says how the verb takes its content:
# "clause" (said [that] ...), "object" (told X [that] ..., asked X whether ...).
_VERBS: dict[str, tuple[str, ...]] = {
    "say": ("say", "says", "said", "saying"),
    "add": ("add", "adds", "added", "adding"),
    "claim": ("claim", "claims", "claimed", "claiming"),
    "insist": ("insist", "insists", "insisted", "insisting"),
    "argue": ("argue", "argues", "argued", "arguing"),
    "explain": ("explain", "explains", "explained", "explaining"),
    "note": ("note", "notes", "noted", "noting"),
    "warn": ("warn", "warns", "warned", "warning"),
    "write": ("write", "writes", "wrote", "writing"),
    "declare": ("declare", "declares", "declared", "declaring"),
    "announce": ("announce", "announces", "announced", "announcing"),
    "state": ("state", "states", "stated"),
    "reply": ("reply", "replies", "replied", "replying"),
    "respond": ("respond", "responds", "responded", "responding"),
    "acknowledge": ("acknowledge", "acknowledges", "acknowledged", "acknowledging"),
    "admit": ("admit", "admits", "admitted", "admitting"),
    "concede": ("concede", "concedes", "conceded", "conceding"),
    "tweet": ("tweet", "tweets", "tweeted", "tweeting"),
    "recall": ("recall", "recalls", "recalled", "recalling"),
    "suggest": ("suggest", "suggests", "suggested", "suggesting"),
    "predict": ("predict", "predicts", "predicted", "predicting"),
    "promise": ("promise", "promises", "promised", "promising"),
    "vow": ("vow", "vows", "vowed", "vowing"),
    "pledge": ("pledge", "pledges", "pledged", "pledging"),
    "report": ("report", "reports", "reported", "reporting"),
    "reveal": ("reveal", "reveals", "revealed", "revealing"),
    "confirm": ("confirm", "confirms", "confirmed", "confirming"),
    "complain": ("complain", "complains", "complained", "complaining"),
    "joke": ("joke", "jokes", "joked", "joking"),
    "quip": ("quip", "quips", "quipped"),
    "boast": ("boast", "boasts", "boasted", "boasting"),
    "testify": ("testify", "testifies", "testified", "testifying"),
    "continue": ("continued",),
    "believe": ("believe", "believes", "believed"),
    "think": ("think", "thinks", "thought"),
    "conclude": ("conclude", "concludes", "concluded"),
    "observe": ("observed", "observes"),
    "contend": ("contend", "contends", "contended"),
    "maintain": ("maintains", "maintained"),
    "assert": ("assert", "asserts", "asserted"),
    "stress": ("stressed", "stresses"),
    "emphasize": ("emphasized", "emphasised", "emphasizes", "emphasises"),
    "allege": ("allege", "alleges", "alleged"),
    "estimate": ("estimates", "estimated"),
    "agree": ("agreed", "agrees"),
    "hope": ("hopes", "hoped"),
    "fear": ("fear", "fears", "feared"),
    "worry": ("worry", "worries", "worried"),
    "show": ("show", "shows", "showed"),
    "find": ("found", "finds"),
    "indicate": ("indicate", "indicates", "indicated"),
    "tell": ("tell", "tells", "told", "telling"),
    "ask": ("ask", "asks", "asked", "asking"),
    "assure": ("assured", "assures"),
    "remind": ("reminded", "reminds"),
    "inform": ("informed", "informs"),
    "urge": ("urged", "urges", "urging"),
}
_OBJECT_VERBS = frozenset({"tell", "ask", "assure", "remind", "inform", "urge"})
# Verbs that need a "that" (or a quote) to count: "found", "showed", "agreed" are too common otherwise.
_NEEDS_THAT = frozenset({"show", "find", "indicate", "agree", "hope", "fear", "worry", "estimate", "believe",
                         "think", "conclude", "continue", "maintain", "state", "report", "reveal", "note",
                         "confirm", "announce", "predict", "write", "recall", "observe", "urge", "allege"})
_LEMMA = {form: lemma for lemma, forms in _VERBS.items() for form in forms}

_AUX = frozenset({"has", "have", "had", "also", "later", "previously", "repeatedly", "then", "reportedly",
                  "once", "recently", "publicly", "privately", "long", "often", "frequently", "further",
                  "again", "already", "would", "will", "did", "does", "do", "not", "never", "just", "simply",
                  "even", "still", "both", "all", "clearly", "flatly", "quickly", "immediately", "separately",
                  "similarly", "correctly", "falsely", "wrongly", "yesterday", "today", "tonight", "openly",
                  "initially", "ultimately", "subsequently", "first", "since", "could", "might", "now",
                  "may", "must", "can", "should"})
_PRONOUNS = frozenset({"he", "she", "they", "it", "we", "i", "you"})
_ANONYMOUS = re.compile(r"\b(?:sources?|insiders?|aides?|officials?|spokes(?:man|woman|person)|"
                        r"source close|people familiar|person familiar|allies|ally|friends?|critics|"
                        r"someone|one (?:mp|minister|official|aide))\b", re.I)
# Words that end a source noun phrase when walking left from a cue.
_STOP = frozenset("""that which who whom whose but or because while when whether if as after before since though
although so than is are was were be been being do does did not this these those there here where how what why
and then also just only even still yet however meanwhile instead thus therefore nor until unless
once while though has have had amid despite over by about against among under into through during without
within via per with""".split()) | frozenset(_LEMMA)
_CUE_ONLY = frozenset(_LEMMA) - frozenset(w.lower() for w in _STOP if w not in _LEMMA)  # "state", "watch" ...
_SUBORDINATORS = frozenset({"as", "when", "after", "while", "because", "amid", "before", "since", "despite", "but",
                            "and", "though", "although"})
# Words that open a description heading a source ("the Labour peer", "her senior policy adviser, Jake Sullivan,").
_DETERMINERS = frozenset({"the", "a", "an", "his", "her", "their", "its", "our"})
# Words of a time adverbial ("last week", "two weeks ago", "on Tuesday"), and what may come before one ("less than").
_TIME_WORDS = frozenset("""last this next earlier later ago yesterday today tonight recently week weeks month months
year years day days night morning afternoon evening weekend on in early late one two three four five six seven eight
nine ten few several monday tuesday wednesday thursday friday saturday sunday january february march april may june july
august september october november december""".split())
_TIME_LEAD = frozenset("less more than about nearly just only some".split())
_QUANTIFIERS = frozenset("one another some several two three many most both".split())
_NP_INNER = frozenset({"of", "for", "at", "the", "a", "an", "'s", "’s", "and", "on", "in", "to", "from", "with"})

_TOKEN = re.compile(r"(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|St|Jr|Sr|Prof|Rev|Capt|Adm|Maj|Atty|Pres|Gens)\.(?=\s)"
                    r"|(?:[A-Z]\.){2,}|[A-Z]\.(?=\s[A-Z])|\d[\d,.]*\d|[\w][\w.'’-]*\w|\w|[^\w\s]")
_ABBREV = frozenset("""mr mrs ms dr sen rep gov gen lt col sgt st jr sr mt ft no vs etc inc co corp ltd
jan feb mar apr jun jul aug sep sept oct nov dec rev prof pres atty supt capt cmdr adm maj""".split())
_OPEN_MARKS = "“«„"
_CLOSE_MARKS = "”»"
_STRAIGHT = '"'


RULE_CUES = True  # run the rule cue layer before the parse layer (the parse layer takes the cues it leaves)
# How the span tagger (``quotetagger``, when ``extract(tagger=True)``) joins the layers, "+"-separated: "first"
# (its attributions outside direct quotes, then the cue and parse layers on what it left); "last" (every other
# layer, then the tagger's attributions where they found nothing); "refine" (the tagger's edges for contents and
# sources the layers found); "direct" (with refine: for direct quotes' sources too, their contents stay the layers').
# Chosen on the tune part of PolNeAR train (training/quotes/minilm.py evaluate; docs/benchmarks.md, session 12).
TAGGER_JOIN = "last+refine+direct"
TAGGER_MIN = 0.5  # under this confidence the tagger's attributions are dropped: on the tune part (2 epochs) those
# between 0.4 and 0.5 were right 8 times in 27, under the ~0.3 an F1 near 0.6 needs


@dataclass
class Found:
    """One attribution found in a text, offsets into that text."""

    kind: str
    fragments: list[tuple[int, int]]
    cue: tuple[int, int] | None = None
    cue_lemma: str = ""
    source: tuple[int, int] | None = None
    confidence: float = 0.5
    # How the speaker is known: "source" (the mention), "inherit" (continues the previous quote),
    # "coordinated" (``X said A and insisted B``), "participle" (the sentence's subject: ``..., saying “...”``),
    # "adjacent" (a quote with no frame of its own: by newspaper convention the speaker of the attribution
    # before it, with a low confidence), "" (none).
    via: str = "source"
    inherit_from: int | None = None  # index of the attribution whose speaker this one continues
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def start(self) -> int:
        return self.fragments[0][0]

    @property
    def end(self) -> int:
        return self.fragments[-1][1]


# -- text structure -----------------------------------------------------------------------------------
def paragraphs(text: str) -> list[tuple[int, int]]:
    """Non-empty lines: every line of an article is a paragraph (blank lines are only spacing)."""
    return [m.span() for m in re.finditer(r"[^\n]+", text) if m.group().strip()]


def _is_open_straight(text: str, i: int, start: int, end: int) -> bool | None:
    """Whether a straight quote mark at ``i`` opens (True), closes (False) or cannot tell (None)."""
    before = text[i - 1] if i > start else " "
    after = text[i + 1] if i + 1 < end else " "
    if (before.isspace() or before in "([—–-/") and not after.isspace():
        return True
    if not before.isspace() and (after.isspace() or after in ",.;:!?)—–-"):
        return False
    return None


def quote_regions(text: str, start: int, end: int, *,
                  open_at_start: bool = False) -> tuple[list[tuple[int, int]], bool]:
    """Pair the quote marks of one paragraph; return (regions incl. marks, whether a quote is left open).

    A region left open runs to the paragraph end. ``open_at_start`` is ignored by pairing (each paragraph
    of a multi-paragraph quote opens its own mark) but lets a paragraph with no opening mark be read as
    quoted to its first closing mark.
    """
    regions: list[tuple[int, int]] = []
    opened: int | None = None
    for m in re.finditer(r"[“”«»„\"]", text[start:end]):
        i = start + m.start()
        char = m.group()
        if char in _OPEN_MARKS:
            is_open: bool | None = True
        elif char in _CLOSE_MARKS:
            is_open = False
        else:
            is_open = _is_open_straight(text, i, start, end)
            if is_open is None:
                is_open = opened is None
        if is_open:
            if opened is None:
                opened = i
            # a second opening mark inside an open quote: a typo or a nested quote; keep the first
        elif opened is not None:
            regions.append((opened, i + 1))
            opened = None
        elif open_at_start and not regions:
            regions.append((start, i + 1))
    if opened is not None:
        regions.append((opened, end))
        return regions, True
    return regions, False


_MARK = re.compile(r"[“”\"]")
_WORD_RUN = re.compile(r"\w+")


def _at_least_words(text: str, span: tuple[int, int], n: int) -> bool:
    """Whether ``text[span]`` holds at least ``n`` words, reading no further than the n-th."""
    found = 0
    for _ in _WORD_RUN.finditer(text, span[0], span[1]):
        found += 1
        if found >= n:
            return True
    return False


# Characters before a sentence stop searched for its last word (abbreviation check); words are shorter.
_WORD_WINDOW = 100
# More tokens than any source mention _source_left accepts (12 words, plus a bracketed affiliation).
_MAX_SOURCE_TOKENS = 40


def _sentence_ends(text: str, start: int, end: int, regions: list[tuple[int, int]]) -> list[int]:
    """Offsets where sentences end inside [start, end), never inside a quote region unless at its close."""
    starts = [s for s, _ in regions]  # regions are sorted and disjoint: bisect, not a scan (long texts)
    closes = {e for _, e in regions}

    def inside(i: int) -> bool:
        k = bisect_left(starts, i) - 1
        return k >= 0 and regions[k][0] < i < regions[k][1]

    ends: list[int] = []
    for m in re.finditer(r"[.!?…]+[”\"’)]*(?=\s+[“\"‘(]?[A-Z0-9])", text[start:end]):
        i = start + m.end()
        if inside(i - 1) and i not in closes:
            continue
        # the word before the stop; a bounded window keeps this linear in the paragraph's length
        word = re.search(r"([\w.-]+)[.!?]*[”\"’)]*$", text[max(start, i - _WORD_WINDOW):i])
        # an initial or abbreviation is followed by a name, not by an opening quotation mark
        opens = re.match(r"\s+[“\"‘]", text[i:end]) is not None
        if word and m.group().startswith(".") and not opens:
            w = word.group(1).rstrip(".").lower()
            if w.rsplit("-", 1)[-1] in _ABBREV or (len(w) == 1 and w.isalpha()) or re.fullmatch(r"(?:\w\.)+\w", w):
                continue
        ends.append(i)
    ends.append(end)
    return ends


def _tokens(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    return [(start + m.start(), start + m.end(), m.group()) for m in _TOKEN.finditer(text[start:end])]


# -- frames around a direct quote ---------------------------------------------------------------------
def _cue_at(tokens: list[tuple[int, int, str]], i: int) -> tuple[int, int]:
    """Extend the cue verb at token ``i`` left over auxiliaries and adverbs; return token index range."""
    first = i
    while first > 0 and tokens[first - 1][2].lower() in _AUX and not tokens[first - 1][2][:1].isupper():
        first -= 1
    return first, i


def _source_left(tokens: list[tuple[int, int, str]], cue_first: int, floor: int) -> tuple[int, int] | None:
    """The source noun phrase ending right before token ``cue_first``; token index range or None."""
    j = cue_first - 1
    if j < floor:
        return None
    word = tokens[j][2]
    if word.lower() in _PRONOUNS:
        return j, j
    # an appositive: "Manuel Cortes, the general secretary of the TSSA, said"; a participle or adjunct
    # between commas ("McCluskey, also speaking to Marr, said") is not part of the source
    if word == ",":
        return _appositive_source(tokens, j, floor)
    if word == ")":  # "Rep. John Mica (R-Fla.) said": the bracket belongs to the name before it
        k = j
        while k > floor and tokens[k][2] != "(" and j - k < 8:
            k -= 1
        if tokens[k][2] == "(" and k > floor:
            head = _source_left(tokens, k, floor)
            if head is not None:
                return head[0], j
        return None
    last = j
    while j >= floor:
        w = tokens[j][2]
        low = w.lower()
        # a cue word as a name word ("The State Department", "Judicial Watch") or as a determiner's noun right before
        # the cue ("the report said") is part of the source
        noun = low in _CUE_ONLY and j > floor and (w[:1].isupper() or (
            j == last and tokens[j - 1][2].lower() in _DETERMINERS))
        stop = low in _STOP and not noun
        if w in {",", ";", ":", "(", ")", "—", "–", "“", "”", '"', "."} or (stop and j != last):
            break
        if stop:
            return None
        if not re.match(r"[\w’']", w):
            break
        j -= 1
        if last - j >= 12:
            return None
    first = j + 1
    # a time adverbial between the source and its cue: "Dianne Feinstein (D-Calif.) last week said", "The State
    # Department less than two weeks ago said"
    if first <= last and all(t[2].lower() in _TIME_WORDS for t in tokens[first:last + 1]):
        k = first - 1
        while k >= floor and tokens[k][2].lower() in _TIME_LEAD:
            k -= 1
        return _source_left(tokens, k + 1, floor) if first > floor else None
    # a relative clause is no source: "a White House official who spoke anonymously ... said" is the official
    if first > floor and tokens[first - 1][2].lower() == "who" and first <= last:
        return _source_left(tokens, first - 1, floor)
    # a catenative verb before the cue is not part of the source: "He went on to say", "Byrne seemed to"
    if tokens[last][2] == "to" and first < last:
        k = last - 1
        while k > first and k > last - 4 and tokens[k][2].islower() and tokens[k][2] not in _PRONOUNS:
            k -= 1
        if k < last - 1:
            return _source_left(tokens, k + 1, floor)
    # drop leading inner words ("of", "and") and a leading lowercase run before a name ("and Mr X")
    while first <= last and tokens[first][2].lower() in _NP_INNER - {"the", "a", "an"}:
        first += 1
    if first > last:
        return None
    words = [t[2] for t in tokens[first:last + 1]]
    if not any(w[:1].isupper() or w.lower() not in _NP_INNER for w in words):
        return None
    # a bare lowercase word that cannot head a subject ("today", "now")
    if len(words) == 1 and words[0].lower() in _AUX:
        return None
    return first, last


def _appositive_source(tokens: list[tuple[int, int, str]], comma: int, floor: int) -> tuple[int, int] | None:
    """Source before ``Name, <appositive>[, <appositive>], CUE``: the name, plus appositives that describe it."""
    commas = [comma]
    k = comma - 1
    while k >= floor and len(commas) < 4 and comma - k < 45:
        if tokens[k][2] == ",":
            commas.append(k)
        k -= 1
    for left in reversed(commas[1:]):  # the farthest name first: "X, a spokesman for Y, which ..., said"
        head = _source_left(tokens, left, floor)
        if head is None or tokens[head[1]][2].lower() in _PRONOUNS or not (
                tokens[head[1]][2][:1].isupper() or tokens[head[0]][2].lower() in _DETERMINERS):
            continue
        if head[0] > floor and tokens[head[0] - 1][2].lower() not in {",", ":", ";", "and", "but", "(", "—"}:
            continue
        first_apposed = tokens[left + 1][2].lower()
        if first_apposed in _DETERMINERS | {"who", "one"} or tokens[left + 1][2][:1].isupper():
            return head[0], commas[0] - 1
        if left == commas[1]:
            return head
    return None


def _source_right(tokens: list[tuple[int, int, str]], i: int, ceiling: int) -> tuple[int, int] | None:
    """The source noun phrase starting at token ``i`` (``said Mr Smith, the ...``); token range or None."""
    if i > ceiling:
        return None
    if tokens[i][2].lower() in _PRONOUNS:
        return i, i
    j = i
    while j <= ceiling:
        w = tokens[j][2]
        if w in {",", ".", ";", ":", "!", "?", "(", "—", "–", "”", '"'} or (w.lower() in _STOP and j > i):
            break
        j += 1
        if j - i > 12:
            return None
    if j == i or not (any(t[2][:1].isupper() or t[2].lower() in {"the", "a", "an"} for t in tokens[i:j])
                      or tokens[i][2].lower() in _QUANTIFIERS):  # "said one former campaign staffer"
        return None
    return i, j - 1


def _with_appositive(tokens: list[tuple[int, int, str]], src: tuple[int, int] | None) -> tuple[int, int] | None:
    """A postposed source with the appositive that closes its sentence: ``said David Friedman, president of
    Wealth-X.``, ``said Alan Cobb, a senior adviser who ...`` (PolNeAR's source spans hold it). Only when the
    appositive runs to a full stop with no quotation mark, cue word or further comma."""
    if src is None or src[1] + 2 >= len(tokens) or tokens[src[1] + 1][2] != ",":
        return src
    first = tokens[src[1] + 2][2]
    if (tokens[src[1]][2].lower() in _PRONOUNS or _lemma(first) or first.lower().endswith("ing")
            or (first.lower() in _STOP and first.lower() != "who") or not first[:1].isalpha()):
        return src
    for k in range(src[1] + 2, min(len(tokens), src[1] + 30)):
        w = tokens[k][2]
        if w in {".", "!", "?"}:
            return (src[0], k - 1) if k > src[1] + 2 else src
        if w in {",", ";", ":", "“", "”", '"', "(", "—"} or (_lemma(w) and k > src[1] + 2 and w.islower()
                                                            and tokens[k - 1][2].lower() not in _DETERMINERS):
            return src
    return src


def _lemma(word: str) -> str:
    return _LEMMA.get(word.lower(), "")


# -- the finder ---------------------------------------------------------------------------------------
class _Paragraph:
    def __init__(self, text: str, start: int, end: int, open_at_start: bool) -> None:
        self.start, self.end = start, end
        self.regions, self.left_open = quote_regions(text, start, end, open_at_start=open_at_start)
        self.region_starts = [s for s, _ in self.regions]
        self.marks = [start + m.start() for m in _MARK.finditer(text[start:end])]
        self.tokens = _tokens(text, start, end)
        self.starts = [t[0] for t in self.tokens]
        self.sentence_ends = _sentence_ends(text, start, end, self.regions)

    def has_mark(self, span: tuple[int, int]) -> bool:
        """Whether a quotation mark (“ ” ") lies inside ``span`` (a bisect: no slice of the text)."""
        k = bisect_left(self.marks, span[0])
        return k < len(self.marks) and self.marks[k] < span[1]

    def token_index(self, offset: int) -> int:
        """Index of the first token starting at or after ``offset``."""
        return bisect_left(self.starts, offset)

    def sentence_of(self, offset: int) -> tuple[int, int]:
        k = bisect_right(self.sentence_ends, offset)  # the first sentence end after offset (ends are sorted)
        prev = self.sentence_ends[k - 1] if k > 0 else self.start
        return (prev, self.sentence_ends[k]) if k < len(self.sentence_ends) else (prev, self.end)


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _frame_before(text: str, para: _Paragraph, q_start: int, floor: int) -> tuple[Found | None, bool]:
    """Cue and source in the words before a quote (``X said: “``); (partial attribution, is a frame)."""
    lead = text[floor:q_start]
    if not re.search(r"[:,]\s*$", lead) and lead.strip():
        return None, False
    base = para.token_index(floor)
    toks = para.tokens[base : para.token_index(q_start)]
    if not toks:
        return None, False
    # the cue verb nearest the end of the lead-in, within a few words of the colon ("said in a statement:")
    for k in range(len(toks) - 1, max(-1, len(toks) - 9), -1):
        word = toks[k][2]
        if _lemma(word):
            first, last = _cue_at(para.tokens, base + k)
            participle = word.endswith("ing") and first == base + k
            # "she released a statement saying, “": what comes before a participle is the main verb's object;
            # the speaker is the sentence's subject (speakers.resolve looks for it)
            src = None if participle else _source_left(para.tokens, first, base)
            if src is None and k + 1 < len(toks) and _lemma(word) != "tell":
                # "telling Reuters, “": the one told is no source
                src = _source_right(para.tokens, base + k + 1, base + len(toks) - 1)
                if src is not None and para.tokens[src[1]][1] < q_start - 3 and toks[-1][2] not in ":,":
                    src = None
            cue_end = para.tokens[last][1]
            if toks[-1][2] == ":" and base + len(toks) - 1 == last + 1:
                cue_end = toks[-1][1]  # PolNeAR puts a colon right after the verb into the cue
            found = Found("direct", [], cue=(para.tokens[first][0], cue_end), cue_lemma=_lemma(word),
                          source=(para.tokens[src[0]][0], para.tokens[src[1]][1]) if src else None,
                          confidence=0.9 if src else 0.6)
            if src is None and (word.endswith("ing") or first > 0 and para.tokens[first - 1][2] == "and"):
                # "endorsed Clinton, saying, “...”", "called on her to resign and said, “...”": the
                # speaker is the sentence's subject (speakers.resolve looks for it)
                found.via = "participle"
            return found, True
    if toks[-1][2] == ":" and len(toks) <= 8:
        # "Trump: “...”" or "The statement read:"; not a clause's last words ("it gets better:", "what happened:")
        src = _source_left(para.tokens, base + len(toks) - 1, base)
        words = [t[2] for t in para.tokens[src[0]:src[1] + 1]] if src else []
        if words and (words[0].lower() in _DETERMINERS or any(w[:1].isupper() for w in words[1:])
                      or (len(words) == 1 and words[0][:1].isupper())):
            return Found("direct", [], cue=(toks[-1][0], toks[-1][1]), cue_lemma=":",
                         source=(para.tokens[src[0]][0], para.tokens[src[1]][1]), confidence=0.7), True
    if toks[-1][2] == ":" and (found := _subject_verb_colon(para, base, base + len(toks) - 1)) is not None:
        return found, True
    return None, toks[-1][2] == ":"


# Capitalised clause openers that are no subject's name ("In", "Asked", "Here").
_NOT_SUBJECTS = _STOP | _DETERMINERS | _TIME_WORDS | frozenset("""in on at for to from asked here it we i you
wait now well yes no still also""".split())


def _subject_verb_colon(para: _Paragraph, base: int, colon: int) -> Found | None:
    """``Mr. Smith shot back:``, ``Cruz called them on it:``: a clause whose subject is a name or a pronoun and whose
    few words after it, up to the colon, hold no known cue (a verb outside the lexicon); the words are the cue."""
    tokens = para.tokens
    start = colon
    while start > base and tokens[start - 1][2] not in {",", ";", ".", "—", "(", ")"}:
        start -= 1
    if colon - start > 9:
        return None
    first = tokens[start][2]
    if first.lower() in {"he", "she", "they"}:
        subject = (start, start)
    else:
        k = start
        while k < colon and (tokens[k][2][:1].isupper() or tokens[k][2] in {"’s", "'s"}):
            k += 1
        if k == start or k == colon or tokens[start][2].lower() in _NOT_SUBJECTS:
            return None
        subject = (start, k - 1)
    verb = subject[1] + 1
    if verb >= colon or not tokens[verb][2].islower() or colon - verb > 5 or any(
            t[2].lower() in _STOP - frozenset(_LEMMA) for t in tokens[verb:colon]):
        return None
    return Found("direct", [], cue=(tokens[verb][0], tokens[colon][1]), cue_lemma=tokens[verb][2].lower(),
                 source=(tokens[subject[0]][0], tokens[subject[1]][1]), confidence=0.6)


# Forms of the commonest speech verbs: a cue word right before one of them is a noun ("the report said").
_SPEECH_FORMS = frozenset({"said", "says", "say", "added", "adds", "told", "tells", "wrote", "writes", "stated"})


def _frame_after(text: str, para: _Paragraph, q_end: int) -> tuple[Found | None, int]:
    """Cue and source right after a quote (``,” he said.``); (partial attribution, offset where the frame ends)."""
    k = para.token_index(q_end)
    toks = para.tokens
    if k < len(toks) and toks[k][2] == ",":
        k += 1
    if k >= len(toks):
        return None, q_end
    # "said X" / "X said" / "X, the ..., said"
    limit = min(len(toks) - 1, k + 16)
    depth = 0
    for n in range(k, limit + 1):
        word = toks[n][2]
        depth += (word == "(") - (word == ")")
        if word in {".", "!", "?", "“", '"', ";"} and n > k and depth <= 0:
            break
        if not _lemma(word) or (n + 1 <= limit and toks[n + 1][2].lower() in _SPEECH_FORMS):
            continue  # "the congressional report said": a noun before the cue verb
        first, last = _cue_at(toks, n)
        first = max(first, k)
        if first > k:
            src = _source_left(toks, first, k)
            if src is None or src[0] != k:
                continue
        else:
            src = _source_right(toks, n + 1, _phrase_end(toks, n + 1) - 1) if n + 1 < len(toks) else None
            src = _with_appositive(toks, src)
        frame_end = _own_clause_end(toks, max(last, src[1] if src else last) + 1)
        return Found("direct", [], cue=(toks[first][0], toks[last][1]), cue_lemma=_lemma(word),
                     source=(toks[src[0]][0], toks[src[1]][1]) if src else None,
                     confidence=0.9 if src else 0.6), frame_end
    if re.search(r"[,!?][”\"»]$", text[max(0, q_end - 2):q_end]) and (unlisted := _unlisted_verb_frame(toks, k)):
        return unlisted
    return None, q_end


def _phrase_end(toks: list[tuple[int, int, str]], i: int) -> int:
    """Index of the first token from ``i`` that ends a postposed source ("said Mr Smith, the ...")."""
    while i < len(toks) and toks[i][2] not in {",", ".", ";", "!", "?", "“", '"', "("}:
        i += 1
    return i


def _unlisted_verb_frame(toks: list[tuple[int, int, str]], k: int) -> tuple[Found, int] | None:
    """A frame whose verb is not in the lexicon, in the two shapes only speech takes after a quote ending in
    ``,``/``!``/``?``: ``“...!” beamed Donald Hartley`` and ``“...,” Smith quipped.`` (confidence 0.6)."""
    def past(word: str) -> bool:
        return word.islower() and len(word) > 3 and word.endswith("ed")

    n = len(toks)
    if k + 1 < n and past(toks[k][2]) and toks[k + 1][2][:1].isupper():
        src = _source_right(toks, k + 1, _phrase_end(toks, k + 1) - 1)
        if src is not None and all(t[2][:1].isupper() or t[2].lower() in _NP_INNER for t in toks[src[0]:src[1] + 1]):
            return Found("direct", [], cue=(toks[k][0], toks[k][1]), cue_lemma=toks[k][2].lower(),
                         source=(toks[src[0]][0], toks[src[1]][1]), confidence=0.6), _clause_end(toks, k + 1)
        return None
    for m in range(k + 1, min(n, k + 6)):
        if not past(toks[m][2]):
            continue
        src = _source_left(toks, m, k)
        after = toks[m + 1][2] if m + 1 < n else "."
        if src is not None and src[0] == k and (after in {".", ",", "!", "?"} or after in _NP_INNER):
            return Found("direct", [], cue=(toks[m][0], toks[m][1]), cue_lemma=toks[m][2].lower(),
                         source=(toks[src[0]][0], toks[src[1]][1]), confidence=0.6), _clause_end(toks, m + 1)
        break
    return None


def _clause_end(toks: list[tuple[int, int, str]], n: int) -> int:
    """Offset just after the frame's clause: up to the next full stop, comma before a quote, or quote."""
    while n < len(toks):
        w = toks[n][2]
        if w in {".", "!", "?", ";"}:
            return toks[n][1]
        if w in {"“", '"', ":"}:
            return toks[n - 1][1] if n else toks[n][0]
        if w == "," and n + 1 < len(toks) and toks[n + 1][2] in {"“", '"'}:
            return toks[n][1]
        n += 1
    return toks[-1][1] if toks else 0


def _own_clause_end(toks: list[tuple[int, int, str]], n: int) -> int:
    """Like ``_clause_end``, but a clause after a comma holding a cue of its own is left to the other layers:
    ``“...,” said Beck, who said there were ...`` and ``“...,” Trump said, after Becky Quick said ...``."""
    end = _clause_end(toks, n)
    for m in range(n, len(toks)):
        if toks[m][0] >= end:
            break
        if toks[m][2] == "," and any(_lemma(t[2]) and t[2].islower() and t[0] < end for t in toks[m + 1:m + 8]):
            return toks[m - 1][1] if m > n else toks[m][0]
    return end


def find_in_text(text: str, *, parse: bool = True, tagger: bool = False) -> list[Found]:
    """Find every attribution in ``text``; offsets into ``text``.

    ``parse=False`` skips the parse layer (rules only: several times faster, lower recall on indirect
    and non-speech attributions); so does a missing model, which the ``entities`` stage reports.
    ``tagger=True`` joins the MiniLM span tagger's spans as ``TAGGER_JOIN`` says (``ModelError`` if it cannot run).
    """
    found: list[Found] = []
    paras: list[_Paragraph] = []
    open_quote = False
    for start, end in paragraphs(text):
        para = _Paragraph(text, start, end, open_at_start=False)
        paras.append(para)
    direct_spans: list[tuple[int, int]] = []  # covered by direct quotes and their frames
    last_direct: int | None = None  # index into found of the quote the previous paragraph ended with
    pending: Found | None = None  # a multi-paragraph quote still open
    for p, para in enumerate(paras):
        ended_with_direct: int | None = None
        regions = para.regions
        for r, (q_start, q_end) in enumerate(regions):
            continues = pending is not None and r == 0 and q_start == para.start
            if pending is not None and not continues:
                pending = None
            if continues:
                assert pending is not None
                pending.fragments.append((q_start, q_end))
                direct_spans.append((q_start, q_end))
                if q_end == para.end and para.left_open:
                    ended_with_direct = found.index(pending)
                    continue
                idx = found.index(pending)
                pending = None
                ended_with_direct = idx
                continue
            sent_start, sent_end = para.sentence_of(q_start)
            prev_region_end = regions[r - 1][1] if r else para.start
            floor = max(sent_start, prev_region_end)
            before, is_frame = _frame_before(text, para, q_start, floor)
            if (before is not None and r > 0 and found and found[-1].notes.get("para") == p
                    and found[-1].cue == before.cue):
                # “A,” Blackwell added, “B ...”: the frame between the parts is both's; one quote, two fragments
                found[-1].fragments.append((q_start, q_end))
                direct_spans.append((floor, q_end))
                ended_with_direct = len(found) - 1
                if q_end == para.end and para.left_open:
                    pending = found[-1]
                continue
            lead = text[floor:q_start].strip()
            standalone = not lead or is_frame
            after, frame_end = (None, q_end)
            tail = text[q_end:para.end]
            if standalone and before is None:
                after, frame_end = _frame_after(text, para, q_end)
            ends_sentence = (q_end >= para.end or re.match(r"\s*(?:[.!?]|$)", tail) is not None
                             or text[q_end - 2:q_end - 1] in ".!?" or after is not None)
            if not standalone or not ends_sentence:
                continue  # an embedded quote: the cue layer reads the sentence around it
            words = len(re.findall(r"\w+", text[q_start:q_end]))
            attribution = before or after
            if attribution is None and r == 0 and q_start == para.start and p > 0:
                attribution = _frame_ending(text, paras[p - 1])  # "He told his audience:⏎⏎“...”"
                if attribution is not None:
                    frame = [span for span in (attribution.source, attribution.cue) if span]
                    direct_spans.append((min(span[0] for span in frame), paras[p - 1].end))
            if attribution is None:
                # a whole-quote unit with no frame: a continuation of the previous direct quote, if any
                prev = last_direct if r == 0 else (len(found) - 1 if found and found[-1].kind == "direct"
                                                    and found[-1].end <= q_start
                                                    and found[-1].notes.get("para") == p else None)
                if prev is not None and (r == 0 and q_start == para.start or r > 0):
                    found[prev].fragments.append((q_start, q_end))
                    direct_spans.append((q_start, q_end))
                    if q_end == para.end and para.left_open:
                        pending = found[prev]
                    ended_with_direct = prev
                    continue
                if words < 4:
                    continue
                attribution = Found("direct", [], source=None, confidence=0.35, via="adjacent")
            attribution.fragments = [(q_start, q_end)]
            attribution.notes["para"] = p
            attribution.kind = "direct"
            found.append(attribution)
            # a preposed frame takes from its source (or cue) on: words before it are left to the other layers
            # ("... but said there was no call planned, adding: “...”")
            frame_start = min(span[0] for span in (before.source, before.cue) if span) if before else q_start
            direct_spans.append((max(floor, frame_start), max(q_end, frame_end)))
            ended_with_direct = len(found) - 1
            if q_end == para.end and para.left_open:
                pending = attribution
        # a quote interrupted by its frame: "“A,” he said. “B”" -> merge B into A
        last_direct = ended_with_direct if (ended_with_direct is not None
                                            and _ends_paragraph(text, found[ended_with_direct], para)) else None
        if pending is not None and not para.left_open:
            pending = None
        open_quote = para.left_open
    del open_quote
    _merge_interrupted(text, found, paras)
    taken = list(direct_spans)
    join = TAGGER_JOIN.split("+") if tagger else []
    tagged = _tagged(text, paras) if join else []
    if "first" in join:
        mine = _tagger_layer(text, paras, direct_spans, tagged)
        found += mine
        taken += [span for f in mine for span in f.fragments]
    lines = _speaker_lines(text, paras, taken)
    found += lines
    taken += [span for f in lines for span in f.fragments]
    if RULE_CUES:
        found += _cue_layer(text, paras, taken)
    if parse:
        try:
            found += _parse_layer(text, paras, taken, found)
        except ModelError:
            pass  # no model shipped: rules only (the entities stage says why)
    if "last" in join:
        covered = taken + [span for f in found for span in f.fragments] + [f.cue for f in found if f.cue]
        found += _tagger_layer(text, paras, covered, tagged)
    found = _asked_clauses(text, paras, found)
    added = _added_clauses(text, paras, found)
    replaced = {a.cue[0] for a in added if a.cue}
    found = [f for f in found if not (f.cue and f.cue[0] in replaced)] + added
    kept = []
    for f in found:
        if f.kind == "partial":
            _end_at_quote(text, f)
        if _broken_source(text, f):
            if f.kind == "indirect":
                continue
            f.source, f.via = None, "adjacent" if f.kind == "direct" else ""  # the quoted words stand, unsourced
        _close_open_quote(text, f)
        _relative_opener(text, f)
        kept.append(f)
    if "refine" in join:
        _refine(text, kept, tagged, direct_sources="direct" in join)
    kept.sort(key=lambda f: f.start)
    return kept


def _close_open_quote(text: str, f: Found) -> None:
    """A content that opens a quotation mark ends after it closes: the parse may end an object inside the quote
    (``what he called “our arguments`` for ``“our arguments this year.”``). Only within its sentence."""
    start, end = f.fragments[-1]
    span = text[start:end]
    if span.count("“") <= span.count("”"):
        return
    close = text.find("”", end, end + 200)
    if close < 0 or re.search(r"[“\n]", text[end:close]) or re.search(r"[.!?]\s", text[end:close]):
        return
    f.fragments[-1] = (start, close + 1)


_RELATIVE = re.compile(r"(?<![\w’'])(what|which)\s+$")


def _relative_opener(text: str, f: Found) -> None:
    """``which he said the Mexican government should pay for``, ``what Mr. Ryan called ''our arguments''``: the
    relative word before the source is what the content is about, and PolNeAR makes it the content's first piece."""
    if f.source is None or f.cue is None or not f.source[0] < f.cue[0] < f.fragments[0][0]:
        return
    m = _RELATIVE.search(text, max(0, f.source[0] - 8), f.source[0])
    if m is not None:
        f.fragments.insert(0, (m.start(1), m.end(1)))


_OPEN_ENDED = frozenset("to a an the of for with at in on by and or but".split())
_ADJUNCT_STARTS = frozenset("in at on during after before".split())


def _broken_source(text: str, f: Found) -> bool:
    """A source that is no noun phrase: it ends in an article or a preposition ("eager to", "the authors of the")
    or opens like an adjunct ("in a post on Twitter"); the cue beside such a span is seldom an attribution, but
    quoted words are one whatever their frame."""
    if f.source is None:
        return False
    words = text[f.source[0]:f.source[1]].lower().split()
    return not words or words[-1].strip(",.") in _OPEN_ENDED or words[0] in _ADJUNCT_STARTS


_CLAUSE_BREAK = re.compile(r"\s*(?:[,;:(]|\s[—–-]\s|—)")


def _end_at_quote(text: str, f: Found) -> None:
    """End a partial quote's content at the clause that holds its last quoted words.

    ``she was “impressed” with his children, but lamented ...`` -> ``she was “impressed” with his children``;
    ``called it “insanity,” and Sanders ...`` -> ``called it “insanity,”`` (the quote's own comma ends it). The
    words after the last closing mark run to the first clause break, so ``“pick up delegates” everywhere he can``
    keeps its tail; a coordinated "and that ..." clause is the same content and stays.
    """
    start, end = f.fragments[-1]
    span = text[start:end]
    marks = [i for i, ch in enumerate(span) if ch in _CLOSE_MARKS or ch == _STRAIGHT]
    if not marks or (span.count(_STRAIGHT) % 2 and span[marks[-1]] == _STRAIGHT):
        return  # no closing mark, or an unbalanced straight one (it may open)
    close = marks[-1] + 1
    rest = span[close:]
    if not rest.strip(" .!?") or re.match(r"\s*(?:and|but|or)\s+that\b", rest):
        return
    if span[close - 2:close - 1] in ",.!?" and re.match(r"\s+\w", rest):
        cut = close  # “insanity,” and ...: the comma inside the quote closed the clause
    else:
        m = _CLAUSE_BREAK.search(rest)
        if m is None:
            return
        if re.match(r"\s*,\s*(?:and|but|or)\s+that\b", rest[m.start():]):
            return
        cut = close + m.start()
    if cut > 0 and re.search(r"\w", span[:cut]):
        f.fragments[-1] = (start, start + len(span[:cut].rstrip()))


# -- speaker lines: "Bernie Sanders: I'm Not Much Of A Socialist ..." (headlines), "TAPPER: ..." (transcripts) ----
_NAME_WORD = r"(?:[A-Z][\w’'.-]*|of|de|van|von|the)"
_SPEAKER_LINE = re.compile(rf"[ \t]*({_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{0,4}}):[ \t]+(\S.*?)\s*$")
# labels that head a line the way a speaker's name does, and are not speakers
_LINE_LABELS = frozenset("""update updated note editor editor's editors' photo photos image video watch read more
related source sources credit correction clarification disclosure q a question answer transcript excerpt
breaking exclusive live opinion analysis review summary background full text tags topics by from to subject
date time location where when what why how contributing contributors email e-mail twitter facebook instagram
revealed latest daily""".split())


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    """Countries and cities of the project's gazetteer, case-folded (datelines look like speaker lines)."""
    from storytrace.nlp import rules

    return frozenset(p.casefold() for p in rules.read_list("countries.txt") + rules.read_list("cities.txt"))


def _speaker_lines(text: str, paras: list[_Paragraph], taken: list[tuple[int, int]]) -> list[Found]:
    """A paragraph that is a name, a colon and words: the named speaker's words (cue: the colon).

    Headlines write "Bernie Sanders: I'm Not Much Of A Socialist Compared To Eisenhower", transcripts
    "TAPPER: And obviously, you're supporting Donald Trump ...". The name is one to five capitalised words
    (or "of", "de" ... inside); a label ("Update:", "Photo:", "Editor's note:", "The Latest:", "Contributing:")
    or a name ending in a lower-case word is not a speaker, and the words must be two or more. Paragraphs holding
    a direct quote already found are left to that quote.
    """
    index = _Spans(taken)
    out = []
    for para in paras:
        m = _SPEAKER_LINE.match(text, para.start, para.end)
        if m is None or m.end() != para.end or index.overlaps((para.start, para.end)):
            continue
        words = m.group(1).split()
        if (words[-1][0].islower() or {words[0].lower().rstrip("s’'"), words[-1].lower()} & _LINE_LABELS
                or m.group(1).casefold() in _places()  # "WASHINGTON:" is a dateline
                or len(re.findall(r"[^\W\d_]{2,}", m.group(2))) < 2):  # "Twitter: @Milbank."
            continue
        colon = m.end(1)
        out.append(Found("direct", [(m.start(2), m.end(2))], cue=(colon, colon + 1), cue_lemma=":",
                         source=(m.start(1), m.end(1)), confidence=0.5))
    return out


# -- ", adding that ...": a second attribution of the same speaker ----------------------------------------------
_ADDED = re.compile(r",\s+(adding|noting|arguing|insisting|explaining|warning|stressing|acknowledging|conceding"
                    r"|asserting|cautioning|referring\s+to)\s+(?:that\s+)?(?=\w|[“\"])")
# "..., referring to Jeffrey D. Feltman, a State Department official": the reference stops before an appositive
_REFERENCE_END = re.compile(r",\s+(?:who|which|whose|whom|where|when|a|an|one)\b")


def _added_clauses(text: str, paras: list[_Paragraph], found: list[Found]) -> list[Found]:
    """``X said A, adding that B`` and ``“A,” she said, adding that B``: B is X's too, with its own cue; so is
    ``“A,” X answered, referring to B`` (B a reference, up to an appositive of its own).

    The clause runs from the participle's object to the end of the sentence of the attribution's cue; an
    indirect content that ran on over the clause stops before its comma. Clauses inside a quotation, or
    after an attribution with no source mention, are left alone.
    """
    starts = [p.start for p in paras]
    out: list[Found] = []
    for f in found:
        if f.cue is None or f.source is None:
            continue
        para = paras[bisect_right(starts, f.cue[0]) - 1]
        sentence_end = para.sentence_of(f.cue[0])[1]
        m = _ADDED.search(text, f.cue[1], sentence_end)
        if m is None or any(s <= m.start() < e for s, e in para.regions):
            continue
        start, end = _strip(text, m.end(), sentence_end)
        while end > start and text[end - 1] in ".;":
            end -= 1
        referring = m.group(1).startswith("referring")
        if referring and (stop := _REFERENCE_END.search(text, start, end)):
            end = stop.start()
        if len(re.findall(r"\w+", text[start:end])) < (1 if referring else 3):
            continue
        last = f.fragments[-1]
        if f.kind != "direct" and last[0] < m.start() < last[1]:
            f.fragments[-1] = (last[0], m.start())  # "said A, adding that B": A stops at the comma
        elif any(a <= m.start() < b for a, b in f.fragments) or (f.kind != "direct" and f.end > m.start()):
            continue  # inside the content (a direct quote's fragments may stand on both sides of the clause)
        out.append(Found("partial" if para.has_mark((start, end)) else "indirect", [(start, end)],
                         cue=(m.start(1), m.end(1)), cue_lemma="refer" if referring else _cue_lemma(m.group(1)),
                         source=f.source,
                         confidence=round(0.8 * f.confidence, 3)))
    # another layer's reading of the same cue ("referring" with "to Gruenberg's ..., who headed ...") gives way
    mine = {a.cue[0] for a in out if a.cue}
    taken = _Spans([span for f in found if not (f.cue and f.cue[0] in mine) for span in f.fragments])
    return [a for a in out if not taken.overlaps(a.fragments[0])]


def _cue_lemma(cue: str) -> str:
    """The reporting verb's lemma of a cue ("has claimed" -> "claim"), else its last word."""
    words = cue.lower().split()
    return next((_LEMMA[w] for w in words if w in _LEMMA), words[-1] if words else "")


# -- tagger layer: spans from the trained head ----------------------------------------------------------
def _gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Characters between two spans (0 when they touch or overlap)."""
    return max(0, max(a[0], b[0]) - min(a[1], b[1]))


Tagged = list[tuple[int, int, str, float]]  # (start, end, label, score) from quotetagger.spans


def _tagged(text: str, paras: list[_Paragraph]) -> Tagged:
    """The span tagger's (start, end, label, score) spans of the paragraphs (``ModelError`` when it cannot run: asked
    for, it is not silently left out)."""
    from storytrace.nlp import quotetagger

    return quotetagger.spans(text, [(p.start, p.end) for p in paras])


_WORD = re.compile(r"\w+")


def _jaccard(text: str, a: tuple[int, int], b: tuple[int, int]) -> float:
    wa = {m.start() for m in _WORD.finditer(text, *a)}
    wb = {m.start() for m in _WORD.finditer(text, *b)}
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def _refine(text: str, found: list[Found], tagged: Tagged, *, direct_sources: bool = False) -> None:
    """Take the tagger's edges for a content or source the other layers found: the tagged span of that role
    sharing the most words with it, when they share at least half (so it is the same span, better cut). A tagged
    span goes to one attribution only, the one it fits best: nested attributions ("At a meeting, Mr Watson told
    Mr Corbyn he could not carry on, sources said") keep their outer content when the tagger marked the inner."""
    offers: dict[tuple[str, tuple[int, int]], tuple[float, int]] = {}  # tagged span -> (best fit, attribution)
    for k, f in enumerate(found):
        if f.kind == "direct" and not direct_sources:
            continue
        roles = [("SOURCE", f.source)] + ([("CONTENT", f.fragments[0])] if len(f.fragments) == 1
                                          and f.kind != "direct" else [])
        for label, span in roles:
            if span is None:
                continue
            best = max(((_jaccard(text, span, (s, e)), (s, e)) for s, e, lab, _ in tagged
                        if lab == label and s < span[1] and span[0] < e), default=None)
            if best is not None and best[0] >= 0.5 and best[0] > offers.get((label, best[1]), (0.0, -1))[0]:
                offers[(label, best[1])] = (best[0], k)
    for (label, span), (_, k) in offers.items():
        if label == "SOURCE":
            found[k].source = span
        else:
            found[k].fragments = [span]


def _tagger_layer(text: str, paras: list[_Paragraph], taken: list[tuple[int, int]],
                  tagged: Tagged) -> list[Found]:
    """Attributions assembled from the span tagger's CONTENT, CUE and SOURCE spans outside ``taken``.

    Each content joins the nearest cue of its paragraph (contents sharing a cue are one attribution's
    fragments: ``“A,” he said, “B”``), and the cue the nearest source of its paragraph that is no content.
    A content with no cue in its paragraph is dropped: the tagger's contents alone are not attributions.
    The confidence is the tagger's: the lower of its content and cue scores, less a tenth without a source;
    under ``TAGGER_MIN`` the attribution is dropped.
    """
    index = _Spans(taken)
    starts = [p.start for p in paras]
    by_para: dict[int, list[tuple[int, int, str, float]]] = {}
    for s, e, label, score in tagged:
        if not index.overlaps((s, e)):
            by_para.setdefault(bisect_right(starts, s) - 1, []).append((s, e, label, score))
    out: list[Found] = []
    for k, mine in sorted(by_para.items()):
        para = paras[k]
        scores = {(s, e, label): score for s, e, label, score in mine}
        contents = [(s, e) for s, e, label, _ in mine if label == "CONTENT"]
        cues = [(s, e) for s, e, label, _ in mine if label == "CUE"]
        sources = [(s, e) for s, e, label, _ in mine if label == "SOURCE"]
        if not contents or not cues:
            continue
        by_cue: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for content in contents:
            cue = min(cues, key=lambda c: (_gap(c, content), c[0]))
            by_cue.setdefault(cue, []).append(content)
        for cue, fragments in sorted(by_cue.items(), key=lambda kv: kv[1][0]):
            near = [s for s in sources if not _overlaps(s, fragments)]
            source = min(near, key=lambda s: (_gap(s, cue), s[0])) if near else None
            marks = [para.has_mark(f) for f in fragments]
            kind = "partial" if any(marks) else "indirect"
            if all(marks) and all(text[f[0]] in _OPEN_MARKS + _STRAIGHT for f in fragments):
                kind = "direct"
            content_score = sum(scores[(*f, "CONTENT")] for f in fragments) / len(fragments)
            confidence = min(content_score, scores[(*cue, "CUE")]) - (0 if source else 0.1)
            if confidence < TAGGER_MIN:
                continue
            out.append(Found(kind, sorted(fragments), cue=cue, cue_lemma=_cue_lemma(text[cue[0]:cue[1]]),
                             source=source, confidence=round(confidence, 3),
                             via="source" if source else "", notes={"tagger": True}))
    return out


# -- parse layer: the cues the rules do not read ------------------------------------------------------
def _parse_layer(text: str, paras: list[_Paragraph], taken: list[tuple[int, int]],
                 found: list[Found]) -> list[Found]:
    """Parse the sentences holding an unused lexicon cue and read attributions off the parse."""
    from storytrace.nlp import attribution

    used = _Spans([f.cue for f in found if f.cue is not None])
    index = _Spans(taken)
    sentences: list[tuple[int, int, list[tuple[int, int]]]] = []
    for para, s_start, s_end in _sentences(text, paras):
        if index.covers((s_start, s_end)):
            continue
        cands = [(s, e) for s, e, w in para.tokens[para.token_index(s_start) : para.token_index(s_end)]
                 if attribution.is_candidate(w)
                 and not used.overlaps((s, e)) and not index.overlaps((s, e)) and not _in_quote(para, s)]
        if cands:
            sentences.append((s_start, s_end, cands))
    docs = attribution.parse(text, [(s, e) for s, e, _ in sentences])
    out: list[Found] = []
    for (s_start, _, cands), doc in zip(sentences, docs, strict=True):
        starts = {s - s_start for s, _ in cands}
        wanted = {t.i for t in doc if t.idx in starts}
        for fr in attribution.frames(doc, s_start, wanted):
            content = fr.content
            kind = "partial" if re.search(r"[“”\"]", text[content[0]:content[1]]) else "indirect"
            confidence = fr.prob if fr.prob is not None else 0.4 + 0.3 * fr.p
            fragments = [fr.lead, content] if fr.lead else [content]  # a raised subject opens the content
            out.append(Found(kind, fragments, cue=fr.cue, cue_lemma=_lemma(fr.cue_form) or fr.cue_form,
                             source=fr.source, confidence=round(confidence, 3),
                             via="source" if fr.source else "participle" if fr.cue_form.endswith("ing") else "",
                             notes={"frame": fr}))
    return out


def _ends_paragraph(text: str, f: Found, para: _Paragraph) -> bool:
    """Whether the paragraph ends with this quote or its frame (so a next quote paragraph may continue it).

    The frame may run on in one sentence: "“...?” said Murphy, who thinks often about ... father."
    """
    if f.end < para.start:
        return False
    tail = text[f.end:para.end]
    if len(re.findall(r"\w+", tail)) <= 12:
        return True
    return (f.cue is not None and f.cue[0] >= f.end and not _MARK.search(tail)
            and not any(f.end < e < para.end for e in para.sentence_ends))


def _frame_ending(text: str, para: _Paragraph) -> Found | None:
    """The frame that ends a paragraph with a colon and introduces the next one: ``He said:``, ``Stated Stone:``."""
    if not text[para.start:para.end].rstrip().endswith(":"):
        return None
    end = para.start + len(text[para.start:para.end].rstrip())
    floor = max(para.sentence_of(end - 1)[0], para.regions[-1][1] if para.regions else para.start)
    return _frame_before(text, para, end, floor)[0]


def _merge_interrupted(text: str, found: list[Found], paras: list[_Paragraph]) -> None:
    """Merge ``“A,” X said. “B”`` (B with no frame and in the same paragraph) into one attribution."""
    merged: list[Found] = []
    for f in found:
        prev = merged[-1] if merged else None
        if (prev is not None and f.via == "" and f.source is None and f.cue is None
                and prev.notes.get("para") == f.notes.get("para") and prev.cue is not None):
            prev.fragments += f.fragments
            continue
        merged.append(f)
    found[:] = merged


# -- cue layer: indirect and partial speech -----------------------------------------------------------
def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


class _Spans:
    """Spans sorted by start with a running maximum of their ends: overlap and containment queries in
    O(log n) rather than a scan of every span (a text with thousands of quotations stays linear)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]
        self.max_end: list[int] = []
        top = -1
        for _, e in self.spans:
            top = max(top, e)
            self.max_end.append(top)

    def overlaps(self, a: tuple[int, int]) -> bool:
        k = bisect_left(self.starts, a[1])  # spans starting before a ends
        return k > 0 and self.max_end[k - 1] > a[0]

    def covers(self, a: tuple[int, int]) -> bool:
        k = bisect_left(self.starts, a[0] + 1)  # spans starting at or before a starts
        return k > 0 and self.max_end[k - 1] >= a[1]

    def overlapping(self, a: tuple[int, int]) -> list[tuple[int, int]]:
        out = []
        for j in range(bisect_left(self.starts, a[1]) - 1, -1, -1):
            if self.max_end[j] <= a[0]:
                break  # every earlier span ends before a starts
            if self.spans[j][1] > a[0]:
                out.append(self.spans[j])
        return out[::-1]


def _cue_layer(text: str, paras: list[_Paragraph], taken: list[tuple[int, int]]) -> list[Found]:
    out: list[Found] = []
    index = _Spans(taken)
    for para, s_start, s_end in _sentences(text, paras):
        if index.covers((s_start, s_end)):
            continue
        lo, hi = bisect_left(para.starts, s_start), bisect_left(para.starts, s_end) - 1
        if lo <= hi:
            out += _sentence_attributions(text, para, lo, hi, index)
    return out


def _sentences(text: str, paras: list[_Paragraph]) -> Iterator[tuple[_Paragraph, int, int]]:
    """Every non-empty sentence of every paragraph, whitespace stripped: (paragraph, start, end)."""
    for para in paras:
        prev = para.start
        for sent_end in para.sentence_ends:
            s_start, s_end = _strip(text, prev, sent_end)
            prev = sent_end
            if s_start < s_end:
                yield para, s_start, s_end


def _inside_any(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(s <= a[0] and a[1] <= e for s, e in spans)


def _in_quote(para: _Paragraph, offset: int) -> bool:
    k = bisect_left(para.region_starts, offset) - 1  # regions are sorted and disjoint
    return k >= 0 and para.regions[k][0] < offset < para.regions[k][1]


def _sentence_attributions(text: str, para: _Paragraph, lo: int, hi: int, index: _Spans) -> list[Found]:
    toks = para.tokens
    taken = index.overlapping((toks[lo][0], toks[hi][1]))  # only this sentence's
    found: list[Found] = []
    used_until = lo  # tokens before this are content or frame of an earlier attribution
    headline = _title_case(toks[lo:hi + 1])  # "Glenn Beck Says Trump ... Pose A Threat": a capitalised cue counts
    n = lo
    while n <= hi:
        word = toks[n][2]
        low = word.lower()
        if _in_quote(para, toks[n][0]) or _overlaps((toks[n][0], toks[n][1]), taken):
            n += 1
            continue
        # "according to X, ..." / "..., according to X."
        if low == "according" and n + 1 <= hi and toks[n + 1][2].lower() == "to":
            f = _according(text, para, n, lo, hi)
            if f is not None:
                found.append(f)
                n += 2
                continue
        lemma = _lemma(word)
        if low in {"call", "calls", "called", "calling"} and n + 1 <= hi and toks[n + 1][2].lower() in {"on", "for"}:
            lemma = "call"
        if not lemma or (word[:1].isupper() and n != lo and not headline) or _noun_reading(toks, n, hi):
            n += 1
            continue
        first, last = _cue_at(toks, n)
        if lemma == "call":
            last = n + 1
        first = max(first, used_until)
        participle = word.lower().endswith("ing")
        src = _source_left(toks, first, max(lo, used_until)) if first > lo and not participle else None
        via = "source"
        rest = hi - last
        if src is not None and src[0] > lo and toks[src[0] - 1][2] == ",":
            tail = [t[2].lower() for t in toks[last + 1:hi + 1]]
            at_end = rest <= 0 or tail[0] in {".", "!", "?"} or (
                tail[0] == "," and len(tail) > 1 and (tail[1] in _SUBORDINATORS or tail[1].endswith("ing")))
            # a short adjunct ("on Tuesday.") is no content; a short clause ("it would cooperate.") is
            short_tail = (bool(tail) and rest <= 6 and "that" not in tail and tail[-1] in {".", "!", "?"}
                          and "," not in tail  # no tail when the cue ends the sentence (found by fuzzing)
                          and tail[0] not in _PRONOUNS | _DETERMINERS)
            use_postposed = at_end or short_tail
        else:
            use_postposed = False
        if use_postposed:
            f = _postposed_left(text, para, n, lo, hi, lemma)
            if f is not None:
                found.append(f)
                n += 1
                continue
        if participle:
            via = "participle"  # "..., saying he will continue": the clause's subject speaks
        elif src is None and first > lo and toks[first - 1][2].lower() in {"and", "but"}:
            # "X said A and insisted B": B shares A's speaker; "X refused ... but said B": X speaks
            via = "coordinated" if found else "participle"
        elif src is None:
            f = _postposed(text, para, n, lo, hi, lemma)
            if f is not None:
                found.append(f)
            n += 1
            continue
        # content after the cue: skip an object for tell-verbs, and adjuncts before "that"
        c = last + 1
        if c > hi:
            n += 1
            continue
        if lemma in _OBJECT_VERBS:
            c = _skip_object(toks, c, hi)
            if c > hi:  # the addressee ends the sentence: "Tom Watson told Labour MPs" (found by fuzzing)
                n += 1
                continue
        that = next((m for m in range(c, min(hi, c + 8) + 1) if toks[m][2].lower() == "that"), None)
        if that is not None and all(toks[m][2] not in {",", "“", '"'} or m == c for m in range(c, that)):
            c = that
        elif toks[c][2] in {",", ":"}:
            c += 1
        if c > hi or (lemma in _NEEDS_THAT and toks[c][2].lower() not in {"that", "he", "she", "they", "we", "it", "i"}
                      and not _in_quote(para, toks[c][0] + 1) and toks[c][2] not in {"“", '"'}):
            n += 1
            continue
        end = _content_end(toks, c, hi)
        later = [a for a, _ in taken if toks[c][0] < a <= toks[end][0]]
        if later:  # another attribution's frame or quote follows: the content stops before it
            end = max(c, bisect_left(toks, (min(later),), key=lambda t: (t[0],)) - 1)
            while end > c and toks[end][2] in {",", ";", ":", "—", "-", "and", "but"}:
                end -= 1
        content = (toks[c][0], toks[end][1])
        words = len(re.findall(r"\w+", text[content[0]:content[1]]))
        if words < 3:
            n += 1
            continue
        kind = "partial" if re.search(r"[“”\"]", text[content[0]:content[1]]) else "indirect"
        f = Found(kind, [content], cue=(toks[first][0], toks[last][1]), cue_lemma=lemma,
                  source=(toks[src[0]][0], toks[src[1]][1]) if src else None,
                  confidence=0.7 if src else 0.5, via=via,
                  inherit_from=-1 if via == "coordinated" else None)
        f.notes["sentence"] = (toks[lo][0], toks[hi][1])
        found.append(f)
        used_until = end + 1
        n = end + 1
    return found


# Cue forms that are as often nouns ("30 states", "the report", "his reality show", "cast their votes"), and the
# words that, just before one, make it a noun: determiners, quantifiers, and the usual modifiers of these nouns.
_NOUN_FORMS = frozenset({"state", "states", "report", "reports", "show", "shows"})
_NOUN_BEFORE = frozenset("""the a an this that these those other many some all both several most few more each every any
no his her their its our my your of in home swing caucus primary battleground early key southern northern western
eastern border member red blue purple remaining contested opening voting large small big new latest congressional
news talk reality radio television tv slide game press interview two three four five six seven eight nine ten
eleven twelve dozen""".split())
_DEGREE = frozenset("most more less least very so quite rather particularly especially the a".split())
_REL_AUX = frozenset("""will would have has had are were is was can could may might must should""".split())


def _noun_reading(toks: list[tuple[int, int, str]], n: int, hi: int) -> bool:
    """Whether the cue word at ``n`` reads as a noun: "in 30 states", "the states that voted Tuesday", "state
    laws", "the report". Only for the forms in ``_NOUN_FORMS``; a verb keeps a subject before it. "telling" after a
    degree word or an article is an adjective: "the most telling promise", "perhaps most telling, though"."""
    low = toks[n][2].lower()
    if low == "telling" and n > 0 and toks[n - 1][2].lower() in _DEGREE:
        return True
    if low not in _NOUN_FORMS or n == 0:
        return False
    prev = toks[n - 1][2]
    if prev.lower() in _NOUN_BEFORE or prev[:1].isdigit() or prev.lower().endswith(("-rich", "er", "ern")):
        return True
    nxt = toks[n + 1][2] if n < hi else "."
    if low in {"state", "report", "show"} and nxt[:1].islower() and nxt not in {"that", "in", "how", "to"}:
        return not (low == "show" and prev.lower() in _PRONOUNS | _REL_AUX | {"to", "polls", "data", "records"})
    if nxt.lower() == "that" and n + 2 <= hi:
        after = toks[n + 2][2].lower()
        return after in _REL_AUX or after.endswith(("ed", "ly")) or after in {"vote", "hold", "award", "come"}
    return nxt.lower() in {"like", "such", "whose", "where", "with"}


def _title_case(toks: list[tuple[int, int, str]]) -> bool:
    """Whether a sentence is written as a headline: at least four words of four letters or more, nearly all
    capitalised ("Trump Says He’s Unlikely To Have A Good Relationship With David Cameron")."""
    long = [t[2] for t in toks if len(t[2]) >= 4 and t[2][:1].isalpha()]
    return len(long) >= 4 and sum(w[:1].isupper() for w in long) >= 0.85 * len(long) and not all(
        w.isupper() for w in long)


def _skip_object(toks: list[tuple[int, int, str]], c: int, hi: int) -> int:
    """Skip the addressee of ``told``/``asked`` (``told Sky News``, ``told reporters on Monday``). An addressee told
    or urged to do something is part of what is said, as PolNeAR marks it: ``urged Silicon Valley to find a
    compromise``, ``told Flint residents not to drink ...`` (not ``asked by X to``)."""
    m = c
    while m <= hi and m - c < 6:
        w = toks[m][2]
        low = w.lower()
        if low == "to" and m > c and toks[c][2].lower() != "by" and m + 1 <= hi and toks[m + 1][2][:1].islower():
            return c
        if low in {"that", "whether", "if", "why", "how", "what", "to", ":", ",", "“", '"'}:
            return m
        if low in _PRONOUNS and m > c:
            return m
        m += 1
    # no clear boundary: take one noun phrase (capitalised run or a pronoun/short phrase)
    m = c
    if toks[m][2].lower() in {"him", "her", "them", "us", "me", "reporters", "journalists"}:
        return m + 1
    while m <= hi and (toks[m][2][:1].isupper() or toks[m][2].lower() in {"the", "of", "a"}):
        if m > c and (toks[m][2].lower().rstrip(".") in {"mr", "mrs", "ms", "dr", "sir", "lord", "lady"}
                      or (m + 1 <= hi and toks[m + 1][2] in {"'s", "’s"})
                      or toks[m][2].endswith(("'s", "’s"))):
            break
        m += 1
    return m if m > c else c


def _content_end(toks: list[tuple[int, int, str]], c: int, hi: int) -> int:
    """Last token of a content starting at ``c``: the sentence end, before its full stop or a trailing cue."""
    end = hi
    for m in range(c + 1, hi + 1):
        w = toks[m][2]
        low = w.lower()
        # a second cue coordinated with this one: "said A and insisted B"
        if low == "and" and m + 1 <= hi and _lemma(toks[m + 1][2]) and not toks[m + 1][2][:1].isupper():
            return m - 1
        # ", according to X" closes the content
        if w == "," and m + 2 <= hi and toks[m + 1][2].lower() == "according" and toks[m + 2][2].lower() == "to":
            return m - 1
        # ", Labour sources said." closes the content: a second, postposed attribution follows
        if w == "," and m + 1 <= hi and _trailing_frame(toks, m + 1, hi):
            return m - 1
    return end


def _trailing_frame(toks: list[tuple[int, int, str]], m: int, hi: int) -> bool:
    """Whether tokens m..hi are ``SOURCE CUE[ adjuncts].`` closing a sentence."""
    for n in range(m + 1, min(hi, m + 8) + 1):
        if _lemma(toks[n][2]) and not toks[n][2].lower().endswith("ing"):
            if hi - n > 5:  # too long a tail to close the sentence (checked first: long sentences stay linear)
                return False
            first, _ = _cue_at(toks, n)
            src = _source_left(toks, first, m)
            tail = [t[2] for t in toks[n + 1:hi + 1]]
            return (src is not None and src[0] == m and len(tail) <= 5 and "that" not in tail
                    and not any(t in {",", "“", '"'} for t in tail))
    return False


# First words of a sentence-initial adverbial ("In addition,", "However,", "Last year,") before "according to X,".
_LEAD_ADVERBIALS = frozenset("""in however but and meanwhile also still yet so then now moreover furthermore indeed
instead overall at by on for since after before last this earlier later separately similarly nationally""".split())
# First words of what follows "according to X," when it is X's appositive or a relative clause, not the content.
_APPOSITIVE_STARTS = frozenset({"a", "an", "one", "who", "which", "whose", "whom", "where", "when"})


_QUESTION_WORDS = frozenset({"whether", "if", "what", "why", "who", "how", "when", "where", "which", "to"})


def _asked_clauses(text: str, paras: list[_Paragraph], found: list[Found]) -> list[Found]:
    """``Asked whether ..., Devine replied: “...”``: the question opening a sentence is an attribution of its
    own (``_asked``), beside the answer's. A content another layer read from the sentence start over the
    question ("Asked whether A, 75 percent said yes" read as ``CONTENT, X said``), or with its cue in the question
    ("Asked by X to respond ..., Carson said" read as "Carson asked"), gives way to it."""
    out = list(found)
    for para, s_start, s_end in _sentences(text, paras):
        lo, hi = para.token_index(s_start), para.token_index(s_end) - 1
        if hi - lo < 3:
            continue
        toks = para.tokens
        n = lo + (toks[lo][2].lower() in {"when", "after", "once", "while"})
        if toks[n][2].lower() != "asked" or (question := _asked(para, n, hi)) is None:
            continue
        span = question.fragments[0]
        over = [f for f in out if any(a < span[1] and span[0] < b for a, b in f.fragments)]
        if all(f.fragments[0][0] == s_start or (f.cue and (f.cue[0] == toks[n][0] or span[0] <= f.cue[0] < span[1]))
               for f in over):  # readings of the question itself ("Asked ... , Carson": "Carson asked")
            out = [f for f in out if f not in over] + [question]
    return out


def _asked(para: _Paragraph, n: int, hi: int) -> Found | None:
    """``Asked [by X] whether/what/to ... ,`` opening a sentence: the question up to its comma (a comma closing a
    quotation inside it included), the asker as source when named, else no source."""
    toks = para.tokens
    c, source, cue_end = n + 1, None, n
    if c <= hi and toks[c][2].lower() == "by":
        m = c + 1
        while m <= hi and m - c < 8 and toks[m][2].lower() not in _QUESTION_WORDS | {"about", ","}:
            m += 1
        if m > hi or m == c + 1:
            return None
        source, c = (toks[c + 1][0], toks[m - 1][1]), m
    if c <= hi and toks[c][2].lower() == "about":
        cue_end, c = c, c + 1  # "asked about the poll,"
    elif c > hi or toks[c][2].lower() not in _QUESTION_WORDS:
        return None
    for m in range(c + 1, hi):
        if toks[m][2] != ",":
            continue
        if not _in_quote(para, toks[m][0]):
            end = toks[m - 1][1]
        elif toks[m + 1][2] in {"”", '"'}:
            end = toks[m + 1][1]  # 'Asked whether Clinton “has the integrity to serve,” 75 percent said'
        else:
            continue
        content = (toks[c][0], end)
        kind = "partial" if para.has_mark(content) else "indirect"
        return Found(kind, [content], cue=(toks[n][0], toks[cue_end][1]), cue_lemma="ask", source=source,
                     confidence=0.5)
    return None


def _comma_before(toks: list[tuple[int, int, str]], n: int, lo: int) -> int | None:
    """Index of the comma right before token ``n``, also inside a closing quotation mark (`` “...,” said X``)."""
    if n > lo and toks[n - 1][2] == ",":
        return n - 1
    if n - 1 > lo and toks[n - 1][2] in {"”", '"'} and toks[n - 2][2] == ",":
        return n - 2
    return None


def _according(text: str, para: _Paragraph, n: int, lo: int, hi: int) -> Found | None:
    toks = para.tokens
    cue = (toks[n][0], toks[n + 1][1])
    s = n + 2
    e = s
    while e <= hi and toks[e][2] not in {",", ".", ";", "!", "?"}:
        e += 1
    if e == s:
        return None
    source = (toks[s][0], toks[e - 1][1])
    comma = _comma_before(toks, n, lo)
    # a clause resumes after "according to X,", unless what follows is X's appositive or a relative clause
    after = (toks[e + 1][0], toks[hi][1]) if e + 1 <= hi and toks[e][2] == "," else None
    if after is not None and (not _at_least_words(text, after, 3) or toks[e + 1][2].lower() in _APPOSITIVE_STARTS):
        after = None
    if comma is not None and comma > lo:
        before = (toks[lo][0], toks[comma - 1][1] if comma == n - 1 else toks[n - 1][1])
        short = not _at_least_words(text, before, 6)
        if after is None or not short:
            fragments = [before]
        elif toks[lo][2].lower() in _LEAD_ADVERBIALS or toks[lo][2].lower().endswith("ly"):
            fragments = [after]  # "In addition, according to the department, CLAUSE"
        else:
            fragments = [before, after]  # "The tax, according to a study, reduced emissions"
    elif n == lo and after is not None:
        fragments = [after]
    else:
        return None
    kind = "partial" if any(para.has_mark(f) for f in fragments) else "indirect"
    return Found(kind, fragments, cue=cue, cue_lemma="according to", source=source, confidence=0.6)


# Words that may follow a postposed source before its clause ends: "said Mr Smith in an interview / on Tuesday".
_AFTER_SOURCE = frozenset("""in on at during after before from to via by with about while when as yesterday today
tonight earlier later recently last this late early monday tuesday wednesday thursday friday saturday sunday""".split())


def _postposed(text: str, para: _Paragraph, n: int, lo: int, hi: int, lemma: str) -> Found | None:
    """``CONTENT, X said.`` / ``CONTENT, said X.``: a cue near the sentence end with its content before."""
    toks = para.tokens
    # "..., said Mr Smith." : source after the cue
    comma = _comma_before(toks, n, lo)
    if comma is not None and comma > lo + 1:
        end_tok = n + 1
        while end_tok <= hi and toks[end_tok][2] not in {",", ".", ";", "!", "?"}:
            end_tok += 1
        src = _source_right(toks, n + 1, end_tok - 1) if n + 1 <= hi else None
        # the source fills the clause, or an adjunct follows it ("said Mr Smith on Tuesday"); a verb after
        # it ("..., said the convention could be ...") makes it the subject of a content, not a source
        if src is not None and src[1] + 1 < end_tok and toks[src[1] + 1][2].lower() not in _AFTER_SOURCE:
            src = None
        if src is not None and (end_tok > hi or toks[end_tok][2] in {".", "!", "?", ","}):
            src = _with_appositive(toks[:hi + 1], src)
            content = (toks[lo][0], toks[n - 2 if comma == n - 1 else n - 1][1])
            if _at_least_words(text, content, 4):
                kind = "partial" if para.has_mark(content) else "indirect"
                return Found(kind, [content], cue=(toks[n][0], toks[n][1]), cue_lemma=lemma,
                             source=(toks[src[0]][0], toks[src[1]][1]), confidence=0.6)
    return _postposed_left(text, para, n, lo, hi, lemma)


def _postposed_left(text: str, para: _Paragraph, n: int, lo: int, hi: int, lemma: str) -> Found | None:
    """``CONTENT, X said [to reporters].``: the source before the cue, right after a comma."""
    toks = para.tokens
    first, last = _cue_at(toks, n)
    j = first - 1
    # The source must fill the words between the comma and the cue, and a source is far shorter than
    # _MAX_SOURCE_TOKENS: a bounded look-back keeps a long sentence full of cues linear.
    while j > lo and toks[j][2] != "," and first - j < _MAX_SOURCE_TOKENS:
        j -= 1
    if j <= lo + 2 or toks[j][2] != ",":
        return None
    src = _source_left(toks, first, j + 1)
    if src is None or src[0] != j + 1:
        return None
    n_rest = hi - last
    rest = [t[2] for t in toks[last + 1 : last + 1 + min(n_rest, 9)]]  # only the first few words are read
    subordinate = n_rest > 1 and rest[0] == "," and rest[1].lower() in _SUBORDINATORS
    if not subordinate and (n_rest > 8 or any(_lemma(w) for w in rest)):
        return None
    content = (toks[lo][0], toks[j - 1][1])
    kind = "partial" if para.has_mark(content) else "indirect"
    return Found(kind, [content], cue=(toks[first][0], toks[last][1]), cue_lemma=lemma,
                 source=(toks[src[0]][0], toks[src[1]][1]), confidence=0.6)


# -- public API ---------------------------------------------------------------------------------------
def _span(text: str, start: int, end: int) -> Span:
    return Span(start, end, text[start:end])


def to_quotes(text: str, found: list[Found], article_id: str = "") -> list[Quote]:
    """Resolve speakers and turn found attributions into ``Quote`` records (offsets into ``text``)."""
    from storytrace.nlp import speakers

    resolved = speakers.resolve(text, found)
    quotes: list[Quote] = []
    for f, who in zip(found, resolved, strict=True):
        frags = tuple(_span(text, s, e) for s, e in f.fragments)
        quotes.append(Quote(
            article_id=article_id,
            kind=f.kind,
            content=_span(text, f.start, f.end),
            content_spans=frags if len(frags) > 1 else (),
            cue=_span(text, *f.cue) if f.cue else None,
            cue_lemma=f.cue_lemma,
            source=_span(text, *(f.source or who.mention)) if f.source or who.mention else None,
            speaker=who.speaker,
            anonymous=who.anonymous,
            unresolved_reason=who.reason,
            confidence=round(f.confidence * who.confidence, 3),
        ))
    return quotes


_DOUBLE_APOSTROPHE = re.compile(r"'{2,3}")


def curl_double_apostrophes(text: str) -> str:
    """``''quoted''`` (two apostrophes as a double quote mark: New York Times archive and LexisNexis copy) as curly
    marks, offsets kept: each pair becomes the mark and a filler (a space, or a line break beside a line break)
    on the side away from the words, so an opening mark stays the first character of its line."""
    if "''" not in text:
        return text
    out = list(text)
    for m in _DOUBLE_APOSTROPHE.finditer(text):
        start, end = m.span()
        before = text[start - 1] if start else "\n"
        after = text[end] if end < len(text) else "\n"
        if (before.isspace() or before in "([—–-") and not after.isspace():  # opening: ''Look, '''Hey
            out[start], out[start + 1] = ("\n" if before == "\n" else " "), "“"
        elif not before.isspace():  # closing: planet,'' or us,'''
            out[end - 2], out[end - 1] = "”", ("\n" if after == "\n" else " ")
    return "".join(out)


# A curly mark turned the wrong way (a typo that survives copy editing): an opening mark after the words it closes
# (`unusual,“ said Larry Noble`) or a closing one before the words it opens (`said ”It was`).
_TURNED_OPENING = re.compile(r"(?<=[\w,.!?…—-])“(?=\s|$)")
_TURNED_CLOSING = re.compile(r"(?:(?<=\s)|^)”(?=\w)")


def turn_marks(text: str) -> str:
    """Curly double marks turned the wrong way set right, offsets kept (one character for one)."""
    if "“" not in text and "”" not in text:
        return text
    return _TURNED_CLOSING.sub("“", _TURNED_OPENING.sub("”", text))


def extract(text: str, article_id: str = "", *, parse: bool = True, tagger: bool = False,
            model: str = "fast") -> list[Quote]:
    """Return every quotation of ``text`` with cue, source mention and resolved speaker; ``tagger`` joins the
    MiniLM span tagger's attributions to the layers' (``TAGGER_JOIN``; needs the ``embeddings`` extra); ``model``
    is the English pipeline the parse layer reads ("fast", "accurate" or a model folder: ``nlp.load``)."""
    from storytrace.nlp import attribution

    marked = turn_marks(curl_double_apostrophes(text))
    with attribution.using(model):
        quotes = to_quotes(marked, find_in_text(marked, parse=parse, tagger=tagger), article_id)
    if marked is text:
        return quotes
    return [_reread(q, text, marked) for q in quotes]


def _reread(quote: Quote, text: str, marked: str) -> Quote:
    """The same quotation with its spans' text read from ``text``; a span that starts or ends on a curled mark
    takes in both apostrophes of the original (``''Look,''``, not ``'Look,'``)."""
    def again(span: Span) -> Span:
        start, end = span.start, span.end
        if start > 0 and marked[start] == "“" and text[start - 1 : start + 1] == "''":
            start -= 1
        if end < len(text) and marked[end - 1] == "”" and text[end - 1 : end + 1] == "''":
            end += 1
        return _span(text, start, end)

    return replace(quote, content=again(quote.content), content_spans=tuple(map(again, quote.content_spans)),
                   cue=None if quote.cue is None else again(quote.cue),
                   source=None if quote.source is None else again(quote.source))


def find(doc: Any) -> list[Quote]:
    """Return the quotations of a spaCy ``Doc`` (offsets into ``doc.text``); its text is re-read."""
    return extract(doc.text)
