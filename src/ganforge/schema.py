"""Column kinds, inferred once from a table and shared by every later stage.

A :class:`Schema` holds one :class:`ColumnSpec` per column: its kind, the pandas dtype to cast
generated values back to, bounds or categories, and the share of missing values. It is inferred
from a DataFrame, can be overridden by the user, and round-trips through JSON so that it can be
saved with a model. Nothing downstream guesses types again.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from . import dates
from . import identifiers as ids
from .errors import DataError, shown

NUMERIC = "numeric"
INTEGER = "integer"
CATEGORICAL = "categorical"
ORDINAL = "ordinal"
#: dates and times, learnt as numbers (``ganforge.dates``)
DATETIME = "datetime"
#: keys, personal data and free text: generated in their format, never learnt (``ganforge.identifiers``)
ID, PII, TEXT = "id", "pii", "text"
KINDS = (NUMERIC, INTEGER, CATEGORICAL, ORDINAL, DATETIME, ID, PII, TEXT)
GENERATED = (ID, PII, TEXT)
#: ColumnSpec fields a schema file has only when they are set (files from before them load unchanged)
_OPTIONAL = ("format", "timezone", "unit", "pattern")

DEFAULT_CATEGORICAL_THRESHOLD = 10
SCHEMA_VERSION = 1


@dataclass
class ColumnSpec:
    """What ganforge knows about one column.

    ``categories`` holds the observed values of categorical and ordinal columns (for ordinal
    columns in the user's order); missing values are not a category here, ``missing_rate``
    records them. ``dtype`` is the pandas dtype name generated values are cast back to.

    A ``datetime`` column has ``format`` (the strftime format of text dates; None for datetime
    values), ``timezone``, ``unit`` (the resolution it is learnt in) and ``min`` / ``max`` as ISO text.
    An ``id``, ``pii`` or ``text`` column has ``pattern``, the format its new values are generated in.
    """

    name: str
    kind: str
    dtype: str
    missing_rate: float = 0.0
    min: float | None = None
    max: float | None = None
    categories: list[Any] | None = None
    format: str | None = None
    timezone: str | None = None
    unit: str | None = None
    pattern: dict[str, Any] | None = None

    @property
    def is_numeric(self) -> bool:
        return self.kind in (NUMERIC, INTEGER)

    @property
    def is_datetime(self) -> bool:
        return self.kind == DATETIME

    @property
    def is_generated(self) -> bool:
        """Generated in its format, never learnt (keys, personal data, free text)."""
        return self.kind in GENERATED

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in _OPTIONAL:
            if d[k] is None:
                del d[k]
        return jsonable(d)

    @property
    def has_missing(self) -> bool:
        return self.missing_rate > 0


@dataclass
class Schema:
    columns: list[ColumnSpec]
    target: str | None = None
    version: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    #: rules between columns that generated rows keep (``ganforge.rules``): stated, or detected by fit
    rules: list[dict[str, Any]] = field(default_factory=list)

    # --- access -------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def __getitem__(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise DataError(f"column {name!r} is not in the schema; known columns: {', '.join(self.names)}")

    def __contains__(self, name: object) -> bool:
        return any(c.name == name for c in self.columns)

    def of_kind(self, *kinds: str) -> list[ColumnSpec]:
        return [c for c in self.columns if c.kind in kinds]

    @property
    def public(self) -> bool:
        """Whether the user declared its bounds, categories and missing rates public knowledge
        (``"public": true`` in the schema file), which differential privacy needs. A schema ganforge
        inferred never is (``extra["read_from_data"]`` says that it was read from a table)."""
        return self.extra.get("public") is True

    # --- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out = {
            "version": self.version,
            "target": self.target,
            "columns": [c.to_dict() for c in self.columns],
            "extra": jsonable(self.extra),
        }
        if self.rules:
            out["rules"] = jsonable(self.rules)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Schema":
        from .validate import Invalid, schema_document

        try:
            schema_document(data, KINDS, numeric=(NUMERIC, INTEGER), choices=(CATEGORICAL, ORDINAL))
        except Invalid as exc:
            raise DataError(f"schema is invalid at {exc.where}: {exc.what}; write it again with `save_schema` "
                            f"(a fit with its own schema inferred), then edit it") from None
        try:
            cols = [ColumnSpec(**c) for c in data["columns"]]
        except (KeyError, TypeError) as exc:
            raise DataError(f"schema is malformed ({exc}); write it again with `save_schema` (a fit with its own schema "
                            f"inferred), then edit it") from None
        for c in cols:
            if c.kind not in KINDS:
                raise DataError(f"column {c.name!r}: unknown kind {c.kind!r}; use one of {', '.join(KINDS)}")
            if c.kind == DATETIME and c.unit is None:
                c.unit = "s"
        rules = data.get("rules") or []
        if not isinstance(rules, list):
            raise DataError("schema `rules` must be a list, e.g. [\"start <= end\"]")
        extra = dict(data.get("extra") or {})
        if data.get("public") is True:  # the user's mark, at the top of the file or in extra
            extra["public"] = True
        return cls(columns=cols, target=data.get("target"), version=int(data.get("version", 1)),
                   extra=extra, rules=list(rules))

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> "Schema":
        p = Path(text_or_path)
        try:
            text = p.read_text(encoding="utf-8") if (isinstance(text_or_path, Path) or
                                                       (len(str(text_or_path)) < 4096 and p.exists())) else str(text_or_path)
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise DataError(f"schema file {text_or_path} is not valid JSON ({exc.msg}, line {exc.lineno})") from None


def jsonable(obj: Any) -> Any:
    """Turn numpy scalars and NaN into plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# --- inference --------------------------------------------------------------------------

def _is_missing_value(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def plain(v: Any) -> Any:
    """A category value as a plain Python scalar (JSON-friendly, hashable)."""
    if isinstance(v, np.generic):
        return v.item()
    return v


def sorted_categories(values: Iterable[Any]) -> list[Any]:
    vals = [plain(v) for v in values]
    try:
        return sorted(vals)
    except TypeError:  # mixed types: keep a stable, type-aware order
        return sorted(vals, key=lambda v: (type(v).__name__, str(v)))


def _looks_numeric_text(series: pd.Series) -> tuple[int, int]:
    """Count values of a text column that parse as numbers and that do not."""
    non_null = series.dropna()
    parsed = pd.to_numeric(non_null, errors="coerce")
    n_num = int(parsed.notna().sum())
    return n_num, len(non_null) - n_num


def infer_schema(
    df: pd.DataFrame,
    target: str | None = None,
    categorical: Iterable[str] | None = None,
    ordinal: Mapping[str, list[Any]] | None = None,
    numeric: Iterable[str] | None = None,
    drop: Iterable[str] | None = None,
    categorical_threshold: int = DEFAULT_CATEGORICAL_THRESHOLD,
    identifiers: bool = True,
) -> Schema:
    """Infer one :class:`ColumnSpec` per column of ``df``.

    Rules: dates and times (datetime values, or text in a common date format) are ``datetime``; with
    ``identifiers``, keys (unique or nearly unique strings, unique integers named like a key),
    e-mail addresses, phone numbers, names and free text are ``id``, ``pii`` or ``text``, generated in
    their format and never learnt; a pandas ordered categorical is ``ordinal`` in its order; bool,
    object, string and category dtypes are categorical; an integer or float column with at most
    ``categorical_threshold`` distinct values is categorical too (a 0/1 flag, a 1-4 rating); other
    integer-valued columns are ``integer``; the rest ``numeric``. The ``categorical``, ``ordinal``,
    ``numeric`` and ``drop`` arguments override the guesses.
    """
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}")
    categorical = set(categorical or ())
    numeric = set(numeric or ())
    ordinal = dict(ordinal or {})
    drop = set(drop or ())
    if categorical_threshold < 1:
        raise DataError("categorical_threshold must be at least 1")

    if df.columns.duplicated().any():
        dup = df.columns[df.columns.duplicated()].tolist()
        raise DataError(f"duplicate column names {dup}: rename them so that each column is unique")
    names = [str(c) for c in df.columns]
    for opt, cols in (("`categorical`", categorical), ("`ordinal`", ordinal), ("`numeric`", numeric),
                      ("`drop`", drop)):
        unknown = [c for c in cols if c not in names]
        if unknown:
            raise DataError(f"{opt}: column(s) {', '.join(map(repr, unknown))} not in the table; "
                            f"columns are: {', '.join(names)}")
    if target is not None and target not in names:
        raise DataError(f"`target` {target!r} is not a column of the table; columns are: {', '.join(names)}")
    if target is not None and target in drop:
        raise DataError(f"`target` {target!r} is also in `drop`: keep the target column")
    kept = [c for c in df.columns if str(c) not in drop]
    if not kept:
        raise DataError("no columns left to learn after `drop`")
    if len(df) == 0:
        raise DataError("the table has no rows (header only?): give at least a few rows of data")

    specs = []
    for col in kept:
        name = str(col)
        s = df[col]
        missing_rate = float(s.isna().mean())
        if missing_rate == 1.0:
            raise DataError(f"column {name!r} has no values (all missing): drop it with `drop` {shown(name)}")
        if name in ordinal:
            order = [plain(v) for v in ordinal[name]]
            present = [plain(v) for v in s.dropna().unique()]
            # a CSV gives numbers where the CLI gives strings: match the order to the data's values
            by_text = {str(v): v for v in present}
            if not set(present).issubset(order) and len(set(map(str, order))) == len(order):
                order = [by_text.get(str(v), v) for v in order]
            missing = sorted({str(v) for v in present if v not in order})
            if missing:
                raise DataError(f"`ordinal` {shown(name)}: values {missing} occur in the data but not in the "
                                f"given order {[str(v) for v in order]}; list every value")
            specs.append(ColumnSpec(name, ORDINAL, str(s.dtype), missing_rate, categories=order))
            continue
        explicit = name in categorical or name == target or name in numeric
        dtype = s.dtype
        if not explicit and isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
            specs.append(ColumnSpec(name, ORDINAL, "category", missing_rate,
                                    categories=[plain(v) for v in dtype.categories]))
            continue
        if not explicit:
            special = _special_spec(name, s, missing_rate, identifiers)
            if special is not None:
                specs.append(special)
                continue
        kind = _guess_kind(name, s, categorical_threshold)
        if name in categorical or name == target:
            kind = CATEGORICAL
        elif name in numeric:
            if kind == CATEGORICAL and not pd.api.types.is_numeric_dtype(s):
                n_num, n_text = _looks_numeric_text(s)
                if n_text:
                    raise DataError(f"`numeric` {shown(name)}: {n_text} value(s) are not numbers; clean them or "
                                    f"treat the column as categorical")
            kind = INTEGER if _integer_valued(pd.to_numeric(s, errors="coerce")) else NUMERIC
        specs.append(_make_spec(name, s, kind, missing_rate))
    # its bounds, categories and missing rates are the table's: never public knowledge by themselves
    return Schema(columns=specs, target=target, extra={"read_from_data": True})


def _integer_valued(s: pd.Series) -> bool:
    vals = s.dropna().to_numpy(dtype=float)
    return bool(len(vals)) and bool(np.all(np.isfinite(vals))) and bool(np.all(np.floor(vals) == vals))


def _guess_kind(name: str, s: pd.Series, threshold: int) -> str:
    if pd.api.types.is_bool_dtype(s):
        return CATEGORICAL
    if isinstance(s.dtype, pd.CategoricalDtype):
        return CATEGORICAL
    if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s):
        raise DataError(f"column {name!r} holds durations, which are not supported yet: convert it to a "
                        f"number (e.g. seconds) or drop it with `drop` {shown(name)}")
    if pd.api.types.is_numeric_dtype(s):
        vals = s.to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(vals).any():
            raise DataError(f"column {name!r} contains infinite values: replace them (e.g. with NaN) "
                            f"or drop the column with `drop` {shown(name)}")
        n_unique = s.nunique(dropna=True)
        if n_unique <= threshold:
            return CATEGORICAL
        return INTEGER if _integer_valued(s) else NUMERIC
    # text: categorical unless it is mostly numbers mixed with some text, which is a data error
    n_num, n_text = _looks_numeric_text(s)
    if n_num and n_text and n_num >= n_text and s.nunique(dropna=True) > threshold:
        bad = s.dropna()[pd.to_numeric(s.dropna(), errors="coerce").isna()].astype(str).unique()[:3]
        raise DataError(f"column {name!r} mixes numbers and text (e.g. {list(bad)}): clean those values, "
                        f"mark them missing, or declare it with `categorical` {shown(name)}")
    return CATEGORICAL


def _make_spec(name: str, s: pd.Series, kind: str, missing_rate: float) -> ColumnSpec:
    if kind == CATEGORICAL:
        cats = sorted_categories(s.dropna().unique())
        return ColumnSpec(name, kind, str(s.dtype), missing_rate, categories=cats)
    vals = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    finite = vals[np.isfinite(vals)]
    if len(finite) == 0:
        raise DataError(f"column {name!r} has no finite numeric values: drop it with `drop` {shown(name)}")
    return ColumnSpec(name, kind, str(s.dtype), missing_rate, min=float(finite.min()), max=float(finite.max()))


def _special_spec(name: str, s: pd.Series, missing_rate: float, identifiers: bool) -> ColumnSpec | None:
    """A date column, or (with ``identifiers``) a key, personal data or free text; else None."""
    if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_object_dtype(s) or \
            pd.api.types.is_string_dtype(s):
        meta = dates.detect(s)
        if meta is not None:
            spec = ColumnSpec(name, DATETIME, meta["dtype"], missing_rate, format=meta["format"],
                              timezone=meta["timezone"], unit=meta["unit"])
            units = dates.to_units(s, spec)
            units = units[~np.isnan(units)]
            spec.min, spec.max = dates.iso(units.min(), spec.unit), dates.iso(units.max(), spec.unit)
            return spec
    if identifiers:
        if not pd.api.types.is_numeric_dtype(s):
            n_num, n_text = _looks_numeric_text(s)
            if n_num and n_text and n_num >= n_text:  # numbers with some text: the error below names them
                return None
        found = ids.detect(name, s)
        if found is not None:
            return ColumnSpec(name, found[0], str(s.dtype), missing_rate, pattern=found[1])
    return None
