"""What an average hides: the strongest real associations one by one, and each column's distribution
given each label.

``pair_trends`` averages every pair's association difference, so a table whose ten strongest real
associations all collapse can still read "good" when most pairs are weak to begin with.
:func:`strongest_pairs` lists the strongest real pairs (and every pair with the target) with their
synthetic association and whether it is kept. :func:`conditional_shift` measures, for each label, how
far each column's distribution among the rows of that label is from the real one (KS statistic for
numeric columns, total variation distance for categorical ones): what a model trained on the rows
needs, and what a conditional generator that ignores its condition loses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..schema import Schema
from .fidelity import FidelityResult, ks_statistic, tv_distance

#: a pair's association is kept when the synthetic one is within this of the real one (associations
#: are on [0, 1] for Cramer's V and the correlation ratio, [-1, 1] for Pearson's r)
PAIR_TOLERANCE = 0.1


@dataclass
class PairKept:
    column_a: str
    column_b: str
    kind: str
    real: float
    synthetic: float

    @property
    def kept(self) -> bool:
        return abs(self.real - self.synthetic) <= PAIR_TOLERANCE

    def to_dict(self) -> dict[str, Any]:
        return {"column_a": self.column_a, "column_b": self.column_b, "kind": self.kind, "real": self.real,
                "synthetic": self.synthetic, "kept": self.kept}


def strongest_pairs(fid: FidelityResult, k: int = 10) -> list[PairKept]:
    """The ``k`` pairs with the strongest real association (by its magnitude), strongest first."""
    scores = fid.pair_scores()
    if scores.empty:
        return []
    scores = scores[np.isfinite(scores["real"]) & np.isfinite(scores["synthetic"])]
    top = scores.reindex(scores["real"].abs().sort_values(ascending=False).index).head(k)
    return [PairKept(r.column_a, r.column_b, r.kind, float(r.real), float(r.synthetic)) for r in top.itertuples()]


def target_pairs(fid: FidelityResult, target: str | None) -> list[PairKept]:
    """Every pair with ``target``, strongest real association first."""
    if target is None:
        return []
    scores = fid.pair_scores()
    if scores.empty:
        return []
    mine = scores[(scores["column_a"] == target) | (scores["column_b"] == target)]
    mine = mine[np.isfinite(mine["real"]) & np.isfinite(mine["synthetic"])]
    mine = mine.reindex(mine["real"].abs().sort_values(ascending=False).index)
    return [PairKept(r.column_a, r.column_b, r.kind, float(r.real), float(r.synthetic)) for r in mine.itertuples()]


@dataclass
class ConditionalShift:
    """Per label and column: the distance between the column's real and synthetic distribution among
    the rows of that label. ``score``: the mean over columns and labels, labels weighted by their real
    share; ``reference``: the same measure between the real training rows and held-out real rows,
    what sampling noise alone gives (None without held-out rows)."""

    target: str
    distances: dict[str, dict[str, float]]     # label -> column -> distance
    shares: dict[str, float]                   # label -> share of real rows
    score: float
    worst_label: str | None
    worst_column: str | None
    worst: float
    reference: float | None = None
    reference_distances: dict[str, dict[str, float]] = field(default_factory=dict)


def _distances(real: pd.DataFrame, other: pd.DataFrame, schema: Schema, target: str, labels: list[str],
               min_rows: int) -> dict[str, dict[str, float]]:
    rl, ol = real[target].astype(str), other[target].astype(str)
    out: dict[str, dict[str, float]] = {}
    for lab in labels:
        r, o = real[rl.to_numpy() == lab], other[ol.to_numpy() == lab]
        if len(r) < min_rows or len(o) < min_rows:
            continue
        out[lab] = {c.name: float(ks_statistic(r[c.name], o[c.name]) if c.is_numeric else tv_distance(r[c.name], o[c.name]))
                    for c in schema.columns if c.name != target}
    return out


def _summary(distances: dict[str, dict[str, float]], shares: dict[str, float]) -> float:
    if not distances:
        return float("nan")
    w = np.array([shares[lab] for lab in distances])
    means = np.array([np.mean(list(d.values())) if d else np.nan for d in distances.values()])
    ok = np.isfinite(means)
    return float(np.sum(w[ok] * means[ok]) / np.sum(w[ok])) if ok.any() else float("nan")


def conditional_shift(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema, target: str,
                      test: pd.DataFrame | None = None, min_rows: int = 20) -> ConditionalShift:
    """Each column's distribution given each label of ``target``, synthetic against real (labels with
    fewer than ``min_rows`` rows on either side are left out); with ``test``, the reference of held-out
    real rows against the training rows."""
    counts = real[target].astype(str).value_counts()
    shares = (counts / counts.sum()).to_dict()
    labels = list(counts.index)
    dist = _distances(real, synth, schema, target, labels, min_rows)
    worst = (None, None, float("nan"))
    for lab, d in dist.items():
        for col, v in d.items():
            if not worst[2] >= v:  # the first, or a larger one (nan-safe)
                worst = (lab, col, v)
    out = ConditionalShift(target, dist, shares, _summary(dist, shares), worst[0], worst[1], worst[2])
    if test is not None and len(test):
        ref = _distances(real, test, schema, target, labels, min_rows)
        out.reference, out.reference_distances = _summary(ref, shares), ref
    return out
