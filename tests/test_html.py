"""HTML main-text extraction on hand-written pages, and the extraction benchmark's scorer."""

from __future__ import annotations

import json

import pytest

from storytrace.bench import extraction
from storytrace.bench.extraction import Score, score, summarise
from storytrace.errors import BenchmarkError
from storytrace.ingest.clean import clean
from storytrace.ingest.html import HtmlExtract, extract_html, parse_html
from storytrace.ingest.metadata import detect
from storytrace.settings import Settings
from tests.conftest import FIXTURES, require_data

SETTINGS = Settings()
PAGE = FIXTURES / "html" / "article.html"


@pytest.fixture(scope="module")
def page() -> HtmlExtract:
    return extract_html(PAGE.read_text(encoding="utf-8"), url=None, settings=SETTINGS)


def test_main_text_is_the_article_one_paragraph_per_line(page):
    paragraphs = page.text.split("\n")
    assert len(paragraphs) == 4
    assert paragraphs[0].startswith("Councillors in Port Ellen voted by nine votes to two")
    assert '"We have been ignored again," said parent Ewan Campbell.' in page.text
    for chrome in ("Home", "Subscribe", "Lifeboat crew honoured", "Absolute disgrace", "Privacy policy", "©"):
        assert chrome not in page.text


def test_markup_metadata(page):
    assert page.title == "Harbour council backs new ferry timetable"
    assert page.author == "Morag Lindsay"
    assert page.date == "2021-03-09T08:15:00+00:00"  # the time from article:published_time is kept
    assert page.sitename == "The Coastal Courier"
    assert page.url == "https://www.coastalcourier.example/news/2021/03/09/harbour-ferry-timetable"
    assert page.markup() == {
        "title": page.title, "author": page.author, "published": page.date,
        "outlet": "The Coastal Courier", "url": page.url,
    }


def test_markup_feeds_metadata_and_cleaning_keeps_the_article(page):
    meta = detect(page.text, given={}, markup=page.markup())
    assert (meta.outlet.value, meta.outlet.source) == ("The Coastal Courier", "markup")
    assert (meta.published.value, meta.published.source) == ("2021-03-09T08:15:00+00:00", "markup")
    assert (meta.title.source, meta.author.source) == ("markup", "markup")
    cleaned = clean(page.text, metadata=meta, settings=SETTINGS)
    assert cleaned.text == page.text and cleaned.removed == ()


@pytest.mark.parametrize(
    "html",
    ["", "   ", "<<<>>>", "<html></html>", "<html><body><nav><a href='/'>Home</a></nav></body></html>",
     "\x00\x01\x02 binary \xff\xfe", "<p>" * 5000, "<?xml version='1.0'?><rss><channel></channel></rss>"],
)
def test_bad_html_gives_empty_text_and_raises_nothing(html):
    extracted = extract_html(html, url="https://example.org/x", settings=SETTINGS)
    assert extracted.text == ""
    assert extracted.url == "https://example.org/x"


_BODY = "<body><div class='a'><p>One paragraph of text.</p><p>Two</p></div></body>"


@pytest.mark.parametrize(
    "html",
    [f"<html><head><title>T</title></head>{_BODY}</html>",
     '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">'
     f'\n<html xmlns="http://www.w3.org/1999/xhtml">{_BODY}</html>',
     '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "http://www.w3.org/TR/xhtml1/DTD/x.dtd">'
     f"<html>{_BODY}</html>",
     f'<!doctype html>\n<html lang="en"/>\n{_BODY}',
     "<html>" + _BODY.replace("Two", "T\x01w\x0bo\ufffe") + "</html>",
     f"<?xml version='1.0' encoding='iso-8859-1'?><html>{_BODY}</html>",
     "<p>just a paragraph</p>", "<p>one</p><p>two</p>", "<div><p>x</p></div><div>y</div>",
     "<html><head>" + "<meta name='x' content='y'>\n" * 400 + f"</head>{_BODY}</html>",
     '<html><head><meta charset="windows-1252"></head><body><p>caf\u00e9 \u2019quoted\u2019</p></body></html>',
     "", "   ", "<<<>>>"],
)
def test_parse_html_gives_trafilaturas_tree(html):
    """The fast parser must build the tree trafilatura's own loader builds (or reject what it rejects)."""
    from lxml import etree
    from trafilatura.utils import load_html

    ours, theirs = parse_html(html), load_html(html)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert etree.tostring(ours) == etree.tostring(theirs)


def test_settings_modes_are_passed_through():
    html = PAGE.read_text(encoding="utf-8")
    for changes in ({"html_favor_precision": True}, {"html_favor_recall": True}):
        text = extract_html(html, url=None, settings=SETTINGS.replace(**changes)).text
        assert text.startswith("Councillors in Port Ellen")


# -- the benchmark's metric ----------------------------------------------------------------------------

def test_score_identical_and_empty_texts():
    assert score("one two three four five", "one two three four five") == Score(1.0, 0.0, 0.0)
    empty = score("", "")
    assert empty.exact and empty.precision == empty.recall == 1.0
    missed = score("one two three four five", "")
    assert (missed.precision, missed.recall, missed.exact) == (0.0, 0.0, False)


def test_score_counts_shingles_as_multisets():
    truth = "a b c d e f"  # shingles: abcd bcde cdef
    half = score(truth, "a b c d e x")  # shingles: abcd bcde bcdx... -> 2 shared, 1 extra, 1 missing
    assert half.tp == pytest.approx(0.5) and half.fp == pytest.approx(0.25) and half.fn == pytest.approx(0.25)
    assert half.precision == pytest.approx(2 / 3) and half.recall == pytest.approx(2 / 3)
    doubled = score(truth, truth + " " + truth)
    assert doubled.recall == 1.0 and doubled.precision < 1.0
    short = score("just three words", "just three words")  # shorter than a shingle: still one shingle
    assert short.exact


def test_summarise_is_f1_of_the_mean_precision_and_recall():
    scores = [Score(1.0, 0.0, 0.0), Score(0.5, 0.5, 0.0), Score(0.5, 0.0, 0.5)]
    result = summarise(scores)
    p, r = (1 + 0.5 + 1) / 3, (1 + 1 + 0.5) / 3
    assert result["precision"] == pytest.approx(p, abs=1e-4) and result["recall"] == pytest.approx(r, abs=1e-4)
    assert result["f1"] == pytest.approx(2 * p * r / (p + r), abs=1e-4)
    assert result["accuracy"] == pytest.approx(1 / 3, abs=1e-4)
    with pytest.raises(BenchmarkError):
        summarise([])


def _bodies(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    data = data.get("output", data)
    return {k: v["articleBody"] for k, v in data.items()}


@pytest.mark.parametrize(("system", "published"), [("trafilatura", 0.958), ("html-text", 0.665),
                                                   ("readability", 0.922)])
def test_scorer_reproduces_the_published_figures(system, published):
    folder = require_data("article-extraction")
    truth = _bodies(folder / "ground-truth.json")
    result = extraction.score_outputs(truth, _bodies(folder / "output" / f"{system}.json"))
    assert round(result["f1"], 3) == published


def test_run_refuses_other_splits_and_missing_data(tmp_path):
    with pytest.raises(BenchmarkError):
        extraction.run(tmp_path, split="test")
    with pytest.raises(BenchmarkError, match="article-extraction"):
        extraction.run(tmp_path)


@pytest.mark.slow
def test_run_scores_both_paths_on_a_few_pages():
    folder = require_data("article-extraction")
    result = extraction.run(folder.parent, limit=8)
    assert result["pages"] == 8
    for path in ("html", "text"):
        assert 0.0 <= result[path]["f1"] <= 1.0 and result[path]["pages_per_second"] > 0
    assert result["html"]["f1"] > result["text_without_cleaning"]["f1"]
    assert set(result["references"]) >= {"trafilatura", "html-text"}


def test_markup_metadata_from_json_ld_and_fallbacks():
    from lxml import html as lxml_html

    from storytrace.ingest.html import markup_metadata

    page = """<html><head><title>Fallback title | Site</title>
    <link rel="canonical" href="https://example.org/a">
    <script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", "headline": "From JSON-LD",
      "author": [{"@type": "Person", "name": "Ann Writer"}, {"name": "Bo Reporter"}],
      "datePublished": "2016-07-04T23:01:00+01:00", "publisher": {"name": "The Example"}}]}</script>
    <script type="application/ld+json">{not json</script></head><body><p>Text.</p></body></html>"""
    found = markup_metadata(lxml_html.fromstring(page), url=None)
    assert found["title"] == "From JSON-LD"
    assert found["author"] == "Ann Writer; Bo Reporter"
    assert found["date"] == "2016-07-04T23:01:00+01:00"
    assert found["sitename"] == "The Example"
    assert found["url"] == "https://example.org/a"
    bare = markup_metadata(lxml_html.fromstring("<html><head><title>Only a title</title></head><body>x</body></html>"),
                           url="https://example.org/b")
    assert bare["title"] == "Only a title" and bare["author"] is None and bare["url"] == "https://example.org/b"


@pytest.mark.slow
def test_ingest_benchmark_times_documents_not_imports():
    from storytrace.bench.ingest import measure

    result = measure("html", [PAGE], jobs=1)
    assert (result["documents"], result["stored"], result["errors"]) == (1, 1, 0)
    assert result["import_seconds"] > 0 and result["per_second"] > 0 and result["cpu_ms_per_document"] > 0
