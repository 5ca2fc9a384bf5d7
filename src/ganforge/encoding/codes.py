"""Values and codes: a column's values as category codes or checked floats, and back to values of
the real column's dtype. Shared by the encoders, the condition, derived columns and the metrics."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, shown
from .. import dates
from ..schema import CATEGORICAL, INTEGER, NUMERIC, ORDINAL, ColumnSpec, Schema
from .codec import RARE


#: the largest magnitude of a value ganforge learns (the mixtures of mode-specific encoding overflow
#: from about 1e154)
LARGEST = 1e100


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
    big = float(np.nanmax(np.abs(v), initial=0.0))
    if big > LARGEST:  # squares and sums of such values overflow float64 (the mixtures' variances, a range)
        raise DataError(f"column {name!r} holds values as large as {big:.3g}; ganforge learns numbers up to "
                        f"{LARGEST:g} in size: rescale the column (divide it by a power of ten) or drop it with "
                        f"`drop` {shown(name)}")
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
    if spec.kind in (CATEGORICAL, ORDINAL) and spec.dtype == "category":
        # an ordinal column read as a pandas categorical comes back ordered, in its order
        return pd.Series(pd.Categorical(values, categories=spec.categories, ordered=spec.kind == ORDINAL))
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


def comparable(schema: Schema, *frames: pd.DataFrame) -> tuple:
    """``(schema, *frames)`` as the metrics compare tables: a date column as its number of units since the
    epoch (an integer column), a generated column (a key, personal data, free text) left out. A schema
    with neither is returned as it is, with the same frames."""
    if not any(c.is_datetime or c.is_generated for c in schema.columns):
        return (schema, *frames)
    specs = []
    for c in schema.columns:
        if c.is_generated:
            continue
        if c.is_datetime:
            lo, hi = dates.bound(c.min, c.unit), dates.bound(c.max, c.unit)
            specs.append(ColumnSpec(c.name, INTEGER if c.unit else NUMERIC, "float64", c.missing_rate, lo, hi))
        else:
            specs.append(c)
    view = Schema(specs, target=schema.target, extra=dict(schema.extra))
    out = []
    for df in frames:
        keep = df[[c.name for c in specs if c.name in df.columns]].copy()
        for c in schema.columns:
            if c.is_datetime and c.name in keep.columns:
                keep[c.name] = dates.to_units(keep[c.name], c)
        out.append(keep)
    return (view, *out)


def restore_bucketed(codes: np.ndarray, codec, rng: np.random.Generator) -> pd.Series:
    """Codes of a bucketed column (a ``table.ColumnCodec`` with a rare code) back to values: a rare code
    becomes a rare value drawn with the values' frequencies in the training data."""
    n_full = len(codec.spec.categories)
    lookup = np.full(len(codec.categories), n_full, dtype=np.int64)  # n_full: missing
    lookup[: len(codec.keep)] = codec.keep
    full = lookup[codes]
    is_rare = codes == codec.rare_code
    if is_rare.any():
        p = np.asarray(codec.rare_counts, dtype=float)
        p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1 / len(p))
        full[is_rare] = np.asarray(codec.rare)[rng.choice(len(p), int(is_rare.sum()), p=p)]
    return values_from_codes(full, list(codec.spec.categories) + [None], codec.spec)


def bucket(codec, s: pd.Series, k: int) -> None:
    """Keep a categorical codec's ``k`` most frequent values of ``s``, the rest in one rare code (``RARE``)."""
    full = category_codes(s, codec.categories, False)
    counts = np.bincount(full[full >= 0], minlength=len(codec.categories))
    order = np.argsort(-counts, kind="stable")
    codec.keep = sorted(int(i) for i in order[:k])
    rare = np.sort(order[k:])
    codec.rare = rare.tolist()
    codec.rare_counts = counts[rare].tolist()
    codec.categories = [codec.categories[i] for i in codec.keep] + [RARE]


def choices_one_hot(matrix: np.ndarray, spans) -> np.ndarray:
    """A copy of ``matrix`` with each choice span (softmax, gumbel) one-hot at its argmax."""
    out = np.array(matrix, dtype=np.float32, copy=True)
    start = 0
    for s in spans:
        if s.activation in ("softmax", "gumbel"):
            block = out[:, start:start + s.width]
            hot = block.argmax(axis=1)
            block.fill(0.0)
            block[np.arange(len(out)), hot] = 1.0
        start += s.width
    return out
