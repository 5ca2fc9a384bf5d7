"""Encoders of categorical columns. They work on integer codes 0..K-1; the table encoder maps
values (and a missing value, as a category of its own) to codes."""

from __future__ import annotations

import numpy as np

from .base import ColumnEncoder, Span, register


@register
class OneHotEncoder(ColumnEncoder):
    """One column per category. ``activation`` is softmax, gumbel (Gumbel-softmax with
    temperature ``tau``) or tanh (one-hot written as -1/+1, as a generator with a tanh output
    layer over all features produces). Decoding takes the argmax."""

    kind = "onehot"
    params = ("n_categories", "activation", "tau")

    def __init__(self, n_categories: int, activation: str = "gumbel", tau: float = 0.2):
        if activation not in ("softmax", "gumbel", "tanh", "sigmoid"):
            raise ValueError(f"one-hot activation must be softmax, gumbel, tanh or sigmoid, not {activation!r}")
        self.n_categories = int(n_categories)
        self.activation = activation
        self.tau = float(tau)

    @property
    def spans(self):
        return [Span(self.n_categories, self.activation, self.tau)]

    def fit(self, codes):
        return self

    def transform(self, codes, rng=None):
        codes = np.asarray(codes, dtype=int)
        out = np.zeros((len(codes), self.n_categories))
        out[np.arange(len(codes)), codes] = 1.0
        return 2 * out - 1 if self.activation == "tanh" else out

    def inverse_transform(self, block):
        return np.asarray(block).argmax(axis=1)


@register
class OrdinalCodeEncoder(ColumnEncoder):
    """One column holding the code scaled to [low, high]; decoding rounds to the nearest code."""

    kind = "ordinal"
    params = ("n_categories", "low", "high")

    def __init__(self, n_categories: int, low: float = -1.0, high: float = 1.0):
        self.n_categories = int(n_categories)
        self.low, self.high = float(low), float(high)

    @property
    def spans(self):
        return [Span(1, "tanh" if self.low < 0 else "sigmoid")]

    def fit(self, codes):
        return self

    def _step(self) -> float:
        return (self.high - self.low) / max(self.n_categories - 1, 1)

    def transform(self, codes, rng=None):
        return (self.low + np.asarray(codes, dtype=float) * self._step())[:, None]

    def inverse_transform(self, block):
        codes = np.rint((np.asarray(block, dtype=float)[:, 0] - self.low) / self._step())
        return codes.clip(0, self.n_categories - 1).astype(int)


@register
class GaussianIntervalEncoder(ColumnEncoder):
    """The Adult study's encoding of a category as one number in [0, 1].

    Categories are sorted by frequency (most frequent first) and each gets a slice [a, b] of
    [0, 1] as wide as its share of rows. A value is drawn from N((a+b)/2, (b-a)/6) clipped to its
    slice, so the column looks continuous to the network; decoding finds the slice.
    """

    kind = "gaussian_interval"
    params = ("n_categories", "seed")

    def __init__(self, n_categories: int, seed: int = 0):
        self.n_categories = int(n_categories)
        self.seed = int(seed)

    @property
    def spans(self):
        return [Span(1, "sigmoid")]

    def fit(self, codes):
        counts = np.bincount(np.asarray(codes, dtype=int), minlength=self.n_categories).astype(float)
        # stable sort so ties keep code order; categories unseen in the data get an empty slice
        order = np.argsort(-counts, kind="stable")
        edges = np.concatenate([[0.0], np.cumsum(counts[order]) / counts.sum()])
        edges[-1] = 1.0
        lower = np.empty(self.n_categories)
        upper = np.empty(self.n_categories)
        lower[order], upper[order] = edges[:-1], edges[1:]
        self.lower_, self.upper_ = lower, upper
        return self

    def transform(self, codes, rng=None):
        codes = np.asarray(codes, dtype=int)
        rng = rng or np.random.default_rng(self.seed)
        a, b = self.lower_[codes], self.upper_[codes]
        v = rng.normal((a + b) / 2, (b - a) / 6)
        # keep strictly inside the slice so that decoding cannot land on a neighbour's edge
        eps = (b - a) * 1e-6
        return np.clip(v, a + eps, b - eps)[:, None]

    def inverse_transform(self, block):
        v = np.asarray(block, dtype=float)[:, 0]
        order = np.argsort(self.lower_, kind="stable")
        starts = self.lower_[order]
        nonempty = self.upper_[order] > starts
        starts, order = starts[nonempty], order[nonempty]
        idx = np.searchsorted(starts, v, side="right") - 1
        return order[idx.clip(0, len(order) - 1)]


def _ordinal(config, k: int, seed: int) -> OrdinalCodeEncoder:
    low = 0.0 if config.numeric_encoding == "minmax01" or config.categorical_activation == "sigmoid" else -1.0
    return OrdinalCodeEncoder(k, low=low, high=1.0)


#: encodings of categorical and ordinal columns by name (``categorical_encoding``,
#: ``ordinal_encoding``): the encoder of a column of ``k`` codes. Adding one: its class above and a line
#: here, and its name in ``ganforge.config.CATEGORICAL_METHODS``
CHOICE_ENCODINGS = {
    "onehot": lambda config, k, seed: OneHotEncoder(k, config.categorical_activation, config.gumbel_tau),
    "gaussian_interval": lambda config, k, seed: GaussianIntervalEncoder(k, seed=seed),
    "ordinal": _ordinal,
}
