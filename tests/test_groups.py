"""The one union-find every grouping step uses (resolve/groups.py)."""

from __future__ import annotations

import itertools
import random

from storytrace.resolve.groups import UnionFind


def test_groups_are_rooted_at_their_smallest_index_whatever_the_order_of_the_pairs() -> None:
    pairs = [(5, 9), (9, 2), (7, 8), (3, 3), (8, 1)]
    seen = set()
    for order in itertools.permutations(pairs):
        found = UnionFind().union_all(order)
        seen.add(tuple((root, tuple(idx)) for root, idx in found.groups().items()))
        assert found.roots() == {1: 1, 2: 2, 3: 3, 5: 2, 7: 1, 8: 1, 9: 2}
    assert seen == {((1, (1, 7, 8)), (2, (2, 5, 9)), (3, (3,)))}


def test_union_reports_the_new_root_or_none_and_groups_filter_by_size() -> None:
    found = UnionFind([0, 4])
    assert 4 in found and 6 not in found and len(found) == 2
    assert found.union(6, 4) == 4 and found.union(4, 6) is None
    assert found.find(10) == 10 and 10 in found  # a lookup holds a group of one
    assert found.groups(min_size=2) == {4: [4, 6]}
    assert found.groups() == {0: [0], 4: [4, 6], 10: [10]}


def test_matches_a_plain_connected_components_search() -> None:
    rng = random.Random(3)
    for _ in range(50):
        pairs = [(rng.randrange(40), rng.randrange(40)) for _ in range(rng.randrange(60))]
        graph: dict[int, set[int]] = {}
        for i, j in pairs:
            graph.setdefault(i, set()).add(j)
            graph.setdefault(j, set()).add(i)
        components, done = [], set()
        for start in sorted(graph):
            if start in done:
                continue
            stack, comp = [start], set()
            while stack:
                k = stack.pop()
                if k not in comp:
                    comp.add(k)
                    stack.extend(graph[k] - comp)
            done |= comp
            components.append(sorted(comp))
        assert list(UnionFind().union_all(pairs).groups().values()) == components
