"""Encoders of numeric columns: min-max, standardisation, mode-specific normalisation."""

from __future__ import annotations

import warnings

import numpy as np

from .base import ColumnEncoder, Span, register


@register
class MinMaxEncoder(ColumnEncoder):
    """Scale to [low, high]: [-1, 1] pairs with a tanh output, [0, 1] with a sigmoid."""

    kind = "minmax"
    params = ("low", "high")

    def __init__(self, low: float = -1.0, high: float = 1.0):
        if not low < high:
            raise ValueError("MinMaxEncoder needs low < high")
        self.low, self.high = float(low), float(high)

    @property
    def spans(self) -> list[Span]:
        return [Span(1, "tanh" if self.low < 0 else "sigmoid")]

    def fit(self, values: np.ndarray) -> "MinMaxEncoder":
        v = np.asarray(values, dtype=float)
        self.min_, self.max_ = float(v.min()), float(v.max())
        return self

    def _scale(self) -> float:
        return (self.max_ - self.min_) or 1.0  # a constant column maps to ``low``

    def transform(self, values, rng=None) -> np.ndarray:
        v = np.asarray(values, dtype=float)
        unit = (v - self.min_) / self._scale()
        return (self.low + unit * (self.high - self.low))[:, None]

    def inverse_transform(self, block) -> np.ndarray:
        unit = (np.asarray(block, dtype=float)[:, 0] - self.low) / (self.high - self.low)
        return self.min_ + unit * self._scale()


@register
class StandardEncoder(ColumnEncoder):
    """Zero mean, unit variance; a linear output."""

    kind = "standard"

    @property
    def spans(self) -> list[Span]:
        return [Span(1, "linear")]

    def fit(self, values):
        v = np.asarray(values, dtype=float)
        self.mean_, self.std_ = float(v.mean()), float(v.std())
        return self

    def transform(self, values, rng=None):
        return ((np.asarray(values, dtype=float) - self.mean_) / (self.std_ or 1.0))[:, None]

    def inverse_transform(self, block):
        return np.asarray(block, dtype=float)[:, 0] * (self.std_ or 1.0) + self.mean_


@register
class ModeSpecificEncoder(ColumnEncoder):
    """CTGAN's mode-specific normalisation.

    A variational Gaussian mixture (up to ``max_modes`` components, Dirichlet-process prior) is
    fitted per column; modes whose weight is below ``weight_threshold`` are dropped. A value x is
    represented by a mode k drawn from its posterior and the scalar (x - mu_k) / (4 sigma_k), so
    the generator emits one tanh value plus a Gumbel-softmax over modes. The mixture is fitted on
    at most ``sample_size`` rows: on large columns a sample gives the same modes in a fraction of
    the time (CTGAN fits all rows). Values are not clipped, so encoding then decoding is exact.
    """

    kind = "mode_specific"
    params = ("max_modes", "weight_threshold", "sample_size", "seed", "tau", "mode_activation")

    def __init__(self, max_modes: int = 10, weight_threshold: float = 0.005, sample_size: int = 5000,
                 seed: int = 0, tau: float = 0.2, mode_activation: str = "gumbel"):
        self.max_modes = int(max_modes)
        self.weight_threshold = float(weight_threshold)
        self.sample_size = int(sample_size)
        self.seed = int(seed)
        self.tau = float(tau)
        self.mode_activation = mode_activation

    @property
    def spans(self) -> list[Span]:
        return [Span(1, "tanh"), Span(len(self.means_), self.mode_activation, self.tau)]

    def fit(self, values):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import BayesianGaussianMixture

        v = np.asarray(values, dtype=float)
        rng = np.random.default_rng(self.seed)
        if len(v) > self.sample_size:
            v = rng.choice(v, self.sample_size, replace=False)
        n_unique = len(np.unique(v))
        spread = float(v.std())
        if n_unique < 2 or spread == 0.0:
            self.means_ = np.array([float(v.mean())])
            self.stds_ = np.array([1.0])
            self.weights_ = np.array([1.0])
            return self
        k = min(self.max_modes, n_unique)
        bgm = BayesianGaussianMixture(
            n_components=k, weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=0.001, max_iter=100, n_init=1, random_state=self.seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            bgm.fit(v[:, None])
        keep = bgm.weights_ > self.weight_threshold
        means = bgm.means_[:, 0][keep]
        # a floor on sigma keeps near-discrete spikes (capital-gain = 0) from dividing by ~0
        stds = np.maximum(np.sqrt(bgm.covariances_.reshape(-1))[keep], 1e-3 * spread)
        weights = bgm.weights_[keep] / bgm.weights_[keep].sum()
        order = np.argsort(means)
        self.means_, self.stds_, self.weights_ = means[order], stds[order], weights[order]
        return self

    def _log_posterior(self, v: np.ndarray) -> np.ndarray:
        z = (v[:, None] - self.means_[None, :]) / self.stds_[None, :]
        logp = np.log(self.weights_)[None, :] - np.log(self.stds_)[None, :] - 0.5 * z * z
        return logp - logp.max(axis=1, keepdims=True)

    def transform(self, values, rng=None):
        v = np.asarray(values, dtype=float)
        rng = rng or np.random.default_rng(self.seed)
        post = np.exp(self._log_posterior(v))
        post /= post.sum(axis=1, keepdims=True)
        # draw each row's mode from its posterior (CTGAN does the same) with one vectorised pass
        u = rng.random(len(v))[:, None]
        modes = (post.cumsum(axis=1) < u).sum(axis=1).clip(0, len(self.means_) - 1)
        alpha = (v - self.means_[modes]) / (4 * self.stds_[modes])
        out = np.zeros((len(v), 1 + len(self.means_)))
        out[:, 0] = alpha
        out[np.arange(len(v)), 1 + modes] = 1.0
        return out

    def inverse_transform(self, block):
        block = np.asarray(block, dtype=float)
        modes = block[:, 1:].argmax(axis=1)
        return block[:, 0] * 4 * self.stds_[modes] + self.means_[modes]
