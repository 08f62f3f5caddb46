from __future__ import annotations

from pathlib import Path

from storytrace.analyze.facts import find
from storytrace.corpus import Corpus
from storytrace.settings import Settings
from tests.conftest import EXAMPLES


def test_kinds_values_and_what_they_count() -> None:
    text = ("He lost a vote of no confidence by a margin of 172-40. He won with 59.5% of the vote. "
            "More than 25,000 people marched and they raise £11,000 a day. The group has up to 100,000 members.")
    got = {(f["kind"], str(f["value"]), f["qualifier"], f["counts"]) for f in find(text)}
    assert ("tally", "[172, 40]", "", "vote of no confidence") in got
    assert ("percent", "59.5", "", "of the vote") in got
    assert ("count", "25000.0", "more than", "people") in got
    assert ("amount", "11000.0", "", "money a day") in got
    assert ("count", "100000.0", "up to", "members") in got


def test_years_are_not_counts() -> None:
    assert find("He led the party to defeats in 1987 and 1992.") == []


def test_tally_linked_across_outlets(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    with Corpus(db, settings=Settings(progress=False)) as corpus:
        corpus.ingest([str(EXAMPLES)])
        corpus.analyze(["facts", "stories", "fact_alignment"])
        tally = [f for f in corpus.facts() if f["kind"] == "tally"]
    assert len(tally) == 1 and tally[0]["citations"][0]["text"] == "172-40"
    assert len(tally[0]["also_reported_by"]) >= 2  # other outlets report the no-confidence vote without the figure
