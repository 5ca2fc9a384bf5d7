"""Privacy and memorisation: how close synthetic rows come to real records.

Distances are Euclidean in a space of min-max scaled numerics and one-hot categories (scaled by
the train set). If a generator memorised its training rows, synthetic rows sit closer to the
train set than to held-out test rows of the same distribution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.neighbors import NearestNeighbors

from ..schema import Schema
from .features import scaled_onehot


@dataclass
class PrivacyResult:
    n_synthetic: int
    dcr_train_median: float
    dcr_train_p5: float
    dcr_test_median: float
    exact_copy_share: float          # synthetic rows identical to a train row
    closer_to_train_share: float     # synthetic rows nearer a train row than a test row
    closer_to_train_baseline: float  # the share expected without memorisation: n_train / (n_train + n_test)
    mann_whitney_p: float            # distances to train vs to test (equal-size sets)
    wilcoxon_p: float                # paired per synthetic row
    kruskal_p: float
    dcr_train: list[float] = field(repr=False)
    dcr_test: list[float] = field(repr=False)
    closest: pd.DataFrame | None = field(default=None, repr=False)  # closest fakes next to their real rows


def nearest(reference: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    nn = NearestNeighbors(n_neighbors=1, algorithm="auto", n_jobs=2).fit(reference)
    d, i = nn.kneighbors(query)
    return d[:, 0], i[:, 0]


def privacy(train: pd.DataFrame, test: pd.DataFrame, synth: pd.DataFrame, schema: Schema, seed: int = 0,
            max_synthetic: int = 5000, n_closest: int = 5) -> PrivacyResult:
    rng = np.random.default_rng(seed)
    s = synth.iloc[rng.choice(len(synth), min(len(synth), max_synthetic), replace=False)].reset_index(drop=True)
    Xtrain, Xtest, Xs = scaled_onehot([train, test, s], schema, train)
    d_all, i_all = nearest(Xtrain, Xs)
    d_te, _ = nearest(Xtest, Xs)
    # without memorisation a row's nearest neighbour in train + test is in train with probability
    # n_train / (n_train + n_test): that is the baseline the share is read against
    closer = np.where(d_all < d_te, 1.0, np.where(d_all == d_te, 0.5, 0.0))
    baseline = len(train) / (len(train) + len(test))
    # the rank tests compare distance distributions, which depend on set size: use equal sizes
    m = min(len(train), len(test))
    sub = rng.choice(len(train), m, replace=False)
    d_tr, _ = nearest(Xtrain[sub], Xs)
    d_te_eq, _ = nearest(Xtest[rng.choice(len(test), m, replace=False)], Xs)
    diff = d_tr - d_te_eq
    wil = stats.wilcoxon(diff).pvalue if np.any(diff != 0) else 1.0
    order = np.argsort(d_all)[:n_closest]
    closest = pd.concat(
        [s.iloc[order].reset_index(drop=True).add_suffix(" (synthetic)"),
         train.iloc[i_all[order]].reset_index(drop=True).add_suffix(" (closest real)")], axis=1)
    closest.insert(0, "distance", d_all[order])
    return PrivacyResult(
        n_synthetic=len(s), dcr_train_median=float(np.median(d_all)), dcr_train_p5=float(np.percentile(d_all, 5)),
        dcr_test_median=float(np.median(d_te)), exact_copy_share=float(np.mean(d_all < 1e-9)),
        closer_to_train_share=float(closer.mean()), closer_to_train_baseline=float(baseline),
        mann_whitney_p=float(stats.mannwhitneyu(d_tr, d_te_eq).pvalue), wilcoxon_p=float(wil),
        kruskal_p=float(stats.kruskal(d_tr, d_te_eq).pvalue), dcr_train=d_tr.tolist(), dcr_test=d_te_eq.tolist(),
        closest=closest)


def closest_real_rows(train: pd.DataFrame, fakes: pd.DataFrame, schema: Schema) -> tuple[np.ndarray, pd.DataFrame]:
    """Each fake row's distance to its closest real row, and those real rows (original units)."""
    Xtr, Xf = scaled_onehot([train, fakes], schema, train)
    d, i = nearest(Xtr, Xf)
    return d, train.iloc[i].reset_index(drop=True)
