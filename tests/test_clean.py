"""Boilerplate cleaning on the real seed articles, and the offset map back to the raw text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from storytrace.ingest.clean import candidate_lines, clean, credit_split, line_key
from storytrace.ingest.metadata import detect
from storytrace.model import Cleaned, Metadata
from storytrace.settings import Settings

SETTINGS = Settings()

# Every line each seed loses, with its reason; every other line must survive verbatim.
EXPECTED_REMOVED: dict[str, list[tuple[str, str]]] = {
    "000_4b265e9908216e3e.txt": [
        ("inline-link", "Carolyn Leckie: Tories find their unlikely heroes as a horde of Blairites ride in"),
    ],
    "001_5eab56d17bbf0643.txt": [
        ("chrome", "Stay up to date with notifications from The\xa0Independent"),
        ("chrome", "Notifications can be managed in browser preferences."),
        ("byline", "Caroline Mortimer"),
        ("dateline", "Monday 04 July 2016 23:01 BST"),
        ("chrome", "Comments"),
        ("caption", "Jeremy Corbyn has repeatedly refused to resign"),
        ("caption", "Jeremy Corbyn has repeatedly refused to resign (Getty)"),
        ("caption", "Angela Eagle has said she will formally challenge Mr Corbyn for the leadership if he does "
                    "not step down in the next few days (Rex)"),
        ("chrome", "Join our commenting forum"),
        ("chrome", "Join thought-provoking conversations, follow other Independent readers and see their replies"),
        ("chrome", "Comments"),
        ("chrome", "Thank you for registering"),
        ("chrome", "Please refresh the page or navigate to another page on the site to be automatically logged "
                   "inPlease refresh your browser to be logged in"),
    ],
    "002_f5f0807e30fc34e7.txt": [
        ("related-links", "More from LabourList"),
        ("related-links", "Local government reforms: ‘Bigger authorities aren’t always better, for voters or for "
                          "Labour’s chances’"),
        ("related-links", "Compass’ Neal Lawson claims 17-month probe found him ‘not guilty’ over tweet"),
        ("related-links", "John Prescott’s forgotten legacy, from the climate to the devolution agenda"),
    ],
    "003_cfce1aa51925a04d.txt": [
        ("caption", "Unite the Union leader Len McCluskey."),
        ("caption", "Unite the Union leader Len McCluskey."),
        ("inline-link", 'John McDonnell claims there\'s a "soft coup" against Jeremy Corbyn'),
        ("caption", "Labour Leader Jeremy Corbyn, right, and Shadow Chancellor John McDonnell."),
        ("caption", "Labour Leader Jeremy Corbyn, right, and Shadow Chancellor John McDonnell."),
    ],
    "004_2eff0df1e710e36d.txt": [
        ("caption", "Jeremy Corbyn with Len McCluskey at a steelworkers’ march in London in May. "
                    "Photograph: Leon Neal/AFP/Getty"),
    ],
}


def _clean_seed(raw: str) -> Cleaned:
    return clean(raw, metadata=detect(raw, given={}), settings=SETTINGS)


def assert_maps_back(raw: str, cleaned: Cleaned) -> None:
    for i, ch in enumerate(cleaned.text):
        assert raw[cleaned.to_raw(i)] == ch, f"clean offset {i} maps to the wrong raw character"
    for clean_start, raw_start, length in cleaned.segments:
        assert cleaned.text[clean_start : clean_start + length] == raw[raw_start : raw_start + length]
    if cleaned.segments:
        last = cleaned.segments[-1]
        assert last[0] + last[2] == len(cleaned.text)
    for removed in cleaned.removed:
        assert raw[removed.start : removed.end] == removed.text


def test_the_expectations_cover_every_seed(seed_texts):
    assert set(EXPECTED_REMOVED) == set(seed_texts)


@pytest.mark.parametrize("name", sorted(EXPECTED_REMOVED))
def test_seed_chrome_is_removed_with_its_reason(seed_texts, name):
    cleaned = _clean_seed(seed_texts[name])
    assert [(r.reason, r.text) for r in cleaned.removed] == EXPECTED_REMOVED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_REMOVED))
def test_seed_keeps_every_other_line_in_order(seed_texts, name):
    raw = seed_texts[name]
    cleaned = _clean_seed(raw)
    removed = [text for _, text in EXPECTED_REMOVED[name]]
    kept = [line.strip() for line in raw.split("\n") if line.strip()]
    for text in removed:
        kept.remove(text)
    position = 0
    for line in kept:
        found = cleaned.text.find(line, position)
        assert found >= 0, f"{name}: lost {line[:70]!r}"
        position = found + len(line)
    for text in removed:
        if text not in kept:  # a removed line must not survive (unless the same text is also body)
            assert text not in cleaned.text


@pytest.mark.parametrize("name", sorted(EXPECTED_REMOVED))
def test_seed_offsets_map_back_to_raw(seed_texts, name):
    raw = seed_texts[name]
    cleaned = _clean_seed(raw)
    assert_maps_back(raw, cleaned)
    assert cleaned.text == cleaned.text.strip()
    assert "\n\n\n" not in cleaned.text


def test_paragraph_breaks_follow_the_raw_text(seed_texts):
    labourlist = _clean_seed(seed_texts["002_f5f0807e30fc34e7.txt"]).text
    assert "\n\n" not in labourlist and labourlist.count("\n") == 5  # six single-newline paragraphs
    independent = _clean_seed(seed_texts["001_5eab56d17bbf0643.txt"]).text
    assert independent.startswith("Jeremy Corbyn faces latest challenge")
    assert "September\n\nTom Watson is to hold" in independent  # the dropped block leaves one paragraph break
    assert _clean_seed(seed_texts["000_4b265e9908216e3e.txt"]).text.count("\n\n\n") == 0


def test_span_to_raw_maps_a_quote_across_the_dropped_link(seed_texts):
    raw = seed_texts["000_4b265e9908216e3e.txt"]
    cleaned = _clean_seed(raw)
    quote = "This has been a political lynching of a decent man"
    start = cleaned.text.index(quote)
    raw_start, raw_end = cleaned.span_to_raw(start, start + len(quote))
    assert raw[raw_start:raw_end] == quote


def test_metadata_lines_are_dropped_with_their_reason():
    raw = "Headline of the day\n\nA first paragraph of the article that ends here.\n\nA second one follows.\n"
    start = raw.index("A first")
    meta = Metadata(lines=((start, raw.index("\n", start), "byline"),))
    cleaned = clean(raw, metadata=meta, settings=SETTINGS)
    assert [(r.reason, r.text) for r in cleaned.removed] == [
        ("byline", "A first paragraph of the article that ends here.")
    ]
    assert cleaned.text == "Headline of the day\n\nA second one follows."


def test_outlet_boilerplate_lines_go_with_their_reason():
    raw = ("The council met on Monday and agreed the budget.\n\nFollow the Courier on Mastodon\n\n"
           "It will be voted on in May.")
    keys = frozenset({line_key("Follow the Courier on Mastodon")})
    cleaned = clean(raw, metadata=Metadata(), outlet_boilerplate=keys, settings=SETTINGS)
    assert [(r.reason, r.text) for r in cleaned.removed] == [("outlet-boilerplate", "Follow the Courier on Mastodon")]
    assert_maps_back(raw, cleaned)


def test_line_key_folds_case_spacing_quotes_and_numbers():
    assert line_key("  Comments (12) ") == line_key("comments   (3)") == "comments (0)"
    assert line_key("It’s “here”") == line_key("it's \"HERE\"")
    assert line_key("Stay up to date with notifications from The\xa0Independent") == line_key(
        "Stay up to date with notifications from The Independent"
    )


def test_candidate_lines_are_the_short_lines(seed_texts):
    raw = seed_texts["001_5eab56d17bbf0643.txt"]
    keys = candidate_lines(raw, settings=SETTINGS)
    assert line_key("Join our commenting forum") in keys
    assert line_key("Caroline Mortimer") in keys
    assert not any(len(k) > SETTINGS.boilerplate_max_chars for k in keys)
    assert len(candidate_lines(raw, settings=SETTINGS.replace(boilerplate_max_chars=30))) < len(keys)
    assert "" not in keys


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Jeremy Corbyn has repeatedly refused to resign (Getty)",
         ("Jeremy Corbyn has repeatedly refused to resign", "(Getty)")),
        ("Theresa May in Downing Street (AFP/Getty Images)", ("Theresa May in Downing Street", "(AFP/Getty Images)")),
        ("Photograph: Leon Neal/AFP/Getty", ("", "Photograph: Leon Neal/AFP/Getty")),
        ("Image copyright Reuters", ("", "Image copyright Reuters")),
        ("Protesters outside parliament (PA)", ("Protesters outside parliament", "(PA)")),
        ("The council approved the electronic patient record (ePA)", None),
        ("He said the picture: a mess of competing claims", None),
        ("The minister spoke to reporters (PA).", None),
    ],
)
def test_credit_split(line, expected):
    assert credit_split(line) == expected


BODY_A = "The council met on Monday evening and agreed the budget after a long debate about roads."
BODY_B = "Opposition members said the plan would leave rural bus routes without any funding at all."


def _removed(raw: str) -> list[tuple[str, str]]:
    cleaned = clean(raw, metadata=Metadata(), settings=SETTINGS)
    assert_maps_back(raw, cleaned)
    return [(r.reason, r.text) for r in cleaned.removed]


@pytest.mark.parametrize(
    "middle",
    [
        '"We will not give up on the villages," said the councillor',  # quotation: prose, not a link
        "“We will not give up on the villages,” she said.",
        "Why the budget matters for the villages on the island",  # an explainer's crosshead
        "Budget vote",  # a short crosshead
        "He added: “We have listened to every objection",  # a quotation left open
        "For details of the consultation please visit: www.council.example",
    ],
)
def test_generic_rules_never_drop_prose_or_crossheads(middle):
    assert _removed(f"{BODY_A}\n\n{middle}\n\n{BODY_B}") == []


def test_a_lone_headline_between_paragraphs_is_an_inline_link():
    link = "Councillors clash over new ferry timetable for the islands"
    assert _removed(f"{BODY_A}\n\n{link}\n\n{BODY_B}") == [("inline-link", link)]
    assert _removed(f"{BODY_A}\n\nRead more: {link}\n\n{BODY_B}") == [("inline-link", f"Read more: {link}")]


def test_many_standalone_headlines_are_subheadings_and_stay():
    heads = [
        "The first stage builds a small working prototype",
        "The second stage tests it with real customers",
        "The third stage grows what already works well",
    ]
    raw = "\n\n".join(part for head in heads for part in (BODY_A, head)) + "\n\n" + BODY_B
    assert _removed(raw) == []


def test_hard_wrapped_text_loses_nothing():
    prose = (BODY_A + " " + BODY_B + " ") * 4
    words, rows, row = prose.split(), [], ""
    for word in words:
        if len(row) + len(word) > 60:
            rows.append(row)
            row = word
        else:
            row = f"{row} {word}".strip()
    rows.append(row)
    assert _removed("\n".join(rows)) == []


def test_repeats_keep_the_longest_copy_and_leave_refrains_alone():
    head = "Councillors back the new ferry timetable"
    assert _removed(f"{head}\n\n{BODY_A}\n\n{head}\n\n{BODY_B}") == [("repeated-in-article", head)]
    # three copies are the page's structure; a repeated sentence is the article's own
    question = "What inspired you to start cooking"
    raw = "\n\n".join([BODY_A, question, BODY_B, question, BODY_A[:-1] + "!", question, BODY_B[:-1] + "?"])
    assert _removed(raw) == []
    assert _removed(f"{BODY_A}\n\n{BODY_B}\n\n{BODY_A}") == []


def test_related_block_stops_at_the_next_prose():
    raw = (f"{BODY_A}\nMore from the Courier\nLifeboat crew honoured for winter rescue\n"
           f"Distillery plans approved despite objections\n{BODY_B}")
    assert _removed(raw) == [
        ("related-links", "More from the Courier"),
        ("related-links", "Lifeboat crew honoured for winter rescue"),
        ("related-links", "Distillery plans approved despite objections"),
    ]


def test_menus_at_the_edges_of_page_text_go_and_lists_inside_stay():
    menu = ["Home", "News", "Sport", "Weather", "Business"]
    facts = ["Length: 40 miles", "Crossing: 2 hours", "Sailings: 4 a day", "Fare: £12", "Operator: CalMac"]
    raw = "\n".join([*menu, BODY_A, *facts, BODY_B, *menu])
    removed = _removed(raw)
    assert removed == [("chrome" if item == "Home" else "navigation", item) for item in menu + menu]


def test_empty_and_blank_texts():
    for raw in ("", "\n\n  \n"):
        cleaned = clean(raw, metadata=Metadata(), settings=SETTINGS)
        assert (cleaned.text, cleaned.segments, cleaned.removed) == ("", (), ())


def test_windows_line_endings_map_back(seed_texts):
    raw = seed_texts["001_5eab56d17bbf0643.txt"].replace("\n", "\r\n")
    cleaned = _clean_seed(raw)
    assert_maps_back(raw, cleaned)
    assert [(r.reason, r.text) for r in cleaned.removed] == EXPECTED_REMOVED["001_5eab56d17bbf0643.txt"]


_POOL = [
    BODY_A, BODY_B, "Comments", "Jeremy Corbyn has repeatedly refused to resign (Getty)",
    "Jeremy Corbyn has repeatedly refused to resign", "More from LabourList", "Short headline here for you",
    "“A quotation that runs on,", "Caroline Mortimer", "Monday 04 July 2016 23:01 BST", "  indented line  ",
]


@hsettings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(_POOL), st.sampled_from(["\n", "\n\n", "\r\n", "\n \n", "\n\n\n"])),
             max_size=25)
)
def test_any_mix_of_lines_maps_back_and_keeps_order(parts):
    raw = "".join(text + sep for text, sep in parts)
    cleaned = clean(raw, metadata=detect(raw, given={}), settings=SETTINGS)
    assert_maps_back(raw, cleaned)
    raw_starts = [seg[1] for seg in cleaned.segments]
    assert raw_starts == sorted(raw_starts)
    removed_starts = {r.start for r in cleaned.removed}
    kept_chars = sum(seg[2] for seg in cleaned.segments)
    assert kept_chars == len(cleaned.text)
    assert all(raw[s] not in " \n" for s in removed_starts)
