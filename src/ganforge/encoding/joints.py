"""Categories learnt together: two or three categorical columns that go together, encoded as one column of
the combinations the training rows hold.

A generator that learns each category as its own softmax has to place the right pairs of values in the
same row from what its shared layers carry; for columns whose values go closely together it spreads
mass across pairs that never occur. On the breadth benchmark a GAN gave ISLR Caravan's customer main
type with its purchasing-power class 39% of rows in combinations that no training row holds (total
variation from the real joint 0.56; 0.06 between the training and the test rows), `attrition`'s job
level with the job role 32% (0.45), Adult's marital status with the relationship 8% (0.15).

With ``join_categories`` such columns are encoded as one categorical column whose categories are the
combinations the training rows hold: the generator picks one, decoding splits it into the members'
values, so every generated pair is one the training rows hold, in the training rows' shares as far as the
generator learns them.

Columns are joined greedily, the most associated pair first (bias-corrected Cramér's V of at least
``join_min_association``, 0.3 by default), while a joint holds at most ``MAX_MEMBERS`` columns and
``join_max_combinations`` combinations (64 by default). A member has no rare-value bucket (at most
``max_categories`` categories); missing values are a value of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..schema import CATEGORICAL, ORDINAL, ColumnSpec
from .codec import ColumnCodec

#: two columns are joined when their bias-corrected Cramér's V is at least this
MIN_V = 0.3
#: a joint holds at most this many combinations (the width of its one-hot block)
MAX_COMBOS = 64
#: and at most this many columns
MAX_MEMBERS = 3


@dataclass
class Joint:
    """Columns encoded as one categorical column of their combinations."""

    columns: list[str]
    #: each member's number of codes (its categories, then missing if it has any)
    sizes: list[int]
    #: the combinations the training rows hold, each a code per member, sorted
    combos: list[list[int]]
    #: the association that joined them (the strongest pair's V, for ``info`` and the summary)
    v: float = 0.0
    _index: dict = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return " & ".join(self.columns)

    def codes(self, member_codes: list[np.ndarray]) -> np.ndarray:
        """Each row's combination code (-1 for a combination the training rows did not hold)."""
        if self._index is None:
            keys = _keys(list(np.asarray(self.combos, dtype=np.int64).T), self.sizes)
            self._index = (np.argsort(keys), np.sort(keys))
        order, sorted_keys = self._index
        key = _keys(member_codes, self.sizes)
        pos = np.clip(np.searchsorted(sorted_keys, key), 0, len(sorted_keys) - 1)
        return np.where(sorted_keys[pos] == key, order[pos], -1)

    def split(self, codes: np.ndarray) -> list[np.ndarray]:
        """Combination codes back to each member's codes."""
        table = np.asarray(self.combos, dtype=np.int64)
        return [table[codes, i] for i in range(len(self.columns))]

    @property
    def parts(self) -> tuple:
        """For each column, its number of codes and each combination's code in it (``Span.parts``)."""
        return tuple((k, tuple(int(c[i]) for c in self.combos)) for i, k in enumerate(self.sizes))

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "sizes": self.sizes, "combos": self.combos, "v": self.v}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Joint":
        return cls(list(d["columns"]), [int(k) for k in d["sizes"]], [[int(c) for c in row] for row in d["combos"]],
                   float(d.get("v", 0.0)))


def cramers_v(a: np.ndarray, ka: int, b: np.ndarray, kb: int) -> float:
    """Bias-corrected Cramér's V (Bergsma 2013) of two code arrays."""
    n = len(a)
    table = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb).astype(float)
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    r, k = table.shape
    if r < 2 or k < 2 or n < 3:
        return 0.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    phi2 = max(0.0, float(((table - expected) ** 2 / expected).sum()) / n - (k - 1) * (r - 1) / (n - 1))
    rc, kc = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    return float(np.sqrt(phi2 / max(min(kc - 1, rc - 1), 1e-12)))


def _keys(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    """Each row's codes (one array per column) as one number (mixed radix by the columns' sizes)."""
    return np.ravel_multi_index(tuple(np.asarray(c, dtype=np.int64) for c in codes), tuple(sizes))


def _combos(codes: list[np.ndarray], sizes: list[int]) -> np.ndarray:
    return np.unique(_keys(codes, sizes))


def find(coded: dict[str, tuple[np.ndarray, int]], min_v: float = MIN_V, max_combos: int = MAX_COMBOS,
         max_members: int = MAX_MEMBERS) -> list[Joint]:
    """The joints among ``coded`` (column -> (codes, number of codes), in the schema's order): pairs by
    falling association, each joining two groups while the union keeps the limits. A pair the limits refuse
    closes both its groups: a column is never joined with a weaker partner than one it could not join, which
    would put its stronger pair in two joints' lookup tables (on Caravan, fire-policy contribution and count
    ended in two joints and 48% of generated rows held pairs of them no real row holds)."""
    names = list(coded)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            v = cramers_v(coded[a][0], coded[a][1], coded[b][0], coded[b][1])
            if v >= min_v:
                pairs.append((v, names.index(a), names.index(b)))
    group = {n: [n] for n in names}
    strength: dict[str, float] = {}
    closed: set[str] = set()
    for v, i, j in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        ga, gb = group[names[i]], group[names[j]]
        if ga is gb:
            continue
        members = sorted(ga + gb, key=names.index)
        if closed & set(members) or len(members) > max_members or \
                len(_combos([coded[m][0] for m in members], [coded[m][1] for m in members])) > max_combos:
            closed.update(members)
            continue
        for m in members:
            group[m] = members
        strength[members[0]] = max(v, strength.get(ga[0], 0.0), strength.get(gb[0], 0.0))
    joints, seen = [], set()
    for n in names:
        members = group[n]
        if len(members) < 2 or members[0] in seen:
            continue
        seen.add(members[0])
        sizes = [coded[m][1] for m in members]
        keys = _combos([coded[m][0] for m in members], sizes)
        combos = np.stack(np.unravel_index(keys, tuple(sizes)), 1).tolist()
        joints.append(Joint(members, sizes, combos, round(strength.get(members[0], 0.0), 4)))
    return joints


def spec_of(joint: Joint) -> ColumnSpec:
    """The categorical column a joint is encoded as: its categories are its combinations' codes."""
    return ColumnSpec(joint.name, CATEGORICAL, "int64", categories=list(range(len(joint.combos))))


def member_codec(spec: ColumnSpec) -> ColumnCodec:
    """A member's coding (no encoder): its categories, then missing if it has any, as a codec codes them."""
    return ColumnCodec(spec, None, categories=list(spec.categories or []) + ([None] if spec.has_missing else []))


def candidates(features: list[ColumnSpec], exclude: set[str], max_categories: int) -> list[ColumnSpec]:
    """The columns a joint may take: categorical or ordinal, not the label nor ``exclude`` (derived columns, a
    rule's columns), with 2 to ``max_categories`` categories (no rare-value bucket)."""
    return [c for c in features if c.kind in (CATEGORICAL, ORDINAL) and c.name not in exclude
            and 2 <= len(c.categories or []) + int(c.has_missing) and len(c.categories or []) <= max_categories]
