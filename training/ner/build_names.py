"""Build storytrace/resources/ner/first_names.txt: words that open a person's name in the training data.

A word is listed when it opens a multi-word PERSON name (tagged as a proper noun) at least once in the
UniversalNER English-EWT train split or the GUM train silver layer (non-NC genres), is capitalised and
alphabetic, and is neither a title or particle (``NOT_FIRST``), a place in ``gazetteer/`` ("Paris"), nor a common
lowercase word in the same data ("Will", "Park", "New"). This complements
``gazetteer/given_names.txt`` (names seen twice, plus a hand-written list): here one sighting is enough, because
the entity rules use it only next to a capitalised word or to split two names run together.
Only train splits are read, so no dev or test name leaks into the rules; only names are kept, never text.
Run: ``python training/ner/build_names.py --data ../shared/data``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(REPO / "training"))

from given_names import first_words  # noqa: E402

from storytrace.nlp.rules import read_list  # noqa: E402

OUT = REPO / "storytrace" / "resources" / "ner" / "first_names.txt"
VERSION = "1"
# Capitalised words that open person names in the data without being first names (titles, particles, kin words).
NOT_FIRST = frozenset(
    """Doctor Madam Vice President Red Sheikh Sheik Shaikh Ayatollah Maulana Mullah Mr Mrs Ms Dr Sir Lord Lady
    King Queen Prince Princess Saint St General Captain Senator Governor Judge Professor Father Brother Sister
    Uncle Aunt Big Little Old Young Mister Miss Pope Bin Bn Ibn Al El Van Von De Da Di Du Del Der La Le Abu Abd
    Congresswoman Congressman Inspector Secretary Santa Tsar Prophet Imam Emperor Chairman Minister Premier Mayor
    Agent Officer Sergeant Major Colonel Lieutenant Commander Admiral Dear Hi Hello Hey Thanks Thank Mom Dad The
    Jesus God Saint Chief Deputy Director Coach Team Analyst Associate Ambassador Architect Emeritus Empress
    Judiciary Madame Newcomer Scientologist Senators Symbiote Tsarevna Undersecretary Mets""".split()
)


def build(data: Path) -> list[str]:
    """Return the sorted first names."""
    firsts, lowercase = first_words(data)
    places = set(read_list("countries.txt")) | set(read_list("cities.txt"))
    names = {n for n in firsts if n.isalpha() and len(n) > 1 and n[:1].isupper() and not n.isupper()}
    return sorted(n for n in names - NOT_FIRST - places if lowercase[n.lower()] < 5)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()
    names = build(args.data)
    head = (
        f"# storytrace first names v{VERSION}. Built by training/ner/build_names.py: words opening a multi-word\n"
        "# PERSON name in UNER-EWT train or GUM train (silver, non-NC), minus titles, places and common words.\n"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(head + "\n".join(names) + "\n", encoding="utf-8")
    print(f"{len(names)} first names -> {OUT}")


if __name__ == "__main__":
    main()
