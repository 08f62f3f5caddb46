"""Story briefs: an extractive multi-document summary of each story in which every sentence cites its source.

Sentences of the story's articles are scored by TF-IDF centrality (cosine to the story's centroid), with a
bonus for sentences that carry a quotation or a fact and for each article's lead; they are picked greedily by
maximal marginal relevance (a sentence too similar to one already picked is skipped), then put in
chronological order (article date, then position in the article). ``Settings.brief_sentences`` sets the length.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from storytrace.analyze.facts import story_members
from storytrace.model import Article
from storytrace.settings import Settings
from storytrace.stages import CorpusOutput, CorpusView

_SENTENCE = re.compile(r"[^\n]+?(?:[.!?](?:[”\"’']+)?(?=\s)|$)", re.M)
_WORD = re.compile(r"[a-z][a-z'’-]+")
_STOP = frozenset("""a about after again all also an and are as at be been but by can could did do for from had has
have he her him his how i if in into is it its just more most mr mrs ms my no not of on one or our out over said
says she so some than that the their them then there these they this those to up was we were what when which who
will with would you""".split())
# A candidate must look like a sentence of the body, not a caption, headline or link.
_MIN_WORDS = 8
# Similarity to an already chosen sentence above which a candidate is redundant.
REDUNDANCY = 0.45
LAMBDA = 0.7  # MMR: weight of relevance against redundancy


def _vector(text: str) -> Counter[str]:
    return Counter(w for w in _WORD.findall(text.casefold()) if w not in _STOP)


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    dot = sum(v * b.get(k, 0.0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


def candidates(article: Article, quotes: list[dict[str, Any]], facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The article's body sentences, with raw offsets and whether they carry a quotation or a fact."""
    out = []
    qspans = [(q["content_start"], q["content_end"]) for q in quotes]
    fspans = [(f["start"], f["end"]) for f in facts]
    for i, m in enumerate(_SENTENCE.finditer(article.clean.text)):
        text = m.group().strip()
        if len(text.split()) < _MIN_WORDS or not re.search(r"[.!?][”\"’']*$", text):
            continue
        lead = len(m.group()) - len(m.group().lstrip())
        start, end = article.clean.span_to_raw(m.start() + lead, m.start() + lead + len(text))
        out.append({"article_id": article.id, "start": start, "end": end, "text": article.raw_text[start:end],
                    "position": i, "quote": any(a < end and start < b for a, b in qspans),
                    "fact": any(start <= a < end for a, _b in fspans)})
    return out


def summarise(sentences: list[dict[str, Any]], *, dates: dict[str, str | None], n: int) -> list[dict[str, Any]]:
    """Pick ``n`` central, non-redundant sentences and return them in chronological order."""
    if not sentences:
        return []
    vectors = [_vector(s["text"]) for s in sentences]
    df: Counter[str] = Counter(w for v in vectors for w in v)
    total = len(vectors)
    weighted = [{w: c * math.log(1 + total / df[w]) for w, c in v.items()} for v in vectors]
    centroid: Counter[str] = Counter()
    for v in weighted:
        centroid.update(v)
    firsts: dict[str, int] = {}
    for s in sentences:
        firsts[s["article_id"]] = min(firsts.get(s["article_id"], s["position"]), s["position"])
    scores = []
    for s, v in zip(sentences, weighted, strict=True):
        score = _cosine(v, centroid) + 0.1 * s["quote"] + 0.1 * s["fact"]
        score += 0.1 if s["position"] == firsts[s["article_id"]] else 0.0
        scores.append(score)
    chosen: list[int] = []
    while len(chosen) < n:
        best, best_value = None, -1.0
        for i, score in enumerate(scores):
            if i in chosen:
                continue
            overlap = max((_cosine(weighted[i], weighted[j]) for j in chosen), default=0.0)
            if overlap > REDUNDANCY:
                continue
            value = LAMBDA * score - (1 - LAMBDA) * overlap
            if value > best_value:
                best, best_value = i, value
        if best is None:
            break
        chosen.append(best)
    order = {aid: k for k, aid in enumerate(dict.fromkeys(s["article_id"] for s in sentences))}
    picked = [{**sentences[i], "score": round(scores[i], 4), "date": dates.get(sentences[i]["article_id"])}
              for i in chosen]
    picked.sort(key=lambda s: (s["date"] is None, s["date"] or "", order[s["article_id"]], s["start"]))
    return picked


def briefs_stage(view: CorpusView, settings: Settings) -> CorpusOutput:
    """One brief per story of two or more articles (every article is its own story when stories have not run)."""
    inputs = dict(view.inputs())
    stories = story_members(view) or {str(i + 1): [aid] for i, aid in enumerate(sorted(inputs))}
    articles = {a.id: a for a in view.articles()}
    out: list[tuple[str, dict[str, Any]]] = []
    for story, ids in sorted(stories.items(), key=lambda kv: (len(kv[0]), kv[0])):
        sentences: list[dict[str, Any]] = []
        dates: dict[str, str | None] = {}
        for aid in ids:
            article = articles.get(aid)
            if article is None or aid not in inputs:
                continue
            dates[aid] = article.published[:10] if article.published else None
            sentences += candidates(article, inputs[aid]["quotes"]["quotes"], inputs[aid]["facts"]["facts"])
        picked = summarise(sentences, dates=dates, n=settings.brief_sentences)
        out.append((story, {"story": story, "articles": len(ids), "sentences": picked,
                            "method": "TF-IDF centrality + quote/fact/lead bonus, MMR redundancy removal"}))

    def records() -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        for key, record in out:
            yield key, None, record

    return CorpusOutput({"briefs": len(out), "sentences": settings.brief_sentences}, records())
