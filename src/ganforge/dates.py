"""Dates and times: recognising them, turning them into numbers and back.

A date or time column (``datetime64`` from Parquet or Python, ``datetime.date`` objects, or text in one
of the common formats of :data:`FORMATS`) is learnt as a number: its values in whole units (days,
hours, minutes, seconds, milliseconds or microseconds: the coarsest unit every value is a whole
number of) since the Unix epoch, in UTC. Generated numbers are rounded to that unit, clipped to the
column's first and last dates, and written back as the column was: text in its format (with its UTC
offset), or the same ``datetime64`` dtype and time zone.

The schema records ``format`` (a strftime format for text; None for datetime values), ``timezone``
(the zone of a datetime64 column, or the UTC offset of text with one) and ``unit``; ``min`` and
``max`` are ISO strings in UTC.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, shown

#: text formats tried, in order (of two that parse every value, the first wins: day before month)
FORMATS = (
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
    "%d/%m/%Y", "%m/%d/%Y", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
    "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d-%m-%Y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y",
)
#: microseconds per unit, coarsest first
UNITS = {"D": 86_400_000_000, "h": 3_600_000_000, "min": 60_000_000, "s": 1_000_000, "ms": 1_000, "us": 1}
_OFFSET = re.compile(r"([+-])(\d\d):?(\d\d)$")
_SAMPLE = 200


def is_datetime_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(s)


def _parse(values: pd.Series, fmt: str) -> pd.Series:
    """Text parsed with ``fmt`` (``%:z``: an offset with a colon) to naive UTC timestamps; NaT where it fails."""
    with_offset = "%z" in fmt or "%:z" in fmt
    out = pd.to_datetime(values, format=fmt.replace("%:z", "%z"), errors="coerce", utc=with_offset)
    if with_offset:
        out = out.dt.tz_localize(None)
    return out


def detect(s: pd.Series) -> dict[str, Any] | None:
    """The date metadata of a column (``format``, ``timezone``, ``unit``, ``dtype``), or None when it
    does not hold dates: a datetime64 column, ``datetime.date`` objects, or text that one format of
    :data:`FORMATS` parses in every non-missing value."""
    if pd.api.types.is_datetime64_any_dtype(s):
        tz = getattr(s.dtype, "tz", None)
        naive = s.dt.tz_convert("UTC").dt.tz_localize(None) if tz is not None else s
        return {"format": None, "timezone": None if tz is None else str(tz), "unit": _unit(naive),
                "dtype": str(s.dtype)}
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return None
    values = s.dropna()
    if values.empty:
        return None
    if pd.api.types.infer_dtype(values, skipna=True) == "date":
        parsed = pd.to_datetime(values, errors="coerce")
        # dtype object and no format: datetime.date values (a datetime64 column's dtype is never object)
        return {"format": None, "timezone": None, "unit": _unit(parsed), "dtype": "object"}
    if not pd.api.types.is_string_dtype(values) or pd.api.types.infer_dtype(values, skipna=True) != "string":
        return None
    text = values.astype(str)
    sample = text.drop_duplicates().head(_SAMPLE)
    if not sample.str.contains(r"\d", regex=True).all() or sample.str.len().max() > 40:
        return None
    for fmt in FORMATS:
        if _parse(sample, fmt).isna().any():
            continue
        offsets = text.str.extract(_OFFSET.pattern)
        if "%z" in fmt:
            if offsets[0].isna().all():  # "Z": a UTC time
                tz = "+00:00"
            else:
                if text.str.contains(r"[+-]\d\d:\d\d$", regex=True).all():
                    fmt = fmt.replace("%z", "%:z")
                shown_offsets = (offsets[0] + offsets[1] + ":" + offsets[2]).dropna().unique()
                tz = str(shown_offsets[0]) if len(shown_offsets) == 1 else "+00:00"
        else:
            tz = None
        parsed = _parse(text, fmt)
        if parsed.isna().any():
            continue
        return {"format": fmt, "timezone": tz, "unit": _unit(parsed), "dtype": str(s.dtype)}
    return None


def _unit(naive: pd.Series) -> str:
    """The coarsest unit every value is a whole number of."""
    us = naive.dropna().to_numpy(dtype="datetime64[us]").astype(np.int64)
    for name, size in UNITS.items():
        if not np.any(us % size):
            return name
    return "us"


def to_units(s: pd.Series, spec) -> np.ndarray:
    """A column's values as floats: whole ``spec.unit`` units since 1970-01-01 UTC (NaN for missing)."""
    naive = _naive_utc(s, spec)
    us = naive.to_numpy(dtype="datetime64[us]")
    out = us.astype(np.int64).astype(float) / UNITS[spec.unit]
    out[np.isnat(us)] = np.nan
    return out


def _naive_utc(s: pd.Series, spec) -> pd.Series:
    if spec.format:
        text = s.where(s.notna(), None).astype(object)
        parsed = _parse(pd.Series(text, index=s.index), spec.format)
    elif pd.api.types.is_datetime64_any_dtype(s):
        parsed = s.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(s.dtype, "tz", None) is not None else s
    else:
        parsed = pd.to_datetime(s, errors="coerce")
        if getattr(parsed.dtype, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    bad = parsed.isna().to_numpy() & s.notna().to_numpy()
    if bad.any():
        example = s[bad].astype(str).iloc[0]
        raise DataError(f"column {shown(spec.name)} holds {example!r}, which is not a date"
                        + (f" in the format {spec.format}" if spec.format else "")
                        + ": clean it, or give the column's kind in the schema")
    return parsed


def from_units(v: np.ndarray, spec) -> pd.Series:
    """Numbers of :func:`to_units` back to the column's values: rounded to the unit, clipped to the
    column's bounds, in its format or dtype and time zone."""
    size = UNITS[spec.unit]
    v = np.asarray(v, dtype=float)
    lo, hi = bound(spec.min, spec.unit), bound(spec.max, spec.unit)
    if lo is not None and hi is not None:
        v = np.clip(v, lo, hi)
    missing = np.isnan(v)
    us = np.where(missing, 0, np.rint(np.where(missing, 0, v)) * size).astype(np.int64)
    stamps = pd.Series(us.astype("datetime64[us]"))
    stamps[missing] = pd.NaT
    if spec.timezone:
        stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(_zone(spec.timezone))
    if spec.format:
        fmt = spec.format.replace("%:z", spec.timezone or "+00:00").replace("%z", (spec.timezone or "+00:00")
                                                                             .replace(":", ""))
        text = stamps.dt.strftime(fmt)
        text = text.astype(object).where(~missing, None)
        return text if spec.dtype == "object" else text.astype(spec.dtype)
    if spec.dtype == "object":  # datetime.date values
        return pd.Series([None if m else d for m, d in zip(missing, stamps.dt.date)], dtype=object)
    try:
        return stamps.astype(spec.dtype)
    except (TypeError, ValueError):
        return stamps


def _zone(tz: str):
    m = _OFFSET.match(tz) if tz[:1] in "+-" else None
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return _dt.timezone(sign * _dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    return tz


def iso(units: float, unit: str) -> str:
    """A bound as ISO text (UTC): a date for whole days, else a date and time."""
    stamp = pd.Timestamp(int(round(units * UNITS[unit])), unit="us")
    return stamp.strftime("%Y-%m-%d") if unit == "D" else stamp.isoformat()


def bound(text: Any, unit: str) -> float | None:
    """A bound of the schema (ISO text, or a number of units) as units since the epoch."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    try:
        stamp = pd.Timestamp(text)
    except (TypeError, ValueError):
        raise DataError(f"date bound {text!r} is not a date: write it as 2021-03-04 or 2021-03-04T10:00:00") from None
    if stamp.tz is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return float(np.datetime64(stamp.to_datetime64(), "us").astype(np.int64)) / UNITS[unit]


def describe(spec) -> str:
    """How ``fit`` and ``info`` name a date column's handling."""
    unit = {"D": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds",
            "us": "microseconds"}[spec.unit]
    how = spec.format or ("dates" if spec.dtype == "object" else spec.dtype)
    return f"{how}, learnt in {unit}" + (f", time zone {spec.timezone}" if spec.timezone else "")
