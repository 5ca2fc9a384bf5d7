"""Derived columns: a column that every training row shows to be a function of a categorical column
(Adult's education-num of education) is looked up from that column's generated value, not learnt, so
generated rows keep the dependency exactly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..schema import ColumnSpec, Schema
from .codes import category_codes, numeric_values, restore_numeric, values_from_codes


@dataclass
class DerivedColumn:
    """A column that every training row shows to be a function of a categorical column: it has no
    span and is looked up from the source column's decoded category."""

    spec: ColumnSpec
    source: str
    #: this column's value for each code of the source (its categories, then missing if it has
    #: any); None stands for a missing value
    values: list[Any]

    def decode(self, source_codes: np.ndarray) -> pd.Series:
        if self.spec.is_numeric:
            lookup = np.array([np.nan if v is None else float(v) for v in self.values])
            return restore_numeric(lookup[source_codes], self.spec)
        return values_from_codes(source_codes, self.values, self.spec)


#: a source column needs at least this many rows of each category, so that a dependency is not an
#: accident of categories seen once or twice
MIN_ROWS_PER_SOURCE_VALUE = 10


def find_derived(df: pd.DataFrame, schema: Schema, max_categories: int,
                 min_rows: int = MIN_ROWS_PER_SOURCE_VALUE) -> list[DerivedColumn]:
    """The columns of ``df`` that are a function of one categorical or ordinal column.

    A source has at most ``max_categories`` categories (no rare bucket) and at least ``min_rows``
    rows of each (missing values counting as a category). The schema's target is never derived,
    nor is a column with a single value. Of several sources the one with the fewest categories is
    taken (the first in the schema of those with fewest); of two columns that determine each other
    the first in the schema is kept. A derived column is never a source, and a source is never
    derived, so every lookup is one step.
    """
    n = len(df)
    # each categorical column's codes once: they serve as a source and as a candidate
    coded = {spec.name: _category_codes(df[spec.name], spec) for spec in schema.columns if not spec.is_numeric}
    sources: dict[str, tuple[np.ndarray, int]] = {}
    for spec in schema.columns:
        if spec.is_numeric or not spec.categories or len(spec.categories) > max_categories:
            continue
        codes = coded[spec.name]
        k = len(spec.categories) + int(spec.has_missing)
        if codes is None or np.bincount(codes, minlength=k).min() < min_rows:
            continue
        sources[spec.name] = (codes, k)
    derived: list[DerivedColumn] = []
    pinned: set[str] = set()
    for spec in reversed(schema.columns):  # of two columns that determine each other the first is kept
        if spec.name == schema.target or spec.name in pinned:
            continue
        values = numeric_values(df[spec.name], spec.name) if spec.is_numeric else coded[spec.name]
        if values is None or n == 0 or (values == values[0]).all():  # outside the schema (fit says so), or constant
            continue
        best = None
        for name, (codes, k) in sources.items():
            if name == spec.name or (best is not None and k >= sources[best][1]):
                continue
            if _determines(codes, k, values):
                best = name
        if best is None:
            continue
        sources.pop(spec.name, None)  # a derived column is no source
        codes, k = sources[best]
        row = np.zeros(k, dtype=np.int64)
        row[codes] = np.arange(n)  # a row of each category (each has min_rows)
        picked = values[row]
        if spec.is_numeric:
            lookup = [None if np.isnan(v) else float(v) for v in picked]
        else:
            cats = list(spec.categories or [])
            lookup = [cats[c] if c < len(cats) else None for c in picked]
        derived.append(DerivedColumn(spec, best, lookup))
        pinned.add(best)
    return derived[::-1]


def _category_codes(s: pd.Series, spec: ColumnSpec) -> np.ndarray | None:
    """``category_codes`` in ``spec.categories`` (missing values after them if the schema has any);
    None if a value is not among the categories, or is missing where the schema says none are."""
    codes = category_codes(s, spec.categories or [], spec.has_missing)
    return None if (codes < 0).any() else codes


def _determines(codes: np.ndarray, k: int, values: np.ndarray) -> bool:
    """Whether ``values`` (codes, or floats with NaN) take one value per code in ``codes``."""
    floats = values.dtype.kind == "f"
    for m in (min(len(codes), 4096), len(codes)):  # most pairs fail on the first rows
        first = np.full(k, np.nan) if floats else np.full(k, -1, dtype=np.int64)
        first[codes[:m]] = values[:m]
        if not np.array_equal(first[codes[:m]], values[:m], equal_nan=floats):
            return False
    return True


