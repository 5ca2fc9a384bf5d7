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
    """CTGAN's mode-specific normalisation, with exact modes for point masses.

    A variational Gaussian mixture (up to ``max_modes`` components, Dirichlet-process prior) is
    fitted per column; modes whose weight is below ``weight_threshold`` are dropped. A value x is
    represented by a mode k drawn from its posterior and the scalar (x - mu_k) / (4 sigma_k), so
    the generator emits one tanh value plus a Gumbel-softmax over modes.

    Two changes from CTGAN. A value that holds at least ``spike_share`` of the rows (the zeros of
    capital-gain, the 40 of hours-per-week) becomes a mode of its own with sigma = 0, decoded to
    exactly that value; a Gaussian would smear it. And the mixture is fitted on at most
    ``sample_size`` rows: on large columns a sample finds the same modes in a fraction of the
    time. Values are not clipped, so encoding then decoding is exact.
    """

    kind = "mode_specific"
    params = ("max_modes", "weight_threshold", "sample_size", "seed", "tau", "mode_activation", "spike_share")

    def __init__(self, max_modes: int = 10, weight_threshold: float = 0.005, sample_size: int = 5000,
                 seed: int = 0, tau: float = 0.2, mode_activation: str = "gumbel", spike_share: float = 0.05):
        self.max_modes = int(max_modes)
        self.weight_threshold = float(weight_threshold)
        self.sample_size = int(sample_size)
        self.seed = int(seed)
        self.tau = float(tau)
        self.mode_activation = mode_activation
        self.spike_share = float(spike_share)

    @property
    def spans(self) -> list[Span]:
        return [Span(1, "tanh"), Span(len(self.means_), self.mode_activation, self.tau)]

    def fit(self, values):
        v = np.asarray(values, dtype=float)
        uniq, counts = np.unique(v, return_counts=True)
        share = counts / len(v)
        big = np.argsort(-share, kind="stable")
        big = big[share[big] >= self.spike_share] if self.spike_share < 1 else big[:0]
        # point masses count against the mode budget; keep one mode for the other values if any
        room = self.max_modes if len(big) == len(uniq) <= self.max_modes else self.max_modes - 1
        spikes = np.sort(uniq[big[:room]]) if len(uniq) > 1 else uniq
        spike_w = share[np.isin(uniq, spikes)]
        rest = v[~np.isin(v, spikes)]
        means, stds, weights = list(spikes), [0.0] * len(spikes), list(spike_w)
        if len(rest):
            m, sd, w = self._fit_mixture(rest, max(1, self.max_modes - len(spikes)))
            means += list(m)
            stds += list(sd)
            weights += list(w * len(rest) / len(v))
        order = np.argsort(means, kind="stable")
        self.means_ = np.asarray(means)[order]
        self.stds_ = np.asarray(stds)[order]
        self.weights_ = np.asarray(weights)[order] / np.sum(weights)
        return self

    def _fit_mixture(self, v: np.ndarray, k_max: int):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import BayesianGaussianMixture

        rng = np.random.default_rng(self.seed)
        if len(v) > self.sample_size:
            v = rng.choice(v, self.sample_size, replace=False)
        spread = float(v.std())
        n_unique = len(np.unique(v))
        if n_unique < 2 or spread == 0.0:
            return np.array([float(v.mean())]), np.array([max(spread, 1e-3 * max(abs(float(v.mean())), 1.0))]), np.ones(1)
        bgm = BayesianGaussianMixture(
            n_components=min(k_max, n_unique), weight_concentration_prior_type="dirichlet_process",
            weight_concentration_prior=0.001, max_iter=100, n_init=1, random_state=self.seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            bgm.fit(v[:, None])
        keep = bgm.weights_ > self.weight_threshold
        # a floor on sigma keeps near-discrete clusters from dividing by ~0
        stds = np.maximum(np.sqrt(bgm.covariances_.reshape(-1))[keep], 1e-3 * spread)
        w = bgm.weights_[keep]
        return bgm.means_[:, 0][keep], stds, w / w.sum()

    def _posterior(self, v: np.ndarray) -> np.ndarray:
        spike = self.stds_ == 0
        cont = ~spike
        post = np.zeros((len(v), len(self.means_)))
        at_spike = np.zeros(len(v), bool)
        for k in np.flatnonzero(spike):
            hit = v == self.means_[k]
            post[hit, k] = 1.0
            at_spike |= hit
        if cont.any():
            every = not at_spike.any()
            vr = v if every else v[~at_spike]
            # log N(v; mean_k, std_k) + log w_k up to a constant, softmax over k, computed in place
            z = vr[:, None] - self.means_[None, cont]
            z /= self.stds_[None, cont]
            z *= z
            z *= -0.5
            z += (np.log(self.weights_[cont]) - np.log(self.stds_[cont]))[None, :]
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            if every and cont.all():
                return z
            if every:
                post[:, cont] = z
            else:
                post[np.ix_(~at_spike, cont)] = z
        else:  # only point masses: a value between them goes to the nearest
            rows = np.flatnonzero(~at_spike)
            post[rows, np.abs(v[rows, None] - self.means_[None, :]).argmin(axis=1)] = 1.0
        return post

    def transform(self, values, rng=None):
        v = np.asarray(values, dtype=float)
        rng = rng or np.random.default_rng(self.seed)
        post = self._posterior(v)
        # draw each row's mode from its posterior (CTGAN does the same) in one vectorised pass
        u = rng.random(len(v))[:, None]
        modes = (post.cumsum(axis=1) < u).sum(axis=1).clip(0, len(self.means_) - 1)
        modes = np.where(post[np.arange(len(v)), modes] > 0, modes, post.argmax(axis=1))
        scale = 4 * self.stds_[modes]
        alpha = np.divide(v - self.means_[modes], scale, out=np.zeros(len(v)), where=scale > 0)
        out = np.zeros((len(v), 1 + len(self.means_)))
        out[:, 0] = alpha
        out[np.arange(len(v)), 1 + modes] = 1.0
        return out

    def inverse_transform(self, block):
        block = np.asarray(block)
        modes = block[:, 1:].argmax(axis=1)
        return block[:, 0].astype(float) * 4 * self.stds_[modes] + self.means_[modes]


@register
class QuantileEncoder(ColumnEncoder):
    """Values through their empirical distribution to a standard normal score (the quantile transform
    TabDDPM and TabSyn use), one linear output; decoding interpolates back, so a generated score between
    two quantiles lands between their values, and every score inside a point mass's range of levels
    decodes to exactly that value. ``n_quantiles`` levels are kept (fewer when the column has fewer rows).
    """

    kind = "quantile"
    params = ("n_quantiles",)

    def __init__(self, n_quantiles: int = 1000):
        self.n_quantiles = int(n_quantiles)

    @property
    def spans(self) -> list[Span]:
        return [Span(1, "linear")]

    def fit(self, values):
        v = np.asarray(values, dtype=float)
        self.quantiles_ = np.quantile(v, np.linspace(0.0, 1.0, max(2, min(self.n_quantiles, len(v)))))
        return self

    def transform(self, values, rng=None):
        from scipy.stats import norm

        v = np.asarray(values, dtype=float)
        q = self.quantiles_
        levels = np.linspace(0.0, 1.0, len(q))
        # the level of a value: the mean of interpolating up and down, so that a value shared by several
        # quantiles (a point mass) gets the middle of their levels, its mid-rank
        up = np.interp(v, q, levels)
        down = -np.interp(-v, -q[::-1], -levels[::-1])
        eps = 1e-7  # the end levels' scores, about +-5.2
        return norm.ppf(np.clip(0.5 * (up + down), eps, 1 - eps))[:, None]

    def inverse_transform(self, block):
        from scipy.stats import norm

        levels = norm.cdf(np.asarray(block, dtype=float)[:, 0])
        q = self.quantiles_
        return np.interp(levels, np.linspace(0.0, 1.0, len(q)), q)


def _mode_specific(config, seed: int) -> ModeSpecificEncoder:
    act = config.categorical_activation
    return ModeSpecificEncoder(max_modes=config.max_modes, sample_size=config.bgm_sample_size, seed=seed,
                               tau=config.gumbel_tau, mode_activation="gumbel" if act == "tanh" else act,
                               spike_share=config.point_mass_share)


#: numeric encodings by name (``numeric_encoding``): the encoder of a column, from the encoding
#: section of the configuration and the seed. Adding one: its class above and a line here, and its
#: name in ``ganforge.config.NUMERIC_METHODS``
NUMERIC_ENCODINGS = {
    "mode_specific": _mode_specific,
    "minmax": lambda config, seed: MinMaxEncoder(-1.0, 1.0),
    "minmax01": lambda config, seed: MinMaxEncoder(0.0, 1.0),
    "standard": lambda config, seed: StandardEncoder(),
    "quantile": lambda config, seed: QuantileEncoder(),
}
