"""Columns looked up by a pair of columns: where every training row shows some columns to be a function of
two columns together (OJ's prices of a store in a week, a state's unemployment rate in a year), a
generated row's pair and those columns become the combination of them that training rows hold closest to
the generated one.

The columns are still learnt, and the lookup replaces them after decoding. A generator learns each column's
values and their pairs, but not that twelve columns move together with a store and a week: its rows mix
prices of different weeks, and an XGBoost detector told them from real rows at AUC 0.99 on OJ (0.78 with
the same rows looked up; 0.65 replacing only the columns by the generated pair's, which loses the label's
relation to them: docs/measurements/breadth.md, eighth session)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

#: a key column has at most this many values (with missing as one)
MAX_KEY_VALUES = 64
#: of more key columns than this, those of most values are tried (pairs grow as their square)
MAX_KEY_COLUMNS = 100
#: a dependency counts when independent columns would have broken it in at least this many of the key's
#: groups (as the rules' inequalities: zero breaks where ten are expected is no accident)
MIN_EXPECTED_BREAKS = 10.0
#: a key's value pair is stored when at least this many training rows hold it (a pair of one row would
#: copy that row's values)
MIN_ROWS_PER_KEY = 2


@dataclass
class Lookup:
    """``columns`` are a function of the pair ``key`` in every training row; ``keys`` are the pairs held by
    at least ``MIN_ROWS_PER_KEY`` rows and ``values[i]`` the columns' values for ``keys[i]`` (None: missing)."""

    key: list[str]
    columns: list[str]
    keys: list[list[Any]]
    values: list[list[Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "columns": self.columns, "keys": self.keys, "values": self.values}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Lookup":
        return cls(list(d["key"]), list(d["columns"]), [list(k) for k in d["keys"]], [list(v) for v in d["values"]])

    @property
    def text(self) -> str:
        """For people: ``stateur, statemb by state and yrdispl (457 pairs)``."""
        return f"{', '.join(self.columns)} by {' and '.join(self.key)} ({len(self.keys)} pairs)"

    def apply(self, out: dict[str, Any], numeric: set[str], cells: int = 4_000_000) -> None:
        """Replace the key and columns of each decoded row (``out``: column -> values) by the stored
        combination closest to the row's: the sum over its columns of the distance in the stored
        combinations' standard deviations (``numeric``: the columns compared as numbers) or, for others, 1
        where they differ (a missing value is 1 from any value, 0 from another missing one). The generated
        key and columns choose among combinations that exist, so that a label's relation to the columns
        (a discount where shoppers buy) is kept as learnt, and none is new."""
        names = self.key + self.columns
        table = [list(k) + list(v) for k, v in zip(self.keys, self.values)]
        if not table:
            return
        stored = np.array(table, dtype=object)
        parts = []  # per column: (generated, stored, scale or None for unequal-is-one)
        for j, name in enumerate(names):
            if name in numeric:
                t = np.array([np.nan if v is None else float(v) for v in stored[:, j]])
                sd = float(np.nanstd(t)) if np.isfinite(t).any() else 0.0
                parts.append((np.asarray(pd.Series(out[name]).astype(float)), t, sd if sd > 0 else 1.0))
            else:
                parts.append((_plain_series(out[name]).to_numpy(dtype=object), stored[:, j], None))
        n = len(parts[0][0])
        chunk = max(64, cells // len(stored))  # rows x combinations compared at once (``cells``: about 32 MB)
        pick = np.empty(n, dtype=np.int64)
        for lo in range(0, n, chunk):
            d = np.zeros((min(chunk, n - lo), len(stored)))
            for g, t, scale in parts:
                g = g[lo:lo + chunk]
                if scale is None:
                    d += _unequal(g, t)
                else:
                    diff = np.abs(g[:, None] - t[None, :]) / scale
                    both = np.isnan(g)[:, None] & np.isnan(t)[None, :]
                    d += np.where(both, 0.0, np.nan_to_num(diff, nan=1.0))
            pick[lo:lo + len(d)] = d.argmin(axis=1)
        for j, name in enumerate(names):
            old = pd.Series(out[name])
            new = pd.Series(stored[pick, j], index=old.index)
            new = new.where(new.notna(), np.nan)
            try:
                out[name] = new.astype(old.dtype).to_numpy()
            except (TypeError, ValueError):
                out[name] = new.to_numpy()


def _unequal(generated: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """1 where a generated value (rows) differs from a stored one (columns), as codes: missing equals
    missing only."""
    both = pd.Series(np.concatenate([generated, stored]), dtype=object)
    codes, _ = pd.factorize(both, use_na_sentinel=False)
    g, t = codes[:len(generated)], codes[len(generated):]
    return (g[:, None] != t[None, :]).astype(float)


def _plain_series(values) -> pd.Series:
    """Values as the stored keys compare: numbers as floats, missing as NaN, others as themselves."""
    s = pd.Series(values)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    return s.astype(object).map(_plain)


def _plain(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (np.integer, np.floating)):
        return float(v)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def find(df: pd.DataFrame) -> list[Lookup]:
    """The lookups of ``df``: pairs of its columns of at most ``MAX_KEY_VALUES`` values each (the
    ``MAX_KEY_COLUMNS`` of most values, of more), the pair that determines most columns first (of equals, the
    one of fewest value pairs, then of fewest values), and for each the columns (not yet looked up, not a key) that
    are a function of the pair in every row but of neither column alone, where independence would have broken
    that in at least ``MIN_EXPECTED_BREAKS`` groups. A column looked up is never a key, and a key never
    looked up."""
    n = len(df)
    if n < 4:
        return []
    codes, sizes = {}, {}
    for c in df.columns:
        f, u = pd.factorize(df[c], use_na_sentinel=False)
        codes[c], sizes[c] = f.astype(np.int64), len(u)
    keyable = [c for c in df.columns if 2 <= sizes[c] <= MAX_KEY_VALUES]
    if len(keyable) > MAX_KEY_COLUMNS:  # those of most values, in the table's order
        most = set(sorted(keyable, key=lambda c: -sizes[c])[:MAX_KEY_COLUMNS])
        keyable = [c for c in keyable if c in most]
    free = [c for c in df.columns if sizes[c] > 1]
    head = min(n, 4096)  # a function of the pair on every row is one on the first rows: most columns fail there
    first_rows = np.stack([codes[c][:head] for c in free], axis=1) if free else np.zeros((head, 0), np.int64)
    deps = []  # each pair's columns, found once: a pair that determines most columns is taken first
    for a, b in combinations(keyable, 2):
        group = codes[a] * sizes[b] + codes[b]
        _, inv, counts = np.unique(group, return_inverse=True, return_counts=True)
        k = len(counts)
        if k > n // 2 or (counts >= 2).sum() < MIN_EXPECTED_BREAKS:
            continue
        g = inv[:head]
        rep = np.zeros(k, dtype=np.int64)
        rep[g[::-1]] = np.arange(head)[::-1]  # the first of the head rows of each pair
        maybe = np.flatnonzero((first_rows[rep[g]] == first_rows).all(axis=0))
        cols = [free[j] for j in maybe if free[j] not in (a, b)]
        cols = [c for c in cols if _function(inv, k, codes[c]) and not _function(codes[a], sizes[a], codes[c])
                and not _function(codes[b], sizes[b], codes[c])
                and _expected_breaks(counts, codes[c], sizes[c]) >= MIN_EXPECTED_BREAKS]
        if cols:
            deps.append((cols, k, a, b, inv, counts))
    looked, keys, found = set(), set(), []
    while True:
        open_ = [([c for c in cols if c not in looked and c not in keys], k, a, b, inv, counts)
                 for cols, k, a, b, inv, counts in deps if a not in looked and b not in looked]
        open_ = [d for d in open_ if d[0]]
        if not open_:
            break
        # most columns; of equals, fewest value pairs, then the key columns of fewest values (a store and a
        # week before a price and a week, when each pair determines the other's third)
        cols, k, a, b, inv, counts = max(open_, key=lambda d: (len(d[0]), -d[1], -(sizes[d[2]] + sizes[d[3]])))
        held = np.flatnonzero(counts >= MIN_ROWS_PER_KEY)
        first = np.zeros(k, dtype=np.int64)
        first[inv[::-1]] = np.arange(n)[::-1]  # a row of each pair
        rows = first[held]
        found.append(Lookup([a, b], cols, [[_plain(df[a].iloc[r]), _plain(df[b].iloc[r])] for r in rows],
                            [[_plain(df[c].iloc[r]) for c in cols] for r in rows]))
        looked.update(cols)
        keys.update((a, b))
    return found


def _function(group: np.ndarray, k: int, values: np.ndarray) -> bool:
    """Whether ``values`` (codes) take one value in each group of ``group`` (codes below ``k``)."""
    first = np.full(k, -1, dtype=np.int64)
    first[group] = values
    return bool(np.array_equal(first[group], values))


def _expected_breaks(counts: np.ndarray, values: np.ndarray, size: int) -> float:
    """How many groups (of ``counts`` rows each) would hold more than one value of a column of these
    ``values`` drawn independently of the groups."""
    p = np.bincount(values, minlength=size) / len(values)
    m, times = np.unique(counts[counts >= 2], return_counts=True)
    return float(sum(t * (1.0 - np.sum(p ** mm)) for mm, t in zip(m, times)))


def involved(lookups: list[Lookup], structures: list[set[str]]) -> list[Lookup]:
    """The lookups less each column that shares a structure (a rule, a link, a group, ...: ``structures``)
    with a column outside its lookup's key and columns: replacing it alone could break that structure."""
    out = []
    for lk in lookups:
        cols = set(lk.columns)
        while True:
            inside = cols | set(lk.key)
            drop = {c for s in structures if s & cols and not s <= inside for c in s & cols}
            if not drop:
                break
            cols -= drop
        if cols:
            keep = [j for j, c in enumerate(lk.columns) if c in cols]
            out.append(Lookup(lk.key, [lk.columns[j] for j in keep], lk.keys, [[v[j] for j in keep] for v in lk.values]))
    return out


def apply_all(lookups: list[Lookup], out: dict[str, Any], schema) -> None:
    """Each lookup applied to the decoded rows ``out``, numbers compared as numbers."""
    numeric = {c.name for c in schema.columns if c.is_numeric}
    for lookup in lookups:
        lookup.apply(out, numeric)


def for_encoder(enc, df: pd.DataFrame) -> list[Lookup]:
    """The lookups of a fitted ``TableEncoder``'s training rows ``df``: keys and columns among its learnt
    feature columns (no date, no derived column, not the target), none that shares a structure with a column
    outside its lookup."""
    derived = {d.spec.name for d in enc.derived_}
    cols = [c.name for c in enc.features.columns
            if not c.is_datetime and c.name not in derived and c.name != enc.schema.target]
    structures = ([set(p.rule.columns) for p in enc.constraints_.plans] + [{ln.leader, ln.follower} for ln in enc.links_]
                  + [{s.leader, s.follower} for s in enc.supports_] + [{g.column, g.parent} for g in enc.groups_]
                  + [{r.column, r.source} for r in enc.ratios_] + [set(j.columns) for j in enc.joints_])
    return involved(find(df[cols]), structures)
