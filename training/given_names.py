"""Build storytrace/resources/gazetteer/given_names.txt: first names of people in the training data.

A name marked `` *`` is also a common lowercase word ("Mark", "Bill") and counts as a given name only
before a surname. The first word of multi-word PERSON names (seen at least twice) in UniversalNER-EWT train and the GUM
(non-NC) train silver layer, plus a hand-written list of common English given names (``COMMON`` below, written for
storytrace from general knowledge). Only train splits are read, so no test name leaks into the rules.
Run: ``python training/given_names.py --data ../shared/data``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from storytrace.bench import ud  # noqa: E402

OUT = REPO / "storytrace" / "resources" / "gazetteer" / "given_names.txt"
COMMON = """
    Aaron Adam Adrian Alan Albert Alex Alexander Alexandra Alice Alison Alistair Amanda Amber Amy
    Andrea Andrew Andy Angela Angus Ann Anna Anne Anthony Antony Arthur Ashley Barbara Barry Ben
    Benjamin Bernard Beth Betty Bill Billy Bob Boris Brenda Brian Bruce Carl Carol Caroline Carolyn
    Catherine Charles Charlie Charlotte Chloe Chris Christine Christopher Chuka Claire Clare Colin
    Craig Daniel Danny Dave David Dawn Debbie Deborah Dennis Derek Diana Diane Dominic Donald Donna
    Dorothy Douglas Duncan Ed Eddie Edward Elizabeth Ellie Emily Emma Eric Fiona Frances Francis
    Frank Gary Gavin Geoffrey George Gerald Gillian Gordon Graham Grant Hannah Harold Harriet Harry
    Heather Helen Henry Hilary Hillary Ian Isabel Jack Jackie Jacob Jacqui James Jamie Jane Janet
    Jason Jean Jeff Jennifer Jenny Jeremy Jessica Jill Jim Jo Joan Joanna Joe John Jon Jonathan
    Joseph Josh Joshua Joyce Judith Julia Julian Julie Justin Karen Kate Katherine Kathleen Keir
    Keith Kelly Ken Kenneth Kevin Kim Laura Lauren Lawrence Len Leo Liam Linda Lisa Liz Louise Lucy
    Luke Lynne Margaret Maria Marie Mark Martin Mary Matt Matthew Megan Michael Michelle Mike Nancy
    Natalie Neil Nicholas Nick Nicola Nigel Oliver Olivia Owen Pamela Patricia Patrick Paul Paula
    Peter Phil Philip Rachel Ralph Rebecca Richard Rob Robert Robin Roger Ronald Rosie Ruth Ryan
    Sadiq Sally Sam Samantha Samuel Sandra Sarah Scott Sean Sharon Shirley Simon Sophie Stephen
    Steve Steven Stuart Susan Suzanne Theresa Thomas Tim Timothy Tom Tony Tracy Valerie Vince
    Vincent Virginia Walter Wayne William Yvette Zoe
""".split()
# Capitalised words that open person names in the data without being given names.
NOT_GIVEN = frozenset(
    """Doctor Madam Vice President Red Sheikh Sheik Ayatollah Maulana Mr Mrs Ms Dr Sir Lord Lady King
    Queen Prince Princess Saint St General Captain Senator Governor Judge Professor Father Brother
    Sister Uncle Aunt Big Little Old Young Mister Miss Pope Bin Al El Van Von De La Le Abu Abd Congresswoman
    Congressman Inspector Mullah Secretary Santa Tsar Mets Te Jesus Johnson Jensen Smutney Carrano""".split()
)


def first_words(data: Path) -> tuple[Counter[str], Counter[str]]:
    """Train splits only (UNER-EWT and GUM non-NC): how often each proper noun opens a multi-word PERSON name, and
    how often each lowercase word occurs (a name that is also a common word, "Will", "Park", is told apart by it).
    ``training/ner/build_names.py`` reads the same counts."""
    counts: Counter[str] = Counter()
    lowercase: Counter[str] = Counter()
    for docs in (ud.read_ewt(data, "train"), ud.read_gum(data, "train")):
        for doc in docs:
            for sent in doc.sentences:
                lowercase.update(w.form for w in sent.words if w.form.islower())
                for start, end, label in ud._spans_from_iob([t or "O" for t in sent.ents or []]):
                    first = sent.words[start]
                    if label == "PERSON" and end - start >= 2 and first.upos == "PROPN":
                        counts[first.form] += 1
    return counts, lowercase


def build(data: Path) -> list[str]:
    """Return gazetteer lines: a name, followed by " *" when it is also a common lowercase word."""
    counts, lowercase = first_words(data)
    common = set(COMMON)
    names = {n for n, c in counts.items() if c >= 2 and n.isalpha() and n[:1].isupper() and not n.isupper()}
    out = []
    for name in sorted((names | common) - NOT_GIVEN):
        if lowercase[name.lower()] < 5:
            out.append(name)
        elif name in common:  # "Mark", "Bill": a given name only before a surname
            out.append(f"{name} *")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()
    names = build(args.data)
    head = "# Built by training/given_names.py from UNER-EWT and GUM (non-NC) train names + a hand-written list.\n"
    OUT.write_text(head + "\n".join(names) + "\n", encoding="utf-8")
    print(f"{len(names)} given names -> {OUT}")


if __name__ == "__main__":
    main()
