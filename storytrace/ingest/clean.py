"""Drop boilerplate lines from an article's text, keeping every clean offset mappable to the raw text.

The clean text is built only from pieces of the raw text (``Cleaned.segments``), so whatever a later
stage finds in it maps back to the raw characters the reader can check. Each dropped line is kept as a
``RemovedLine`` with its reason:

    byline / dateline / chrome   lines ``metadata.detect`` found to be metadata rather than body
    outlet-boilerplate           lines this outlet repeats across its articles (learned by the store)
    chrome                       site furniture: notification, comment, sharing and login prompts
    caption / credit             photo captions and picture credits
    related-links                a "More from ..." / "Related" header and the headlines listed under it
    inline-link                  a headline standing alone between body paragraphs: a link to another article
    navigation                   a menu or link list (5+ lines of at most 4 words) before or after the prose
    repeated-in-article          a second copy of a line (the longest copy is kept)

The rules are conservative by design: the generic ones (repeats, inline links) never touch a line that
reads like a sentence, and all of them look only at short, whole lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from storytrace.model import Cleaned, Metadata, RemovedLine
from storytrace.settings import Settings

# Ends like a sentence: terminal punctuation, then any closing quotes or brackets.
_TERMINALS = frozenset(".!?…")
_CLOSERS = "\"'“”‘’»)]"
_DOUBLE_QUOTES = re.compile(r"[\"“”„«»]")
_DIGITS = re.compile(r"\d+")
_FOLD_PAIRS = (("‘", "'"), ("’", "'"), ("‚", "'"), ("“", '"'), ("”", '"'), ("„", '"'), ("–", "-"), ("—", "-"),
               ("\xa0", " "))


def _fold(text: str) -> str:
    """Fold curly quotes, dashes and no-break spaces to ASCII.

    Does what ``str.translate`` with these pairs does, several times faster: translate looks up every
    character of a non-ASCII string in a dict, and it ran on every line of every article. The pairs map
    one character to one ASCII character (never another key), so replacing them in turn is the same.
    """
    if text.isascii():
        return text
    for old, new in _FOLD_PAIRS:
        if old in text:
            text = text.replace(old, new)
    return text


def _full(*patterns: str) -> re.Pattern[str]:
    return re.compile("(?:" + "|".join(patterns) + ")", re.IGNORECASE)


# Whole lines that are site furniture wherever they appear. Each must be impossible as article prose.
_CHROME = _full(
    r"stay up to date with notifications from .{2,60}",
    r"notifications can be managed in browser preferences\.?",
    r"join our commenting forum",
    r"join thought-provoking conversations, follow other .{2,40} readers and see their replies",
    r"(?:show|view|read|hide|load|see|post|add)? ?(?:all |the |your |a |more )?\d* ?comments?(?: \(\d+\))?:?",
    r"\d+ (?:replies|shares)",
    r"thank you for registering",
    r"please refresh the page or navigate to another page on the site to be automatically logged in.*",
    r"please refresh your browser to be logged in\.?",
    r"(?:you must be |please )?log(?:ged)? ?in to (?:comment|reply|continue)\.?",
    r"(?:sign up|subscribe) (?:to|for) (?:our|the) .{0,60}newsletters?.{0,40}",
    r"(?:share|share this(?: article| story| page)?|share on (?:facebook|twitter|whatsapp|linkedin|x)"
    r"|share via e-?mail|copy link|link copied|reuse this content|print(?: this (?:article|page))?|e-?mail"
    r"|facebook|twitter|whatsapp|linkedin|pinterest|reddit|messenger|flipboard)",
    r"advertisement|advertising|sponsored(?: content)?|skip (?:advert|ad)|ad feedback",
    r"media playback is unsupported on your device",
    r"follow (?:@\w+|us|.{2,40}) on (?:twitter|facebook|instagram|tiktok|x)\.?",
    r"independent premium|start your independent premium subscription today\.?"
    r"|want to bookmark your favourite articles and stories to read or reference later\?.*",
    r"(?:we|this (?:site|website)) uses? cookies\b.{0,250}",
    r"accept(?: all)? cookies|cookie (?:settings|policy|preferences)|privacy (?:policy|notice|settings)"
    r"|terms (?:of use|and conditions|& conditions|of service)|contact us|about us|all rights reserved\.?"
    r"|back to top|skip to (?:main )?(?:content|navigation)|menu|search|home|log ?in|sign ?in|sign ?up"
    r"|register|subscribe|close|loading\W*",
    r"(?:©|\(c\))\s*\S.{0,80}|copyright\s*(?:©|\(c\))?\s*\d{4}\b.{0,80}",
    r"topics:?|tags:?",
)

# Headers of related-article lists; the headlines below them go too.
_RELATED_HEADER = _full(
    r"more (?:from|on|about) [^.!?]{2,50}",
    r"more (?:stories|news|articles|coverage)",
    r"related(?: (?:articles|stories|coverage|content|topics|links|reading|posts))?",
    r"read more|see also|also read|read next|editor'?s picks?",
    r"most (?:read|popular|viewed|shared)",
    r"you (?:may|might) also (?:like|be interested in)",
    r"recommended(?: for you| stories| reading)?",
    r"trending(?: now)?|top stories|latest (?:news|stories)",
    r"explore more on these topics",
)
_RELATED_HEADER_CHARS = 60
_RELATED_MAX_ITEMS = 20

# "Read more: Other headline", "Also on rt.com ...", "CLICK HERE TO GET THE APP": a link on one line.
_INLINE_LINK_PREFIX = re.compile(
    r"(?:read more|see more|more|read|see|related|also|also read|read next|watch|listen|video|pictured)"
    r"\s*:\s*\S.{3,150}|also on [\w.-]+\.[a-z]{2,} .{3,150}|(?:click|tap) here\b.{0,80}",
    re.IGNORECASE,
)
# Standalone headlines opening like an explainer's crosshead ("Why ...", "How ...") are sections, not links.
_CROSSHEAD_OPENER = re.compile(r"(?:why|how|what|when|where|who|which)\b", re.IGNORECASE)
_URL_LIKE = re.compile(r"https?://|www\.|\.(?:com|org|net|co\.uk)\b", re.IGNORECASE)
# An article with more standalone headlines than this is organised by subheadings: leave them all.
_INLINE_LINKS_MAX = 2

# Picture agencies and the like, as they appear in credits "(Getty)", "(Leon Neal/AFP/Getty Images)".
_AGENCY = re.compile(
    r"getty(?: images)?(?: for .{2,30})?|rex(?: features)?|shutterstock|pa(?: wire| images| media| archive| graphics)?"
    r"|afp|ap(?: photo)?|epa(?:-efe)?|efe|reuters|alamy(?: stock photo| live news)?|istock(?:photo)?|bloomberg"
    r"|corbis|swns|nurphoto|sipa(?: press| usa)?|xinhua|anadolu(?: agency)?|zuma(?: press| wire)?|wireimage"
    r"|filmmagic|eyevine|camera press|dpa|picture alliance|handout|supplied|file(?: photo)?|pool|youtube"
    r"|twitter|facebook|instagram|screengrab|screenshot|library image|stock image",
    re.IGNORECASE,
)


def _is_agency(part: str) -> bool:
    # Credits are capitalised ("Getty", "PA", "iStock"); "(ePA)" or "(pool)" in prose are not credits.
    return bool(_AGENCY.fullmatch(part)) and (part[:1].isupper() or part.startswith("iStock"))
_TRAILING_PAREN = re.compile(r"\s*\(([^()]{1,80})\)\s*$")
_PHOTO_WORD = r"(?:photograph|photo|picture|pic|image|illustration|composite|graphic|video|credit)s?"
_TRAILING_CREDIT = re.compile(
    rf"(?:^|(?<=[\s.!?\"”’]))(?:{_PHOTO_WORD}(?: credit| copyright| by)?\s*:\s*|{_PHOTO_WORD} copyright\s+)"
    r"(?-i:[A-Z©])[^.!?:;]{1,80}$",
    re.IGNORECASE,
)
_IMAGE_CAPTION = re.compile(r"(?:image|media|photo) caption\s*:?\s+\S.*", re.IGNORECASE)
_CAPTION_CHARS = 320

# A person's or desk's name before a colon: "Carolyn Leckie: Tories find ..." (1-4 capitalised words).
_NAME_COLON = re.compile(r"[A-Z][\w'’.-]+(?: (?:[A-Z][\w'’.-]*|de|van|von|der|da|al|bin|la|le)){0,3}: \S")

_REPEAT_MIN_CHARS = 20
# Menus: at least this many short lines in a row, none a sentence.
_NAV_CHARS = 40
_NAV_WORDS = 4
_NAV_RUN = 5
# List items and table rows as trafilatura writes them: repeating is their nature.
_LIST_ITEM = re.compile(r"(?:[-*•|]|\d+[.)])\s")


@dataclass(frozen=True)
class Line:
    """One non-blank line of the raw text: its stripped span, and how many newlines precede it."""

    start: int
    end: int
    text: str
    gap_before: int  # newlines since the previous non-blank line (0 for the first line)


def split_lines(raw_text: str) -> list[Line]:
    """Return the non-blank lines of ``raw_text`` with their raw offsets (surrounding spaces excluded)."""
    lines: list[Line] = []
    previous_end = 0
    for match in re.finditer(r"[^\n]+", raw_text):
        chunk = match.group()
        stripped = chunk.strip()
        if not stripped:
            continue
        start = match.start() + (len(chunk) - len(chunk.lstrip()))
        gap = raw_text.count("\n", previous_end, start) if lines else 0
        lines.append(Line(start, start + len(stripped), stripped, gap))
        previous_end = start + len(stripped)
    return lines


# Keys and credit splits are pure functions of a line and are asked for several times per line (and for
# the same furniture lines across articles): caching them keeps cleaning fast.
@lru_cache(maxsize=1 << 16)
def line_key(line: str) -> str:
    """Normalise a line for counting it across articles: case, spaces, quote styles and numbers folded.

    Numbers become "0" so that "Comments (12)" and "Comments (3)", or "© 2016 X" and "© 2017 X", count
    as one line of the outlet's furniture.
    """
    text = _fold(unicodedata.normalize("NFKC", line)).casefold()
    # str.split() folds whitespace runs like \s+ does, several times faster than a regex substitution.
    return " ".join(_DIGITS.sub("0", text).split())


def candidate_lines(raw_text: str, *, settings: Settings) -> set[str]:
    """Return the keys of the lines of ``raw_text`` short enough to be boilerplate."""
    return {
        key
        for line in split_lines(raw_text)
        if len(line.text) <= settings.boilerplate_max_chars and (key := line_key(line.text))
    }


def ends_like_sentence(text: str) -> bool:
    """Tell whether ``text`` ends with terminal punctuation (closing quotes or brackets may follow)."""
    # Same answer as re.search(r"[.!?…][\"'“”‘’»)\]]*$", text.rstrip()), without a regex trying every
    # position of a long paragraph: strip the closers, then look at the last character.
    return text.rstrip().rstrip(_CLOSERS)[-1:] in _TERMINALS


def chrome_reason(text: str) -> str | None:
    """Return why a whole line is site furniture ("chrome", "related-links"), or None."""
    if len(text) > 600:  # no furniture line is this long; skip the folding work on prose
        return None
    # Fold spaces first and quote styles only for lines short enough to match (_fold maps one character
    # to one, so the lengths tested are the same).
    folded = " ".join(text.split())
    if len(folded) > 300:
        return None
    folded = _fold(folded)
    if _CHROME.fullmatch(folded):
        return "chrome"
    if len(folded) <= _RELATED_HEADER_CHARS and _RELATED_HEADER.fullmatch(folded.rstrip(":").strip()):
        return "related-links"
    return None


@lru_cache(maxsize=1 << 16)
def credit_split(text: str) -> tuple[str, str] | None:
    """Split a caption line into (caption, credit) when it ends in a picture credit, else None.

    Recognises "... Photograph: Leon Neal/AFP/Getty", "... (Getty)", "(AFP/Getty Images)" and
    "Image copyright Reuters"; the caption part may be empty (a bare credit line).
    """
    if len(text) > _CAPTION_CHARS:
        return None
    # Each regex below is tried only when the line holds what any match needs (a final ")"; a colon or
    # "copyright"): searching tries every position of the line, and this runs on most lines.
    if text.rstrip().endswith(")") and (paren := _TRAILING_PAREN.search(text)) is not None:
        parts = re.split(r"\s*(?:/|;|,| via | and )\s*", paren.group(1).strip())
        inner = paren.group(1).strip()
        if any(_is_agency(p) for p in parts) or re.match(rf"{_PHOTO_WORD}\s*:", inner, re.IGNORECASE):
            return text[: paren.start()].rstrip(), paren.group().strip()
    if (":" in text or "copyright" in text.lower()) and (credit := _TRAILING_CREDIT.search(text)) is not None:
        return text[: credit.start()].rstrip(), credit.group().strip()
    return None


def _near_key(text: str) -> str:
    split = credit_split(text)
    return line_key(split[0] if split and split[0] else text)


def _is_headline_like(text: str) -> bool:
    """Short, no sentence end, double quotes balanced: reads as a headline, not prose."""
    return (
        len(text) <= 160
        and not text.endswith((".", ".”", '."', ".’", ":", ";", ","))
        and len(_DOUBLE_QUOTES.findall(text)) % 2 == 0
    )


def _is_body(text: str) -> bool:
    return ends_like_sentence(text) and len(text.split()) >= 8


class _Removals:
    """The reason chosen for each line index; the first rule to claim a line names it."""

    def __init__(self) -> None:
        self.reasons: dict[int, str] = {}

    def add(self, index: int, reason: str) -> None:
        self.reasons.setdefault(index, reason)

    def kept(self, lines: list[Line]) -> list[int]:
        return [i for i in range(len(lines)) if i not in self.reasons]


def clean(
    raw_text: str,
    *,
    metadata: Metadata,
    outlet_boilerplate: frozenset[str] = frozenset(),
    settings: Settings,
) -> Cleaned:
    """Drop boilerplate lines from ``raw_text``; return the clean text as raw pieces plus what was dropped."""
    lines = split_lines(raw_text)
    drop = _Removals()
    _metadata_lines(lines, metadata, drop)
    for i, line in enumerate(lines):
        if outlet_boilerplate and len(line.text) <= settings.boilerplate_max_chars:
            if line_key(line.text) in outlet_boilerplate:
                drop.add(i, "outlet-boilerplate")
    chrome = [chrome_reason(line.text) for line in lines]
    for i, reason in enumerate(chrome):
        if reason == "chrome":
            drop.add(i, reason)
    _captions(lines, drop)
    _related_links(lines, drop, chrome)
    _navigation(lines, drop)
    for i, line in enumerate(lines):
        if _INLINE_LINK_PREFIX.fullmatch(line.text) and _is_headline_like(line.text):
            drop.add(i, "inline-link")
    _repeats(lines, drop, settings)
    _inline_links(lines, drop)
    return _assemble(raw_text, lines, drop.reasons)


def _metadata_lines(lines: list[Line], metadata: Metadata, drop: _Removals) -> None:
    for start, end, reason in metadata.lines:
        for i, line in enumerate(lines):
            if line.start < end and start < line.end:
                drop.add(i, reason)


def _captions(lines: list[Line], drop: _Removals) -> None:
    """Captions and credits by pattern; then lines that repeat a caption (alt text beside the caption)."""
    caption_keys: set[str] = set()
    for i, line in enumerate(lines):
        if _IMAGE_CAPTION.fullmatch(line.text) and len(line.text) <= _CAPTION_CHARS:
            drop.add(i, "caption")
            continue
        if (split := credit_split(line.text)) is None:
            continue
        drop.add(i, "caption" if split[0] else "credit")
        if split[0]:
            caption_keys.add(line_key(split[0]))
    blank_separated = _paragraphs_are_blank_separated(lines)
    # Keys are computed only where a test needs them: normalising every long paragraph was most of the
    # cleaning time.
    for i, line in enumerate(lines):
        if caption_keys and _near_key(line.text) in caption_keys:
            drop.add(i, "caption")
        # Two identical short lines in a row inside blank-separated prose: image alt text then caption.
        if (blank_separated and i > 0 and line.gap_before == 1 and len(line.text) <= _CAPTION_CHARS
                and not _DOUBLE_QUOTES.search(line.text) and _near_key(line.text) == _near_key(lines[i - 1].text)):
            drop.add(i - 1, "caption")
            drop.add(i, "caption")


def _paragraphs_are_blank_separated(lines: list[Line]) -> bool:
    gaps = [line.gap_before for line in lines[1:]]
    return bool(gaps) and sum(g >= 2 for g in gaps) * 2 >= len(gaps)


def _related_links(lines: list[Line], drop: _Removals, chrome: list[str | None]) -> None:
    """A related-articles header, and the headline-like lines that follow it up to the next prose.

    ``chrome`` holds ``chrome_reason`` of each line (computed once in ``clean``).
    """
    i = 0
    while i < len(lines):
        if i in drop.reasons or chrome[i] != "related-links":
            i += 1
            continue
        drop.add(i, "related-links")
        j = i + 1
        while j < len(lines) and j - i <= _RELATED_MAX_ITEMS:
            text = lines[j].text
            if j not in drop.reasons and not _is_headline_like(text):
                break
            drop.add(j, "related-links")
            j += 1
        i = j


def _navigation(lines: list[Line], drop: _Removals) -> None:
    """A run of many short non-sentence lines before the first or after the last paragraph of prose.

    That is a menu, a link list or a footer of a page copied whole; inside the article such runs are
    more often its own lists or tables, and stay.
    """
    body = [i for i, line in enumerate(lines) if i not in drop.reasons and _is_body(line.text)]
    if not body:
        return
    first, last = body[0], body[-1]
    run: list[int] = []
    for i in [*range(len(lines)), -1]:
        text = lines[i].text if i >= 0 else ""
        if i >= 0 and (i in drop.reasons or _is_menu_item(text)):
            run.append(i)
            continue
        at_edge = bool(run) and (run[-1] < first or run[0] > last)
        if at_edge and len(run) >= _NAV_RUN:
            for j in run:
                drop.add(j, "navigation")
        run = []


def _is_menu_item(text: str) -> bool:
    return (
        len(text) <= _NAV_CHARS and len(text.split()) <= _NAV_WORDS and not ends_like_sentence(text)
        and not _DOUBLE_QUOTES.search(text) and not _LIST_ITEM.match(text)
    )


def _repeats(lines: list[Line], drop: _Removals, settings: Settings) -> None:
    """A headline-like line found twice (a repeated headline, standfirst or caption): keep the longest.

    Only pairs, and only lines that do not read as sentences: a line found three or more times is the
    page's own structure (a questionnaire, a recipe card, a table header), and a repeated sentence may
    be the article's own (a refrain, a repeated question) — neither is dropped.
    """
    groups: dict[str, list[int]] = {}
    for i in drop.kept(lines):
        text = lines[i].text
        if len(text) > settings.boilerplate_max_chars or _LIST_ITEM.match(text) or ends_like_sentence(text):
            continue
        key = _near_key(text)
        if len(key) >= _REPEAT_MIN_CHARS:
            groups.setdefault(key, []).append(i)
    for members in groups.values():
        if len(members) != 2:
            continue
        keep = max(members, key=lambda i: (len(lines[i].text), -i))
        for i in members:
            if i != keep:
                drop.add(i, "repeated-in-article")


def _looks_hard_wrapped(lines: list[Line]) -> bool:
    """Text wrapped at a fixed width: most lines end mid-sentence and none is long."""
    if len(lines) < 8:
        return False
    open_ended = sum(not ends_like_sentence(line.text) for line in lines)
    return open_ended * 2 > len(lines) and max(len(line.text) for line in lines) <= 100


def _inline_links(lines: list[Line], drop: _Removals) -> None:
    """A standalone headline between two body paragraphs is a link to another article.

    "Carolyn Leckie: Tories find their unlikely heroes as a horde of Blairites ride in" between two
    paragraphs of prose. Never a line that ends like a sentence or leaves a quotation open, never at the
    top (headline, standfirst) or bottom, never in hard-wrapped text, never a short crosshead; and when
    an article has several such lines they are its subheadings, so only "Name: headline" lines go.
    """
    if _looks_hard_wrapped(lines):
        return
    blank_separated = _paragraphs_are_blank_separated(lines)
    kept = drop.kept(lines)
    found: list[tuple[int, bool]] = []
    for n in range(1, len(kept) - 1):
        line = lines[kept[n]]
        before, after = lines[kept[n - 1]], lines[kept[n + 1]]
        if not (_is_body(before.text) and _is_body(after.text)):
            continue
        if blank_separated and (line.gap_before < 2 or lines_gap_after(lines, kept[n]) < 2):
            continue
        if (named := _standalone_headline(line.text)) is not None:
            found.append((kept[n], named))
    if len(found) > _INLINE_LINKS_MAX:
        return
    for index, named in found:
        if named or len(found) == 1:
            drop.add(index, "inline-link")


def _standalone_headline(text: str) -> bool | None:
    """None unless ``text`` reads as another article's headline; else whether it is "Name: headline"."""
    words = len(text.split())
    if not (_is_headline_like(text) and text[:1].isupper() and words <= 20):
        return None
    if text.endswith(("?", "!", "”", '"', "’", "'")) or ends_like_sentence(text):
        return None
    if re.search(r"[.!?…]\s", text) or _URL_LIKE.search(text) or _CROSSHEAD_OPENER.match(text):
        return None
    named = bool(_NAME_COLON.match(text))
    if ":" in text and not named:
        return None
    if named and words >= 5:
        return True
    return False if words >= 7 else None


def lines_gap_after(lines: list[Line], index: int) -> int:
    """Newlines between line ``index`` and the next non-blank line (a large number after the last)."""
    return lines[index + 1].gap_before if index + 1 < len(lines) else 99


def _assemble(raw_text: str, lines: list[Line], reasons: dict[int, str]) -> Cleaned:
    """Join the kept lines with raw separators; record the (clean, raw, length) segments."""
    pieces: list[tuple[int, int]] = []  # raw (start, end) in clean order
    kept = [i for i in range(len(lines)) if i not in reasons]
    for n, i in enumerate(kept):
        line = lines[i]
        pieces.append((line.start, line.end))
        if n + 1 < len(kept):
            pieces.append(_separator(raw_text, line.end, lines[kept[n + 1]].start))
    text_parts: list[str] = []
    segments: list[tuple[int, int, int]] = []
    clean_pos = 0
    for start, end in pieces:
        length = end - start
        if length <= 0:
            continue
        if segments and segments[-1][1] + segments[-1][2] == start:
            c, r, n_ = segments[-1]
            segments[-1] = (c, r, n_ + length)
        else:
            segments.append((clean_pos, start, length))
        text_parts.append(raw_text[start:end])
        clean_pos += length
    removed = tuple(
        RemovedLine(lines[i].start, lines[i].end, lines[i].text, reason) for i, reason in sorted(reasons.items())
    )
    return Cleaned(text="".join(text_parts), segments=tuple(segments), removed=removed)


def _separator(raw_text: str, start: int, end: int) -> tuple[int, int]:
    """Pick the raw whitespace between two kept lines: a paragraph break if any lies between them.

    The run with the most newlines wins (the first among equals), cut after its second newline, so a
    dropped line leaves one paragraph break behind, not a pile of blank lines.
    """
    best: tuple[int, int] | None = None
    best_count = -1
    for match in re.finditer(r"\s+", raw_text[start:end]):
        count = match.group().count("\n")
        if count > best_count:
            best, best_count = (start + match.start(), start + match.end()), count
    if best is None:  # adjacent lines always have a newline between them; defensive only
        return (start, start)
    run_start, run_end = best
    newline = raw_text.index("\n", run_start)
    if best_count >= 2:
        newline = raw_text.index("\n", newline + 1)
    return run_start, min(run_end, newline + 1)


def removed_reasons(removed: Iterable[RemovedLine]) -> dict[str, list[str]]:
    """Group removed lines' texts by reason (for reports and tests)."""
    out: dict[str, list[str]] = {}
    for line in removed:
        out.setdefault(line.reason, []).append(line.text)
    return out
