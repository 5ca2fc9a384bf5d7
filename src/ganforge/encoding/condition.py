"""The condition of a conditional model: a label column or KMeans clusters, as codes and one-hot vectors.

One object owns everything about it: the labels (a column's categories, with ``None`` last for a
missing value, or the cluster numbers), their frequencies in the training rows, codes of values,
one-hot vectors of codes, codes drawn for sampling (with the data's frequencies, given shares, or
one value), and values back from codes. Nothing else in ganforge matches labels or builds one-hot
vectors. Its JSON (``to_dict``) is the ``condition`` entry of a model file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import numpy as np
import pandas as pd
import torch

from ..errors import DataError, shown
from ..schema import CATEGORICAL, ORDINAL, ColumnSpec
from .codes import category_codes, values_from_codes

COLUMN, KMEANS = "column", "kmeans"


def onehot(codes: torch.Tensor, width: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """One-hot rows of ``codes`` (any device)."""
    return torch.nn.functional.one_hot(codes.long(), width).to(dtype)


def parse_condition_on(text: str | None) -> tuple[str, Any] | None:
    """``kmeans:K`` (K pseudo-labels from KMeans clusters) or a column name."""
    if text is None:
        return None
    if text.startswith("kmeans"):
        _, _, k = text.partition(":")
        try:
            k_int = int(k or 2)
        except ValueError:
            raise DataError(f"`condition_on` {text!r}: expected kmeans:K with K a number, e.g. kmeans:2") from None
        if k_int < 2:
            raise DataError("`condition_on` kmeans:K needs K >= 2")
        return (KMEANS, k_int)
    return (COLUMN, text)


def _largest_remainder(p: torch.Tensor, n: int) -> torch.Tensor:
    raw = p * n
    counts = torch.floor(raw).long()
    short = n - int(counts.sum())
    if short:
        counts[torch.argsort(raw - counts, descending=True)[:short]] += 1
    return counts


def _split(left: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """``m`` of the rows ``left`` of each label, drawn without replacement (multivariate hypergeometric);
    from a billion rows on (numpy's limit) by a multinomial draw kept within ``left``, which it then hardly
    differs from."""
    total = int(left.sum())
    if m >= total:
        return left.copy()
    if total < 10**9:
        return rng.multivariate_hypergeometric(left, m, method="marginals")
    take = np.minimum(rng.multinomial(m, left / total), left)
    short = m - int(take.sum())
    for i in np.flatnonzero(left > take):  # a label with few rows left that the draw overshot
        add = min(short, int(left[i] - take[i]))
        take[i] += add
        short -= add
    return take


@dataclass
class Condition:
    """``kind``: column or kmeans; ``column``: the label column (``cluster`` for kmeans);
    ``categories``: the labels, ``None`` last standing for a missing value; ``frequencies``: their
    shares in the training rows (what unconditioned sampling draws from)."""

    kind: str
    column: str
    categories: list[Any]
    frequencies: list[float]

    # --- construction -------------------------------------------------------------------------
    @staticmethod
    def labels_of(spec: ColumnSpec, max_categories: int) -> list[Any]:
        """A condition column's labels: its categories, and None last when it has missing values."""
        if spec.kind not in (CATEGORICAL, ORDINAL):
            raise DataError(f"`condition_on` {spec.name!r}: the condition must be a categorical column")
        if len(spec.categories) > max_categories:
            raise DataError(f"condition column {spec.name!r} has {len(spec.categories)} values; a condition can have "
                            f"at most max_categories={max_categories}: condition on another column, or raise "
                            f"the limit with `max_categories`={len(spec.categories)}")
        return list(spec.categories) + ([None] if spec.has_missing else [])

    @classmethod
    def for_column(cls, spec: ColumnSpec, max_categories: int, values: pd.Series | None = None,
                   counts: Mapping[Any, int] | None = None) -> tuple["Condition", np.ndarray | None]:
        """The condition of a column, with frequencies from its ``values`` (returned as codes) or from
        ``counts`` (a streamed table's scan: value -> rows, ``None`` for missing)."""
        cats = cls.labels_of(spec, max_categories)
        cond = cls(COLUMN, spec.name, cats, [])
        codes = None
        if values is not None:
            codes = cond.codes(values)
            freq = np.bincount(codes, minlength=len(cats)) / max(len(codes), 1)
        else:
            freq = np.array([float((counts or {}).get(c, 0)) for c in cats])
            freq = freq / freq.sum() if freq.sum() > 0 else np.full(len(cats), 1 / len(cats))
        cond.frequencies = freq.tolist()
        return cond, codes

    @classmethod
    def kmeans(cls, X: np.ndarray, k: int, seed: int) -> tuple["Condition", np.ndarray]:
        """Pseudo-labels: KMeans clusters of the encoded rows ``X``."""
        from sklearn.cluster import KMeans

        if len(X) < k:
            raise DataError(f"`condition_on` kmeans:{k} needs at least {k} rows")
        codes = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(X).labels_.astype(np.int64)
        freq = np.bincount(codes, minlength=k) / len(codes)
        return cls(KMEANS, "cluster", list(range(k)), freq.tolist()), codes

    # --- codes and vectors ------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return len(self.categories)

    @property
    def is_column(self) -> bool:
        return self.kind == COLUMN

    def codes(self, values: pd.Series) -> np.ndarray:
        """Codes of a column's values among the labels (a missing value: the code of ``None``)."""
        values = pd.Series(values).astype(object)
        known = [c for c in self.categories if c is not None]
        codes = category_codes(values, known, missing_code=None in self.categories)
        isna = pd.isna(values).to_numpy()
        if (codes < 0).any():
            # a value typed as text where the labels are numbers (a command-line condition): match by text
            by_text = {str(c): i for i, c in enumerate(self.categories) if c is not None}
            for i in np.flatnonzero(codes < 0):
                if not isna[i] and str(values.iloc[i]) in by_text:
                    codes[i] = by_text[str(values.iloc[i])]
        if (codes < 0).any():
            bad = values[codes < 0].iloc[0]
            raise DataError(f"condition {shown(self.column)}={bad!r} was never seen in training; known values: "
                            f"{', '.join(repr(c) for c in self.categories[:20])}")
        return codes

    def index(self, value: Any) -> int:
        """The code of one value."""
        return int(self.codes(pd.Series([value], dtype=object))[0])

    def onehot(self, codes: torch.Tensor) -> torch.Tensor:
        return onehot(codes, self.width)

    def draw(self, n: int, want: Any, g: torch.Generator) -> torch.Tensor:
        """Codes for ``n`` generated rows: drawn with the training frequencies (``want`` None), in the
        shares of a ``{value: share}`` mapping (exact counts by largest remainder, shuffled), or all
        one value."""
        k = self.width
        if want is None:
            probs = torch.tensor(self.frequencies, dtype=torch.float64)
            return torch.multinomial(probs, n, replacement=True, generator=g) if n else torch.zeros(0, dtype=torch.long)
        if isinstance(want, Mapping):
            probs = torch.zeros(k, dtype=torch.float64)
            for v, p in want.items():
                if not isinstance(p, (int, float)) or isinstance(p, bool) or not np.isfinite(p):
                    raise DataError(f"condition proportions for {shown(self.column)} must be finite numbers, "
                                    f"got {v!r}: {p!r}")
                probs[self.index(v)] = float(p)
            if probs.sum() <= 0 or (probs < 0).any():
                raise DataError(f"condition proportions for {shown(self.column)} must be non-negative and not all "
                                f"zero")
            if not torch.isfinite(probs.sum()):  # shares near the largest float: their sum overflows
                probs = probs / probs.max()
            counts = _largest_remainder(probs / probs.sum(), n)
            codes = torch.repeat_interleave(torch.arange(k), counts)
            return codes[torch.randperm(n, generator=g)]
        return torch.full((n,), self.index(want), dtype=torch.long)

    def draws(self, n: int, want: Any, g: torch.Generator, chunk_size: int) -> Iterator[torch.Tensor]:
        """The codes of ``n`` rows in chunks of at most ``chunk_size``, each drawn when it is needed, so that
        memory does not grow with ``n``; ``want`` as for ``draw``. Up to ``chunk_size`` rows the one chunk is
        ``draw(n, want, g)``. Beyond, shares keep exact counts over all ``n`` rows: each chunk takes its
        counts from those left (a multivariate hypergeometric draw) and shuffles them, which spreads the
        labels over the chunks as one shuffle of all the rows would."""
        if n <= chunk_size:
            yield self.draw(n, want, g)
            return
        if not isinstance(want, Mapping):
            for start in range(0, n, chunk_size):
                yield self.draw(min(chunk_size, n - start), want, g)
            return
        self.draw(0, want, g)  # checks the shares
        probs = torch.zeros(self.width, dtype=torch.float64)
        for v, p in want.items():
            probs[self.index(v)] = float(p)
        if not torch.isfinite(probs.sum()):
            probs = probs / probs.max()
        left = _largest_remainder(probs / probs.sum(), n).numpy().astype(np.int64)
        rng = np.random.default_rng(int(torch.randint(2**62, (1,), generator=g)))
        for start in range(0, n, chunk_size):
            m = min(chunk_size, n - start)
            take = _split(left, m, rng)
            left = left - take
            codes = torch.repeat_interleave(torch.arange(self.width), torch.as_tensor(take))
            yield codes[torch.randperm(m, generator=g)]

    def values(self, codes: np.ndarray, spec: ColumnSpec) -> pd.Series:
        """The column's values of ``codes``, in the real column's dtype."""
        return values_from_codes(np.asarray(codes), self.categories, spec)

    # --- JSON -------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "categories": list(self.categories),
                "frequencies": list(self.frequencies)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> "Condition | None":
        if d is None:
            return None
        return cls(d["kind"], d["column"], list(d["categories"]), [float(f) for f in d["frequencies"]])


def numeric_conditions(schema, condition: Mapping[str, Any]) -> dict[str, Any]:
    """Conditions on columns the model was not conditioned on, with each one on a numeric column read as a
    number inside the column's range, checked before any row is generated (rejection would try a word or
    an out-of-range value on 100 times the rows in vain)."""
    out = dict(condition)
    for col, want in condition.items():
        spec = schema[col]
        if not spec.is_numeric or isinstance(want, Mapping):
            continue
        try:
            value = float(want)
        except (TypeError, ValueError):
            value = float("nan")
        low = -np.inf if spec.min is None else spec.min
        high = np.inf if spec.max is None else spec.max
        if not (np.isfinite(value) and low <= value <= high):
            raise DataError(f"condition {shown(col)}={want!r}: {shown(col)} is a number between {low:g} and "
                            f"{high:g} in the model; give one in that range")
        out[col] = value
    return out
