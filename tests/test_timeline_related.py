"""Publication-date inference looks for related dated articles through a name index, not undated x dated."""

from __future__ import annotations

import random

from storytrace.analyze.timeline import NEAR_ARTICLES, related_dated


def _brute_force(names_of: dict[str, set[str]], undated: list[str], dated: list[str]) -> dict[str, list[str]]:
    """The ranking as it was computed before the index: every undated article against every dated one."""
    out = {}
    for aid in undated:
        ranked = sorted(((len(names_of[aid] & names_of[o]), o) for o in dated), reverse=True)
        out[aid] = [o for shared, o in ranked[:NEAR_ARTICLES] if shared >= 2]
    return out


def test_the_name_index_ranks_related_articles_exactly_as_comparing_every_pair() -> None:
    rng = random.Random(7)
    people = [f"Name{i}" for i in range(40)]
    for _round in range(20):
        names_of = {f"a{i:03d}": set(rng.sample(people, rng.randint(0, 8))) for i in range(120)}
        ids = sorted(names_of)
        dated = [a for a in ids if rng.random() < 0.6]
        undated = [a for a in ids if a not in dated]
        assert related_dated(names_of, undated, dated) == _brute_force(names_of, undated, dated)


def test_one_shared_name_is_not_enough_and_ties_go_to_the_larger_id() -> None:
    names_of = {"u": {"Corbyn", "Watson", "McCluskey"}, "d1": {"Corbyn"}, "d2": {"Corbyn", "Watson"},
                "d3": {"Watson", "Corbyn", "Eagle"}, "d4": {"Kinnock"}}
    assert related_dated(names_of, ["u"], ["d1", "d2", "d3", "d4"]) == {"u": ["d3", "d2"]}
