"""Values and codes: a column's values as category codes or checked floats, and back to values of
the real column's dtype. Shared by the encoders, the condition, derived columns and the metrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, shown
from ..schema import CATEGORICAL, INTEGER, ColumnSpec


def category_codes(s: pd.Series, categories: list[Any], missing_code: bool) -> np.ndarray:
    """Codes of ``s``'s values in ``categories``: -1 for a value outside them, and for a missing
    value unless ``missing_code``, which gives missing values the code after the last category."""
    codes = pd.Index(list(categories), dtype=object).get_indexer(s.astype(object)).astype(np.int64)
    if missing_code:
        codes[pd.isna(s).to_numpy()] = len(categories)
    return codes


def numeric_values(s: pd.Series, name: str) -> np.ndarray:
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(v) & ~s.isna().to_numpy()
    if bad.any():
        example = s[bad].astype(str).iloc[0]
        raise DataError(f"column {name!r} is numeric but holds text such as {example!r}: clean it or declare "
                        f"it with `categorical` {shown(name)}")
    if np.isinf(v).any():
        raise DataError(f"column {name!r} contains infinite values: replace them with NaN or drop the column")
    return v


def restore_numeric(v: np.ndarray, spec: ColumnSpec) -> pd.Series:
    v = np.clip(v, spec.min, spec.max)
    if spec.kind == INTEGER:
        v = np.rint(v)
        if spec.dtype.startswith("float") and spec.has_missing:
            # an integer column read as float only because it has gaps: keep integers as integers
            return pd.Series(v).astype("Int64")
    return cast_values(pd.Series(v), spec.dtype)


def values_from_codes(codes: np.ndarray, categories: list[Any], spec: ColumnSpec) -> pd.Series:
    """Category codes back to values of the real column's dtype (``None`` in ``categories``
    stands for a missing value)."""
    lookup = np.empty(len(categories), dtype=object)
    lookup[:] = [np.nan if c is None else c for c in categories]
    values = pd.Series(lookup[np.asarray(codes)], dtype=object)
    if spec.kind == CATEGORICAL and spec.dtype == "category":
        return pd.Series(pd.Categorical(values, categories=spec.categories))
    return cast_values(values, spec.dtype)


def cast_values(values: pd.Series, dtype: str) -> pd.Series:
    """Cast generated values back to the real column's dtype, keeping NaN as missing."""
    if dtype in ("object", "category"):
        return values.astype(object)
    try:
        if dtype.startswith(("int", "uint")) and values.isna().any():
            return values.astype("Int64" if dtype.startswith("int") else "UInt64")
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values.astype(object)
