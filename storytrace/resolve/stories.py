"""Cluster articles into stories in one streaming pass, in date order.

Each article becomes a bag of words (title words count twice) weighted by sublinear term frequency and an
IDF learned online from the articles seen so far, truncated to its ``article_terms`` strongest terms, plus
the set of people and organisations it names (quote speakers; PERSON/ORG entities when the model ran).
It is compared with the live stories that share one of its strongest terms or names:

    score = (cosine(article, story centroid) + name_weight * shared-name share) * exp(-days since story / decay)

It joins the best story when the score reaches ``threshold``, else starts a story (recording the best one
below the threshold as the story it may follow, when that one scored at least ``follow_threshold``).
Memory stays bounded: centroids keep their ``story_terms`` strongest terms, stories idle for
``retire_days`` leave the index, and the documents themselves are never kept.
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from storytrace.settings import Settings

_TOKEN = re.compile(r"[a-z][a-z'’-]{2,}")
STOPWORDS = frozenset("""about above after again against all also although among and another any are around
because been before being below between both but can cannot could did does doing down during each either
even ever every few for from further had has have having her here hers herself him himself his how however
into its itself just last least less like made make many may might more most much must near need neither
never new next nor not now off often once one only other others our ours out over own per perhaps rather
said same say says see seen she should since some still such than that the their theirs them themselves then
there these they this those though three through thus too two under until upon very was way well were what
whatever when where whether which while who whom whose why will with within without would year years yet
you your yours told tell added according also week weeks day days time times monday tuesday wednesday
thursday friday saturday sunday today yesterday tomorrow mr mrs ms people""".split())


@dataclass(frozen=True)
class StoryOptions:
    """Tuning of the clusterer; threshold chosen on the dev window of the Reuters story set (`bench stories`)."""

    # join the best story at or above this score (0.25 until session 3: dev pairwise F1 0.68 -> 0.80 at 0.13)
    threshold: float = 0.13
    follow_threshold: float = 0.08  # below threshold but above this: a new story that follows the best one
    name_weight: float = 0.15  # weight of the shared-name share beside the text cosine
    decay_days: float = 365.0  # e-folding time of a story's pull on later articles
    retire_days: float = 120.0  # stories idle longer than this leave the index
    article_terms: int = 60  # strongest terms kept per article
    story_terms: int = 150  # strongest terms kept per story centroid
    query_terms: int = 12  # terms (and all names) used to find candidate stories
    max_candidates: int = 50  # candidates scored per article
    # Pseudo-documents in which no term occurs, added to the online IDF: without them the first articles of a
    # stream would count every shared word as common and every story would start alone.
    idf_prior: float = 50.0


@dataclass(frozen=True)
class Doc:
    """One article as the clusterer sees it."""

    id: str
    day: int | None  # proleptic ordinal of the publication date, None when unknown
    terms: dict[str, int]  # term -> count (title counted twice)
    names: frozenset[str] = frozenset()
    title: str = ""


def tokens(text: str) -> list[str]:
    """Lower-cased content words, with a crude plural fold ("talks" -> "talk")."""
    out = []
    for t in _TOKEN.findall(text.lower()):
        t = t.strip("'’-")
        if len(t) < 3 or t in STOPWORDS:
            continue
        if len(t) > 4 and t.endswith("s") and not t.endswith(("ss", "us", "is")):
            t = t[:-1]
        out.append(t)
    return out


def make_doc(id: str, text: str, *, title: str = "", published: str | None = None,
             names: Iterable[str] = (), keep: int = 200) -> Doc:
    """Build a clusterer document from text, title, ISO date and named people/organisations."""
    counts = Counter(tokens(text))
    for t in tokens(title):
        counts[t] += 2
    if len(counts) > keep:
        counts = Counter(dict(counts.most_common(keep)))
    return Doc(id, to_day(published), dict(counts), frozenset(n.casefold() for n in names if n), title)


def to_day(published: str | None) -> int | None:
    if not published:
        return None
    try:
        return date.fromisoformat(published[:10]).toordinal()
    except ValueError:
        return None


@dataclass
class _Story:
    id: int
    first_day: int | None
    last_day: int | None
    centroid: dict[str, float] = field(default_factory=dict)
    norm: float = 0.0
    names: Counter[str] = field(default_factory=Counter)
    size: int = 0
    title: str = ""
    follows: int | None = None


@dataclass(frozen=True)
class Assignment:
    """Where one article went: its story, the score that put it there, and why."""

    doc_id: str
    story: int
    score: float
    new: bool
    reason: str
    follows: int | None = None


class StoryClusterer:
    """One-pass streaming clusterer; feed documents in date order with ``add``."""

    def __init__(self, options: StoryOptions | None = None) -> None:
        self.options = options or StoryOptions()
        self.df: Counter[str] = Counter()
        self.n = 0
        self.stories: dict[int, _Story] = {}
        self.term_index: dict[str, set[int]] = defaultdict(set)
        self.name_index: dict[str, set[int]] = defaultdict(set)
        self.retired: dict[int, tuple[int, str]] = {}  # story -> (size, title), for summaries
        self.today: int | None = None
        self._next = 1

    def _vector(self, doc: Doc) -> dict[str, float]:
        self.n += 1
        for t in doc.terms:
            self.df[t] += 1
        n = self.n
        prior = self.options.idf_prior
        df = self.df
        weights = {t: (1.0 + math.log(c)) * math.log((n + prior + 1) / (df[t] + 0.5)) for t, c in doc.terms.items()}
        top = sorted(weights.items(), key=lambda kv: -kv[1])[: self.options.article_terms]
        norm = math.sqrt(sum(w * w for _, w in top)) or 1.0
        return {t: w / norm for t, w in top if w > 0}

    def add(self, doc: Doc) -> Assignment:
        opts = self.options
        vec = self._vector(doc)
        if doc.day is not None:
            self.today = doc.day if self.today is None else max(self.today, doc.day)
            if self.n % 256 == 0:
                self._retire()
        hits: Counter[int] = Counter()
        for t in sorted(vec, key=lambda t: -vec[t])[: opts.query_terms]:
            hits.update(self.term_index.get(t, ()))
        for name in doc.names:
            hits.update(self.name_index.get(name, ()))
        best: tuple[float, int, str] | None = None
        for sid, _ in hits.most_common(opts.max_candidates):
            story = self.stories[sid]
            centroid = story.centroid
            # the few shared terms, found in C, instead of a lookup per article term (the hot loop at 100k)
            cos = sum(vec[t] * centroid[t] for t in vec.keys() & centroid.keys()) / (story.norm or 1.0)
            shared = [n for n in doc.names if n in story.names]
            name_share = len(shared) / len(doc.names) if doc.names else 0.0
            gap = 0 if doc.day is None or story.last_day is None else max(0, doc.day - story.last_day)
            decay = math.exp(-gap / opts.decay_days)
            score = (cos + opts.name_weight * name_share) * decay
            if gap > opts.retire_days:  # idle too long to be joined (retired, even between clean-ups): follow it
                score = min(score, opts.threshold - 1e-6)
            if best is None or score > best[0]:
                why = f"text cosine {cos:.2f}"
                if shared:
                    why += f", shared names {', '.join(sorted(shared)[:4])}"
                if gap:
                    why += f", {gap} days after its last article (x{decay:.2f})"
                if gap > opts.retire_days:
                    why += f", idle over {opts.retire_days:.0f} days"
                best = (score, sid, why)
        if best is not None and best[0] >= opts.threshold:
            score, sid, why = best
            self._update(self.stories[sid], vec, doc)
            return Assignment(doc.id, sid, round(score, 4), False, f"joined story {sid}: {why}; score {score:.2f}")
        story = _Story(self._next, doc.day, doc.day, title=doc.title)
        self._next += 1
        self.stories[story.id] = story
        reason = "started: no live story shares its terms or names"
        if best is not None:
            reason = f"started: best story {best[1]} scored {best[0]:.2f} < {opts.threshold} ({best[2]})"
            if best[0] >= opts.follow_threshold:
                story.follows = best[1]
        self._update(story, vec, doc)
        return Assignment(doc.id, story.id, 1.0, True, reason, story.follows)

    def _update(self, story: _Story, vec: Mapping[str, float], doc: Doc) -> None:
        old_terms = set(story.centroid)
        for t, w in vec.items():
            story.centroid[t] = story.centroid.get(t, 0.0) + w
        if len(story.centroid) > self.options.story_terms:
            story.centroid = dict(sorted(story.centroid.items(), key=lambda kv: -kv[1])[: self.options.story_terms])
        story.norm = math.sqrt(sum(w * w for w in story.centroid.values()))
        for t in old_terms - story.centroid.keys():
            self.term_index[t].discard(story.id)
        for t in story.centroid.keys() - old_terms:
            self.term_index[t].add(story.id)
        for name in doc.names:
            if name not in story.names:
                self.name_index[name].add(story.id)
            story.names[name] += 1
        story.size += 1
        if doc.day is not None:
            story.last_day = doc.day if story.last_day is None else max(story.last_day, doc.day)
            story.first_day = doc.day if story.first_day is None else min(story.first_day, doc.day)

    def _retire(self) -> None:
        if self.today is None:
            return
        cutoff = self.today - self.options.retire_days
        for sid in [s.id for s in self.stories.values() if s.last_day is not None and s.last_day < cutoff]:
            story = self.stories.pop(sid)
            for t in story.centroid:
                self.term_index[t].discard(sid)
            for name in story.names:
                self.name_index[name].discard(sid)
            self.retired[sid] = (story.size, story.title)
        # drop rare terms from the online IDF so the vocabulary cannot grow without bound
        if len(self.df) > 500_000:
            self.df = Counter({t: c for t, c in self.df.items() if c > 1})


def cluster(docs: Iterable[Doc], options: StoryOptions | None = None) -> Iterator[Assignment]:
    """Assign each document (already in date order) to a story."""
    clusterer = StoryClusterer(options)
    for doc in docs:
        yield clusterer.add(doc)


# -- the corpus stage ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Packed:
    """A document's terms packed into arrays while the corpus is sorted by date (bounded memory)."""

    id: str
    day: int | None
    order: int
    term_ids: array  # type: ignore[type-arg]
    counts: array  # type: ignore[type-arg]
    names: frozenset[str]
    title: str


def stories_stage(view: Any, settings: Settings) -> Any:
    """Corpus stage: stories over the whole corpus, one streaming pass in date order."""
    from storytrace.stages import CorpusOutput

    names: dict[str, frozenset[str]] = {}
    for article_id, inputs in view.inputs():
        found = {q["speaker"] for q in inputs.get("quotes", {}).get("quotes", []) if q.get("speaker")}
        found |= {e["text"] for e in (inputs.get("entities") or {}).get("entities", [])
                  if e.get("label") in ("PERSON", "ORG")}
        names[article_id] = frozenset(found)
    # Undated articles take the date the `timeline` stage inferred for them, when it has run.
    inferred = {article_id: payload["published"]["value"] for key, article_id, payload in view.records("timeline")
                if key == "published" and article_id and (payload.get("published") or {}).get("value")}
    vocab: dict[str, int] = {}
    packed: list[_Packed] = []
    for order, article in enumerate(view.articles()):
        doc = make_doc(article.id, article.clean.text, title=article.title or "",
                       published=article.published or inferred.get(article.id), names=names.get(article.id, ()))
        ids = array("I", (vocab.setdefault(t, len(vocab)) for t in doc.terms))
        packed.append(_Packed(doc.id, doc.day, order, ids, array("H", (min(c, 65535) for c in doc.terms.values())),
                              doc.names, doc.title[:200]))
    names.clear()
    words = list(vocab)
    packed.sort(key=_date_order(packed))
    docs = (Doc(p.id, p.day, {words[i]: c for i, c in zip(p.term_ids, p.counts, strict=True)}, p.names, p.title)
            for p in packed)
    clusterer = StoryClusterer()
    assignments = [(p, clusterer.add(d)) for p, d in zip(packed, docs, strict=True)]
    members: dict[int, list[tuple[_Packed, Assignment]]] = defaultdict(list)
    for p, a in assignments:
        members[a.story].append((p, a))

    def story_info(sid: int) -> dict[str, Any]:
        rows = members[sid]
        days = [p.day for p, _ in rows if p.day is not None]
        first = rows[0][1]
        return {"story": sid, "size": len(rows), "title": next((p.title for p, _ in rows if p.title), ""),
                "first": date.fromordinal(min(days)).isoformat() if days else None,
                "last": date.fromordinal(max(days)).isoformat() if days else None,
                "follows": first.follows}

    def records() -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        for sid in sorted(members):
            yield str(sid), None, story_info(sid)
            for p, a in members[sid]:
                yield str(sid), p.id, {"similarity": a.score, "reason": a.reason, "title": p.title,
                                       "date": date.fromordinal(p.day).isoformat() if p.day else None}

    ranked = sorted(members, key=lambda s: (-len(members[s]), s))
    summary = {"stories": len(members), "articles": len(assignments),
               "largest": [story_info(s) for s in ranked[:50]]}
    return CorpusOutput(summary, records())


def _date_order(packed: list[_Packed]) -> Any:
    """Sort key: by date; an undated article keeps its ingest position after the last dated one before it."""
    carried: dict[int, int] = {}
    last = min((p.day for p in packed if p.day is not None), default=0)
    for p in sorted(packed, key=lambda p: p.order):
        if p.day is not None:
            last = p.day
        carried[p.order] = last
    return lambda p: (carried[p.order], p.order)
