from __future__ import annotations

from pathlib import Path

from storytrace import Corpus
from storytrace.resolve.actors import Corrections, Mention, add_roles, name_tokens, resolve, roles_in
from storytrace.settings import Settings
from tests.conftest import require_data


def _m(article: str, name: str, surface: str | None = None) -> Mention:
    return Mention(article, name, surface or name, 0, len(surface or name))


def test_name_tokens_drop_titles_and_possessives() -> None:
    assert name_tokens("Mr Corbyn's") == ["corbyn"]
    assert name_tokens("J. Corbyn") == ["j", "corbyn"]
    assert name_tokens("Lord\xa0Kinnock") == ["kinnock"]


def test_surname_title_and_initial_join_the_one_full_name() -> None:
    actors = resolve([_m("a", "Len McCluskey"), _m("b", "McCluskey"), _m("c", "Mr McCluskey"),
                      _m("d", "L. McCluskey"), _m("e", "Leonard McCluskey")])
    assert len(actors) == 1
    reasons = {m["reason"] for m in actors[0].merges}
    assert any("short form" in r for r in reasons) and any("surname" in r for r in reasons)


def test_two_people_with_one_surname_stay_apart() -> None:
    actors = resolve([_m("a", "Bill Clinton"), _m("b", "Hillary Clinton"), _m("b", "Hillary Clinton"),
                      _m("c", "Clinton"), _m("b", "Clinton")])
    names = {a.name: a for a in actors}
    assert {"Bill Clinton", "Hillary Clinton", "Clinton"} <= set(names)
    # in article b only Hillary is named, so its bare "Clinton" joins her, with the reason
    assert any(m.article_id == "b" and m.name == "Clinton" for m, _ in names["Hillary Clinton"].mentions)
    assert "no evidence joins it" in names["Clinton"].mentions[0][1]


def test_roles_from_premodifiers_and_appositives() -> None:
    raw = ("Unite general secretary Len McCluskey spoke. Mr Watson, Labour MP for West Bromwich East, "
           "insisted. Former First Minister Alex Salmond said.")
    found = {r for r, _s, _e in roles_in(raw, ["Len McCluskey", "Watson", "Alex Salmond"])}
    assert {"Unite general secretary", "Labour MP for West Bromwich East", "Former First Minister"} <= found


def test_roles_streamed_one_article_at_a_time_come_out_the_same_whatever_the_order() -> None:
    """The corpus stage streams raw texts (none held for the whole pass); roles keep one order regardless."""
    texts = {"a": "Unite general secretary Len McCluskey spoke. Mr Watson, Labour MP for West Bromwich East, said.",
             "b": "Tom Watson, the Labour deputy leader, said so. McCluskey, the Unite boss, did not.",
             "c": "Nothing here names a role for Len McCluskey."}

    def mentions() -> list[Mention]:
        out = []
        for aid, raw in texts.items():
            for name in ("Len McCluskey", "McCluskey", "Tom Watson", "Watson"):
                at = raw.find(name)
                if at >= 0 and not any(m.article_id == aid and m.start is not None and m.start <= at < m.end
                                       for m in out):
                    out.append(Mention(aid, name, name, at, at + len(name)))
        return out

    whole = resolve(mentions(), texts=texts)
    streamed = resolve(mentions())
    add_roles(streamed, reversed(list(texts.items())))
    roles = {a.name: [(r.article_id, r.role) for r in a.roles] for a in whole}
    assert {a.name: [(r.article_id, r.role) for r in a.roles] for a in streamed} == roles
    assert ("a", "Unite general secretary") in roles["Len McCluskey"]
    assert ("a", "Labour MP for West Bromwich East") in roles["Tom Watson"]


def test_corrections_apply_after_merging(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[merge]]\nnames = ["Jeremy Corbyn", "JC"]\n[[rename]]\nactor = "Tom Watson"\n'
                    'name = "Thomas Watson"\n[[split]]\nname = "Watson"\n[[set_role]]\nactor = "Thomas Watson"\n'
                    'role = "Labour deputy leader"\ndate = "2016-07-04"\n', encoding="utf-8")
    actors = resolve([_m("a", "Jeremy Corbyn"), _m("b", "JC"), _m("a", "Tom Watson"), _m("b", "Watson")],
                     texts={"a": "", "b": ""}, corrections=Corrections.read(path))
    names = {a.name: a for a in actors}
    assert len(names["Jeremy Corbyn"].mentions) == 2
    assert "Thomas Watson" in names and "Watson" in names
    assert names["Thomas Watson"].roles[0].role == "Labour deputy leader"


def test_seeds_one_actor_per_person_and_corrections_survive_reanalysis(tmp_path: Path, seed_paths: list[Path]) -> None:
    settings = Settings(db=tmp_path / "s.db", progress=False)
    with Corpus(settings=settings) as corpus:
        corpus.ingest(seed_paths)
        corpus.analyze(["actors"])
        actors = {a["name"]: a for a in corpus.actors(limit=500)}
        for person in ("Tom Watson", "Len McCluskey", "John McDonnell", "Neil Kinnock", "Jeremy Corbyn"):
            assert person in actors
        assert len([a for a in actors if "McCluskey" in a]) == 1
        roles = {r["role"].lower() for r in actors["Len McCluskey"]["roles"]}
        assert "unite general secretary" in roles
        assert any("Deputy Leader" in r["role"] for r in actors["Tom Watson"]["roles"])
        (tmp_path / "storytrace-corrections.toml").write_text(
            '[[rename]]\nactor = "Len McCluskey"\nname = "Leonard McCluskey"\n', encoding="utf-8")
        corpus.analyze(["actors"])
        assert corpus.actors(name="leonard")[0]["name"] == "Leonard McCluskey"
        corpus.analyze()  # a full re-analysis keeps the correction
        assert corpus.actors(name="leonard")[0]["name"] == "Leonard McCluskey"


def test_bench_actors_smoke() -> None:
    from storytrace.bench import actors

    figures = actors.run(require_data(), split="all", limit=10)
    assert figures["mentions"] == 20 and 0 <= figures["merge_p"] <= 1
    assert set(figures["by_split"]) == {"seeds", "polnear"}
    assert figures["by_split"]["seeds"]["mentions"] == 10 and figures["by_split"]["polnear"]["mentions"] == 10


def test_bench_actors_seeds_figure_unchanged(tmp_path: Path) -> None:
    """The seeds split needs no data folder: one actor per person, every pair right (seed 002's "he" at 669-671,
    "which, he argued", is Neil Kinnock's: relabelled in session 11 from Tom Watson)."""
    from storytrace.bench import actors

    figures = actors.run(tmp_path / "no-data", split="seeds")
    assert (figures["mentions"], figures["people"], figures["found"]) == (37, 12, 37)
    assert (figures["merge_p"], figures["merge_r"]) == (1.0, 1.0)
    assert figures["split_people"] == {} and figures["merged_actors"] == {}
    assert "seeds" in actors.report(figures)


def test_bench_actors_polnear_labels_load_and_score_a_slice() -> None:
    import json

    from storytrace.bench import actors

    sample = json.loads(actors.POLNEAR_LABELS.read_text(encoding="utf-8"))
    rows = sample["mentions"]
    assert len(rows) >= 150 and all(set(r) == {"file", "start", "end", "gold"} for r in rows)  # offsets, no text
    assert len({(r["file"], r["start"], r["end"]) for r in rows}) == len(rows)
    assert {r["file"] for r in rows} <= set(sample["articles"]) and sample["labelling"]
    # scoring alone: a missing mention costs recall, a wrong merge costs precision
    key = [(r["file"], r["start"], r["end"]) for r in rows[:4]]
    labels = [{**r, "gold": g} for r, g in zip(rows[:4], ["a", "a", "b", "b"], strict=True)]
    assert actors.score(labels, {key[0]: "x", key[1]: "x", key[2]: "x"})["merge_p"] == round(1 / 3, 4)
    figures = actors.score(labels, {key[0]: "x", key[1]: "x", key[2]: "y"})
    assert (figures["merge_p"], figures["merge_r"], figures["found"]) == (1.0, 0.5, 3)
    assert figures["split_people"] == {"b": {"(not produced)": 1, "y": 1}}

    data = require_data("polnear", "dev", "text").parents[2]
    figures = actors.run(data, split="polnear", limit=12)
    assert figures["split"] == "polnear" and figures["mentions"] == 12
    assert figures["found"] > 0 and 0 <= figures["merge_p"] <= 1 and 0 <= figures["merge_r"] <= 1


def test_bench_actors_polnear_without_data_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from storytrace.bench import actors
    from storytrace.errors import BenchmarkError

    with pytest.raises(BenchmarkError, match="polnear/dev/text"):
        actors.run(tmp_path, split="polnear", limit=3)
    with pytest.raises(BenchmarkError, match="seeds"):
        actors.run(tmp_path, split="heldout")
