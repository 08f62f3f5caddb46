from __future__ import annotations

from datetime import date

from storytrace.nlp import timex
from tests.conftest import require_data

MONDAY = date(2016, 7, 4)


def values(text: str, dct: date | None = MONDAY) -> dict[str, tuple[str, str]]:
    return {t.text: (t.type, t.value) for t in timex.find(text, dct=dct)}


def test_weekdays_follow_the_tense_of_the_sentence() -> None:
    found = values("McCluskey spoke to Marr on Sunday. The Chilcot report comes out on Wednesday.")
    assert found["Sunday"] == ("DATE", "2016-07-03")
    assert found["Wednesday"] == ("DATE", "2016-07-06")


def test_relative_months_years_and_deictics() -> None:
    found = values("He was elected last September. Yesterday he said it; talks are tomorrow, and last week")
    assert found["last September"][1] == "2015-09"
    assert found["Yesterday"][1] == "2016-07-03"
    assert found["tomorrow"][1] == "2016-07-05"
    assert found["last week"][1] == "2016-W26"


def test_next_day_is_anchored_on_the_previous_date() -> None:
    found = timex.find("The column was published online on Sunday February 26. The next day, he said so.",
                       dct=date(2017, 2, 28))
    by_text = {t.text: t for t in found}
    assert by_text["Sunday February 26"].value == "2017-02-26"
    assert by_text["The next day"].value == "2017-02-27"
    assert by_text["The next day"].anchor == "previous"


def test_durations_sets_and_references() -> None:
    found = values("It took three days. He runs every Monday, now and for years.")
    assert found["three days"] == ("DURATION", "P3D")
    assert found["every Monday"] == ("SET", "XXXX-WXX-1")
    assert found["now"] == ("DATE", "PRESENT_REF")


def test_spoken_years_and_month_of_a_named_year() -> None:
    found = values("Prices fell in nineteen ninety-one, as in the winter of nineteen ninety-four. In June last year "
                   "he left; by the year two thousand it was over.")
    assert found["nineteen ninety-one"][1] == "1991"
    assert found["the winter of nineteen ninety-four"][1] == "1994-WI"
    assert found["June last year"][1] == "2015-06"
    assert found["the year two thousand"][1] == "2000"


def test_tense_cues_passives_names_deadlines_and_reporting_clauses() -> None:
    # "be named" is a passive, not a past tense: the mission is ahead
    assert values("Collins will be named commander for a mission in December.")["December"][1] == "2016-12"
    # "United" is a name, not a past participle; "would be traveling" looks forward
    assert values("He would be traveling to the United States Thursday.")["Thursday"][1] == "2016-07-07"
    # a deadline ahead, whatever tense the sentence reports it in
    assert values("The agency extended its deadline until 9 a.m. Tuesday.")["9 a.m. Tuesday"][1] == "2016-07-05T09:00"
    # a plan that had been due is in the past
    assert values("The offer had been due to expire Friday evening.")["Friday evening"][1] == "2016-07-01TEV"
    # the reporting clause after the expression does not set the event's tense
    found = values("NATO has decided to admit them in early March, an official said on Monday.")
    assert found["early March"][1] == "2017-03"
    # "last Monday" in a Monday paper is a week back, not the day itself
    assert values("They met last Monday.")["last Monday"][1] == "2016-06-27"


def test_current_units_few_and_clock_phrases() -> None:
    found = values("Sales in the current year and the current quarter. Over the next few days, and for an "
                   "additional year; he left at 4 in the morning, mid-afternoon yesterday.")
    assert found["the current year"][1] == "2016"
    assert found["the current quarter"][1] == "2016-Q3"
    assert found["the next few days"] == ("DURATION", "PXD")
    assert found["an additional year"] == ("DURATION", "P1Y")
    assert found["4 in the morning"] == ("TIME", "2016-07-04T04:00")  # on the day last talked about (the DCT)
    assert found["mid-afternoon yesterday"] == ("TIME", "2016-07-03TAF")


def test_without_a_dct_relative_values_stay_open() -> None:
    assert values("on Sunday", dct=None)["Sunday"][1] == "XXXX-WXX-7"


def test_bench_timex_smoke() -> None:
    from storytrace.bench import timex as bench

    data = require_data("tempeval3")
    figures = bench.run(data, split="train", limit=5)
    assert figures["documents"] == 5 and 0 < figures["value"]["f1"] <= 1


def test_each_pattern_gate_matches_inside_every_match_of_its_pattern(seed_texts: dict[str, str]) -> None:
    """A pattern is skipped on texts without its gate, which is safe only if the gate is found inside every
    match of the pattern: checked on phrases made for the gated patterns and on the seed articles."""
    phrases = ("three and a half years", "2 1/2 years", "two weeks ago", "a year earlier", "three days from now",
               "4 in the morning", "six in the evening", "mid-afternoon", "evening yesterday", "morning today",
               "nineteen ninety-one", "in the year two thousand", "two thousand and two,", "Christmas Day",
               "New Year's Eve", "Valentine's Day", "Boxing Day", "Thanksgiving", "the year-earlier quarter",
               "the latest period", "the quarter", "last summer", "the fall of 2015", "the 1990s", "the '60s",
               "the current quarter", "noon on Monday", "midnight", "the fourth quarter of 2015",
               "2015 third quarter", "the second-quarter")
    texts = list(phrases) + list(seed_texts.values())
    gated = [(regex, gate) for regex, _reader, gate in timex._PATTERNS if gate is not None]
    assert len(gated) >= 10
    hits = 0
    for regex, gate in gated:
        for text in texts:
            for m in regex.finditer(text):
                hits += 1
                assert gate.search(m.group()), (regex.pattern[:60], m.group())
    assert hits >= len(phrases)
