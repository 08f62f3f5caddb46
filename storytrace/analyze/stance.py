"""Stances: who supports or opposes whom (or a proposition such as "Corbyn should stay as leader").

Rules first, then a learned classifier (``stance_model``) for the (holder, target) pairs no rule found: every
attributed quotation's speaker toward each person or organisation its content names (or the focal person it
speaks of as "he"/"she"), with polarity support / oppose or no stance from a logistic regression trained on
labelled PolNeAR train attributions; such statements have ``kind`` "classifier", the model's probabilities and
its probability of the chosen polarity as their confidence.

The rules: a stance is read from a *cue* in a sentence of the clean text (a reported action or
speech verb such as "backed", "urged him to quit", "refused to be drawn", "thrown its weight behind", "no
confidence", or supportive language inside a quotation such as "political lynching" or "the coup has
failed"), then given

- a **holder**: the quotation's resolved speaker when the cue lies inside a quotation, else the first actor
  named in the cue's clause (the antecedent of ", who"), or the subject of the previous sentence for a
  sentence-initial "He"/"She";
- a **target**: the actor named just after a transitive cue ("backed Corbyn"), or for leadership cues
  ("quit", "stay as leader", "no confidence", "leadership challenge") the person whose leadership is at
  issue: a name or leader phrase ("the Labour leader") before the cue, else the article's focal person
  (the person named most often); such stances also carry the proposition "<target> should stay as leader";
- evaluation: "called Clinton a disgrace" (a naming verb, a person, an evaluative noun or adjective) is a
  transitive cue whose polarity is the evaluation's; inside a quotation with a resolved speaker, an evaluative
  word ("a fraud", "may lie", "the superior candidate") is the speaker's stance toward the person the
  sentence names nearest to it (not the speaker), else toward the article's focal person;
- a **polarity**: support / oppose / neutral, flipped by a negation just before the cue ("no leadership
  challenge", "could not carry on", "refused to quit"); "refused to be drawn" and its kin are neutral; a
  cue marked as past ("previously backed") is skipped, a conditional or modal one ("could resign if")
  gets a lower confidence.

Per-article aggregation (``summarise``) turns a holder's statements toward one target into support, oppose,
neutral or mixed; ``stance_changes`` orders those per actor by date and flags changes. Every statement keeps
its evidence (sentence and cue offsets in the raw text), its date (the ``dates`` stage's date when that
stage has run, else the article's publication date) and a confidence.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from storytrace.analyze import stance_model
from storytrace.model import Article, StageOutput
from storytrace.settings import Settings
from storytrace.stages import CorpusOutput, CorpusView

POLARITIES = ("support", "oppose", "neutral", "mixed")
_FLIP = {"support": "oppose", "oppose": "support", "neutral": "neutral"}

# -- names --------------------------------------------------------------------------------------------
_CAP_RUN = re.compile(r"(?<![\w’'-])[A-Z][\w’'-]*(?:[ ]+[A-Z][\w’'-]*)*")
_SENTENCE = re.compile(r"[^\n]+?(?:[.!?](?:[”\"’']+)?(?=\s)|$)", re.M)
_ORG_NOUN = re.compile(r"\b(?:unions?|organisations?|organizations?|group|campaign|association|committee|movement|"
                       r"party|network|pac|super pac|foundation|council|federation|congress)\b", re.I)
_ORG_SUFFIX = re.compile(r"\b(?:Party|Union|Association|Committee|Council|Federation|Foundation|Campaign|PAC|"
                         r"Group|Movement|Congress|Network|Department|Agency|Office|Bureau|Administration|Commission|"
                         r"Institute|University|Show|Police|Act)$")
_NOT_NAMES = {
    "the", "a", "an", "it", "he", "she", "they", "we", "i", "this", "that", "but", "and", "in", "on", "at", "as",
    "if", "when", "after", "meanwhile", "however", "earlier", "crucially", "speaking", "shrugging", "there", "his",
    "her", "their", "our", "its", "what", "where", "who", "why", "how", "yesterday", "today", "tomorrow", "mr",
    "another", "other", "some", "many", "one", "former", "labour", "tory", "tories", "conservative", "conservatives",
    "democrat", "democrats", "republican", "republicans", "photograph", "getty", "rex", "bbc", "sky", "itv", "news",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february", "march",
    "april", "may", "june", "july", "august", "september", "october", "november", "december", "westminster",
    "parliament", "parliamentary", "brexit", "european", "union", "general", "election", "house", "senate",
    "congress", "white", "state", "states", "united", "america", "american", "britain", "british", "england",
    "scotland", "wales", "twitter", "facebook", "fox", "cnn", "msnbc", "nbc", "abc", "cbs", "times", "post",
    "independent", "guardian", "observer", "mail", "sun", "mirror", "telegraph", "express", "herald", "marr",
    "show", "iraq", "chilcot", "report", "plp", "mps", "mp", "mep", "meps", "grassroots", "supporters", "sources",
    "allies", "jewish", "left", "right", "centre", "north", "south", "east", "west", "trade", "unions", "shadow",
    "prime", "minister", "secretary", "leader", "deputy", "chancellor", "lord", "lady", "sir", "dr", "mrs", "ms",
}
_HONORIFICS = {"president", "mr", "mrs", "ms", "dr", "sen", "senator", "gov", "governor", "rep", "representative",
               "mayor", "judge", "gen", "general", "secretary"}
_PRONOUN_SUBJECT = re.compile(r"^\s*(?:[“\"‘']\s*)?(He|She)\b")


def _bare(token: str) -> str:
    token = token.casefold()
    return token[:-2] if token.endswith(("’s", "'s")) else token
# "the Labour leader", "their leader", "the embattled leader": the article's focal person, unless a name follows
# (a title: "Labour leader Jeremy Corbyn") or "former" precedes.
_LEADER_PHRASE = re.compile(
    r"\b(?:the|their|our|his|her|its)\s+(?:(?:embattled|party|labour|opposition|beleaguered|current)\s+){0,2}"
    r"(?:party\s+)?leader(?:ship)?\b(?!\s+[A-Z])", re.I)


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Title words ("shadow", "chancellor", "boss"), place names and party names, from the shipped gazetteers."""
    base = resources.files("storytrace.resources") / "gazetteer"
    titles: set[str] = set()
    places: set[str] = set()
    parties: set[str] = set()
    for name, bucket in (("titles.txt", titles), ("parties.txt", parties), ("cities.txt", places),
                         ("countries.txt", places), ("demonyms.txt", places)):
        for line in (base / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                bucket.update(w.casefold().rstrip(".") for w in line.split())
    return frozenset(titles), frozenset(places), frozenset(parties)


@dataclass
class Mention:
    start: int  # clean-text offsets
    end: int
    name: str  # canonical in-article name ("Len McCluskey"), or the focal person for a leader phrase
    kind: str  # person | organisation
    pronoun: bool = False


class _Names:
    """The actors an article names: full names, surname mentions, organisations and leader phrases."""

    def __init__(self, text: str, speakers: list[str]) -> None:
        titles, places, parties = _gazetteer()
        titles = titles | {p for p in parties if p in _NOT_NAMES}
        self.text = text
        self.full: dict[str, str] = {}  # last token (casefolded) -> full name
        self.orgs: set[str] = set()
        counts: Counter[str] = Counter()
        raw_mentions: list[tuple[int, int, str]] = []
        titled: set[str] = set()  # single names after a personal title ("President Obama", "Sen. Kaine")
        for m in _CAP_RUN.finditer(text):
            tokens = m.group().split()
            start = m.start()
            honorific = any(t.casefold().rstrip(".") in _HONORIFICS for t in tokens[:-1]) or bool(
                re.search(r"\b(?:Mr|Mrs|Ms|Dr|Sen|Gov|Rep|Gen)\.\s$", text[max(0, start - 6):start]))
            # drop leading title/role/party words and sentence-initial function words
            while tokens and (tokens[0].casefold().rstrip(".") in titles or _bare(tokens[0]) in _NOT_NAMES
                              or len(tokens) > 1 and _EVALUATIVE.fullmatch(tokens[0])):  # "Derelict Obama"
                start += len(tokens[0]) + 1
                tokens = tokens[1:]
            cut = max((i for i, t in enumerate(tokens[:-1]) if t.casefold() in titles), default=-1)
            if cut >= 0:
                start += sum(len(t) + 1 for t in tokens[: cut + 1])
                tokens = tokens[cut + 1:]
            while tokens and tokens[-1].casefold().rstrip(".’'s") in places and len(tokens) > 1:
                tokens = tokens[:-1]
            if not tokens:
                continue
            name = " ".join(tokens).rstrip(".")
            if name.endswith(("’s", "'s")):
                name = name[:-2]
            raw_mentions.append((start, start + len(name), name))
            if honorific and " " not in name:
                titled.add(name)
        # A single capitalised word the article also writes in lower case is a common word at a sentence or
        # headline start ("Other major unions", "Flight attendants' union"), not a name.
        lower_words = set(re.findall(r"(?<![\w’'-])[a-z][\w’'-]*", text))
        raw_mentions = [(s, e, n) for s, e, n in raw_mentions if " " in n or n.casefold() not in lower_words]
        self.first: dict[str, set[str]] = defaultdict(set)
        for speaker in speakers:
            parts = speaker.split()
            if _ORG_SUFFIX.search(speaker):  # "Tulsa Police Department", "Steve Harvey Morning Show"
                self.orgs.add(speaker)
            elif len(parts) >= 2:
                self.full.setdefault(parts[-1].casefold(), speaker)
            elif parts:
                self.orgs.add(speaker)
        for _s, _e, name in raw_mentions:
            parts = name.split()
            if _ORG_SUFFIX.search(name):
                self.orgs.add(name)
            elif 2 <= len(parts) <= 3 and all(p.casefold() not in places for p in parts):
                self.full.setdefault(parts[-1].casefold(), name)
        for name in titled:
            if name.casefold() not in places and name not in self.orgs:
                self.full.setdefault(name.casefold(), name)
        for full in self.full.values():
            self.first[full.split()[0].casefold()].add(full)
        self.orgs.update(n for _s, _e, n in raw_mentions if n.casefold() in parties)
        for s, e, name in raw_mentions:  # single capitalised words near an organisation noun
            if " " not in name and name.casefold() not in self.full and name.casefold() not in places:
                window = text[max(0, s - 45): e + 45]
                # an all-capitals word is an organisation only as a hyphenated acronym ("AFL-CIO"), not "PENCE"
                if _ORG_NOUN.search(window) and len(name) > 2 and (not name.isupper() or "-" in name) \
                        or name in self.orgs:
                    self.orgs.add(name)
        self.mentions: list[Mention] = []
        for s, e, name in raw_mentions:
            canonical = self.canonical(name)
            if canonical is None:
                continue
            kind = "organisation" if canonical in self.orgs else "person"
            self.mentions.append(Mention(s, e, canonical, kind))
            counts[canonical] += kind == "person"
        self.focal = counts.most_common(1)[0][0] if counts and counts.most_common(1)[0][1] else None
        if self.focal:
            for m in _LEADER_PHRASE.finditer(text):
                before = text[max(0, m.start() - 12): m.start()].casefold()
                if "former" not in before:
                    self.mentions.append(Mention(m.start(), m.end(), self.focal, "person"))
        self.mentions.sort(key=lambda x: x.start)

    def canonical(self, name: str) -> str | None:
        if name in self.orgs:
            return name
        parts = name.split()
        if len(parts) >= 2:
            return self.full.get(parts[-1].casefold(), name) if len(parts) <= 3 else None
        if name.casefold() in self.full:
            return self.full[name.casefold()]
        firsts = self.first.get(name.casefold(), set())
        return next(iter(firsts)) if len(firsts) == 1 else None

    def in_range(self, start: int, end: int) -> list[Mention]:
        return [m for m in self.mentions if start <= m.start and m.end <= end]


# -- cues -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cue:
    pattern: re.Pattern[str]
    polarity: str  # support | oppose | neutral: the holder's stance toward the target
    kind: str  # transitive (target after) | leadership (target = whose leadership) | self | quote | neutral
    weight: float = 0.8


def _c(pattern: str, polarity: str, kind: str, weight: float = 0.8) -> Cue:
    return Cue(re.compile(pattern, re.I), polarity, kind, weight)


# Evaluative words of political talk (general English, not taken from any labelled article's wording).
_NEGATIVE = (r"disgrace(?:ful)?|fraud|liar|lies|lying|(?:may|will|would|could)\s+lie|dishonest|corrupt|unfit|"
             r"unqualified|dangerous|reckless|incompetent|pathetic|disgusting|outrageous|unstable|desperate|"
             r"bigot(?:ed)?|racist|sexist|misogynist|xenophobe|demagogue|bully|hypocrite|hypocritical|"
             r"cannot\s+be\s+trusted|can['’]t\s+be\s+trusted|not\s+fit|failed\s+(?:leader|president|candidate)|"
             r"foolish(?:ly)?|derelict|ignorant|shameful|irresponsible")
_POSITIVE = (r"champion|superior\s+candidate|(?:absolutely|completely|exactly)\s+right|great\s+(?:leader|president|"
             r"candidate)|brilliant|honou?red\s+by|(?:enormous|great|deep|tremendous)\s+respect|"
             r"(?:strong|effective|real)\s+leader(?:ship)?|broad-shouldered\s+leadership|well[-\s]qualified|"
             r"most\s+qualified|embod(?:y|ies|ied)\s+(?:the\s+)?(?:\w+\s+)?(?:spirit|values)")
_EVALUATIVE = re.compile(rf"(?:{_NEGATIVE}|{_POSITIVE})", re.I)
CUES: tuple[Cue, ...] = (
    # neutral: refusing to take a side
    _c(r"\b(?:refused|refuses|refusing|declined|declines|declining)\s+to\s+(?:be\s+drawn|intervene|comment|say|"
       r"take\s+sides|endorse\s+either)", "neutral", "neutral", 0.7),
    _c(r"\b(?:would|will)\s+not\s+(?:be\s+drawn|say\s+whether|take\s+sides)", "neutral", "neutral", 0.6),
    # the leader holding on: a stance of the leader toward their own leadership
    _c(r"\b(?:refused|refuses|refusing)\s+to\s+(?:quit|resign|step\s+down|stand\s+down|stand\s+aside|go)\b",
       "support", "self", 0.8),
    _c(r"\b(?:will|would|won’t|won't)\s+(?:not\s+)?(?:quit|resign|step\s+down|stand\s+down)\b(?=.{0,3})",
       "support", "selfmaybe", 0.6),
    _c(r"\bno\s+intention\s+(?:of|to)\s+(?:leaving|quitting|resigning|step(?:ping)?\s+down|stand(?:ing)?\s+down|"
       r"quit|resign|leave)", "support", "self", 0.8),
    _c(r"\b(?:will|would)\s+(?:continue\s+as\s+leader|stand\s+for\s+re-?election|be\s+a\s+candidate)", "support",
       "self", 0.7),
    # opposing someone's leadership
    _c(r"\b(?:urged|urging|urges|called\s+on|calling\s+on|calls\s+on|plea\s+for|pleaded\s+with|persuade|"
       r"persuading|pressure|pressuring|told)\s+(?:\S+\s+){0,3}?to\s+(?:quit|resign|step\s+down|stand\s+down|"
       r"stand\s+aside|go)\b", "oppose", "leadership", 0.85),
    _c(r"\b(?:should|must|ought\s+to|has\s+to|could|would\s+see\s+him|would\s+see\s+her)\s+(?:now\s+)?(?:quit|resign|"
       r"step\s+down|stand\s+down|stand\s+aside)\b", "oppose", "leadership", 0.75),
    _c(r"\b(?:could|can|should|would)\s+(?:not\s+|n[o’']t\s+)?(?:really\s+)?(?:could\s+or\s+should\s+)?"
       r"(?:carry\s+on|stay|continue|remain)(?:\s+in\s+post|\s+as\s+(?:party\s+|labour\s+)?leader)?\b",
       "support", "leadership", 0.75),
    _c(r"\bno\s+basis\b", "oppose", "leadership", 0.8),
    _c(r"\bwith\s+(?:Mr\s+|Ms\s+|Mrs\s+)?[A-Z][\w’'-]+\s+as\s+(?:party\s+|labour\s+)?leader\b", "support",
       "leadership", 0.75),
    _c(r"\b(?:challenge|challenging|challenged)\s+(?:\S+\s+){1,3}for\s+the\s+leadership\b", "oppose", "leadership",
       0.85),
    _c(r"\bleadership\s+(?:challenge|contest)\b", "oppose", "act", 0.6),
    _c(r"\b(?:stand|standing|stood|run|running)\s+against\b", "oppose", "transitive", 0.8),
    _c(r"\b(?:vote|motion)\s+of\s+no\s+confidence\b|\bno\s+confidence\s+in\b", "oppose", "act", 0.6),
    _c(r"\b(?:oust|ousting|overthrow|overthrowing|topple|toppling|remove|removing|replace|replacing|unseat)\b",
       "oppose", "act", 0.6),
    _c(r"\bshift\s+away\s+from\b", "oppose", "transitive", 0.6),
    # backing and its opposite
    _c(r"\b(?:thrown|throws|threw|throwing)\s+(?:its|his|her|their)\s+(?:full\s+)?weight\s+behind\b", "support",
       "transitive", 0.9),
    _c(r"\b(?:backed|backs|backing|endorsed|endorses|endorsing|endorse|defended|defends|defend|defending|praised|"
       r"praises|praising|supported|supports|supporting)\b(?!\s+by)", "support", "transitive", 0.8),
    _c(r"(?<!the )(?<!of )(?<!his )(?<!her )(?<!its )(?<!their )\b(?:back|support)\s+"
       r"(?=(?-i:Mr\s+|Ms\s+|Mrs\s+|him\b|her\b|the\s+[A-Z]|[A-Z]))", "support", "transitive", 0.75),
    _c(r"\b(?:his|her|its|their)\s+(?:continued\s+|full\s+|strong\s+)?(?:support|backing)\s+(?:for|of)\b",
       "support", "transitive", 0.85),
    _c(r"\b(?:stand|stands|standing|stick|sticks|sticking|stuck|stood)\s+(?:by|with)\b", "support", "transitive",
       0.75),
    _c(r"\b(?:rally|rallied|rallying|rallies)\s+(?:behind|round|around)\b", "support", "transitive", 0.8),
    _c(r"\bin\s+(?:defence|defense|support)\s+of\b", "support", "transitive", 0.8),
    _c(r"\b(?:a|an|the|as\s+a)\s+(?:staunch\s+|loyal\s+|strong\s+|key\s+)?(?:supporter|ally|backer)\s+of\b",
       "support", "transitive", 0.8),
    _c(r"\bset\s+up\s+to\s+support\b", "support", "transitive", 0.8),
    _c(r"\bcampaign(?:ed|s|ing)?\s+(?:\w+\s+)?(?:for|on\s+behalf\s+of)\b", "support", "transitive", 0.75),
    _c(r"\b(?:critical|dismissive|scornful)\s+of\b", "oppose", "transitive", 0.75),
    _c(r"\bpro-(?=[A-Z])", "support", "transitive", 0.6),
    _c(r"\b(?:criticised|criticized|criticises|criticizes|criticising|criticizing|attacked|attacks|attacking|"
       r"condemned|condemns|slammed|slams|blasted|blasts|accused|accuses|accusing|denounced|denounces|mocked|mocks|"
       r"ripped|rips|hammered|hammers|lambasted|opposed|opposes|oppose|opposing|goes\s+after|went\s+after|"
       r"turned\s+on|turns\s+on)\b", "oppose", "transitive", 0.75),
    # naming someone as something: "called Hillary Clinton a 'disgrace'", "described him as a champion"
    _c(r"\b(?:call(?:s|ed|ing)?|describ(?:es|ed|ing)|brand(?:s|ed|ing)|label(?:s|l?ed|l?ing)|dubb(?:ed|ing))\s+"
       r"(?=(?:(?:Mr\.?|Ms\.?|Mrs\.?|Sen\.?|Gov\.?)\s+)?(?:[A-Z][\w.’'-]*\s+){1,3}(?:as\s+)?(?:an?\s+|the\s+)?"
       rf"(?:\w+\s+){{0,2}}[“\"‘']?(?:{_NEGATIVE})\b)", "oppose", "transitive", 0.85),
    _c(r"\b(?:call(?:s|ed|ing)?|describ(?:es|ed|ing)|brand(?:s|ed|ing)|label(?:s|l?ed|l?ing)|dubb(?:ed|ing))\s+"
       r"(?=(?:(?:Mr\.?|Ms\.?|Mrs\.?|Sen\.?|Gov\.?)\s+)?(?:[A-Z][\w.’'-]*\s+){1,3}(?:as\s+)?(?:an?\s+|the\s+)?"
       rf"(?:\w+\s+){{0,2}}[“\"‘']?(?:{_POSITIVE})\b)", "support", "transitive", 0.85),
    # inside a quotation: evaluative words aimed at the person the sentence names
    _c(rf"\b(?:{_NEGATIVE})\b", "oppose", "eval", 0.6),
    _c(rf"\b(?:{_POSITIVE})\b", "support", "eval", 0.6),
    # inside a quotation: the speaker's sympathy with the leader under attack
    _c(r"\b(?:political\s+lynching|lynching|decent\s+man|made\s+of\s+(?:stronger|sterner)\s+stuff|man\s+of\s+steel|"
       r"coup|plotters?)\b", "support", "quote", 0.7),
)
_NEGATION = re.compile(r"(?:(?:\b(?:not|never|no|no\s+longer|without|n[o’']t)|n[’']t)\s+(?:\w+\s+){0,1}"
                       r"|\bno\s+basis\W*\s+on\s+which\s+(?:\w+\s+){0,5}"
                       r"|\b(?:fight|fighting|fought|resist\w*|defeat\w*|fend\w*\s+off|block\w*|against)\s+(?:\w+\s+){0,2})$",
                       re.I)
_PAST = re.compile(r"\b(?:previously|formerly|once|used\s+to|had\s+earlier)\s+(?:\w+\s+)?$", re.I)
_HEDGE = re.compile(r"\b(?:could|might|may|if)\b", re.I)
_CONDITION = re.compile(r"\bif\s+(?:\S+\s+){0,3}$", re.I)
_FAILED = re.compile(r"\b(?:has|had|have)?\s*failed\b", re.I)
_CLAUSE = re.compile(r",\s+(?:who|which)\b|\b(?:that|after|but|while|because|although|whereas|whom)\b|[;:–—]", re.I)
_PRONOUN_OBJECT = re.compile(r"^\W{0,3}(?:him|her)\b", re.I)


_TURN = re.compile(r"^[\"“]?(?P<name>[A-Z][A-Z’'.-]+(?:\s[A-Z][A-Z’'.-]+)?):\s+(?P<body>\S.*)$", re.M)
_SIGNATURE = re.compile(r"(?P<name>[A-Z][\w’'-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][\w’'-]+){1,2})\.?")
_BIO = re.compile(r"(?P<name>[A-Z][\w’'-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][\w’'-]+){1,2}),?\s+(?:is|was)\s+(?:a|an|the|"
                  r"\w+\s+(?:of|at|for))\s")


def _turns(article: Article, names: _Names) -> list[tuple[int, int, dict[str, Any]]]:
    """Transcript lines ("PENCE: Well, look, ..."): the named person's own words, as raw-text spans."""
    out = []
    for m in _TURN.finditer(article.clean.text):
        speaker = names.full.get(m["name"].split()[-1].casefold())
        if speaker is None:  # only a person the article names in full ("Mike Pence"), not "UPDATE:" or a place
            continue
        a, b = article.clean.span_to_raw(m.start("body"), m.end("body"))
        out.append((a, b, {"speaker": speaker, "kind": "direct", "anonymous": False}))
    return out


def author(text: str) -> str | None:
    """The signed author of a letter or opinion piece: a name alone on one of the last lines ("John Gorra."), or
    a closing line about the writer ("Rudy Giuliani is the former mayor of New York City.")."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][-3:]
    for line in lines:
        sig = _SIGNATURE.fullmatch(line)
        if sig and not any(w.casefold() in _NOT_NAMES for w in sig["name"].split()):
            return sig["name"]
        bio = _BIO.match(line)
        if bio and len(line) < 240 and line is lines[-1]:
            return bio["name"]
    return None


def _quote_spans(quotes: list[dict[str, Any]], raw: str = "") -> list[tuple[int, int, dict[str, Any]]]:
    """Content spans of the quotations; an unattributed direct quotation that follows an attributed one in the same
    paragraph ('"...," Sanders said, suggesting questions, including, "Mr. Trump, ..."') continues its speaker."""
    spans = []
    previous: dict[str, Any] | None = None
    for q in sorted(quotes, key=lambda q: q["content_start"]):
        if (not q.get("speaker") and q.get("kind") == "direct" and previous is not None and raw
                and "\n" not in raw[previous["content_end"]:q["content_start"]]
                and q["content_start"] - previous["content_end"] < 300):
            q = {**q, "speaker": previous["speaker"], "anonymous": previous.get("anonymous", False),
                 "speaker_from": "continuation"}
        for start, end in q.get("content_spans") or [[q["content_start"], q["content_end"]]]:
            spans.append((start, end, q))
        if q.get("speaker"):
            previous = q
    return spans


def find(article: Article, quotes: list[dict[str, Any]], *, date: str | None = None,
         embeddings: bool = False) -> list[dict[str, Any]]:
    """Find stance statements in one article; offsets in the returned records are raw-text offsets. With
    ``embeddings`` (and the extra installed) the classifier reads each candidate's sentence vector too."""
    text = article.clean.text
    to_raw = article.clean.span_to_raw
    speakers = [q["speaker"] for q in quotes if q.get("speaker")]
    writer = author(text)
    names = _Names(text, speakers + ([writer] if writer else []))
    # transcript turns first (the extractor leaves them unattributed), then the extracted quotations; in a signed
    # letter or opinion piece, the rest of the text is the author's own voice
    qspans = _turns(article, names) + _quote_spans(quotes, article.raw_text)
    if writer:
        qspans.append((0, len(article.raw_text), {"speaker": writer, "kind": "author", "anonymous": False}))
    found: list[dict[str, Any]] = []
    previous_subject: Mention | None = None
    for sm in _SENTENCE.finditer(text):
        s_start, s_end = sm.start(), sm.end()
        sentence = sm.group()
        if not sentence.strip():
            continue
        mentions = names.in_range(s_start, s_end)
        subject: Mention | None = mentions[0] if mentions else None
        pron = _PRONOUN_SUBJECT.match(sentence)
        if pron and previous_subject is not None and (subject is None or subject.start > s_start + pron.end()):
            subject = Mention(s_start + pron.start(1), s_start + pron.end(1), previous_subject.name,
                              previous_subject.kind, pronoun=True)
        taken: list[tuple[int, int]] = []
        for cue in CUES:
            for cm in cue.pattern.finditer(sentence):
                c_start, c_end = s_start + cm.start(), s_start + cm.end()
                if any(a < c_end and c_start < b for a, b in taken):
                    continue
                record = _statement(article, names, cue, c_start, c_end, s_start, s_end, mentions, subject, qspans)
                if record is None:
                    continue
                taken.append((c_start, c_end if cue.kind != "neutral" else min(s_end, c_end + 90)))
                r_s, r_e = to_raw(s_start, s_end)
                k_s, k_e = to_raw(c_start, c_end)
                record.update(cue=article.raw_text[k_s:k_e], cue_start=k_s, cue_end=k_e, evidence_start=r_s,
                              evidence_end=r_e, evidence=article.raw_text[r_s:r_e], date=date)
                also = record.pop("also", [])
                co_holders = record.pop("also_holders", [])
                found.append(record)
                for other in also:
                    found.append({**record, "target": other, "concept": other, "target_kind": "person"})
                for other, kind in co_holders:
                    found.append({**record, "holder": other, "holder_kind": kind})
        if subject is not None and not subject.pronoun:
            previous_subject = subject
        elif subject is not None:
            previous_subject = subject
    found.extend(_classified(article, names, qspans, found, date=date, embeddings=embeddings))
    found.sort(key=lambda r: r["cue_start"])
    return found


def _classified(article: Article, names: _Names, qspans: list[tuple[int, int, dict[str, Any]]],
                ruled: list[dict[str, Any]], *, date: str | None, embeddings: bool = False) -> list[dict[str, Any]]:
    """The classifier's statements: each attributed quotation's speaker toward the people and organisations its
    content names (or the focal person it speaks of), for the (holder, target) pairs no rule found."""
    model = stance_model.load(embeddings=embeddings and stance_model.embeddings_unavailable() is None)
    raw = article.raw_text
    mentions = []
    for m in names.mentions:
        if not m.pronoun:
            a, b = article.clean.span_to_raw(m.start, m.end)
            mentions.append((a, b, m.name, m.kind))
    # a quotation with no cue (a transcript turn, a bare quotation) has no cue offsets: -1
    quotes = [{"speaker": q["speaker"], "content_start": a, "content_end": b, "cue": q.get("cue") or "",
               "cue_start": _offset(q.get("cue_start")), "cue_end": _offset(q.get("cue_end")), "kind": q.get("kind")}
              for a, b, q in qspans if q.get("speaker") and not q.get("anonymous") and q.get("kind") != "author"]
    done = {(r["holder"], r.get("about") or r["target"]) for r in ruled}
    out: list[dict[str, Any]] = []
    cands = [c for c in stance_model.candidates(raw, mentions, names.focal, quotes,
                                                kinds={n: _kind_of(names, n) for n in {q["speaker"] for q in quotes}})
             if (c.holder, c.target) not in done and c.holder != c.target]
    vectors = (stance_model.embed_candidates(raw, cands, mentions) if model.uses_embeddings
               else [None] * len(cands))
    for c, vector in zip(cands, vectors, strict=True):
        probs = model.predict(stance_model.candidate_features(raw, c, mentions), vector)
        decided = model.decide(probs)
        if decided is None:
            continue
        polarity, probability = decided
        where = (c.target_start, c.target_end) if c.target_start >= 0 else (c.content_start, c.content_end)
        cue = (c.cue_start, c.cue_end) if c.cue_start >= 0 else where
        out.append({"holder": c.holder, "holder_kind": c.holder_kind, "target": c.target,
                    "target_kind": c.target_kind, "concept": c.target, "polarity": polarity, "kind": "classifier",
                    "source": "quote", "quote_speaker": c.holder, "negated": False, "hedged": False,
                    "confidence": round(probability, 3), "model": f"polarity-v{model.version}",
                    "probabilities": {k: round(v, 3) for k, v in sorted(probs.items())},
                    "cue": raw[cue[0]:cue[1]], "cue_start": cue[0], "cue_end": cue[1],
                    "evidence_start": c.content_start, "evidence_end": c.content_end,
                    "evidence": raw[c.content_start:c.content_end], "target_start": where[0],
                    "target_end": where[1], "date": date})
    return out


def _statement(article: Article, names: _Names, cue: Cue, c_start: int, c_end: int, s_start: int, s_end: int,
               mentions: list[Mention], subject: Mention | None,
               qspans: list[tuple[int, int, dict[str, Any]]]) -> dict[str, Any] | None:
    text = names.text
    before = text[s_start:c_start]
    if _PAST.search(before[-40:]) or _CONDITION.search(before[-40:]):
        return None
    polarity = cue.polarity
    negated = bool(_NEGATION.search(before[-60:])) or bool(re.search(r"\bnot\b|n[’']t\b", text[c_start:c_end]))
    if negated and cue.kind != "neutral" and not cue.kind.startswith("self"):
        polarity = _FLIP[polarity]
    raw_c = article.clean.to_raw(c_start)
    quote = next((q for a, b, q in qspans if a <= raw_c < b), None)
    if quote is not None and (not quote.get("speaker") or quote.get("anonymous")):
        quote = None  # an unattributed quotation: read the sentence as narrative
    if quote is not None and quote.get("kind") == "author" and cue.kind != "eval":
        quote = None  # an opinion piece reports others' acts in narrative; only its evaluations are the author's
    failed = bool(_FAILED.search(text[c_end:s_end][:60]))
    if cue.kind == "quote" and quote is None and not (failed and subject is not None):
        return None  # "coup" in narrative is the reporter's word; only "...had failed" in reported speech counts
    if cue.kind in ("act", "quote") and re.search(r"\b(?:coup|overthrow\w*|oust\w*)\b", text[c_start:c_end]) and failed:
        polarity = "support"
    hedged = bool(_HEDGE.search(before[-25:]))
    confidence = cue.weight * (0.75 if hedged else 1.0)
    clause_start = max([s_start] + [s_start + m.end() for m in _CLAUSE.finditer(before)])
    # -- target
    target: Mention | None = None
    if cue.kind == "eval":
        if quote is None or quote.get("kind") not in ("direct", "partial", "author"):
            return None  # the reporter's own words, or a paraphrase, are not the holder's evaluation
        # only a plain negation turns an evaluation round ("is not a liar"), not "a lawsuit against him"
        negated = bool(re.search(r"\b(?:not|never|n[o’']t)\s+(?:\w+\s+){0,2}$|n[’']t\s+(?:\w+\s+){0,2}$",
                                 before[-40:], re.I))
        polarity = _FLIP[cue.polarity] if negated else cue.polarity
        others = [m for m in mentions if m.kind == "person" and m.name != quote["speaker"]]
        # the person the evaluation is said of: the nearest named before it in its clause ("Trump is such a
        # liar"), else one just after it, else (a pronoun: "She's a disgrace") the article's focal person
        earlier = [m for m in others if clause_start <= m.start < c_start]
        later = [m for m in others if c_end <= m.start <= c_end + 40]
        also: list[str] = []
        if earlier or later:
            target = earlier[-1] if earlier else later[0]
            if later and re.fullmatch(r"\s+of\s+", text[c_end:later[0].start]):
                target = later[0]  # "the strong leadership of Donald Trump"
            # "Obama and Clinton foolishly withdrew": a coordinated pair shares the evaluation
            joined = r"\s+and\s+"
            pair = [m for m in others if m.name != target.name and (re.fullmatch(joined, text[m.end:target.start])
                                                                     or re.fullmatch(joined, text[target.end:m.start]))]
            also = [m.name for m in pair[:1]]
        else:
            # a pronoun: the person the quotation last named ("Mr. Trump, do you ... you expose him for the fraud"),
            # else the article's focal person, else the person the text last named
            q_start = next((a for a, b, q in qspans if a <= raw_c < b and q is quote), raw_c)
            spoken_of = [m for m in names.mentions if m.kind == "person" and m.name != quote["speaker"]]
            in_quote = [m for m in spoken_of if q_start <= article.clean.to_raw(m.start) < raw_c]
            recent = [m for m in spoken_of if c_start - 600 <= m.start < c_start]
            if in_quote:
                target = Mention(c_start, c_start, in_quote[-1].name, "person", pronoun=True)
            elif names.focal and names.focal != quote["speaker"]:
                target = Mention(c_start, c_start, names.focal, "person", pronoun=True)
            elif recent:
                target = Mention(c_start, c_start, recent[-1].name, "person", pronoun=True)
        if target is None:
            return None
        return {"holder": quote["speaker"], "holder_kind": _kind_of(names, quote["speaker"]), "target": target.name,
                "target_kind": target.kind, "concept": target.name, "polarity": polarity, "kind": cue.kind,
                "source": "author" if quote.get("kind") == "author" else "quote", "quote_speaker": quote["speaker"],
                "negated": negated, "hedged": hedged, "confidence": round(confidence, 3), "also": also}
    if cue.kind == "transitive":
        after = text[c_end:s_end]
        nxt = [m for m in mentions if c_end <= m.start <= c_end + 40]
        if _PRONOUN_OBJECT.match(after) and names.focal:
            target = Mention(c_end, c_end + 4, names.focal, "person", pronoun=True)
        elif nxt and text[nxt[0].end:nxt[0].end + 2] not in ("’s", "'s") and \
                re.fullmatch(r"[\s\w,.’'-]{0,40}", text[c_end:nxt[0].start] or " "):
            target = nxt[0]
            # "criticized Tulsa, Okla., police officer Betty Shelby", "campaigned for GOP nominee Donald Trump": an
            # organisation or place followed by a title is the person's description, the person is the target
            described = r"(?:[\s,.]|(?-i:[a-z][\w’'-]*)|[A-Z][a-z]{1,3}\.)*"  # "police officer", "Okla."
            person = next((m for m in mentions if m.kind == "person" and target.end <= m.start <= target.end + 40
                           and re.fullmatch(described, text[target.end:m.start])
                           and not re.search(r"\b(?:and|or|but|who|which|that)\b", text[target.end:m.start])), None)
            if target.kind != "person" and person is not None:
                target = person
        if target is None:
            return None
    else:
        inside = [m for m in mentions if clause_start <= m.start < c_start]
        within = [m for m in mentions if c_start <= m.start < c_end and m.kind == "person"]
        target = within[0] if within else next((m for m in reversed(inside) if m.name == names.focal), None)
        if target is None and names.focal:
            target = Mention(c_start, c_start, names.focal, "person", pronoun=True)
        if target is None:
            return None
    # -- holder
    holder: Mention | None = None
    source = "narrative"
    narrative = _holder(text, mentions, subject, s_start, c_start, target)
    if cue.kind in ("self", "selfmaybe"):
        if quote is not None and cue.kind == "selfmaybe" and quote["speaker"] != target.name:
            holder = Mention(0, 0, quote["speaker"], "person")  # a third party reporting the leader's resolve
            source = "quote"
        else:
            holder = target
    elif quote is not None:
        holder = Mention(0, 0, quote["speaker"], _kind_of(names, quote["speaker"]))
        source = "quote"
        own_clause = narrative is not None and narrative.start >= clause_start and not narrative.pronoun
        if quote.get("kind") != "direct" and own_clause and narrative is not None and narrative.name != holder.name:
            holder, source = narrative, "narrative"  # the clause names its own actor ("after Kinnock made a plea")
        elif cue.kind == "act" and not negated:
            return None  # a speaker describing others' moves ("the attempt to oust him") is no stance of theirs
    else:
        holder = narrative
        if cue.kind == "act" and not negated and (holder is None or not _immediate(text, holder, c_start)):
            return None
    if holder is None or (holder.name == target.name and not cue.kind.startswith("self")):
        return None
    leadership = cue.kind != "transitive"
    concept = f"{target.name} should stay as leader" if leadership else f"{target.name}"
    if holder.name == target.name:
        # a leader holding on ("refused to quit") takes a stance on the proposition of their staying, not on
        # themselves: the target is that proposition, so no actor is ever their own target
        return {"holder": holder.name, "holder_kind": holder.kind, "target": concept, "target_kind": "concept",
                "about": target.name, "concept": concept, "polarity": polarity, "kind": cue.kind, "source": source,
                "quote_speaker": quote.get("speaker") if quote else None, "negated": negated, "hedged": hedged,
                "confidence": round(confidence, 3)}
    # "the American Federation of Teachers and the AFL-CIO have also endorsed": coordinated holders share it
    co_holders = [m for m in mentions if source == "narrative" and holder.end <= m.start < c_start
                  and m.name not in (holder.name, target.name)
                  and re.fullmatch(r"(?:\s+of\s+[A-Z][\w’'-]*)?\s+and\s+(?:the\s+)?", text[holder.end:m.start])]
    return {"holder": holder.name, "holder_kind": holder.kind, "target": target.name, "target_kind": target.kind,
            "concept": concept, "polarity": polarity, "kind": cue.kind, "source": source,
            "quote_speaker": quote.get("speaker") if quote else None, "negated": negated, "hedged": hedged,
            "confidence": round(confidence, 3), "also_holders": [(m.name, m.kind) for m in co_holders[:1]]}


def _offset(value: Any) -> int:
    return value if isinstance(value, int) else -1


def _kind_of(names: _Names, name: str) -> str:
    return "organisation" if name in names.orgs else "person"


def _immediate(text: str, mention: Mention, c_start: int) -> bool:
    """Whether the mention is the cue's grammatical subject: at most four words before it, no comma between."""
    gap = text[mention.end:c_start]
    return mention.end <= c_start and "," not in gap and len(gap.split()) <= 4


_DETERMINERS = {"the", "a", "an", "some", "many", "labour", "its", "his", "her", "their", "this", "those", "these",
                "they", "it", "we", "i", "you", "there", "he", "she", "mps", "members", "one"}


def _holder(text: str, mentions: list[Mention], subject: Mention | None, s_start: int, c_start: int,
            target: Mention | None) -> Mention | None:
    """The cue's subject: the actor just before it, else the first actor of its clause, else (when the clause has
    no subject of its own: "..., but has now suggested") of the clause before; ", who" takes its antecedent."""
    before = text[s_start:c_start]
    bounds = [s_start] + [s_start + m.end() for m in _CLAUSE.finditer(before)]
    candidates = [m for m in mentions if m.start < c_start and (target is None or m.name != target.name)]
    if subject is not None and subject.pronoun and (target is None or subject.name != target.name):
        candidates = [subject, *[m for m in candidates if m.start >= subject.end]]
    if candidates and _immediate(text, candidates[-1], c_start) and candidates[-1].start >= bounds[-1]:
        return candidates[-1]
    for i in range(len(bounds) - 1, -1, -1):
        lo = bounds[i]
        hi = bounds[i + 1] if i + 1 < len(bounds) else c_start
        boundary = text[max(s_start, lo - 8):lo]
        if re.search(r",\s+(?:who|which)$", boundary):
            antecedent = [m for m in candidates if m.end <= lo - 4]
            if antecedent:
                return antecedent[-1]
        inside = [m for m in candidates if lo <= m.start < hi]
        if inside:
            return inside[0]
        words = text[lo:hi].split()
        first = words[0].casefold().strip("“\"‘’,") if words else ""
        shared_subject = re.search(r"\bthat$", boundary) or (first and first[0].islower() and first not in _DETERMINERS)
        if not shared_subject:
            return None
    return None


def summarise(statements: list[dict[str, Any]]) -> str:
    """One polarity for a holder's statements toward one target in one article (or one period)."""
    weight: Counter[str] = Counter()
    for s in statements:
        weight[s["polarity"]] += s["confidence"]
    pos, neg = weight["support"], weight["oppose"]
    if pos == 0 and neg == 0:
        return "neutral"
    if pos >= 2 * neg:
        return "support"
    if neg >= 2 * pos:
        return "oppose"
    return "mixed"


# -- stages ---------------------------------------------------------------------------------------------
def stances(article: Article, inputs: Mapping[str, Any], settings: Settings) -> StageOutput:
    """Stance statements (holder, target, polarity, evidence offsets, date, confidence) of one article."""
    quotes = inputs.get("quotes", {}).get("quotes", [])
    found = find(article, quotes, date=article.published, embeddings=settings.stance_embeddings)
    per_pair: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for s in found:
        per_pair[(s["holder"], s["target"])].append(s)
    pairs = [{"holder": h, "target": t, "polarity": summarise(rows), "statements": len(rows),
              "confidence": round(max(r["confidence"] for r in rows), 3)} for (h, t), rows in per_pair.items()]
    polarity = Counter(s["polarity"] for s in found)
    summary: dict[str, int | float] = {"stances": len(found), **{p: polarity.get(p, 0) for p in POLARITIES[:3]}}
    payload: dict[str, Any] = {"statements": found, "pairs": pairs}
    if settings.stance_embeddings:
        why = stance_model.embeddings_unavailable()
        payload["embeddings"] = {"used": why is None, "note": f"not used: {why}" if why else
                                 "the classifier read each candidate's all-MiniLM-L6-v2 vector (polarity-v3-embed)"}
    return StageOutput("stances", article.id, payload, summary)


def stance_fingerprint(settings: Settings) -> str:
    """The stances stage re-runs when the embeddings setting changes or the extra appears or goes (empty when off,
    so results stored before the setting existed stay current)."""
    if not settings.stance_embeddings:
        return ""
    return f"stance_embeddings=True;available={stance_model.embeddings_unavailable() is None}"


def _article_date(article_id: str, inputs: dict[str, Any], fallback: str | None) -> tuple[str | None, str]:
    """The ``dates`` stage's date for the article when that stage has run, else the publication date."""
    dates = inputs.get("dates")
    if isinstance(dates, dict):
        for key in ("date", "published", "publication_date", "pubdate"):
            value = dates.get(key)
            if isinstance(value, dict):
                value = value.get("value") or value.get("date")
            if isinstance(value, str) and value:
                return value[:10], "dates"
    return (fallback[:10] if fallback else None), "published"


def _canonical_names(names: set[str]) -> dict[str, str]:
    """Map surname-only names to the corpus's unique full name with that surname."""
    by_last: dict[str, set[str]] = defaultdict(set)
    for n in names:
        if " " in n:
            by_last[n.split()[-1].casefold()].add(n)
    out = {}
    for n in names:
        full = by_last.get(n.casefold()) if " " not in n else None
        out[n] = next(iter(full)) if full and len(full) == 1 else n
    return out


def stance_changes(view: CorpusView, settings: Settings) -> CorpusOutput:
    """Per actor and target: the stance in each article over time, and where it changed."""
    # Given dates first, then the dates the `timeline` stage inferred for undated articles (when it ran).
    inferred = {article_id: payload["published"]["value"] for key, article_id, payload in view.records("timeline")
                if key == "published" and article_id and (payload.get("published") or {}).get("value")}
    published = {a.id: a.published or inferred.get(a.id) for a in view.articles()}
    rows: list[dict[str, Any]] = []
    for article_id, inputs in view.inputs():
        date, date_from = _article_date(article_id, inputs, published.get(article_id))
        for s in inputs["stances"]["statements"]:
            rows.append({**s, "article_id": article_id, "date": date, "date_source": date_from})
    canon = _canonical_names({r["holder"] for r in rows} | {r["target"] for r in rows}
                             | {r["about"] for r in rows if r.get("about")})
    grouped: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        r["holder"], r["target"] = canon[r["holder"]], canon[r["target"]]
        if r.get("about"):  # a proposition about a person: "Corbyn should stay as leader" under the full name
            r["about"] = canon[r["about"]]
            r["target"] = r["concept"] = f"{r['about']} should stay as leader"
        if r["holder"] != r["target"]:
            grouped[(r["holder"], r["target"])][r["article_id"]].append(r)
    actors: list[dict[str, Any]] = []
    for (holder, target), per_article in grouped.items():
        timeline = []
        for article_id, statements in per_article.items():
            timeline.append({"article_id": article_id, "date": statements[0]["date"],
                             "date_source": statements[0]["date_source"], "polarity": summarise(statements),
                             "confidence": round(max(s["confidence"] for s in statements), 3),
                             "evidence": [{k: s[k] for k in ("polarity", "cue", "cue_start", "cue_end",
                                                             "evidence_start", "evidence_end", "source", "confidence")}
                                          for s in statements]})
        timeline.sort(key=lambda t: (t["date"] is None, t["date"] or "", t["article_id"]))
        changes = []
        dated = [t for t in timeline if t["date"]]
        for a, b in zip(dated, dated[1:], strict=False):
            if a["polarity"] != b["polarity"] and "neutral" not in (a["polarity"], b["polarity"]):
                changes.append({"from": a["polarity"], "to": b["polarity"], "from_date": a["date"],
                                "to_date": b["date"], "from_article": a["article_id"], "to_article": b["article_id"]})
        kinds = {t["polarity"] for t in timeline}
        undated = {t["polarity"] for t in timeline if not t["date"]}
        actors.append({"holder": holder, "target": target,
                       "overall": kinds.pop() if len(kinds) == 1 else ("changed" if changes else "mixed"),
                       "articles": len(timeline), "statements": sum(len(t["evidence"]) for t in timeline),
                       "timeline": timeline, "changes": changes,
                       # polarities differ but some articles have no date, so the order is unknown
                       "undated_disagreement": bool(undated) and len({t["polarity"] for t in timeline}) > 1})
    actors.sort(key=lambda a: (-a["statements"], a["holder"], a["target"]))

    def records() -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        for a in actors:
            yield a["holder"], None, a
            for t in a["timeline"]:
                yield a["holder"], t["article_id"], {"target": a["target"], **t}

    summary = {"pairs": len(actors), "statements": len(rows), "changes": sum(len(a["changes"]) for a in actors),
               "top": [{k: a[k] for k in ("holder", "target", "overall", "articles", "changes")} for a in actors[:50]]}
    return CorpusOutput(summary, records())
