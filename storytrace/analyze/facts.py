"""Facts across outlets: numbers with what they count, aligned across the articles of a story.

Per article (stage ``facts``): tallies ("172-40"), percentages ("59.5% of the vote"), amounts of money
("£11,000 a day") and counts ("more than 25,000 people", "up to 100,000 members"), each with a normalised
value, a qualifier (more than / up to / about ...), what it counts, a topic key (the content words of
what it counts, or for a tally the event it reports: "vote of no confidence"), and raw-text offsets.

Across articles (corpus stage ``fact_alignment``): within each story (the ``stories`` stage), facts that share
a kind and topic are one fact; each group says whether the outlets agree or conflict (values compared after
qualifiers: "more than 50" agrees with 60), and lists the articles of the story that report the same event
without the figure, each with citations.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any

from storytrace.model import Article, StageOutput
from storytrace.settings import Settings
from storytrace.stages import CorpusOutput, CorpusView

_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
          "eleven": 11, "twelve": 12, "twenty": 20, "fifty": 50, "hundred": 100, "dozen": 12}
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9, "trillion": 1e12}
_QUAL = r"(?P<qual>more\s+than|over|up\s+to|at\s+least|almost|nearly|about|around|some|fewer\s+than|less\s+than|" \
        r"under|roughly|approximately|just\s+over|just\s+under)?\s*"
_NUM = r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_TALLY = re.compile(r"(?<![\d:/.,-])(?P<a>\d{1,4})\s?[-–]\s?(?P<b>\d{1,4})(?![\d:/-])")
_PERCENT = re.compile(_QUAL + _NUM + r"\s?(?:%|per\s?cent\b|percent\b)(?P<of>\s+of\s+(?:the\s+|their\s+|all\s+)?"
                      r"[a-z]+(?:\s+[a-z]+)?)?", re.I)
_MONEY = re.compile(_QUAL + r"(?P<cur>[£$€])\s?" + _NUM + r"(?:\s?(?P<scale>k|m|bn|million|billion|thousand)\b)?"
                    r"(?P<per>\s+(?:a|an|per|each)\s+(?:day|week|month|year|head|person|member))?", re.I)
_COUNT = re.compile(_QUAL + r"(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|" + "|".join(_WORDS) +
                    r")(?:\s+(?P<scale>thousand|million|billion))?\s+(?P<what>(?:[a-z][\w-]*\s+){0,1}?"
                    r"(?:people|members|MPs|MEPs|votes|voters|supporters|demonstrators|protesters|jobs|workers|"
                    r"seats|candidates|nominations|signatures|donations|donors|resignations|councillors|"
                    r"delegates|states|counties|years|days|weeks|months|articles|members|staff|children|"
                    r"[a-z]+s))\b", re.I)
_EVENT = re.compile(r"\b(?:(?:vote|motion|ballot)\s+of\s+[“\"‘']?(?:no\s+)?confidence|"
                    r"no[- ]confidence\s+(?:vote|motion)|"
                    r"leadership\s+(?:election|contest|ballot)|(?:general\s+)?election|referendum|ballot|vote|"
                    r"poll|majority|margin)\b", re.I)
_SENTENCE = re.compile(r"[^\n]+?(?:[.!?](?:[”\"’']+)?(?=\s)|$)", re.M)
_STOP = {"the", "a", "an", "of", "their", "all", "in", "on", "to", "by", "its", "his", "her"}
_YEARLIKE = range(1900, 2101)


def _number(text: str) -> float:
    t = text.casefold().replace(",", "")
    return float(_WORDS[t]) if t in _WORDS else float(t)


def _topic(phrase: str) -> str:
    words = [w for w in re.findall(r"[a-z]+", phrase.casefold()) if w not in _STOP]
    words = [w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words]
    return " ".join(sorted(set(words)))


def _event_near(sentence: str, pos: int) -> str | None:
    """The event a tally or percentage reports: the event noun nearest to it in its sentence."""
    events = [(abs(m.start() - pos), m.group()) for m in _EVENT.finditer(sentence)]
    if any("confidence" in e.casefold() for _d, e in events):
        return "vote of no confidence"  # the most specific event wins over "vote" or "margin"
    return min(events)[1].casefold() if events else None


def find(text: str) -> list[dict[str, Any]]:
    """Facts in a clean text, with clean-text offsets: kind, value, qualifier, what it counts, topic."""
    found: list[dict[str, Any]] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, **fields: Any) -> None:
        while start < end and text[start].isspace():
            start += 1
        if any(a < end and start < b for a, b in taken):
            return
        taken.append((start, end))
        found.append({"start": start, "end": end, "text": text[start:end], **fields})

    for sm in _SENTENCE.finditer(text):
        sentence, base = sm.group(), sm.start()
        for m in _TALLY.finditer(sentence):
            a, b = int(m["a"]), int(m["b"])
            if a in _YEARLIKE or b in _YEARLIKE or a == 0 and b == 0:
                continue
            event = _event_near(sentence, m.start())
            if event is None:
                continue
            add(base + m.start(), base + m.end(), kind="tally", value=[a, b], unit="", qualifier="",
                counts=event, topic=_topic(event))
        for m in _PERCENT.finditer(sentence):
            of = (m["of"] or "").strip()
            counts = of or (_event_near(sentence, m.start()) or "")
            add(base + m.start("num") if not m["qual"] else base + m.start(), base + m.end(), kind="percent",
                value=_number(m["num"]), unit="%", qualifier=_qual(m["qual"]), counts=counts, topic=_topic(counts))
        for m in _MONEY.finditer(sentence):
            value = _number(m["num"]) * _SCALE.get((m["scale"] or "").casefold(), 1)
            per = (m["per"] or "").strip()
            counts = f"money {per}".strip()
            add(base + m.start(), base + m.end(), kind="amount", value=value,
                unit=m["cur"] + (f" {per}" if per else ""),
                qualifier=_qual(m["qual"]), counts=counts, topic=_topic(counts))
        for m in _COUNT.finditer(sentence):
            raw_num = m["num"]
            value = _number(raw_num) * _SCALE.get((m["scale"] or "").casefold(), 1)
            if value in _YEARLIKE and not m["qual"] and "," not in raw_num:
                continue
            what = m["what"].strip()
            if what.casefold() in {"years", "days", "weeks", "months"} and not m["qual"]:
                continue
            start = base + (m.start("qual") if m["qual"] else m.start("num"))
            add(start, base + m.end(), kind="count", value=value, unit=what.split()[-1], qualifier=_qual(m["qual"]),
                counts=what, topic=_topic(what.split()[-1]))
    found.sort(key=lambda f: f["start"])
    return found


def _qual(q: str | None) -> str:
    return re.sub(r"\s+", " ", q.casefold()).strip() if q else ""


def facts(article: Article, inputs: Mapping[str, Any], settings: Settings) -> StageOutput:
    """Numbers with what they count, normalised, with raw-text offsets."""
    out = []
    for f in find(article.clean.text):
        start, end = article.clean.span_to_raw(f["start"], f["end"])
        sentence = _sentence_around(article.clean.text, f["start"])
        s_start, s_end = article.clean.span_to_raw(*sentence)
        out.append({**f, "start": start, "end": end, "text": article.raw_text[start:end],
                    "sentence_start": s_start, "sentence_end": s_end})
    summary: dict[str, int | float] = {"facts": len(out)}
    for kind in ("tally", "percent", "amount", "count"):
        summary[kind] = sum(1 for f in out if f["kind"] == kind)
    return StageOutput("facts", article.id, {"facts": out}, summary)


def _sentence_around(text: str, pos: int) -> tuple[int, int]:
    for m in _SENTENCE.finditer(text):
        if m.start() <= pos < m.end():
            return m.start(), m.end()
    return pos, pos


# -- across articles --------------------------------------------------------------------------------------
def _bounds(f: dict[str, Any]) -> tuple[float, float]:
    """The range of true values a reported figure allows, given its qualifier."""
    v = f["value"]
    q = f["qualifier"]
    if q in ("more than", "over", "at least", "just over"):
        return v, v * 10
    if q in ("up to", "fewer than", "less than", "under", "just under"):
        return 0.0, v
    if q in ("almost", "nearly", "about", "around", "some", "roughly", "approximately"):
        return v * 0.9, v * 1.1
    return v, v


def _agree(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["kind"] == "tally":
        return bool(a["value"] == b["value"])
    lo1, hi1 = _bounds(a)
    lo2, hi2 = _bounds(b)
    return lo1 <= hi2 + 1e-9 and lo2 <= hi1 + 1e-9


def story_members(view: CorpusView) -> dict[str, list[str]]:
    """Story number -> article ids, from the ``stories`` corpus stage; empty when it has not run."""
    members: dict[str, list[str]] = defaultdict(list)
    for key, article_id, _payload in view.records("stories"):
        if article_id is not None:
            members[key].append(article_id)
    return dict(members)


def fact_alignment(view: CorpusView, settings: Settings) -> CorpusOutput:
    """Align each story's facts across its articles: agreement, conflict, and reports without the figure."""
    per_article: dict[str, list[dict[str, Any]]] = {aid: inputs["facts"]["facts"] for aid, inputs in view.inputs()}
    stories = story_members(view) or {f"a{i}": [aid] for i, aid in enumerate(sorted(per_article))}
    texts: dict[str, Article] = {}
    wanted = {aid for ids in stories.values() if len(ids) > 1 for aid in ids}
    for article in view.articles():
        if article.id in wanted:
            texts[article.id] = article
    groups_out: list[tuple[str, dict[str, Any]]] = []
    conflicts = agreements = 0
    for story, ids in sorted(stories.items(), key=lambda kv: kv[0]):
        grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for aid in ids:
            for f in per_article.get(aid, []):
                if f["topic"]:
                    grouped[(f["kind"], f["topic"])].append({**f, "article_id": aid})
        for n, ((kind, topic), rows) in enumerate(sorted(grouped.items())):
            articles = sorted({r["article_id"] for r in rows})
            status = "single"
            if len(articles) > 1:
                ok = all(_agree(a, b) for i, a in enumerate(rows) for b in rows[i + 1:]
                         if a["article_id"] != b["article_id"])
                status = "agree" if ok else "conflict"
                agreements += ok
                conflicts += not ok
            mentions = _mentions_without_figure(rows[0], [a for a in ids if a not in articles], texts)
            record = {"story": story, "kind": kind, "topic": topic, "counts": rows[0]["counts"], "status": status,
                      "articles": articles, "values": [r["value"] for r in rows],
                      "citations": [{k: r[k] for k in ("article_id", "text", "start", "end", "value", "qualifier",
                                                       "sentence_start", "sentence_end")} for r in rows],
                      "also_reported_by": mentions}
            groups_out.append((f"{story}:{n}", record))

    def records() -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        for key, record in groups_out:
            yield key, None, record

    summary = {"facts": sum(len(v) for v in per_article.values()), "groups": len(groups_out),
               "cross_article": sum(1 for _k, r in groups_out if len(r["articles"]) > 1 or r["also_reported_by"]),
               "agree": agreements, "conflict": conflicts}
    return CorpusOutput(summary, records())


def _mentions_without_figure(fact: dict[str, Any], others: list[str],
                             texts: dict[str, Article]) -> list[dict[str, Any]]:
    """Sentences of other articles in the story that report the same event (tallies and percentages only)."""
    if fact["kind"] not in ("tally", "percent") or not fact["counts"]:
        return []
    generic = {"vote", "ballot", "poll", "margin", "election", "majority", "no", "money"}
    keys = [w for w in fact["topic"].split() if len(w) > 3 and w not in generic]
    if not keys:
        return []
    found = []
    for aid in others:
        article = texts.get(aid)
        if article is None:
            continue
        for m in _SENTENCE.finditer(article.clean.text):
            low = m.group().casefold()
            if all(k in low for k in keys) and (fact["counts"] != "vote of no confidence"
                                                or re.search(r"\bno[\s\"“”‘’'-]+confidence", low)):
                start, end = article.clean.span_to_raw(m.start(), m.end())
                found.append({"article_id": aid, "start": start, "end": end, "text": article.raw_text[start:end]})
                break
    return found
