"""Rule components on top of the trained pipeline, where the training data is thin.

Two spaCy components, registered here and added by ``storytrace.nlp.load``:

``storytrace_quote_boundaries`` (before the parser)
    News puts quotations across sentence edges that web text rarely shows. An opening quotation mark
    after sentence-final punctuation, and any token after a line break, starts a sentence; the words
    after a closing quotation mark that carry the attribution (``..., ” he said.``) stay with the
    quotation's sentence. The parser honours boundaries set before it runs.

``storytrace_entity_rules`` (after the NER)
    - titles and roles ("shadow chancellor", "general secretary", "Lord", "Mr") go to
      ``doc.spans["titles"]``, and a capitalised name right after one is a PERSON;
    - a person named in full once ("Jeremy Corbyn") is a PERSON wherever the document repeats the
      full name or the surname ("JEREMY Corbyn", "Corbyn's");
    - demonyms and parties are NORP, countries and cities GPE, from the gazetteers in
      ``storytrace/resources/gazetteer`` — only where the statistical NER found nothing.

Both follow spaCy's habit: ``find(doc)`` computes, ``set_annotations(doc, found)`` writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

GAZETTEER_DIR = Path(str(files("storytrace") / "resources" / "gazetteer"))

OPENING_QUOTES = frozenset({"“", "‘", "«", "„", "‹"})
CLOSING_QUOTES = frozenset({"”", "’", "»", "›"})
STRAIGHT_QUOTES = frozenset({'"', "'", "``", "''"})
SENTENCE_END = frozenset({".", "!", "?", "…", "...", "?!", "!!", "!?"})
# Verbs of saying that close an attribution after a quotation: ``...,” Mr Watson told the BBC.``
SPEECH_VERBS = frozenset(
    """said says say added adds told tells asked asks insisted insists claimed claims explained
    explains warned warns replied replies continued continues wrote writes argued argues stated
    states declared declares noted notes admitted admits suggested suggests conceded concedes
    according""".split()
)
TITLES_SPAN_KEY = "titles"
MAX_NAME_TOKENS = 4


def read_list(name: str, directory: Path = GAZETTEER_DIR) -> list[str]:
    """Read one gazetteer list: one entry per line, '#' starts a comment line."""
    lines = (directory / name).read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


# --- quote-aware sentence boundaries ---------------------------------------------------------------


def _is_opening(doc: Doc, i: int) -> bool:
    tok = doc[i]
    if tok.text in OPENING_QUOTES:
        # ‘ doubles as a left single quote only; ’ is the apostrophe and a closing quote.
        return True
    if tok.text in STRAIGHT_QUOTES:
        before = i == 0 or bool(doc[i - 1].whitespace_) or doc[i - 1].is_space or doc[i - 1].text in "([{"
        return before and not tok.whitespace_ and i + 1 < len(doc)
    return False


def _is_closing(doc: Doc, i: int) -> bool:
    tok = doc[i]
    if tok.text in CLOSING_QUOTES:
        return tok.text != "’" or (i > 0 and doc[i - 1].is_punct)
    return tok.text in STRAIGHT_QUOTES and not _is_opening(doc, i)


def _prev_word(doc: Doc, i: int) -> int | None:
    j = i - 1
    while j >= 0 and doc[j].is_space:
        j -= 1
    return j if j >= 0 else None


class QuoteBoundaries:
    """Preset sentence starts around quotations and line breaks, before the parser runs."""

    def __init__(self, nlp: Language, name: str = "storytrace_quote_boundaries", *, lookahead: int = 5) -> None:
        self.name = name
        self.lookahead = lookahead

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.find(doc))
        return doc

    def find(self, doc: Doc) -> list[tuple[int, bool]]:
        """Return (token index, is_sent_start) decisions; later decisions win."""
        found: list[tuple[int, bool]] = []
        for i, tok in enumerate(doc):
            if tok.is_space and "\n" in tok.text and i + 1 < len(doc) and not doc[i + 1].is_space:
                found.append((i + 1, True))
            elif _is_opening(doc, i):
                j = _prev_word(doc, i)
                if j is None:
                    continue
                prev = doc[j]
                if prev.text in SENTENCE_END or (
                    _is_closing(doc, j) and j > 0 and doc[j - 1].text in SENTENCE_END
                ):
                    found.append((i, True))
            elif _is_closing(doc, i) and i > 0 and i + 1 < len(doc):
                found.extend(self._attribution(doc, i))
        return found

    def _attribution(self, doc: Doc, i: int) -> list[tuple[int, bool]]:
        """Keep ``” he said.`` / ``” McCluskey said.`` with the quotation that precedes it."""
        nxt = doc[i + 1]
        if nxt.is_space or nxt.is_punct:
            return []
        window = doc[i + 1 : i + 1 + self.lookahead]
        verb = next((k for k, t in enumerate(window) if t.lower_ in SPEECH_VERBS), None)
        if nxt.is_lower and nxt.is_alpha and (verb is not None or doc[i - 1].text in {",", "—", "–", "-"}):
            end = verb if verb is not None else 0
        elif verb is not None and all(t.is_title or t.is_alpha for t in window[:verb]):
            end = verb
        else:
            return []
        return [(i + 1 + k, False) for k in range(end + 1) if not window[k].is_space]

    def set_annotations(self, doc: Doc, found: Iterable[tuple[int, bool]]) -> None:
        for i, start in found:
            if i > 0:  # the first token always starts a sentence
                doc[i].is_sent_start = start


@Language.factory(
    "storytrace_quote_boundaries",
    assigns=["token.is_sent_start"],
    default_config={"lookahead": 5},
)
def make_quote_boundaries(nlp: Language, name: str, lookahead: int) -> QuoteBoundaries:
    return QuoteBoundaries(nlp, name, lookahead=lookahead)


# --- entity rules ------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _gazetteer(directory: str) -> dict[str, list[str]]:
    d = Path(directory)
    return {
        "NORP": read_list("demonyms.txt", d) + read_list("parties.txt", d),
        "GPE": read_list("countries.txt", d) + read_list("cities.txt", d),
        "TITLE": read_list("titles.txt", d),
    }


# Capitalised words that follow a title-like word without being a name ("General Election").
NOT_NAMES = frozenset(
    """election elections party government council committee assembly house union office court
    department ministry cabinet parliament conference congress senate board commission""".split()
)


def _is_name_token(tok: Token) -> bool:
    if not (tok.is_alpha and (tok.is_title or (tok.is_upper and len(tok) > 1))) or tok.lower_ in NOT_NAMES:
        return False
    tagged = tok.doc.has_annotation("POS")
    return not tagged or tok.pos_ == "PROPN"


class EntityRules:
    """Titles, title-anchored and repeated person names, and gazetteer NORP/GPE entities."""

    def __init__(self, nlp: Language, name: str = "storytrace_entity_rules", *, gazetteer: str = "") -> None:
        self.name = name
        lists = _gazetteer(gazetteer or str(GAZETTEER_DIR))
        self.titles = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.titles_exact = PhraseMatcher(nlp.vocab, attr="ORTH")  # MP, AM: only in capitals
        for title in lists["TITLE"]:
            matcher = self.titles_exact if title.isupper() else self.titles
            matcher.add("TITLE", [nlp.make_doc(title)])
        self.places = PhraseMatcher(nlp.vocab, attr="ORTH")
        for label in ("NORP", "GPE"):
            self.places.add(label, [nlp.make_doc(t) for t in lists[label]])
        self.title_words = {t.lower() for t in lists["TITLE"]}

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.find(doc))
        return doc

    def find(self, doc: Doc) -> dict[str, list[Span]]:
        """Return title spans, person spans (which may replace model entities) and gazetteer spans."""
        titles = filter_spans(
            [Span(doc, s, e, label="TITLE") for m in (self.titles, self.titles_exact) for _, s, e in m(doc)]
        )
        persons = self._after_titles(doc, titles)
        persons += self._repeated_names(doc, [*doc.ents, *persons])
        gazetteer = [Span(doc, s, e, label=lbl) for lbl, s, e in self.places(doc, as_spans=False)]
        return {"titles": titles, "persons": filter_spans(persons), "gazetteer": filter_spans(gazetteer)}

    def _after_titles(self, doc: Doc, titles: list[Span]) -> list[Span]:
        out = []
        for title in titles:
            end = title.end
            while (
                end < len(doc)
                and end - title.end < MAX_NAME_TOKENS
                and _is_name_token(doc[end])
                and doc[end].lower_ not in self.title_words
            ):
                end += 1
            if end > title.end:
                out.append(Span(doc, title.end, end, label="PERSON"))
        return out

    def _repeated_names(self, doc: Doc, ents: list[Span]) -> list[Span]:
        full = {tuple(t.lower_ for t in e) for e in ents if e.label_ == "PERSON" and len(e) > 1}
        surnames = {name[-1] for name in full}
        out = []
        i = 0
        while i < len(doc):
            for name in sorted(full, key=len, reverse=True):
                n = len(name)
                if tuple(t.lower_ for t in doc[i : i + n]) == name and all(t.is_alpha for t in doc[i : i + n]):
                    out.append(Span(doc, i, i + n, label="PERSON"))
                    i += n - 1
                    break
            else:
                tok = doc[i]
                if tok.lower_ in surnames and (tok.is_title or tok.is_upper):
                    out.append(Span(doc, i, i + 1, label="PERSON"))
            i += 1
        return out

    def set_annotations(self, doc: Doc, found: dict[str, list[Span]]) -> None:
        doc.spans[TITLES_SPAN_KEY] = found["titles"]
        ents = list(doc.ents)
        for person in found["persons"]:
            # A title or a repeated full name is stronger evidence than the model's label, but a
            # longer model entity around the name ("Corbyn campaign" as ORG) is left alone.
            clash = [e for e in ents if e.start < person.end and person.start < e.end]
            if all(e.start >= person.start and e.end <= person.end for e in clash):
                ents = [e for e in ents if e not in clash] + [person]
        taken = {i for e in ents for i in range(e.start, e.end)}
        for span in found["gazetteer"]:
            if not taken.intersection(range(span.start, span.end)):
                ents.append(span)
                taken.update(range(span.start, span.end))
        doc.set_ents(filter_spans(ents))


@Language.factory(
    "storytrace_entity_rules",
    assigns=["doc.ents", "doc.spans"],
    requires=["doc.ents"],
    default_config={"gazetteer": ""},
)
def make_entity_rules(nlp: Language, name: str, gazetteer: str) -> EntityRules:
    return EntityRules(nlp, name, gazetteer=gazetteer)
