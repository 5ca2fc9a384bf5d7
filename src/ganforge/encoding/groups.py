"""Numbers learnt within the groups of a category that shapes them.

Many tables hold a number whose range is set by a category: an interest rate by the loan's sub-grade
(each sub-grade has two or three rates), a monthly income by the job level, a light-chain value by
the decile group it was cut into. A generator that learns the number on its own scale has to place
every generated value inside the band of the category it generated in the same row; a smooth network
spreads values across the bands, and a detector given the two columns tells the rows apart (the
breadth benchmark's `lending_club`: AUC 0.92 from those two columns alone).

With ``group_numerics`` such a number is encoded as its normal score *within its group*: the rank of
the value among the training values of the same category, through that group's quantile table. The
generator learns the score (which still carries the row's relationship to the other columns), and
decoding reads the score through the quantile table of the category generated in the same row, so
every generated value lies in its category's band, with its point masses (a rate shared by a
sub-grade) decoded exactly.

A number is grouped by the categorical column whose categories explain most of its ranks' variance
(the correlation ratio eta squared of the ranks, at least ``MIN_ETA2``); a category with under
``MIN_ROWS`` values of the number uses the column's quantile table over all rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata

from .numeric import _from_score, _normal_score

#: a number is grouped when its parent's categories explain at least this share of its ranks' variance
MIN_ETA2 = 0.5
#: a category needs this many values of the number for a quantile table of its own
MIN_ROWS = 20
#: a parent has at most this many codes (categories, a rare code, missing). The label's relationship then
#: reaches a grouped number only through its parent: on `lending_club` (the rate grouped by 35 sub-grades,
#: whose relation to the label the generator learns poorly) train-on-synthetic AUC fell 0.666 -> 0.576 where
#: the rate, learnt on its own scale, had carried it
MAX_CODES = 16
#: quantile levels kept per table (fewer when the group has fewer values)
N_QUANTILES = 1000


@dataclass
class NumberGroup:
    """A number encoded as its normal score within the categories of ``parent``."""

    column: str
    parent: str
    #: the quantile table of each of the parent's codes (None: the code uses ``common``)
    tables: list[np.ndarray | None]
    #: the column's quantile table over all rows
    common: np.ndarray
    #: the share of the ranks' variance the parent explains (for ``info`` and the summary)
    eta2: float = 0.0

    def _table(self, code: int) -> np.ndarray:
        t = self.tables[code] if 0 <= code < len(self.tables) else None
        return self.common if t is None else t

    def score(self, values: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Each value's normal score within its row's category (NaN stays NaN)."""
        v = np.asarray(values, dtype=float)
        out = np.full(len(v), np.nan)
        ok = ~np.isnan(v)
        for code in np.unique(codes[ok]):
            rows = ok & (codes == code)
            out[rows] = _normal_score(v[rows], self._table(int(code)))
        return out

    def value(self, scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
        """Scores back to values through the quantile table of each row's category."""
        z = np.asarray(scores, dtype=float)
        out = np.empty(len(z))
        for code in np.unique(codes):
            rows = codes == code
            out[rows] = _from_score(z[rows], self._table(int(code)))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "parent": self.parent, "eta2": float(self.eta2),
                "tables": [None if t is None else t.tolist() for t in self.tables], "common": self.common.tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "NumberGroup":
        return cls(d["column"], d["parent"], [None if t is None else np.asarray(t, dtype=float) for t in d["tables"]],
                   np.asarray(d["common"], dtype=float), float(d.get("eta2", 0.0)))


def _table(v: np.ndarray) -> np.ndarray:
    return np.quantile(v, np.linspace(0.0, 1.0, max(2, min(N_QUANTILES, len(v)))))


def eta2(values: np.ndarray, codes: np.ndarray, k: int) -> float:
    """The share of the ranks' variance of ``values`` that the codes' means explain (0 to 1)."""
    r = rankdata(values)
    dev = r - r.mean()
    total = float(dev @ dev)
    if total <= 0:
        return 0.0
    n = np.bincount(codes, minlength=k).astype(float)
    sums = np.bincount(codes, weights=dev, minlength=k)
    held = n > 0
    return float((sums[held] ** 2 / n[held]).sum() / total)


def find(numbers: dict[str, np.ndarray], parents: dict[str, tuple[np.ndarray, int]]) -> list[NumberGroup]:
    """The numbers (name -> values, NaN for missing) that a parent (name -> (codes, number of codes))
    shapes, each with the parent that explains most of it."""
    out = []
    for name, v in numbers.items():
        ok = ~np.isnan(v)
        x = v[ok]
        if len(x) < 2 * MIN_ROWS or len(np.unique(x)) < 2:
            continue
        best = None
        for parent, (codes, k) in parents.items():
            if k < 2 or k > MAX_CODES:
                continue
            e = eta2(x, codes[ok], k)
            if e >= MIN_ETA2 and (best is None or e > best[1]):
                best = (parent, e)
        if best is None:
            continue
        codes, k = parents[best[0]]
        c = codes[ok]
        tables = [(_table(x[c == j]) if (c == j).sum() >= MIN_ROWS else None) for j in range(k)]
        if sum(t is not None for t in tables) < 2:  # one group of its own: nothing to gain
            continue
        out.append(NumberGroup(name, best[0], tables, _table(x), best[1]))
    return out
