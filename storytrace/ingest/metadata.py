"""Detect an article's title, outlet, author, publication date and URL, each with its evidence.

Values come from the most trusted source that has one (``model.META_SOURCES`` order): what the input
gave, then the page markup, then the URL, then the text itself (a dateline such as "Monday 04 July 2016
23:01 BST", a byline such as "By Jane Smith" or a bare name beside the dateline), then site chrome
("Stay up to date with notifications from The Independent"), then the file name. Values read from the
text carry the raw offsets of their evidence. Dates come out in ISO 8601; numeric dates are read
day-first (storytrace's seeds and most of its users are British) unless only month-first makes sense.

``Metadata.lines`` lists the raw spans of lines that are metadata rather than body (byline, dateline,
a lone "Comments" widget next to them) so that cleaning drops them with that reason.
"""

from __future__ import annotations

import email.utils
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import PurePath
from urllib.parse import urlsplit

from storytrace.ingest import outlets
from storytrace.ingest.clean import Line, chrome_reason, credit_split, ends_like_sentence, split_lines
from storytrace.model import META_SOURCES, Metadata, MetaValue

# How far down the text a title, byline or dateline may sit (non-blank lines).
TOP_LINES = 12

# -- dates ------------------------------------------------------------------------------------------
_MONTHS = {
    name: number
    for number, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
         ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
         ("october", "oct"), ("november", "nov"), ("december", "dec")],
        start=1,
    )
    for name in names
}
# Zone abbreviations that are unambiguous in English-language news (IST, for one, is not).
_ZONES = {"bst": 60, "gmt": 0, "utc": 0, "z": 0, "cet": 60, "cest": 120, "est": -300, "edt": -240,
          "cst": -360, "cdt": -300, "mst": -420, "mdt": -360, "pst": -480, "pdt": -420, "aest": 600,
          "aedt": 660}

_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\.?,?"
_MONTH = r"(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"
_TIME = r"(?:[01]?\d|2[0-3])[:.][0-5]\d(?::[0-5]\d)?(?:\s*[ap]\.?m\.?)?|(?:1[0-2]|0?[1-9])\s*[ap]\.?m\.?"
_ZONE = r"(?:" + "|".join(sorted(_ZONES, key=len, reverse=True)) + r"|[+-]\d{2}:?\d{2})"
_DATE = (
    rf"(?:{_WEEKDAY}\s+)?(?:the\s+)?(?P<d1>{_DAY})(?:\s+of)?\s+(?P<m1>{_MONTH}),?\s+(?P<y1>{_YEAR})"
    rf"|(?:{_WEEKDAY}\s+)?(?P<m2>{_MONTH})\s+(?P<d2>{_DAY}),?\s+(?P<y2>{_YEAR})"
    rf"|(?P<iy>{_YEAR})[-/.](?P<im>1[0-2]|0?[1-9])[-/.](?P<id>3[01]|[12]\d|0?[1-9])(?!\d)"
    rf"|(?<!\d)(?P<n1>\d{{1,2}})[/.-](?P<n2>\d{{1,2}})[/.-](?P<n3>{_YEAR})"
)
_DATETIME = (
    rf"(?:(?P<t0>{_TIME})\s*(?P<z0>{_ZONE})?\s*(?:,|on|-|–|\|)?\s*)?(?:{_DATE})"
    rf"(?:\s*(?:,|at|-|–|\||T)?\s*(?P<t1>{_TIME}))?(?:\s*\(?(?P<z1>{_ZONE})\)?)?(?![\w])"
)
_DATE_RE = re.compile(_DATETIME, re.IGNORECASE)
_DATELINE_PREFIX = (
    r"(?:(?:first |originally )?published|posted|updated|last updated|last modified|modified|created|date)"
    r"(?: on| at)?\s*:?\s*"
)
_DATELINE_RE = re.compile(rf"(?P<prefix>{_DATELINE_PREFIX})?{_DATETIME}\.?", re.IGNORECASE)
_URL_DATE = re.compile(
    rf"/(?P<y>{_YEAR})/(?P<m>1[0-2]|0?[1-9]|{_MONTH})/(?P<d>3[01]|[12]\d|0?[1-9])(?=/|$)"
    rf"|(?<![\d])(?P<y2>{_YEAR})-?(?P<m2>1[0-2]|0[1-9])-?(?P<d2>3[01]|[12]\d|0[1-9])(?![\d])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedDate:
    """A date found in text: ISO value, the matched span, and a note on how it was read."""

    value: str
    start: int
    end: int
    note: str = ""
    ambiguous: bool = False


def _month(token: str) -> int:
    return _MONTHS[token.rstrip(".").lower()]


def _clock(token: str) -> tuple[int, int, int]:
    text = token.lower().replace(" ", "").replace(".m", "m").replace("a.", "a").replace("p.", "p")
    pm, am = text.endswith("pm"), text.endswith("am")
    text = text.removesuffix("pm").removesuffix("am")
    parts = [int(p) for p in re.split(r"[:.]", text)] + [0, 0]
    hour, minute, second = parts[0], parts[1], parts[2]
    if pm and hour < 12:
        hour += 12
    if am and hour == 12:
        hour = 0
    return hour, minute, second


def _zone(token: str) -> timezone | None:
    """The zone of a token ("BST", "+0100"); None for an offset no clock has (found by fuzzing: "+7000")."""
    key = token.lower()
    if key in _ZONES:
        return timezone(timedelta(minutes=_ZONES[key]))
    sign = -1 if token[0] == "-" else 1
    digits = token[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _from_match(m: re.Match[str]) -> ParsedDate | None:
    g = m.groupdict()
    note, ambiguous = "", False
    try:
        if g["d1"]:
            day, month, year = int(re.sub(r"\D", "", g["d1"])), _month(g["m1"]), int(g["y1"])
        elif g["m2"]:
            day, month, year = int(re.sub(r"\D", "", g["d2"])), _month(g["m2"]), int(g["y2"])
        elif g["iy"]:
            day, month, year = int(g["id"]), int(g["im"]), int(g["iy"])
        else:
            a, b, year = int(g["n1"]), int(g["n2"]), int(g["n3"])
            if a > 12 or b > 12:
                day, month = (a, b) if a > 12 else (b, a)
                note = "numeric date" if a > 12 else "numeric date, month-first (the day is over 12)"
            else:
                day, month = a, b
                ambiguous = a != b
                note = "numeric date read day-first" if ambiguous else "numeric date"
        day_value = date(year, month, day)
    except (ValueError, KeyError):
        return None
    clock = g["t0"] or g["t1"]
    if not clock:
        return ParsedDate(day_value.isoformat(), m.start(), m.end(), note, ambiguous)
    hour, minute, second = _clock(clock)
    if hour > 23 or minute > 59 or second > 59:
        return ParsedDate(day_value.isoformat(), m.start(), m.end(), note, ambiguous)
    moment = datetime(year, month, day, hour, minute, second)
    zone = g["z0"] or g["z1"]
    if zone and (tz := _zone(zone)) is not None:
        moment = moment.replace(tzinfo=tz)
    return ParsedDate(moment.isoformat(), m.start(), m.end(), note, ambiguous)


def find_date(text: str) -> ParsedDate | None:
    """Return the first date (with time and zone when given) in ``text``, as ISO 8601."""
    for m in _DATE_RE.finditer(text):
        if (found := _from_match(m)) is not None:
            return found
    return None


def normalise_date(value: str) -> tuple[str, str] | None:
    """Return (ISO 8601 form, note) for a date string in any common notation, or None."""
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return parsed.date().isoformat(), ""
        return parsed.isoformat(), ""
    except ValueError:
        pass
    if re.match(r"[A-Za-z]{3},\s+\d", text):  # RFC 2822, as in feeds and e-mail headers
        try:
            return email.utils.parsedate_to_datetime(text).isoformat(), "RFC 2822 date"
        except (TypeError, ValueError, IndexError):
            pass
    found = find_date(text)
    return (found.value, found.note) if found else None


# -- bylines ----------------------------------------------------------------------------------------
_NAME_TOKEN = r"(?:[A-Z][a-zA-Z'’\-]+|[A-Z]\.)"
_PARTICLE = r"(?:de|van|von|der|den|da|di|du|al|bin|la|le|el|dos|del)"
_NAME = rf"{_NAME_TOKEN}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_TOKEN}){{0,3}}"
_NAMES = rf"{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*"
_BY_LINE = re.compile(rf"by\s+(?P<names>{_NAMES})(?P<rest>\s*(?:[,|•–—-]|\bin\b).{{0,80}})?", re.IGNORECASE)
_BARE_NAME = re.compile(rf"(?P<names>{_NAME_TOKEN}(?:\s+(?:{_PARTICLE}\s+)?{_NAME_TOKEN}){{1,3}})")
# Capitalised words that start headings and chrome, never names.
_NOT_NAMES = {
    "the", "a", "an", "labour", "conservative", "news", "party", "comments", "comment", "politics",
    "home", "uk", "us", "world", "business", "sport", "opinion", "live", "latest", "breaking", "analysis",
    "video", "share", "more", "read", "related", "topics", "editorial", "sponsored", "advertisement",
    "follow", "sign", "join", "subscribe", "watch", "updated", "published", "most", "top", "view",
    "government", "parliament", "minister", "prime", "general", "election", "brexit", "report", "exclusive",
    *(_MONTHS), "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
}
_COMMENTS_WIDGET = re.compile(r"\d*\s*comments?(?:\s*\(\d+\))?", re.IGNORECASE)


_ROLE = re.compile(
    r"\b(?:editor|correspondent|reporter|writer|columnist|staff|chief|deputy|senior|political|editorial"
    r"|contributor|producer|presenter|analyst|journalist|desk|team|agencies|in \w+)\b",
    re.IGNORECASE,
)


def _without_roles(names: str) -> str:
    """Cut "Jane Smith, Political Editor" back to "Jane Smith" (the names before the first role)."""
    end = 0
    for part in re.finditer(r"[^,&]+?(?=\s*(?:,|&|\band\b|$))", names):
        if _ROLE.search(part.group()):
            break
        end = part.end()
    return names[:end].rstrip(" ,&") or names


def _names_ok(names: str) -> bool:
    tokens = re.findall(r"[\w'’.-]+", names)
    return bool(tokens) and not any(t.lower().strip(".") in _NOT_NAMES for t in tokens)


# -- outlet chrome ----------------------------------------------------------------------------------
_OUTLET_CHROME = [
    re.compile(r"notifications from (?P<n>[^.!?]{2,60}?)\.?$", re.IGNORECASE),
    re.compile(r"^more from (?P<n>[^.!?:]{2,50})$", re.IGNORECASE),
    re.compile(r"follow other (?P<n>[^,.]{2,40}?) readers", re.IGNORECASE),
    re.compile(r"^(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}(?:\s*-\s*\d{4})?\s*)?(?P<n>[A-Z][^.|©]{1,60}?)"
               r"(?:\.|,?\s+all rights reserved.*)?$", re.IGNORECASE),
    re.compile(r"^sign up (?:to|for) (?:the )?(?P<n>[A-Z][^.!?]{1,40}?)['’]s? .{0,30}newsletter", re.IGNORECASE),
]
# An outlet named as the photographer's employer: "Photograph: David Levene/The Guardian".
_CREDIT_OUTLET = re.compile(r"/\s*(?P<n>[^/()]{2,40}?)\)?$")


def _rank(source: str) -> int:
    return META_SOURCES.index(source)


def _best(candidates: list[MetaValue]) -> MetaValue | None:
    return min(candidates, key=lambda v: (_rank(v.source), -v.confidence)) if candidates else None


_GIVEN_ALIASES = {
    "title": "title", "headline": "title",
    "outlet": "outlet", "source": "outlet", "site": "outlet", "sitename": "outlet", "publisher": "outlet",
    "publication": "outlet",
    "author": "author", "authors": "author", "byline": "author",
    "published": "published", "date": "published", "pubdate": "published", "published_at": "published",
    "publication_date": "published", "datetime": "published",
    "url": "url", "link": "url",
}


def _fields(values: Mapping[str, str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (values or {}).items():
        name = _GIVEN_ALIASES.get(key.strip().lower())
        if name and isinstance(value, str) and value.strip() and name not in out:
            out[name] = " ".join(value.split())
    return out


def detect(
    raw_text: str,
    *,
    given: Mapping[str, str],
    markup: Mapping[str, str] | None = None,
    source_path: str = "",
) -> Metadata:
    """Detect title, outlet, author, published date and URL of one article, each with provenance."""
    lines = split_lines(raw_text)
    top = lines[:TOP_LINES]
    found: dict[str, list[MetaValue]] = {name: [] for name in ("title", "outlet", "author", "published", "url")}
    spans: list[tuple[int, int, str]] = []

    for origin, values in (("given", _fields(given)), ("markup", _fields(markup))):
        for name, value in values.items():
            found[name].append(_declared(name, value, origin))

    url = _best(found["url"])
    if url is not None:
        if (named := outlets.outlet_for_url(url.value)) is not None:
            outlet_name, known = named
            found["outlet"].append(MetaValue(outlet_name, "url", 0.9 if known else 0.5,
                                             note=f"domain {outlets.host(url.value)}"
                                             + ("" if known else " (not in the outlet table)")))
        if (url_date := _date_from_url(url.value)) is not None:
            found["published"].append(url_date)

    dateline = _dateline(top, lines)
    if dateline is not None:
        found["published"].append(dateline[0])
        spans.append((dateline[1].start, dateline[1].end, "dateline"))
    byline = _byline(top, dateline[1] if dateline else None, raw_text)
    if byline is not None:
        author, name_line, whole_line = byline
        found["author"].append(author)
        if whole_line:
            spans.append((name_line.start, name_line.end, "byline"))
    near = {line.start for line in ([dateline[1]] if dateline else []) + ([byline[1]] if byline else [])}
    for i, line in enumerate(top):
        neighbours = {top[j].start for j in (i - 1, i + 1) if 0 <= j < len(top)}
        if _COMMENTS_WIDGET.fullmatch(line.text) and neighbours & near:
            spans.append((line.start, line.end, "chrome"))

    if (chrome_outlet := _outlet_from_chrome(lines)) is not None:
        found["outlet"].append(chrome_outlet)
    if source_path and (file_date := _date_from_filename(source_path)) is not None:
        found["published"].append(file_date)
    if (title := _title_from_text(top, {s[0] for s in spans})) is not None:
        found["title"].append(title)

    published = _best(found["published"])
    if published is not None:
        # A lower-ranked source may refine the same day with a time of day: keep the finer value.
        for other in found["published"]:
            if other.value.startswith(published.value) and len(other.value) > len(published.value):
                published = MetaValue(other.value, other.source, other.confidence, other.start, other.end,
                                      other.note or f"refines the {published.source} date")
                break
    return Metadata(
        title=_best(found["title"]),
        outlet=_best(found["outlet"]),
        author=_best(found["author"]),
        published=published,
        url=url,
        lines=tuple(sorted(set(spans))),
    )


def _declared(name: str, value: str, origin: str) -> MetaValue:
    """A value the input or the markup declared, normalised (ISO dates, table outlet names)."""
    if name == "published":
        normal = normalise_date(value)
        if normal is None:
            return MetaValue(value, origin, 0.5, note="not a recognised date; kept as given")
        return MetaValue(normal[0], origin, 1.0 if origin == "given" else 0.9, note=normal[1])
    if name == "outlet" and origin == "markup":
        known = outlets.known_name(value)
        return MetaValue(known or value.lstrip("@"), origin, 0.9, note=f"site name {value!r}")
    return MetaValue(value, origin, 1.0 if origin == "given" else 0.9)


def _dateline(top: list[Line], lines: list[Line]) -> tuple[MetaValue, Line] | None:
    """A line that is only a date (optionally "Published"/"Updated"): the first one, "Updated" last."""
    hits: list[tuple[int, MetaValue, Line]] = []
    for line in top + [line for line in lines[-4:] if line not in top]:
        if len(line.text) > 90 or (m := _DATELINE_RE.fullmatch(line.text.strip())) is None:
            continue
        parsed = _from_match(m)
        if parsed is None:
            continue
        prefix = (m.group("prefix") or "").strip().lower()
        updated = prefix.startswith(("updated", "last", "modified"))
        confidence = 0.7 if parsed.ambiguous else 0.95 if not updated else 0.6
        note = "; ".join(filter(None, [f"dateline {line.text!r}", parsed.note,
                                       "update time, not first publication" if updated else ""]))
        value = MetaValue(parsed.value, "dateline", confidence, line.start, line.end, note)
        hits.append((int(updated), value, line))
    if not hits:
        return None
    _, value, line = min(hits, key=lambda h: h[0])
    return value, line


def _byline(top: list[Line], dateline: Line | None, raw_text: str) -> tuple[MetaValue, Line, bool] | None:
    """"By Jane Smith[, role]" near the top, or a bare name line beside the dateline (or lower down)."""
    for line in top:
        m = _BY_LINE.fullmatch(line.text)
        if m is None or not _names_ok(m.group("names")) or len(line.text) > 100:
            continue
        rest = (m.group("rest") or "").strip()
        if rest and ends_like_sentence(rest) and find_date(rest) is None:
            continue
        names = _without_roles(m.group("names"))
        start = line.start + m.start("names")
        value = MetaValue(" ".join(names.split()), "byline", 0.9, start, start + len(names), f"byline {line.text!r}")
        return value, line, True
    for i, line in enumerate(top):
        if i == 0 or len(line.text) > 60 or line is dateline:
            continue
        m = _BARE_NAME.fullmatch(line.text)
        if m is None or not _names_ok(line.text) or chrome_reason(line.text):
            continue
        beside = dateline is not None and any(
            0 <= j < len(top) and top[j] is dateline for j in (i - 1, i + 1)
        )
        note = "name line beside the dateline" if beside else "name-like line near the top (no dateline beside it)"
        value = MetaValue(" ".join(line.text.split()), "byline", 0.85 if beside else 0.4, line.start, line.end, note)
        # Only a name next to a dateline is surely a byline; otherwise leave the line in the text.
        return value, line, beside
    return None


def _outlet_from_chrome(lines: list[Line]) -> MetaValue | None:
    hits: list[tuple[str, Line, int, int, bool]] = []
    for line in lines:
        if len(line.text) > 200:
            continue
        for pattern in _OUTLET_CHROME:
            if (m := pattern.search(line.text)) is None:
                continue
            name = " ".join(m.group("n").split()).strip(" .,:;")
            known = outlets.known_name(name)
            if known or (name[:1].isupper() and len(name.split()) <= 4):
                hits.append((known or name, line, m.start("n"), m.end("n"), bool(known)))
            break
        else:
            split = credit_split(line.text)
            if split is not None and (m := _CREDIT_OUTLET.search(split[1])) is not None:
                if (credited := outlets.known_name(m.group("n").strip())) is not None:
                    offset = line.text.rindex(split[1])
                    hits.append((credited, line, offset + m.start("n"), offset + m.end("n"), True))
    if not hits:
        return None
    counts = Counter(h[0] for h in hits)
    name, line, start, end, in_table = max(hits, key=lambda h: (counts[h[0]], h[4], -h[1].start))
    confidence = (0.8 if in_table else 0.6) + (0.1 if counts[name] > 1 else 0.0)
    return MetaValue(name, "chrome", round(confidence, 2), line.start + start, line.start + end,
                     f"chrome {line.text!r}")


def _date_from_url(url: str) -> MetaValue | None:
    try:
        path = urlsplit(url).path if "//" in url else url
    except ValueError:  # e.g. "http://[" (an unclosed IPv6 host): no path to read a date from
        return None
    for m in _URL_DATE.finditer(path):
        try:
            if m.group("y"):
                month_token = m.group("m")
                month = int(month_token) if month_token.isdigit() else _month(month_token)
                day_value = date(int(m.group("y")), month, int(m.group("d")))
            else:
                day_value = date(int(m.group("y2")), int(m.group("m2")), int(m.group("d2")))
        except (ValueError, KeyError):
            continue
        return MetaValue(day_value.isoformat(), "url", 0.8, note=f"date in URL path {m.group().strip('/')!r}")
    return None


def _date_from_filename(source_path: str) -> MetaValue | None:
    name = PurePath(source_path).name
    m = re.search(rf"(?<!\d)(?P<y>{_YEAR})[-_.]?(?P<m>1[0-2]|0[1-9])[-_.]?(?P<d>3[01]|[12]\d|0[1-9])(?!\d)", name)
    if m is None:
        return None
    try:
        day_value = date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    except ValueError:
        return None
    return MetaValue(day_value.isoformat(), "filename", 0.5, note=f"date in file name {name!r}")


def _title_from_text(top: list[Line], metadata_starts: set[int]) -> MetaValue | None:
    """The first short line without a final period at the top, if it is not chrome or metadata."""
    for line in top[:6]:
        if line.start in metadata_starts or chrome_reason(line.text) or credit_split(line.text):
            continue
        text = line.text
        if len(top) < 2 or len(text) > 200 or not 3 <= len(text.split()) <= 30:
            return None
        if text.endswith((".", ":", ";", ",")) or (ends_like_sentence(text) and text[-1] not in "?!"):
            return None
        if _DATELINE_RE.fullmatch(text) or _BY_LINE.fullmatch(text):
            return None
        return MetaValue(text, "inferred", 0.6, line.start, line.end, "first short line of the text")
    return None
