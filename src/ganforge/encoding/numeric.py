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


def _mode_params(enc, max_modes, weight_threshold, sample_size, seed, tau, mode_activation, spike_share) -> None:
    """The parameters an encoder built on a column's Gaussian mixture shares (mode_specific, mode_quantile)."""
    enc.max_modes = int(max_modes)
    enc.weight_threshold = float(weight_threshold)
    enc.sample_size = int(sample_size)
    enc.seed = int(seed)
    enc.tau = float(tau)
    enc.mode_activation = mode_activation
    enc.spike_share = float(spike_share)

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
        _mode_params(self, max_modes, weight_threshold, sample_size, seed, tau, mode_activation, spike_share)

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
            m, sd, w = _mixture(rest, max(1, self.max_modes - len(spikes)), self.seed, self.sample_size,
                                self.weight_threshold)
            means += list(m)
            stds += list(sd)
            weights += list(w * len(rest) / len(v))
        order = np.argsort(means, kind="stable")
        self.means_ = np.asarray(means)[order]
        self.stds_ = np.asarray(stds)[order]
        self.weights_ = np.asarray(weights)[order] / np.sum(weights)
        return self

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


def _mixture(v: np.ndarray, k_max: int, seed: int, sample_size: int, weight_threshold: float):
    """A variational Gaussian mixture of one column (Dirichlet-process prior, fitted on at most
    ``sample_size`` rows): the means, spreads and weights of its modes above ``weight_threshold``."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    rng = np.random.default_rng(seed)
    if len(v) > sample_size:
        v = rng.choice(v, sample_size, replace=False)
    spread = float(v.std())
    n_unique = len(np.unique(v))
    if n_unique < 2 or spread == 0.0:
        return np.array([float(v.mean())]), np.array([max(spread, 1e-3 * max(abs(float(v.mean())), 1.0))]), np.ones(1)
    bgm = BayesianGaussianMixture(
        n_components=min(k_max, n_unique), weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001, max_iter=100, n_init=1, random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bgm.fit(v[:, None])
    keep = bgm.weights_ > weight_threshold
    # a floor on sigma keeps near-discrete clusters from dividing by ~0
    stds = np.maximum(np.sqrt(bgm.covariances_.reshape(-1))[keep], 1e-3 * spread)
    w = bgm.weights_[keep]
    return bgm.means_[:, 0][keep], stds, w / w.sum()


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
        return _normal_score(np.asarray(values, dtype=float), self.quantiles_)[:, None]

    def inverse_transform(self, block):
        return _from_score(np.asarray(block, dtype=float)[:, 0], self.quantiles_)


def _normal_score(v: np.ndarray, q: np.ndarray) -> np.ndarray:
    """The standard normal score of values through the quantile table ``q`` (levels evenly spaced in
    [0, 1]): a value shared by several quantiles (a point mass) gets the middle of their levels."""
    from scipy.stats import norm

    levels = np.linspace(0.0, 1.0, len(q))
    up = np.interp(v, q, levels)
    down = -np.interp(-v, -q[::-1], -levels[::-1])
    eps = 1e-7  # the end levels' scores, about +-5.2
    return norm.ppf(np.clip(0.5 * (up + down), eps, 1 - eps))


def _from_score(score: np.ndarray, q: np.ndarray) -> np.ndarray:
    from scipy.stats import norm

    return np.interp(norm.cdf(score), np.linspace(0.0, 1.0, len(q)), q)


def _separate_groups(means: np.ndarray, stds: np.ndarray, weights: np.ndarray, separation: float):
    """Mixture components merged into groups until every two neighbours' means are at least
    ``separation`` x (the sum of their spreads) apart; a merged group takes the mixture's weight, mean
    and spread. Returns the groups' means and spreads, in order."""
    order = np.argsort(means, kind="stable")
    groups = [[float(weights[i]), float(means[i]), float(stds[i]) ** 2] for i in order]
    while len(groups) > 1:
        gaps = [(b[1] - a[1]) / (np.sqrt(a[2]) + np.sqrt(b[2]) + 1e-300) for a, b in zip(groups, groups[1:])]
        j = int(np.argmin(gaps))
        if gaps[j] >= separation:
            break
        (w1, m1, v1), (w2, m2, v2) = groups[j], groups[j + 1]
        w = w1 + w2
        m = (w1 * m1 + w2 * m2) / w
        groups[j:j + 2] = [[w, m, max((w1 * (v1 + m1 * m1) + w2 * (v2 + m2 * m2)) / w - m * m, 0.0)]]
    return np.array([g[1] for g in groups]), np.sqrt([g[2] for g in groups])


@register
class ModeQuantileEncoder(ColumnEncoder):
    """Quantile normal scores within modes: the column's well-separated modes as a choice, and inside
    each mode the normal score of the value's rank among that mode's values.

    The plain quantile transform (:class:`QuantileEncoder`) turns any column into one bell, which helps
    skewed and heavy-tailed columns, but it also closes the gaps between separate clusters: in the
    scores, two clusters of a column touch, and a generator's smooth output lands between them, on
    values no real row has. Here a Gaussian mixture is fitted as in mode-specific normalisation, its
    components are merged until neighbours are ``separation`` x (their spreads' sum) apart, and the
    column is cut between the groups that remain; every value held by at least ``spike_share`` of the
    rows is a mode of its own and decodes to exactly that value. A column with one group and no point
    mass is encoded exactly as the plain quantile transform.
    """

    kind = "mode_quantile"
    params = ("max_modes", "weight_threshold", "sample_size", "seed", "tau", "mode_activation", "spike_share",
              "separation", "n_quantiles")

    def __init__(self, max_modes: int = 10, weight_threshold: float = 0.005, sample_size: int = 5000,
                 seed: int = 0, tau: float = 0.2, mode_activation: str = "gumbel", spike_share: float = 0.05,
                 separation: float = 1.5, n_quantiles: int = 1000):
        _mode_params(self, max_modes, weight_threshold, sample_size, seed, tau, mode_activation, spike_share)
        self.separation = float(separation)
        self.n_quantiles = int(n_quantiles)

    @property
    def spans(self) -> list[Span]:
        k = len(self.sizes_)
        return [Span(1, "linear")] + ([Span(k, self.mode_activation, self.tau)] if k > 1 else [])

    def fit(self, values):
        v = np.asarray(values, dtype=float)
        uniq, counts = np.unique(v, return_counts=True)
        spikes = uniq[counts / max(len(v), 1) >= self.spike_share] if len(uniq) > 1 else uniq
        spikes = spikes[np.argsort(-counts[np.isin(uniq, spikes)], kind="stable")][:self.max_modes]
        rest = v[~np.isin(v, spikes)]
        bounds = np.zeros(0)
        if len(rest):
            if len(spikes) < self.max_modes and len(np.unique(rest)) > 1:
                m, sd, w = _mixture(rest, self.max_modes - len(spikes), self.seed, self.sample_size,
                                    self.weight_threshold)
                gm, gs = _separate_groups(m, sd, w, self.separation)
                # cut where the two neighbours' standardised distances are equal
                bounds = gm[:-1] + (gm[1:] - gm[:-1]) * gs[:-1] / (gs[:-1] + gs[1:] + 1e-300)
            # intervals that hold no value are dropped with the cut below them
            held = np.flatnonzero(np.bincount(np.searchsorted(bounds, rest, side="right"),
                                              minlength=len(bounds) + 1))
            bounds = bounds[held[1:] - 1]
            parts = np.searchsorted(bounds, rest, side="right")
        tables, kinds = [], []
        for k in range(len(bounds) + 1 if len(rest) else 0):
            x = rest[parts == k]
            tables.append(np.quantile(x, np.linspace(0.0, 1.0, max(2, min(self.n_quantiles, len(x))))))
            kinds.append(0.0)
        for s in spikes:
            tables.append(np.array([s, s]))
            kinds.append(1.0)
        # modes in the order of their values (a point mass before the interval that holds it)
        order = np.argsort([t[0] if kind else t[0] + 0.5 * (t[-1] - t[0]) for t, kind in zip(tables, kinds)],
                           kind="stable")
        self.tables_ = np.concatenate([tables[i] for i in order])
        self.sizes_ = np.asarray([len(tables[i]) for i in order], dtype=float)
        self.spikes_ = np.asarray([kinds[i] for i in order])
        self.bounds_ = np.asarray(bounds, dtype=float)
        return self

    def mode_tables(self) -> list[np.ndarray]:
        """Each mode's quantile table (a point mass: its value twice)."""
        ends = np.cumsum(self.sizes_.astype(int))
        return [self.tables_[e - n:e] for e, n in zip(ends, self.sizes_.astype(int))]

    def modes(self, values) -> np.ndarray:
        """The mode of each value: its point mass, else the interval between the cuts that holds it."""
        v = np.asarray(values, dtype=float)
        tables = self.mode_tables()
        spike_at = {float(t[0]): k for k, t in enumerate(tables) if self.spikes_[k]}
        intervals = np.flatnonzero(self.spikes_ == 0)
        if len(intervals):
            out = intervals[np.searchsorted(self.bounds_, v, side="right").clip(0, len(intervals) - 1)]
        else:  # only point masses: a value between them goes to the nearest
            values_ = np.array([t[0] for t in tables])
            out = np.abs(v[:, None] - values_[None, :]).argmin(axis=1)
        for value, k in spike_at.items():
            out[v == value] = k
        return out

    def transform(self, values, rng=None):
        v = np.asarray(values, dtype=float)
        modes = self.modes(v)
        tables = self.mode_tables()
        out = np.zeros((len(v), self.width))
        for k, q in enumerate(tables):
            rows = modes == k
            if rows.any() and not self.spikes_[k]:
                out[rows, 0] = _normal_score(v[rows], q)
        if len(tables) > 1:
            out[np.arange(len(v)), 1 + modes] = 1.0
        return out

    def inverse_transform(self, block):
        block = np.asarray(block, dtype=float)
        tables = self.mode_tables()
        modes = block[:, 1:].argmax(axis=1) if len(tables) > 1 else np.zeros(len(block), int)
        out = np.empty(len(block))
        for k, q in enumerate(tables):
            rows = modes == k
            out[rows] = _from_score(block[rows, 0], q)
        return out


def _mixture_options(config, seed: int) -> dict:
    act = config.categorical_activation
    return dict(max_modes=config.max_modes, sample_size=config.bgm_sample_size, seed=seed, tau=config.gumbel_tau,
                mode_activation="gumbel" if act == "tanh" else act, spike_share=config.point_mass_share)


def _mode_specific(config, seed: int) -> ModeSpecificEncoder:
    return ModeSpecificEncoder(**_mixture_options(config, seed))


def _mode_quantile(config, seed: int) -> ModeQuantileEncoder:
    return ModeQuantileEncoder(**_mixture_options(config, seed), separation=config.mode_separation)


#: numeric encodings by name (``numeric_encoding``): the encoder of a column, from the encoding
#: section of the configuration and the seed. Adding one: its class above and a line here, and its
#: name in ``ganforge.config.NUMERIC_METHODS``
NUMERIC_ENCODINGS = {
    "mode_specific": _mode_specific,
    "minmax": lambda config, seed: MinMaxEncoder(-1.0, 1.0),
    "minmax01": lambda config, seed: MinMaxEncoder(0.0, 1.0),
    "standard": lambda config, seed: StandardEncoder(),
    "quantile": lambda config, seed: QuantileEncoder(),
    "mode_quantile": _mode_quantile,
}
