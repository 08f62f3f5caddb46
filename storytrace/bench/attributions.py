"""Read PolNeAR (Political News Attribution Relations, LREC 2018) splits into gold attribution records.

Layout read here (as shipped in ``../shared/data/polnear``)::

    polnear/
      metadata.tsv                      compartment, filename, publisher, ... (one row per article)
      <split>/text/<article>.txt        the article text; annotation offsets point into it
      <split>/attributions/<article>_<annotator>.ann   brat standoff, one file per annotator

One annotation per article is scored: the first ``.ann`` file in sort order (a few articles were
annotated by all six annotators for agreement checks). In a ``.ann`` file, ``T`` lines are entities
(``Source``, ``Cue``, ``Content``, the trigger ``Attribution`` / ``Attribution-no-source``, and the notes
``Discuss`` / ``Discard``), and each ``E`` line is one attribution linking its roles:
``E3<TAB>Attribution:T12 Cue:T11 Source:T10 Content:T9``. The role named in the ``E`` line decides what
an entity is (a handful of entity labels disagree with their link); ``Content2`` is a second content
piece of the same attribution; an ``E`` line without content is skipped. Entity offsets may be
discontinuous (``10 20;25 40``, mostly a quote that runs over a paragraph break), and span texts may
contain newlines, so only lines that start like ``T12<TAB>`` or ``E3<TAB>`` are parsed; span text is
taken from the article by offset, never from the ``.ann`` file.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from storytrace.errors import BenchmarkError
from storytrace.model import Quote, Span

_ENTITY = re.compile(r"^(T\d+)\t(\S+) ([0-9; ]+)\t", re.M)
_EVENT = re.compile(r"^(E\d+)\t(.*)$", re.M)
# Roles of an E line that the scorer uses; the trigger roles (Attribution, Attribution-no-source) are not.
_CONTENT_ROLES = ("Content", "Content2")


@dataclass(frozen=True)
class GoldAttribution:
    """One gold attribution: its content pieces, cue pieces and source pieces (None without a source)."""

    id: str  # the E line's id, e.g. "E3"
    content: tuple[Span, ...]  # in text order; more than one when the content is discontinuous
    cue: tuple[Span, ...] = ()
    source: tuple[Span, ...] | None = None

    def to_quote(self, article_id: str) -> Quote:
        """Express this attribution as a ``Quote``, as a perfect extractor would return it.

        The covering content span (and the cue or source span covering a discontinuous one) has no text.
        """
        first, last = self.content[0], self.content[-1]
        return Quote(
            article_id=article_id,
            kind="",
            content=Span(first.start, last.end, ""),
            content_spans=self.content,
            cue=_cover(self.cue),
            source=_cover(self.source or ()),
        )


@dataclass(frozen=True)
class GoldArticle:
    """One article of a split with the attributions of the annotation chosen for scoring."""

    name: str  # the text file's stem, e.g. "nyt_2016-10-02_..."
    outlet: str  # publisher from metadata.tsv, else the filename prefix
    text: str
    attributions: tuple[GoldAttribution, ...]
    annotator: str  # the id at the end of the chosen .ann file's name
    annotations: int = 1  # how many .ann files the article has (only the first is used)


def _cover(spans: tuple[Span, ...]) -> Span | None:
    if not spans:
        return None
    if len(spans) == 1:
        return spans[0]
    return Span(spans[0].start, spans[-1].end, "")


def resolve_root(data: Path, split: str) -> Path:
    """Return the PolNeAR folder, given either that folder or the shared data folder that holds it."""
    for root in (data / "polnear", data):
        if (root / split / "attributions").is_dir() and (root / split / "text").is_dir():
            return root
    raise BenchmarkError(
        f"no PolNeAR split {split!r} under {data}: pass --data as the polnear folder or the data folder "
        f"holding it, with {split}/text and {split}/attributions inside"
    )


def _outlets(root: Path, split: str) -> dict[str, str]:
    path = root / "metadata.tsv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t")
        return {row["filename"]: row["publisher"] for row in rows
                if row.get("compartment") == split and row.get("filename") and row.get("publisher")}


def parse_ann(ann: str, text: str, *, where: str = "") -> tuple[GoldAttribution, ...]:
    """Parse one brat standoff annotation against its article text; return its attributions in E order."""
    entities: dict[str, tuple[Span, ...]] = {}
    for match in _ENTITY.finditer(ann):
        tid, _label, offsets = match.groups()
        spans: list[Span] = []
        for piece in offsets.split(";"):
            parts = piece.split()
            if len(parts) != 2:
                raise BenchmarkError(f"{where}: malformed offsets {offsets!r} for {tid}")
            start, end = int(parts[0]), int(parts[1])
            if not 0 <= start <= end <= len(text):
                raise BenchmarkError(f"{where}: {tid} offsets {start}-{end} fall outside the article text "
                                     f"({len(text)} characters): is the text file the right one?")
            spans.append(Span(start, end, text[start:end]))
        first = spans[0].text[:20]
        if not ann.startswith(first, match.end()):
            raise BenchmarkError(f"{where}: {tid} text does not match the article at {spans[0].start}: "
                                 "is the text file the right one?")
        entities[tid] = tuple(sorted(spans, key=lambda s: s.start))
    found: list[GoldAttribution] = []
    for match in _EVENT.finditer(ann):
        eid, args = match.groups()
        roles: dict[str, list[Span]] = {"content": [], "cue": [], "source": []}
        for arg in args.split():
            role, _, tid = arg.partition(":")
            if tid not in entities:
                raise BenchmarkError(f"{where}: {eid} refers to a missing entity {tid!r}")
            key = "content" if role in _CONTENT_ROLES else role.lower()
            if key in roles:
                roles[key].extend(entities[tid])
        if not roles["content"]:
            continue
        found.append(GoldAttribution(
            id=eid,
            content=tuple(sorted(roles["content"], key=lambda s: s.start)),
            cue=tuple(sorted(roles["cue"], key=lambda s: s.start)),
            source=tuple(sorted(roles["source"], key=lambda s: s.start)) or None,
        ))
    return tuple(found)


def load_split(data: Path, split: str, *, limit: int | None = None,
               fold: tuple[int, int] | None = None, rest: bool = False) -> list[GoldArticle]:
    """Read a split's articles in name order, each with the first of its annotations in sort order.

    ``data`` is the polnear folder or the data folder holding it; ``limit`` keeps the first N articles;
    ``fold=(k, n)`` keeps the articles whose place in name order is k modulo n (names sort by outlet, so
    every fold mixes the outlets); with ``rest`` it keeps all the others instead.
    """
    root = resolve_root(data, split)
    by_article: dict[str, list[Path]] = {}
    for ann in sorted((root / split / "attributions").glob("*.ann")):
        name, sep, _annotator = ann.stem.rpartition("_")
        if not sep:
            raise BenchmarkError(f"{ann.name}: expected <article>_<annotator>.ann")
        by_article.setdefault(name, []).append(ann)
    if not by_article:
        raise BenchmarkError(f"no .ann files in {root / split / 'attributions'}")
    outlets = _outlets(root, split)
    names = sorted(by_article)
    if fold is not None:
        k, n = fold
        names = [name for i, name in enumerate(names) if (i % n == k) != rest]
    names = names[:limit] if limit else names
    articles: list[GoldArticle] = []
    for name in names:
        anns = by_article[name]
        text_path = root / split / "text" / f"{name}.txt"
        if not text_path.is_file():
            raise BenchmarkError(f"{anns[0].name} has no article text {split}/text/{name}.txt")
        # newline="" keeps "\r" characters, which count in the annotation offsets.
        with text_path.open(encoding="utf-8", newline="") as handle:
            text = handle.read()
        chosen = anns[0]
        attributions = parse_ann(chosen.read_text(encoding="utf-8"), text, where=f"{split}/{chosen.name}")
        articles.append(GoldArticle(
            name=name,
            outlet=outlets.get(name) or name.split("_", 1)[0],
            text=text,
            attributions=attributions,
            annotator=chosen.stem.rpartition("_")[2],
            annotations=len(anns),
        ))
    return articles
