from __future__ import annotations

import csv
from pathlib import Path

import pytest

from storytrace.analyze.stance import find, summarise
from storytrace.bench import stance as bench_stance
from storytrace.corpus import Corpus
from storytrace.ingest.pipeline import Prepared, prepare
from storytrace.model import RawDocument
from storytrace.settings import Settings
from tests.conftest import EXAMPLES

SEED_DATES = {"000_4b265e9908216e3e.txt": "2016-07-04", "001_5eab56d17bbf0643.txt": "2016-07-04",
              "002_f5f0807e30fc34e7.txt": "2016-07-04", "003_cfce1aa51925a04d.txt": "2017-02-27",
              "004_2eff0df1e710e36d.txt": "2016-06-29"}


def _article(text: str):
    prepared = prepare(RawDocument(source_path="t.txt", text=text), boilerplate={}, settings=Settings())
    assert isinstance(prepared, Prepared)
    return prepared.article


def _stances(text: str) -> list[tuple[str, str, str]]:
    return [(s["holder"], s["target"], s["polarity"]) for s in find(_article(text), [])]


@pytest.mark.parametrize(("text", "expected"), [
    ("Jane Doe met John Roe on Monday. Jane Doe backed John Roe in the vote.", ("Jane Doe", "John Roe", "support")),
    ("Jane Doe met John Roe on Monday. Jane Doe urged John Roe to quit.", ("Jane Doe", "John Roe", "oppose")),
    ("John Roe spoke on Monday. Jane Doe said there should be no leadership challenge against John Roe.",
     ("Jane Doe", "John Roe", "support")),
    ("John Roe spoke on Monday. Jane Doe told John Roe he could not carry on as leader.",
     ("Jane Doe", "John Roe", "oppose")),
    ("John Roe spoke on Monday. John Roe talked again. Jane Doe refused to be drawn on whether John Roe should go.",
     ("Jane Doe", "John Roe", "neutral")),
    ("John Roe spoke on Monday. John Roe has refused to quit despite the pressure.",
     ("John Roe", "John Roe should stay as leader", "support")),
])
def test_polarity_rules_with_negation(text: str, expected: tuple[str, str, str]) -> None:
    assert expected in _stances(text)


def test_no_actor_takes_a_stance_toward_themselves() -> None:
    # "Corbyn -> Corbyn": a leader refusing to quit holds a stance on the proposition of their staying
    text = ("John Roe spoke on Monday. John Roe has refused to quit despite the pressure. John Roe said he would "
            "not resign. Jane Doe backed John Roe.")
    found = find(_article(text), [])
    assert found and all(s["holder"] != s["target"] for s in found)
    own = [s for s in found if s["holder"] == "John Roe"]
    assert own and all(s["target_kind"] == "concept" and s["about"] == "John Roe" for s in own)


def test_past_stance_is_not_read_as_current() -> None:
    found = _stances("John Roe spoke on Monday. Jane Doe, who previously backed John Roe, stayed silent.")
    assert ("Jane Doe", "John Roe", "support") not in found


def test_summarise_mixed() -> None:
    rows = [{"polarity": "support", "confidence": 0.8}, {"polarity": "oppose", "confidence": 0.8}]
    assert summarise(rows) == "mixed"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("seeds")
    manifest = root / "meta.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "published"])
        for name, date in SEED_DATES.items():
            writer.writerow([str(EXAMPLES / name), date])
    db = root / "s.db"
    with Corpus(db, settings=Settings(progress=False)) as corpus:
        corpus.ingest([str(EXAMPLES)], manifest=manifest)
        corpus.analyze(["stances", "stance_changes", "facts", "stories", "fact_alignment", "briefs"])
    return db


def test_seed_stances_toward_corbyn(seeded: Path) -> None:
    with Corpus(seeded, readonly=True) as corpus:
        every = corpus.stances()
        overall = {p["holder"]: p for p in every if p["target"] == "Jeremy Corbyn"}
    assert all(p["holder"] != p["target"] for p in every)  # no "Corbyn -> Corbyn"
    own = [p for p in every if p["holder"] == "Jeremy Corbyn" and p["target"] == "Jeremy Corbyn should stay as leader"]
    assert own and own[0]["overall"] == "support"
    for name in ("Neil Kinnock", "Angela Eagle"):
        assert overall[name]["overall"] == "oppose"
    for name in ("John McDonnell", "Manuel Cortes", "Momentum"):
        assert overall[name]["overall"] == "support"
    assert overall["Tony Blair"]["overall"] == "neutral"
    watson = overall["Tom Watson"]["changes"]
    assert watson and watson[-1]["to"] == "support" and watson[-1]["to_date"].startswith("2017-02")
    mccluskey = overall["Len McCluskey"]["changes"]
    assert mccluskey and mccluskey[-1]["from"] == "support" and mccluskey[-1]["to_date"].startswith("2017-02")


def test_dna_export(seeded: Path, tmp_path: Path) -> None:
    out = tmp_path / "dna.csv"
    with Corpus(seeded, readonly=True) as corpus:
        corpus.export(out, format="dna")
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    columns = {"person", "organisation", "concept", "agreement", "date", "article_id", "start", "end"}
    assert rows and columns <= set(rows[0])
    assert any(r["organisation"] == "Momentum" and r["agreement"] == "1" for r in rows)


def test_bench_stance_seeds() -> None:
    figures = bench_stance.run(Path("."), split="seeds")
    assert figures["labels"] == 21 and figures["accuracy"] >= 0.85


def test_stance_changes_use_inferred_dates_without_a_manifest(tmp_path):
    from storytrace.corpus import Corpus
    from storytrace.settings import Settings
    from tests.conftest import EXAMPLES

    with Corpus(settings=Settings(db=tmp_path / "c.db", progress=False)) as corpus:
        corpus.ingest([EXAMPLES])  # only one seed carries a date; the timeline stage infers the rest
        corpus.analyze(["stance_changes", "timeline"])
        changes = {(r[2]["target"], r[0]) for r in corpus.store.corpus_records("stance_changes", limit=1000)}
        summary = corpus.store.corpus_result("stance_changes")[1]
    changed = {(a["holder"], a["target"]) for a in summary["top"] if a["changes"]}
    assert ("Tom Watson", "Jeremy Corbyn") in changed and ("Len McCluskey", "Jeremy Corbyn") in changed
    assert changes


def test_evaluation_in_a_quotation_and_naming_someone_as_something() -> None:
    from storytrace.analyze import stance

    assert stance.CUES  # the evaluative cues are part of the rule set
    narrative = [c for c in stance.CUES if c.kind == "transitive" and c.pattern.search("called Jane Roe a “disgrace”")]
    assert narrative and narrative[0].polarity == "oppose"
    quoted = [c for c in stance.CUES if c.kind == "eval" and c.pattern.search("Donald Trump may lie")]
    assert quoted and quoted[0].polarity == "oppose"
    assert any(c.kind == "eval" and c.polarity == "support" and c.pattern.search("far and away the superior candidate")
               for c in stance.CUES)


def test_stance_bench_reads_the_polnear_label_splits() -> None:
    from storytrace.bench import stance as bench

    rows = bench.labels()
    splits = {r["split"] for r in rows}
    assert {"seeds", "unseen", "tune", "heldout"} <= splits
    assert len({r["article"] for r in rows if r["split"] in ("tune", "heldout")}) >= 15
    assert all(r["end"] > r["start"] for r in rows)


def test_transcript_turns_and_signed_opinion_pieces() -> None:
    from storytrace.analyze.stance import author

    transcript = ("Mike Pence spoke to Chris Wallace about Hillary Clinton.\n\n"
                  "\"WALLACE: Will she be there?\n\n"
                  "\"PENCE: Well, Hillary Clinton is a disgrace, and I say it plainly.\n")
    assert ("Mike Pence", "Hillary Clinton", "oppose") in _stances(transcript)
    letter = ("Letters.\n\nJohn Roe met Jane Doe on Monday. A man so reckless as John Roe cannot lead.\n\n"
              "Mary Major.\n\nSpringfield Ill.\n")
    assert author(letter) == "Mary Major"
    assert ("Mary Major", "John Roe", "oppose") in _stances(letter)
    oped = "Jane Doe and John Roe foolishly withdrew the troops.\n\nRichard Miles is the former mayor of Springfield.\n"
    assert author(oped) == "Richard Miles"
    found = _stances(oped)
    assert ("Richard Miles", "Jane Doe", "oppose") in found and ("Richard Miles", "John Roe", "oppose") in found
    # a news story's last line is not a signature
    assert author("Jane Doe backed John Roe on Monday.\n\nThe vote is on Tuesday.\n") is None


def test_coordinated_holders_and_described_targets() -> None:
    found = _stances("Jane Doe spoke. The Federation of Teachers and the AFL-CIO have also endorsed Jane Doe. "
                     "John Roe criticized Tulsa, Okla., police officer Mary Major on Monday.")
    assert ("AFL-CIO", "Jane Doe", "support") in found
    assert ("John Roe", "Mary Major", "oppose") in found


def test_quotation_continuation_and_the_person_a_quotation_last_named() -> None:
    from storytrace.analyze.stance import find

    text = ('Jane Doe spoke on Monday about the race and about Jane Doe\'s rival.\n\n'
            '"The people do not agree with him," Jane Doe said, suggesting questions, including, "Mr. Roe, do you '
            'really think that? You go issue by issue and you expose him for the fraud that he is."\n')
    article = _article(text)
    a = text.index('"The people')
    b = text.index(',"') + 1
    c = text.index('"Mr. Roe')
    quotes = [{"speaker": "Jane Doe", "kind": "direct", "content_start": a, "content_end": b},
              {"speaker": None, "kind": "direct", "content_start": c, "content_end": len(text) - 1}]
    found = {(s["holder"], s["target"], s["polarity"]) for s in find(article, quotes)}
    assert ("Jane Doe", "Roe", "oppose") in found
