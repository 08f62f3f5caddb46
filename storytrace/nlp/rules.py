"""Rule components on top of the trained pipeline, where the training data is thin.

Four spaCy components, registered here and added by ``storytrace.nlp.load``:

``storytrace_quote_boundaries`` (before the parser)
    News puts quotations across sentence edges that web text rarely shows. An opening quotation mark
    after sentence-final punctuation starts a sentence, and so does a line break; the words
    after a closing quotation mark that carry the attribution (``..., ” he said.``) stay with the
    quotation's sentence. The parser honours boundaries set before it runs.

``storytrace_sentence_repair`` (after the parser)
    A sentence that starts mid-line after a word that cannot end one ("John | Prescott's legacy")
    is joined to the sentence before it.

``storytrace_entity_rules`` (after the NER)
    - titles and roles ("shadow chancellor", "general secretary", "Lord", "Mr") go to
      ``doc.spans["titles"]``; a capitalised name right after one, or a full name in apposition
      before one ("Fabian Hamilton, the party's shadow Europe minister"), is a PERSON;
    - a known given name followed by a capitalised proper noun is a PERSON ("Caroline Mortimer"),
      and so is one alone when it is not also a common word ("Louise", but not "Mark");
    - a person named in full once ("Jeremy Corbyn") is a PERSON wherever the document repeats the
      full name or the surname ("JEREMY Corbyn", "Corbyn's");
    - demonyms and parties are NORP, countries and cities GPE, from the gazetteers in
      ``storytrace/resources/gazetteer`` — only where the statistical NER found nothing.

``storytrace_entity_spans`` (after the entity rules)
    Entity edges as UniversalNER draws them (titles outside a person's name, two run-together names split),
    storms are not persons, organisations by their head word ("Rodale Press", "University of ...", from
    ``storytrace/resources/ner``), acronyms defined in brackets, and an ORG name repeated untagged.

All follow spaCy's habit: ``find(doc)`` computes, ``set_annotations(doc, found)`` writes.
"""

# No ``from __future__ import annotations`` here: spaCy 3.8.2-3.8.6 (pinned) validates a factory's arguments
# from its annotations at run time, and string annotations fail there.
from collections.abc import Iterable
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

GAZETTEER_DIR = Path(str(files("storytrace") / "resources" / "gazetteer"))
NER_DIR = Path(str(files("storytrace") / "resources" / "ner"))

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
            if tok.is_space and "\n" in tok.text:
                # The line break itself opens the next sentence: presetting the word after it instead
                # makes the parser (which saw no line breaks in training) split that line into words.
                found.append((i, True))
            elif _is_opening(doc, i):
                j = _prev_word(doc, i)
                if j is None or j != i - 1:  # first in the text, or after a line break (handled above)
                    continue
                prev = doc[j]
                if prev.text in SENTENCE_END or (_is_closing(doc, j) and j > 0 and doc[j - 1].text in SENTENCE_END):
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


def _ends_sentence(doc: Doc, j: int) -> bool:
    """Whether token j can close a sentence: final punctuation, or a closer right after it."""
    text = doc[j].text
    if text in SENTENCE_END or text.endswith((".", "!", "?", "…")) and len(text) > 1 and text[-2] != ".":
        return True
    if (_is_closing(doc, j) or text in {")", "]"}) and j > 0:
        return doc[j - 1].text in SENTENCE_END
    return False


class SentenceRepair:
    """Join sentence pieces the parser split off where news text cannot end a sentence.

    News sentences end in punctuation or a line break (headlines, captions, bylines), so a split after
    "John" in "John Prescott's legacy" is a parser error, and so is a sentence that starts with a
    closing quotation mark. The later piece's root is attached to the earlier piece's root as ``dep``,
    which joins the two. A sentence of line breaks only is attached to the sentence after it.
    """

    def __init__(self, nlp: Language, name: str = "storytrace_sentence_repair") -> None:
        self.name = name

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.find(doc))
        return doc

    def find(self, doc: Doc) -> list[tuple[str, int]]:
        """Return ("join", start) for pieces to join to the sentence before, ("space", start) for
        whitespace-only sentences to join to the sentence after."""
        found: list[tuple[str, int]] = []
        sents = list(doc.sents)
        for k, sent in enumerate(sents):
            start = sent.start
            if all(t.is_space for t in sent):
                if k + 1 < len(sents):
                    found.append(("space", start))
                continue
            if k == 0 or doc[start].is_space or doc[start - 1].is_space:
                continue
            first = doc[start]
            if first.is_punct and not _is_opening(doc, start) and first.text not in {"(", "[", "-", "–", "—", "•"}:
                found.append(("join", start))
            elif not _ends_sentence(doc, start - 1) and not (first.is_punct and _is_opening(doc, start)):
                found.append(("join", start))
        return found

    def set_annotations(self, doc: Doc, found: Iterable[tuple[str, int]]) -> None:
        for kind, start in sorted(found, key=lambda f: f[1], reverse=True):
            piece = doc[start].sent
            if kind == "join":
                root = piece.root
                root.head = doc[start - 1].sent.root
            else:
                nxt = doc[piece.end].sent
                root = piece.root
                root.head = nxt.root
            root.dep_ = "dep"


@Language.factory("storytrace_sentence_repair", assigns=["token.head", "token.dep"], requires=["token.dep"])
def make_sentence_repair(nlp: Language, name: str) -> SentenceRepair:
    return SentenceRepair(nlp, name)


# --- entity rules ------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _gazetteer(directory: str) -> dict[str, list[str]]:
    d = Path(directory)
    return {
        "NORP": read_list("demonyms.txt", d) + read_list("parties.txt", d),
        "GPE": read_list("countries.txt", d) + read_list("cities.txt", d),
        "TITLE": read_list("titles.txt", d),
        "GIVEN": read_list("given_names.txt", d),
    }


def _capitalised(tok: Token) -> bool:
    """Title case, capitals, or a capital inside ("McCluskey", "DeVos"): ``str.istitle`` is too strict."""
    return tok.text[:1].isupper() and (len(tok) > 1 or tok.is_upper)


# Capitalised words that follow a title-like word without being a name ("General Election").
NOT_NAMES = frozenset(
    """election elections party government council committee assembly house union office court
    department ministry cabinet parliament conference congress senate board commission""".split()
)


def _is_name_token(tok: Token) -> bool:
    if not (tok.is_alpha and _capitalised(tok)) or tok.lower_ in NOT_NAMES:
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
        self.given_names = frozenset(n.removesuffix(" *") for n in lists["GIVEN"])
        # Given names that are not also common words are persons even alone ("Louise wrote ...").
        self.lone_names = frozenset(n for n in lists["GIVEN"] if not n.endswith(" *"))

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.find(doc))
        return doc

    def find(self, doc: Doc) -> dict[str, list[Span]]:
        """Return title spans, person spans (which may replace model entities) and gazetteer spans."""
        titles = filter_spans(
            [Span(doc, s, e, label="TITLE") for m in (self.titles, self.titles_exact) for _, s, e in m(doc)]
        )
        persons = self._after_titles(doc, titles) + self._before_titles(doc, titles) + self._given_names(doc)
        persons += self._repeated_names(doc, [*doc.ents, *persons])
        gazetteer = [Span(doc, s, e, label=lbl) for lbl, s, e in self.places(doc, as_spans=False)]
        return {"titles": titles, "persons": filter_spans(persons), "gazetteer": filter_spans(gazetteer)}

    def _after_titles(self, doc: Doc, titles: list[Span]) -> list[Span]:
        out = []
        for title in titles:
            end = self._name_end(doc, title.end)
            if end > title.end and doc[title.end].lower_ not in self.title_words:
                out.append(Span(doc, title.end, end, label="PERSON"))
        return out

    def _name_end(self, doc: Doc, start: int) -> int:
        end = start
        while end < len(doc) and end - start < MAX_NAME_TOKENS and _is_name_token(doc[end]):
            if doc[end].lower_ in self.title_words and end > start:
                break
            end += 1
            if (end + 1 < len(doc) and doc[end].text == "\xa0" and end - start < MAX_NAME_TOKENS - 1
                    and _is_name_token(doc[end + 1])):
                end += 1  # "Len\xa0McCluskey": a no-break space (its own token) inside the name
        return end

    def _before_titles(self, doc: Doc, titles: list[Span]) -> list[Span]:
        """``Fabian Hamilton, the party's new shadow Europe minister``: a full name in apposition."""
        out = []
        for title in titles:
            k = title.start - 1
            while k >= 0 and title.start - k <= 6 and doc[k].text != "," and not doc[k].is_sent_start:
                if doc[k].is_punct and doc[k].text not in {"'s", "’s"}:
                    break
                k -= 1
            if k < 1 or doc[k].text != ",":
                continue
            start = k
            # The tagger may miss a rare first name ("Fabian" as ADJ): only the surname must be PROPN.
            while (
                start > 0
                and k - start < MAX_NAME_TOKENS
                and (
                    _is_name_token(doc[start - 1])
                    or (start < k and doc[start - 1].is_alpha and _capitalised(doc[start - 1]))
                )
            ):
                start -= 1
            if (
                k - start >= 2
                and _is_name_token(doc[k - 1])
                and (not doc[start].is_sent_start or _is_name_token(doc[start]))
            ):
                out.append(Span(doc, start, k, label="PERSON"))
        return out

    def _given_names(self, doc: Doc) -> list[Span]:
        """A known given name followed by a capitalised proper noun: ``Caroline Mortimer``."""
        out = []
        for tok in doc:
            if tok.text in self.given_names and (tok.i == 0 or not _is_name_token(doc[tok.i - 1])):
                end = self._name_end(doc, tok.i + 1)
                if end > tok.i + 1 and (tok.pos_ in {"PROPN", ""} or tok.is_sent_start):
                    out.append(Span(doc, tok.i, end, label="PERSON"))
                elif end == tok.i + 1 and tok.text in self.lone_names and tok.pos_ == "PROPN":
                    out.append(Span(doc, tok.i, end, label="PERSON"))
        return out

    def _repeated_names(self, doc: Doc, ents: list[Span]) -> list[Span]:
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for e in ents:
            if e.label_ == "PERSON" and len(e) > 1:
                name = tuple(t.lower_ for t in e)
                by_first.setdefault(name[0], []).append(name)
        surnames = {name[-1] for names in by_first.values() for name in names}
        out = []
        i = 0
        while i < len(doc):
            tok = doc[i]
            for name in sorted(by_first.get(tok.lower_, ()), key=len, reverse=True):
                n = len(name)
                if tuple(t.lower_ for t in doc[i : i + n]) == name and all(t.is_alpha for t in doc[i : i + n]):
                    out.append(Span(doc, i, i + n, label="PERSON"))
                    i += n
                    break
            else:
                if tok.lower_ in surnames and _capitalised(tok):
                    out.append(Span(doc, i, i + 1, label="PERSON"))
                i += 1
        return out

    def set_annotations(self, doc: Doc, found: dict[str, list[Span]]) -> None:
        doc.spans[TITLES_SPAN_KEY] = found["titles"]
        ents = list(doc.ents)
        title_ends = {t.end: t for t in found["titles"]}
        for person in found["persons"]:
            # A title or a repeated full name is stronger evidence than the model's label, but a
            # longer model entity around the name ("Corbyn campaign" as ORG) is left alone, unless it ends with
            # the title and the name: "Unite general secretary Len McCluskey" as one ORG is "Unite" and a PERSON.
            clash = [e for e in ents if e.start < person.end and person.start < e.end]
            title = title_ends.get(person.start)
            if (title is not None and len(clash) == 1 and clash[0].start <= title.start
                    and clash[0].end == person.end):
                before = Span(doc, clash[0].start, title.start, label=clash[0].label_)
                ents = [e for e in ents if e not in clash] + [person]
                if any(_capitalised(t) for t in before):
                    ents.append(before)
            elif all(e.start >= person.start and e.end <= person.end for e in clash):
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


# --- entity edges, organisation names, one label per name --------------------------------------------

# Words before a name that are not part of it, beyond the one-word titles of ``titles.txt`` ("Doctor Hank").
HONORIFICS = frozenset({"doctor", "drs.", "capt.", "col.", "lt.", "sgt.", "gen."})
STORM_WORDS = frozenset({"hurricane", "storm", "typhoon", "cyclone"})
# A person's name ends before these: "Anthony Shadid of the Washington Post", "Bryan Hull - Analyst".
NAME_ENDS = frozenset({"of", "from", "at"})
SEPARATORS = frozenset({"-", "--", "–", "—", "|"})
# Legal forms that may follow a comma: "CCNG, Inc.".
LEGAL_FORMS = frozenset({"Inc", "Inc.", "Ltd", "Ltd.", "LLC", "Corp", "Corp.", "Co.", "PLC", "plc"})
ARTICLES = frozenset({"the", "a", "an"})
# Labels repeated to every untagged copy of a name in the text. PERSON is not: storytrace_entity_rules already
# repeats full names and surnames, and repeating single first names cost GUM-silver PERSON F 3 points.
REPEAT_LABELS = frozenset({"ORG"})
MAX_ORG_LEFT = 4


@lru_cache(maxsize=4)
def _ner_lists(directory: str, gazetteer: str) -> dict[str, frozenset[str]]:
    d = Path(directory)
    words = read_list("org_words.txt", d)
    given = [n for n in read_list("given_names.txt", Path(gazetteer)) if not n.endswith(" *")]
    return {
        "FIRST": frozenset(read_list("first_names.txt", d) + given),
        "ORG_END": frozenset(w for w in words if not w.endswith(" of")),
        "ORG_OPEN": frozenset(w.removesuffix(" of") for w in words if w.endswith(" of")),
        "TITLE": frozenset(t.lower() for t in read_list("titles.txt", Path(gazetteer)) if " " not in t),
    }


def _org_word(tok: Token) -> bool:
    """A word that can stand inside an organisation's name: "Rodale", "U.S.", "J.M.", "&", "American-Arab"'s dash."""
    if tok.text == "&":
        return True
    if tok.text in {"-", "–"} and tok.i > 0:
        return not tok.whitespace_ and not tok.doc[tok.i - 1].whitespace_
    if tok.text in {"AM", "PM", "A.M.", "P.M."}:
        return False
    return _capitalised(tok) and (tok.is_alpha or (tok.text.replace(".", "").isalpha() and "." in tok.text))


def _common_opener(tok: Token) -> bool:
    """A sentence's first word, capitalised for that only ("Yesterday Rodale Press said ...")."""
    return tok.is_sent_start and tok.pos_ not in {"PROPN", ""}


class EntitySpans:
    """Entity edges as UniversalNER draws them, organisations by their head word, one ORG label per name in a text.

    After ``storytrace_entity_rules``:
    - a PERSON loses a leading title ("Doctor Hank" -> "Hank", as UNER annotates), ends at a spaced dash or at
      "of"/"from"/"at" ("Bryan Hull - Analyst", "Anthony Shadid of the Washington Post") and before a trailing
      possessive, and two names run together are split at the second first name ("Ben Markey Mary John");
    - a storm ("Hurricane Rita") is not a person, nor is its name repeated alone;
    - capitalised words ending in an organisation word ("Rodale Press", "Israeli Defense Forces") or opened by
      one ("Department of Housing and Urban Development") are an ORG where the NER found nothing or only smaller
      pieces ("New Orleans" in "Housing Authority of New Orleans"), or the same words as a place, never a person;
    - an acronym in brackets after an organisation ("Housing Authority of New Orleans ( HANO )") is one too;
    - a name tagged ORG once in a text is an ORG wherever the text repeats it untagged.
    """

    def __init__(self, nlp: Language, name: str = "storytrace_entity_spans", *, directory: str = "") -> None:
        self.name = name
        lists = _ner_lists(directory or str(NER_DIR), str(GAZETTEER_DIR))
        self.first_names = lists["FIRST"]
        self.org_end = lists["ORG_END"]
        self.org_open = lists["ORG_OPEN"]
        self.titles = lists["TITLE"] | HONORIFICS

    def __call__(self, doc: Doc) -> Doc:
        self.set_annotations(doc, self.find(doc))
        return doc

    def find(self, doc: Doc) -> list[Span]:
        """Return the document's entities with these rules applied."""
        ents: list[Span] = []
        for ent in doc.ents:
            ents.extend(self._person_edges(doc, ent) if ent.label_ == "PERSON" else [ent])
        ents = self._without_storms(doc, ents)
        ents = self._organisations(doc, ents)
        ents += self._acronyms(doc, ents)
        ents += self._repeated_labels(doc, ents)
        return ents

    # persons

    def _person_edges(self, doc: Doc, ent: Span) -> list[Span]:
        if not any(c.isalpha() for c in ent.text):
            return []  # ":-) \\ //"
        start, end = ent.start, ent.end
        for title in doc.spans[TITLES_SPAN_KEY] if TITLES_SPAN_KEY in doc.spans else ():
            if title.start == start and title.end < end:
                start = title.end
        while start < end - 1 and doc[start].lower_ in self.titles:
            start += 1
        if not _capitalised(doc[start]):  # "Minister of Defense Hazem Shaalan": not a title and a name
            start = ent.start
        for i in range(start + 1, end):
            tok = doc[i]
            if tok.lower_ in NAME_ENDS or (tok.text in SEPARATORS and doc[i - 1].whitespace_):
                if any(t.lower_ not in self.titles for t in doc[start:i]):  # not "Minister of Defense ..."
                    end = i
                break
        while end - start > 1 and (doc[end - 1].is_punct or doc[end - 1].lower_ in {"'s", "’s"}):
            end -= 1
        return self._split_names(doc, start, end)

    def _split_names(self, doc: Doc, start: int, end: int) -> list[Span]:
        """``Pam Butler Renee Ratcliff`` (a list without commas): two persons, cut at the second first name."""
        out = []
        for k in range(start + 1, end):
            tok, prev = doc[k], doc[k - 1]
            repeated = tok.text == prev.text and tok.is_alpha
            second = tok.text in self.first_names and prev.text not in self.first_names and k - start >= 2
            if repeated or second:
                out.append(Span(doc, start, k, label="PERSON"))
                start = k
        if out and end - start == 1:  # "Melanie King Brandon | Luna": the second name's surname was left out
            while end < len(doc) and doc[end].ent_iob_ == "O" and doc[end].is_alpha and _capitalised(doc[end]):
                end += 1
        out.append(Span(doc, start, end, label="PERSON"))
        return out

    def _without_storms(self, doc: Doc, ents: list[Span]) -> list[Span]:
        storms = set()
        for e in ents:
            before = doc[e.start - 1].lower_ if e.start > 0 else ""
            if e.label_ == "PERSON" and (e[0].lower_ in STORM_WORDS or before in STORM_WORDS):
                storms.add(e[-1].text)
        return [e for e in ents if not (e.label_ == "PERSON" and e[-1].text in storms)]

    # organisations

    def _organisations(self, doc: Doc, ents: list[Span]) -> list[Span]:
        for cand in self._org_candidates(doc):
            clash = [e for e in ents if e.start < cand.end and cand.start < e.end]
            if not all(cand.start <= e.start and e.end <= cand.end for e in clash):
                continue  # a larger entity around or across it: left to the model
            same = [e for e in clash if (e.start, e.end) == (cand.start, cand.end) and e.label_ == "ORG"]
            if same or any(e.label_ == "PERSON" for e in clash):
                continue  # "the Davis Administration": a person's name inside is left to the model
            ents = [e for e in ents if e not in clash] + [cand]
        return ents

    def _org_candidates(self, doc: Doc) -> list[Span]:
        found = []
        for i, tok in enumerate(doc):
            opens = tok.text in self.org_open and i + 1 < len(doc) and doc[i + 1].lower_ == "of"
            if not (_capitalised(tok) and (tok.text in self.org_end or opens)):
                continue
            start = i
            if tok.text in LEGAL_FORMS and i > 1 and doc[i - 1].text == "," and _org_word(doc[i - 2]):
                start = i - 1
            while start > 0 and i - start < MAX_ORG_LEFT and _org_word(doc[start - 1]):
                start -= 1
            while start < i and (doc[start].lower_ in ARTICLES or _common_opener(doc[start])):
                start += 1
            end = self._of_tail(doc, i + 1) if opens else i + 1
            if end - start >= 2:
                found.append(Span(doc, start, end, label="ORG"))
        return filter_spans(found)

    def _of_tail(self, doc: Doc, i: int) -> int:
        """End of "of [the] Housing and Urban Development" starting at "of" (token i), or i if nothing follows."""
        k = i + 1
        if k < len(doc) and doc[k].lower_ == "the":
            k += 1
        end = i
        while k < len(doc):
            if _org_word(doc[k]):
                k += 1
                end = k
            elif doc[k].lower_ in {"of", "and", "for"} and k + 1 < len(doc) and _org_word(doc[k + 1]):
                k += 1
            else:
                break
        return end

    def _acronyms(self, doc: Doc, ents: list[Span]) -> list[Span]:
        taken = {i for e in ents for i in range(e.start, e.end)}
        out = []
        for e in ents:
            k = e.end
            if e.label_ == "ORG" and k + 2 < len(doc) and doc[k].text == "(" and doc[k + 2].text == ")":
                acro = doc[k + 1]
                if acro.is_upper and acro.is_alpha and 2 <= len(acro) <= 6 and acro.i not in taken:
                    out.append(Span(doc, acro.i, acro.i + 1, label="ORG"))
        return out

    def _repeated_labels(self, doc: Doc, ents: list[Span]) -> list[Span]:
        names: dict[str, set[tuple[str, ...]]] = {}
        for e in ents:
            if e.label_ in REPEAT_LABELS and not e.text.islower():
                names.setdefault(e[0].text, set()).add((e.label_, *(t.text for t in e)))
        taken = {i for e in ents for i in range(e.start, e.end)}
        out = []
        i = 0
        while i < len(doc):
            for label, *name in sorted(names.get(doc[i].text, ()), key=len, reverse=True):
                n = len(name)
                window = range(i, i + n)
                if [t.text for t in doc[i : i + n]] == name and not taken.intersection(window):
                    out.append(Span(doc, i, i + n, label=label))
                    i += n - 1
                    break
            i += 1
        return out

    def set_annotations(self, doc: Doc, ents: list[Span]) -> None:
        doc.set_ents(filter_spans(ents))


@Language.factory(
    "storytrace_entity_spans",
    assigns=["doc.ents"],
    requires=["doc.ents", "doc.spans"],
    default_config={"directory": ""},
)
def make_entity_spans(nlp: Language, name: str, directory: str) -> EntitySpans:
    return EntitySpans(nlp, name, directory=directory)
