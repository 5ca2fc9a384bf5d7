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


#: a pair of categorical columns is examined for unseen combinations from this Cramér's V in the real rows
UNSEEN_MIN_V = 0.3


def unseen_combinations(real: pd.DataFrame, synthetic: pd.DataFrame, fid: FidelityResult,
                        train: pd.DataFrame | None = None, test: pd.DataFrame | None = None, k: int = 5
                        ) -> list[dict[str, Any]]:
    """For each pair of categorical columns associated in the real rows (Cramér's V >= ``UNSEEN_MIN_V``): the
    share of synthetic rows whose two values never occur together in a real row, and the share of held-out
    ``test`` rows whose values never occur together in ``train`` (default: the real rows), what sampling
    noise alone gives (combinations too rare to be in every sample); largest first.
    A generator that learns each category on its own spreads rows over combinations that do not exist
    (a husband never married), which no per-column or averaged pair score shows."""
    scores = fid.pair_scores()
    if scores.empty:
        return []
    pairs = scores[(scores["kind"] == "cramers_v") & (scores["real"] >= UNSEEN_MIN_V)]
    out = []
    for r in pairs.itertuples():
        share = _unseen_share(real, synthetic, r.column_a, r.column_b)
        ref = (_unseen_share(real if train is None else train, test, r.column_a, r.column_b)
               if test is not None else None)
        out.append({"column_a": r.column_a, "column_b": r.column_b, "real_v": float(r.real), "share": share,
                    "reference": ref})
    return sorted(out, key=lambda d: -d["share"])[:k]


def _unseen_share(seen_in: pd.DataFrame, rows: pd.DataFrame, a: str, b: str) -> float:
    seen = set(_pair_keys(seen_in, a, b))
    return float(np.mean([key not in seen for key in _pair_keys(rows, a, b)])) if len(rows) else 0.0


def _pair_keys(df: pd.DataFrame, a: str, b: str) -> list[tuple[Any, Any]]:
    """Each row's two values, missing as one value of its own."""
    def col(c):
        s = df[c].astype(object)
        return s.where(s.notna(), "<missing>").tolist()
    return list(zip(col(a), col(b)))
