"""Read UD English-EWT, GUM and UniversalNER-EWT with storytrace's entity scheme (training and bench).

Tags, morphology, lemmas and dependencies come from the CoNLL-U files. Named entities come from
UniversalNER on EWT (PER/ORG/LOC, merged onto EWT by ``sent_id``) and from a silver layer derived
from GUM's entity mentions (person/organization/place mentions made of proper names, and ``time``
mentions that name a date). Labels are mapped to PERSON / ORG / GPE / LOC / NORP / DATE.

Where a source cannot say (a DATE in EWT, whose NER layer has no dates; a UNER "OTH" span that is
not a known demonym), tokens are left *missing* rather than "outside", so the model is not taught
that they are not entities.

GUM genres under a non-commercial licence (whow, fiction, essay, letter, podcast) are never written
to the training or dev corpora; they are used for evaluation only (see ``read_gum(..., nc=...)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

GUM_NC_GENRES = frozenset({"whow", "fiction", "essay", "letter", "podcast"})
LABELS = ("PERSON", "ORG", "GPE", "LOC", "NORP", "DATE")

GAZETTEER = Path(str(files("storytrace") / "resources" / "gazetteer"))

# Places whose name ends in one of these words are geographic features (LOC), not polities (GPE).
_LOC_HEADS = frozenset(
    """river rivers mountain mountains mount ocean sea lake lakes island islands isles park street road
    avenue valley bay desert forest coast peninsula hill hills canal beach square gulf strait channel
    glacier falls creek range highlands lowlands plain plains alps basin cape delta sound reef trail""".split()
)
# Continents and broad regions are LOC in the OntoNotes scheme.
_LOC_NAMES = frozenset(
    """africa asia europe antarctica america americas oceania eurasia arctic antarctic scandinavia
    balkans caribbean mediterranean siberia sahara middle east west midwest north south""".split()
)
_TITLES = frozenset(
    """mr mr. mrs mrs. ms ms. miss dr dr. prof prof. professor sir dame president senator sen. rep.
    governor gov. general gen. captain capt. colonel col. lieutenant sergeant king queen prince princess
    pope saint st. st rev. reverend father mayor judge justice chancellor minister secretary""".split()
)
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_DAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_DATE_WORD = re.compile(r"^(?:(?:1[5-9]|20)\d\d|(?:1[5-9]|20)\d0s|'\d0s|\d{1,2}(?:st|nd|rd|th))$", re.I)
_TIME_WORD = re.compile(r"^(?:a\.?m\.?|p\.?m\.?|o'clock|\d{1,2}:\d\d)$", re.I)
_ENTITY_OPEN = re.compile(r"\((\d+)-([a-z]+)(?:-[^()]*)?")
_ENTITY_CLOSE = re.compile(r"(\d+)\)")


def load_list(name: str) -> list[str]:
    """Read a gazetteer list: one entry per line, '#' comments."""
    lines = (GAZETTEER / name).read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


DEMONYMS = frozenset(load_list("demonyms.txt"))
COUNTRIES = frozenset(load_list("countries.txt"))


@dataclass
class Word:
    form: str
    lemma: str
    upos: str
    xpos: str
    feats: str
    head: int  # 1-based within sentence, 0 = root
    deprel: str
    space: bool
    misc: str


@dataclass
class Sentence:
    sent_id: str
    doc_id: str
    words: list[Word]
    newpar: bool = False
    ents: list[str] | None = None  # IOB per word with final labels; "" = missing


@dataclass
class Document:
    doc_id: str
    genre: str
    sentences: list[Sentence] = field(default_factory=list)


def _misc(misc: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if misc == "_":
        return out
    for item in misc.split("|"):
        key, _, value = item.partition("=")
        out[key] = value
    return out


def read_conllu(path: Path) -> Iterator[Document]:
    """Yield documents (split at ``# newdoc``) of syntactic words, multiword tokens expanded."""
    doc: Document | None = None
    words: list[Word] = []
    sent_id = ""
    newpar = False
    mwt_end = 0
    mwt_space = True
    genre = ""

    def flush() -> Sentence | None:
        nonlocal words, newpar
        if not words:
            return None
        s = Sentence(sent_id, doc.doc_id if doc else "", words, newpar)
        words, newpar = [], False
        return s

    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("#"):
                if line.startswith("# newdoc"):
                    if doc is not None and doc.sentences:
                        yield doc
                    did = line.split("=", 1)[1].strip() if "=" in line else f"doc{id(line)}"
                    genre = did.split("_")[1] if did.startswith("GUM_") else did.split("-")[0]
                    doc = Document(did, genre)
                elif line.startswith("# sent_id"):
                    sent_id = line.split("=", 1)[1].strip()
                elif line.startswith("# newpar") and not line.startswith("# newpar_block"):
                    newpar = True
                elif line.startswith("# meta::genre") and doc is not None:
                    doc.genre = line.split("=", 1)[1].strip()
                continue
            if not line:
                mwt_end = 0
                s = flush()
                if s is not None:
                    if doc is None:
                        doc = Document("doc", "")
                    doc.sentences.append(s)
                continue
            cols = line.split("\t")
            if "." in cols[0]:
                continue
            if "-" in cols[0]:
                start, end = (int(x) for x in cols[0].split("-"))
                mwt_end = end
                mwt_space = "SpaceAfter=No" not in cols[9]
                continue
            idx = int(cols[0])
            if idx <= mwt_end:
                space = mwt_space if idx == mwt_end else False
            else:
                space = "SpaceAfter=No" not in cols[9]
            deprel = cols[7]
            words.append(
                Word(
                    form=cols[1],
                    lemma=cols[2],
                    upos=cols[3],
                    xpos=cols[4],
                    feats="" if cols[5] == "_" else cols[5],
                    head=int(cols[6]),
                    deprel="ROOT" if deprel == "root" else deprel,
                    space=space,
                    misc=cols[9],
                )
            )
        s = flush()
        if s is not None and doc is not None:
            doc.sentences.append(s)
    if doc is not None and doc.sentences:
        yield doc


# --- NER: UniversalNER over EWT ------------------------------------------------------------------


def read_iob2(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Map sent_id to its (word, tag) rows."""
    out: dict[str, list[tuple[str, str]]] = {}
    rows: list[tuple[str, str]] = []
    sid = ""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("# sent_id"):
                sid = line.split("=", 1)[1].strip()
            elif line.startswith("#"):
                continue
            elif not line:
                if rows:
                    out[sid] = rows
                rows = []
            else:
                cols = line.split("\t")
                rows.append((cols[1], cols[2]))
    if rows:
        out[sid] = rows
    return out


def _spans_from_iob(tags: list[str]) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    start, label = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        if tag.startswith("I-") and start >= 0 and tag[2:] == label:
            continue
        if start >= 0:
            spans.append((start, i, label))
            start = -1
        if tag.startswith(("B-", "I-")):
            start, label = i, tag[2:]
    return spans


def _place_label(words: list[str]) -> str:
    """GPE for polities and cities, LOC for features ("Hudson River") and regions ("Middle East")."""
    lowered = [w.lower() for w in words]
    if " ".join(words) in COUNTRIES:
        return "GPE"
    if lowered[-1] in _LOC_HEADS or (len(words) == 1 and lowered[0] in _LOC_NAMES):
        return "LOC"
    if len(words) == 2 and lowered[0] in _LOC_NAMES and lowered[1] in _LOC_NAMES | {"america", "asia"}:
        return "LOC"
    return "GPE"


def _is_dateish(word: str) -> bool:
    w = word.lower().rstrip(".")
    return w in _MONTHS or w in _DAYS or bool(_DATE_WORD.match(word))


def _to_iob(n: int, spans: list[tuple[int, int, str]], missing: set[int]) -> list[str]:
    tags = ["O"] * n
    for i in missing:
        tags[i] = ""
    for start, end, label in spans:
        for i in range(start, end):
            tags[i] = ("B-" if i == start else "I-") + label
    return tags


def _demonym_spans(words: list[Word], taken: set[int]) -> list[tuple[int, int, str]]:
    spans = []
    for i, w in enumerate(words):
        if i not in taken and w.form in DEMONYMS and w.upos in {"ADJ", "PROPN", "NOUN"}:
            spans.append((i, i + 1, "NORP"))
    return spans


def add_uner(doc: Document, uner: dict[str, list[tuple[str, str]]]) -> tuple[int, int]:
    """Attach UNER entities to an EWT document; return (aligned, unaligned) sentence counts."""
    ok = bad = 0
    for sent in doc.sentences:
        rows = uner.get(sent.sent_id)
        forms = [w.form for w in sent.words]
        if rows is None or [r[0] for r in rows] != forms:
            bad += 1
            sent.ents = [""] * len(forms)
            continue
        ok += 1
        spans = []
        missing: set[int] = set()
        for start, end, label in _spans_from_iob([r[1] for r in rows]):
            if label == "PER":
                spans.append((start, end, "PERSON"))
            elif label == "ORG":
                spans.append((start, end, "ORG"))
            elif label == "LOC":
                spans.append((start, end, _place_label(forms[start:end])))
            elif end - start == 1 and forms[start] in DEMONYMS:
                spans.append((start, end, "NORP"))
            else:  # OTH: products, events, works ... unknown to our scheme
                missing.update(range(start, end))
        taken = {i for s, e, _ in spans for i in range(s, e)} | missing
        spans += _demonym_spans(sent.words, taken)
        taken = {i for s, e, _ in spans for i in range(s, e)}
        # UNER has no dates: leave date-like words unannotated instead of teaching "not a date".
        missing.update(i for i, f in enumerate(forms) if i not in taken and _is_dateish(f))
        sent.ents = _to_iob(len(forms), spans, missing)
    return ok, bad


# --- NER: silver layer from GUM entity mentions ------------------------------------------------


def _mentions(sent: Sentence) -> list[tuple[int, int, str]]:
    """(start, end, etype) of every GUM entity mention in a sentence (end exclusive)."""
    out = []
    open_: dict[str, list[tuple[int, str]]] = {}
    for i, w in enumerate(sent.words):
        ent = _misc(w.misc).get("Entity", "")
        pos = 0
        while pos < len(ent):
            if ent[pos] == "(":
                m = _ENTITY_OPEN.match(ent, pos)
                if not m:
                    pos += 1
                    continue
                eid, etype = m.group(1), m.group(2)
                pos = m.end()
                if pos < len(ent) and ent[pos] == ")":
                    out.append((i, i + 1, etype))
                    pos += 1
                else:
                    open_.setdefault(eid, []).append((i, etype))
            else:
                m = _ENTITY_CLOSE.match(ent, pos)
                if not m:
                    pos += 1
                    continue
                eid = m.group(1)
                pos = m.end()
                if open_.get(eid):
                    start, etype = open_[eid].pop()
                    out.append((start, i + 1, etype))
    return out


_CONNECTORS = frozenset({"of", "and", "&", "-", "for", "the", "de", "del", "la", "von", "van", "'s", "."})


def _named_span(words: list[Word], start: int, end: int) -> tuple[int, int] | None:
    """The name inside a mention, if the mention is a proper name (leading 'the' and titles dropped)."""
    while start < end and (words[start].form.lower() == "the" or words[start].form.lower() in _TITLES):
        if start + 1 < end and words[start + 1].upos == "PROPN":
            start += 1
        elif words[start].form.lower() == "the":
            start += 1
        else:
            break
    if start >= end:
        return None
    span = words[start:end]
    if not any(w.upos == "PROPN" for w in span):
        return None
    if not (span[0].form[:1].isupper() and span[-1].form[:1].isupper()):
        return None
    for w in span:
        if not (w.form[:1].isupper() or w.form[:1].isdigit() or w.form.lower() in _CONNECTORS):
            return None
    return start, end


def _date_span(words: list[Word], start: int, end: int) -> tuple[int, int] | None:
    forms = [w.form for w in words[start:end]]
    if any(_TIME_WORD.match(f) for f in forms) or not any(_is_dateish(f) for f in forms):
        return None
    while start < end and (words[start].upos == "PUNCT" or words[start].form.lower() in {"a", "an"}):
        start += 1
    while end > start and words[end - 1].upos == "PUNCT":
        end -= 1
    return (start, end) if start < end else None


def add_gum_silver(doc: Document) -> None:
    """Derive PERSON/ORG/GPE/LOC/DATE (and NORP from demonyms) from GUM mentions."""
    for sent in doc.sentences:
        words = sent.words
        cands: list[tuple[int, int, str]] = []
        for start, end, etype in _mentions(sent):
            if etype in {"person", "organization", "place"}:
                span = _named_span(words, start, end)
                if span is None:
                    continue
                s, e = span
                names = [w.form for w in words[s:e]]
                label = {"person": "PERSON", "organization": "ORG"}.get(etype) or _place_label(names)
                if label == "ORG" and " ".join(names) in COUNTRIES:
                    label = "GPE"  # a country acting as an agent is still a GPE in OntoNotes
                cands.append((s, e, label))
            elif etype == "time":
                span = _date_span(words, start, end)
                if span is not None:
                    cands.append((*span, "DATE"))
        # Longest mention wins: "University of Portsmouth" over the place "Portsmouth" inside it.
        cands.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
        taken: set[int] = set()
        spans = []
        for s, e, label in cands:
            if not taken.intersection(range(s, e)):
                spans.append((s, e, label))
                taken.update(range(s, e))
        spans += _demonym_spans(words, taken)
        sent.ents = _to_iob(len(words), sorted(spans), set())


# --- corpora ------------------------------------------------------------------------------------------


def read_ewt(data: Path, split: str) -> list[Document]:
    docs = list(read_conllu(data / "ud-english-ewt" / f"en_ewt-ud-{split}.conllu"))
    uner = read_iob2(data / "uner-english-ewt" / f"en_ewt-ud-{split}.iob2")
    for doc in docs:
        add_uner(doc, uner)
    return docs


def read_gum(data: Path, split: str, *, nc: bool = False) -> list[Document]:
    """GUM documents with silver NER; NC genres only when ``nc`` (evaluation) is asked for."""
    docs = []
    for doc in read_conllu(data / "gum" / f"en_gum-ud-{split}.conllu"):
        if doc.genre in GUM_NC_GENRES and not nc:
            continue
        add_gum_silver(doc)
        docs.append(doc)
    return docs


def source_files(data: Path) -> list[Path]:
    files = []
    for split in ("train", "dev", "test"):
        files.append(data / "ud-english-ewt" / f"en_ewt-ud-{split}.conllu")
        files.append(data / "uner-english-ewt" / f"en_ewt-ud-{split}.iob2")
        files.append(data / "gum" / f"en_gum-ud-{split}.conllu")
    return files
