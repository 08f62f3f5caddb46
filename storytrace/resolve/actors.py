"""Merge in-article speakers and named entities into canonical actors across the corpus.

Inputs per article: the ``quotes`` stage's resolved speakers (always) and the ``entities`` stage's PERSON
and ORG spans (when the model is present). A mention is a name as one article gives it ("Len McCluskey",
"Mr Watson", "McCluskey", "J. Corbyn", "Momentum"). Merging works on blocks that share a surname key, so
its cost grows with the number of distinct names, not with the square of the mentions:

1. same normalised name (titles, possessives, case, spacing and punctuation dropped);
2. a full name whose first name is a short form of another's, same surname ("Len"/"Leonard");
3. an initial and surname ("J. Corbyn") joins the one full name with that surname and initial;
4. a surname alone ("McCluskey", "Mr Watson") joins the one full name with that surname in the corpus;
   when several people share it, the mention joins the one its own article names, else stays apart.

Two full names that share a surname ("Bill Clinton", "Hillary Clinton") are never merged automatically.
Every merge carries its reason. Roles ("Unite general secretary", "the Black Country MP") come from the
words around a mention in the raw text, with the article's date and the sentence's offsets. A corrections
file (TOML: ``merge``, ``split``, ``rename``, ``set_role`` entries) is applied after the automatic merging,
so it survives re-analysis.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storytrace.errors import InputError
from storytrace.settings import Settings

CORRECTIONS_FILE = "storytrace-corrections.toml"

_TITLES = frozenset("""mr mrs ms miss dr sir lord lady baroness baron dame prof professor rev reverend
sen senator rep gov governor president judge mayor cllr councillor""".split())
# Short forms of first names, both ways; a merge on this ground records it.
_SHORT_FORMS = {
    "len": "leonard", "tom": "thomas", "tony": "anthony", "bill": "william", "will": "william",
    "bob": "robert", "rob": "robert", "jim": "james", "jimmy": "james", "mike": "michael",
    "dave": "david", "andy": "andrew", "nick": "nicholas", "chris": "christopher", "dan": "daniel",
    "ed": "edward", "ted": "edward", "joe": "joseph", "steve": "stephen", "pete": "peter",
    "ben": "benjamin", "sam": "samuel", "alex": "alexander", "liz": "elizabeth", "kate": "katherine",
    "jeff": "jeffrey", "don": "donald", "ron": "ronald", "matt": "matthew", "pat": "patrick",
    "harry": "henry", "jack": "john", "jon": "jonathan", "tim": "timothy", "greg": "gregory",
}
# Words that make a phrase before or after a name a role ("shadow chancellor", "Unite boss").
ROLE_HEADS = frozenset("""secretary chancellor leader minister mp mps mep msp peer boss president chair
chairman chairwoman spokesman spokeswoman spokesperson director executive ceo founder whip speaker
governor senator mayor candidate nominee adviser advisor aide editor commissioner councillor treasurer
deputy general chief head member campaigner organiser organizer official""".split())
ROLE_WORDS = ROLE_HEADS | frozenset("""shadow former first prime deputy assistant vice general labour
business home foreign health defence education justice work pensions party union trade cabinet the""".split())
_ORG_HEADS = frozenset("""group campaign party union organisation organization company agency department
ministry government council association movement committee newspaper commission institute foundation""".split())
_WORD = re.compile(r"[\w][\w.'’-]*")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"[.!?]\s|\n")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def name_tokens(name: str) -> list[str]:
    """Normalised words of a personal or organisation name: titles, possessive and punctuation gone.

    ``"Mr Corbyn's"`` -> ``["corbyn"]``; ``"J. Corbyn"`` -> ``["j", "corbyn"]``.
    """
    name = re.sub(r"['’]s?$", "", name.strip())
    words = [w.strip(".'’-") for w in _fold(name).replace("\xa0", " ").split()]
    words = [w for w in words if w]
    while len(words) > 1 and words[0] in _TITLES | {"the"}:
        words = words[1:]
    return words


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", _fold(name)).strip("-") or "actor"


# -- mentions -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mention:
    """One name for an actor in one article, with the raw-text span that carries it."""

    article_id: str
    name: str  # the name as resolved in the article ("Len McCluskey") or as written by NER
    surface: str  # the words in the text ("Unite boss McCluskey", "he")
    start: int | None
    end: int | None
    kind: str = "person"  # person | organisation | unknown
    origin: str = "speaker"  # speaker | entity
    published: str | None = None


@dataclass(frozen=True)
class Role:
    role: str
    article_id: str
    date: str | None
    start: int
    end: int
    sentence_start: int
    sentence_end: int
    source: str = "text"  # text | correction

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def article_mentions(article_id: str, inputs: Mapping[str, Any], *, published: str | None = None) -> list[Mention]:
    """Collect the actor mentions of one article from its quotes (and entities when present)."""
    found: list[Mention] = []
    for q in (inputs.get("quotes") or {}).get("quotes", []):
        speaker = q.get("speaker")
        if not speaker or q.get("anonymous"):
            continue
        if q.get("source_start") is not None:
            start, end, surface = q["source_start"], q["source_end"], q.get("source") or speaker
        else:
            start, end, surface = q.get("content_start"), q.get("content_end"), ""  # the quotation is the evidence
        found.append(Mention(article_id, speaker, surface, start, end, "unknown", "speaker", published))
    for e in (inputs.get("entities") or {}).get("entities", []):
        if e.get("label") in ("PERSON", "ORG"):
            kind = "person" if e["label"] == "PERSON" else "organisation"
            found.append(Mention(article_id, e["text"], e["text"], e["start"], e["end"], kind, "entity", published))
    return found


# -- roles ------------------------------------------------------------------------------------------------
def _sentence(raw: str, start: int, end: int) -> tuple[int, int]:
    left = max((m.end() for m in _SENTENCE_END.finditer(raw, max(0, start - 600), start)), default=max(0, start - 600))
    m = _SENTENCE_END.search(raw, end)
    return left, (m.start() + 1 if m else len(raw))


def _clean_role(words: list[str]) -> str | None:
    while words and words[0].lower() in ("the", "a", "an", "and", "but", "as"):
        words = words[1:]
    while words and words[-1].lower() in ("the", "of", "for", "and"):
        words = words[:-1]
    if not words or not any(w.lower().strip(".,") in ROLE_HEADS for w in words) or len(words) > 9:
        return None
    return " ".join(words).strip(" ,")


def roles_in(raw: str, names: Iterable[str]) -> Iterator[tuple[str, int, int]]:
    """Yield (role, start, end) for role phrases next to a name in the raw text.

    Pre-modifiers: "Unite general secretary Len McCluskey", "Former First Minister Alex Salmond";
    appositives: "Mr Watson, Labour MP for West Bromwich East,", "Neil Kinnock, the former Labour leader,".
    """
    for name in sorted({n for n in names if n}, key=len, reverse=True):
        pattern = re.compile(r"(?<![\w])" + r"[\s\xa0]+".join(map(re.escape, name.split())) + r"(?![\w])")
        for m in pattern.finditer(raw):
            base = max(0, m.start() - 80)
            tokens = list(re.finditer(r"[\w’'-]+|[,.;:“”\"()\n]", raw[base : m.start()]))
            run: list[re.Match[str]] = []
            for t in reversed(tokens):
                w = t.group()
                low = w.lower().rstrip(".")
                if low in _TITLES and not run:
                    continue
                if not w[:1].isalnum() or w.endswith(("’s", "'s")) or low in _TITLES:
                    break
                if w[:1].isupper() or low in ROLE_WORDS:
                    run.insert(0, t)
                else:
                    break
            while run and run[0].group().lower() in ("the", "a", "an", "and", "but", "as"):
                run.pop(0)
            while run and run[-1].group().lower() in ("the", "of", "for", "and"):
                run.pop()
            if run and run[-1].group().lower() in ROLE_HEADS and _clean_role([t.group() for t in run]):
                start, end = base + run[0].start(), base + run[-1].end()
                yield _SPACE.sub(" ", raw[start:end]), start, end
            after = re.match(r",\s*((?:the\s+|a\s+)?[^,.;:“”\"()\n]{2,80}?)\s*[,.;]", raw[m.end() : m.end() + 100])
            if after:
                words = after.group(1).split()
                if words and (words[0].lower() in ("the", "a") or words[0][:1].isupper()) and not re.search(
                    r"\b(?:said|says|told|who|which|and|has|had|is|was)\b", after.group(1)
                ):
                    role = _clean_role(words)
                    if role:
                        s = m.end() + after.start(1) + after.group(1).find(role)
                        yield role, s, s + len(role)


def description_role(surface: str) -> str | None:
    """The role a resolved description gives ("The Black Country MP" -> "Black Country MP")."""
    if not surface or surface[:1].islower() and not surface.lower().startswith("the "):
        return None
    head = re.split(r",|\bwho\b|\bwhich\b", surface, maxsplit=1)[0].split()
    if not head or head[0].lower() not in ("the", "a"):
        return None
    return _clean_role(head)


_PARTIES = frozenset(
    line.strip().casefold() for line in (Path(__file__).parent.parent / "resources" / "gazetteer" / "parties.txt")
    .read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")
)
_ORG_BEFORE_ROLE = re.compile(
    r"\b([A-Z][\w’'-]+)\s+(?:general secretary|boss|leader|chief|spokes\w+|president|chair\w*)", re.I
)
_ORG_AFTER_ROLE = re.compile(r"\b(?:of|for|at)\s+(?:the\s+)?((?:[A-Z][\w’'-]*\s?){1,5})")


def affiliation(role: str) -> str | None:
    """The organisation a role names: a party ("Labour Deputy Leader"), "Unite boss", "spokesman for Momentum"."""
    for word in re.findall(r"[A-Z][\w’'-]+", role):
        word = re.sub(r"['’]s?$", "", word)
        if word.casefold() in _PARTIES:
            return word
    m = _ORG_BEFORE_ROLE.search(role)
    if m and m.group(1)[:1].isupper() and m.group(1).lower() not in ROLE_WORDS:
        return m.group(1)
    m = _ORG_AFTER_ROLE.search(role)
    if m and m.group(1).split()[-1].lower() in _ORG_HEADS | {"momentum", "unite"}:
        return m.group(1).strip()
    if m and len(m.group(1).split()) == 1:
        return m.group(1).strip()
    return None


# -- merging -----------------------------------------------------------------------------------------
@dataclass
class Actor:
    id: str
    name: str
    kind: str
    keys: set[tuple[str, ...]] = field(default_factory=set)
    mentions: list[tuple[Mention, str]] = field(default_factory=list)  # (mention, why it belongs here)
    merges: list[dict[str, str]] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    affiliations: Counter[str] = field(default_factory=Counter)

    def summary(self) -> dict[str, Any]:
        roles = sorted({(r.role, r.date or "") for r in self.roles}, key=lambda x: (x[1], x[0]))
        return {"id": self.id, "name": self.name, "kind": self.kind,
                "variants": sorted({m.name for m, _ in self.mentions}),
                "mentions": len(self.mentions), "articles": len({m.article_id for m, _ in self.mentions}),
                "roles": [{"role": r, "date": d or None} for r, d in roles],
                "affiliations": [a for a, _ in self.affiliations.most_common()]}


@dataclass(frozen=True)
class Corrections:
    merge: tuple[dict[str, Any], ...] = ()
    split: tuple[dict[str, Any], ...] = ()
    rename: tuple[dict[str, Any], ...] = ()
    set_role: tuple[dict[str, Any], ...] = ()
    source: str = ""

    @classmethod
    def read(cls, path: Path | None) -> Corrections:
        """Read a TOML corrections file; a missing file means no corrections."""
        if path is None or not path.exists():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"corrections file {path} is not valid TOML: {exc}", code="E150") from exc
        unknown = set(data) - {"merge", "split", "rename", "set_role"}
        if unknown:
            raise InputError(f"corrections file {path}: unknown section(s) {', '.join(sorted(unknown))}; "
                             "use merge, split, rename, set_role", code="E151")
        return cls(**{k: tuple(data.get(k, ())) for k in ("merge", "split", "rename", "set_role")},
                   source=path.name)


def corrections_path(settings: Settings) -> Path:
    """The corrections file: ``settings.corrections``, else ``storytrace-corrections.toml`` beside the store."""
    return settings.corrections or settings.db.parent / CORRECTIONS_FILE


def corrections_fingerprint(settings: Settings) -> str:
    path = corrections_path(settings)
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.exists() else ""


def _is_initial(word: str) -> bool:
    return len(word) == 1


def _first_compatible(a: str, b: str) -> str | None:
    """Why two first names can be one person's, or None."""
    if a == b:
        return "same name"
    if _SHORT_FORMS.get(a) == b or _SHORT_FORMS.get(b) == a or (_SHORT_FORMS.get(a) or 1) == _SHORT_FORMS.get(b):
        return f"first name {a!r} is a short form of {b!r}"
    return None


def resolve(mentions: Iterable[Mention], *, texts: Mapping[str, str] | None = None,
            corrections: Corrections | None = None) -> list[Actor]:
    """Merge mentions into actors; ``texts`` (article id -> raw text) gives roles."""
    by_key: dict[tuple[str, ...], list[Mention]] = defaultdict(list)
    for m in mentions:
        key = tuple(name_tokens(m.name))
        if key:
            by_key[key].append(m)
    # full names (two or more words, first not an initial) anchor actors; blocks by surname
    full = {k for k in by_key if len(k) >= 2 and not _is_initial(k[0])}
    by_surname: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for k in sorted(full, key=lambda k: (-len(by_key[k]), k)):
        by_surname[k[-1]].append(k)
    actors: dict[tuple[str, ...], Actor] = {}  # anchor key -> actor
    owner: dict[tuple[str, ...], tuple[str, ...]] = {}
    for surname, keys in by_surname.items():
        for k in keys:  # most mentioned first: it becomes the anchor others join
            target = None
            for anchor in (a for a in keys if a in actors):
                why = _first_compatible(k[0], anchor[0])
                if why and why != "same name":
                    target, reason = anchor, f"{why}; same surname {surname!r}"
                    break
                if why == "same name" and k != anchor and (k[0], k[-1]) == (anchor[0], anchor[-1]):
                    target, reason = anchor, "same first name and surname; middle name differs"
                    break
            if target is None:
                actors[k] = Actor("", _display(by_key[k]), _kind(by_key[k]), {k})
                owner[k] = k
                for m in by_key[k]:
                    actors[k].mentions.append((m, "full name"))
            else:
                owner[k] = target
                actors[target].keys.add(k)
                actors[target].merges.append({"name": " ".join(k), "reason": reason})
                actors[target].mentions.extend((m, reason) for m in by_key[k])
    for k, ms in by_key.items():
        if k in full:
            continue
        surname = k[-1]
        candidates = by_surname.get(surname, [])
        if len(k) >= 2 and _is_initial(k[0]):
            candidates = [c for c in candidates if c[0].startswith(k[0])]
        anchors = sorted({owner[c] for c in candidates})
        if len(anchors) == 1:
            a = anchors[0]
            why = (f"initial {k[0]!r} and surname {surname!r} match one full name in the corpus" if len(k) >= 2
                   else f"surname {surname!r} alone; one person of that name in the corpus")
            actors[a].keys.add(k)
            actors[a].merges.append({"name": " ".join(k), "reason": why})
            actors[a].mentions.extend((m, why) for m in ms)
            continue
        rest: list[Mention] = []
        for m in ms:  # several people share the surname: the one this article names, if only one
            here = [a for a in anchors if any(x.article_id == m.article_id for x, _ in actors[a].mentions)]
            if len(here) == 1:
                why = (f"surname {surname!r} shared by {len(anchors)} people; "
                       f"the article names only {actors[here[0]].name}")
                actors[here[0]].mentions.append((m, why))
            else:
                rest.append(m)
        if rest:
            why = (f"surname {surname!r} shared by {len(anchors)} people; no evidence joins it" if anchors
                   else "no full name in the corpus")
            actors[k] = Actor("", _display(rest), _kind(rest), {k})
            actors[k].mentions.extend((m, why) for m in rest)
            owner[k] = k
    found = list(actors.values())
    if corrections:
        found = _apply(found, corrections)
    _assign_ids(found)
    found.sort(key=lambda a: (-len(a.mentions), a.name))
    if texts is not None:
        add_roles(found, texts.items(), corrections)
    return found


def add_roles(actors: list[Actor], articles: Iterable[tuple[str, str]], corrections: Corrections | None = None,
              ) -> None:
    """Roles, affiliations and kinds of resolved ``actors`` from a stream of (article id, raw text).

    One article's text at a time: the corpus stage streams the articles instead of holding the raw text of
    every mentioning article (gigabytes at 100k articles). The roles come out in the order a pass over every
    actor's texts would give: description roles in mention order, then roles found in each article's text.
    """
    # article id -> (actor number, the article's rank among the actor's articles, the actor's mentions there)
    by_article: dict[str, list[tuple[int, int, list[tuple[int, Mention]]]]] = defaultdict(list)
    for n, actor in enumerate(actors):
        per: dict[str, list[tuple[int, Mention]]] = defaultdict(list)
        for i, (m, _why) in enumerate(actor.mentions):
            per[m.article_id].append((i, m))
        for rank, (aid, ms) in enumerate(per.items()):
            by_article[aid].append((n, rank, ms))
    keyed: list[list[tuple[tuple[int, int, int], Role]]] = [[] for _ in actors]
    for article_id, raw in articles:
        for n, rank, ms in by_article.get(article_id, ()):
            keyed[n].extend(_article_roles(actors[n], article_id, raw, ms, rank))
    for actor, roles in zip(actors, keyed, strict=True):
        actor.roles.extend(r for _k, r in sorted(roles, key=lambda kr: kr[0]))
        _finish_roles(actor)
    if corrections:
        _apply_roles(actors, corrections)


def _display(ms: list[Mention]) -> str:
    counts = Counter(re.sub(r"['’]s$", "", m.name.replace("\xa0", " ").strip()) for m in ms)
    return max(counts, key=lambda n: (counts[n], len(n)))


def _kind(ms: list[Mention]) -> str:
    kinds = Counter(m.kind for m in ms if m.kind != "unknown")
    if kinds:
        return kinds.most_common(1)[0][0]
    return "person" if any(len(name_tokens(m.name)) >= 2 for m in ms) else "unknown"


def _assign_ids(actors: list[Actor]) -> None:
    seen: Counter[str] = Counter()
    for actor in sorted(actors, key=lambda a: (-len(a.mentions), a.name)):
        base = slug(actor.name)
        seen[base] += 1
        actor.id = base if seen[base] == 1 else f"{base}-{seen[base]}"


def _article_roles(actor: Actor, article_id: str, raw: str, ms: list[tuple[int, Mention]], order: int,
                   ) -> list[tuple[tuple[int, int, int], Role]]:
    """An actor's roles in one article, each with its sort key: (0, mention index) for a role in the mention's
    own description ("the Labour peer"), (1, article order, n) for one found near its names in the text."""
    out: list[tuple[tuple[int, int, int], Role]] = []
    names: set[str] = set()
    published = ms[-1][1].published
    for i, m in ms:
        if m.start is not None and m.surface and not name_tokens(m.surface)[-1:] == name_tokens(m.name)[-1:]:
            role = description_role(m.surface)
            if role:
                s = m.start + m.surface.find(role.split()[0])
                sent = _sentence(raw, s, s + len(role))
                out.append(((0, i, 0), Role(role, article_id, m.published, s, s + len(role), *sent)))
        names.add(m.name.replace("\xa0", " "))
        if m.surface and m.start is not None and len(m.surface) < 60:
            tokens = name_tokens(m.surface)
            if tokens and tokens[-1:] == name_tokens(m.name)[-1:]:
                names.update(raw[m.start : m.end].split(",")[0].split()[-1:])
    seen = set()
    lowered = {n.lower() for n in names}
    for role, start, end in roles_in(raw, names):
        if start in seen or role.lower() in lowered:
            continue
        seen.add(start)
        out.append(((1, order, len(out)), Role(role, article_id, published, start, end, *_sentence(raw, start, end))))
    return out


def _finish_roles(actor: Actor) -> None:
    """Affiliations from the roles, and the kind where the mentions left it open."""
    for r in actor.roles:
        if org := affiliation(r.role):
            actor.affiliations[org] += 1
    if actor.kind == "unknown" and any(
        w in _ORG_HEADS for m, _ in actor.mentions for w in re.findall(r"\w+", m.surface.lower())
    ):
        actor.kind = "organisation"
    if actor.kind == "unknown" and actor.roles:
        actor.kind = "person"


def _find(actors: list[Actor], name: str) -> Actor | None:
    key = tuple(name_tokens(name))
    for a in actors:
        if a.id == name or a.name.casefold() == name.casefold():
            return a
    for a in actors:
        if key in a.keys:
            return a
    return None


def _apply(actors: list[Actor], corrections: Corrections) -> list[Actor]:
    """Apply split, then merge, then rename entries; each leaves its reason on the actor."""
    src = corrections.source or "corrections"
    for n, entry in enumerate(corrections.split, 1):
        name = str(entry.get("name", ""))
        key = tuple(name_tokens(name))
        prefixes = [str(p) for p in entry.get("articles", [])]
        for actor in actors:
            moved = [(m, r) for m, r in actor.mentions if tuple(name_tokens(m.name)) == key
                     and (not prefixes or any(m.article_id.startswith(p) for p in prefixes))]
            if moved and len(moved) < len(actor.mentions):
                actor.mentions = [x for x in actor.mentions if x not in moved]
                actor.keys.discard(key)
                why = f"split by {src} split #{n}"
                new = Actor("", str(entry.get("as", name)), actor.kind, {key}, [(m, why) for m, _ in moved])
                new.merges.append({"name": name, "reason": why + f" (from {actor.name})"})
                actors.append(new)
                break
    for n, entry in enumerate(corrections.merge, 1):
        names = [str(x) for x in entry.get("names", [])]
        found = [a for a in (_find(actors, x) for x in names) if a is not None]
        if len(found) < 2:
            continue
        keep = found[0]
        for other in found[1:]:
            if other is keep or other not in actors:
                continue
            why = f"merged by {src} merge #{n}" + (f": {entry['reason']}" if entry.get("reason") else "")
            keep.keys |= other.keys
            keep.mentions.extend((m, why) for m, _ in other.mentions)
            keep.merges.append({"name": other.name, "reason": why})
            actors.remove(other)
    for n, entry in enumerate(corrections.rename, 1):
        renamed = _find(actors, str(entry.get("actor", "")))
        if renamed is not None and entry.get("name"):
            renamed.merges.append({"name": renamed.name, "reason": f"renamed by {src} rename #{n}"})
            renamed.name = str(entry["name"])
            if entry.get("kind"):
                renamed.kind = str(entry["kind"])
    return actors


def _apply_roles(actors: list[Actor], corrections: Corrections) -> None:
    for entry in corrections.set_role:
        actor = _find(actors, str(entry.get("actor", "")))
        if actor is None or not entry.get("role"):
            continue
        if entry.get("replace"):
            actor.roles = []
        actor.roles.append(Role(str(entry["role"]), "", str(entry.get("date") or "") or None, 0, 0, 0, 0,
                                source="correction"))


# -- the corpus stage ------------------------------------------------------------------------------------
def actors_stage(view: Any, settings: Settings) -> Any:
    """Corpus stage: canonical actors with roles, affiliations and the reason for every merge."""
    from storytrace.stages import CorpusOutput

    mentions: list[Mention] = []
    published: dict[str, str | None] = {}
    for article_id, inputs in view.inputs():
        mentions.extend(article_mentions(article_id, inputs))
    wanted = {m.article_id for m in mentions}
    for article in view.articles():  # the dates first: a role carries its article's date
        if article.id in wanted:
            published[article.id] = article.published[:10] if article.published else None
    mentions = [Mention(m.article_id, m.name, m.surface, m.start, m.end, m.kind, m.origin,
                        published.get(m.article_id)) for m in mentions]
    corrections = Corrections.read(corrections_path(settings))
    found = resolve(mentions, corrections=corrections)
    # Then the roles, one article's raw text at a time (only articles that mention someone).
    add_roles(found, ((a.id, a.raw_text) for a in view.articles() if a.id in wanted), corrections)

    def records() -> Iterator[tuple[str, str | None, dict[str, Any]]]:
        for actor in found:
            yield actor.id, None, {**actor.summary(), "merges": actor.merges,
                                   "roles": [r.to_dict() for r in actor.roles]}
            for m, why in actor.mentions:
                yield actor.id, m.article_id, {"name": m.name, "surface": m.surface, "start": m.start,
                                               "end": m.end, "origin": m.origin, "reason": why}

    summary = {"actors": [a.summary() for a in found[:300]], "count": len(found),
               "mentions": len(mentions), "corrections": corrections_fingerprint(settings) or None}
    return CorpusOutput(summary, records())
