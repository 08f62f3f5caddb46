"""Union-find over item indices: the connected components of candidate pairs, for every grouping step.

Near-duplicates (``resolve/duplicates.py``), quote variants (``resolve/variants.py``) and the Spark
engine's versions of both (``scale/spark.py``) group linked pairs with this one structure. A group's root
is always its smallest index: whichever order the pairs come in, a group is named by the same member, and
the groups' order and keys (``d1``, ``q1``, ...) do not depend on the engine or on how a job split its input.
Sparse: only indices that were looked up or linked are held.
"""

from __future__ import annotations

from collections.abc import Iterable


class UnionFind:
    """Disjoint sets of int indices, each rooted at its smallest member (path halving on lookups)."""

    def __init__(self, items: Iterable[int] = ()) -> None:
        self.parent: dict[int, int] = {i: i for i in items}

    def __contains__(self, i: int) -> bool:
        return i in self.parent

    def __len__(self) -> int:
        return len(self.parent)

    def find(self, i: int) -> int:
        """The root (smallest member) of ``i``'s group; an unseen ``i`` becomes a group of one."""
        parent = self.parent
        parent.setdefault(i, i)
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, i: int, j: int) -> int | None:
        """Merge the groups of ``i`` and ``j``; the new root, or None when they were one group already."""
        ri, rj = self.find(i), self.find(j)
        if ri == rj:
            return None
        root, other = (ri, rj) if ri < rj else (rj, ri)
        self.parent[other] = root
        return root

    def union_all(self, pairs: Iterable[tuple[int, int]]) -> UnionFind:
        for i, j in pairs:
            self.union(i, j)
        return self

    def groups(self, *, min_size: int = 1) -> dict[int, list[int]]:
        """Root -> its members in increasing order, roots in increasing order, for groups of ``min_size``+."""
        members: dict[int, list[int]] = {}
        for i in sorted(self.parent):
            members.setdefault(self.find(i), []).append(i)
        return {root: idx for root, idx in members.items() if len(idx) >= min_size}

    def roots(self) -> dict[int, int]:
        """Every held index -> its root."""
        return {i: self.find(i) for i in self.parent}
