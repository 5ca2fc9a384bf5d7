"""2-D pictures of real vs synthetic rows: PCA and t-SNE coordinates (computed here, drawn by report)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema import Schema
from .features import scaled_onehot


@dataclass
class Projection:
    method: str
    real: np.ndarray        # (n, 2)
    synthetic: np.ndarray   # (m, 2)
    groups: dict[str, np.ndarray] | None = None  # extra sets, e.g. fooled / not fooled fakes
    explained: list[float] | None = None


def projections(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema, seed: int = 0, n: int = 1500,
                groups: dict[str, pd.DataFrame] | None = None, tsne: bool = True) -> list[Projection]:
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(seed)
    r = real.iloc[rng.choice(len(real), min(n, len(real)), replace=False)]
    s = synth.iloc[rng.choice(len(synth), min(n, len(synth)), replace=False)]
    # a set with no rows (every fake fooled the discriminator, or none did) has nothing to draw
    extra = {k: v for k, v in (groups or {}).items() if len(v)}
    mats = scaled_onehot([r, s, *extra.values()], schema, real)
    pca = PCA(2, random_state=seed).fit(mats[0])
    out = [Projection("pca", pca.transform(mats[0]), pca.transform(mats[1]),
                      {k: pca.transform(m) for k, m in zip(extra, mats[2:])} or None,
                      pca.explained_variance_ratio_.tolist())]
    if tsne:
        from sklearn.manifold import TSNE

        both = np.concatenate(mats)
        emb = TSNE(2, init="pca", perplexity=min(30, max(5, len(both) // 10)), random_state=seed).fit_transform(both)
        sizes = np.cumsum([0] + [len(m) for m in mats])
        out.append(Projection("tsne", emb[sizes[0]:sizes[1]], emb[sizes[1]:sizes[2]],
                              {k: emb[sizes[2 + i]:sizes[3 + i]] for i, k in enumerate(extra)} or None))
    return out
