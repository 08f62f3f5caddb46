"""Outlet names by web domain, and the spellings of those names met in page chrome and markup.

A small hand-kept table, not a directory of the press: it covers outlets that storytrace users meet
most (UK and US national news, wires, a few political sites). A domain missing here still names its
outlet by the bare domain ("example-news.com") with lower confidence; add a row to name it properly.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# Registrable domain → the outlet's usual name. Subdomains (www., m., amp., edition.) resolve to their
# parent, so list each outlet once at the shortest domain that is only theirs.
DOMAINS: dict[str, str] = {
    # UK
    "independent.co.uk": "The Independent",
    "theguardian.com": "The Guardian",
    "guardian.co.uk": "The Guardian",
    "observer.co.uk": "The Observer",
    "bbc.co.uk": "BBC News",
    "bbc.com": "BBC News",
    "mirror.co.uk": "Daily Mirror",
    "dailymail.co.uk": "Daily Mail",
    "telegraph.co.uk": "The Telegraph",
    "thetimes.co.uk": "The Times",
    "thesun.co.uk": "The Sun",
    "express.co.uk": "Daily Express",
    "standard.co.uk": "Evening Standard",
    "ft.com": "Financial Times",
    "economist.com": "The Economist",
    "newstatesman.com": "New Statesman",
    "spectator.co.uk": "The Spectator",
    "politicshome.com": "PoliticsHome",
    "huffingtonpost.co.uk": "HuffPost UK",
    "labourlist.org": "LabourList",
    "conservativehome.com": "ConservativeHome",
    "heraldscotland.com": "The Herald",
    "scotsman.com": "The Scotsman",
    "thenational.scot": "The National",
    "dailyrecord.co.uk": "Daily Record",
    "eveningexpress.co.uk": "Evening Express",
    "itv.com": "ITV News",
    "news.sky.com": "Sky News",
    "channel4.com": "Channel 4 News",
    "metro.co.uk": "Metro",
    "inews.co.uk": "i",
    "morningstaronline.co.uk": "Morning Star",
    "theconversation.com": "The Conversation",
    "irishtimes.com": "The Irish Times",
    # wires
    "reuters.com": "Reuters",
    "apnews.com": "Associated Press",
    "afp.com": "AFP",
    "bloomberg.com": "Bloomberg",
    # US
    "nytimes.com": "The New York Times",
    "washingtonpost.com": "The Washington Post",
    "wsj.com": "The Wall Street Journal",
    "usatoday.com": "USA Today",
    "latimes.com": "Los Angeles Times",
    "cnn.com": "CNN",
    "foxnews.com": "Fox News",
    "nbcnews.com": "NBC News",
    "cbsnews.com": "CBS News",
    "abcnews.go.com": "ABC News",
    "npr.org": "NPR",
    "politico.com": "Politico",
    "politico.eu": "Politico Europe",
    "thehill.com": "The Hill",
    "huffpost.com": "HuffPost",
    "huffingtonpost.com": "HuffPost",
    "breitbart.com": "Breitbart",
    "vox.com": "Vox",
    "theatlantic.com": "The Atlantic",
    "newyorker.com": "The New Yorker",
    "time.com": "Time",
    "newsweek.com": "Newsweek",
    "axios.com": "Axios",
    "buzzfeednews.com": "BuzzFeed News",
    # elsewhere
    "aljazeera.com": "Al Jazeera",
    "dw.com": "Deutsche Welle",
    "france24.com": "France 24",
    "euronews.com": "Euronews",
    "abc.net.au": "ABC News (Australia)",
    "smh.com.au": "The Sydney Morning Herald",
    "cbc.ca": "CBC News",
    "theglobeandmail.com": "The Globe and Mail",
}

# Other spellings met in chrome ("follow other Independent readers") and markup ("@guardian").
_EXTRA_ALIASES: dict[str, str] = {
    "guardian": "The Guardian",
    "guardian news": "The Guardian",
    "the guardian": "The Guardian",
    "observer": "The Observer",
    "independent": "The Independent",
    "the independent": "The Independent",
    "indy": "The Independent",
    "bbc": "BBC News",
    "bbc news": "BBC News",
    "mirror": "Daily Mirror",
    "the mirror": "Daily Mirror",
    "mirror online": "Daily Mirror",
    "mail online": "Daily Mail",
    "mailonline": "Daily Mail",
    "telegraph": "The Telegraph",
    "the daily telegraph": "The Telegraph",
    "herald scotland": "The Herald",
    "heraldscotland": "The Herald",
    "huffington post": "HuffPost",
    "ap": "Associated Press",
    "the associated press": "Associated Press",
    "nyt": "The New York Times",
    "new york times": "The New York Times",
    "washington post": "The Washington Post",
    "wall street journal": "The Wall Street Journal",
    "ft": "Financial Times",
}


def _fold(name: str) -> str:
    return " ".join(name.replace("@", " ").replace("_", " ").split()).casefold()


ALIASES: dict[str, str] = {_fold(name): name for name in DOMAINS.values()}
ALIASES.update({_fold(name.removeprefix("The ")): name for name in DOMAINS.values()})
ALIASES.update(_EXTRA_ALIASES)


def known_name(name: str) -> str | None:
    """Return the table's name for an outlet spelled ``name`` ("Independent", "@guardian"), if known."""
    return ALIASES.get(_fold(name))


def host(url: str) -> str:
    """Return the lower-case host of ``url`` without a leading www./m./amp. ("" when there is none)."""
    try:
        netloc = urlsplit(url if "//" in url else f"//{url}").hostname or ""
    except ValueError:
        return ""
    for prefix in ("www.", "m.", "amp.", "mobile."):
        if netloc.startswith(prefix):
            netloc = netloc[len(prefix):]
    return netloc


def outlet_for_url(url: str) -> tuple[str, bool] | None:
    """Return (outlet name, whether the domain is in the table) for ``url``, or None without a host."""
    name = host(url)
    if not name or "." not in name:
        return None
    parts = name.split(".")
    for i in range(len(parts) - 1):
        if (found := DOMAINS.get(".".join(parts[i:]))) is not None:
            return found, True
    return name, False
