from __future__ import annotations

from pathlib import Path

from storytrace.corpus import Corpus
from storytrace.resolve.variants import QuoteUnit, compare, find_variants
from tests.conftest import EXAMPLES, require_data


def _unit(key: str, text: str, *, kind: str = "direct", date: str | None = None) -> QuoteUnit:
    return QuoteUnit(key=key, article_id=key.split(":")[0], text=text, start=0, end=len(text), kind=kind,
                     published=date)


def test_seeds_group_mccluskey_across_three_outlets_with_both_wording_changes(tmp_path: Path) -> None:
    with Corpus(tmp_path / "s.db") as corpus:
        corpus.ingest([EXAMPLES])
        corpus.analyze(["quotes", "variants"])
        rows = corpus.store.corpus_records("variants", limit=1000)
    groups: dict[str, list[dict]] = {}
    for key, _article, payload in rows:
        groups.setdefault(key, []).append(payload)
    steel = [g for g in groups.values() if any("made of stronger stuff" in m["canonical"] for m in g)]
    assert len(steel) == 1 and len({m["key"].split(":")[0] for m in steel[0]}) == 3
    subs = {tuple(s) for m in steel[0] for s in m["substitutions"]}
    assert ("stronger", "sterner") in subs and ("stand", "step") in subs
    together = [g for g in groups.values() if any("come together now" in m["text"] for m in g)]
    assert len(together) == 1 and len(together[0]) == 2


def test_flags_separate_substantive_from_punctuation_and_truncation() -> None:
    canon = _unit("a:0", "He is made of stronger stuff. He will not stand down.")
    same_words = _unit("b:0", "he is made of stronger stuff, he will not stand down")
    assert compare(canon, same_words).flags == ("punctuation",)
    v = compare(canon, _unit("c:0", "He is made of sterner stuff. He will not step down."))
    assert v.flags == ("substantive",) and v.substitutions == (("stronger", "sterner"), ("stand", "step"))
    assert "truncation" in compare(canon, _unit("d:0", "made of stronger stuff", kind="partial")).flags
    moved = compare(canon, _unit("e:0", "He will not stand down. He is made of stronger stuff."))
    assert "reordering" in moved.flags


def test_guard_keeps_two_speeches_sharing_a_slogan_apart() -> None:
    slogan = "we will make America great again"
    one = _unit("a:0", f"Our jobs are coming back to Ohio and the steel mills will open, {slogan}, believe me.")
    two = _unit("b:0", f"The border wall will be built and Mexico is going to pay for the whole thing, {slogan}.")
    short = _unit("c:0", slogan, kind="partial")
    groups = find_variants([one, two, short])
    assert len(groups) == 1 and {m.unit.key for m in groups[0].members} in ({"a:0", "c:0"}, {"b:0", "c:0"})


def test_two_paraphrases_sharing_a_topic_do_not_link_but_a_paraphrase_meets_its_quote() -> None:
    # PolNeAR train: an exit poll and a mayor's reply share "a temporary ban on Muslims entering the United States"
    poll = _unit("a:0", "they support his call for a temporary ban on Muslims entering the United States",
                 kind="indirect")
    reply = _unit("b:0", "Donald Trump's offer to make an exception to his call for a temporary ban on Muslims "
                         "entering the United States", kind="indirect")
    assert find_variants([poll, reply]) == []
    said = _unit("c:0", "I am calling for a temporary ban on Muslims entering the United States until we know "
                        "what is going on")
    reported = _unit("d:0", "he was calling for a temporary ban on Muslims entering the United States until they "
                            "know what is going on", kind="indirect")
    assert len(find_variants([said, reported])) == 1


def test_first_appearance_is_the_earliest_date() -> None:
    text = "Nobody builds walls better than me, believe me, and I will build them cheaply."
    groups = find_variants([_unit("a:0", text, date="2016-07-05"), _unit("b:0", text, date="2016-07-03")])
    assert groups[0].first.key == "b:0"


def test_bench_variants_smoke() -> None:
    from storytrace.bench.variants import run

    data = require_data("polnear")
    figures = run(data, split="dev", limit=20)
    assert {"linker", "baseline_exact", "labelled_pairs", "halves"} <= set(figures)
    halves = figures["halves"]
    for one, two in (("even", "odd"), ("hash_a", "hash_b")):
        assert all(halves[one][k] + halves[two][k] == figures["linker"][k] for k in ("tp", "fp", "fn"))


def test_train_labels_parse_and_point_at_train_gold_contents() -> None:
    from importlib import resources

    from storytrace.bench.attributions import load_split
    from storytrace.bench.variants import _labels

    data = require_data("polnear")
    assert len(_labels("train")) == 1095 and sum(g for *_x, g in _labels("train")) == 76
    gold = {(a.name, g.id): (a.outlet, g.content[0].start, g.content[-1].end)
            for a in load_split(data, "train") for g in a.attributions}
    path = resources.files("storytrace") / "resources" / "benchmarks" / "quote_pairs_train.tsv"
    rows = [line.split("\t") for line in path.read_text("utf-8").splitlines() if line and not line.startswith("#")]
    for a, ea, sa, xa, b, eb, sb, xb, label in rows:
        assert label in ("same", "different")
        (outlet_a, *span_a), (outlet_b, *span_b) = gold[(a, ea)], gold[(b, eb)]
        assert span_a == [int(sa), int(xa)] and span_b == [int(sb), int(xb)] and outlet_a != outlet_b


def _linked(*units: QuoteUnit) -> set[frozenset[str]]:
    return {frozenset(m.unit.key for m in g.members) for g in find_variants(list(units))}


def test_interrupted_quote_is_compared_on_its_quoted_words() -> None:
    # PolNeAR train: the same Trump answer, interrupted by narration of different lengths in two outlets
    ap = _unit("a:0", '"A lot will have to do with Israel and whether or not Israel wants to make the deal — whether '
                      "or not Israel's willing to sacrifice certain things,\" Trump told The Associated Press of the "
                      'prospects for peace in the region. "They may not be."')
    post = _unit("b:0", '"A lot will have to do with Israel and whether or not Israel wants to make the deal - whether '
                        "or not Israel's willing to sacrifice certain things,\" Trump said. \"They may not be, and I "
                        "understand that, and I'm okay with that. But then you're just not going to have a deal.\"")
    assert _linked(ap, post) == {frozenset({"a:0", "b:0"})}


def test_words_a_speaker_quotes_from_someone_else_do_not_link_a_fragment_to_him() -> None:
    # Trump's tweet quotes the FBI director; a fragment of the director's statement is not the tweet
    tweet = _unit("a:0", "“Crooked Hillary Clinton and her team ‘were extremely careless in their handling of very "
                         "sensitive, highly classified information.’ Not fit!”")
    fragment = _unit("b:0", "extremely careless in their handling of very sensitive, highly classified information.",
                     kind="partial")
    comey = _unit("c:0", "“Although we did not find clear evidence that Secretary Clinton or her colleagues intended "
                         "to violate laws, there is evidence that they were extremely careless in their handling of "
                         "very sensitive, highly classified information,”")
    assert _linked(tweet, fragment) == set()
    assert _linked(comey, fragment) == {frozenset({"b:0", "c:0"})}


def test_a_short_paraphrase_sharing_a_stock_phrase_with_a_quote_does_not_link() -> None:
    said = _unit("a:0", "''I'm not hiding the fact that I want Donald Trump to be the next president of the "
                        "United States.''")
    poll = _unit("b:0", "Sanders to be the next president of the United States", kind="indirect")
    assert _linked(said, poll) == set()


def test_a_short_fragment_found_in_part_must_be_found_at_both_ends() -> None:
    fragment = _unit("a:0", "the U.S. as well as Mexico", kind="partial")
    other = _unit("b:0", "the administration is planning to expand the program to allow siblings, biological parents "
                         "and caregivers to enter the U.S. as well ― as long as they are accompanying minors",
                  kind="indirect")
    assert _linked(fragment, other) == set()


def test_equal_links_join_the_longer_evidence_first() -> None:
    # all four links score 1.0; the six-word quote must meet the tweet it comes from before the three-word
    # fragment pulls it into the group of another tweet, which the guard then keeps apart
    paris = _unit("a:0", '"The tragic attacks in Paris proves once again that America needs to get tough on radical '
                         'Islamic terrorism,"')
    stock = _unit("b:0", "radical Islamic terrorism", kind="partial")
    quoted = _unit("c:0", '"being right on radical Islamic terrorism."')
    tweet = _unit("d:0", '"Appreciate the congrats for being right on radical Islamic terrorism."')
    assert any({"c:0", "d:0"} <= group for group in _linked(paris, stock, quoted, tweet))


def test_narration_after_a_closing_quote_mark_is_not_compared() -> None:
    # PolNeAR train: one outlet quotes Clinton's whole answer, another quotes one sentence of it and goes on in
    # its own words ("... lying" about her environmental record)
    answer = _unit("a:0", "I do not have — I have money from people who work for fossil fuel companies. I am so sick "
                          "— I am so sick of the Sanders campaign lying about me. I'm sick of it.", kind="partial")
    reported = _unit("b:0", "“I am so sick of the Sanders campaign lying” about her environmental record")
    assert _linked(answer, reported) == {frozenset({"a:0", "b:0"})}
    # under six quoted words the narration stays: the quoted words alone could only link word for word
    statement = _unit("c:0", "“Donald J. Trump is calling for a total and complete shutdown on all Muslims entering "
                             "the United States until our country's representatives can figure out what is going on.”")
    summary = _unit("d:0", '"a total and complete ban" on all Muslims entering the United States')
    assert _linked(statement, summary) == {frozenset({"c:0", "d:0"})}


def test_reworded_renderings_of_one_quotation_link_when_its_words_stay_in_one_stretch() -> None:
    # PolNeAR train: two outlets' versions of one spokesman's line, names swapped and words changed
    one = _unit("a:0", "“This is a big night for us,” Conant said. “It’s probably a three-person race leaving here. "
                       "If you don’t want Trump or Cruz to be the nominee, you better get on board with Marco "
                       "Rubio.”")
    two = _unit("b:0", '"If you don\'t want Ted Cruz or Donald Trump as the nominee, you better get on board with '
                       'Marco Rubio,"')
    assert _linked(one, two) == {frozenset({"a:0", "b:0"})}
    coal = _unit("c:0", "going to put a lot of coal miners and coal companies out of business,", kind="partial")
    swapped = _unit("d:0", "We're going to put a lot of coal companies and coal miners out of business.",
                    kind="partial")
    assert _linked(coal, swapped) == {frozenset({"c:0", "d:0"})}
    # the same claim in other words on another day: its words are there, not in the same order
    later = _unit("e:0", "“No, I meant he’s the founder of ISIS,” Trump responded. “I do. He was the most "
                         "valuable player. … He was the founder.”")
    earlier = _unit("f:0", "“I meant exactly that. He’s the founder of ISIS,” he said. “He is the most valuable "
                           "player. They should give, you know, in athletics, we get awards. You’re the best player "
                           "on the team, most valuable player. He should get the most valuable player award from "
                           "ISIS.”")
    assert _linked(later, earlier) == set()


def test_two_excerpts_of_one_statement_link_on_the_words_both_quote() -> None:
    # PolNeAR train: one outlet's quotation stops where the other's goes on ("... that murdered Trayvon")
    statement = _unit("a:0", "“This election season, we are laser focused on furthering that mission,” the group said. "
                             "“As such, the foundation has no comment on the actions of that person.”")
    fragment = _unit("b:0", "has no comment on the actions of that person that murdered Trayvon.", kind="partial")
    assert _linked(statement, fragment) == {frozenset({"a:0", "b:0"})}
    # a few words shared where one quotation ends and another begins are a phrase, not one statement
    rally = _unit("c:0", '"We fight for every vote because the people of this state are with us,"')
    later = _unit("d:0", '"People of this state are with us, and we are going to keep working every day until the '
                         'last ballot is counted,"')
    assert _linked(rally, later) == set()
