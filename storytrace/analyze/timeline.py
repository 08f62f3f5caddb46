"""The corpus timeline: publication dates for every article, then dated events grouped across articles.

Two passes over the corpus (nothing but small per-article summaries is kept between them):

1. Every article's publication date: the ``dates`` stage's (given, markup, dateline, or inferred from
   the article alone); an article still undated is inferred again with ``near`` = the dates of the dated
   articles that share the most names with it, and ``reported`` = the date of the event in those articles
   that its lead reports best (``pubdate.infer``), and its time expressions resolved against that date.
   The result, marked ``source: inferred``, is one ``published`` record per article.
2. Events: sentences holding a DATE/TIME resolved to a day or an ISO week and naming an actor (a quote's
   speaker or a capitalised name). Events in different articles join when their dates agree (a day
   inside a week agrees with it) and they share a name or two content words; each group keeps every
   citation. Events whose wording overlaps strongly but whose dates disagree are reported as conflicts.
   A definite noun ("after the vote") brings the words of its first mention in the article ("vote of no
   confidence from party MPs"), so a sentence that names an event only by its head noun still joins it.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from storytrace.model import Article
from storytrace.nlp import pubdate, timex
from storytrace.resolve.stories import STOPWORDS
from storytrace.settings import Settings

_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"”’]?|(?=\n)|$)")
_NAME = re.compile(r"\b(?:(?:Mc|Mac|O')?[A-Z][a-z]+(?:[-’'][A-Z][a-z]+)?|[A-Z]{2,}s?)"
                   r"(?:\s+(?:(?:Mc|Mac)?[A-Z][a-z]+|[A-Z]{2,}s?))*\b")
_WORD = re.compile(r"[a-z][a-z'’-]{2,}")
_NOT_NAMES = frozenset("""The A An He She It They We I In On At But And Or If When After Before As This That
These Those His Her Their Its Mr Mrs Ms Lord Former Meanwhile However Speaking Earlier Another Sources
Thousands""".split()) | frozenset(
    w.capitalize() for w in [*timex.MONTHS, *timex.WEEKDAYS])
NEAR_ARTICLES = 5  # dated articles (most shared names) whose dates place an undated article
LEAD_SENTENCES = 3  # headline, standfirst, first paragraph: where an article says what its news is
# An event of a related article is the one a lead sentence reports when they share at least this many
# content words and this Jaccard overlap (names alone, "Corbyn", "Labour", "leader", are not enough).
REPORTED_MIN_SHARED = 3
REPORTED_MIN_JACCARD = 0.15


def names(text: str) -> set[str]:
    """Capitalised names in a sentence (first-word capitals of ordinary words dropped)."""
    found = set()
    for m in _NAME.finditer(text):
        parts = [p for p in m.group().split() if p not in _NOT_NAMES]
        if parts:
            found.add(" ".join(parts))
    return found


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


_DEFINITE = re.compile(r"\bthe\s+([a-z]{3,})\b")
_MENTION_WORDS = 6  # words of a first mention taken: "vote of no confidence from party MPs"


def antecedent_words(text: str, sentence_start: int, sentence: str) -> set[str]:
    """Content words of the first mention, earlier in ``text``, of each definite noun in ``sentence``."""
    out: set[str] = set()
    for m in _DEFINITE.finditer(sentence):
        noun = m[1]
        if noun in STOPWORDS:
            continue
        first = re.search(rf"\b{noun}\b", text[:sentence_start])
        if first is None:
            continue
        phrase = re.split(r"[.,;:!?\n“”\"]", text[first.start():first.start() + 80])[0]
        out |= content_words(" ".join(phrase.split()[:_MENTION_WORDS + 1]))
    return out


def _day(value: str) -> tuple[str, date, date] | None:
    """(granularity, first day, last day) of a DATE/TIME value at day or week granularity."""
    if (d := timex._date_of(value)) is not None:
        return "day", d, d
    m = re.fullmatch(r"(\d{4})-W(\d\d)", value)
    if m:
        first = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        return "week", first, first + timedelta(days=6)
    return None


def compatible(a: str, b: str) -> bool:
    da, db = _day(a), _day(b)
    return da is not None and db is not None and da[1] <= db[2] and db[1] <= da[2]


def article_dates(articles: Iterable[tuple[Article, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Every article's publication date (given or inferred) with its resolved time expressions."""
    summaries: dict[str, tuple[set[str], dict[str, Any]]] = {}
    texts: dict[str, Article] = {}
    dated_events: dict[str, list[tuple[frozenset[str], date, date]]] = {}
    for article, payload in articles:
        summaries[article.id] = (names(article.clean.text), payload)
        if not payload.get("published"):
            texts[article.id] = article
        else:
            dated_events[article.id] = [(frozenset(e["words"]), *_day(e["date"])[1:])  # type: ignore[index]
                                        for e in events(article, payload, [])]
    dated = {aid: date.fromisoformat(p["published"]["value"][:10])
             for aid, (_n, p) in summaries.items() if p.get("published")}
    out = {aid: dict(p) for aid, (_n, p) in summaries.items()}
    related_to = related_dated({aid: n for aid, (n, _p) in summaries.items()}, texts, dated)
    for aid, article in texts.items():
        related = related_to[aid]
        near = [dated[o] for o in related]
        event = lead_event(article.clean.text, [e for o in related for e in dated_events.get(o, [])])
        inferred = pubdate.infer(article.clean.text, near=near, reported=[event] if event else [])
        if inferred is None:
            continue
        out[aid] = dates_payload(article, inferred=inferred, near=len(near))
    return out


def related_dated(names_of: dict[str, set[str]], undated: Iterable[str], dated: Iterable[str],
                  k: int = NEAR_ARTICLES) -> dict[str, list[str]]:
    """For each undated article, the (at most ``k``) dated articles sharing the most names with it, at least 2.

    Through an index from name to dated articles, so an undated article meets only the dated articles that
    share a name with it (not undated x dated). The same ranking as comparing with every dated article (most
    shared names, then the larger id): those sharing none rank last and fall to the ">= 2" rule anyway.
    """
    by_name: dict[str, list[str]] = defaultdict(list)
    for o in dated:
        for name in names_of[o]:
            by_name[name].append(o)
    out: dict[str, list[str]] = {}
    for aid in undated:
        shared_with: Counter[str] = Counter()
        for name in names_of[aid]:
            shared_with.update(by_name.get(name, ()))
        ranked = sorted(((n, o) for o, n in shared_with.items()), reverse=True)
        out[aid] = [o for shared, o in ranked[:k] if shared >= 2]
    return out


def lead_event(text: str, dated: list[tuple[frozenset[str], date, date]]) -> tuple[date, date] | None:
    """(first, last day) of the dated event that the article's lead reports best, if one does."""
    lead = [m.group() for m in _SENTENCE.finditer(text) if m.group().strip()][:LEAD_SENTENCES]
    best: tuple[float, date, date] | None = None
    for sentence in lead:
        mine = content_words(sentence)
        for words, first, last in dated:
            shared = len(mine & words)
            overlap = shared / max(1, len(mine | words))
            strong = shared >= REPORTED_MIN_SHARED and overlap >= REPORTED_MIN_JACCARD
            if strong and (best is None or overlap > best[0]):
                best = (overlap, first, last)
    return (best[1], best[2]) if best else None


def dates_payload(article: Article, *, inferred: pubdate.Inferred | None = None, near: int = 0) -> dict[str, Any]:
    """The ``dates`` payload: publication date with provenance, and every time expression in raw offsets."""
    to_raw = article.clean.span_to_raw
    published: dict[str, Any] | None = None
    meta = article.meta.published
    if meta is not None and inferred is None:
        published = {"value": meta.value[:10], "source": meta.source, "confidence": meta.confidence,
                     "given": meta.value}
        if meta.start is not None:
            published.update(start=meta.start, end=meta.end)
    else:
        if inferred is None:
            inferred = pubdate.infer(article.clean.text)
        if inferred is not None:
            published = inferred.to_dict()
            published["evidence"] = [{"start": s, "end": e, "text": article.raw_text[s:e]}
                                     for s, e in (to_raw(ev["start"], ev["end"]) for ev in published["evidence"])]
            if near:
                published["near_articles"] = near
    dct = date.fromisoformat(published["value"]) if published else None
    found = []
    for t in timex.find(article.clean.text, dct=dct):
        start, end = to_raw(t.start, t.end)
        found.append({**t.to_dict(), "start": start, "end": end, "text": article.raw_text[start:end],
                      "inferred_anchor": bool(t.anchor == "dct" and published and published["source"] == "inferred")})
    return {"published": published, "timex": found}


def events(article: Article, dates: dict[str, Any], quotes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dated sentences of one article that name an actor, with the expression that dates them."""
    to_raw = article.clean.span_to_raw
    raw = article.raw_text
    published = dates.get("published") or {}
    out = []
    by_start = sorted(dates.get("timex", []), key=lambda t: t["start"])
    for m in _SENTENCE.finditer(article.clean.text):
        if not m.group().strip():
            continue
        start, end = to_raw(m.start(), m.end())
        inside = [t for t in by_start if start <= t["start"] < end and t["type"] in ("DATE", "TIME")
                  and _day(t["value"][:10] if "T" in t["value"] else t["value"]) is not None]
        if not inside:
            continue
        sentence = raw[start:end].strip()
        speakers = {q["speaker"] for q in quotes if q.get("speaker")
                    and start <= (q.get("source_start") or q.get("content_start") or -1) < end}
        actors = sorted(speakers | names(sentence))
        if not actors:
            continue
        seen: set[str] = set()
        for t in inside:  # one event per distinct date the sentence gives
            value = t["value"][:10] if re.match(r"\d{4}-\d\d-\d\d", t["value"]) else t["value"]
            if value not in seen:
                seen.add(value)
                out.append(_event(article.id, value, start, end, sentence, t, published, actors,
                                  antecedent_words(article.clean.text, m.start(), m.group())))
    return out


def _event(article_id: str, value: str, start: int, end: int, sentence: str, t: dict[str, Any],
           published: dict[str, Any], actors: list[str], extra_words: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
    return {"article_id": article_id, "date": value, "granularity": _day(value)[0],  # type: ignore[index]
            "start": start, "end": end, "text": sentence,
            "timex": {"text": t["text"], "start": t["start"], "end": t["end"], "value": t["value"],
                      "anchor": t.get("anchor", "")},
            "date_inferred": published.get("source") == "inferred",
            "published": published.get("value"), "actors": actors,
            "words": sorted(content_words(sentence) | extra_words)}


def group(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join events that agree on the date and share a name or two content words; flag date conflicts."""
    parent = list(range(len(found)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    people = [{a.split()[-1].casefold() for a in e["actors"]} for e in found]
    # A name in most events (the story's protagonist) says nothing about which event a sentence reports.
    common = {p for p, n in Counter(p for ps in people for p in ps).items() if n > max(2, len(found) // 4)}
    people = [ps - common for ps in people]
    words = [set(e["words"]) for e in found]
    conflicts: list[tuple[int, int]] = []
    for i in range(len(found)):
        for j in range(i + 1, len(found)):
            a, b = found[i], found[j]
            shared_people = people[i] & people[j]
            shared_words = (words[i] & words[j]) - {p for p in shared_people}
            if compatible(a["date"], b["date"]):
                if (shared_people and shared_words) or len(shared_words) >= 3:
                    parent[root(i)] = root(j)
            elif a["article_id"] != b["article_id"] and shared_people and len(shared_words) >= 3 and \
                    len(words[i] & words[j]) / max(1, len(words[i] | words[j])) >= 0.3:
                conflicts.append((i, j))
    members: dict[int, list[int]] = {}
    for i in range(len(found)):
        members.setdefault(root(i), []).append(i)
    groups = []
    for idx in members.values():
        evs = [found[i] for i in idx]
        days = [e["date"] for e in evs if e["granularity"] == "day"]
        best = Counter(days).most_common(1)[0][0] if days else evs[0]["date"]
        lead = min(evs, key=lambda e: (e["granularity"] != "day", e["date_inferred"], e["start"]))
        actor_counts = Counter(a for e in evs for a in e["actors"])
        groups.append({"date": best, "granularity": "day" if days else "week", "summary": lead["text"],
                       "actors": [a for a, _ in actor_counts.most_common(8)],
                       "articles": len({e["article_id"] for e in evs}),
                       "citations": [{k: e[k] for k in ("article_id", "start", "end", "text", "date", "timex",
                                                         "date_inferred", "published")} for e in evs],
                       "conflicts": [], "_idx": set(idx)})
    for i, j in conflicts:
        gi = next(g for g in groups if i in g["_idx"])
        gj = next(g for g in groups if j in g["_idx"])
        if gi is gj:
            continue
        for g, other, ev in ((gi, gj, found[j]), (gj, gi, found[i])):
            g["conflicts"].append({"other_date": other["date"], "article_id": ev["article_id"], "start": ev["start"],
                                   "end": ev["end"], "text": ev["text"], "date_inferred": ev["date_inferred"]})
    for g in groups:
        del g["_idx"]
    groups.sort(key=lambda g: (_day(g["date"])[1], g["summary"]))  # type: ignore[index]
    return groups


def timeline_stage(view: Any, settings: Settings) -> Any:
    """The corpus stage: per-article publication dates (records ``published``) and event groups (``event:N``)."""
    from storytrace.stages import CorpusOutput

    # Held for the whole corpus until the events pass: keep of the quotations only what events() reads
    # (a speaker and where it stands), not the whole payload.
    payloads = {aid: {"dates": inputs["dates"],
                      "quotes": {"quotes": [{k: q.get(k) for k in ("speaker", "source_start", "content_start")}
                                            for q in inputs.get("quotes", {}).get("quotes", []) if q.get("speaker")]}}
                for aid, inputs in view.inputs()}
    dated = article_dates((a, payloads[a.id]["dates"]) for a in view.articles() if a.id in payloads)
    found: list[dict[str, Any]] = []
    for article in view.articles():
        if article.id not in dated:
            continue
        quotes = payloads[article.id].get("quotes", {}).get("quotes", [])
        found.extend(events(article, dated[article.id], quotes))
    groups = group(found)
    records: list[tuple[str, str | None, dict[str, Any]]] = [
        ("published", aid, {"published": d.get("published"), "timex": d.get("timex", [])}) for aid, d in dated.items()
    ]
    records += [(f"event:{n}", None, g) for n, g in enumerate(groups, 1)]
    inferred = sum(1 for d in dated.values() if (d.get("published") or {}).get("source") == "inferred")
    summary = {"articles": len(dated), "dated": sum(1 for d in dated.values() if d.get("published")),
               "inferred": inferred, "events": len(found), "groups": len(groups),
               "multi_article_groups": sum(1 for g in groups if g["articles"] > 1),
               "conflicts": sum(1 for g in groups if g["conflicts"])}
    return CorpusOutput(summary, records)
