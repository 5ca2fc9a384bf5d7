"""The TableEncoder: a DataFrame to one float matrix and back, with the layout of its spans.

Each column of the schema gets one encoder chosen by its kind and the encoding options of the
preset. Missing values are learned, not dropped: a numeric column with missing values gets a
two-way indicator span (present / missing) beside its value block, whose value is filled with
the median; a categorical or ordinal column gets a category of its own for "missing".

With ``derive_columns``, a column that the training rows show to be a function of a categorical
column (Adult's education-num of education) gets no span: it is looked up from the source's
decoded category, so generated rows keep the dependency exactly (see :func:`find_derived`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, shown
from ..schema import CATEGORICAL, INTEGER, ORDINAL, ColumnSpec, Schema
from .base import ColumnEncoder, Span
from .categorical import GaussianIntervalEncoder, OneHotEncoder, OrdinalCodeEncoder
from .numeric import MinMaxEncoder, ModeSpecificEncoder, StandardEncoder

#: the placeholder a bucketed column's rare code stands for (never a decoded value)
RARE = "<ganforge:rare>"

NUMERIC_METHODS = ("mode_specific", "minmax", "minmax01", "standard")
CATEGORICAL_METHODS = ("onehot", "gaussian_interval", "ordinal")


@dataclass
class EncodingOptions:
    numeric: str = "mode_specific"
    categorical: str = "onehot"
    ordinal: str = "onehot"
    #: output of one-hot blocks: gumbel, softmax, or tanh (for generators with a tanh output layer)
    categorical_activation: str = "gumbel"
    gumbel_tau: float = 0.2
    max_modes: int = 10
    bgm_sample_size: int = 5000
    #: a categorical column with more values keeps its max_categories - 1 most frequent ones and
    #: one "rare" code; generated rare codes become values drawn from the rare values' frequencies
    max_categories: int = 200
    #: differential privacy: numeric bounds from the schema (values clipped to them), nothing
    #: fitted on the data (no medians, no mixtures, no category counts)
    bounds_from_schema: bool = False
    #: columns that are a function of a categorical column in the data are looked up, not learnt
    #: (never with bounds_from_schema: finding them reads the data)
    derive_columns: bool = False
    seed: int = 0

    def __post_init__(self):
        if self.numeric not in NUMERIC_METHODS:
            raise DataError(f"numeric encoding {self.numeric!r} unknown; use one of {', '.join(NUMERIC_METHODS)}")
        for name, value in (("categorical", self.categorical), ("ordinal", self.ordinal)):
            if value not in CATEGORICAL_METHODS:
                raise DataError(f"{name} encoding {value!r} unknown; use one of {', '.join(CATEGORICAL_METHODS)}")


@dataclass
class ColumnCodec:
    """How one column is encoded: its value encoder and, for numeric columns with missing
    values, a present/missing indicator encoder and the fill value."""

    spec: ColumnSpec
    encoder: ColumnEncoder
    indicator: ColumnEncoder | None = None
    fill: float | None = None
    categories: list[Any] = field(default_factory=list)  # codes -> values; None stands for missing
    #: rare bucket of a high-cardinality column: indices into spec.categories that keep a code of
    #: their own (``keep``), those sharing the rare code, and the rare values' counts in the data
    keep: list[int] | None = None
    rare: list[int] | None = None
    rare_counts: list[int] | None = None

    @property
    def rare_code(self) -> int | None:
        return None if self.keep is None else len(self.keep)

    @property
    def spans(self) -> list[Span]:
        return self.encoder.spans + (self.indicator.spans if self.indicator else [])

    @property
    def width(self) -> int:
        return sum(s.width for s in self.spans)


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
            return _restore_numeric(lookup[source_codes], self.spec)
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
        values = _numeric_values(df[spec.name], spec.name) if spec.is_numeric else coded[spec.name]
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


def category_codes(s: pd.Series, categories: list[Any], missing_code: bool) -> np.ndarray:
    """Codes of ``s``'s values in ``categories``: -1 for a value outside them, and for a missing
    value unless ``missing_code``, which gives missing values the code after the last category."""
    codes = pd.Index(list(categories), dtype=object).get_indexer(s.astype(object)).astype(np.int64)
    if missing_code:
        codes[pd.isna(s).to_numpy()] = len(categories)
    return codes


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


class TableEncoder:
    """Fit on a DataFrame whose columns the schema describes; ``transform`` gives a float32
    matrix, ``inverse_transform`` a DataFrame with the original columns, dtypes and bounds."""

    def __init__(self, schema: Schema, options: EncodingOptions | None = None):
        self.schema = schema
        self.options = options or EncodingOptions()

    # --- construction -------------------------------------------------------------------
    def _numeric_encoder(self, spec: ColumnSpec) -> ColumnEncoder:
        o = self.options
        if o.numeric == "mode_specific":
            act = "tanh" if o.categorical_activation == "tanh" else o.categorical_activation
            return ModeSpecificEncoder(max_modes=o.max_modes, sample_size=o.bgm_sample_size, seed=o.seed,
                                       tau=o.gumbel_tau, mode_activation="gumbel" if act == "tanh" else act)
        if o.numeric == "minmax":
            return MinMaxEncoder(-1.0, 1.0)
        if o.numeric == "minmax01":
            return MinMaxEncoder(0.0, 1.0)
        return StandardEncoder()

    def _choice_encoder(self, method: str, k: int) -> ColumnEncoder:
        o = self.options
        if method == "onehot":
            return OneHotEncoder(k, o.categorical_activation, o.gumbel_tau)
        if method == "gaussian_interval":
            return GaussianIntervalEncoder(k, seed=o.seed)
        low = 0.0 if o.numeric in ("minmax01",) or o.categorical_activation == "sigmoid" else -1.0
        return OrdinalCodeEncoder(k, low=low, high=1.0)

    def _indicator(self) -> ColumnEncoder:
        act = self.options.categorical_activation
        return OneHotEncoder(2, act, self.options.gumbel_tau)

    def fit(self, df: pd.DataFrame) -> "TableEncoder":
        self._check_columns(df)
        o = self.options
        self.derived_: list[DerivedColumn] = (
            find_derived(df, self.schema, o.max_categories) if o.derive_columns and not o.bounds_from_schema else [])
        derived = {d.spec.name for d in self.derived_}
        self.codecs_: list[ColumnCodec] = []
        for spec in self.schema.columns:
            if spec.name in derived:
                continue
            s = df[spec.name]
            if spec.is_numeric and self.options.bounds_from_schema:
                if spec.min is None or spec.max is None:
                    raise DataError(f"column {spec.name!r}: the schema gives no bounds (min, max); with "
                                    f"differential privacy they must come from the schema, not the data")
                if self.options.numeric not in ("minmax", "minmax01"):
                    raise DataError("with differential privacy numeric columns are min-max scaled to the "
                                    "schema's bounds")
                enc = self._numeric_encoder(spec).fit(np.array([spec.min, spec.max], dtype=float))
                ind = self._indicator() if spec.has_missing else None
                self.codecs_.append(ColumnCodec(spec, enc, ind, (spec.min + spec.max) / 2))
            elif spec.is_numeric:
                v = _numeric_values(s, spec.name)
                observed = v[~np.isnan(v)]
                fill = float(np.median(observed))
                enc = self._numeric_encoder(spec).fit(observed)
                ind = self._indicator() if spec.has_missing else None
                self.codecs_.append(ColumnCodec(spec, enc, ind, fill))
            else:
                cats = list(spec.categories or [])
                codec = ColumnCodec(spec, None, categories=cats)
                if spec.kind != ORDINAL and len(cats) > self.options.max_categories:
                    if self.options.bounds_from_schema:
                        raise DataError(f"column {spec.name!r} has {len(cats)} categories; with differential "
                                        f"privacy the rare-value bucket (which reads frequencies) is off: drop "
                                        f"the column or raise max_categories to {len(cats)}")
                    self._bucket(codec, s)
                if spec.has_missing:
                    codec.categories = codec.categories + [None]
                method = self.options.ordinal if spec.kind == ORDINAL else self.options.categorical
                codec.encoder = enc = self._choice_encoder(method, len(codec.categories))
                enc.fit(self._codes(codec, s))
                self.codecs_.append(codec)
        return self

    def _bucket(self, codec: ColumnCodec, s: pd.Series) -> None:
        """Keep the most frequent max_categories - 1 values, put the rest in one rare code."""
        full = category_codes(s, codec.categories, False)
        counts = np.bincount(full[full >= 0], minlength=len(codec.categories))
        order = np.argsort(-counts, kind="stable")
        k = self.options.max_categories - 1
        codec.keep = sorted(int(i) for i in order[:k])
        rare = np.sort(order[k:])
        codec.rare = rare.tolist()
        codec.rare_counts = counts[rare].tolist()
        codec.categories = [codec.categories[i] for i in codec.keep] + [RARE]

    # --- layout -------------------------------------------------------------------------
    @property
    def spans(self) -> list[Span]:
        return [s for c in self.codecs_ for s in c.spans]

    @property
    def width(self) -> int:
        return sum(c.width for c in self.codecs_)

    def column_slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for c in self.codecs_:
            out[c.spec.name] = slice(start, start + c.width)
            start += c.width
        return out

    # --- transform ----------------------------------------------------------------------
    def _check_columns(self, df: pd.DataFrame) -> None:
        missing = [n for n in self.schema.names if n not in df.columns]
        if missing:
            raise DataError(f"column(s) {', '.join(map(repr, missing))} are in the schema but not in the table")

    def _codes(self, codec: ColumnCodec, s: pd.Series) -> np.ndarray:
        values = s.astype(object)
        if codec.keep is not None:
            full = category_codes(values, codec.spec.categories, False)
            remap = np.full(len(codec.spec.categories) + 1, -1, dtype=int)  # the last entry: unknown (-1)
            remap[codec.keep] = np.arange(len(codec.keep))
            remap[codec.rare] = codec.rare_code
            codes = remap[full]
        else:
            known = [c for c in codec.categories if c is not None]
            codes = category_codes(values, known, False)
        isna = pd.isna(values).to_numpy()
        unknown = (codes < 0) & ~isna
        if unknown.any():
            bad = pd.Series(values[unknown]).astype(str).unique()[:5].tolist()
            raise DataError(f"column {codec.spec.name!r}: values {bad} were not seen when the model was fitted")
        if isna.any():
            if None not in codec.categories:
                raise DataError(f"column {codec.spec.name!r} has missing values but had none when fitted")
            codes[isna] = len(codec.categories) - 1
        return codes

    def transform(self, df: pd.DataFrame, seed: int | None = None) -> np.ndarray:
        self._check_columns(df)
        rng = np.random.default_rng(self.options.seed if seed is None else seed)
        # one float32 matrix filled column block by column block: no float64 copy of the whole
        # table and no concatenation (the peak is the matrix plus one column's block)
        out = np.empty((len(df), self.width), dtype=np.float32)
        start = 0

        def put(block):
            nonlocal start
            out[:, start:start + block.shape[1]] = block
            start += block.shape[1]

        for codec in self.codecs_:
            s = df[codec.spec.name]
            if codec.spec.is_numeric:
                v = _numeric_values(s, codec.spec.name)
                isna = np.isnan(v)
                if self.options.bounds_from_schema:
                    v = np.clip(v, codec.spec.min, codec.spec.max)
                put(codec.encoder.transform(np.where(isna, codec.fill, v), rng))
                if codec.indicator is not None:
                    put(codec.indicator.transform(isna.astype(int)))
            elif isinstance(codec.encoder, OneHotEncoder) and codec.encoder.activation != "tanh":
                codes = self._codes(codec, s)  # one-hot written in place: a wide block costs nothing extra
                block = out[:, start:start + codec.encoder.width]
                block.fill(0.0)
                block[np.arange(len(codes)), codes] = 1.0
                start += codec.encoder.width
            else:
                put(codec.encoder.transform(self._codes(codec, s), rng))
        return out

    @property
    def has_rare_buckets(self) -> bool:
        return any(c.keep is not None for c in self.codecs_)

    def inverse_transform(self, matrix: np.ndarray, rng: np.random.Generator | None = None) -> pd.DataFrame:
        """Decode a matrix. ``rng`` draws the values behind rare codes (default: seeded by the options)."""
        matrix = np.asarray(matrix)  # float32 stays float32: a float64 copy cost more than the decoding
        if matrix.ndim != 2 or matrix.shape[1] != self.width:
            raise DataError(f"expected a matrix with {self.width} columns, got shape {matrix.shape}")
        out: dict[str, Any] = {}
        sources = {d.source for d in self.derived_}
        source_codes: dict[str, np.ndarray] = {}
        start = 0
        for codec in self.codecs_:
            w_val = codec.encoder.width
            block = matrix[:, start:start + w_val]
            if codec.spec.is_numeric:
                v = codec.encoder.inverse_transform(block)
                if codec.indicator is not None:
                    ind = codec.indicator.inverse_transform(matrix[:, start + w_val:start + codec.width])
                    v = np.where(ind == 1, np.nan, v)
                out[codec.spec.name] = _restore_numeric(v, codec.spec)
            else:
                codes = codec.encoder.inverse_transform(block)
                if codec.spec.name in sources:
                    source_codes[codec.spec.name] = codes
                if codec.keep is not None:
                    if rng is None:
                        rng = np.random.default_rng(self.options.seed)
                    out[codec.spec.name] = _restore_bucketed(codes, codec, rng)
                else:
                    out[codec.spec.name] = _restore_categorical(codes, codec)
            start += codec.width
        for d in self.derived_:
            out[d.spec.name] = d.decode(source_codes[d.source])
        return pd.DataFrame({name: out[name] for name in self.schema.names}, index=pd.RangeIndex(len(matrix)))

    # --- JSON state ---------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            "options": vars(self.options).copy(),
            "codecs": [
                {
                    "column": c.spec.name,
                    "encoder": c.encoder.get_state(),
                    "indicator": c.indicator.get_state() if c.indicator else None,
                    "fill": c.fill,
                    "categories": c.categories,
                    **({"keep": c.keep, "rare": c.rare, "rare_counts": c.rare_counts} if c.keep is not None else {}),
                }
                for c in self.codecs_
            ],
            "derived": [{"column": d.spec.name, "source": d.source, "values": d.values} for d in self.derived_],
        }

    @classmethod
    def from_state(cls, schema: Schema, state: dict[str, Any]) -> "TableEncoder":
        self = cls(schema, EncodingOptions(**state["options"]))
        self.codecs_ = [
            ColumnCodec(
                schema[c["column"]],
                ColumnEncoder.from_state(c["encoder"]),
                ColumnEncoder.from_state(c["indicator"]) if c["indicator"] else None,
                c["fill"],
                list(c["categories"]),
                c.get("keep"), c.get("rare"), c.get("rare_counts"),
            )
            for c in state["codecs"]
        ]
        self.derived_ = [DerivedColumn(schema[d["column"]], d["source"], list(d["values"]))
                         for d in state.get("derived", [])]
        return self


def _numeric_values(s: pd.Series, name: str) -> np.ndarray:
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = np.isnan(v) & ~s.isna().to_numpy()
    if bad.any():
        example = s[bad].astype(str).iloc[0]
        raise DataError(f"column {name!r} is numeric but holds text such as {example!r}: clean it or declare "
                        f"it with --categorical {shown(name)}")
    if np.isinf(v).any():
        raise DataError(f"column {name!r} contains infinite values: replace them with NaN or drop the column")
    return v


def _restore_numeric(v: np.ndarray, spec: ColumnSpec) -> pd.Series:
    v = np.clip(v, spec.min, spec.max)
    if spec.kind == INTEGER:
        v = np.rint(v)
        if spec.dtype.startswith("float") and spec.has_missing:
            # an integer column read as float only because it has gaps: keep integers as integers
            return pd.Series(v).astype("Int64")
    return _cast(pd.Series(v), spec.dtype)


def _restore_categorical(codes: np.ndarray, codec: ColumnCodec) -> pd.Series:
    return values_from_codes(codes, codec.categories, codec.spec)


def _restore_bucketed(codes: np.ndarray, codec: ColumnCodec, rng: np.random.Generator) -> pd.Series:
    """Codes of a bucketed column back to values: a rare code becomes a rare value drawn with the
    values' frequencies in the training data."""
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


def values_from_codes(codes: np.ndarray, categories: list[Any], spec: ColumnSpec) -> pd.Series:
    """Category codes back to values of the real column's dtype (``None`` in ``categories``
    stands for a missing value)."""
    lookup = np.empty(len(categories), dtype=object)
    lookup[:] = [np.nan if c is None else c for c in categories]
    values = pd.Series(lookup[np.asarray(codes)], dtype=object)
    if spec.kind == CATEGORICAL and spec.dtype == "category":
        return pd.Series(pd.Categorical(values, categories=spec.categories))
    return _cast(values, spec.dtype)


def _cast(values: pd.Series, dtype: str) -> pd.Series:
    """Cast generated values back to the real column's dtype, keeping NaN as missing."""
    if dtype in ("object", "category"):
        return values.astype(object)
    try:
        if dtype.startswith(("int", "uint")) and values.isna().any():
            return values.astype("Int64" if dtype.startswith("int") else "UInt64")
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values.astype(object)
