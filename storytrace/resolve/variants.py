"""Group quotations of the same utterance across articles, and say how each outlet's version differs.

1. Units. Every stored quotation is a unit: a direct quote's content, each quoted fragment of three or
   more words inside a partial quote, an indirect quote's content (compared as a paraphrase), and
   quoted fragments the extractor did not attach to a quote (``loose``), so "come together now" in one
   outlet meets the longer quotation in another.
2. Candidates. An inverted index over word 3-grams (lower-cased, punctuation dropped): a unit meets
   only units that share enough of its 3-grams; 3-grams carried by more than ``MAX_DF`` units
   ("i don't think", "we're going to") are not indexed. No pass over all pairs.
3. Verification on the word sequences (rapidfuzz LCS): the shorter unit must be found in the longer
   one, in order (LCS) or by its word pairs (sentences moved), to at least ``MIN_CONTAIN``; units of
   three to five words only link when they occur word for word inside the other (a partial quote).
   A direct quote interrupted or followed by narration ("...," Trump told The Associated Press. "...";
   "... lying" about her record) is compared on its quoted words only (when six or more); words a
   speaker quotes from someone else (single quotes inside double ones) never count for a unit that
   quotes nobody; a paraphrase must have ``PARAPHRASE_RUN`` words found; a short quoted fragment found
   in part must be found at both ends (``EDGES``). Where the longer quotation starts or stops inside the
   shorter one (two excerpts of one answer), the shorter one's words beyond it do not count as missing,
   with ``OVERLAP_MIN`` words found. Two quotations of ``REWORDED_MIN`` words or more
   that fall short also link as reworded renderings when one stretch of the longer, around a run
   found, holds ``MIN_CONTAIN`` of the shorter one's content words and ``REWORDED_ORDER`` of its words
   in order (names swapped, words changed: "Ted Cruz or Donald Trump as the nominee" and "Trump or
   Cruz to be the nominee").
4. Groups by union-find, strongest links first (on ties, the link whose shorter unit is longer), with a
   guard against chaining: two groups merge only if their canonical texts (the longest member) also
   match each other loosely (``GUARD``), so a slogan quoted inside two different speeches does not glue
   them together.

Per group: the canonical text (the longest member), each member's word-level diff against it and its
change flags (``punctuation``, ``substantive`` with the substituted words, ``truncation``,
``omission``, ``addition``, ``reordering``, ``paraphrase``), and the first appearance by article date.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz.distance import LCSseq

from storytrace.resolve.groups import UnionFind
from storytrace.settings import Settings
from storytrace.stages import CorpusOutput, CorpusView

MIN_WORDS = 3  # shorter units cannot name an utterance
SHORT = 6  # units with fewer words than this link only when found word for word
MIN_CONTAIN = 0.8  # share of the shorter unit found in the longer one
GUARD = 0.5  # canonicals of two groups must match this well for the groups to merge
MAX_DF = 200  # 3-grams in more units than this are too common to index
MIN_SHARED = 0.3  # share of the smaller unit's 3-grams shared with a candidate
PARAPHRASE_RUN = 10  # words of a paraphrase (indirect quote) that must be found in a quote for a link
EDGES = 12  # quoted fragments shorter than this, found only in part, must be found at both ends
OVERLAP_MIN = 8  # words two quotations must share where one is cut off (each quoting a part of one answer)
REWORDED_MIN = 10  # quotations of this many words or more may link as reworded renderings
REWORDED_ORDER = 0.75  # ... when this share of the shorter one's words is aligned in order in a stretch of the other
# Words that carry no content: a reworded rendering must keep the shorter quotation's other words.
FUNCTION_WORDS = frozenset(
    "a an the and or but nor of to in on at for with by from as into about than then so if that this these those "
    "it its is are was were be been being am do does did have has had will would can could should shall may might "
    "must not no i me my we us our you your he him his she her they them their there here what which who whom "
    "when where why how all any some just very also too up down out off over again".split())

_TOKEN = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")
QUOTED = re.compile(r"[“\"]([^“”\"]+)[”\"]")
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
OPENERS = "“\"‘'"
_OUTER = re.compile(r"''|[“”\"]")
# single quotation marks inside a double-quoted span: opening before a word, closing after one
_NESTED = re.compile(r"(?<!\w)[‘'](?=\w)(.+?)(?<=[\w.,!?…])[’'](?!\w)")


@dataclass(frozen=True)
class QuoteUnit:
    """One quotation (or quoted fragment) as compared across articles; offsets into the raw text."""

    key: str  # unique: "<article id>:<quote index>[:<fragment>]" or "<article id>:loose:<start>"
    article_id: str
    text: str
    start: int
    end: int
    kind: str = "direct"  # direct | partial | indirect | loose
    speaker: str | None = None
    outlet: str | None = None
    published: str | None = None
    quote_index: int | None = None  # position in the article's quotes payload


@dataclass(frozen=True)
class Change:
    """One word-level difference of a member against the canonical text."""

    op: str  # replace | delete | insert
    canonical: str
    variant: str


@dataclass(frozen=True)
class Variant:
    """A member of a group: the unit, its similarity to the canonical, its diff and change flags."""

    unit: QuoteUnit
    similarity: float
    changes: tuple[Change, ...] = ()
    flags: tuple[str, ...] = ()
    substitutions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class VariantGroup:
    """Quotations of one utterance; ``members[0]`` is the canonical one."""

    id: str
    members: tuple[Variant, ...]
    first: QuoteUnit  # the earliest appearance by article date (then canonical first)

    @property
    def canonical(self) -> QuoteUnit:
        return self.members[0].unit

    def to_records(self) -> list[tuple[str, str, dict[str, Any]]]:
        canon, first = self.canonical, self.first
        outlets = sorted({m.unit.outlet or "" for m in self.members} - {""})
        flags = sorted({f for m in self.members for f in m.flags})
        head = {"canonical": canon.text, "canonical_article": canon.article_id, "size": len(self.members),
                "articles": len({m.unit.article_id for m in self.members}), "outlets": outlets, "flags": flags,
                "first": {"article_id": first.article_id, "outlet": first.outlet, "published": first.published}}
        rows = []
        for m in self.members:
            u = m.unit
            rows.append((self.id, u.article_id, {
                **head, "key": u.key, "text": u.text, "start": u.start, "end": u.end, "kind": u.kind,
                "speaker": u.speaker, "outlet": u.outlet, "published": u.published, "quote_index": u.quote_index,
                "canonical_member": u.key == canon.key, "similarity": round(m.similarity, 4),
                "flags": list(m.flags), "substitutions": [list(s) for s in m.substitutions],
                "diff": [{"op": c.op, "canonical": c.canonical, "variant": c.variant} for c in m.changes],
            }))
        return rows


# -- text ---------------------------------------------------------------------------------------------
def tokens(text: str) -> list[str]:
    """Words and punctuation marks, as written."""
    return _TOKEN.findall(text)


def _norm(token: str) -> str:
    return token.lower().replace("’", "'")


def words(text: str) -> list[str]:
    """Lower-cased words without punctuation: what matching compares."""
    return [_norm(t) for t in _TOKEN.findall(text) if t[0].isalnum() or t[0] == "_"]


def _is_word(token: str) -> bool:
    return token[0].isalnum() or token[0] == "_"


def normalise(text: str) -> str:
    """The exact-match baseline's key: lower-cased words joined by spaces, punctuation removed."""
    return " ".join(words(text))


# -- units from the quotes stage ------------------------------------------------------------------------
def units_from_quotes(article_id: str, quotes: Sequence[dict[str, Any]], *, outlet: str | None = None,
                      published: str | None = None) -> list[QuoteUnit]:
    """Turn one article's ``quotes`` payload into comparable units (quoted fragments of partial quotes)."""
    out: list[QuoteUnit] = []
    for i, q in enumerate(quotes):
        content, start = q["content"], q["content_start"]
        common = {"article_id": article_id, "kind": q["kind"], "speaker": q.get("speaker"), "outlet": outlet,
                  "published": published, "quote_index": i}
        fragments = list(QUOTED.finditer(content)) if q["kind"] == "partial" else []
        if fragments:
            for n, m in enumerate(fragments):
                if len(words(m.group(1))) >= MIN_WORDS:
                    out.append(QuoteUnit(key=f"{article_id}:{i}:{n}", text=m.group(1), start=start + m.start(1),
                                         end=start + m.end(1), **common))
        elif len(words(content)) >= MIN_WORDS:
            out.append(QuoteUnit(key=f"{article_id}:{i}", text=content, start=start, end=q["content_end"], **common))
    return out


def loose_fragments(article_id: str, raw_text: str, covered: Sequence[tuple[int, int]], *,
                    outlet: str | None = None, published: str | None = None) -> list[QuoteUnit]:
    """Quoted fragments of the raw text (three words or more) that no stored quotation covers."""
    out = []
    for m in QUOTED.finditer(raw_text):
        start, end = m.start(1), m.end(1)
        if any(s < end and start < e for s, e in covered) or len(words(m.group(1))) < MIN_WORDS:
            continue
        out.append(QuoteUnit(key=f"{article_id}:loose:{start}", article_id=article_id, text=m.group(1),
                             start=start, end=end, kind="loose", outlet=outlet, published=published))
    return out


# -- matching -------------------------------------------------------------------------------------------
@dataclass
class _Prepared:
    unit: QuoteUnit
    words: list[str]  # the words matching compares (a direct quote's narration between its quotes left out)
    grams: set[int] = field(default_factory=set)  # word 3-grams of all the unit's words (candidate lookup)
    nested: list[bool] = field(default_factory=list)  # per matching word: quoted by the speaker from someone else
    free: set[int] = field(default_factory=set)  # 3-grams of matching words with no nested word
    own: set[int] = field(default_factory=set)  # 3-grams of matching words


def _hash3(w: Sequence[str], i: int) -> int:
    return hash((w[i], w[i + 1], w[i + 2]))


def _outer_spans(text: str) -> list[tuple[int, int]]:
    """Character spans inside double quotation marks (“…”, "…", and ''…'' as some outlets write them)."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    for m in _OUTER.finditer(text):
        if start is None:
            if m.group() != "”":
                start = m.end()
        elif m.group() != "“":
            spans.append((start, m.start()))
            start = None
    if start is not None:
        spans.append((start, len(text)))
    return spans


def _prepare(unit: QuoteUnit) -> _Prepared:
    """The unit's words for matching. A direct quote interrupted by narration ("...," Trump said. "...") is
    matched on its quoted words only, and so is one followed by narration ("... lying" about her record) when
    it quotes ``SHORT`` words or more (fewer could only link word for word: the reporter's words around them
    are then what can be compared); words in single quotes inside double ones (the speaker quoting someone
    else, as in a tweet quoting the FBI director) are marked ``nested``."""
    text = unit.text
    found = [(m.start(), _norm(m.group())) for m in _TOKEN.finditer(text) if _is_word(m.group())]
    everything = [w for _s, w in found]
    grams = {_hash3(everything, i) for i in range(len(everything) - 2)}
    fragment = unit.kind in ("partial", "loose")
    spans = [(0, len(text))] if fragment else _outer_spans(text)
    if not fragment and text.lstrip()[:1] in OPENERS and spans:
        quoted = [(s, w) for s, w in found if any(a <= s < b for a, b in spans)]
        found = quoted if len(spans) >= 2 or len(quoted) >= SHORT else found
    inner = [(m.start(1), m.end(1)) for a, b in spans for m in _NESTED.finditer(text, a, b)]
    w = [x for _s, x in found]
    nested = [any(a <= s < b for a, b in inner) for s, _x in found]
    own = {_hash3(w, i) for i in range(len(w) - 2)}
    free = {_hash3(w, i) for i in range(len(w) - 2) if not any(nested[i : i + 3])}
    return _Prepared(unit, w, grams, nested, free, own)


def _contains(short: _Prepared, long: _Prepared) -> bool:
    """The short unit's words occur word for word in the long one (not inside words it quotes from others)."""
    s, n = short.words, len(short.words)
    own = not any(short.nested)
    return any(long.words[i : i + n] == s and not (own and any(long.nested[i : i + n]))
               for i in range(len(long.words) - n + 1))


def _quoted(unit: QuoteUnit) -> bool:
    """The unit's words are quoted: a direct quote, a quoted fragment, or a content opening with a quote mark."""
    return unit.kind != "indirect" or unit.text.lstrip()[:1] in OPENERS


def match_score(a: _Prepared, b: _Prepared) -> float:
    """How much of the shorter unit is found in the longer one (0..1); 0 when they must not link.

    Found means in runs of three words or more, in order (difflib blocks) or in any order (word
    3-grams, for moved sentences); scattered single words never count. Units of three to five words
    link only when they are quoted fragments found word for word, since "the United States" is a
    phrase, not an utterance. Two paraphrases (indirect quotes) never link: shared wording outside
    quotation marks is a shared topic ("a temporary ban on Muslims entering the United States", "raising
    the minimum wage to $15"), not one utterance; for the same reason a paraphrase meets a quote only
    with ``PARAPHRASE_RUN`` words found ("Sanders to be the next president of the United States" is not
    a rendering of a quote ending "... Donald Trump to be the next president of the United States").
    Words the longer unit quotes from someone else (Trump's tweet quoting the FBI director's
    "extremely careless ...") are not the speaker's, so they do not count for a unit that quotes nobody.
    A quoted fragment of under ``EDGES`` words found only in part must be found at both ends ("the U.S.
    as well as Mexico" is not in "... the U.S. as well ― as long as ..."). Two quotations (not paraphrases)
    of ``REWORDED_MIN`` words or more that fall short of ``MIN_CONTAIN`` are scored again as reworded
    renderings (``_reworded``): words changed, names swapped, a clause dropped; and when the longer one
    starts or stops inside the shorter (two excerpts of one answer, ``OVERLAP_MIN``), the shorter one's
    words beyond its ends do not count as missing. (Resolved speakers are not
    compared: on PolNeAR train a veto on different speakers removed no false link and three true ones,
    through speaker errors.)
    """
    short, long = (a, b) if len(a.words) <= len(b.words) else (b, a)
    n = len(short.words)
    if n < MIN_WORDS or not (_quoted(a.unit) or _quoted(b.unit)):
        return 0.0
    fragment = short.unit.kind in ("partial", "loose")
    if n < SHORT:
        return 1.0 if (fragment or short.unit.text.lstrip()[:1] in OPENERS) and _contains(short, long) else 0.0
    blocks = [blk for blk in difflib.SequenceMatcher(None, short.words, long.words, autojunk=False)
              .get_matching_blocks() if blk.size >= 3]
    if fragment and n < EDGES and (not blocks or blocks[0].a != 0 or blocks[-1].a + blocks[-1].size != n):
        return 0.0  # a short quoted fragment found only in part must be found at both ends
    own = not any(short.nested)  # the short unit quotes nobody: words the long one quotes from others do not count
    found = sum(blk.size - (sum(long.nested[blk.b : blk.b + blk.size]) if own else 0) for blk in blocks)
    long_grams = long.free if own else long.own
    any_order = len(short.own & long_grams) / max(len(short.own), 1)
    score = max(found / n, any_order)
    if score < MIN_CONTAIN and n >= REWORDED_MIN and _quoted(short.unit) and _quoted(long.unit):
        score = max(score, _reworded(short, long, blocks, own=own))
    if score < MIN_CONTAIN and blocks and _quoted(short.unit) and _quoted(long.unit):
        # the longer quotation starts or stops inside the shorter one: its words beyond that point were never
        # quoted there, so they are not missing ("... has no comment on the actions of that person." against
        # "has no comment on the actions of that person that murdered Trayvon.")
        head = blocks[0].a if blocks[0].b == 0 else 0
        tail = n - blocks[-1].a - blocks[-1].size if blocks[-1].b + blocks[-1].size == len(long.words) else 0
        if (head or tail) and found >= OVERLAP_MIN:
            score = max(score, found / (n - head - tail))
    if short.unit.kind == "indirect" and score * n < PARAPHRASE_RUN:
        return 0.0  # a paraphrase's few words found in a quote are a topic phrase, not the speaker's words
    return score


def _reworded(short: _Prepared, long: _Prepared, blocks: Sequence[difflib.Match], *, own: bool) -> float:
    """The share of the shorter quotation's content words found in one stretch of the longer, around one of the
    runs found (``blocks``), when that stretch also holds ``REWORDED_ORDER`` of its words in order (single words
    count here: "Ted Cruz or Donald Trump as the nominee" against "Trump or Cruz to be the nominee"); else 0."""
    n = len(short.words)
    content = Counter(w for w in short.words if w not in FUNCTION_WORDS)
    if not content:
        return 0.0
    slack = max(2, n // 4)
    other = [w if not (own and nested) else None for w, nested in zip(long.words, long.nested, strict=True)]
    best = 0.0
    for start in sorted({max(0, blk.b - blk.a - slack) for blk in blocks}):
        stretch = other[start : start + n + 2 * slack]
        if LCSseq.similarity(short.words, stretch) < REWORDED_ORDER * n:
            continue
        have = Counter(stretch)
        best = max(best, sum(min(c, have[w]) for w, c in content.items()) / sum(content.values()))
    return best


def candidates(prepared: Sequence[_Prepared], *, max_df: int = MAX_DF,
               min_shared: float = MIN_SHARED) -> Iterable[tuple[int, int]]:
    """Pairs of units of different articles sharing enough indexed 3-grams (each pair once, i < j)."""
    df: Counter[int] = Counter()
    for p in prepared:
        df.update(p.grams)
    index: dict[int, list[int]] = {}
    for j, p in enumerate(prepared):
        keep = [g for g in p.grams if df[g] <= max_df]
        shared: Counter[int] = Counter()
        for g in keep:
            shared.update(index.get(g, ()))
        for i, count in shared.items():
            other = prepared[i]
            if other.unit.article_id == p.unit.article_id:
                continue
            if count >= max(1.0, min_shared * min(len(other.grams), len(p.grams))):
                yield i, j
        for g in keep:
            index.setdefault(g, []).append(j)


def find_variants(units: Iterable[QuoteUnit], *, min_contain: float = MIN_CONTAIN, guard: float = GUARD,
                  max_df: int = MAX_DF) -> list[VariantGroup]:
    """Group the units that quote one utterance; only groups spanning two or more articles are returned."""
    prepared = [_prepare(u) for u in units]
    links = []
    for i, j in candidates(prepared, max_df=max_df):
        score = match_score(prepared[i], prepared[j])
        if score >= min_contain:
            links.append((score, i, j))
    return group_links(dict(enumerate(prepared)), links, guard=guard)


def group_links(prepared: Mapping[int, _Prepared], links: list[tuple[float, int, int]], *,
                guard: float = GUARD) -> list[VariantGroup]:
    """Union the verified links (score, i, j), strongest first, into groups; ``prepared`` maps unit index to
    unit and needs only the linked ones (the Spark engine finds and scores links elsewhere, then calls this)."""
    def size(t: tuple[float, int, int]) -> int:
        return min(len(prepared[t[1]].words), len(prepared[t[2]].words))

    links = sorted(links, key=lambda t: (-t[0], -size(t), t[1], t[2]))  # ties: the longer evidence first
    found = UnionFind()
    canon: dict[int, int] = {}  # per root: the index of its longest member

    for _score, i, j in links:
        ri, rj = found.find(i), found.find(j)
        if ri == rj:
            continue
        ci, cj = canon.get(ri, ri), canon.get(rj, rj)
        if {ci, cj} != {i, j} and match_score(prepared[ci], prepared[cj]) < guard:
            continue  # the two groups' canonicals differ: this link would chain unrelated quotations
        found.union(ri, rj)
        root = min(ri, rj)  # the union's root: a group is rooted at its smallest index
        canon[root] = max((ci, cj), key=lambda k: (len(prepared[k].words), -k))

    members = found.groups()  # units never linked are groups of one, dropped below anyway
    groups = []
    for root, idx in members.items():
        if len({prepared[i].unit.article_id for i in idx}) < 2:
            continue
        head = prepared[canon.get(root, root)]
        rest = sorted((i for i in idx if i != canon.get(root, root)), key=lambda i: prepared[i].unit.key)
        variants = [Variant(head.unit, 1.0)] + [compare(head.unit, prepared[i].unit) for i in rest]
        first = min((v.unit for v in variants), key=lambda u: (u.published or "9999", u.key != head.unit.key))
        groups.append((first.published or "9999", head.unit.key, variants, first))
    groups.sort(key=lambda g: (g[0], g[1]))
    return [VariantGroup(f"q{n + 1}", tuple(v), first) for n, (_d, _k, v, first) in enumerate(groups)]


# -- diff and flags --------------------------------------------------------------------------------------
def compare(canonical: QuoteUnit, unit: QuoteUnit) -> Variant:
    """Diff ``unit`` against the canonical text word by word and flag what kind of changes it has."""
    a, b = tokens(canonical.text), tokens(unit.text)
    na, nb = [_norm(t) for t in a], [_norm(t) for t in b]
    ops = difflib.SequenceMatcher(None, na, nb, autojunk=False).get_opcodes()
    changes: list[Change] = []
    flags: set[str] = set()
    subs: list[tuple[str, str]] = []
    a_words = [k for k, t in enumerate(a) if _is_word(t)]
    first_word, last_word = (a_words[0], a_words[-1]) if a_words else (0, 0)
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            if a[i1:i2] != b[j1:j2]:
                flags.add("punctuation")  # same words, other case or apostrophe
            continue
        wa = [t for t in a[i1:i2] if _is_word(t)]
        wb = [t for t in b[j1:j2] if _is_word(t)]
        changes.append(Change(tag, _join(a[i1:i2]), _join(b[j1:j2])))
        if not wa and not wb:
            flags.add("punctuation")
        elif wa and wb:
            if len(wa) <= 3 and len(wb) <= 3:
                flags.add("substantive")
                subs.append((" ".join(wa), " ".join(wb)))
            else:
                flags.add("paraphrase")
        elif wa:  # words of the canonical missing here
            flags.add("truncation" if i1 <= first_word or i2 > last_word else "omission")
        else:
            flags.add("addition")
    if _reordered(canonical.text, unit.text):
        flags.add("reordering")
    if unit.kind == "indirect" and canonical.kind != "indirect":
        flags.add("paraphrase")
    wa_all, wb_all = words(canonical.text), words(unit.text)
    sim = LCSseq.normalized_similarity(wa_all, wb_all) if wa_all and wb_all else 0.0
    order = ("substantive", "paraphrase", "reordering", "truncation", "omission", "addition", "punctuation")
    return Variant(unit, sim, tuple(changes), tuple(f for f in order if f in flags), tuple(subs))


def _join(toks: Sequence[str]) -> str:
    out = ""
    for t in toks:
        out += t if not out or not _is_word(t) and t not in "“\"(‘" else " " + t
    return out


def _reordered(canonical: str, variant: str) -> bool:
    """Whether the variant's sentences come in another order than the canonical's."""
    canon = [words(s) for s in _SENTENCE.findall(canonical)]
    canon = [s for s in canon if s]
    where = []
    for sent in _SENTENCE.findall(variant):
        w = words(sent)
        if len(w) < 3:
            continue
        best, score = -1, 0.0
        for k, c in enumerate(canon):
            s = LCSseq.similarity(w, c) / len(w)
            if s > score:
                best, score = k, s
        if score >= 0.6:
            where.append(best)
    return any(x > y for x, y in zip(where, where[1:], strict=False))


def pairs_of(groups: Sequence[VariantGroup]) -> set[tuple[str, str]]:
    """Every unordered pair of unit keys grouped together."""
    out: set[tuple[str, str]] = set()
    for g in groups:
        keys = sorted(m.unit.key for m in g.members)
        out.update((a, b) for n, a in enumerate(keys) for b in keys[n + 1 :])
    return out


_UNIT_FIELDS = ("content", "content_start", "content_end", "kind", "speaker")


def variants_stage(view: CorpusView, settings: Settings) -> CorpusOutput:
    """Corpus stage: group quotations of one utterance across articles; one record per member."""
    # Only the fields units_from_quotes reads, and only for articles with quotations: the whole payloads of a
    # 100k-article corpus would be held here at once (cue, source, spans: about four times as much).
    quoted: dict[str, list[dict[str, Any]]] = {}
    for article_id, inputs in view.inputs():
        if found := inputs["quotes"]["quotes"]:
            quoted[article_id] = [{k: q.get(k) for k in _UNIT_FIELDS} for q in found]
    units: list[QuoteUnit] = []
    for article in view.articles():
        quotes = quoted.pop(article.id, [])
        found = units_from_quotes(article.id, quotes, outlet=article.outlet, published=article.published)
        covered = [(q["content_start"], q["content_end"]) for q in quotes]
        found += loose_fragments(article.id, article.raw_text, covered, outlet=article.outlet,
                                 published=article.published)
        units.extend(found)
    return stage_output(len(units), find_variants(units))


def stage_output(units: int, groups: Sequence[VariantGroup]) -> CorpusOutput:
    """The stage's summary and records for groups found among ``units`` quotations (either engine)."""
    records = [r for g in groups for r in g.to_records()]
    summary = {"units": units, "groups": len(groups), "quotations_in_groups": len(records),
               "with_substantive_changes": sum(1 for g in groups if any("substantive" in m.flags for m in g.members)),
               "largest": [{"id": g.id, "size": len(g.members), "canonical": g.canonical.text[:200]}
                           for g in sorted(groups, key=lambda g: -len(g.members))[:20]]}
    return CorpusOutput(summary, records)
