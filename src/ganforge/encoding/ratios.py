"""Numbers learnt as a multiple of another number.

A total that grows with a count (a customer's total charges with the months of tenure), a count of lines
with the characters of a message, an area and the area of the sphere of the same cell: a positive number
``c`` that is mostly another positive number ``a`` times a factor that varies little. A generator that
learns ``c`` on its own scale has to keep ``c / a`` in its narrow range in every row; it learns the
cone of (``a``, ``c``) only roughly, and a detector given the two columns sees it (the breadth
benchmark's `wa_churn`: tenure x total charges alone, AUC 0.77, the table's strongest pair).

With ``ratio_numerics`` such a ``c`` is encoded as the ratio ``c / a`` (the generator learns the ratio
and its relation to the other columns: the ratio of total charges to tenure is close to the monthly
charge) and decoded as the generated ratio times the ``a`` generated in the same row.

A pair is taken when ``c`` and ``a`` have at least ``MIN_DISTINCT`` values each, every row with ``c``
has ``c > 0`` and ``a > 0`` (``a`` never missing), and ``log(c / a)`` keeps at most ``MAX_SHARE`` of the
variance of ``log c``; of two such numbers the one with more distinct values is the ratio (total charges
of the months of tenure, not the months of the charges). A number is the ratio of one source at most; a
ratio is never a source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

#: log(c / a) keeps at most this share of the variance of log c
MAX_SHARE = 0.25
#: both numbers have at least this many distinct values (a code or a flag is not a source)
MIN_DISTINCT = 20
#: rows with ``c`` needed
MIN_ROWS = 50


@dataclass
class Ratio:
    """``column`` encoded as ``column / source``."""

    column: str
    source: str
    #: the share of log(column)'s variance that log(column / source) keeps
    share: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "source": self.source, "share": float(self.share)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Ratio":
        return cls(d["column"], d["source"], float(d.get("share", 0.0)))


def of(values: np.ndarray, source: np.ndarray) -> np.ndarray:
    """``values / source`` (NaN where the value is missing or the source is not positive)."""
    v, a = np.asarray(values, dtype=float), np.asarray(source, dtype=float)
    ok = ~np.isnan(v) & (a > 0)
    return np.divide(v, a, out=np.full(len(v), np.nan), where=ok)


def find(numbers: dict[str, np.ndarray]) -> list[Ratio]:
    """The ratios among ``numbers`` (name -> values, NaN for missing), the tightest first."""
    logs, usable, distinct = {}, {}, {}
    for name, v in numbers.items():
        present = ~np.isnan(v)
        distinct[name] = len(np.unique(v[present]))
        if distinct[name] < MIN_DISTINCT or (v[present] < 0).any():
            continue
        usable[name] = v
        with np.errstate(divide="ignore"):
            logs[name] = np.where(present & (v > 0), np.log(np.where(v > 0, v, 1.0)), np.nan)
    pairs = []
    for c, vc in usable.items():
        present = ~np.isnan(vc)
        if present.sum() < MIN_ROWS or (vc[present] <= 0).any():
            continue
        lc = logs[c][present]
        spread = float(np.var(lc))
        if spread <= 0:
            continue
        for a, va in usable.items():
            if a == c or distinct[a] > distinct[c] or np.isnan(va).any() or (va[present] <= 0).any():
                continue
            pairs.append((float(np.var(lc - logs[a][present])) / spread, c, a))
    out, columns, sources = [], set(), set()
    for share, c, a in sorted(pairs):
        if share > MAX_SHARE:
            break
        if c in columns or c in sources or a in columns:
            continue
        out.append(Ratio(c, a, share))
        columns.add(c)
        sources.add(a)
    return out
