"""Hostile and malformed input: every reader, the cleaner and the quotation rules, under generated input
(hypothesis) and the pathological cases of issue 9. Nothing may raise, hang or fail silently: each
document becomes an article or one clear per-item error."""

from __future__ import annotations

import gzip
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from storytrace.errors import ITEM_CODES
from storytrace.ingest.clean import clean
from storytrace.ingest.metadata import detect
from storytrace.ingest.pipeline import Prepared, prepare
from storytrace.ingest.readers import iter_documents
from storytrace.model import ItemError, RawDocument
from storytrace.nlp.quotes import extract
from storytrace.settings import Settings
from storytrace.stages import STAGES
from tests.reliability.faultlib import in_child

SETTINGS = Settings(progress=False, quote_parse=False, max_document_bytes=200_000, max_decompressed_bytes=400_000)
CHEAP = ("profile", "quotes", "dates", "facts")
PROPS = hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                          HealthCheck.too_slow])

# Text that tends to break things: marks and controls of every kind, mixed with ordinary words.
HOSTILE_CHARS = list('"“”„«»‘’\'\u202e\u202d\u202a\u2066\u2069\u200b\u200f\ufeff\x00\x0b\x0c\r\n\t\u2028\u2029'
                     "\u0301\U0001f600<>&;:,.!?—–-()[]{}\\/#@$%*0123456789")
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE_CHARS), st.characters(codec="utf-8"),
                                  st.sampled_from(["said", "Corbyn", "Monday", "July", "2016", " ", "\n\n", "he said.",
                                                   "172-40", "59.5%", "on Sunday", "Mr", "according to"])),
                        max_size=120).map("".join)
field_value = st.one_of(hostile_text, st.integers(), st.floats(allow_nan=True), st.none(), st.booleans(),
                        st.lists(hostile_text, max_size=3),
                        st.dictionaries(st.sampled_from(["name", "x"]), hostile_text, max_size=2))
record = st.dictionaries(st.sampled_from(["text", "body", "title", "outlet", "published", "date", "author", "url",
                                          "html", "authors", "headline", "source", "x"]), field_value, max_size=6)


def read_all(path: Path | str, **kwargs: Any) -> list[RawDocument | ItemError]:
    return list(iter_documents([str(path)], settings=SETTINGS, **kwargs))


def check_items(items: list[RawDocument | ItemError]) -> list[Prepared]:
    """Every item is a document or a coded one-line error; every document prepares without raising, and its
    clean text maps back onto the raw text exactly."""
    prepared = []
    for item in items:
        if isinstance(item, ItemError):
            assert item.code in ITEM_CODES and item.code not in {"E100", "E199"}, item  # not "a bug in storytrace"
            assert "\n" not in item.message and item.message, item
            continue
        assert isinstance(item, RawDocument)
        result = prepare(item, boilerplate={}, settings=SETTINGS)
        if isinstance(result, ItemError):
            assert result.code in ITEM_CODES and result.code != "E199", result
            continue
        article = result.article
        for clean_start, raw_start, length in article.clean.segments:
            piece = article.clean.text[clean_start:clean_start + length]
            assert piece == article.raw_text[raw_start:raw_start + length]
        prepared.append(result)
    return prepared


# -- property tests over every reader ----------------------------------------------------------------------
@PROPS
@given(records=st.lists(record, max_size=5), blank=st.booleans())
def test_jsonl_records_of_any_shape(tmp_path: Path, records: list[dict[str, Any]], blank: bool) -> None:
    lines = [json.dumps(r, ensure_ascii=bool(len(r) % 2)) for r in records]  # also \\ud800-style escapes
    path = tmp_path / "f.jsonl"
    path.write_text(("\n\n" if blank else "\n").join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    check_items(read_all(path))


@PROPS
@given(value=st.one_of(st.lists(record, max_size=4), record, st.lists(field_value, max_size=3), hostile_text))
def test_json_files_of_any_shape(tmp_path: Path, value: Any) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    check_items(read_all(path))


@PROPS
@given(header=st.lists(st.sampled_from(["text", "title", "outlet", "published", "body", "x", "", "téxt"]),
                       min_size=1, max_size=5),
       rows=st.lists(st.lists(hostile_text, max_size=6), max_size=5), delimiter=st.sampled_from([",", ";", "\t", "|"]))
def test_csv_of_any_shape(tmp_path: Path, header: list[str], rows: list[list[str]], delimiter: str) -> None:
    import csv

    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    path = tmp_path / "f.csv"
    path.write_bytes(out.getvalue().encode("utf-8", errors="surrogatepass"))
    check_items(read_all(path))


tags = st.sampled_from(["div", "p", "span", "script", "style", "article", "main", "table", "td", "a", "b", "title",
                        "meta", "br", "svg", "math", "template", "iframe", "noscript", "!--", "![CDATA["])


@st.composite
def html_pages(draw: Any) -> str:
    def node(depth: int) -> str:
        if depth > 6 or draw(st.integers(0, 3)) == 0:
            return draw(hostile_text)
        tag = draw(tags)
        attrs = draw(st.sampled_from(["", ' class="article-body"', ' onload="alert(1)"', ' href="javascript:x"',
                                      ' charset="koi8-r"', ' content="2016-07-04"']))
        children = "".join(node(depth + 1) for _ in range(draw(st.integers(0, 3))))
        close = "" if draw(st.integers(0, 5)) == 0 else f"</{tag}>"  # unclosed tags too
        return f"<{tag}{attrs}>{children}{close}"
    return "<!doctype html><html><head><title>" + draw(hostile_text) + "</title></head><body>" + node(0) + "</body>"


@PROPS
@given(page=html_pages(), encoding=st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1"]))
def test_html_of_any_shape(tmp_path: Path, page: str, encoding: str) -> None:
    path = tmp_path / "p.html"
    path.write_bytes(page.encode(encoding, errors="replace"))
    check_items(read_all(path))


def _warc_record(i: int, ctype: str, body: bytes, status: int, skew: int) -> bytes:
    block = f"HTTP/1.0 {status} X\r\nContent-Type: {ctype}\r\n\r\n".encode() + body
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: http://example.org/{i}\r\n"
            f"WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-{i:012d}>\r\nWARC-Date: 2016-07-04T00:00:00Z\r\n"
            "Content-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {max(0, len(block) + skew)}\r\n\r\n").encode()
    return gzip.compress(head + block + b"\r\n\r\n")


@PROPS
@given(payloads=st.lists(st.tuples(st.sampled_from(["text/html", "text/plain", "application/pdf", "text/html; x=y"]),
                                   st.one_of(st.binary(max_size=300), hostile_text.map(str.encode)),
                                   st.sampled_from([200, 404, 301]), st.sampled_from([0, 0, 0, -3, 5])), max_size=3),
       cut=st.integers(0, 4000))
def test_warc_of_any_shape(tmp_path: Path, payloads: list[tuple[str, bytes, int, int]], cut: int) -> None:
    data = b"".join(_warc_record(i, *p) for i, p in enumerate(payloads))  # wrong lengths sometimes
    path = tmp_path / "c.warc.gz"
    path.write_bytes(data[: cut] if cut < len(data) and cut % 3 == 0 else data)  # sometimes truncated
    check_items(read_all(path))


@PROPS
@given(text=hostile_text, outlet=st.sampled_from(["", "The Guardian", "\u202eevil"]),
       boilerplate=st.frozensets(hostile_text, max_size=3))
def test_cleaning_keeps_offsets_exact_on_any_text(text: str, outlet: str, boilerplate: frozenset[str]) -> None:
    meta = detect(text, given={"outlet": outlet} if outlet else {}, source_path="x.txt")
    cleaned = clean(text, metadata=meta, outlet_boilerplate=boilerplate, settings=SETTINGS)
    for clean_start, raw_start, length in cleaned.segments:
        assert cleaned.text[clean_start:clean_start + length] == text[raw_start:raw_start + length]
    for removed in cleaned.removed:
        assert 0 <= removed.start <= removed.end <= len(text)


@PROPS
@given(text=hostile_text)
def test_quotation_rules_on_any_text_give_spans_inside_it(text: str) -> None:
    for quote in extract(text, parse=False):
        for span in [quote.content, *quote.content_spans, quote.cue, quote.source]:
            if span is not None:
                assert 0 <= span.start <= span.end <= len(text)
                assert text[span.start:span.end] == span.text


@PROPS
@given(text=hostile_text)
def test_cheap_stages_on_any_text(text: str) -> None:
    if not text.strip():
        return
    prepared = prepare(RawDocument(source_path="x.txt", text=text), boilerplate={}, settings=SETTINGS)
    if isinstance(prepared, Prepared):
        for name in CHEAP:
            STAGES[name].run(prepared.article, {}, SETTINGS)


# -- the pathological cases of issue 9, each bounded in time --------------------------------------------------
def _pathological(name: str, folder: Path) -> Path:
    big = 10 * 1024 * 1024
    cases: dict[str, bytes] = {
        "nested.html": ("<html><body>" + "<div>" * 100_000 + "Deep text. " * 50 + "</div>" * 100_000).encode(),
        "nested-unclosed.html": ("<html><body><p>A paragraph long enough to be kept as the article.</p>"
                                 + "<b><i><span>" * 30_000).encode(),
        "huge-line.txt": b"word " * 200_000,  # one 1 MB line
        "quote-storm.txt": b'"' * 2_000_000,
        "curly-storm.txt": "“”".encode() * 300_000,
        "said-storm.txt": b'"Yes," he said. ' * 40_000,
        "bomb.txt.gz": gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9),
        "text-bomb.jsonl.gz": gzip.compress(b'{"text": "' + b"a " * (32 * 1024 * 1024) + b'"}\n', compresslevel=9),
        "invalid-utf8.txt": b"Corbyn said \xc3\x28 \xff\xfe \xed\xa0\x80 \xf0\x28\x8c\xbc on Monday. " * 2000,
        "nul-bytes.txt": b"Corbyn said\x00 he would stay.\x00" * 100,
        "nul-in-json.jsonl": (json.dumps({"title": "T\u0000", "text": "Corbyn\u0000 said he would stay on Monday."})
                              + "\n").encode(),
        "rtl.jsonl": (json.dumps({"title": "\u202egnp.exe", "outlet": "\u202eThe Times\u202c",
                                  "text": "Jeremy Corbyn said: \u201c\u202ewe will win\u202c\u201d on Monday."})
                      + "\n").encode(),
        "json-10mb-string.json": json.dumps({"title": "t", "text": "word " * (big // 5)}).encode(),
        "json-under-limit.jsonl": (json.dumps({"title": "t", "text": "Corbyn said it. " * 60_000}) + "\n").encode(),
        "deep-json.json": ("[" * 100_000 + "]" * 100_000).encode(),
        "deep-json-object.jsonl": ('{"text": ' * 50_000 + '"x"' + "}" * 50_000 + "\n").encode(),
    }
    path = folder / name
    path.write_bytes(cases[name])
    return path


PATHOLOGICAL = ["nested.html", "nested-unclosed.html", "huge-line.txt", "quote-storm.txt", "curly-storm.txt",
                "said-storm.txt", "bomb.txt.gz", "text-bomb.jsonl.gz", "invalid-utf8.txt", "nul-bytes.txt",
                "nul-in-json.jsonl", "rtl.jsonl", "json-10mb-string.json", "json-under-limit.jsonl", "deep-json.json",
                "deep-json-object.jsonl"]
# Seconds each case may take, read + prepare + the cheap stages, on a loaded two-core machine.
BOUND = 120


def _read_prepare_analyze(path: str, report: str) -> None:
    settings = Settings(progress=False, quote_parse=False)
    outcome: dict[str, Any] = {"errors": [], "articles": 0, "stage_errors": []}
    started = time.perf_counter()
    for item in iter_documents([path], settings=settings):
        if isinstance(item, ItemError):
            outcome["errors"].append(item.code)
            continue
        result = prepare(item, boilerplate={}, settings=settings)
        if isinstance(result, ItemError):
            outcome["errors"].append(result.code)
            continue
        outcome["articles"] += 1
        for name in CHEAP:
            try:
                STAGES[name].run(result.article, {}, settings)
            except Exception as exc:  # the runner records this as the article's stage error
                outcome["stage_errors"].append(f"{name}: {exc}")
    outcome["seconds"] = round(time.perf_counter() - started, 2)
    Path(report).write_text(json.dumps(outcome))


@pytest.mark.parametrize("name", PATHOLOGICAL)
def test_pathological_input_is_handled_in_bounded_time(tmp_path: Path, name: str) -> None:
    path = _pathological(name, tmp_path)
    report = tmp_path / "report.json"
    code, message = in_child(_read_prepare_analyze, str(path), str(report), timeout=BOUND)
    assert code == 0, f"{name}: {message} (a crash, or more than {BOUND} s: a hang)"
    outcome = json.loads(report.read_text())
    assert outcome["articles"] + len(outcome["errors"]) >= 1, outcome  # an article or a clear error, never nothing
    assert all(c in ITEM_CODES and c not in {"E100", "E199"} for c in outcome["errors"]), outcome
    expected_error = {"bomb.txt.gz": "E104", "text-bomb.jsonl.gz": "E104", "json-10mb-string.json": "E104",
                      "nul-bytes.txt": "E105", "deep-json.json": "E107", "deep-json-object.jsonl": "E107"}
    if name in expected_error:
        assert expected_error[name] in outcome["errors"], outcome


def test_an_article_over_the_analysis_limit_is_a_clear_stage_error() -> None:
    settings = Settings(progress=False, quote_parse=False, max_analysis_chars=1000)
    prepared = prepare(RawDocument(source_path="x.txt", text="Corbyn said it. " * 100), boilerplate={},
                       settings=settings)
    assert isinstance(prepared, Prepared)
    with pytest.raises(Exception, match=r"E320.*max_analysis_chars"):
        STAGES["quotes"].run(prepared.article, {}, settings)
    STAGES["quotes"].run(prepared.article, {}, settings.replace(max_analysis_chars=10_000))


def test_rtl_overrides_and_nul_bytes_are_kept_as_text_not_interpreted(tmp_path: Path) -> None:
    path = _pathological("rtl.jsonl", tmp_path)
    (prepared,) = check_items(read_all(path))
    assert "\u202e" in prepared.article.raw_text  # stored as given; pages escape it (test_web_security)


# -- regressions found by the fuzzer (fuzz/fuzz_ingest.py); inputs kept in tests/fixtures/fuzz ---------------
FUZZ_FOUND = Path(__file__).resolve().parents[1] / "fixtures" / "fuzz"


@pytest.mark.parametrize("path", sorted(FUZZ_FOUND.glob("*")), ids=lambda p: p.name)
def test_inputs_the_fuzzer_crashed_on_are_read_cleanly(path: Path) -> None:
    check_items(read_all(path))


@pytest.mark.parametrize("path", sorted(FUZZ_FOUND.glob("quotes-*.txt")), ids=lambda p: p.name)
def test_texts_the_quotes_fuzzer_crashed_on_give_quotes_at_their_offsets(path: Path) -> None:
    """The ``quotes`` target's crashes: e.g. a cue word ending its sentence after ", X" (an empty tail)."""
    from storytrace.nlp.quotes import extract

    text = path.read_text(encoding="utf-8")
    for quote in extract(text, parse=False):
        for span in (quote.content, quote.cue, quote.source):
            assert span is None or text[span.start:span.end] == span.text


def test_a_url_with_an_unclosed_ipv6_host_gives_no_url_date() -> None:
    from storytrace.ingest.metadata import _date_from_url

    assert _date_from_url("http://[2016/07/04/story") is None
    assert _date_from_url("https://example.com/2016/07/04/story").value.startswith("2016-07-04")


@pytest.mark.parametrize("text", ["4 July 2016 10:00 +7000", "10:00 +7000 4 July 2016", "2016-07-04T10:00:00+99:99"])
def test_a_date_with_an_impossible_zone_offset_keeps_its_date_and_drops_the_zone(text: str) -> None:
    from storytrace.ingest.metadata import find_date

    found = find_date(text)
    assert found is not None and found.value == "2016-07-04T10:00:00"
