"""The analysis stages, registered in one place with what each requires and what it produces.

A per-article stage is a pure function ``(article, inputs, settings) -> StageOutput`` where ``inputs``
holds the payloads of the stages it requires for that article. A corpus stage sees every article's
payloads of the stages it requires and returns one payload for the corpus. Later capabilities (quotes,
speakers, dates, stances, stories) plug in here; the runner (``runner.py``) decides what is stale.

Offsets in every payload are character offsets into the article's raw text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from storytrace.errors import ModelError, PipelineError
from storytrace.model import Article, StageOutput
from storytrace.settings import Settings

StageFn = Callable[[Article, Mapping[str, Any], Settings], StageOutput]


class CorpusView(Protocol):
    """What a corpus stage may read: every article, and the per-article results it requires, streamed."""

    def count(self) -> int: ...

    def articles(self) -> Iterator[Article]: ...

    def inputs(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(article id, {required stage: payload}) for every article that has all of them."""
        ...

    def records(self, stage: str) -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        """The records (key, article id, payload) another corpus stage stored; none if it has not run."""
        ...


@dataclass(frozen=True)
class CorpusOutput:
    """A corpus stage's result: a summary for reports, and records (key, article id or None, payload)."""

    summary: dict[str, Any]
    records: Iterable[tuple[str, str | None, dict[str, Any]]] = ()


CorpusFn = Callable[[CorpusView, Settings], CorpusOutput]


@dataclass(frozen=True)
class Stage:
    name: str
    version: str
    run: StageFn
    description: str
    requires: tuple[str, ...] = ()
    # Returns why the stage cannot run on this machine (e.g. a model not shipped), or None.
    unavailable: Callable[[], str | None] = lambda: None
    # The settings that change this stage's results: a change re-runs it.
    fingerprint: Callable[[Settings], str] = lambda settings: ""

    def __post_init__(self) -> None:
        if not isinstance(self.run, _SizeLimited):
            object.__setattr__(self, "run", _SizeLimited(self.run))


class _SizeLimited:
    """A per-article stage that refuses an article over ``settings.max_analysis_chars`` (a per-article error,
    where running it would hold the whole analysis up for minutes). A class, not a closure: it pickles."""

    def __init__(self, fn: StageFn) -> None:
        self.fn = fn

    def __call__(self, article: Article, inputs: Mapping[str, Any], settings: Settings) -> StageOutput:
        n = len(article.clean.text)
        if n > settings.max_analysis_chars:
            raise PipelineError(f"article has {n:,} characters of clean text, over max_analysis_chars "
                                f"({settings.max_analysis_chars:,}): not analysed; split it, or raise the limit "
                                "in Settings", code="E320")
        return self.fn(article, inputs, settings)


@dataclass(frozen=True)
class CorpusStage:
    name: str
    version: str
    run: CorpusFn
    description: str
    requires: tuple[str, ...] = ()
    # Per-article stages used when they have run (e.g. entities, which needs the model), never waited for.
    optional: tuple[str, ...] = ()
    # Inputs beside the required stages that make a stored result stale (e.g. a corrections file's hash).
    fingerprint: Callable[[Settings], str] = lambda settings: ""


# -- profile: cheap counts every report can use --------------------------------------------------------
_PARAGRAPH = re.compile(r"[^\n]+")
_WORD = re.compile(r"\w+(?:[-'’]\w+)*")
_OPEN_QUOTE = re.compile(r"[“\"‘](?=\w)")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,.]*(?:%| per cent)?")


def profile(article: Article, inputs: Mapping[str, Any], settings: Settings) -> StageOutput:
    """Count paragraphs, words, quotation openings and numbers in the clean text."""
    text = article.clean.text
    paragraphs = [
        list(article.clean.span_to_raw(m.start(), m.end())) for m in _PARAGRAPH.finditer(text) if m.group().strip()
    ]
    words = len(_WORD.findall(text))
    quotes = len(_OPEN_QUOTE.findall(text))
    numbers = len(_NUMBER.findall(text))
    payload = {"paragraphs": paragraphs, "words": words, "quote_marks": quotes, "numbers": numbers}
    summary: dict[str, int | float] = {
        "paragraphs": len(paragraphs), "words": words, "quote_marks": quotes, "numbers": numbers
    }
    return StageOutput("profile", article.id, payload, summary)


# -- entities: sentences and named entities from the project's own NLP backbone ---------------------------
def _nlp_unavailable() -> str | None:
    try:
        from storytrace.nlp import load  # noqa: F401
    except ImportError as exc:
        return f"the NLP backbone is not built yet ({exc})"
    try:
        load()
    except ModelError as exc:
        return str(exc)
    return None


@lru_cache(maxsize=4)
def _model_version(model: str = "fast") -> str:
    """The pipeline's name and version, so results of an older or another model count as stale."""
    try:
        from storytrace.nlp.pipeline import model_meta

        meta = model_meta(model)
    except (ImportError, ModelError):
        return "none"
    return f"{meta.get('name', '?')}-{meta.get('version', '?')}"


def _parse_fingerprint(settings: Settings) -> str:
    parse = f"parse={settings.quote_parse};model={_model_version(settings.nlp_model) if settings.quote_parse else '-'}"
    if not settings.quote_tagger:
        return parse
    from storytrace.nlp import quotetagger

    return f"{parse};tagger={quotetagger.version()}"


# Entities need tok2vec, morphologizer and NER only: the parser (the costliest component) runs on the few
# sentences the quote finder asks about, not on every sentence (sentences here: punctuation + quote rules).
ENTITY_EXCLUDE = ("tagger", "parser", "trainable_lemmatizer")


def entities(article: Article, inputs: Mapping[str, Any], settings: Settings) -> StageOutput:
    """Split the clean text into sentences and find named entities, with raw-text offsets."""
    from storytrace.nlp import attribution, load

    doc = load(settings.nlp_model, exclude=ENTITY_EXCLUDE)(article.clean.text)
    attribution.share(doc, settings.nlp_model)  # the quote parse layer reuses its tok2vec output if it runs next
    to_raw = article.clean.span_to_raw
    sentences = [list(to_raw(s.start_char, s.end_char)) for s in doc.sents]
    ents = [
        {"text": e.text, "label": e.label_, "start": to_raw(e.start_char, e.end_char)[0],
         "end": to_raw(e.start_char, e.end_char)[1]}
        for e in doc.ents
    ]
    labels = Counter(e["label"] for e in ents)
    summary: dict[str, int | float] = {"sentences": len(sentences), "entities": len(ents)}
    summary.update({f"entities_{label}": n for label, n in labels.items()})
    return StageOutput("entities", article.id, {"sentences": sentences, "entities": ents}, summary)


def people(view: CorpusView, settings: Settings) -> CorpusOutput:
    """Count, across the corpus, the articles in which each PERSON name appears."""
    mentions: Counter[str] = Counter()
    for _article_id, inputs in view.inputs():
        names = {e["text"] for e in inputs["entities"]["entities"] if e["label"] == "PERSON"}
        mentions.update(names)
    return CorpusOutput({"people": [{"name": n, "articles": c} for n, c in mentions.most_common(200)]})


# -- quotes: quotations with cue, source mention and in-article speaker ------------------------------------
def quotes(article: Article, inputs: Mapping[str, Any], settings: Settings) -> StageOutput:
    """Find quotations (direct, partial, indirect) in the clean text and resolve their speakers."""
    from storytrace.nlp.quotes import extract

    to_raw = article.clean.span_to_raw
    raw = article.raw_text

    def span(start: int, end: int) -> tuple[int, int, str]:
        r_start, r_end = to_raw(start, end)
        return r_start, r_end, raw[r_start:r_end]

    found = []
    for q in extract(article.clean.text, article.id, parse=settings.quote_parse, tagger=settings.quote_tagger,
                     model=settings.nlp_model):
        c_start, c_end, c_text = span(q.content.start, q.content.end)
        cue = span(q.cue.start, q.cue.end) if q.cue else None
        source = span(q.source.start, q.source.end) if q.source else None
        found.append({
            "kind": q.kind, "content": c_text, "content_start": c_start, "content_end": c_end,
            "content_spans": [list(span(f.start, f.end)[:2]) for f in q.content_spans or (q.content,)],
            "cue": cue[2] if cue else None, "cue_start": cue[0] if cue else None, "cue_end": cue[1] if cue else None,
            "cue_lemma": q.cue_lemma,
            "source": source[2] if source else None, "source_start": source[0] if source else None,
            "source_end": source[1] if source else None,
            "speaker": q.speaker, "anonymous": q.anonymous, "unresolved_reason": q.unresolved_reason,
            "confidence": q.confidence,
        })
    kinds = Counter(q["kind"] for q in found)
    summary: dict[str, int | float] = {
        "quotes": len(found), **{k: kinds.get(k, 0) for k in ("direct", "partial", "indirect")},
        "speakers_resolved": sum(1 for q in found if q["speaker"]),
        "anonymous": sum(1 for q in found if q["anonymous"]),
        "unresolved": sum(1 for q in found if not q["speaker"] and not q["anonymous"]),
    }
    return StageOutput("quotes", article.id, {"quotes": found}, summary)


def speakers(view: CorpusView, settings: Settings) -> CorpusOutput:
    """Count, across the corpus, each resolved speaker's quotations and the articles carrying them."""
    quoted: Counter[str] = Counter()
    articles: Counter[str] = Counter()
    for _article_id, inputs in view.inputs():
        names = [q["speaker"] for q in inputs["quotes"]["quotes"] if q["speaker"]]
        quoted.update(names)
        articles.update(set(names))
    ranked = [{"name": n, "quotes": c, "articles": articles[n]} for n, c in quoted.most_common(200)]
    return CorpusOutput({"speakers": ranked})


def _analyze_stages() -> list[Stage]:
    """Per-article stages from ``storytrace.analyze`` (stances, facts)."""
    from storytrace.analyze import facts, stance

    return [
        Stage("stances", "5", stance.stances,
              "stance statements: holder, target or proposition, support/oppose/neutral, evidence, date "
              "(rules, then a polarity classifier over quotation speaker -> named actor)",
              ("quotes",), fingerprint=stance.stance_fingerprint),
        Stage("facts", "1", facts.facts, "numbers, amounts, percentages and tallies with what they count"),
    ]


def _analyze_corpus_stages() -> list[CorpusStage]:
    """Cross-article stages from ``storytrace.analyze`` (stance changes, fact alignment, briefs)."""
    from storytrace.analyze import brief, facts, stance

    return [
        CorpusStage("stance_changes", "2", stance.stance_changes,
                    "each actor's stance toward each target over time, with changes flagged", ("stances",),
                    optional=("dates", "timeline")),
        CorpusStage("fact_alignment", "3", facts.fact_alignment,
                    "the same fact across the articles of a story: agreement and conflict, with citations",
                    ("facts",), optional=("stories",)),
        CorpusStage("briefs", "2", brief.briefs_stage,
                    "an extractive, chronological, cited brief of each story", ("facts", "quotes"),
                    optional=("stories",),
                    fingerprint=lambda settings: f"brief_sentences={settings.brief_sentences}"),
    ]


# -- dates: publication date (given or inferred) and every time expression, resolved against it --------------
def dates(article: Article, inputs: Mapping[str, Any], settings: Settings) -> StageOutput:
    """Date the article (metadata, else inferred from its own references) and normalise its time expressions."""
    from storytrace.analyze.timeline import dates_payload

    payload = dates_payload(article)
    types = Counter(t["type"] for t in payload["timex"])
    published = payload["published"] or {}
    summary: dict[str, int | float] = {
        "timex": len(payload["timex"]), **{f"timex_{k}": n for k, n in types.items()},
        "dated": int(bool(published)), "inferred": int(published.get("source") == "inferred"),
    }
    return StageOutput("dates", article.id, payload, summary)


def _resolve_stages() -> list[CorpusStage]:
    """Cross-article stages from ``storytrace.resolve`` (imported here so the registry stays in one place)."""
    from storytrace.resolve import actors, duplicates, stories, variants

    return [
        CorpusStage("actors", "1", actors.actors_stage,
                    "canonical people and organisations across articles, with roles and merge reasons",
                    ("quotes",), optional=("entities",), fingerprint=actors.corrections_fingerprint),
        CorpusStage("stories", "5", stories.stories_stage,
                    "story clusters over the articles in date order, each membership with its reason",
                    ("quotes",), optional=("entities", "timeline", "embedding"),
                    fingerprint=lambda settings: f"story_embeddings={settings.story_embeddings}"),
        # profile is required only so that changed clean text makes the grouping stale.
        CorpusStage("duplicates", "2", duplicates.duplicates_stage,
                    "near-duplicate and syndicated copies (MinHash LSH), each with its shared fraction", ("profile",)),
        CorpusStage("variants", "6", variants.variants_stage,
                    "one utterance quoted across articles: canonical text, each version's diff and change flags",
                    ("quotes",)),
    ]


def _embedding_stage() -> Stage:
    """The stories stage's optional per-article vector (an empty payload unless Settings.story_embeddings)."""
    from storytrace.resolve import stories

    return Stage("embedding", "1", stories.embedding_stage,
                 "title + lead sentence embedding (all-MiniLM-L6-v2) for stories; only with --story-embeddings "
                 "and the 'embeddings' extra", fingerprint=stories.embedding_fingerprint)


def _timeline(view: CorpusView, settings: Settings) -> CorpusOutput:
    """Date every article (corpus neighbours place undated ones) and build the cross-article timeline."""
    from storytrace.analyze.timeline import timeline_stage

    result: CorpusOutput = timeline_stage(view, settings)
    return result


STAGES: dict[str, Stage] = {
    s.name: s
    for s in [
        Stage("profile", "1", profile, "paragraph, word, quotation-mark and number counts"),
        Stage("entities", "4", entities, "sentences and named entities (PERSON, ORG, GPE, ...)",
              unavailable=_nlp_unavailable, fingerprint=lambda settings: f"model={_model_version(settings.nlp_model)}"),
        Stage("quotes", "18", quotes, "quotations (direct, partial, indirect) with cue, source and speaker "
              "(rules, then a parse layer whose frames a learned filter keeps or drops; with --quote-tagger, "
              "a MiniLM span tagger's too)",
              fingerprint=_parse_fingerprint),
        Stage("dates", "2", dates, "publication date (given, dateline or inferred) and TIMEX3 time expressions"),
        _embedding_stage(),
        *_analyze_stages(),
    ]
}
CORPUS_STAGES: dict[str, CorpusStage] = {
    s.name: s
    for s in [
        CorpusStage("people", "1", people, "people named across the corpus", ("entities",)),
        CorpusStage("speakers", "1", speakers, "who is quoted most across the corpus", ("quotes",)),
        *_resolve_stages(),
        CorpusStage("timeline", "1", _timeline, "publication dates for every article (inferred where needed) "
                    "and dated events grouped across articles, with citations and date conflicts", ("dates",),
                    optional=("quotes",)),
        *_analyze_corpus_stages(),
    ]
}


def plan(names: Iterable[str] | None = None) -> tuple[list[Stage], list[CorpusStage]]:
    """Order the requested stages (all by default) after everything they require."""
    wanted = list(names) if names else list(STAGES) + list(CORPUS_STAGES)
    unknown = [n for n in wanted if n not in STAGES and n not in CORPUS_STAGES]
    if unknown:
        known = ", ".join([*STAGES, *CORPUS_STAGES])
        raise PipelineError(f"unknown stage(s) {', '.join(unknown)}; known stages: {known}", code="E301")
    ordered: list[str] = []

    def visit(name: str, trail: tuple[str, ...] = ()) -> None:
        if name in trail:
            raise PipelineError(f"stages require each other in a cycle: {' -> '.join((*trail, name))}", code="E302")
        if name in ordered:
            return
        stage = STAGES.get(name) or CORPUS_STAGES[name]
        for req in stage.requires:
            visit(req, (*trail, name))
        for opt in getattr(stage, "optional", ()):  # used when present: run first if it runs at all
            if opt in wanted_set:
                visit(opt, (*trail, name))
        ordered.append(name)

    wanted_set = set(wanted)
    for name in wanted:
        visit(name)
    return [STAGES[n] for n in ordered if n in STAGES], [CORPUS_STAGES[n] for n in ordered if n in CORPUS_STAGES]
