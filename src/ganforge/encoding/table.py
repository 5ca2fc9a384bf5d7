"""The TableEncoder: a DataFrame to one float matrix and back, with the layout of its spans.

Each feature column of the schema gets one encoder chosen by its kind and the encoding section of
the configuration. Missing values are learned, not dropped: a numeric column with missing values
gets a two-way indicator span (present / missing) beside its value block, whose value is filled with
the median; a categorical or ordinal column gets a category of its own for "missing".

A conditional model's condition (a label column, or KMeans clusters of the encoded rows) is the
encoder's too (:class:`~ganforge.encoding.condition.Condition`): the condition column gets no span
(the networks receive it as a one-hot vector beside), ``fit_transform`` returns its codes beside the
matrix, and ``inverse_transform`` puts its values back, so the generated table comes out whole.

With ``derive_columns``, a column the training rows show to be a function of a categorical column (Adult's
education-num of education) gets no span: it is looked up from the source's category (``encoding.derived``).

Relations between columns: ``join_categories`` learns categories that go closely together as one column of
their combinations (``encoding.joints``), ``forbid_unseen_combinations`` keeps them apart but never draws a
combination no training row holds (``encoding.supports``); ``group_numerics`` encodes a number whose range a
category sets within that category (``encoding.groups``), ``ratio_numerics`` one that is mostly another's
multiple as the ratio of the two (``encoding.ratios``); ``lookup_pairs`` takes the columns a pair of columns
determines, with the pair, from the closest combination training rows hold (``encoding.keyed``).

A date column is encoded as a number (``ganforge.dates``: whole units since the epoch, less the
column's first date). A key, personal data or free text column (``id``, ``pii``, ``text``) gets no
span: ``inverse_transform`` generates new values in its format (``ganforge.identifiers``). The
schema's rules are kept by transformation or rejection (``ganforge.encoding.constraints``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from .. import dates
from .. import identifiers as idgen
from ..config import EncodingConfig
from ..errors import DataError
from ..rules import LINEAR, SUM, parse_all
from ..schema import ORDINAL, ColumnSpec, Schema
from .base import ColumnEncoder, Span
from .categorical import CHOICE_ENCODINGS, OneHotEncoder
from .codec import ColumnCodec
from .codes import (bucket, category_codes, choices_one_hot, numeric_values, restore_bucketed, restore_numeric,
                    values_from_codes)
from .condition import COLUMN, KMEANS, Condition
from .constraints import Constraints, few_valued, quantity
from .derived import DerivedColumn, find_derived
from .groups import find as find_groups
from .keyed import apply_all as apply_lookups, for_encoder as find_lookups
from .joints import Joint, candidates as joint_candidates, find as find_joints, member_codec, spec_of
from .links import attach, find as find_links
from .ratios import find as find_ratios, of as ratio_of
from .supports import attach as attach_supports, find as find_supports
from .numeric import NUMERIC_ENCODINGS
from .state import from_state, get_state


class TableEncoder:
    """Fit on a DataFrame whose columns the schema describes; ``transform`` gives a float32
    matrix of the feature columns, ``inverse_transform`` a DataFrame with every column of the schema,
    in its dtypes and bounds.

    ``seed``: the random stream of encodings that draw (mode-specific normalisation, Gaussian
    intervals, the values behind rare codes). ``bounds_from_schema`` (differential privacy): numeric
    bounds from the schema, values clipped to them, nothing fitted on the data (no medians, no
    mixtures, no category counts, no derived columns)."""

    def __init__(self, schema: Schema, config: EncodingConfig | None = None, seed: int = 0,
                 bounds_from_schema: bool = False):
        self.schema = schema
        self.config = config or EncodingConfig()
        self.seed, self.bounds_from_schema = int(seed), bool(bounds_from_schema)
        self.condition_: Condition | None = None
        self.features = schema
        self.generated: list[ColumnSpec] = [c for c in schema.columns if c.is_generated]
        self.constraints_ = Constraints()
        # links, grouped numbers, ratios, joints, forbidden combinations, columns a pair looks up (keyed.Lookup)
        self.links_, self.groups_, self.ratios_, self.joints_, self.supports_, self.lookups_ = [], [], [], [], [], []

    # --- construction -------------------------------------------------------------------
    def _numeric_encoder(self, spec: ColumnSpec) -> ColumnEncoder:
        return NUMERIC_ENCODINGS[self.config.numeric_encoding](self.config, self.seed)

    def _choice_encoder(self, method: str, k: int) -> ColumnEncoder:
        return CHOICE_ENCODINGS[method](self.config, k, self.seed)

    def _indicator(self) -> ColumnEncoder:
        return OneHotEncoder(2, self.config.categorical_activation, self.config.gumbel_tau)

    def _split(self, condition: tuple[str, Any] | None) -> None:
        """The feature columns: every column but a condition column."""
        column = condition[1] if condition and condition[0] == COLUMN else None
        self._condition_column = column
        if column is not None and column not in self.schema:
            raise DataError(f"`condition_on` {column!r} is not a column of the table")
        self.features = Schema([c for c in self.schema.columns if c.name != column and not c.is_generated],
                               target=self.schema.target)
        self.generated = [c for c in self.schema.columns if c.is_generated]
        if not self.features.columns:
            raise DataError("nothing to learn: the only column is the condition")

    def fit(self, df: pd.DataFrame, condition: tuple[str, Any] | None = None,
            counts: dict[Any, int] | None = None) -> "TableEncoder":
        """Learn the encoders of the feature columns and the condition (``("column", name)`` or
        ``("kmeans", k)``; a condition column's label frequencies from ``counts`` when given, the
        streamed table's, else from ``df``)."""
        self.fit_transform(df, condition, counts, transform=False)
        return self

    def fit_transform(self, df: pd.DataFrame, condition: tuple[str, Any] | None = None,
                      counts: dict[Any, int] | None = None, transform: bool = True
                      ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """``fit``, then the encoded feature matrix and the condition codes of ``df``'s rows."""
        self._split(condition)
        self._check_columns(df)
        self._fit_features(df)
        o, learnt = self.config, not self.bounds_from_schema
        X = self.transform(df) if transform or (learnt and (o.link_values or o.forbid_unseen_combinations)) or (
            condition and condition[0] == KMEANS) else None
        # a grouped number's values are scores within its group (its group's table keeps what a link would),
        # a ratio's are ratios
        skip = (self.constraints_.columns | set(self.constraints_.gaps) | {g.column for g in self.groups_}
                | {r.column for r in self.ratios_} | {j.name for j in self.joints_})
        self.links_ = find_links(X, self.codecs_, skip, o.link_one_way) if learnt and o.link_values else []
        self.supports_, self.links_ = (find_supports(X, self.codecs_, skip, o.forbid_min_association, self.links_)
                                       if learnt and o.forbid_unseen_combinations else ([], self.links_))
        self.lookups_ = find_lookups(self, df) if learnt and o.lookup_pairs else []
        self.condition_, codes = None, None
        if condition and condition[0] == COLUMN:
            spec = self.schema[condition[1]]
            self.condition_, codes = Condition.for_column(spec, self.config.max_categories,
                                                          None if counts is not None else df[spec.name], counts)
        elif condition:
            self.condition_, codes = Condition.kmeans(X, int(condition[1]), self.seed)
        return X, codes

    def _fit_features(self, df: pd.DataFrame) -> None:
        o = self.config
        rules = parse_all(self.schema.rules, self.schema)
        fixed = {self._condition_column} if self._condition_column else set()
        # derived columns: not dates, and not a column a rule transforms
        in_rules = {c for r in rules for c in r.columns}
        plain = Schema([c for c in self.features.columns if not c.is_datetime and c.name not in in_rules],
                       target=self.schema.target)
        self.derived_: list[DerivedColumn] = (
            find_derived(df, plain, o.max_categories) if o.derive_columns and not self.bounds_from_schema
            else [])
        derived = {d.spec.name for d in self.derived_}
        learnt = not self.bounds_from_schema
        # ratios before the rules' plan: an inequality on a ratio (tenure <= total) is kept by rejection,
        # which the ratio's range keeps anyway, not by learning a gap; sums and affine rules come first
        exact = {c for r in rules if r.kind in (SUM, LINEAR) for c in r.columns} | fixed | derived
        ratios = find_ratios({c.name: self._raw(df, c) for c in self.features.columns if quantity(c)
                              and not c.is_datetime and c.name not in exact}) if o.ratio_numerics and learnt else []
        own = few_valued(df, self.features.columns, o.gap_min_values if learnt else 0)
        while True:  # a ratio whose column a transformed rule takes is dropped, and the plan made again
            plan = Constraints.plan(self.schema, rules, fixed | derived | {r.column for r in ratios}, own)
            special = plan.columns | set(plan.gaps)
            kept = [r for r in ratios if r.column not in special]  # a source may be a rule's: decoded first
            if len(kept) == len(ratios):
                break
            ratios = kept
        self.ratios_ = ratios
        self.constraints_ = plan.fit(df, self.schema, lambda d, spec: self._raw(d, spec), self.bounds_from_schema)
        skip = derived | self.constraints_.totals
        self.joints_, coded = [], {}  # coded: each candidate's member codes and their number, computed once
        if o.join_categories and learnt:
            cands = joint_candidates(self.features.columns, skip | in_rules | {self.schema.target}, o.max_categories)
            coded = {c.name: (self._codes(mc, df[c.name]), len(mc.categories)) for c in cands
                     for mc in [member_codec(c)]}
            self.joints_ = find_joints(coded, o.join_min_association, o.join_max_combinations)
        members = self._members()
        self.codecs_: list[ColumnCodec] = []
        pending: dict[str, tuple[ColumnCodec, np.ndarray]] = {}  # numbers, fitted after the groups are found
        for spec in self.features.columns:
            if spec.name in skip or (spec.name in members and members[spec.name][1] > 0):
                continue
            s = df[spec.name]
            if quantity(spec) and self.bounds_from_schema:
                if spec.min is None or spec.max is None:
                    raise DataError(f"column {spec.name!r}: the schema gives no bounds (min, max); with "
                                    f"differential privacy they must come from the schema, not the data")
                if o.numeric_encoding not in ("minmax", "minmax01"):
                    raise DataError("with differential privacy numeric columns are min-max scaled to the "
                                    "schema's bounds")
                codec = self._quantity_codec(spec)
                lo, hi = self._bounds(codec)
                codec.encoder = self._numeric_encoder(codec.spec).fit(np.array([lo, hi], dtype=float))
                codec.fill = (lo + hi) / 2
                self.codecs_.append(codec)
            elif quantity(spec):
                codec = self._quantity_codec(spec)
                pending[spec.name] = (codec, self._values(df, codec))
                self.codecs_.append(codec)
            elif spec.name in members:  # a joint's first member: the joint's codec in its place
                joint = members[spec.name][0]
                codec = ColumnCodec(spec_of(joint), None, categories=list(range(len(joint.combos))))
                codec.encoder = self._choice_encoder(o.categorical_encoding, len(joint.combos))
                codec.encoder.fit(joint.codes([coded[m][0] for m in joint.columns]))  # fitted rows: every one held
                self.codecs_.append(codec)
            else:
                cats = list(spec.categories or [])
                codec = ColumnCodec(spec, None, categories=cats)
                if spec.kind != ORDINAL and len(cats) > o.max_categories:
                    if self.bounds_from_schema:
                        raise DataError(f"column {spec.name!r} has {len(cats)} categories; with differential "
                                        f"privacy the rare-value bucket (which reads frequencies) is off: drop "
                                        f"the column or raise `max_categories` to {len(cats)}")
                    bucket(codec, s, o.max_categories - 1)
                if spec.has_missing:
                    codec.categories = codec.categories + [None]
                method = o.ordinal_encoding if spec.kind == ORDINAL else o.categorical_encoding
                codec.encoder = enc = self._choice_encoder(method, len(codec.categories))
                enc.fit(self._codes(codec, s))
                self.codecs_.append(codec)
        ratios = {r.column: r for r in self.ratios_}
        # a ratio can be grouped too (total charges per month by the internet service): on its ratios
        plain = {k: ratio_of(v, self._raw(df, self.schema[ratios[k].source])) if k in ratios else v
                 for k, v in self._plain_numbers(pending).items()}
        parents = {c.spec.name: (self._codes(c, df[c.spec.name]), len(c.categories))
                   for c in self.codecs_ if not quantity(c.spec) and c.spec.name not in self._joint_names}
        parents.update({m: coded[m] for m in members})
        self.groups_ = find_groups(plain, parents) if o.group_numerics and learnt and plain and parents else []
        grouped = {g.column: g for g in self.groups_}
        for name, (codec, v) in pending.items():
            if name in ratios:  # a ratio's column is a plain number: its ratios are in plain
                v = plain[name]
            if name in grouped:
                v = grouped[name].score(v, parents[grouped[name].parent][0])
            observed = v[~np.isnan(v)]
            codec.fill = float(np.median(observed))
            codec.encoder = self._numeric_encoder(codec.spec).fit(observed)

    def _plain_numbers(self, pending: dict[str, tuple[ColumnCodec, np.ndarray]]) -> dict[str, np.ndarray]:
        """The numbers that a group or a ratio may encode: not dates, nor a rule's columns (their values are
        restored together), nor a gap."""
        special = self.constraints_.columns | set(self.constraints_.gaps)
        return {name: v for name, (codec, v) in pending.items()
                if name not in special and not codec.spec.is_datetime and not codec.offset}

    def _codec(self, name: str) -> ColumnCodec:
        return next(c for c in self.codecs_ if c.spec.name == name)

    @property
    def _joint_names(self) -> dict[str, Joint]:
        return {j.name: j for j in self.joints_}

    def _members(self) -> dict[str, tuple[Joint, int]]:  # each joined column: its joint and its place in it
        return {m: (j, i) for j in self.joints_ for i, m in enumerate(j.columns)}

    def _choice_codes(self, codec: ColumnCodec, df: pd.DataFrame) -> np.ndarray:
        """A categorical codec's codes of ``df``'s rows (a joint's: its members' combinations)."""
        joint = self._joint_names.get(codec.spec.name)
        if joint is None:
            return self._codes(codec, df[codec.spec.name])
        codes = joint.codes([self._codes(member_codec(self.schema[m]), df[m]) for m in joint.columns])
        if (codes < 0).any():
            row = df.iloc[int(np.argmax(codes < 0))]
            raise DataError(f"columns {', '.join(map(repr, joint.columns))}: the values {[row[m] for m in joint.columns]}"
                            f" never occurred together when the model was fitted")
        return codes

    def _parent_codes(self, name: str, df: pd.DataFrame) -> np.ndarray:
        """A group parent's codes of ``df``'s rows (a joined column's as its member coding gives them)."""
        return self._codes(member_codec(self.schema[name]) if name in self._members() else self._codec(name), df[name])

    def _quantity_codec(self, spec: ColumnSpec) -> ColumnCodec:
        """A number's codec (its encoder is fitted by the caller): a gap column is encoded with its own
        bounds, a date from its first date."""
        enc_spec = self.constraints_.gap_spec(spec) if spec.name in self.constraints_.gaps else spec
        offset = dates.bound(spec.min, spec.unit) if spec.is_datetime and enc_spec is spec and spec.min else 0.0
        return ColumnCodec(enc_spec, None, self._indicator() if spec.has_missing else None, offset=offset or 0.0)

    def _raw(self, df: pd.DataFrame, spec: ColumnSpec) -> np.ndarray:
        """A column's numbers: numeric values, or a date's whole units since the epoch."""
        return dates.to_units(df[spec.name], spec) if spec.is_datetime else numeric_values(df[spec.name], spec.name)

    def _values(self, df: pd.DataFrame, codec: ColumnCodec) -> np.ndarray:
        """What a number's codec encodes: the column's numbers (a gap column's less its source's), less
        the offset."""
        v, gap = self._raw(df, self.schema[codec.spec.name]), self.constraints_.gaps.get(codec.spec.name)
        if gap is not None:
            v = v - self._raw(df, self.schema[gap[0]])
        return v - codec.offset if codec.offset else v

    def _bounds(self, codec: ColumnCodec) -> tuple[float, float]:
        """A number codec's bounds in what it encodes (the schema's, for differential privacy)."""
        s = codec.spec
        return ((dates.bound(s.min, s.unit) - codec.offset, dates.bound(s.max, s.unit) - codec.offset)
                if s.is_datetime else (float(s.min), float(s.max)))

    # --- layout -------------------------------------------------------------------------
    @property
    def spans(self) -> list[Span]:
        """The spans of the encoded row, in order; a linked value's follower span carries its links."""
        joints = self._joint_names
        spans = [dataclasses.replace(s, parts=joints[c.spec.name].parts) if c.spec.name in joints else s
                 for c in self.codecs_ for s in c.spans]
        first = {(c.spec.name, i): k for k, (c, i) in
                 enumerate((c, i) for c in self.codecs_ for i in range(len(c.spans)))}
        spans = attach(spans, first, self.links_)
        return attach_supports(spans, {c: k for (c, i), k in first.items() if i == 0}, self.supports_)

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
        missing = [n for n in self.features.names if n not in df.columns]
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
        rng = np.random.default_rng(self.seed if seed is None else seed)
        # one float32 matrix filled column block by column block: no float64 copy of the whole
        # table and no concatenation (the peak is the matrix plus one column's block)
        out = np.empty((len(df), self.width), dtype=np.float32)
        start = 0

        def put(block):
            nonlocal start
            out[:, start:start + block.shape[1]] = block
            start += block.shape[1]

        grouped = {g.column: g for g in self.groups_}
        parent_codes = {p: self._parent_codes(p, df) for p in {g.parent for g in self.groups_}}
        ratios = {r.column: r.source for r in self.ratios_}
        for codec in self.codecs_:
            if quantity(codec.spec):
                v = self._values(df, codec)
                if codec.spec.name in ratios:
                    v = ratio_of(v, self._raw(df, self.schema[ratios[codec.spec.name]]))
                if codec.spec.name in grouped:
                    g = grouped[codec.spec.name]
                    v = g.score(v, parent_codes[g.parent])
                isna = np.isnan(v)
                if self.bounds_from_schema:
                    v = np.clip(v, *self._bounds(codec))
                put(codec.encoder.transform(np.where(isna, codec.fill, v), rng))
                if codec.indicator is not None:
                    put(codec.indicator.transform(isna.astype(int)))
            elif isinstance(codec.encoder, OneHotEncoder) and codec.encoder.activation != "tanh":
                codes = self._choice_codes(codec, df)  # one-hot written in place: a wide block costs nothing extra
                block = out[:, start:start + codec.encoder.width]
                block.fill(0.0)
                block[np.arange(len(codes)), codes] = 1.0
                start += codec.encoder.width
            else:
                put(codec.encoder.transform(self._choice_codes(codec, df), rng))
        return out

    def condition_codes(self, df: pd.DataFrame) -> np.ndarray | None:
        """The condition codes of ``df``'s rows (None without a column condition)."""
        if self.condition_ is None or not self.condition_.is_column:
            return None
        return self.condition_.codes(df[self.condition_.column])

    def as_encoded(self, matrix: np.ndarray) -> np.ndarray:
        """A generator's output in the layout ``transform`` gives real rows: each choice span (categories,
        mixture modes, missing indicators) one-hot at its argmax; continuous values as they are."""
        return choices_one_hot(matrix, self.spans)

    @property
    def has_rare_buckets(self) -> bool:
        return any(c.keep is not None for c in self.codecs_)

    @property
    def has_rules(self) -> bool:
        """Whether generated rows are checked against rules kept by rejection."""
        return bool(self.constraints_.rejecting)

    def rule_mask(self, df: pd.DataFrame) -> np.ndarray:
        """The decoded rows that keep every rule kept by rejection."""
        return self.constraints_.mask(df, self.schema)

    def inverse_transform(self, matrix: np.ndarray, rng: np.random.Generator | None = None,
                          codes: np.ndarray | None = None, ids: idgen.Stream | None = None) -> pd.DataFrame:
        """Decode a matrix into every column of the schema. ``rng`` draws the values behind rare codes
        (default: seeded by ``seed``); ``codes``: the rows' condition codes (a column condition's
        values come from them); ``ids``: the sampling call's stream of generated keys and values
        (default: a new one from key 0)."""
        matrix = np.asarray(matrix)  # float32 stays float32: a float64 copy cost more than the decoding
        if matrix.ndim != 2 or matrix.shape[1] != self.width:
            raise DataError(f"expected a matrix with {self.width} columns, got shape {matrix.shape}")
        out: dict[str, Any] = {}
        source_codes: dict[str, np.ndarray] = {}
        numbers: dict[str, np.ndarray] = {}  # dates and the columns of rules, restored together below
        special = self.constraints_.columns
        grouped = {g.column: g for g in self.groups_}
        scores: dict[str, np.ndarray] = {}  # grouped numbers' scores, decoded once their parents are
        ratios = {r.column: r.source for r in self.ratios_}
        factors: dict[str, np.ndarray] = {}  # ratios, decoded once their sources are
        joints = self._joint_names
        start = 0
        for codec in self.codecs_:
            w_val = codec.encoder.width
            block = matrix[:, start:start + w_val]
            if quantity(codec.spec):
                v = codec.encoder.inverse_transform(block)
                if codec.offset:
                    v = v + codec.offset
                if codec.indicator is not None:
                    ind = codec.indicator.inverse_transform(matrix[:, start + w_val:start + codec.width])
                    v = np.where(ind == 1, np.nan, v)
                if codec.spec.name in grouped:
                    scores[codec.spec.name] = v
                elif codec.spec.name in ratios:
                    factors[codec.spec.name] = v
                elif codec.spec.name in special or codec.spec.is_datetime:
                    numbers[codec.spec.name] = v
                else:
                    out[codec.spec.name] = restore_numeric(v, codec.spec)
            else:
                cc = codec.encoder.inverse_transform(block)
                if codec.spec.name in joints:  # each member's codes, as its member coding gives them
                    for m, mc in zip(joints[codec.spec.name].columns, joints[codec.spec.name].split(cc)):
                        source_codes[m] = mc
                        out[m] = values_from_codes(mc, member_codec(self.schema[m]).categories, self.schema[m])
                elif codec.keep is not None:
                    if rng is None:
                        rng = np.random.default_rng(self.seed)
                    out[codec.spec.name] = restore_bucketed(cc, codec, rng)
                else:
                    out[codec.spec.name] = values_from_codes(cc, codec.categories, codec.spec)
                source_codes[codec.spec.name] = cc
            start += codec.width
        for d in self.derived_:
            out[d.spec.name] = d.decode(source_codes[d.source])
        for name, z in scores.items():
            g = grouped[name]
            v = np.where(np.isnan(z), np.nan, g.value(np.nan_to_num(z), source_codes[g.parent]))
            if name in ratios:
                factors[name] = v
            else:
                out[name] = restore_numeric(v, self.schema[name])
        if numbers or special:
            self.constraints_.restore(numbers, self.schema)
            totals = self.constraints_.totals
            for name, v in numbers.items():
                spec = self.schema[name]
                if name in totals:  # a sum of columns in their bounds, not clipped to the total's own
                    spec = dataclasses.replace(spec, min=-np.inf, max=np.inf)
                out[name] = dates.from_units(v, spec) if spec.is_datetime else restore_numeric(v, spec)
        for name, r in factors.items():  # a source (a number, grouped or a rule's, never a ratio) is decoded by now
            out[name] = restore_numeric(r * np.asarray(out[ratios[name]], dtype=float), self.schema[name])
        if self.generated:
            stream = ids if ids is not None else idgen.Stream(0)
            for spec in self.generated:
                out[spec.name] = idgen.generate(spec, len(matrix), stream)
        apply_lookups(self.lookups_, out, self.schema)
        cond = self.condition_
        if cond is not None and cond.is_column:
            if codes is None or len(codes) != len(matrix):
                raise DataError(f"decoding needs the condition codes of the rows ({cond.column!r})")
            out[cond.column] = cond.values(codes, self.schema[cond.column])
        return pd.DataFrame({name: out[name] for name in self.schema.names}, index=pd.RangeIndex(len(matrix)))

    # --- JSON state (``encoding.state``) ------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return get_state(self)

    @classmethod
    def from_state(cls, schema: Schema, state: dict[str, Any], condition: dict[str, Any] | None = None
                   ) -> "TableEncoder":
        """The encoder of a model file: its schema, its encoder state and its condition entry."""
        return from_state(cls, schema, state, condition)
