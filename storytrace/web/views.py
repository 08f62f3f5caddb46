"""What each page and API endpoint shows, built from Corpus methods; bounded work per request at any corpus size."""

from __future__ import annotations

import math
import os
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from storytrace.corpus import Corpus
from storytrace.errors import StoreError

# Caps that keep a request's work bounded on a 100k-article store; pages say when a cap was hit.
MAX_STORY_ARTICLES = 200
MAX_STORY_VARIANTS = 25  # variant groups drawn on a story page
MAX_SEARCH_ARTICLES = 500
# A quote search matching more quotations than this lists them last-indexed first rather than ranked (or, for
# a speaker, by date): ranking costs every match (Store.quote_hits), streaming stops at the page.
MAX_ORDERED_QUOTES = 5000
MAX_ACTOR_ARTICLES = 300
PAGE_SIZE = 25


class Cache:
    """Remember derived values until the store file changes (any commit touches the db or its WAL)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._values: dict[str, tuple[tuple[float, ...], Any]] = {}

    def _stamp(self) -> tuple[float, ...]:
        out = []
        for suffix in ("", "-wal"):
            try:
                st = os.stat(f"{self.db}{suffix}")
                out += [st.st_mtime_ns, st.st_size]
            except FileNotFoundError:
                out += [0, 0]
        return tuple(out)

    def get(self, name: str, compute: Callable[[], Any]) -> Any:
        stamp = self._stamp()
        with self._lock:
            hit = self._values.get(name)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = compute()
        with self._lock:
            self._values[name] = (stamp, value)
        return value


def page_of(items: Iterable[Any], *, page: int, size: int = PAGE_SIZE) -> tuple[list[Any], bool]:
    """One page of an iterable (1-based), and whether another page follows; reads only what it needs."""
    start = (page - 1) * size
    got = list(islice(items, start, start + size + 1))
    return got[:size], len(got) > size


# -- overview ----------------------------------------------------------------------------------------
def overview(corpus: Corpus, cache: Cache) -> dict[str, Any]:
    def compute() -> dict[str, Any]:
        figures = corpus.store.overview()
        speakers = corpus.store.corpus_result("speakers")
        stories = corpus.stories(limit=20)
        return {**figures, "top_speakers": (speakers[1].get("speakers", []) if speakers else [])[:20],
                "stories": stories, "coverage": corpus.coverage()}

    return dict(cache.get("overview", compute))


def actor_index(corpus: Corpus, cache: Cache) -> list[dict[str, Any]]:
    """Every canonical actor's listing fields (cached: the list is one stored record)."""
    return list(cache.get("actors", lambda: corpus.actors(limit=10**7)))


def _actor_lookup(corpus: Corpus, cache: Cache) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(id -> actor, name or name variant -> the first actor in index order that has it), cached like the index:
    a story page looks up every speaker it shows, and a 100k store has tens of thousands of actors."""
    def compute() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        by_id: dict[str, dict[str, Any]] = {}
        by_name: dict[str, dict[str, Any]] = {}
        for a in actor_index(corpus, cache):
            by_id.setdefault(a["id"], a)
            for name in (a["name"], *a["variants"]):
                by_name.setdefault(name, a)
        return by_id, by_name

    found: tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]] = cache.get("actor-lookup", compute)
    return found


def find_actor(corpus: Corpus, cache: Cache, actor_id: str) -> dict[str, Any] | None:
    return _actor_lookup(corpus, cache)[0].get(actor_id)


def actor_for_name(corpus: Corpus, cache: Cache, name: str | None) -> dict[str, Any] | None:
    if not name:
        return None
    return _actor_lookup(corpus, cache)[1].get(name)


# -- articles -----------------------------------------------------------------------------------------
def article_view(corpus: Corpus, ref: str, *, start: int | None = None, end: int | None = None) -> dict[str, Any]:
    """An article's raw text cut into runs, each with the marks that cover it (quote, speaker, date, chrome, cited)."""
    article = corpus.article(ref)
    payloads = corpus.store.stage_payloads(article.id, ["quotes", "dates"])
    quotes = payloads.get("quotes", {}).get("quotes", [])
    timex = (payloads.get("dates") or {}).get("timex", [])
    marks: list[tuple[int, int, str, dict[str, Any]]] = []
    for i, q in enumerate(quotes):
        for s, e in q.get("content_spans") or [[q["content_start"], q["content_end"]]]:
            marks.append((s, e, "quote", {"quote": i, "speaker": q.get("speaker") or ""}))
        if q.get("source_start") is not None and q.get("source_end"):
            marks.append((q["source_start"], q["source_end"], "speaker", {"quote": i}))
        if q.get("cue_start") is not None and q.get("cue_end"):
            marks.append((q["cue_start"], q["cue_end"], "cue", {"quote": i}))
    for t in timex:
        marks.append((t["start"], t["end"], "date", {"value": t.get("value") or ""}))
    for r in article.clean.removed:
        marks.append((r.start, r.end, "removed", {"reason": r.reason}))
    n = len(article.raw_text)
    cited = None
    if start is not None and end is not None and 0 <= start < end <= n:
        cited = (start, end)
        marks.append((start, end, "cited", {}))
    runs = _runs(article.raw_text, marks)
    return {"article": article, "runs": runs, "quotes": quotes, "timex": timex, "cited": cited,
            "removed": article.clean.removed, "sources": corpus.store.article_sources(article.id)}


def _runs(text: str, marks: list[tuple[int, int, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Cut ``text`` at every mark boundary; overlapping marks simply stack their classes on a run."""
    n = len(text)
    cuts = {0, n}
    for s, e, _k, _d in marks:
        if 0 <= s < e <= n:
            cuts.update((s, e))
    points = sorted(cuts)
    runs = []
    first_cited = True
    for a, b in zip(points, points[1:], strict=False):
        active = [(k, d) for s, e, k, d in marks if s <= a and b <= e and s < e]
        kinds = sorted({k for k, _ in active})
        run: dict[str, Any] = {"text": text[a:b], "start": a, "classes": " ".join(f"m-{k}" for k in kinds)}
        titles = []
        for k, d in active:
            if k == "quote" and d.get("speaker"):
                titles.append(f"quote: {d['speaker']}")
            elif k == "date" and d.get("value"):
                titles.append(f"date: {d['value']}")
            elif k == "removed":
                titles.append(f"removed: {d['reason']}")
        run["title"] = "; ".join(dict.fromkeys(titles))
        if "cited" in kinds and first_cited:
            run["anchor"] = "cited"
            first_cited = False
        runs.append(run)
    return runs


# -- quotes -------------------------------------------------------------------------------------------
_WORD = re.compile(r"\w+", re.UNICODE)


def query_words(query: str) -> list[str]:
    """The plain words of an FTS5 query (operators dropped), used to pick the matching quotes in a hit."""
    return [w.casefold() for w in _WORD.findall(query) if w not in {"AND", "OR", "NOT", "NEAR"}]


def search_quotes(corpus: Corpus, cache: Cache, *, q: str = "", speaker: str = "", outlet: str = "",
                  date_from: str = "", date_to: str = "") -> Iterator[dict[str, Any]]:
    """Quotes matching an FTS5 query over quotation text and filters, best first, lazily (a page at a time).

    Hits come from the store's quotation index (``Store.quote_hits``: FTS5, filters in SQL, LIMIT/OFFSET; past
    ``MAX_ORDERED_QUOTES`` matches, last-indexed first instead of ranked), and only the hits' quotations are
    read. A store opened read-only before migration 0005 has no index: it is searched the older way
    (``search_quotes_by_articles``) until a writable open migrates it.
    """
    store = corpus.store
    if not store.has_quote_index():
        yield from search_quotes_by_articles(corpus, cache, q=q, speaker=speaker, outlet=outlet,
                                             date_from=date_from, date_to=date_to)
        return
    # Hit keys are cheap and a ranked query costs the same for 50 or 100 of them, so the first read covers a
    # page and its look-ahead row (page_of) for the usual page sizes; rows are built one by one as they are read.
    offset, chunk = 0, 100
    info: dict[str, dict[str, Any]] = {}
    while True:
        hits = store.quote_hits(q, speaker=speaker, outlet=outlet, date_from=date_from, date_to=date_to,
                                limit=chunk, offset=offset, ordered_up_to=MAX_ORDERED_QUOTES)
        for hit in hits:
            article_id = hit[0]
            if article_id not in info:
                info.update(store.article_info([article_id]))
            quote = store.quotes_at([hit])[0]
            if quote is not None:  # always, unless the article was re-analysed between the two reads
                meta = info.get(article_id, {})
                yield {"article_id": article_id, "source_path": meta.get("source_path"), "outlet": meta.get("outlet"),
                       "published": meta.get("published"), **quote}
        if len(hits) < chunk:
            return
        offset += chunk
        chunk = min(chunk * 2, 1000)


def search_quotes_by_articles(corpus: Corpus, cache: Cache, *, q: str = "", speaker: str = "", outlet: str = "",
                              date_from: str = "", date_to: str = "") -> Iterator[dict[str, Any]]:
    """Quotes matching an FTS5 query (over articles, then within each hit's quotes) and filters, lazily.

    The search of a store without the quotation index: a common word matches thousands of articles whose
    quotes rarely contain it, so this reads up to ``MAX_SEARCH_ARTICLES`` articles' quotes per page.
    """
    needle = speaker.casefold()

    def keep(row: dict[str, Any]) -> bool:
        if needle and needle not in (row.get("speaker") or "").casefold() \
                and needle not in (row.get("source") or "").casefold():
            return False
        if outlet and (row.get("outlet") or "") != outlet:
            return False
        day = (row.get("published") or "")[:10]
        if date_from and (not day or day < date_from):
            return False
        return not (date_to and (not day or day > date_to))

    if q:
        words = query_words(q)
        ids = [a for a, _snippet in corpus.search(q, limit=MAX_SEARCH_ARTICLES)]
        for article_id in ids:
            for row in corpus.quotes(article=article_id):
                text = row["content"].casefold()
                if words and not any(w in text for w in words):
                    continue
                if keep(row):
                    yield row
        return
    if needle:
        actor = next((a for a in actor_index(corpus, cache)
                      if any(needle in v.casefold() for v in [a["name"], *a["variants"]])), None)
        if actor is not None:
            for article_id in actor_articles(corpus, actor["id"]):
                yield from (row for row in corpus.quotes(article=article_id) if keep(row))
            return
    yield from (row for row in corpus.quotes() if keep(row))


def actor_articles(corpus: Corpus, actor_id: str, *, limit: int = MAX_ACTOR_ARTICLES) -> list[str]:
    """The articles that name an actor, from the actor's stored mention records (indexed by key)."""
    seen: dict[str, None] = {}
    # In pages: a much-named actor has tens of thousands of mention records at 100k articles, and only the
    # first ``limit`` articles are wanted.
    offset, chunk = 0, 1000
    while True:
        rows = corpus.store.corpus_records("actors", key=actor_id, limit=chunk, offset=offset)
        for _k, article_id, _p in rows:
            if article_id is not None:
                seen.setdefault(article_id)
                if len(seen) >= limit:
                    return list(seen)
        if len(rows) < chunk:
            return list(seen)
        offset += chunk


# -- stories ------------------------------------------------------------------------------------------
def story_view(corpus: Corpus, story: int) -> dict[str, Any]:
    brief = story_brief(corpus, story)
    members = [m["article_id"] for m in brief["story"]["articles"]][:MAX_STORY_ARTICLES]
    info = brief["articles"]
    by_speaker: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for article_id in members:
        for row in corpus.quotes(article=article_id):
            by_speaker[row.get("speaker") or "(unresolved) " + (row.get("source") or "?")].append(row)
    speakers = sorted(by_speaker.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    variants: dict[str, list[dict[str, Any]]] = {}
    for article_id in members:
        for key, _a, _payload in corpus.store.corpus_records("variants", article_id=article_id, limit=1000):
            if key not in variants:
                variants[key] = [{"article_id": a, **p}
                                 for _k, a, p in corpus.store.corpus_records("variants", key=key, limit=1000)]
    outlets: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, rows in by_speaker.items():
        for row in rows:
            outlets[row.get("outlet") or "(unknown outlet)"][name] += 1
    # The most widely repeated utterances first, at most MAX_STORY_VARIANTS of them: each is drawn with a word
    # diff per version, and a large story has hundreds (123 groups, 728 versions in the 100k bench's largest).
    groups = sorted(variants.values(), key=lambda g: -len(g))
    return {"brief": brief, "speakers": speakers, "variants": groups[:MAX_STORY_VARIANTS],
            "variants_total": len(groups), "info": info,
            "timeline": corpus.timeline(story=story, limit=200), "outlets": outlets,
            "truncated": max(len(brief["story"]["articles"]), brief["story"].get("size", 0)) > MAX_STORY_ARTICLES,
            "graph": network_svg(brief["stances"])}


def story_brief(corpus: Corpus, story: int) -> dict[str, Any]:
    """The story's brief, or, when the briefs stage has not run, the story without one (members, no sentences)."""
    try:
        return corpus.brief(story)
    except StoreError as e:
        if e.code != "E206":
            raise
    head = corpus.stories(story=story, max_articles=MAX_STORY_ARTICLES)[0]
    members = [m["article_id"] for m in head["articles"]]
    return {"story": head, "brief": {"sentences": [], "missing": "run 'storytrace analyze' for the brief"},
            "stances": [], "facts": [], "articles": corpus.store.article_info(members)}


def network_svg(stances: list[dict[str, Any]], *, size: int = 520) -> dict[str, Any]:
    """Lay out a supports/opposes network on a circle: nodes are actors, edges holder -> target by polarity."""
    names: dict[str, int] = {}
    for s in stances:
        for name in (s["holder"], s["target"]):
            names[name] = names.get(name, 0) + len(s["timeline"])
    nodes = sorted(names, key=lambda n: -names[n])[:30]
    r = size / 2 - 90
    c = size / 2
    pos = {}
    for i, name in enumerate(nodes):
        angle = 2 * math.pi * i / max(len(nodes), 1) - math.pi / 2
        pos[name] = (round(c + r * math.cos(angle), 1), round(c + r * math.sin(angle), 1))
    edges = []
    for s in stances:
        if s["holder"] not in pos or s["target"] not in pos or s["holder"] == s["target"]:
            continue
        (x1, y1), (x2, y2) = pos[s["holder"]], pos[s["target"]]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy) or 1.0
        # Stop the line short of the target's circle so the arrowhead stays visible.
        x2, y2 = x2 - dx / length * 14, y2 - dy / length * 14
        edges.append({"x1": x1, "y1": y1, "x2": round(x2, 1), "y2": round(y2, 1),
                      "polarity": s["overall"], "holder": s["holder"], "target": s["target"],
                      "weight": len(s["timeline"]), "width": min(1 + len(s["timeline"]), 6)})
    return {"size": size, "nodes": [{"name": n, "x": pos[n][0], "y": pos[n][1], "weight": names[n],
                                     "anchor": "start" if pos[n][0] >= c else "end"} for n in nodes],
            "edges": edges}


# -- actors -------------------------------------------------------------------------------------------
def actor_view(corpus: Corpus, cache: Cache, actor_id: str, *, page: int = 1) -> dict[str, Any] | None:
    actor = find_actor(corpus, cache, actor_id)
    if actor is None:
        return None
    rows = corpus.store.corpus_records("actors", key=actor_id, limit=1)
    head = rows[0][2] if rows and rows[0][1] is None else actor
    names = {actor["name"], *actor["variants"]}
    articles = actor_articles(corpus, actor_id)
    info = corpus.store.article_info(articles)
    quotes = (row for article_id in articles for row in corpus.quotes(article=article_id)
              if row.get("speaker") in names)
    shown, more = page_of(quotes, page=page)
    stances = holder_stances(corpus, actor["name"])
    return {"actor": head, "quotes": shown, "more": more, "page": page, "stances": stances,
            "about": stances_about(corpus, actor["name"], articles), "chart": stance_chart(stances), "info": info,
            "variants": speaker_variants(corpus, names, articles)}


def holder_stances(corpus: Corpus, holder: str) -> list[dict[str, Any]]:
    """A holder's stance summaries (one per target), read by key: stance_changes records are keyed by holder."""
    return [p for _k, a, p in corpus.store.corpus_records("stance_changes", key=holder, limit=10_000) if a is None]


def stances_about(corpus: Corpus, target: str, articles: list[str], *, limit: int = 50) -> list[dict[str, Any]]:
    """Other holders' stances toward ``target``, found through the articles that name it (bounded, indexed)."""
    holders: dict[str, None] = {}
    for article_id in articles:
        for key, _a, p in corpus.store.corpus_records("stance_changes", article_id=article_id, limit=1000):
            if p.get("target") == target and key != target:
                holders.setdefault(key)
    about = [s for h in holders for s in holder_stances(corpus, h) if s["target"] == target]
    return sorted(about, key=lambda s: (-s.get("statements", 0), s["holder"]))[:limit]


def speaker_variants(corpus: Corpus, names: set[str], articles: list[str], *,
                     limit: int = 20) -> list[list[dict[str, Any]]]:
    """Groups of one utterance quoted across articles in which a version is attributed to one of ``names``."""
    keys: dict[str, None] = {}
    for article_id in articles:
        for key, _a, p in corpus.store.corpus_records("variants", article_id=article_id, limit=1000):
            if p.get("speaker") in names:
                keys.setdefault(key)
        if len(keys) >= limit:
            break
    return [[{"article_id": a, **p} for _k, a, p in corpus.store.corpus_records("variants", key=key, limit=1000)]
            for key in list(keys)[:limit]]


def stance_chart(stances: list[dict[str, Any]], *, width: int = 640, height: int = 160) -> dict[str, Any]:
    """Points of an actor's stance over time: x by date, y support (top) / mixed / oppose (bottom)."""
    points = [(t["date"], s["target"], t["polarity"], t["article_id"])
              for s in stances for t in s["timeline"] if t.get("date")]
    if not points:
        return {"points": [], "width": width, "height": height, "ticks": []}
    days = sorted({p[0][:10] for p in points})
    lo, hi = _ordinal(days[0]), _ordinal(days[-1])
    span = max(hi - lo, 1)
    ylev = {"support": 30, "mixed": 80, "neutral": 80, "oppose": 130}
    out = []
    for date, target, polarity, article_id in points:
        x = 60 + (_ordinal(date[:10]) - lo) / span * (width - 90)
        out.append({"x": round(x, 1), "y": ylev.get(polarity, 80), "polarity": polarity, "target": target,
                    "date": date[:10], "article_id": article_id})
    ticks = [{"x": round(60 + (_ordinal(d) - lo) / span * (width - 90), 1), "label": d} for d in (days[0], days[-1])]
    return {"points": out, "width": width, "height": height, "ticks": ticks}


def _ordinal(day: str) -> int:
    from datetime import date

    try:
        return date.fromisoformat(day[:10]).toordinal()
    except ValueError:
        try:
            return date.fromisoformat(day[:7] + "-01").toordinal()
        except ValueError:
            return 0


def coverage_chart(rows: list[dict[str, Any]], *, width: int = 640, bar_gap: int = 2) -> dict[str, Any]:
    """Stacked bars of articles per month, one colour per outlet (top outlets; the rest as 'other')."""
    months = sorted({r["month"] for r in rows})
    totals: dict[str, int] = defaultdict(int)
    for r in rows:
        totals[r["outlet"]] += r["articles"]
    top = [o for o, _n in sorted(totals.items(), key=lambda kv: -kv[1])[:8]]
    stacks: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in rows:
        stacks[r["month"]][r["outlet"] if r["outlet"] in top else "other"] += r["articles"]
    series = [*top, "other"] if any("other" in s for s in stacks.values()) else top
    peak = max((sum(s.values()) for s in stacks.values()), default=1)
    bar = max(min((width - 40) // max(len(months), 1) - bar_gap, 40), 2)
    bars = []
    for i, month in enumerate(months):
        y: float = 150
        for j, outlet in enumerate(series):
            n = stacks[month].get(outlet, 0)
            if not n:
                continue
            h = max(round(n / peak * 130, 1), 1)
            y -= h
            bars.append({"x": 30 + i * (bar + bar_gap), "y": round(y, 1), "w": bar, "h": h, "series": j % 9,
                         "title": f"{month} {outlet}: {n}"})
    return {"bars": bars, "series": [{"name": o, "series": j % 9} for j, o in enumerate(series)],
            "months": months, "peak": peak, "width": max(width, 40 + len(months) * (bar + bar_gap))}
