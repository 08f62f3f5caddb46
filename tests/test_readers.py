"""Input readers: every format, every metadata source, every bad input, on real files."""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from storytrace.errors import ITEM_CODES
from storytrace.ingest.readers import iter_documents, sniff_format
from storytrace.model import ItemError, RawDocument
from storytrace.settings import Settings
from tests.conftest import EXAMPLES, FIXTURES
from tests.fixtures.make_fixtures import COPELAND, KINNOCK, MOMENTUM, UNIONS

GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"
SETTINGS = Settings()


def read(*inputs, settings=SETTINGS, **kwargs) -> list[RawDocument | ItemError]:
    return list(iter_documents([str(i) if isinstance(i, Path) else i for i in inputs], settings=settings, **kwargs))


def docs(items) -> list[RawDocument]:
    return [i for i in items if isinstance(i, RawDocument)]


def errors(items) -> list[ItemError]:
    return [i for i in items if isinstance(i, ItemError)]


def by_location(items) -> dict[str, RawDocument | ItemError]:
    return {Path(i.source_path).name + (f" ({i.record})" if i.record else ""): i for i in items}


def the_error(items, name: str) -> ItemError:
    found = [e for e in errors(items) if Path(e.source_path).name == name]
    assert len(found) == 1, f"{name}: expected one error, got {found}"
    return found[0]


# -- good input ---------------------------------------------------------------------------------------


def test_good_folder_yields_every_document_in_sorted_order_without_errors():
    items = read(GOOD)
    assert errors(items) == []
    assert [i.location.removeprefix(str(GOOD) + os.sep) for i in items] == [
        "articles.csv (row 1)",
        "articles.csv (row 2)",
        "copeland.txt",
        "crawl.warc.gz (record <urn:uuid:00000000-0000-4000-8000-000000000001>)",
        "crawl.warc.gz (record <urn:uuid:00000000-0000-4000-8000-000000000002>)",
        "feed.jsonl (line 1)",
        "feed.jsonl (line 2)",
        "feed.jsonl (line 3)",
        "unions.txt",
        "watson-talks.html",
    ]  # manifest.csv and unions.meta.json are metadata, never articles
    assert read(GOOD) == items  # deterministic


def test_jsonl_records_map_their_fields_to_given():
    first, second, third = read(GOOD / "feed.jsonl")
    assert first.text == KINNOCK and first.format == "jsonl" and first.record == "line 1"
    assert first.given == {
        "title": "Kinnock urges Corbyn to quit",
        "url": "https://news.example.org/kinnock",
        "outlet": "Example Herald",  # {"name": ...} publisher objects give their name
        "published": "2016-07-04",
        "author": "Jo Smith, Sam Patel",
    }
    assert second.text == MOMENTUM and second.given["author"] == "Alex Jones"
    assert third.given == {"title": "NEC to rule on ballot", "outlet": "Example Times", "published": "2016-07-06"}
    line = (GOOD / "feed.jsonl").read_bytes().splitlines()[0]
    assert first.source_sha256 == hashlib.sha256(line).hexdigest()


def test_csv_rows_become_documents_with_their_text_exactly():
    first, second = read(GOOD / "articles.csv")
    assert (first.record, second.record) == ("row 1", "row 2")
    assert first.text == COPELAND and second.text == UNIONS
    assert first.given["author"] == "Pat Lee" and "author" not in second.given
    assert first.format == "csv"


def test_warc_response_records_become_html_documents_with_url_and_crawl_date():
    first, second = read(GOOD / "crawl.warc.gz")
    assert first.record == "record <urn:uuid:00000000-0000-4000-8000-000000000001>"
    assert first.format == "html" and first.text == "" and "Momentum held rallies" in first.html
    assert first.given == {"url": "https://news.example.org/politics/momentum", "crawled": "2016-07-05T08:00:00Z"}
    assert "published" not in second.given
    assert first.source_sha256 == hashlib.sha256(first.html.encode()).hexdigest()


def test_html_file_keeps_the_markup_and_leaves_text_for_extraction():
    (doc,) = read(GOOD / "watson-talks.html")
    assert doc.format == "html" and doc.text == ""
    assert doc.html == (GOOD / "watson-talks.html").read_text(encoding="utf-8")


def test_sidecar_overrides_manifest_which_fills_the_rest():
    found = by_location(read(GOOD))
    assert found["unions.txt"].given == {
        "title": "Unions weigh settlement", "outlet": "Example Chronicle", "published": "2016-07-05",
        "author": "Robin Hale",
    }
    assert found["copeland.txt"].given == {
        "title": "Watson: no leadership challenge", "outlet": "Example Gazette", "published": "2017-02-26",
    }


def test_files_named_directly_still_get_their_folder_manifest_and_sidecar():
    (doc,) = read(GOOD / "copeland.txt")
    assert doc.given["outlet"] == "Example Gazette"
    assert doc.source_path == str(GOOD / "copeland.txt")


def test_explicit_manifest_paths_are_relative_to_it(tmp_path):
    (tmp_path / "articles").mkdir()
    shutil.copy(EXAMPLES / "002_f5f0807e30fc34e7.txt", tmp_path / "articles" / "labourlist.txt")
    (tmp_path / "meta").mkdir()
    manifest = tmp_path / "meta" / "list.csv"
    manifest.write_text("filename;outlet;date\n../articles/labourlist.txt;LabourList;2016-07-04\n"
                        "../articles/gone.txt;Nobody;2016-07-05\n", encoding="utf-8")
    items = read(tmp_path / "articles", manifest=manifest)
    (doc,) = docs(items)
    assert doc.given == {"outlet": "LabourList", "published": "2016-07-04"}
    (error,) = errors(items)
    assert (error.code, error.record) == ("E114", "row 2") and "gone.txt" in error.message


def test_a_subfolder_manifest_describes_its_own_files(tmp_path):
    (tmp_path / "guardian").mkdir()
    shutil.copy(GOOD / "copeland.txt", tmp_path / "guardian" / "a.txt")
    (tmp_path / "guardian" / "metadata.csv").write_text("file,outlet\na.txt,The Guardian\n")
    (tmp_path / "manifest.csv").write_text("path,published,outlet\nguardian/a.txt,2017-02-26,Top level\n")
    (doc,) = read(tmp_path)
    assert doc.given == {"outlet": "The Guardian", "published": "2017-02-26"}


def test_a_csv_called_metadata_without_a_path_column_is_read_as_articles(tmp_path):
    (tmp_path / "metadata.csv").write_text("title,text\nT,Body text\n")
    assert [d.text for d in read(tmp_path)] == ["Body text"]


def test_malformed_manifest_is_one_error_and_files_are_still_read(tmp_path):
    shutil.copy(GOOD / "copeland.txt", tmp_path / "copeland.txt")
    (tmp_path / "manifest.csv").write_bytes(b"path,title\n" + b"\x89PNG\r\n\x1a\n\x00\x00")
    items = read(tmp_path)
    assert [e.code for e in errors(items)] == ["E114"]
    assert [d.given for d in docs(items)] == [{}]


def test_text_is_kept_exactly_as_decoded_with_only_the_bom_removed(tmp_path):
    raw = "Corbyn said:\r\n“I will not stand down.”\r\n\r\n\tEnd.  \n"
    (tmp_path / "crlf.txt").write_bytes(codecs.BOM_UTF8 + raw.encode("utf-8"))
    (tmp_path / "utf16.txt").write_bytes(codecs.BOM_UTF16_LE + raw.encode("utf-16-le"))
    crlf, utf16 = read(tmp_path)
    assert crlf.text == raw and crlf.encoding == "utf-8-sig"
    assert crlf.source_sha256 == hashlib.sha256((tmp_path / "crlf.txt").read_bytes()).hexdigest()
    assert utf16.text == raw and utf16.encoding == "utf-16-le"


def test_legacy_and_mixed_encodings_are_decoded_not_refused():
    found = by_location(read(BAD / "latin1.txt", BAD / "mixed.txt"))
    assert found["latin1.txt"].text.startswith("Le député a déclaré") and found["latin1.txt"].encoding == "cp1252"
    mixed = found["mixed.txt"]
    assert mixed.text == ("Jeremy Corbyn’s allies said the “coup” had failed.\n"
                          "The café owner in Islington, a Labour member, disagreed.\n")
    assert mixed.encoding == "utf-8+cp1252"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("story.TXT", None, "text"),
        ("page.HTM", None, "html"),
        ("page.xhtml", None, "html"),
        ("feed.NDJSON", None, "jsonl"),
        ("dump.jsonl.gz", None, "jsonl"),
        ("page.html.gz", None, "html"),
        ("list.json", None, "json"),
        ("sheet.tsv", None, "csv"),
        ("crawl.WARC.GZ", None, "warc"),
        ("old.arc.gz", None, "warc"),
        ("report.pdf", None, None),
        ("letter.docx", None, None),
        ("noext", b"<!DOCTYPE html><html><body><p>Hi</p></body></html>", "html"),
        ("noext", b'{"text": "one"}\n{"text": "two"}\n', "jsonl"),
        ("noext", b'{\n  "text": "one"\n}\n', "json"),
        ("noext", b"WARC/1.0\r\n", "warc"),
        ("noext", b"[Photo: AFP] Corbyn spoke.", "text"),
        ("Corbyn speech 04.07.2016", b"Corbyn spoke.", "text"),
    ],
)
def test_sniff_format(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content or b"x")
    assert sniff_format(path) == expected


def test_sniff_format_looks_inside_a_bare_gz(tmp_path):
    (tmp_path / "dump.gz").write_bytes(gzip.compress(b'{"text": "a"}\n{"text": "b"}\n'))
    assert sniff_format(tmp_path / "dump.gz") == "jsonl"
    assert [d.record for d in read(tmp_path / "dump.gz")] == ["line 1", "line 2"]


def test_glob_patterns_are_expanded_when_the_shell_did_not(tmp_path):
    items = read(str(GOOD / "*.txt"), str(tmp_path / "nothing-*.txt"))
    assert [Path(d.source_path).name for d in docs(items)] == ["copeland.txt", "unions.txt"]
    (error,) = errors(items)
    assert error.code == "E101" and "match" in error.message


def test_the_same_file_named_twice_is_read_once():
    items = read(GOOD / "copeland.txt", GOOD, GOOD / "copeland.txt")
    assert [Path(d.source_path).name for d in items].count("copeland.txt") == 1


def test_hidden_files_and_folders_are_skipped(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD.txt").write_text("ref: refs/heads/main\n")
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text(MOMENTUM)
    assert [d.source_path for d in read(tmp_path)] == [os.path.join(str(tmp_path), "sub", "a.txt")]


def test_source_path_keeps_the_spelling_the_user_gave(tmp_path, monkeypatch):
    (tmp_path / "in" / "deep").mkdir(parents=True)
    (tmp_path / "in" / "deep" / "a.txt").write_text(MOMENTUM)
    monkeypatch.chdir(tmp_path)
    assert [d.source_path for d in read("in/")] == ["in/deep/a.txt"]


def test_a_symlink_loop_is_walked_once(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "story.txt").write_text(MOMENTUM)
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a")
    assert len(read(tmp_path)) == 1


def test_stdin_is_sniffed_html_jsonl_text_and_gzip():
    html = b"<!doctype html><html><body><p>Corbyn spoke.</p></body></html>"
    (doc,) = read("-", stdin=io.BytesIO(html))
    assert (doc.source_path, doc.format, doc.html) == ("<stdin>", "html", html.decode())
    lines = b'{"text": "one"}\n\n{"text": "two", "outlet": "X"}\n'
    assert [(d.record, d.text) for d in read("-", stdin=io.BytesIO(lines))] == [("line 1", "one"), ("line 3", "two")]
    (doc,) = read("-", stdin=io.BytesIO(KINNOCK.encode()))
    assert (doc.format, doc.text) == ("text", KINNOCK)
    assert len(read("-", stdin=io.BytesIO(gzip.compress(lines)))) == 2
    assert [e.code for e in read("-", stdin=io.BytesIO(b""))] == ["E103"]


def test_stdin_warc():
    items = read("-", stdin=io.BytesIO((GOOD / "crawl.warc.gz").read_bytes()))
    assert [d.format for d in items] == ["html", "html"]


def test_compressed_single_documents(tmp_path):
    (tmp_path / "a.txt.gz").write_bytes(gzip.compress(KINNOCK.encode()))
    (tmp_path / "b.html.gz").write_bytes(gzip.compress((GOOD / "watson-talks.html").read_bytes()))
    a, b = read(tmp_path)
    assert (a.text, a.source_sha256) == (KINNOCK, hashlib.sha256(KINNOCK.encode()).hexdigest())
    assert b.format == "html" and "Tom Watson" in b.html


def test_json_array_is_streamed_item_by_item_past_the_document_limit(tmp_path):
    records = [{"text": MOMENTUM, "title": f"Item {i}"} for i in range(40)]
    records[1] = 42  # type: ignore[call-overload]
    (tmp_path / "list.json").write_text(json.dumps(records, indent=1), encoding="utf-8")
    small = SETTINGS.replace(max_document_bytes=2000)
    assert (tmp_path / "list.json").stat().st_size > 5 * small.max_document_bytes
    items = read(tmp_path / "list.json", settings=small)
    assert len(docs(items)) == 39 and docs(items)[0].record == "item 1" and docs(items)[-1].record == "item 40"
    (error,) = errors(items)
    assert (error.code, error.record, error.message) == ("E107", "item 2", "record is a number, not a JSON object")


def test_json_single_object_and_json_lines_named_json(tmp_path):
    (tmp_path / "one.json").write_text(json.dumps({"headline": "H", "body": COPELAND}, indent=2))
    (tmp_path / "two.json").write_text(json.dumps({"text": "a"}) + "\n" + json.dumps({"text": "b"}) + "\n")
    one, two_a, two_b = read(tmp_path)
    assert (one.record, one.text, one.given, one.format) == ("", COPELAND, {"title": "H"}, "json")
    assert (two_a.record, two_b.text) == ("line 1", "b")


def test_json_record_with_only_html_is_an_html_document(tmp_path):
    (tmp_path / "f.jsonl").write_text(json.dumps({"raw_html": "<html><body><p>Hi there</p></body></html>",
                                                  "url": "https://e.org/a"}) + "\n")
    (doc,) = read(tmp_path / "f.jsonl")
    assert (doc.format, doc.text, doc.given) == ("html", "", {"url": "https://e.org/a"})


def test_truncated_json_array_keeps_the_items_before_the_damage(tmp_path):
    text = json.dumps([{"text": "a"}, {"text": "b"}, {"text": "c"}])
    (tmp_path / "cut.json").write_text(text[:-12])
    items = read(tmp_path / "cut.json")
    assert [d.text for d in docs(items)] == ["a", "b"]
    assert [(e.code, e.record) for e in errors(items)] == [("E107", "item 3")]


def test_an_oversized_record_is_one_error_and_the_container_goes_on(tmp_path):
    big = json.dumps({"text": "x" * 5000})
    (tmp_path / "f.jsonl").write_text(f'{{"text": "first"}}\n{big}\n{{"text": "last"}}\n')
    (tmp_path / "g.csv").write_text(f'text\nfirst\n"{"y" * 5000}"\nlast\n')
    items = read(tmp_path, settings=SETTINGS.replace(max_document_bytes=1000))
    assert [d.text for d in docs(items)] == ["first", "last", "first", "last"]
    assert [(Path(e.source_path).name, e.record, e.code) for e in errors(items)] == [
        ("f.jsonl", "line 2", "E104"), ("g.csv", "row 2", "E104")]


def test_a_zip_bomb_is_refused(tmp_path):
    (tmp_path / "bomb.jsonl.gz").write_bytes(gzip.compress((json.dumps({"text": "z" * 1000}) + "\n").encode() * 3000))
    items = read(tmp_path, settings=SETTINGS.replace(max_decompressed_bytes=100_000))
    assert 0 < len(docs(items)) < 100
    (error,) = errors(items)
    assert error.code == "E104" and "zip bomb" in error.message and "100,000" in error.message


def test_csv_delimiter_is_sniffed_and_the_header_needs_a_text_column(tmp_path):
    (tmp_path / "semi.csv").write_text("Headline;Article Body;Publisher\nH1;Body one, with commas;P\n")
    (tmp_path / "tabs.tsv").write_text("title\ttext\nT\tTab body\n")
    (tmp_path / "notext.csv").write_text("title,url\nA,https://e.org\n")
    items = read(tmp_path)
    assert [(d.text, d.given.get("title")) for d in docs(items)] == [("Body one, with commas", "H1"), ("Tab body", "T")]
    (error,) = errors(items)
    assert error.code == "E108" and "text column" in error.message


# -- bad input ----------------------------------------------------------------------------------------

BAD_EXPECTED = {  # file -> (code, record) of its one error
    "photo.txt": ("E105", ""),
    "empty.txt": ("E103", ""),
    "blank.txt": ("E103", ""),
    "utf16-broken.txt": ("E106", ""),
    "broken.json": ("E107", ""),
    "nobody.html": ("E110", ""),
    "truncated.jsonl.gz": ("E109", ""),
    "truncated.warc.gz": ("E109", ""),
    "report.pdf": ("E111", ""),
    "unclosed.csv": ("E108", "row 2"),
    "story.meta.json": ("E114", ""),
}


def test_every_bad_fixture_gives_exactly_one_clear_error_and_the_batch_goes_on():
    items = read(BAD, GOOD / "copeland.txt")
    for name, (code, record) in BAD_EXPECTED.items():
        error = the_error(items, name)
        assert (error.code, error.record) == (code, record), error
        assert error.source_path == str(BAD / name)
    feed = [(e.record, e.code) for e in errors(items) if e.source_path.endswith("feed.jsonl")]
    assert feed == [("line 2", "E107"), ("line 3", "E112"), ("line 4", "E107")]
    for error in errors(items):
        assert error.code in ITEM_CODES and error.message and "\n" not in error.message
    found = by_location(docs(items))
    assert set(found) == {
        "feed.jsonl (line 1)", "feed.jsonl (line 5)", "latin1.txt", "mixed.txt", "story.txt",
        "truncated.jsonl.gz (line 1)", "truncated.jsonl.gz (line 2)", "truncated.jsonl.gz (line 3)",
        "truncated.warc.gz (record <urn:uuid:00000000-0000-4000-8000-000000000001>)",
        "unclosed.csv (row 1)", "copeland.txt",
    }
    assert found["story.txt"].given == {}  # the malformed sidecar is reported, not applied


def test_messages_say_what_is_wrong():
    items = by_location(read(BAD))
    assert "PNG" in items["photo.txt"].message
    assert "supported: .txt" in items["report.pdf"].message
    assert "column" in items["broken.json"].message
    assert "truncated" in items["truncated.warc.gz"].message


def make_unreadable_inputs(folder: Path) -> dict[str, str]:
    """Create what cannot be committed; return file name -> the error code it must give."""
    folder.mkdir(exist_ok=True)
    with open(folder / "huge.txt", "wb") as out:  # 50 MB, sparse: quick to make, never read
        out.write(b"Corbyn said he would not resign.\n")
        out.truncate(50 * 1024 * 1024)
    os.mkfifo(folder / "pipe.txt")
    (folder / "dangling.txt").symlink_to(folder / "missing-target.txt")
    expected = {"huge.txt": "E104", "pipe.txt": "E102", "dangling.txt": "E102"}
    locked = folder / "locked.txt"
    locked.write_text(MOMENTUM)
    locked.chmod(0)
    if os.geteuid() != 0:  # root reads it anyway: test_permission_denied_is_one_error_per_item drops root
        expected["locked.txt"] = "E113"
    return expected


def test_files_that_cannot_be_committed_give_one_error_each(tmp_path):
    expected = make_unreadable_inputs(tmp_path / "odd")
    shutil.copy(GOOD / "copeland.txt", tmp_path / "odd" / "zz-good.txt")
    items = read(tmp_path / "odd", tmp_path / "does-not-exist.txt")
    for name, code in expected.items():
        assert the_error(items, name).code == code
    assert the_error(items, "does-not-exist.txt").code == "E101"
    assert "zz-good.txt" in {Path(d.source_path).name for d in docs(items)}
    huge = the_error(items, "huge.txt").message
    assert "52,428,800" in huge and "10,485,760" in huge
    assert "FIFO" in the_error(items, "pipe.txt").message


def _as_nobody(folder: Path) -> list[tuple[str, str]]:
    """Read a folder in a forked child that dropped root, since root reads mode-000 files anyway."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            found = [(Path(i.source_path).name, getattr(i, "code", "doc")) for i in read(folder)]
            os.write(writer, json.dumps(found).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        data = pipe.read()
    os.waitpid(pid, 0)
    return [tuple(x) for x in json.loads(data or b"[]")]


def test_permission_denied_is_one_error_per_item(tmp_path_factory):
    # pytest's tmp_path lives under a root-only folder, so use a world-traversable one when root.
    base = Path(tempfile.mkdtemp(prefix="storytrace-perm-")) if os.geteuid() == 0 else tmp_path_factory.mktemp("p")
    try:
        base.chmod(0o755)
        (base / "locked.txt").write_text(MOMENTUM)
        (base / "locked.txt").chmod(0)
        (base / "closed").mkdir(mode=0)
        (base / "open.txt").write_text(UNIONS)
        (base / "open.txt").chmod(0o644)
        found = _as_nobody(base) if os.geteuid() == 0 else [
            (Path(i.source_path).name, getattr(i, "code", "doc")) for i in read(base)]
        assert found == [("closed", "E113"), ("locked.txt", "E113"), ("open.txt", "doc")]
    finally:
        (base / "closed").chmod(0o755)
        shutil.rmtree(base)


def test_stdin_named_twice_is_read_once():
    items = read("-", "-", stdin=io.BytesIO(KINNOCK.encode()))
    assert [type(i).__name__ for i in items] == ["RawDocument", "ItemError"]


# -- never raise --------------------------------------------------------------------------------------


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".jsonl", ".csv", ".json", ".html", ".gz"]),
       prefix=st.sampled_from([b"", b"text,title\n", b'{"text": "', b"\xef\xbb\xbf", b"\x1f\x8b", b"WARC/1.0\r\n"]))
def test_arbitrary_bytes_never_raise(tmp_path, data, suffix, prefix):
    path = tmp_path / f"input{suffix}"
    path.write_bytes(prefix + data)
    items = read(path, settings=SETTINGS.replace(max_document_bytes=2000, max_decompressed_bytes=20_000))
    for item in items:
        assert isinstance(item, RawDocument | ItemError)
        if isinstance(item, ItemError):
            assert item.code in ITEM_CODES and "\n" not in item.message, item
    items = read("-", stdin=io.BytesIO(prefix + data))
    assert all(isinstance(i, RawDocument) or i.code in ITEM_CODES for i in items)


def test_containers_without_records_say_so(tmp_path):
    (tmp_path / "a.json").write_text("[]")
    (tmp_path / "b.jsonl").write_text("\n\n")
    (tmp_path / "c.csv").write_text("title,text\n")
    assert [(Path(e.source_path).name, e.code) for e in read(tmp_path)] == [
        ("a.json", "E103"), ("b.jsonl", "E103"), ("c.csv", "E103")]


def test_html_declared_latin1_is_read_as_windows_1252(tmp_path):
    markup = '<html><head><meta charset="iso-8859-1"></head><body><p>“Sterner stuff” – café</p></body></html>'
    (tmp_path / "p.html").write_bytes(markup.encode("cp1252"))
    (doc,) = read(tmp_path)
    assert (doc.html, doc.encoding) == (markup, "cp1252")


def test_record_markup_without_visible_text_is_an_error(tmp_path):
    (tmp_path / "f.jsonl").write_text(json.dumps({"html": "<html><head><title>T</title></head></html>"}) + "\n")
    assert [(e.code, e.record) for e in read(tmp_path)] == [("E110", "line 1")]


def test_a_large_bare_gz_is_still_sniffed(tmp_path):
    lines = "".join(json.dumps({"text": KINNOCK}) + "\n" for _ in range(400)).encode()
    (tmp_path / "dump.gz").write_bytes(gzip.compress(lines))
    assert len(lines) > 100_000 and sniff_format(tmp_path / "dump.gz") == "jsonl"


def test_a_warc_record_with_a_wrong_length_is_reported_not_printed(tmp_path, capsys):
    plain = gzip.decompress((GOOD / "crawl.warc.gz").read_bytes())
    end = plain.index(b"</html>\n") + len(b"</html>\n")  # end of the first response's payload
    (tmp_path / "bad-length.warc").write_bytes(plain[:end] + b"stray bytes\n" + plain[end:])
    items = read(tmp_path)
    assert len(docs(items)) == 2
    (error,) = errors(items)
    assert error.code == "E109" and "Content-Length" in error.message
    assert capsys.readouterr().err == ""
