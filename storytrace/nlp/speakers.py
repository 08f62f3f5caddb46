"""Resolve each attribution's source mention to a speaker inside the article, or say why not.

A source mention is one of:

- a name, possibly behind titles and role words ("Unite general secretary Len McCluskey", "Mr Watson",
  "Lord Kinnock", "Manuel Cortes, the general secretary of ..."): the name is the capitalised run at the
  head of the phrase; a surname alone takes the article's full name with that surname ("McCluskey" ->
  "Len McCluskey"); two different full names sharing it ("Bill"/"Hillary Clinton") leave it unresolved
  unless one is mentioned at least twice as often;
- a pronoun ("he", "she"): the most recent salient person before it, where salient means the source of an
  earlier attribution or the name that opens a sentence outside quotation marks ("McDonnell did not
  disagree ..."), at most ``PRONOUN_WINDOW`` characters back and compatible with the pronoun's gender when
  a title or first name tells it;
- a role description ("The Labour peer", "The Black Country MP", "the group"): the same salience chain, with
  a lower confidence; an organisation word ("the group", "the campaign") takes the latest organisation;
- an anonymous source ("the source", "sources close to Mr Corbyn", "a spokesman for Mr McDonnell"):
  marked anonymous, no speaker, the description is the mention itself.

Anything else (no mention, "they" without an organisation before it, an ambiguous surname, no antecedent
in range) is unresolved with a reason. The rules prefer no answer to a weak one.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from storytrace.nlp.quotes import paragraphs, quote_regions

if TYPE_CHECKING:
    from storytrace.nlp.quotes import Found

PRONOUN_WINDOW = 1500  # characters back from a pronoun to its antecedent
DESCRIPTION_WINDOW = 1200

TITLES = frozenset("""mr mrs ms miss dr sir lord lady baroness dame sen senator rep gov governor president
prof professor rev judge justice secretary gen general col capt mayor speaker chancellor""".split())
_MALE_TITLES = frozenset({"mr", "sir", "lord"})
_FEMALE_TITLES = frozenset({"mrs", "ms", "miss", "lady", "baroness", "dame"})
_FEMALE_NAMES = frozenset("""hillary angela theresa nicola ruth caroline carolyn kellyanne sarah elizabeth nancy
michelle melania ivanka huma donna debbie kelly megyn hope jennifer karen lisa mary susan julie emily laura anna
maria jill kate katie rachel rebecca amy alicia clare claire diane emma harriet jess yvette liz margaret heidi
stella lucy jo barbara patricia linda sandra carly condoleezza marine janet madeleine loretta samantha susana
nikki sheryl tulsi kamala michele elizabeth jane joan louise natalie gillian kirsty caitlin tessa priti andrea
harriet justine lilian cheryl jacqui kezia ruth leanne sue gloria robin""".split())
# Capitalised words that belong to roles and organisations, not to a person's name.
ROLE_WORDS = frozenset("""labour tory tories conservative conservatives liberal democrat democrats democratic
republican republicans gop snp ukip unite union unions the shadow deputy leader general secretary chancellor
prime minister former first mp mps peer president vice senator sen rep representative governor gov state
chief executive director chairman chair spokesman spokeswoman spokesperson press house white party campaign
manager adviser advisor aide us u.s. uk british american foreign home justice attorney defense defence
committee national international business work pensions europe european minority majority whip counsel
candidate nominee frontrunner secretary-general ceo founder co-founder commissioner mayor speaker new
sources source officials official sunday monday tuesday wednesday thursday friday saturday""".split())
_ORG_HEADS = frozenset("""group campaign party union committee organisation organization company firm agency
department ministry government administration council association movement network newspaper paper poll
survey report study court board team office commission bureau institute foundation center centre website
channel station magazine""".split())
_LEAD_STOP = frozenset("""the a an but and when if in on at as after before while so however meanwhile yet
speaking asked still also then""".split())
_ANONYMOUS = re.compile(r"\b(?:sources?|insiders?|aides?|officials?|spokes(?:man|woman|person)|"
                        r"people familiar|person familiar|allies|ally|friends?|critics|supporters|"
                        r"someone|one (?:mp|minister|official|aide)|unnamed|anonymous)\b", re.I)
_PRONOUN_GENDER = {"he": "m", "him": "m", "she": "f", "her": "f"}
_WORD = re.compile(r"[\w][\w.'’-]*\w|\w")
_NAME_RUN = re.compile(r"(?:[A-Z][\w'’-]*|[A-Z]\.)(?:[ \t\xa0]+(?:[A-Z][\w'’-]*|[A-Z]\.|de|van|von|bin|al))*")
_NOT_NAMES = frozenset("""it its this that these those there he she they we i you his her their our my what when
where who why how if but and or so yet a an the in on at as after before while however meanwhile
for despite although though by to since like unlike of with from during because until amid among without upon into
through across""".split())  # a capitalised opener is no first name: "For Obama, the ...", "Despite Santilli's ..."
_NOT_A_FIRST_NAME = ROLE_WORDS | TITLES | _LEAD_STOP | _NOT_NAMES


@dataclass(frozen=True)
class Resolution:
    """Who an attribution's source is: a canonical name, or anonymous, or unresolved with a reason."""

    speaker: str | None
    anonymous: bool = False
    reason: str = ""
    confidence: float = 1.0
    person: bool = True
    mention: tuple[int, int] | None = None  # the mention found for an attribution with none (a sentence's subject)


def _norm(word: str) -> str:
    """ "JEREMY" -> "Jeremy"; keep "McCluskey", "MP"."""
    if len(word) > 3 and word.isupper():
        return word.capitalize()
    return word


def name_part(mention: str) -> list[str]:
    """The personal-name words of a mention: role and title words dropped, appositives cut.

    ``"Unite general secretary Len McCluskey"`` -> ``["Len", "McCluskey"]``; ``"the Labour peer"`` -> ``[]``.
    """
    head = re.split(r",|\(|\bwho\b|\bwhich\b", mention, maxsplit=1)[0]
    head = re.split(r"\s+(?:of|for|at|from|with|close to|to)\s+", head, maxsplit=1)[0]
    words = [_norm(w) for w in re.findall(r"[\w][\w.'’-]*", head)]
    # the name is the run of capitalised words that ends the phrase ("The Leeds North East MP" has none)
    run: list[str] = []
    # an organisation's name keeps its capitalised role words: "The State Department", "Judicial Watch"
    org = bool(words) and words[-1][:1].isupper() and words[-1].lower() in _ORG_HEADS
    for w in reversed(words):
        low = w.lower().rstrip(".")
        if (w[:1].isupper() and (org or low not in ROLE_WORDS) and low not in TITLES and low not in _NOT_NAMES
                and not w.endswith(("’s", "'s", "’", "'"))):
            run.insert(0, w)
        else:
            break
    return run


def _title_before(mention: str) -> str | None:
    mention = re.split(r",|\(|\s(?:of|for|at|from|with|close to|to)\s", mention, maxsplit=1)[0]
    m = re.search(r"\b(Mr|Mrs|Ms|Miss|Dr|Sir|Lord|Lady|Baroness|Dame)\.?\s+[A-Z]", mention)
    return m.group(1).lower() if m else None


class _Names:
    """Full personal names in an article, by surname, with mention counts and gender evidence."""

    def __init__(self, text: str) -> None:
        self.by_surname: dict[str, Counter[str]] = {}
        self.gender: dict[str, str] = {}
        for m in _NAME_RUN.finditer(text):
            words = [_norm(w) for w in m.group().split()]
            while words and (words[0].lower().rstrip(".") in _NOT_A_FIRST_NAME
                             or words[0].endswith(("’", "'"))):
                words = words[1:]
            if words and words[-1].endswith(("’s", "'s")):
                words[-1] = words[-1][:-2]
            if len(words) < 2 or len(words) > 4 or any(w.lower() in ROLE_WORDS for w in words):
                continue
            if not all(w[:1].isupper() for w in words[:1]):
                continue
            full = " ".join(words)
            self.by_surname.setdefault(words[-1], Counter())[full] += 1
            if words[0].lower() in _FEMALE_NAMES:
                self.gender[full] = "f"
        for m in re.finditer(r"\b(Mr|Mrs|Ms|Miss|Sir|Lord|Lady|Baroness|Dame)\.?\s+([A-Z][\w'’-]+)", text):
            g = "m" if m.group(1).lower() in _MALE_TITLES else "f"
            for full in self.by_surname.get(m.group(2), {}):
                self.gender.setdefault(full, g)
            self.gender.setdefault(m.group(2), g)

    def canonical(self, words: list[str]) -> tuple[str | None, str]:
        """Canonical full name for name words; (None, reason) when ambiguous."""
        if not words:
            return None, "no name"
        if len(words) >= 2:
            full = " ".join(words)
            # "Donald Trump" vs "Donald J. Trump": prefer the most frequent form with the same ends
            variants = self.by_surname.get(words[-1]) or Counter()
            same = [(n, f) for f, n in variants.items() if f.split()[0] == words[0]]
            return (max(same)[1] if same else full), ""
        forms = self.by_surname.get(words[0])
        if not forms:
            return words[0], ""
        ranked = forms.most_common()
        firsts = {f.split()[0] for f, _ in ranked}
        if len(firsts) == 1:
            return max(ranked, key=lambda x: (x[1], len(x[0])))[0], ""
        if ranked[0][1] >= 2 * ranked[1][1]:
            return ranked[0][0], ""
        return None, "ambiguous surname: " + " or ".join(sorted(f for f, _ in ranked[:3]))

    def is_person(self, name: str) -> bool:
        words = name.split()
        return len(words) >= 2 or words[-1] in self.by_surname or words[-1] in self.gender


class _Regions:
    """Sorted, non-overlapping quote regions, for quick "is this offset inside a quote" checks."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = sorted(spans)
        self.starts = [s for s, _ in self.spans]

    def __contains__(self, offset: int) -> bool:
        i = bisect_right(self.starts, offset) - 1
        return i >= 0 and offset < self.spans[i][1]


@dataclass
class _Event:
    offset: int
    name: str
    person: bool
    gender: str = ""
    end: int | None = None  # end of the mention as written, when known (a sentence's subject)


def _quote_regions(text: str) -> _Regions:
    regions: list[tuple[int, int]] = []
    for start, end in paragraphs(text):
        regions += quote_regions(text, start, end)[0]
    return _Regions(regions)


def _sentence_subjects(text: str, names: _Names, quoted: _Regions) -> list[_Event]:
    """Names that open a sentence outside quotes ("Unite leader Len McCluskey reconfirmed ...")."""
    events: list[_Event] = []
    for m in re.finditer(r"(?:^|(?<=[.!?”\"]\s)|(?<=\n))\s*([^\n.!?]{0,120})", text):
        start = m.start(1)
        if start in quoted:
            continue
        chunk = m.group(1)
        skipped = _lead_adverbial(chunk)
        chunk = chunk[skipped:]
        cut = "," in chunk
        chunk = chunk.split(",")[0]
        found = list(_WORD.finditer(chunk))[:8]
        np: list[str] = []
        np_end = 0
        for wm in found:
            w = wm.group()
            low = w.lower()
            if w[:1].isupper() or low in ROLE_WORDS or low in {"the", "of"}:
                np.append(w)
                np_end = wm.end()
            else:
                break
        if not np or (len(np) == len(found) and not cut):
            continue
        name = name_part(" ".join(np))
        if not name or name[0].lower() in _LEAD_STOP | _NOT_NAMES:
            continue
        canonical, _ = names.canonical(name)
        title = _title_before(" ".join(np))
        if canonical is None or (len(name) == 1 and name[0] not in names.by_surname and title is None
                                 and name[0] not in names.gender):
            continue
        person = names.is_person(canonical) or title is not None
        gender = names.gender.get(canonical, "") or ("m" if title in _MALE_TITLES else "f" if title in
                                                      _FEMALE_TITLES else "")
        events.append(_Event(start + skipped, canonical, person, gender, end=start + skipped + np_end))
    return events


def _mentions(text: str, names: _Names, quoted: _Regions) -> list[_Event]:
    """Every personal name outside quotation marks, subject or not."""
    events: list[_Event] = []
    for m in _NAME_RUN.finditer(text):
        if m.start() in quoted:
            continue
        words = name_part(m.group())
        if not words:
            continue
        canonical, _ = names.canonical(words)
        if canonical and (len(words) >= 2 or names.is_person(canonical) or _title_before(m.group())):
            events.append(_Event(m.start(), canonical, True, names.gender.get(canonical, "")))
    return events


# A sentence opening with one of these has a description or a pronoun as subject ("It follows ..." may not)
_DESCRIPTION_OPENERS = frozenset("the a an his her their its this that these those he she they we i".split())


def _name_first(sentence: str) -> bool:
    """Whether a sentence may open with a name as its subject: its first word is no determiner or pronoun."""
    words = re.findall(r"[\w'’-]+", sentence)[:1]
    return bool(words) and words[0].lower() not in _DESCRIPTION_OPENERS


_ABBREVIATION = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Lt|Gen|Col|Sgt|Capt|Cmdr|Adm|Prof|Rev|Jr|Sr|St|Mt|Ft"
                           r"|vs)|(?<![\w.])[A-Z])$")


def _lead_adverbial(chunk: str) -> int:
    """Length of a short adverbial opening a sentence ("However, ", "On Sunday, ", "Meanwhile, "), 0 if none; two
    capitalised words make a name, not an adverbial ("Len McCluskey, "), unless a preposition opens them."""
    lead = re.match(r"[^,“”\"\n]{0,40},\s*", chunk)
    if lead and len(words := lead.group().split()) <= 6 and (
            words[0].lower() in _NOT_NAMES or not re.search(r"[A-Z]\w+\s+[A-Z]\w+", lead.group())):
        return lead.end()
    return 0


_SUBJECT_PRONOUN = re.compile(r"(?:he|she|they|we)\b", re.I)
_SUBJECT_JOINERS = frozenset("of for the and at".split())


def _opening_subject(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The subject opening the sentence at ``start`` when it is a pronoun or a description ("He", "The Vermont
    senator", "A spokeswoman for the House Armed Services Committee"), after a short lead adverbial ("On Sunday, ");
    its words are capitalised, role words or joiners, and it ends on no joiner."""
    chunk = text[start:end]
    at = _lead_adverbial(chunk)
    if m := _SUBJECT_PRONOUN.match(chunk, at):
        return start + m.start(), start + m.end()
    found = list(re.finditer(r"[\w'’.-]+", chunk[at:at + 120]))
    if len(found) < 2 or found[0].group().lower() not in {"the", "a", "an"}:
        return None
    last = None
    for w in found[1:9]:
        word = w.group().rstrip(".")
        if word.lower() in _SUBJECT_JOINERS:
            continue
        if not (word[:1].isupper() or word.lower() in ROLE_WORDS):
            break
        last = w
    if last is None:
        return None
    return start + at + found[0].start(), start + at + last.end()


def _sentence_start(text: str, offset: int) -> int:
    """Offset where the sentence holding ``offset`` starts (after the previous full stop or line break). A stop
    after a title or an initial ("Mrs. Clinton", "Donald J. Trump") or before a lower-case word ("Sen. Bernie Sanders
    (I-Vt.) visited") ends no sentence."""
    best = 0
    base = max(0, offset - 600)
    for m in re.finditer(r"[.!?][”\"’)]*\s+(?![a-z])|\n", text[base:offset]):
        if m.group()[0] == "." and _ABBREVIATION.search(text, max(0, base + m.start() - 6), base + m.start()):
            continue
        best = base + m.end()
    return best


def _role_named(text: str, head: str, names: _Names) -> str | None:
    """The one person the article calls "<head> Name" ("boss McCluskey" for "the boss of ..."), if just one."""
    found: set[str] = set()
    for m in re.finditer(rf"\b{re.escape(head)}\s+((?:[A-Z][\w'’-]+[ \t\xa0]?){{1,3}})", text):
        words = name_part(m.group(1))
        canonical = names.canonical(words)[0] if words else None
        if canonical:
            found.add(canonical)
    return found.pop() if len(found) == 1 else None


_APPOSITIVE_NAME = re.compile(r",[ \t\xa0]+((?:[A-Z][\w'’.-]*[ \t\xa0]+){1,3}[A-Z][\w'’-]+)"  # ", Rich Beeson"
                              r"[ \t\xa0]*(?:[,(.;:!?\u201d\u0022]|$)")  # then a comma, stop, quote mark or the end


def _appositive_name(text: str, end: int, names: _Names) -> str | None:
    """The person a description names right after it: "the campaign manager, Rich Beeson, said"."""
    m = _APPOSITIVE_NAME.match(text, end, min(len(text), end + 80))
    if m is None:
        return None
    words = name_part(m.group(1))
    if len(words) < 2:
        return None
    canonical, _why = names.canonical(words)
    return canonical if canonical and names.is_person(canonical) else None


# How far (characters) a quote with no frame may stand from the attribution whose speaker it takes.
ADJACENT_WINDOW = 600  # flat from 400 up on two PolNeAR train folds


def resolve(text: str, found: list[Found]) -> list[Resolution]:
    """Resolve the source of each found attribution (in text order) to a speaker; one result per item."""
    names = _Names(text)
    quoted = _quote_regions(text)
    events = _sentence_subjects(text, names, quoted)
    mentions = _mentions(text, names, quoted)
    order = sorted(range(len(found)), key=lambda i: found[i].start)
    results: dict[int, Resolution] = {}
    previous: int | None = None
    for i in order:
        f = found[i]
        before = results.get(previous) if previous is not None else None
        if f.via == "adjacent" and previous is not None and f.start - found[previous].end > ADJACENT_WINDOW:
            before = None  # the attribution before is too far back to lend its speaker
        res = _resolve_one(text, f, names, events, mentions, before)
        results[i] = res
        anchor = f.source or f.cue
        if anchor is not None and res.speaker:
            events.append(_Event(anchor[0], res.speaker, res.person, names.gender.get(res.speaker, ""),
                                 end=f.source[1] if f.source else None))
        previous = i
    return [results[i] for i in range(len(found))]


def _antecedent(events: list[_Event], offset: int, window: int, *, person: bool | None,
                gender: str = "", skip: list[tuple[int, int]] = ()) -> _Event | None:  # type: ignore[assignment]
    best: _Event | None = None
    for e in events:
        if e.offset >= offset or offset - e.offset > window or any(s <= e.offset < t for s, t in skip):
            continue
        if person is not None and e.person != person:
            continue
        if gender and e.gender and e.gender != gender:
            continue
        if best is None or e.offset > best.offset:
            best = e
    return best


def _resolve_one(text: str, f: Found, names: _Names, events: list[_Event], mentions: list[_Event],
                 previous: Resolution | None) -> Resolution:
    skip = list(f.fragments)
    if f.source is None:
        if f.via in ("coordinated", "inherit") and previous is not None:
            return Resolution(previous.speaker, previous.anonymous, previous.reason, 0.9, previous.person)
        if f.via == "adjacent" and previous is not None and (previous.speaker or previous.anonymous):
            # a quote standing alone after another attribution: its speaker by convention, not by evidence
            return Resolution(previous.speaker, previous.anonymous, previous.reason,
                              min(previous.confidence, 0.5), previous.person)
        if f.via == "participle" and f.cue is not None:
            start = _sentence_start(text, f.cue[0])
            # the subject of the sentence, not the last name before the cue: "Sanders visited NBC to discuss his rival,
            # Hillary Clinton, saying ..." is Sanders speaking. An attribution or subject found at the sentence's
            # first word ("He dismissed ..., saying" with "He" resolved) speaks; else the first name, when the
            # sentence opens with one; a sentence opening with a description or a pronoun nobody resolved lends no
            # name from its object ("The president left no doubt ... helping Mrs. Clinton succeed him, saying ...").
            before = [e for e in events if start <= e.offset < f.cue[0] and f.cue[0] - e.offset <= 400
                      and not any(a <= e.offset < b for a, b in skip)]
            own = [e for e in before if e.offset <= start + 3]
            subject = None if own else _opening_subject(text, start, f.cue[0])
            if subject is not None:
                # "He dismissed ..., saying", "The Vermont senator emailed supporters saying": the subject is the
                # source mention, resolved as one
                res = _resolve_one(text, replace(f, source=subject, via="source"), names, events, mentions, previous)
                return replace(res, confidence=min(res.confidence, 0.6), mention=subject)
            if not own and not _name_first(text[start:f.cue[0]]):
                return Resolution(None, reason="the sentence's subject is no name")
            ante = (own or sorted(before, key=lambda e: e.offset) or [None])[0]
            if ante is not None:
                mention = (ante.offset, ante.end) if ante.end else None
                return Resolution(ante.name, confidence=0.6, person=ante.person, mention=mention)
            named = [e for e in mentions
                     if start <= e.offset < f.cue[0] and not any(a <= e.offset < b for a, b in skip)]
            if named:
                return Resolution(min(named, key=lambda e: e.offset).name, confidence=0.55)
            return Resolution(None, reason="participle cue with no subject before it")
        return Resolution(None, reason="no source in the text", confidence=1.0)
    mention = text[f.source[0]:f.source[1]]
    low = mention.lower().strip()
    if low in _PRONOUN_GENDER:
        ante = _antecedent(events, f.source[0], PRONOUN_WINDOW, person=True, gender=_PRONOUN_GENDER[low],
                           skip=skip)
        single = _antecedent([e for e in events if not e.person and " " not in e.name and not e.name.isupper()],
                             f.source[0], PRONOUN_WINDOW, person=False, skip=skip)
        if single is not None and (ante is None or single.offset > ante.offset):
            return Resolution(single.name, confidence=0.6)  # "Blair said ... He added": a bare name speaks
        if ante is None:
            return Resolution(None, reason=f"pronoun {mention!r} with no person before it", confidence=1.0)
        return Resolution(ante.name, confidence=0.85)
    if low in {"they", "it", "we"}:
        ante = _antecedent(events, f.source[0], 600, person=False, skip=skip)
        if ante is None:
            return Resolution(None, reason=f"pronoun {mention!r} with no organisation before it")
        return Resolution(ante.name, confidence=0.6, person=False)
    if low in {"i", "you"}:
        return Resolution(None, reason=f"pronoun {mention!r} inside reported speech")
    if low in {"who", "which"}:  # "said Weaver, who said ...": the name the relative clause hangs on
        start = _sentence_start(text, f.source[0])
        near = [e for e in events + mentions if start <= e.offset < f.source[0] - 1 and f.source[0] - e.offset <= 120
                and not any(a <= e.offset < b for a, b in skip)]
        if not near:
            return Resolution(None, reason=f"relative pronoun {mention!r} with no name before it")
        ante = max(near, key=lambda e: e.offset)
        return Resolution(ante.name, confidence=0.8, person=ante.person)
    words = name_part(mention)
    comma = mention.find(",")
    at = f.source[0] + comma if comma > 0 else f.source[1]  # the name may be inside the mention or after it
    if not words and (appositive := _appositive_name(text, at, names)):
        return Resolution(appositive, confidence=0.85)  # "Rubio's deputy campaign manager, Rich Beeson, who ..."
    if not words and _ANONYMOUS.search(re.split(r"\b(?:close to|for|of|from|at|with)\b", mention)[0]):
        return Resolution(None, anonymous=True, reason="anonymous source", confidence=1.0, person=True)
    if words:
        canonical, why = names.canonical(words)
        if canonical is None:
            return Resolution(None, reason=why)
        person = names.is_person(canonical) or _title_before(mention) is not None
        return Resolution(canonical, confidence=0.95 if len(words) >= 2 or person else 0.8, person=person)
    # a role description: "The Labour peer", "the group"
    head_words = _WORD.findall(re.split(r"\s(?:of|for|at|from|with|close to|to)\s|,", low, maxsplit=1)[0])
    head = head_words[-1] if head_words else ""
    if head.endswith("s") and not head.endswith("ss") and head not in _ORG_HEADS:
        return Resolution(None, reason=f"a group, not one speaker: {mention!r}")
    if head in _ORG_HEADS:
        ante = _antecedent(events, f.source[0], DESCRIPTION_WINDOW, person=False, skip=skip)
        if ante is None:
            return Resolution(None, reason=f"description {mention!r} with no organisation before it")
        return Resolution(ante.name, confidence=0.6, person=False)
    if re.match(r"(?:the|this|that)\b", low):
        # the subject of the sentence before, else the one person that sentence names, else the latest subject
        here = _sentence_start(text, f.source[0])
        before = _sentence_start(text, max(0, here - 2)) if here else 0
        subject = _antecedent([e for e in events if e.offset >= before], f.source[0], DESCRIPTION_WINDOW,
                              person=True, skip=skip)
        opens_with_pronoun = re.match(r"\s*(?:\w+,\s*)?(?:but |and |yet )?(?:he|she)\b", text[before:here], re.I)
        if subject is None and not opens_with_pronoun:
            named = {e.name for e in mentions if before <= e.offset < f.source[0]
                     and not any(s <= e.offset < t for s, t in skip)}
            if len(named) == 1:
                return Resolution(named.pop(), confidence=0.65)
        if subject is None:
            subject = _antecedent(events, f.source[0], DESCRIPTION_WINDOW, person=True, skip=skip)
        if subject is not None:
            return Resolution(subject.name, confidence=0.7)
        if head and (named_role := _role_named(text, head, names)):
            return Resolution(named_role, confidence=0.55)
        return Resolution(None, reason=f"description {mention!r} with no person before it")
    return Resolution(None, reason=f"description {mention!r} names nobody")
