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


def test_without_a_dct_relative_values_stay_open() -> None:
    assert values("on Sunday", dct=None)["Sunday"][1] == "XXXX-WXX-7"


def test_bench_timex_smoke() -> None:
    from storytrace.bench import timex as bench

    data = require_data("tempeval3")
    figures = bench.run(data, split="train", limit=5)
    assert figures["documents"] == 5 and 0 < figures["value"]["f1"] <= 1
