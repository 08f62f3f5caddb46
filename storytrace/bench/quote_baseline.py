"""A regex baseline for direct quotations: the floor a real quotation extractor must beat.

It finds text between double quote marks (curly “...” or straight "...") within one paragraph, keeps
quotes of at least ``MIN_WORDS`` words or with a cue beside them, and guesses cue and source from the
words around the marks: ``"...," X said`` / ``"...," said X`` after the quote, ``X said: "..."`` before it.
Nothing else: no indirect speech, no quotes running over paragraphs, no pronoun resolution. It exists to
check the scorer against the issue's figure for such a baseline (about 0.55 lenient F1 on the DIRECT
subset) and to be beaten.
"""

from __future__ import annotations

import re

from storytrace.bench.quote_scoring import SPEECH_VERBS
from storytrace.model import Quote, Span

MIN_WORDS = 4  # shorter quoted text without a cue is mostly scare quotes or titles: "rigged", "Meet the Press"

_QUOTED = re.compile(r"“[^“”\n]+”|\"[^\"\n]+\"")
_VERBS = (r"said|says|say|told|tells|added|adds|asked|wrote|writes|explained|noted|argued|insisted|declared|"
          r"tweeted|replied|responded|stated|continued|warned|claimed|recalled|acknowledged|announced")
_PRONOUN = r"(?:he|she|they|I|we|it|He|She|They|We|It)"
# A speaker noun phrase as journalists write it before a verb: "Clinton", "White House press secretary
# Josh Earnest", "the Vermont senator"; at most seven words, ending in a capitalised word or a noun.
_NP = rf"(?:{_PRONOUN}|(?:(?:the|a|an|The|A|An)\s+)?(?:[\w.’'-]+\s+){{0,6}}?[\w.’'-]*\w)"
_AFTER_NP_VERB = re.compile(rf"[ \t]*(?P<source>{_NP})\s+(?P<cue>{_VERBS})\b")
# After the verb the phrase runs to a comma, full stop or relative clause: "said Sen. Bob Smith, who ...".
_AFTER_VERB_NP = re.compile(rf"[ \t]*(?P<cue>{_VERBS})\s+(?P<source>{_PRONOUN}|(?:[\w.’'-]+\s+){{0,6}}[\w.’'-]*\w)"
                            r"(?=\s*[,.;]|\s+(?:who|of|in|on|at)\b)")
_BEFORE = re.compile(rf"(?P<source>{_NP})\s+(?P<cue>{_VERBS})(?:\s+[\w’'-]+){{0,3}}?\s*[:,]\s*$")
_SENTENCE_END = re.compile(r"[.!?”\"]\s+")
_LEMMAS = {form: lemma for lemma, forms in SPEECH_VERBS.items() for form in forms}
_STARTS_CAPITAL = re.compile(r"^(?:(?:the|a|an)\s|[A-Z])")


def _span(text: str, start: int, end: int) -> Span:
    return Span(start, end, text[start:end])


def _speaker(source: str) -> str | None:
    if re.fullmatch(_PRONOUN, source) or not source[:1].isupper():
        return None
    return source


def _guess(text: str, start: int, end: int) -> tuple[Span | None, Span | None]:
    """Guess (cue, source) for the quote at [start, end) from the words right after or before it."""
    line_end = text.find("\n", end)
    after = text[end:line_end if line_end >= 0 else len(text)]
    for pattern in (_AFTER_VERB_NP, _AFTER_NP_VERB):
        m = pattern.match(after)
        if m and (_STARTS_CAPITAL.match(m["source"]) or re.fullmatch(_PRONOUN, m["source"])):
            return (_span(text, end + m.start("cue"), end + m.end("cue")),
                    _span(text, end + m.start("source"), end + m.end("source")))
    line_start = text.rfind("\n", 0, start) + 1
    window = max(line_start, start - 120)
    for boundary in _SENTENCE_END.finditer(text, window, start):
        window = boundary.end()
    if m := _BEFORE.search(text, window, start):
        return _span(text, m.start("cue"), m.end("cue")), _span(text, m.start("source"), m.end("source"))
    return None, None


def extract(text: str, article_id: str = "") -> list[Quote]:
    """Return the direct quotations of ``text`` with guessed cue and source."""
    quotes: list[Quote] = []
    for match in _QUOTED.finditer(text):
        start, end = match.span()
        cue, source = _guess(text, start, end)
        if cue is None and len(match.group().split()) < MIN_WORDS:
            continue
        quotes.append(Quote(
            article_id=article_id,
            kind="direct",
            content=_span(text, start, end),
            cue=cue,
            cue_lemma=_LEMMAS.get(cue.text, "") if cue else "",
            source=source,
            speaker=_speaker(source.text) if source else None,
            confidence=0.5,
        ))
    return quotes
