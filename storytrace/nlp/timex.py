"""Find time expressions and normalise them TIMEX3-style against a document creation time (DCT).

Two steps, kept apart so that publication-date inference (``pubdate.py``) can reuse the first:

* ``scan(text)`` finds expressions and reads each into a symbolic ``Ref`` ("weekday 3, direction by
  tense", "one day before the anchor", "September, the last one") without any date;
* ``resolve(ref, dct, previous)`` turns a ``Ref`` into a TIMEX3 ``type`` and ``value`` (``2016-07-03``,
  ``2015-09``, ``2016-W26``, ``P3D``, ``XXXX-WXX-1``, ``PRESENT_REF`` ...).

``find(text, dct=...)`` does both, anchoring "the next day" on the date resolved just before it. Bare
weekdays, months and seasons take their direction from the nearest tense cue in the sentence ("comes
out on Wednesday" looks forward, "said on Wednesday" back). Values follow the TimeML 1.2 guidelines as
TimeBank applies them. Offsets are into the text given.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
WEEKDAYS = {"monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6, "sunday": 7,
            "mon": 1, "tue": 2, "tues": 2, "wed": 3, "thu": 4, "thur": 4, "thurs": 4, "fri": 5, "sat": 6, "sun": 7}
SEASONS = {"spring": "SP", "summer": "SU", "autumn": "FA", "fall": "FA", "winter": "WI"}
PARTS = {"morning": "MO", "afternoon": "AF", "evening": "EV", "night": "NI", "tonight": "NI"}
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
UNITS = {"second": "S", "minute": "M", "hour": "H", "day": "D", "week": "W", "month": "M", "year": "Y",
         "decade": "DE", "century": "CE", "quarter": "Q", "weekend": "WE"}
_TIME_UNITS = {"second", "minute", "hour"}

_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|december" \
         r"|jan\.?|feb\.?|mar\.?|apr\.?|jun\.?|jul\.?|aug\.?|sept?\.?|oct\.?|nov\.?|dec\.?)"
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_WORDNUM = r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|six|" \
           r"seven|eight|nine))?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|" \
           r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|a hundred|hundred)"
_NUM = rf"(?:\d+(?:\.\d+)?|{_WORDNUM}|a|an|a few|a couple of|several|many|some)"
_UNIT = r"(?:second|minute|hour|day|week|month|year|decade|century|centuries|quarter|weekend)s?"
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_PART = r"(?:morning|afternoon|evening|night)"
# a year said in words, as broadcast transcripts write it: "nineteen ninety-one", "the year two thousand"
_SPOKEN_YEAR = (
    r"(?:nineteen[- ](?:hundred|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?"
    r"|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
    r"|(?<=the\s)year\s+two\s+thousand(?:\s+and\s+(?:one|two|three|four|five|six|seven|eight|nine|ten))?"
    r"|two\s+thousand(?:\s+and)?\s+(?:one|two|three|four|five|six|seven|eight|nine|ten)"
    r"(?=\s*[,.;]|\s+(?:and|or|when|in|to|the|that|he|she|it|they|we|I)\b))"
)


def spoken_year(text: str) -> int | None:
    """Read "nineteen ninety-one", "year two thousand", "two thousand and two" as a year."""
    words = re.split(r"[-\s]+", text.lower())
    words = [w for w in words if w not in ("the", "year", "and")]
    if words[:2] == ["two", "thousand"]:
        return 2000 + (_ONES.index(words[2]) if len(words) > 2 and words[2] in _ONES else 0)
    if words[:1] != ["nineteen"]:
        return None
    rest = words[1:]
    if rest == ["hundred"]:
        return 1900
    if rest and rest[0] in _ONES:
        return 1900 + _ONES.index(rest[0])
    if rest and rest[0] in _TENS:
        return 1900 + _TENS[rest[0]] + (_ONES.index(rest[1]) if len(rest) > 1 and rest[1] in _ONES else 0)
    return None


def word_number(token: str) -> float | None:
    """Read "3", "twenty-four", "a", "a couple of" as a number; None for vague amounts ("several")."""
    token = token.lower().strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", token):
        return float(token)
    if token in ("a", "an", "one"):
        return 1
    if token in ("a couple of", "couple of"):
        return 2
    if token in ("a hundred", "hundred"):
        return 100
    if token in _ONES:
        return _ONES.index(token)
    parts = re.split(r"[- ]", token)
    if parts[0] in _TENS:
        return _TENS[parts[0]] + (_ONES.index(parts[1]) if len(parts) > 1 and parts[1] in _ONES else 0)
    return None


@dataclass(frozen=True)
class Ref:
    """What an expression says before any date is known."""

    kind: str  # abs | day | weekday | monthday | month | season | unit | prev | quarter | ref
    type: str = "DATE"
    value: str = ""  # for kind "abs": the final value
    n: int = 0  # offset (days or units), weekday number, month number ...
    unit: str = ""
    direction: int = 0  # -1 back, +1 forward, 0 by tense (filled by scan from the sentence)
    day: int = 0
    year: int = 0
    weekday: int = 0
    part: str = ""  # MO AF EV NI
    clock: str = ""  # "T15:30"
    mod: str = ""
    by_tense: bool = False  # direction read from the sentence's tense, not said ("next", "last")


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    text: str
    ref: Ref


@dataclass(frozen=True)
class Timex:
    """One normalised time expression with its offsets and the anchor its value was resolved against."""

    start: int
    end: int
    text: str
    type: str  # DATE | TIME | DURATION | SET
    value: str
    anchor: str = ""  # "dct", "previous" (the date resolved before it), or "" (absolute / no anchor needed)
    anchor_value: str = ""
    mod: str = ""
    relative: bool = False  # the value depends on the anchor
    ref: Ref = field(default=Ref("abs"), compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = {"start": self.start, "end": self.end, "text": self.text, "type": self.type, "value": self.value,
                "anchor": self.anchor, "anchor_value": self.anchor_value}
        if self.mod:
            data["mod"] = self.mod
        return data


# -- patterns: (regex, reader, gate) in priority order; longer matches win over shorter overlapping ones --------
_Reader = Callable[[re.Match[str]], "Ref | None"]
_PATTERNS: list[tuple[re.Pattern[str], _Reader, re.Pattern[str] | None]] = []


def _pattern(regex: str, *, gate: str | None = None) -> Callable[[_Reader], _Reader]:
    """Register a pattern. ``gate``: a cheap regex that every text the pattern can match also matches (a word the
    pattern cannot match without); ``scan`` skips the pattern on texts without it. Patterns that start with
    optional number words ("a", "some", "several" ...) cost the regex engine a try at every word, so a gate
    saves most of their cost on the texts that lack their one rare word; the output is the same."""
    def register(fn: _Reader) -> _Reader:
        _PATTERNS.append((re.compile(regex, re.IGNORECASE), fn,
                          re.compile(gate, re.IGNORECASE) if gate is not None else None))
        return fn

    return register


def _month(token: str) -> int:
    return MONTHS[token.lower().rstrip(".")]


def _int_day(token: str) -> int:
    return int(re.match(r"\d+", token).group())  # type: ignore[union-attr]


@_pattern(rf"\b(?:(?P<wd>{_WEEKDAY}),?\s+)?(?:the\s+)?(?P<d>{_DAY})(?:\s+of)?\s+(?P<m>{_MONTH})(?:,?\s+(?P<y>{_YEAR}))?\b"
          rf"|\b(?:(?P<wd2>{_WEEKDAY}),?\s+)?(?P<m2>{_MONTH})\s+(?P<d2>{_DAY})(?!\d)(?:,?\s+(?P<y2>{_YEAR}))?\b(?!:\d)")
def _full_date(m: re.Match[str]) -> Ref | None:
    month = _month(m["m"] or m["m2"])
    day = _int_day(m["d"] or m["d2"])
    year = m["y"] or m["y2"]
    wd = m["wd"] or m["wd2"]
    if (m["m2"] or "").lower() == "may" and not m["m2"][0].isupper():
        return None
    if year:
        return Ref("abs", value=f"{int(year):04d}-{month:02d}-{day:02d}")
    return Ref("monthday", n=month, day=day, weekday=WEEKDAYS[wd.lower()] if wd else 0)


@_pattern(r"\b(?P<y>(?:19|20)\d\d)-(?P<m>0[1-9]|1[0-2])-(?P<d>[0-3]\d)\b")
def _iso(m: re.Match[str]) -> Ref:
    return Ref("abs", value=f"{m['y']}-{m['m']}-{m['d']}")


@_pattern(r"\b(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])/(?P<y>(?:19|20)?\d\d)\b")
def _slashed(m: re.Match[str]) -> Ref:
    year = int(m["y"])
    year = year + (1900 if year > 30 else 2000) if year < 100 else year
    return Ref("abs", value=f"{year:04d}-{int(m['m']):02d}-{int(m['d']):02d}")


@_pattern(rf"\b(?:(?:early|late|mid|the\s+end\s+of|the\s+beginning\s+of|the\s+start\s+of|the\s+middle\s+of)[-\s]+)?"
          rf"(?P<m>{_MONTH})(?:,?\s+(?:of\s+)?(?P<y>{_YEAR}))\b")
def _month_year(m: re.Match[str]) -> Ref | None:
    if m["m"].lower() == "may" and not m["m"][0].isupper():
        return None
    return Ref("abs", value=f"{m['y']}-{_month(m['m']):02d}", mod=_mod(m.group()))


@_pattern(rf"\b(?:(?P<rel>last|next|this|past|coming)\s+|(?P<pre>early|late|mid)[-\s]+)?(?P<m>{_MONTH})(?![\w-])"
          r"(?:,?\s+(?:of\s+)?(?P<ry>last|this|next)\s+year\b)?")
def _month_alone(m: re.Match[str]) -> Ref | None:
    token = m["m"]
    if token.lower().rstrip(".") in ("mar", "jan", "jun", "jul", "oct", "sep", "sept", "dec", "nov", "feb", "apr",
                                     "aug") and not token.endswith(".") and len(token) < 4:
        return None
    if not token[0].isupper():
        return None
    if token.lower() == "may" and not m["rel"] and not m["pre"]:
        before = m.string[max(0, m.start() - 12):m.start()].lower()
        if not re.search(r"\b(?:in|since|by|until|of|from|to|early|late|mid|during)\s+$", before):
            return None
    if token.lower() in ("march",) and not m["rel"] and not m["pre"]:
        before = m.string[max(0, m.start() - 12):m.start()].lower()
        if not re.search(r"\b(?:in|since|by|until|of|from|to|during|and|or)\s+$", before):
            return None
    rel = (m["rel"] or "").lower()
    direction = {"last": -1, "past": -1, "next": 1, "coming": 1, "this": 0}.get(rel, 0)
    if m["ry"]:  # "June last year", "January this year": that month of that year
        return Ref("month", n=_month(token), unit="rel-year", year={"last": -1, "this": 0, "next": 1}[m["ry"].lower()],
                   direction=2, mod=_mod(m.group()))
    return Ref("month", n=_month(token), direction=direction if rel != "this" else 2, mod=_mod(m.group()))


def _mod(text: str) -> str:
    low = text.lower()
    if low.startswith(("early", "the beginning", "the start")):
        return "START"
    if low.startswith(("late", "the end")):
        return "END"
    if low.startswith(("mid", "the middle")):
        return "MID"
    return ""


@_pattern(rf"\b(?:(?P<pre>early|late|mid)[-\s]+)?(?P<y>{_YEAR})(?!\s*(?:[-–]\s*\d|per|%|pounds|tons|people|jobs))"
          r"(?P<s>'?s)?(?![\d,.]\d)\b")
def _year(m: re.Match[str]) -> Ref | None:
    before = m.string[max(0, m.start() - 2):m.start()]
    if re.search(r"[$£€#]\s?$", before):
        return None
    if m["s"] and m["s"].lower() in ("s", "'s") and m["s"] == "s":
        return Ref("abs", value=m["y"][:3], mod=_mod(m.group()))
    return Ref("abs", value=m["y"], mod=_mod(m.group()))


@_pattern(r"\b(?:the\s+)?(?:(?P<pre>early|late|mid)[-\s]+)?(?:'|19)?(?P<d>[2-9]0)'?s\b", gate=r"0'?s")
def _decade(m: re.Match[str]) -> Ref | None:
    if not re.search(r"'|19|the", m.group(), re.IGNORECASE):
        return None
    return Ref("abs", value=f"19{m['d'][0]}", mod=_mod(m.group()))


@_pattern(rf"\b(?:the\s+)?{_SPOKEN_YEAR}\b", gate=r"nineteen|thousand")
def _spoken_year(m: re.Match[str]) -> Ref | None:
    year = spoken_year(m.group())
    return Ref("abs", value=f"{year:04d}") if year else None


@_pattern(r"\b(?P<w>today|yesterday|tomorrow|tonight)(?:'s)?\b")
def _deictic(m: re.Match[str]) -> Ref:
    w = m["w"].lower()
    if w == "tonight":
        return Ref("day", type="TIME", n=0, part="NI")
    return Ref("day", n={"today": 0, "yesterday": -1, "tomorrow": 1}[w])


@_pattern(r"\bthe\s+day\s+(?P<rel>before|after)\s+(?P<w>yesterday|tomorrow)\b")
def _two_days(m: re.Match[str]) -> Ref:
    return Ref("day", n=-2 if m["w"].lower() == "yesterday" else 2)


@_pattern(rf"\b(?P<w>yesterday|tomorrow|this|last|early\s+this|late\s+this)\s+(?P<p>{_PART})\b")
def _deictic_part(m: re.Match[str]) -> Ref:
    w = m["w"].lower().split()[-1]
    part = PARTS[m["p"].lower()]
    n = {"yesterday": -1, "tomorrow": 1, "this": 0, "last": -1 if part == "NI" else 0}[w]
    return Ref("day", type="TIME", n=n, part=part)


@_pattern(rf"\b(?:(?P<rel>last|next|this|coming|past)\s+)?(?P<wd>{_WEEKDAY})(?:\s+(?P<p>{_PART}))?(?:'s)?\b")
def _weekday(m: re.Match[str]) -> Ref:
    rel = (m["rel"] or "").lower()
    direction = {"last": -1, "past": -1, "next": 1, "coming": 1, "this": 0}.get(rel, 0)
    # TimeML puts the part of the day in the value ("Friday evening" = ...TEV); TimeBank does so for
    # evenings, and only now and then for mornings and nights, which are left as the date.
    part = PARTS[m["p"].lower()] if m["p"] and m["p"].lower() in ("evening",) else ""
    return Ref("weekday", type="TIME" if part else "DATE", n=WEEKDAYS[m["wd"].lower()], direction=direction,
               part=part)


@_pattern(r"\b(?P<rel>last|next|this|the\s+past|the\s+coming|the\s+previous|the\s+following|the\s+same|that|"
          r"earlier\s+this|later\s+this)\s+(?P<u>week|month|year|weekend|quarter|decade|century|day|spring|summer|"
          r"autumn|fall|winter)\b")
def _relative_unit(m: re.Match[str]) -> Ref:
    rel = m["rel"].lower()
    unit = m["u"].lower()
    anchor_prev = rel.startswith(("the previous", "the following", "the same", "that"))
    n = -1 if rel.endswith(("last", "past", "previous")) else 1 if rel.endswith(("next", "coming", "following")) else 0
    if unit in SEASONS:
        return Ref("season", value=SEASONS[unit], direction=n if n else 2)
    if unit == "quarter" and rel not in ("last", "next", "the previous", "the following"):
        return Ref("quarter", n=0)
    if rel in ("the past", "the coming") and unit not in ("weekend",):
        return Ref("abs", type="DURATION", value={"quarter": "P3M", "decade": "P10Y"}.get(unit, f"P1{UNITS[unit]}"))
    return Ref("prev" if anchor_prev else "unit", n=n, unit=unit)


@_pattern(rf"\b(?P<rel>the\s+(?:past|last|next|coming|previous|following|first|latest))\s+(?P<n>{_NUM}|few|couple\s+of)\s+"
          rf"(?P<u>{_UNIT})\b")
def _past_n_units(m: re.Match[str]) -> Ref:
    return _duration(m["n"], m["u"], "")


@_pattern(rf"\b(?:(?P<q>about|around|nearly|almost|more\s+than|less\s+than|over|some|at\s+least|roughly)\s+)?"
          rf"(?P<n>{_NUM})\s+(?P<u>{_UNIT})(?:\s+or\s+so)?\s+(?P<rel>ago|earlier|later|from\s+now|hence)\b",
          gate=r"ago|earlier|later|now|hence")
def _ago(m: re.Match[str]) -> Ref | None:
    if m["u"].lower().startswith("year") and m["n"].lower() in ("a", "one") and _FINANCIAL.search(
            m.string[max(0, m.start() - 400):m.start()]):
        return Ref("unit", n=-int(word_number(m["n"]) or 1), unit="quarter-year")
    n = word_number(m["n"])
    unit = m["u"].lower().rstrip("s")
    unit = "century" if unit.startswith("centur") else unit
    rel = m["rel"].lower()
    if n is None or n != int(n):
        return Ref("ref", value="PAST_REF" if rel in ("ago", "earlier", "before") else "FUTURE_REF")
    sign = -1 if rel in ("ago", "earlier", "before") else 1
    kind = "prev" if rel in ("earlier", "later", "before", "after") else "unit"
    return Ref(kind, n=sign * int(n), unit=unit, type="TIME" if unit in _TIME_UNITS else "DATE")


@_pattern(rf"\b(?:(?P<q>about|around|nearly|almost|more\s+than|less\s+than|over|under|at\s+least|up\s+to|some|"
          rf"roughly|approximately)\s+)?(?P<n>{_NUM})[-\s](?:(?:more|additional|extra|trading|business|working|calendar)\s+)?"
          rf"(?P<u>{_UNIT})(?:[-\s]long)?\b(?![-\s]old)")
def _duration_n(m: re.Match[str]) -> Ref | None:
    if m["n"].lower() in ("some",) and not m["u"].lower().endswith("s"):
        return None
    return _duration(m["n"], m["u"], (m["q"] or "").lower())


_QUAL = {"about": "APPROX", "around": "APPROX", "nearly": "EQUAL_OR_LESS", "almost": "EQUAL_OR_LESS",
         "roughly": "APPROX", "approximately": "APPROX", "some": "APPROX",
         "more than": "MORE_THAN", "over": "MORE_THAN", "less than": "LESS_THAN", "under": "LESS_THAN",
         "at least": "EQUAL_OR_MORE", "up to": "EQUAL_OR_LESS"}


_FRACTIONS = {"1/2": 0.5, "1/4": 0.25, "3/4": 0.75, "half": 0.5}
# a fraction of a unit written in the next smaller one: "2 1/2 years" = P2Y6M, "a minute and a half" = PT1M30S
_SMALLER = {"year": (12, "M", False), "month": (30, "D", False), "day": (24, "H", True), "hour": (60, "M", True),
            "minute": (60, "S", True)}


@_pattern(rf"\b(?:(?P<q>about|around|nearly|almost|more\s+than|less\s+than|over|under|at\s+least|up\s+to|some|"
          rf"roughly|approximately)\s+)?(?:(?P<n>{_NUM})(?:\s+(?P<f>[13]/[24])|[-\s]and[-\s]a[-\s]half)[-\s]"
          rf"(?P<u>{_UNIT})|(?P<n2>{_NUM})\s+(?P<u2>{_UNIT})\s+and\s+a\s+half)\b", gate=r"half|[13]/[24]")
def _duration_fraction(m: re.Match[str]) -> Ref | None:
    num, unit = m["n"] or m["n2"], m["u"] or m["u2"]
    whole = word_number(num)
    if whole is None or whole != int(whole):
        return None
    ref = _duration(num, unit, (m["q"] or "").lower())
    base = "century" if unit.lower().startswith("centur") else unit.lower().rstrip("s")
    if base not in _SMALLER:
        return ref
    factor, code, timed = _SMALLER[base]
    part = round(_FRACTIONS[m["f"] or "half"] * factor)
    if base in ("hour", "minute"):
        return _replace(ref, value=f"{ref.value}{part}{code}")
    return _replace(ref, value=f"{ref.value}{'T' if timed else ''}{part}{code}")


def _duration(num: str, unit_token: str, qual: str) -> Ref:
    unit = unit_token.lower()
    unit = "century" if unit.startswith("centur") else unit.rstrip("s")
    n = word_number(num)
    mod = _QUAL.get(re.sub(r"\s+", " ", qual), "")
    if unit == "decade" and n is not None:  # TimeBank writes decades in years: "two decades" = P20Y
        unit, n = "year", n * 10
    if unit == "quarter":
        code = "M"
        n = None if n is None else n * 3
    elif unit == "weekend":
        code = "WE"
    else:
        code = UNITS[unit]
    amount = "X" if n is None else (str(int(n)) if n == int(n) else str(n))
    if num.lower() == "a couple of":
        mod = mod or "APPROX"
    prefix = "PT" if unit in _TIME_UNITS else "P"
    return Ref("abs", type="DURATION", value=f"{prefix}{amount}{code}", mod=mod)


@_pattern(r"\bthe\s+current\s+(?P<u>year|month|week|quarter)\b", gate=r"current")
def _current_unit(m: re.Match[str]) -> Ref:
    """"the current year", "the current quarter": the DCT's own (the quarter under way, not the last reported)."""
    return Ref("unit", n=0, unit=m["u"].lower())


@_pattern(r"\b(?:the\s+)?(?P<w>latest|year-earlier|year-ago|current)\s+(?:quarter|period)\b|\b(?P<w2>year-earlier)\b"
          r"|\bthe\s+(?P<q>quarter)\b(?!\s+(?:ended|ending|to)\b)", gate=r"quarter|period|year-earlier")
def _fin_period(m: re.Match[str]) -> Ref:
    if (m["w"] or "").lower() in ("latest", "current") or m["q"]:
        return Ref("quarter", n=0)
    return Ref("unit", n=-1, unit="quarter-year")


@_pattern(r"\bthe\s+(?:(?P<full>full|fiscal|whole|entire)\s+)?(?P<u>year|week)(?P<s>'s)?\b(?!-|\s+(?:two\s+thousand|"
          r"earlier|ago|before|after|of|in|following|\d))")
def _the_year(m: re.Match[str]) -> Ref | None:
    """"for the year", "the full year", "the week's most active session": the current one in a results
    report; "the year ended Sept. 30" is a length (P1Y)."""
    after = m.string[m.end():m.end() + 12].lower()
    if m["u"].lower() == "week":
        return Ref("unit", n=0, unit="week-unspecified") if not m["full"] else None
    if re.match(r"\s+(?:ended|ending|to\s+\w+\s+\d)", after):
        return Ref("abs", type="DURATION", value="P1Y")
    return Ref("unit", n=0, unit="year")


_HOLIDAYS = {"christmas day": (12, 25), "christmas eve": (12, 24), "christmas": (12, 25), "new year's day": (1, 1),
             "new year's eve": (12, 31), "independence day": (7, 4), "halloween": (10, 31), "valentine's day": (2, 14),
             "thanksgiving day": (11, 0), "thanksgiving": (11, 0), "boxing day": (12, 26)}


@_pattern(r"\b(?P<w>christmas\s+(?:day|eve)|christmas|new\s+year's\s+(?:day|eve)|independence\s+day|halloween|"
          r"valentine's\s+day|thanksgiving(?:\s+day)?|boxing\s+day)\b",
          gate=r"christmas|year's|independence|halloween|valentine's|thanksgiving|boxing")
def _holiday(m: re.Match[str]) -> Ref:
    month, day = _HOLIDAYS[re.sub(r"\s+", " ", m["w"].lower())]
    return Ref("monthday", n=month, day=day)


_FINANCIAL = re.compile(r"\b(?:quarter|a share|net income|earnings|revenue|sales|profit)\b", re.IGNORECASE)


def _sentence(text: str, pos: int) -> str:
    left = max(text.rfind(". ", 0, pos), text.rfind("\n", 0, pos), 0)
    right = text.find(". ", pos)
    return text[left:right if right != -1 else len(text)]


@_pattern(r"\b(?:for|over|in|within)\s+(?P<u>years|months|weeks|days|decades|hours|minutes|centuries)\b")
def _vague_duration(m: re.Match[str]) -> Ref:
    unit = m["u"].lower()
    unit = "century" if unit.startswith("centur") else unit.rstrip("s")
    return Ref("abs", type="DURATION", value=("PTX" if unit in _TIME_UNITS else "PX") + UNITS[unit])


@_pattern(r"\b(?P<w>now|currently|nowadays|the\s+present|at\s+present|these\s+days|recently|lately|the\s+past|"
          r"the\s+future|future|current|recent\s+(?:years|months|weeks|days|quarters)|recent|in\s+the\s+future|former(?:ly)?|once|"
          r"earlier|previously|eventually|shortly|immediately|the\s+moment)\b")
def _reference(m: re.Match[str]) -> Ref | None:
    w = re.sub(r"\s+", " ", m["w"].lower())
    if w in ("former", "formerly", "once", "earlier", "previously", "eventually", "shortly", "immediately",
             "the moment", "lately"):
        return None
    if w in ("now", "current", "currently", "nowadays", "the present", "at present", "these days"):
        return Ref("ref", value="PRESENT_REF")
    if w == "recent" and re.match(r"\s+(?:years|months|weeks|days)", m.string[m.end():]):
        return None
    if w == "recent" and not re.match(r"\s*[,.;]|\s+(?:and|or)\b", m.string[m.end():]):
        return None
    if w in ("future",) and not re.search(r"\b(?:the|in|near)\s+$", m.string[max(0, m.start() - 6):m.start()]):
        return None
    if w in ("the future", "in the future", "future"):
        return Ref("ref", value="FUTURE_REF")
    if w.startswith("recent "):
        unit = w.split()[1].rstrip("s")
        return Ref("abs", type="DURATION", value="PXM" if unit == "quarter" else "PX" + UNITS[unit])
    return Ref("ref", value="PAST_REF")


@_pattern(r"\b(?P<w>daily|weekly|monthly|annually|yearly|hourly|nightly)\b")
def _set_adverb(m: re.Match[str]) -> Ref:
    w = m["w"].lower()
    value = {"daily": "P1D", "weekly": "P1W", "monthly": "P1M", "annually": "P1Y", "yearly": "P1Y",
             "quarterly": "P3M", "hourly": "PT1H", "nightly": "P1D"}[w]
    return Ref("abs", type="SET", value=value)


@_pattern(rf"\b(?:every|each|a|per)\s+(?:(?P<wd>{_WEEKDAY})|(?P<u>day|week|month|year|hour|minute|night|"
          rf"morning|evening|weekend|quarter|decade))\b")
def _set(m: re.Match[str]) -> Ref | None:
    if m["wd"]:
        return Ref("abs", type="SET", value=f"XXXX-WXX-{WEEKDAYS[m['wd'].lower()]}")
    unit = m["u"].lower()
    before = m.string[max(0, m.start() - 12):m.start()]
    if m.group().lower().startswith("a ") and before.strip() and not re.search(
            r"(?:\d|times|once|twice|percent|%)\s*$", before):
        return None
    value = {"night": "P1D", "morning": "P1D", "evening": "P1D", "weekend": "P1WE", "quarter": "P3M",
             "decade": "P10Y"}.get(unit) or ("PT1" if unit in ("hour", "minute") else "P1") + UNITS[unit]
    return Ref("abs", type="SET", value=value)


@_pattern(rf"\b(?P<h>1[0-2]|0?[1-9])(?::(?P<mi>[0-5]\d))?\s*(?P<ap>(?-i:[ap]\.?\s?m\.?|[AP]\.M\.|[AP]M\b)|o'clock)"
          rf"(?:\s+(?P<z>[A-Z]{{2,4}}T))?(?:\s+(?:on\s+)?(?P<wd>{_WEEKDAY}|today|yesterday|tomorrow))?")
def _clock(m: re.Match[str]) -> Ref:
    hour = int(m["h"]) % 12 + (12 if m["ap"].lower().startswith("p") else 0)
    if m["ap"].lower() == "o'clock":
        hour = int(m["h"])
    return _clock_ref(f"T{hour:02d}:{int(m['mi'] or 0):02d}", m["wd"])


def _clock_ref(clock: str, day_word: str | None) -> Ref:
    """A clock time on a named day; with no day named, on the day last talked about (else the DCT)."""
    wd = (day_word or "").lower()
    if wd in WEEKDAYS:
        return Ref("weekday", type="TIME", n=WEEKDAYS[wd], clock=clock)
    if wd:
        return Ref("day", type="TIME", n={"yesterday": -1, "tomorrow": 1}.get(wd, 0), clock=clock)
    return Ref("prev", type="TIME", n=0, unit="day", clock=clock)


_HOURS = {w: i for i, w in enumerate(_ONES) if 1 <= i <= 12}


@_pattern(r"\b(?P<h>1[0-2]|0?[1-9]|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)(?:\s+o'clock)?\s+"
          r"in\s+the\s+(?P<p>morning|afternoon|evening)\b", gate=r"morning|afternoon|evening")
def _clock_in_the(m: re.Match[str]) -> Ref:
    """"4 in the morning", "six in the evening": a clock time on the day last talked about."""
    hour = int(m["h"]) if m["h"].isdigit() else _HOURS[m["h"].lower()]
    hour = hour % 12 + (12 if m["p"].lower() != "morning" else 0)
    return _clock_ref(f"T{hour:02d}:00", None)


@_pattern(r"\b(?:mid-?\s?)?(?P<p>morning|afternoon|evening)\s+(?P<w>yesterday|today|tomorrow)\b"
          r"|\bmid-?\s?(?P<p2>morning|afternoon)\b", gate=r"morning|afternoon|evening")
def _part_of_day(m: re.Match[str]) -> Ref:
    """"mid-afternoon yesterday", "morning today"; "mid-afternoon" alone is on the day last talked about."""
    part = PARTS[(m["p"] or m["p2"]).lower()]
    if m["w"]:
        return Ref("day", type="TIME", n={"yesterday": -1, "today": 0, "tomorrow": 1}[m["w"].lower()], part=part)
    return Ref("prev", type="TIME", n=0, unit="day", part=part)


@_pattern(rf"\b(?P<w>noon|midnight|midday)(?:\s+(?:on\s+)?(?P<wd>{_WEEKDAY}|today|yesterday|tomorrow)\b)?",
          gate=r"noon|midnight|midday")
def _noon(m: re.Match[str]) -> Ref:
    return _clock_ref("T24:00" if m["w"].lower() == "midnight" else "T12:00", m["wd"])


@_pattern(r"\b(?:the\s+)?(?P<o>first|second|third|fourth|1st|2nd|3rd|4th)[-\s]quarter(?:\s+of\s+(?P<y>(?:19|20)\d\d))?\b"
          r"|\b(?P<y2>(?:19|20)\d\d)\s+(?P<o2>first|second|third|fourth)\s+quarter\b", gate=r"quarter")
def _quarter(m: re.Match[str]) -> Ref:
    o = (m["o"] or m["o2"]).lower()
    q = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}[o]
    year = m["y"] or m["y2"]
    if year:
        return Ref("abs", value=f"{year}-Q{q}")
    return Ref("quarter", n=q)


@_pattern(r"\b(?:(?P<rel>this|last|next)\s+year's|the\s+(?P<ago>year-ago|year-earlier))\s+"
          r"(?P<o>first|second|third|fourth)[-\s]quarter\b")
def _quarter_of_relative_year(m: re.Match[str]) -> Ref:
    q = {"first": 1, "second": 2, "third": 3, "fourth": 4}[m["o"].lower()]
    offset = -1 if m["ago"] else {"this": 0, "last": -1, "next": 1}[m["rel"].lower()]
    return Ref("quarter", n=q, unit="rel-year", year=offset)


@_pattern(r"\b(?:last\s+year's|the\s+(?:corresponding|comparable|same)\s+(?:period|quarter)\s+(?:of\s+)?last\s+year"
          r"|the\s+(?P<y>(?:19|20)\d\d))\s+(?:quarter|period)\b|\bthe\s+(?:corresponding|comparable|same)\s+"
          r"(?:period|quarter)\s+(?:of\s+)?last\s+year\b")
def _quarter_last_year(m: re.Match[str]) -> Ref:
    """"last year's quarter", "the corresponding period last year", "the 1988 quarter": the quarter reported
    on, in that year."""
    if m["y"] and m.group().lower().endswith("period"):
        return Ref("abs", value=m["y"])  # TimeBank: "the 1988 period" is the year
    if m["y"]:
        return Ref("quarter", n=0, unit="in-year", year=int(m["y"]))
    return Ref("unit", n=-1, unit="quarter-year")


@_pattern(r"\b(?:the\s+)?(?P<rel>this|last|next|past)?\s*(?P<s>spring|summer|autumn|fall|winter)(?:\s+(?:of\s+)?"
          rf"(?P<y>(?:19|20)\d\d|{_SPOKEN_YEAR}))?\b", gate=r"spring|summer|autumn|fall|winter")
def _season(m: re.Match[str]) -> Ref | None:
    if m["s"].lower() == "fall" and not (m["rel"] or m["y"] or re.search(r"\b(?:the|in|this|last|next)\s+$",
                                                                        m.string[max(0, m.start() - 6):m.start()])):
        return None
    if m["y"]:
        year = int(m["y"]) if m["y"].isdigit() else spoken_year(m["y"])
        return Ref("abs", value=f"{year:04d}-{SEASONS[m['s'].lower()]}")
    rel = (m["rel"] or "").lower()
    return Ref("season", value=SEASONS[m["s"].lower()],
               direction={"last": -1, "past": -1, "next": 1, "this": 2}.get(rel, 0))


@_pattern(r"\b(?:the\s+)?(?P<rel>next|following|previous|same)\s+(?P<u>day|morning|evening|night|week|month|year)\b"
          r"|\b(?P<that>that|the\s+same)\s+(?P<u2>day|morning|evening|night)\b")
def _anaphoric(m: re.Match[str]) -> Ref:
    unit = (m["u"] or m["u2"]).lower()
    rel = (m["rel"] or "same").lower()
    n = {"next": 1, "following": 1, "previous": -1, "same": 0}[rel]
    if unit in PARTS:
        return Ref("prev", type="TIME", n=n, unit="day", part=PARTS[unit])
    return Ref("prev", n=n, unit=unit)


_ORDINAL_WORDS = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)"


def scan(text: str) -> list[Found]:
    """Find every time expression; overlapping candidates resolve to the longest.

    The ``dates`` stage scans each article twice (publication-date inference, then the timeline's ``find``), so
    the last few texts' results are kept (``Found`` is frozen; each caller gets its own list).
    """
    return list(_scan(text))


@lru_cache(maxsize=4)
def _scan(text: str) -> tuple[Found, ...]:
    candidates: list[Found] = []
    for regex, reader, gate in _PATTERNS:
        if gate is not None and gate.search(text) is None:
            continue
        for m in regex.finditer(text):
            ref = reader(m)
            if ref is None:
                continue
            start, end = m.start(), m.end()
            while end > start and text[end - 1] in " ,.":
                if text[end - 1] == "." and re.search(r"(?:[ap]\.m|\b[A-Z][a-z]{2})\.$", text[start:end]):
                    break
                end -= 1
            candidates.append(Found(start, end, text[start:end], ref))
    candidates.sort(key=lambda f: (f.start, -(f.end - f.start)))
    chosen: list[Found] = []
    last_end = -1
    for f in sorted(candidates, key=lambda f: -(f.end - f.start)):
        if any(f.start < c.end and c.start < f.end for c in chosen):
            continue
        chosen.append(f)
    chosen.sort(key=lambda f: f.start)
    del last_end
    out = []
    for f in chosen:
        direction = f.ref.direction
        if f.ref.kind in ("weekday", "month", "season", "monthday", "quarter") and direction == 0:
            direction, distance = tense(text, f.start, f.end)
            if f.ref.kind in ("month", "weekday") and _DEADLINE.search(text, max(0, f.start - 12), f.start):
                direction = 1  # "by February", "until mid-November": a deadline ahead
            elif f.ref.kind == "month" and distance == 10**6:
                direction = 0  # a bare month with no tense cue in its sentence: the nearest one is meant
            f = Found(f.start, f.end, f.text, _replace(f.ref, direction=direction, by_tense=True))
        out.append(f)
    return tuple(out)


def _replace(ref: Ref, **changes: Any) -> Ref:
    data = dict(ref.__dict__)
    data.update(changes)
    return Ref(**data)


_DEADLINE = re.compile(r"\b(?:by|until|till)\s+$", re.IGNORECASE)
_FUTURE = re.compile(
    r"\b(?<!had\sbeen\s)(?:(?:is|are)\s+(?:expected|scheduled|planned|due)|"
    r"will|won't|wo n't|'ll|shall|going\s+to|expected\s+to|due\s+to|set\s+to|plans?\s+to|planned|scheduled|"
    r"intends?\s+to|planning\s+to|(?:decided|agreed|agreement|expects?|offered|proposed|promised|seeks?|sought)\s+to|would|comes?\s+out|as\s+(?:soon|early)\s+as|is\s+to|are\s+to|begins?|starts?|opens?|meets?|takes?\s+place|tomorrow|"
    r"next|upcoming|coming|hopes?\s+to|aims?\s+to)\b", re.IGNORECASE)
_PAST = re.compile(r"\b(?:said|says|(?:was|were)(?!\s+(?:going|planning|expected|due|scheduled|set)\s+to\b)|"
                   r"had|did|told|ago|last|yesterday|earlier|announced|reported|"
                   r"won(?!'t)|lost|met|left|took|gave|came|went|made|held|began|became|saw|spoke|wrote|sent|led|ran|fell|rose|paid|"
                   r"brought|thought|found|got|kept|quit|sold|bought|struck|had\s+been\s+(?:due|scheduled|set|expected|planned)\s+to|"
                   # a participle after "be" is a passive of any tense ("will be named", "to be published");
                   # a capitalised "-ed" word is a name ("United")
                   r"(?<!\bbe\s)(?<!\bis\s)(?<!\bare\s)(?!need|feed|seed|speed|proceed|exceed|succeed)(?-i:[a-z]\w{2,}ed))"
                   r"\b(?!\s+to\b)", re.IGNORECASE)


_REPORTING = re.compile(r"(?:said|says|told|announced|reported)$", re.IGNORECASE)
_CLAUSE_END = re.compile(r"\s*(?:[.,;]|$|on\s|\w+day\b)", re.IGNORECASE)


def tense(text: str, start: int, end: int) -> tuple[int, int]:
    """Return (+1 or -1, distance): whether the nearest tense cue in the sentence points forward or back."""
    left = max(text.rfind(". ", 0, start), text.rfind("\n", 0, start), start - 150)
    right_candidates = [i for i in (text.find(". ", end), text.find("\n", end)) if i != -1]
    right = min([*right_candidates, end + 150])
    best: tuple[int, int] | None = None
    for regex, sign in ((_FUTURE, 1), (_PAST, -1)):
        for m in regex.finditer(text, left + 1, right):
            if start <= m.start() < end:
                continue
            if (m.start() >= end and _REPORTING.match(m.group()) and "," in text[end:m.start()]
                    and _CLAUSE_END.match(text, m.end())):
                continue  # "... in early March, an official said.": the report's tense, not the event's
            distance = start - m.end() if m.end() <= start else m.start() - end
            # A cue before the expression binds more closely than one after it at the same distance.
            distance += 0 if m.end() <= start else 8
            if best is None or distance < best[0]:
                best = (distance, sign)
    return (best[1], best[0]) if best else (-1, 10**6)


# -- resolution ------------------------------------------------------------------------------------------------
def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + n
    return total // 12, total % 12 + 1


def _season_of(day: date) -> str:
    return {12: "WI", 1: "WI", 2: "WI", 3: "SP", 4: "SP", 5: "SP", 6: "SU", 7: "SU", 8: "SU"}.get(day.month, "FA")


_SEASON_ORDER = ["WI", "SP", "SU", "FA"]


def weekday_date(dct: date, weekday: int, direction: int) -> date:
    """The day of ``weekday`` nearest ``dct`` in ``direction`` (the DCT itself counts when looking back)."""
    delta = weekday - dct.isoweekday()
    if direction > 0:
        return dct + timedelta(days=delta if delta > 0 else delta + 7)
    if direction == 0:  # "this Monday": the one in the DCT's week
        return dct + timedelta(days=delta)
    return dct + timedelta(days=delta if delta <= 0 else delta - 7)


def _date_of(value: str) -> date | None:
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)", value)
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def resolve(ref: Ref, dct: date | None, previous: date | None = None,
            quarter: str = "") -> tuple[str, str, str]:
    """Return (type, value, anchor) for ``ref``; anchor is "dct", "previous" or "".

    ``quarter`` is the last quarter named before the expression ("1989-Q1" for "the fiscal first quarter"):
    in results reports "the quarter", "the latest period" and "a year earlier" refer to it.
    """
    if ref.kind == "abs":
        return ref.type, ref.value, ""
    if ref.kind == "ref":
        return "DATE", ref.value, "dct"
    anchor, base = ("previous", previous) if ref.kind == "prev" and previous is not None else ("dct", dct)
    if base is None:
        return ref.type, _unresolved(ref), ""
    suffix = ref.clock or (f"T{ref.part}" if ref.part else "")
    if ref.kind == "day":
        return ref.type, (base + timedelta(days=ref.n)).isoformat() + suffix, anchor
    if ref.kind == "weekday":
        if ref.by_tense and ref.n == base.isoweekday():
            # "said Thursday" / "later Thursday" in a Thursday paper: that day, whatever the tense cue
            return ref.type, base.isoformat() + suffix, anchor
        if ref.direction < 0 and ref.n == base.isoweekday():  # "last Wednesday" in a Wednesday paper
            return ref.type, (base - timedelta(days=7)).isoformat() + suffix, anchor
        return ref.type, weekday_date(base, ref.n, ref.direction).isoformat() + suffix, anchor
    if ref.kind == "monthday" and ref.day == 0:  # Thanksgiving: the fourth Thursday of November
        year = base.year - (1 if ref.direction < 0 and base.month < 11 else 0)
        first = date(year, 11, 1)
        day = first + timedelta(days=(4 - first.isoweekday()) % 7 + 21)
        return "DATE", day.isoformat(), anchor
    if ref.kind == "monthday":
        candidates = []
        for year in (base.year - 1, base.year, base.year + 1):
            try:
                candidates.append(date(year, ref.n, ref.day))
            except ValueError:
                continue
        if ref.weekday:
            matching = [c for c in candidates if c.isoweekday() == ref.weekday]
            candidates = matching or candidates
        if not candidates:
            return "DATE", f"XXXX-{ref.n:02d}-{ref.day:02d}", ""
        def cost(c: date) -> int:
            days = abs((c - base).days)
            return days if days < 120 else days + (0 if (c <= base) == (ref.direction <= 0) else 400)

        best = min(candidates, key=cost)
        return "DATE", best.isoformat(), anchor
    if ref.kind == "month" and ref.unit == "rel-year":
        return "DATE", f"{base.year + ref.year:04d}-{ref.n:02d}", anchor
    if ref.kind == "month":
        year = base.year
        if ref.direction == -1 and ref.n > base.month:
            year -= 1
        elif ref.direction == 1 and ref.n < base.month:
            year += 1
        elif ref.direction == 0 and abs(ref.n - base.month) > 6:
            # A bare month far from the DCT's: the nearer year in the cue's direction is meant.
            year += -1 if ref.n > base.month else 1
        return "DATE", f"{year:04d}-{ref.n:02d}", anchor
    if ref.kind == "season":
        year = base.year
        here = _SEASON_ORDER.index(_season_of(base))
        there = _SEASON_ORDER.index(ref.value)
        if ref.direction == -1 and there >= here:
            year -= 1
        elif ref.direction == 1 and there <= here:
            year += 1
        return "DATE", f"{year:04d}-{ref.value}", anchor
    if ref.kind == "quarter":
        if ref.unit == "in-year":  # "the 1988 quarter"
            if quarter:
                return "DATE", f"{ref.year:04d}{quarter[4:]}", "previous"
            return "DATE", f"{ref.year:04d}", ""
        if ref.unit == "rel-year":  # "next year's first quarter"
            return "DATE", f"{base.year + ref.year:04d}-Q{ref.n}", anchor
        if ref.n == 0 and quarter:
            return "DATE", quarter, "previous"
        if ref.n == 0:  # "the quarter", "the latest quarter": the last one completed
            q = (base.month - 1) // 3 - 1
            return "DATE", f"{base.year + q // 4:04d}-Q{q % 4 + 1}", anchor
        return "DATE", f"{base.year:04d}-Q{ref.n}", anchor
    if ref.kind == "unit" and ref.unit == "quarter-year" and quarter:
        return "DATE", f"{int(quarter[:4]) + ref.n:04d}{quarter[4:]}", "previous"
    if ref.kind in ("unit", "prev"):
        return _unit(ref, base, anchor)
    return ref.type, _unresolved(ref), ""


def _unit(ref: Ref, base: date, anchor: str) -> tuple[str, str, str]:
    unit, n = ref.unit, ref.n
    suffix = f"T{ref.part}" if ref.part else ""
    suffix = ref.clock or suffix
    if unit in ("day", "morning", "evening", "night"):
        return ref.type, (base + timedelta(days=n)).isoformat() + suffix, anchor
    if unit in _TIME_UNITS:
        return "TIME", base.isoformat(), anchor
    if unit == "week":
        return "DATE", _iso_week(base + timedelta(weeks=n)), anchor
    if unit == "weekend":
        return "DATE", _iso_week(base + timedelta(weeks=n)) + "-WE", anchor
    if unit == "week-unspecified":  # TimeBank's value for a week of the year not said
        return "DATE", f"{base.year:04d}-WXX", anchor
    if unit == "month":
        year, month = _add_months(base.year, base.month, n)
        return "DATE", f"{year:04d}-{month:02d}", anchor
    if unit == "quarter-year":  # "a year earlier" in quarterly results: the same quarter, n years back
        q = (base.month - 1) // 3 - 1
        return "DATE", f"{base.year + q // 4 + n:04d}-Q{q % 4 + 1}", anchor
    if unit == "quarter":
        q = (base.month - 1) // 3 + n
        year = base.year + q // 4
        return "DATE", f"{year:04d}-Q{q % 4 + 1}", anchor
    if unit == "year":
        return "DATE", f"{base.year + n:04d}", anchor
    if unit == "decade":
        return "DATE", f"{(base.year + 10 * n) // 10:03d}", anchor
    if unit == "century":
        return "DATE", f"{(base.year + 100 * n) // 100:02d}", anchor
    return "DATE", "XXXX", ""


def _unresolved(ref: Ref) -> str:
    if ref.kind == "weekday":
        return f"XXXX-WXX-{ref.n}"
    if ref.kind == "month":
        return f"XXXX-{ref.n:02d}"
    if ref.kind == "monthday":
        return f"XXXX-{ref.n:02d}-{ref.day:02d}"
    if ref.kind == "season":
        return f"XXXX-{ref.value}"
    return "XXXX-XX-XX"


def _reported_quarter(value: str, ref: Ref, dct: date | None) -> bool:
    """A quarter named as one results are reported for: begun by the DCT and not said of the future
    ("the fiscal first quarter ended Sept. 30", not "a fourth-quarter charge will ..."), and not itself
    reached back to ("a year earlier")."""
    m = re.fullmatch(r"(\d{4})-Q([1-4])", value)
    if not m or ref.kind == "unit" or ref.direction > 0 or dct is None:
        return False
    return date(int(m[1]), 3 * int(m[2]) - 2, 1) <= dct


def find(text: str, *, dct: date | None = None) -> list[Timex]:
    """Find and normalise every time expression in ``text`` against ``dct`` (None leaves relative ones open)."""
    out: list[Timex] = []
    previous: date | None = None
    quarter = ""
    for f in scan(text):
        type_, value, anchor = resolve(f.ref, dct, previous, quarter)
        anchor_value = ""
        if anchor == "dct" and dct is not None:
            anchor_value = dct.isoformat()
        elif anchor == "previous" and previous is not None:
            anchor_value = previous.isoformat()
        out.append(Timex(f.start, f.end, f.text, type_, value, anchor, anchor_value, f.ref.mod,
                         relative=bool(anchor), ref=f.ref))
        resolved = _date_of(value)
        if resolved is not None and type_ in ("DATE", "TIME"):
            previous = resolved
        if _reported_quarter(value, f.ref, dct):
            quarter = value
    return out
