"""Build the place gazetteers in storytrace/resources/gazetteer/ from open data we can reach.

- ``countries.txt``: the Reuters-21578 PLACES category list (country names, title-cased), plus the
  common short and current names written by hand below.
- ``cities.txt``: city names from Reuters-21578 datelines ("LONDON, March 3 -") seen at least
  ``--min-count`` times, plus a hand-written list of UK and Irish cities (the seed articles are British).

Only names (facts) are kept, never text. Run: ``python training/build_gazetteer.py --data ../shared/data``.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "storytrace" / "resources" / "gazetteer"

# Hand-written: current or everyday names missing from the 1987 Reuters list.
COUNTRY_EXTRA = """United States|United States of America|America|US|U.S.|USA|United Kingdom|UK|U.K.|Britain|
Great Britain|England|Scotland|Wales|Northern Ireland|Russia|Germany|Czech Republic|Czechia|Slovakia|
Croatia|Serbia|Slovenia|Bosnia|Montenegro|Kosovo|North Macedonia|Macedonia|Ukraine|Belarus|Moldova|
Lithuania|Latvia|Estonia|Georgia|Armenia|Azerbaijan|Kazakhstan|Uzbekistan|Turkmenistan|Kyrgyzstan|
Tajikistan|Myanmar|Cambodia|Yemen|South Sudan|Eritrea|Timor-Leste|Palestine|Gaza|West Bank|
Democratic Republic of Congo|DRC|Ivory Coast|Côte d'Ivoire|Vatican City|Hong Kong|Macau|South Korea|
North Korea|New Zealand|Saudi Arabia|United Arab Emirates|UAE|European Union|EU""".replace("\n", "")

CITY_EXTRA = """London|Manchester|Birmingham|Liverpool|Leeds|Sheffield|Bristol|Newcastle|Nottingham|
Leicester|Coventry|Bradford|Hull|Plymouth|Southampton|Portsmouth|Brighton|Oxford|Cambridge|York|
Norwich|Exeter|Derby|Stoke|Wolverhampton|Sunderland|Middlesbrough|Doncaster|Wigan|Bolton|Preston|
Blackpool|Cardiff|Swansea|Newport|Edinburgh|Glasgow|Aberdeen|Dundee|Inverness|Belfast|Derry|
Dublin|Cork|Westminster|Islington|Hackney|Brussels|Paris|Berlin|Madrid|Rome|Washington|New York|
Moscow|Beijing|Tokyo|Delhi|New Delhi|Mumbai|Sydney|Toronto""".replace("\n", "")


def title(name: str) -> str:
    return " ".join(w if w.isupper() and len(w) <= 3 else w.capitalize() for w in re.split(r"[-\s]+", name))


def build(data: Path, *, min_count: int = 5) -> tuple[list[str], list[str]]:
    reuters = data / "reuters21578"
    places = [ln.strip() for ln in (reuters / "all-places-strings.lc.txt").read_text().split() if ln.strip()]
    countries = {title(p) for p in places if p not in {"uk", "usa", "uae", "ussr"}}
    countries |= {c.strip() for c in COUNTRY_EXTRA.split("|") if c.strip()}
    counts: Counter[str] = Counter()
    for sgm in sorted(reuters.glob("reut2-*.sgm")):
        text = sgm.read_text(encoding="latin-1")
        for m in re.finditer(r"<DATELINE>\s*([A-Za-z .'-]+?)\s*,", text):
            counts[title(m.group(1).lower())] += 1
    cities = {c for c, n in counts.items() if n >= min_count and len(c) > 2} - countries
    cities |= {c.strip() for c in CITY_EXTRA.split("|") if c.strip()}
    return sorted(countries), sorted(cities)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--min-count", type=int, default=5)
    args = ap.parse_args()
    countries, cities = build(args.data, min_count=args.min_count)
    OUT.mkdir(parents=True, exist_ok=True)
    head = "# Built by training/build_gazetteer.py from Reuters-21578 {} plus hand-written additions.\n"
    (OUT / "countries.txt").write_text(head.format("PLACES categories") + "\n".join(countries) + "\n")
    (OUT / "cities.txt").write_text(head.format("datelines") + "\n".join(cities) + "\n")
    print(f"{len(countries)} countries, {len(cities)} cities -> {OUT}")


if __name__ == "__main__":
    main()
