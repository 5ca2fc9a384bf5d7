"""The quality monitor's scores of generated rows (``ganforge.training.monitor`` compares them over
training, keeps the best generator and stops when they stop improving)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import Schema
from .features import codes_matrix
from .fidelity import FidelityResult, association_matrix, column_fidelity


def _xgb(seed: int):
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=100, max_depth=3, learning_rate=0.2, tree_method="hist", n_jobs=2,
                         random_state=seed, verbosity=0)


class QualityScorer:
    """Generated rows against a fixed sample of ``rows`` real rows. ``metric``: ``column_shapes``;
    ``fidelity``, the mean of column shapes and pair trends (the real side's associations computed once);
    ``detection``, TabSyn's score 2 x (1 - AUC) of an XGBoost trained on half of the real and generated
    rows and tested on the other half (1 = indistinguishable); ``all``, the mean of column shapes, pair
    trends, the detection score and, with a target, train-on-synthetic over train-on-real AUC (capped
    at 1) of an XGBoost tested on half of the real rows."""

    def __init__(self, real: pd.DataFrame, schema: Schema, metric: str = "column_shapes", rows: int = 2000,
                 seed: int = 0):
        self.schema, self.metric, self.seed = schema, metric, seed
        self.real = real.sample(min(rows, len(real)), random_state=seed).reset_index(drop=True)
        self.real_assoc = association_matrix(self.real, schema)[0] if metric in ("fidelity", "all") else None
        self.trtr = None
        t = schema.target
        if metric == "all" and t is not None and self.real[t].astype(str).nunique() == 2:
            self._half = np.random.default_rng(seed).permutation(len(self.real)) < len(self.real) // 2
            self._labels = sorted(self.real[t].astype(str).unique())
            self.trtr = self._auc(self.real[self._half], self.real[~self._half])

    def _auc(self, train: pd.DataFrame, test: pd.DataFrame) -> float:
        from sklearn.metrics import roc_auc_score

        t = self.schema.target
        feats = [c for c in self.schema.names if c != t]
        y_tr = (train[t].astype(str) == self._labels[1]).to_numpy(int)
        y_te = (test[t].astype(str) == self._labels[1]).to_numpy(int)
        if len(set(y_tr)) < 2 or len(set(y_te)) < 2:
            return 0.5
        a, b = codes_matrix([train, test], self.schema, feats)
        return float(roc_auc_score(y_te, _xgb(self.seed).fit(a, y_tr).predict_proba(b)[:, 1]))

    def _detection(self, fake: pd.DataFrame) -> float:
        from sklearn.metrics import roc_auc_score

        n = min(len(self.real), len(fake))
        r, f = self.real.iloc[:n], fake.iloc[:n]
        a, b = codes_matrix([r, f], self.schema)
        X, y = np.concatenate([a, b]), np.r_[np.ones(n), np.zeros(n)]
        half = np.random.default_rng(self.seed).permutation(2 * n) < n
        p = _xgb(self.seed).fit(X[half], y[half]).predict_proba(X[~half])[:, 1]
        return float(min(1.0, 2 * (1 - roc_auc_score(y[~half], p))))

    def __call__(self, fake: pd.DataFrame) -> dict[str, float]:
        shapes = float(np.mean([c.score for c in column_fidelity(self.real, fake, self.schema)]))
        if self.metric == "column_shapes":
            return {"column_shapes": shapes, "score": shapes}
        if self.metric == "detection":
            det = self._detection(fake)
            return {"column_shapes": shapes, "detection": det, "score": det}
        trends = FidelityResult([], self.real_assoc, association_matrix(fake, self.schema)[0]).pair_trends
        if not np.isfinite(trends):  # a one-column table has no pairs
            trends = shapes
        out = {"column_shapes": shapes, "pair_trends": trends}
        if self.metric == "fidelity":
            return {**out, "score": (shapes + trends) / 2}
        out["detection"] = self._detection(fake)
        parts = [shapes, trends, out["detection"]]
        if self.trtr is not None:
            out["utility"] = min(1.0, self._auc(fake, self.real[~self._half]) / max(self.trtr, 1e-9))
            parts.append(out["utility"])
        return {**out, "score": float(np.mean(parts))}
