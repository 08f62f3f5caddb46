"""PolNeAR reader and quotation scorer: hand-built spans for every rule, real dev files, and the quality gate."""

from __future__ import annotations

import json
from itertools import permutations
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storytrace.bench import quote_baseline, quote_scoring, quotes
from storytrace.bench.attributions import GoldAttribution, load_split, parse_ann, resolve_root
from storytrace.bench.quote_scoring import ArticleText, align, is_speech, normalise, score_article
from storytrace.errors import BenchmarkError
from storytrace.model import Quote, Span
from tests.conftest import require_data


# -- helpers -----------------------------------------------------------------------------------------
def at(text: str, piece: str, nth: int = 0) -> Span:
    """The span of the nth occurrence of ``piece`` in ``text``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(piece, start + 1)
    return Span(start, start + len(piece), piece)


def gold(text: str, content: str | list[str], cue: str | None = None, source: str | None = None) -> GoldAttribution:
    pieces = [content] if isinstance(content, str) else content
    return GoldAttribution(
        id="E1",
        content=tuple(at(text, p) for p in pieces),
        cue=(at(text, cue),) if cue else (),
        source=(at(text, source),) if source else None,
    )


def quote(text: str, content: str | list[str], cue: str | None = None, source: str | None = None,
          speaker: str | None = None) -> Quote:
    pieces = [at(text, p) for p in ([content] if isinstance(content, str) else content)]
    return Quote(
        article_id="a", kind="direct", content=Span(pieces[0].start, pieces[-1].end, ""),
        content_spans=tuple(pieces) if len(pieces) > 1 else (),
        cue=at(text, cue) if cue else None, source=at(text, source) if source else None, speaker=speaker,
    )


def key(text: str, *pieces: str, content: bool = False) -> quote_scoring.SpanKey:
    return ArticleText(text).key([(s.start, s.end) for s in (at(text, p) for p in pieces)], content=content)


def figures(text: str, golds: list[GoldAttribution], preds: list[Quote]) -> dict:
    return quote_scoring.summarise(score_article(text, golds, preds))


def trimmed(text: str, piece: str, *, content: bool = False) -> list[str]:
    span = at(text, piece)
    return [text[s:e] for s, e in normalise(text, [(span.start, span.end)], content=content)]


# -- edge normalisation --------------------------------------------------------------------------------
def test_normalise_strips_whitespace_punctuation_and_quote_marks() -> None:
    text = 'Intro. “We will win,” he said.'
    assert trimmed(text, ' “We will win,” ') == ["We will win"]
    plain = 'x "Not now." y'
    assert trimmed(plain, ' "Not now." ') == ["Not now"]


def test_normalise_drops_a_leading_lowercase_that_in_content_only() -> None:
    text = "He said that “the deal is dead.” That is all."
    assert trimmed(text, "that “the deal is dead.”", content=True) == ["the deal is dead"]
    assert trimmed(text, "that “the deal is dead.”") == ["that “the deal is dead"]
    # A sentence-initial demonstrative is content, not a complementiser.
    assert trimmed(text, "That is all.", content=True) == ["That is all"]
    # "thatcher" is not "that".
    assert trimmed("said thatcher rules", "thatcher rules", content=True) == ["thatcher rules"]


def test_normalise_keeps_a_punctuation_only_span_and_drops_empty_fragments() -> None:
    text = "Trump: “We will build a wall.”"
    assert trimmed(text, ":") == [":"]
    colon = at(text, ":")
    wall = at(text, "We will build a wall")
    assert normalise(text, [(wall.start, wall.end), (colon.start, colon.end)]) == ((wall.start, wall.end),)


def test_exact_ignores_punctuation_and_paragraph_breaks_between_fragments() -> None:
    text = "“First part of it.\n\n“Second part of it,” she said."
    one = key(text, "“First part of it.\n\n“Second part of it,”")
    two = key(text, "First part of it.", "“Second part of it,”")
    assert quote_scoring.match_score(one, two, "exact") == 1.0


# -- matching modes ----------------------------------------------------------------------------------
def test_exact_requires_the_same_word_characters() -> None:
    text = "The senator said the bill would pass easily next week."
    g = key(text, "the bill would pass easily next week")
    assert quote_scoring.match_score(g, key(text, "the bill would pass easily next week."), "exact") == 1.0
    assert quote_scoring.match_score(g, key(text, "the bill would pass easily next wee"), "exact") is None
    assert quote_scoring.match_score(g, key(text, "bill would pass easily next week"), "exact") is None


def test_lenient_is_token_jaccard_at_least_one_half() -> None:
    text = "one two three four five six seven eight"
    g = key(text, "one two three four")
    half = key(text, "three four five six seven eight")  # 2 shared of 8 tokens -> 0.25
    assert quote_scoring.match_score(g, half, "lenient") is None
    exactly_half = key(text, "one two")  # 2 / 4
    assert quote_scoring.match_score(g, exactly_half, "lenient") == 0.5
    below = key(text, "three four five six")  # 2 / 6
    assert quote_scoring.match_score(g, below, "lenient") is None
    # A token cut in the middle still counts as covered.
    assert quote_scoring.match_score(g, key(text, "one two three fo"), "lenient") == 1.0


def test_soft_overlap_needs_a_shared_word_token() -> None:
    text = "“Alpha beta gamma,” said Jones, “delta epsilon.”"
    g = key(text, "“Alpha beta gamma,”")
    assert quote_scoring.match_score(g, key(text, "gamma,” said Jones"), "soft") is not None
    # Touching only at the closing quote and comma is no overlap.
    assert quote_scoring.match_score(g, key(text, ",” said Jones"), "soft") is None
    assert quote_scoring.match_score(g, key(text, "delta epsilon"), "soft") is None


def test_unknown_mode_is_an_error() -> None:
    k = key("a b", "a b")
    with pytest.raises(ValueError, match="unknown matching mode"):
        quote_scoring.match_score(k, key("a b c", "c"), "fuzzy")
    with pytest.raises(ValueError, match="unknown matching mode"):
        align([], [], "fuzzy")


# -- alignment -----------------------------------------------------------------------------------------
def test_two_predictions_cannot_both_match_one_gold() -> None:
    text = "“We will win this state and the next one,” Smith said."
    g = gold(text, "“We will win this state and the next one,”", "said", "Smith")
    preds = [quote(text, "“We will win this state and the next one,”"), quote(text, "We will win this state")]
    content = figures(text, [g], preds)["ALL"]["content"]
    assert content["soft"] == {"p": 0.5, "r": 1.0, "f1": 0.6667}
    assert content["exact"]["p"] == 0.5


def test_alignment_prefers_the_better_pair_and_loses_no_possible_match() -> None:
    text = "aa bb cc dd ee ff gg hh"
    g0, g1 = key(text, "aa bb cc dd"), key(text, "ee ff gg hh")
    wide = key(text, "cc dd ee ff gg")  # overlaps both, better with g1
    narrow = key(text, "dd")
    assert align([g0, g1], [wide, narrow], "soft") == [(0, 1), (1, 0)]
    # Greedy alone gives the shared prediction to g0 (its best pair) and strands g1's only candidate.
    only_g0 = key(text, "cc dd ee")  # 2 tokens with g0, 1 with g1
    second = key(text, "bb")
    assert align([g0, g1], [only_g0, second], "soft") == [(0, 1), (1, 0)]
    assert align([g0, None], [None, narrow], "soft") == [(0, 1)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(1, 4)), min_size=0, max_size=4),
       st.lists(st.tuples(st.integers(0, 9), st.integers(1, 4)), min_size=0, max_size=4),
       st.sampled_from(quote_scoring.MODES))
def test_alignment_is_one_to_one_valid_and_maximal(gold_spans: list[tuple[int, int]],
                                                    pred_spans: list[tuple[int, int]], mode: str) -> None:
    text = " ".join(f"w{i}" for i in range(14))
    doc = ArticleText(text)
    starts = [m for m in range(len(text)) if m == 0 or text[m - 1] == " "]

    def span_key(first: int, length: int) -> quote_scoring.SpanKey:
        last = min(first + length, 14) - 1
        return doc.key([(starts[first], starts[last] + len(f"w{last}"))])

    golds = [span_key(*s) for s in gold_spans]
    preds = [span_key(*s) for s in pred_spans]
    pairs = align(golds, preds, mode)
    assert len({i for i, _ in pairs}) == len({j for _, j in pairs}) == len(pairs)
    assert all(quote_scoring.match_score(golds[i], preds[j], mode) is not None for i, j in pairs)
    # Brute force: no one-to-one matching has more pairs.
    best = 0
    small, large = (golds, preds) if len(golds) <= len(preds) else (preds, golds)
    for order in permutations(range(len(large)), len(small)):
        count = sum(1 for a, b in enumerate(order)
                    if quote_scoring.match_score(*((small[a], large[b]) if small is golds else (large[b], small[a])),
                                                 mode) is not None)
        best = max(best, count)
    assert len(pairs) == best


def test_modes_are_nested_exact_lenient_soft() -> None:
    text = "“Taxes will go up for everyone under this plan,” he said, “and nobody can stop that.”"
    g = gold(text, ["“Taxes will go up for everyone under this plan,”", "“and nobody can stop that.”"], "said", "he")
    preds = [quote(text, "Taxes will go up for everyone under this plan"), quote(text, "and nobody can stop")]
    content = figures(text, [g], preds)["ALL"]["content"]
    assert content["exact"]["f1"] <= content["lenient"]["f1"] <= content["soft"]["f1"]
    assert content["exact"]["r"] == 0.0
    assert content["lenient"] == {"p": 0.5, "r": 1.0, "f1": 0.6667}


# -- roles, subsets, who said what ---------------------------------------------------------------------
TEXT = ("“We are going to win Ohio,” Trump said on Monday. According to a new poll, Clinton leads by four points. "
        "Clinton told reporters that she was confident.")


def three_golds() -> list[GoldAttribution]:
    return [
        gold(TEXT, "“We are going to win Ohio,”", "said", "Trump"),
        gold(TEXT, "Clinton leads by four points", "According to", "a new poll"),
        gold(TEXT, "that she was confident", "told", "Clinton"),
    ]


def test_subsets_speech_and_direct() -> None:
    assert is_speech("said in a statement") and is_speech("told") and is_speech("added:")
    assert not is_speech("according to") and not is_speech("believes") and not is_speech(":")
    f = figures(TEXT, three_golds(), [g.to_quote("a") for g in three_golds()])
    assert (f["ALL"]["content"]["gold"], f["SPEECH"]["content"]["gold"], f["DIRECT"]["content"]["gold"]) == (3, 2, 1)
    assert f["ALL"]["source"]["gold"] == 3


def test_subset_recall_counts_gold_matched_by_any_prediction() -> None:
    # The prediction drops the quote marks, so it is not DIRECT itself: it counts for DIRECT recall only.
    bare = "We are going to win Ohio"
    start = TEXT.index(bare)
    preds = [Quote(article_id="a", kind="direct", content=Span(start + 3, start + len(bare) - 5, ""))]  # "are ... win"
    f = figures(TEXT, three_golds(), preds)
    assert f["DIRECT"]["content"]["gold"] == 1 and f["DIRECT"]["content"]["predicted"] == 0
    assert f["DIRECT"]["content"]["lenient"] == {"p": 0.0, "r": 1.0, "f1": 0.0}
    # A content stopping short of its closing mark is still DIRECT.
    assert ArticleText(TEXT).is_direct([(TEXT.index(bare), TEXT.index(bare) + len(bare))])
    assert not ArticleText(TEXT).is_direct([(TEXT.index("Clinton leads"), TEXT.index(" by four"))])
    nyt = "''We are going to win Ohio,'' he said. It's the voters' choice."
    assert ArticleText(nyt).is_direct([(0, nyt.index(" he"))])
    assert not ArticleText(nyt).is_direct([(nyt.index("It's"), len(nyt))])


def test_roles_are_scored_separately_and_missing_roles_do_not_count() -> None:
    golds = three_golds()
    preds = [quote(TEXT, "“We are going to win Ohio,”", "Trump said", "Trump"),
             quote(TEXT, "she was confident", None, "reporters")]
    f = figures(TEXT, golds, preds)
    assert f["ALL"]["cue"]["predicted"] == 1 and f["ALL"]["cue"]["exact"]["p"] == 0.0
    assert f["ALL"]["cue"]["soft"] == {"p": 1.0, "r": 0.3333, "f1": 0.5}
    assert f["ALL"]["source"]["exact"] == {"p": 0.5, "r": 0.3333, "f1": 0.4}
    assert f["ALL"]["content"]["exact"] == {"p": 1.0, "r": 0.6667, "f1": 0.8}


def test_source_less_gold_takes_no_part_in_source_scores() -> None:
    text = "It was reported that the talks failed."
    g = GoldAttribution("E1", (at(text, "that the talks failed"),), (at(text, "was reported"),), None)
    f = figures(text, [g], [quote(text, "the talks failed", "was reported")])
    assert f["ALL"]["source"]["gold"] == 0 and f["ALL"]["source"]["predicted"] == 0
    assert f["ALL"]["who_said_what"]["f1"] == 1.0
    named = figures(text, [g], [quote(text, "the talks failed", "was reported", speaker="Reuters")])
    assert named["ALL"]["who_said_what"]["f1"] == 0.0


def test_who_said_what_by_source_span_or_speaker_surname() -> None:
    text = "“This race is over,” said campaign chairman John Podesta. “Not yet,” he added."
    golds = [gold(text, "“This race is over,”", "said", "campaign chairman John Podesta"),
             gold(text, "“Not yet,”", "added", "he")]

    def who(preds: list[Quote]) -> tuple[float, dict]:
        f = figures(text, golds, preds)
        return f["ALL"]["who_said_what"]["r"], f["direct_speaker_accuracy"]

    # Source span on the written mention: lenient overlap is enough.
    assert who([quote(text, "“This race is over,”", source="John Podesta")])[0] == 0.5
    # Or the resolved speaker's surname is in the gold mention.
    assert who([quote(text, "“This race is over,”", speaker="John D. Podesta")])[0] == 0.5
    assert who([quote(text, "“This race is over,”", speaker="Hillary Clinton")])[0] == 0.0
    # A gold pronoun is only matched by a source span on it: no coreference in PolNeAR.
    assert who([quote(text, "“Not yet,”", speaker="John Podesta")])[0] == 0.0
    recall, accuracy = who([quote(text, "“Not yet,”", source="he", speaker="John Podesta"),
                            quote(text, "“This race is over,”", source="campaign")])
    assert recall == 0.5
    assert accuracy == {"matched": 2, "speaker_right": 1, "accuracy": 0.5}


def test_predicted_offsets_outside_the_text_are_an_error() -> None:
    with pytest.raises(BenchmarkError, match="outside the article text"):
        score_article("short", [], [Quote(article_id="a", kind="direct", content=Span(2, 50, ""))])


def test_no_predictions_and_no_gold_score_zero_without_dividing_by_zero() -> None:
    f = figures("Nothing said here.", [], [])
    assert f["ALL"]["content"]["exact"] == {"p": 0.0, "r": 0.0, "f1": 0.0}
    assert f["direct_speaker_accuracy"]["accuracy"] == 0.0


# -- the reader, on synthetic brat files -----------------------------------------------------------------
ARTICLE = ("“We will not back down,” Sen. Jane Roe said on Tuesday.\n\n"
           "“Not now,\nnot ever.” The senator also said that the bill was “a disgrace.”\n\n"
           "It was reported that talks had stalled.\n")


def brat(text: str, entities: list[tuple[str, str, list[tuple[int, int]]]], events: list[str]) -> str:
    lines = []
    for tid, label, spans in entities:
        offsets = ";".join(f"{s} {e}" for s, e in spans)
        lines.append(f"{tid}\t{label} {offsets}\t{' '.join(text[s:e] for s, e in spans)}")
    lines.extend(events)
    return "\n".join(lines) + "\n"


def offsets(text: str, piece: str) -> tuple[int, int]:
    span = at(text, piece)
    return span.start, span.end


def synthetic_ann(text: str = ARTICLE) -> str:
    first = offsets(text, "“We will not back down,”")
    cont = offsets(text, "“Not now,\nnot ever.”")  # a multi-line span
    return brat(text, [
        ("T1", "Content", [first]),
        ("T2", "Source", [offsets(text, "Sen. Jane Roe")]),
        ("T3", "Cue", [offsets(text, "said")]),
        ("T4", "Attribution", [offsets(text, "said")]),
        ("T5", "Content", [offsets(text, "that the bill was “a disgrace.”")]),
        ("T6", "Source", [offsets(text, "The senator")]),
        ("T7", "Cue", [offsets(text, "also said")]),
        ("T8", "Attribution", [offsets(text, "also said")]),
        ("T9", "Content", [offsets(text, "that talks had stalled")]),
        ("T10", "Cue", [offsets(text, "was reported")]),
        ("T11", "Attribution-no-source", [offsets(text, "was reported")]),
        ("T12", "Discuss", [offsets(text, "on Tuesday")]),
        ("T13", "Attribution", [offsets(text, "It was")]),
        ("T14", "Content", [cont]),
    ], [
        "E1\tAttribution:T4 Content:T1 Cue:T3 Source:T2 Content2:T14",
        "E2\tAttribution:T8 Source:T6 Cue:T7 Content:T5",
        "#1\tAnnotatorNotes T12\tunsure",
        "E3\tAttribution-no-source:T11 Cue:T10 Content:T9",
        "E4\tAttribution:T13 ",  # no content: skipped
    ])


def write_split(root: Path, split: str, articles: dict[str, list[tuple[str, str]]], texts: dict[str, str]) -> None:
    (root / split / "text").mkdir(parents=True)
    (root / split / "attributions").mkdir(parents=True)
    for name, anns in articles.items():
        (root / split / "text" / f"{name}.txt").write_text(texts[name], encoding="utf-8")
        for annotator, ann in anns:
            (root / split / "attributions" / f"{name}_{annotator}.ann").write_text(ann, encoding="utf-8")


def test_parse_ann_reads_roles_multiline_and_discontinuous_spans() -> None:
    found = parse_ann(synthetic_ann(), ARTICLE)
    assert [a.id for a in found] == ["E1", "E2", "E3"]
    first, second, third = found
    assert [s.text for s in first.content] == ["“We will not back down,”", "“Not now,\nnot ever.”"]
    assert first.source and first.source[0].text == "Sen. Jane Roe"
    assert [s.text for s in first.cue] == ["said"]
    assert second.source and second.source[0].text == "The senator"
    assert third.source is None and third.cue[0].text == "was reported"
    discontinuous = brat(ARTICLE, [("T1", "Content", [offsets(ARTICLE, "Not now"), offsets(ARTICLE, "not ever")]),
                                   ("T2", "Cue", [offsets(ARTICLE, "also said")])],
                         ["E1\tAttribution:T2 Cue:T2 Content:T1"])
    (only,) = parse_ann(discontinuous, ARTICLE)
    assert [s.text for s in only.content] == ["Not now", "not ever"]


def test_parse_ann_refuses_a_mismatched_text() -> None:
    with pytest.raises(BenchmarkError, match="does not match"):
        parse_ann(synthetic_ann(), "X" + ARTICLE)
    with pytest.raises(BenchmarkError, match="outside the article text"):
        parse_ann(synthetic_ann(), ARTICLE[:40])


def test_load_split_picks_the_first_annotation_and_the_outlet(tmp_path: Path) -> None:
    other = brat(ARTICLE, [("T1", "Content", [offsets(ARTICLE, "that talks had stalled")]),
                           ("T2", "Cue", [offsets(ARTICLE, "was reported")])],
                 ["E1\tAttribution-no-source:T2 Cue:T2 Content:T1"])
    root = tmp_path / "polnear"
    write_split(root, "dev", {
        "nyt_2016-10-01_a": [("ffff", other), ("0a1b", synthetic_ann())],
        "zeta_2016-10-02_b": [("1234", other)],
    }, {"nyt_2016-10-01_a": ARTICLE, "zeta_2016-10-02_b": ARTICLE})
    (root / "metadata.tsv").write_text(
        "compartment\tfilename\tpublisher\n"
        "dev\tnyt_2016-10-01_a\tnew-york-times\n"
        "test\tzeta_2016-10-02_b\tnot-this-split\n", encoding="utf-8")
    for data in (root, tmp_path):  # the polnear folder or the data folder holding it
        articles = load_split(data, "dev")
        assert [a.name for a in articles] == ["nyt_2016-10-01_a", "zeta_2016-10-02_b"]
        assert [a.annotator for a in articles] == ["0a1b", "1234"]
        assert [a.outlet for a in articles] == ["new-york-times", "zeta"]
        assert [len(a.attributions) for a in articles] == [3, 1]
        assert articles[0].annotations == 2
    assert len(load_split(root, "dev", limit=1)) == 1
    assert [a.name for a in load_split(root, "dev", fold=(1, 2))] == ["zeta_2016-10-02_b"]
    assert [a.name for a in load_split(root, "dev", fold=(1, 2), rest=True)] == ["nyt_2016-10-01_a"]
    with pytest.raises(BenchmarkError, match="no PolNeAR split 'test'"):
        load_split(tmp_path, "test")


def test_run_breaks_figures_down_by_outlet(tmp_path: Path) -> None:
    root = tmp_path / "polnear"
    write_split(root, "dev", {"aa_2016_x": [("0001", synthetic_ann())], "bb_2016_y": [("0001", synthetic_ann())]},
                {"aa_2016_x": ARTICLE, "bb_2016_y": ARTICLE})
    perfect = {a.name: [g.to_quote(a.name) for g in a.attributions] for a in load_split(root, "dev")}

    def half_right(text: str, article_id: str) -> list[Quote]:
        return perfect[article_id] if article_id.startswith("aa") else []

    f = quotes.run(tmp_path, split="dev", extractor=half_right, speed=False)
    json.dumps(f)
    assert f["extractor"].endswith("half_right")
    assert f["articles"] == 2 and f["gold_attributions"] == 6 and f["predicted_attributions"] == 3
    assert f["ALL"]["content"]["exact"] == {"p": 1.0, "r": 0.5, "f1": 0.6667}
    assert f["outlets"]["aa"]["content_exact_f1"] == 1.0 and f["outlets"]["aa"]["who_said_what_f1"] == 1.0
    assert f["outlets"]["bb"]["content_exact_f1"] == 0.0 and f["outlets"]["bb"]["gold"] == 3
    assert f["articles_per_second"] > 0
    assert "DIRECT speaker accuracy" in quotes.report(f)


def test_baseline_finds_direct_quotes_with_cue_and_source() -> None:
    text = ("“We are going to win Ohio,” Trump said on Monday. She said: “It will not happen in any way.”\n\n"
            "Critics called it “rigged.” “Four words are enough here,” said Sen. Bob Smith, who ran.")
    found = quote_baseline.extract(text, "a")
    assert [q.content.text for q in found] == ["“We are going to win Ohio,”", "“It will not happen in any way.”",
                                               "“Four words are enough here,”"]
    assert [(q.cue.text if q.cue else None, q.source.text if q.source else None, q.speaker) for q in found] == [
        ("said", "Trump", "Trump"), ("said", "She", None), ("said", "Sen. Bob Smith", "Sen. Bob Smith")]


def test_default_extractor_is_named_in_the_figures(tmp_path: Path) -> None:
    root = tmp_path / "polnear"
    write_split(root, "dev", {"aa_2016_x": [("0001", synthetic_ann())]}, {"aa_2016_x": ARTICLE})
    assert quotes.run(root, split="dev", speed=False)["extractor"] == quotes.default_extractor()[0]


# -- real PolNeAR dev files -------------------------------------------------------------------------------
def test_reader_on_real_dev_files() -> None:
    data = require_data("polnear", "dev")
    articles = load_split(data.parent, "dev")
    assert len(articles) == 84
    assert {a.outlet for a in articles} == {"breitbart", "huff-post", "nyt", "politico", "usa-today", "wash-post",
                                            "west-journal"}
    assert sorted(a.annotations for a in articles)[-2:] == [6, 6]
    assert resolve_root(data.parent.parent, "dev") == data.parent
    total = discontinuous = without_source = 0
    for article in articles:
        for attribution in article.attributions:
            total += 1
            discontinuous += len(attribution.content) > 1
            without_source += attribution.source is None
            for span in (*attribution.content, *attribution.cue, *(attribution.source or ())):
                assert article.text[span.start:span.end] == span.text and span.start < span.end
    # Counts for the first annotation of each article (the README's table counts every .ann file).
    assert total == 2192 and without_source == 126 and discontinuous > 100


def test_gold_against_itself_scores_one_everywhere_on_dev() -> None:
    data = require_data("polnear", "dev")
    perfect = {a.name: [g.to_quote(a.name) for g in a.attributions] for a in load_split(data.parent, "dev")}
    f = quotes.run(data.parent, split="dev", extractor=lambda text, article_id: perfect[article_id], speed=False)
    for subset in quote_scoring.SUBSETS:
        for role in quote_scoring.ROLES:
            for mode in quote_scoring.MODES:
                assert f[subset][role][mode] == {"p": 1.0, "r": 1.0, "f1": 1.0}, (subset, role, mode)
        assert f[subset]["who_said_what"]["f1"] == 1.0
    assert f["direct_speaker_accuracy"]["accuracy"] == 1.0
    assert all(value == 1.0 for line in f["outlets"].values() for k, value in line.items() if k.endswith("f1"))


# Measured for the regex baseline on dev[:20] (2026-11-21); floors pinned a little below. The real
# extractor's floors replace these once it exists.
BASELINE_FLOORS = {
    ("DIRECT", "content", "lenient"): 0.60,
    ("DIRECT", "content", "soft"): 0.73,
    ("DIRECT", "source", "exact"): 0.41,
    ("DIRECT", "cue", "exact"): 0.41,
    ("ALL", "content", "lenient"): 0.32,
    ("ALL", "content", "exact"): 0.18,
}


def test_quality_gate_baseline_on_a_dev_slice() -> None:
    data = require_data("polnear", "dev")
    f = quotes.run(data.parent, split="dev", limit=20, extractor=quote_baseline.extract, speed=False)
    assert f["articles"] == 20
    measured = {k: f[k[0]][k[1]][k[2]]["f1"] for k in BASELINE_FLOORS}
    below = {k: (v, BASELINE_FLOORS[k]) for k, v in measured.items() if v < BASELINE_FLOORS[k]}
    assert not below, f"F1 below the pinned floors (measured, floor): {below}"
    assert f["DIRECT"]["who_said_what"]["f1"] >= 0.21
    assert f["direct_speaker_accuracy"]["accuracy"] >= 0.36


def test_analysis_speed_runs_the_products_per_article_stages_on_real_articles():
    from tests.conftest import EXAMPLES

    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))[:2]]
    figures = quotes.analysis_speed(texts, processes=1)
    assert figures["articles"] == 2 and figures["stage_errors"] == 0
    assert figures["articles_per_second"] > 0
