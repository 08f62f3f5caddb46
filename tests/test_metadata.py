"""Metadata detection: seeds' datelines, bylines and outlet chrome; dates; URLs; source precedence."""

from __future__ import annotations

import pytest

from storytrace.ingest import outlets
from storytrace.ingest.metadata import detect, find_date, normalise_date
from storytrace.model import META_SOURCES


def test_independent_seed_dateline_byline_and_outlet(seed_texts):
    raw = seed_texts["001_5eab56d17bbf0643.txt"]
    meta = detect(raw, given={}, source_path="examples/001_5eab56d17bbf0643.txt")

    assert meta.published is not None and meta.published.source == "dateline"
    assert meta.published.value == "2016-07-04T23:01:00+01:00"
    assert raw[meta.published.start : meta.published.end] == "Monday 04 July 2016 23:01 BST"

    assert meta.author is not None and meta.author.value == "Caroline Mortimer"
    assert meta.author.source == "byline"
    assert raw[meta.author.start : meta.author.end] == "Caroline Mortimer"

    assert meta.outlet is not None and meta.outlet.value == "The Independent"
    assert meta.outlet.source == "chrome"
    assert raw[meta.outlet.start : meta.outlet.end] == "The\xa0Independent"

    assert meta.title is not None and meta.title.source == "inferred" and meta.title.confidence < 1
    assert meta.title.value.startswith("Jeremy Corbyn faces latest challenge")
    reasons = {raw[s:e]: reason for s, e, reason in meta.lines}
    assert reasons == {"Caroline Mortimer": "byline", "Monday 04 July 2016 23:01 BST": "dateline", "Comments": "chrome"}


def test_labourlist_outlet_from_its_related_links_header(seed_texts):
    raw = seed_texts["002_f5f0807e30fc34e7.txt"]
    meta = detect(raw, given={})
    assert meta.outlet is not None and (meta.outlet.value, meta.outlet.source) == ("LabourList", "chrome")
    assert raw[meta.outlet.start : meta.outlet.end] == "LabourList"
    assert meta.title is None  # the first line is a sentence of the article


def test_seeds_without_evidence_stay_unknown(seed_texts):
    for name in ("000_4b265e9908216e3e.txt", "003_cfce1aa51925a04d.txt", "004_2eff0df1e710e36d.txt"):
        meta = detect(seed_texts[name], given={})
        assert meta.outlet is None and meta.published is None and meta.author is None, name
        assert meta.lines == ()
    guardian = detect(seed_texts["004_2eff0df1e710e36d.txt"], given={})
    assert guardian.title is not None
    assert guardian.title.value == "Momentum and unions prepare for new Corbyn campaign after revolt"
    assert detect(seed_texts["000_4b265e9908216e3e.txt"], given={}).title is None


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Monday 04 July 2016 23:01 BST", "2016-07-04T23:01:00+01:00"),
        ("4 July 2016", "2016-07-04"),
        ("July 4, 2016", "2016-07-04"),
        ("04/07/2016", "2016-07-04"),  # day-first, as in the UK
        ("07/25/2016", "2016-07-25"),  # only month-first makes sense
        ("2016-07-04", "2016-07-04"),
        ("Tue 5 Jul 2016 17.00 BST", "2016-07-05T17:00:00+01:00"),
        ("18:10, 27 Feb 2017", "2017-02-27T18:10:00"),
        ("Sunday 3rd July 2016 at 9am GMT", "2016-07-03T09:00:00+00:00"),
        ("Sept 12, 2019 4:30 pm EDT", "2019-09-12T16:30:00-04:00"),
    ],
)
def test_find_date(text, iso):
    found = find_date(text)
    assert found is not None and found.value == iso


def test_ambiguous_numeric_dates_are_flagged_day_first():
    found = find_date("04/07/2016")
    assert found is not None and found.ambiguous and "day-first" in found.note
    assert find_date("31 February 2016") is None
    assert find_date("no date here, 12 monkeys") is None


@pytest.mark.parametrize(
    ("given", "iso"),
    [
        ("2016-07-04", "2016-07-04"),
        ("2016-07-04T23:01:00Z", "2016-07-04T23:01:00+00:00"),
        ("2016-07-04 23:01", "2016-07-04T23:01:00"),
        ("Mon, 04 Jul 2016 23:01:00 +0100", "2016-07-04T23:01:00+01:00"),
        ("4 July 2016", "2016-07-04"),
        ("04/07/2016", "2016-07-04"),
    ],
)
def test_given_dates_are_normalised_to_iso(given, iso):
    assert normalise_date(given) is not None and normalise_date(given)[0] == iso
    meta = detect("Some text of an article that says nothing of dates.", given={"published": given})
    assert meta.published is not None and (meta.published.value, meta.published.source) == (iso, "given")


def test_an_unreadable_given_date_is_kept_with_low_confidence():
    meta = detect("Text.", given={"published": "sometime last summer"})
    assert meta.published is not None and meta.published.value == "sometime last summer"
    assert meta.published.confidence < 1 and "not a recognised date" in meta.published.note


def test_sources_follow_the_precedence_order(seed_texts):
    raw = seed_texts["001_5eab56d17bbf0643.txt"]
    markup = {"title": "Markup title", "outlet": "@independent", "published": "2016-07-05",
              "url": "https://www.independent.co.uk/news/uk/politics/x-a7118416.html"}
    meta = detect(raw, given={"title": "Given title"}, markup=markup)
    assert (meta.title.value, meta.title.source) == ("Given title", "given")
    assert (meta.outlet.value, meta.outlet.source) == ("The Independent", "markup")
    assert meta.published.source == "markup" and meta.published.value == "2016-07-05"
    assert meta.url.value == markup["url"] and meta.url.source == "markup"
    # the dateline still marks its line as metadata, whichever value won
    assert any(reason == "dateline" for _, _, reason in meta.lines)
    assert list(META_SOURCES[:3]) == ["given", "markup", "url"]


def test_a_dateline_refines_the_same_day_from_the_url(seed_texts):
    raw = seed_texts["001_5eab56d17bbf0643.txt"]
    meta = detect(raw, given={"url": "https://www.independent.co.uk/news/2016/07/04/corbyn-watson.html"})
    assert meta.published.value == "2016-07-04T23:01:00+01:00" and meta.published.source == "dateline"
    assert (meta.outlet.value, meta.outlet.source) == ("The Independent", "url")


@pytest.mark.parametrize(
    ("url", "outlet"),
    [
        ("https://www.independent.co.uk/news/uk/politics/a.html", "The Independent"),
        ("https://www.theguardian.com/politics/2016/jul/05/momentum", "The Guardian"),
        ("https://labourlist.org/2016/07/watson/", "LabourList"),
        ("http://www.mirror.co.uk/news/politics/tom-watson-9923510", "Daily Mirror"),
        ("https://www.bbc.co.uk/news/uk-politics-36712345", "BBC News"),
        ("https://m.heraldscotland.com/news/14596743/", "The Herald"),
    ],
)
def test_outlet_from_url(url, outlet):
    meta = detect("An article.", given={"url": url})
    assert meta.outlet is not None and (meta.outlet.value, meta.outlet.source) == (outlet, "url")
    assert meta.outlet.confidence >= 0.9


def test_unknown_domains_name_the_outlet_by_domain_with_low_confidence():
    meta = detect("An article.", given={"url": "https://news.example-courier.org/story/1"})
    assert meta.outlet.value == "news.example-courier.org" and meta.outlet.confidence <= 0.5
    assert outlets.outlet_for_url("not a url") is None


def test_dates_from_url_and_filename():
    meta = detect("An article.", given={"url": "https://www.theguardian.com/politics/2016/jul/05/momentum"})
    assert (meta.published.value, meta.published.source) == ("2016-07-05", "url")
    meta = detect("An article.", given={}, source_path="corpus/2016-07-04_watson.txt")
    assert (meta.published.value, meta.published.source) == ("2016-07-04", "filename")
    assert detect("An article.", given={}, source_path="examples/001_5eab56d17bbf0643.txt").published is None


def test_by_bylines_and_what_is_not_one():
    raw = "Council backs ferry plan\n\nBy Jane Smith, Political Editor\n\nThe council met on Monday.\n"
    meta = detect(raw, given={})
    assert (meta.author.value, meta.author.source) == ("Jane Smith", "byline")
    assert raw[meta.author.start : meta.author.end] == "Jane Smith"
    assert any(reason == "byline" for _, _, reason in meta.lines)
    assert detect("Title line here\n\nBy the time the council met, it was late.\n", given={}).author is None
    two = detect("Council backs ferry plan\nBy Jane Smith and Ali Khan\nThe council met.", given={})
    assert two.author.value == "Jane Smith and Ali Khan"


def test_a_bare_name_without_a_dateline_is_a_guess_and_stays_in_the_text():
    raw = "Council backs ferry plan\n\nMorag Lindsay\n\nThe council met on Monday and agreed the plan.\n"
    meta = detect(raw, given={})
    assert meta.author.value == "Morag Lindsay" and meta.author.confidence < 0.5
    assert meta.lines == ()


def test_given_aliases_and_chrome_is_never_the_title():
    raw = "Comments\n\nShare this article\n\nThe council met on Monday."
    meta = detect(raw, given={"headline": "H", "source": "S"})
    assert (meta.title.value, meta.outlet.value) == ("H", "S")
    assert detect("Comments\n\nShare this article\n\nAdvertisement\n\nA body.", given={}).title is None


def test_updated_lines_do_not_beat_the_published_dateline():
    raw = "Updated 10:00, 5 Jul 2016\nPublished 18:10, 4 Jul 2016\n\nThe council met on Monday.\n"
    meta = detect(raw, given={})
    assert meta.published.value == "2016-07-04T18:10:00"
