"""Detection: can a classifier tell synthetic rows from real ones? (ROC AUC 0.5 = no.)"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

from ..schema import Schema
from .features import codes_matrix


def _xgb(seed: int):
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=200, max_depth=4, learning_rate=0.1, subsample=0.8, tree_method="hist",
                         n_jobs=2, random_state=seed, verbosity=0)


@dataclass
class DetectionResult:
    cv_accuracy: float
    cv_auc: float
    cv_auc_folds: list[float]
    holdout_accuracy: float   # the fraud study's protocol
    holdout_auc: float
    n_real: int
    n_synthetic: int
    feature_importance: dict[str, float]
    #: each column alone: the AUC of a small XGBoost that sees only that column (secondary point
    #: masses lost, a spread too narrow, an impossible category show here first)
    column_auc: dict[str, float] = field(default_factory=dict)
    #: pairs of the columns the detector leans on most: the AUC of a small XGBoost that sees only the two, and
    #: its lift over the better column alone (a relation the generator missed: a category and the band of a
    #: number it sets, a total and its count), the largest lift first
    pair_auc: list[dict] = field(default_factory=list)

    @property
    def tabsyn_score(self) -> float:
        """Detection as TabSyn and TabDiff report it: 2 x (1 - AUC), 1 = indistinguishable, 0 = told apart."""
        return 2.0 * (1.0 - self.cv_auc)

    @property
    def worst_column(self) -> tuple[str, float] | None:
        """The column that alone tells synthetic rows apart best, and its AUC."""
        return max(self.column_auc.items(), key=lambda kv: kv[1]) if self.column_auc else None

    @property
    def worst_pair(self) -> dict | None:
        """The pair of columns whose relation tells synthetic rows apart most beyond either column alone."""
        return self.pair_auc[0] if self.pair_auc else None


def detection(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema, folds: int = 5, seed: int = 0,
              max_rows: int = 20_000) -> DetectionResult:
    """XGBoost real-vs-synthetic: stratified k-fold accuracy and AUC on equal numbers of rows,
    and the credit-fraud study's protocol (train on half the real rows plus as many generated
    rows, test on the other half plus a fresh generated set)."""
    rng = np.random.default_rng(seed)
    n = min(len(real), len(synth), max_rows)
    r = real.iloc[rng.choice(len(real), n, replace=False)].reset_index(drop=True)
    s = synth.iloc[rng.choice(len(synth), n, replace=False)].reset_index(drop=True)
    Xr, Xs = codes_matrix([r, s], schema)
    X = np.concatenate([Xr, Xs])
    y = np.r_[np.ones(n), np.zeros(n)]
    probs = np.zeros(len(y))
    aucs = []
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        clf = _xgb(seed).fit(X[tr], y[tr])
        probs[te] = clf.predict_proba(X[te])[:, 1]
        aucs.append(float(roc_auc_score(y[te], probs[te])))
    importance = dict(zip(schema.names, map(float, _xgb(seed).fit(X, y).feature_importances_)))

    # fraud-study protocol: half of the real rows + the same number of synthetic rows to train,
    # the other half + a disjoint (fresh) synthetic set to test
    half = n // 2
    s_all = synth.iloc[rng.permutation(len(synth))].reset_index(drop=True)
    s_train, s_test = s_all.iloc[:half], s_all.iloc[half:2 * half]
    r_perm = rng.permutation(n)
    r_train, r_test = r.iloc[r_perm[:half]], r.iloc[r_perm[half:2 * half]]
    a, b, c, d = codes_matrix([r_train, s_train, r_test, s_test], schema)
    clf = _xgb(seed).fit(np.concatenate([a, b]), np.r_[np.ones(len(a)), np.zeros(len(b))])
    yt = np.r_[np.ones(len(c)), np.zeros(len(d))]
    pt = clf.predict_proba(np.concatenate([c, d]))[:, 1]
    return DetectionResult(
        cv_accuracy=float(accuracy_score(y, probs > 0.5)), cv_auc=float(np.mean(aucs)), cv_auc_folds=aucs,
        holdout_accuracy=float(accuracy_score(yt, pt > 0.5)), holdout_auc=float(roc_auc_score(yt, pt)),
        n_real=n, n_synthetic=n, feature_importance=importance, column_auc=(alone := column_detection(X, y, schema, seed)),
        pair_auc=pair_detection(X, y, schema, alone, importance, seed))


def column_detection(X: np.ndarray, y: np.ndarray, schema: Schema, seed: int = 0, folds: int = 3) -> dict[str, float]:
    """The real-vs-synthetic AUC of each column alone (a small XGBoost, ``folds``-fold), on the coded
    rows of ``detection``."""
    return {name: small_auc(X[:, j:j + 1], y, seed, folds) for j, name in enumerate(schema.names)}


def pair_detection(X: np.ndarray, y: np.ndarray, schema: Schema, alone: dict[str, float],
                   importance: dict[str, float], seed: int = 0, top: int = 6) -> list[dict]:
    """The real-vs-synthetic AUC of each pair of the ``top`` columns by ``importance`` (a small XGBoost,
    3-fold, on the coded rows of ``detection``) and its lift over the better of the two alone (``alone``:
    ``column_detection``'s); the largest lift first."""
    names = schema.names
    cols = sorted(range(len(names)), key=lambda j: -importance.get(names[j], 0.0))[:top]
    out = []
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            auc = small_auc(X[:, [a, b]], y, seed, 3)
            out.append({"columns": [names[a], names[b]], "auc": auc,
                        "lift": auc - max(alone.get(names[a], 0.5), alone.get(names[b], 0.5))})
    return sorted(out, key=lambda p: -p["lift"])


def small_auc(X: np.ndarray, y: np.ndarray, seed: int, folds: int) -> float:
    """The ``folds``-fold real-vs-synthetic AUC of a small XGBoost (60 trees of depth 3) on the columns of ``X``."""
    from xgboost import XGBClassifier

    probs = np.zeros(len(y))
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X, y):
        clf = XGBClassifier(n_estimators=60, max_depth=3, learning_rate=0.2, tree_method="hist", n_jobs=2,
                            random_state=seed, verbosity=0).fit(X[tr], y[tr])
        probs[te] = clf.predict_proba(X[te])[:, 1]
    return float(roc_auc_score(y, probs))


@dataclass
class DiscriminatorResult:
    """The GAN's own discriminator on generated rows: how many it judged real."""

    n: int
    fooled: int
    threshold: float
    rule: str
    scores_fake: list[float]

    @property
    def fooled_share(self) -> float:
        return self.fooled / self.n if self.n else float("nan")


def discriminator_verdicts(fake_scores: np.ndarray, real_scores: np.ndarray | None, probabilities: bool
                           ) -> DiscriminatorResult:
    """For a BCE discriminator a row is judged real when D(x) > 0.5. A Wasserstein critic has no
    such scale: a row is judged real when it scores at least the median score of real rows."""
    fake_scores = np.asarray(fake_scores, float)
    if probabilities:
        thr, rule = 0.5, "D(x) > 0.5"
    else:
        if real_scores is None or len(real_scores) == 0:
            raise ValueError("a Wasserstein critic needs scores of real rows to set its threshold")
        thr, rule = float(np.median(real_scores)), "critic score >= median score of real rows"
    fooled = int((fake_scores > thr).sum()) if probabilities else int((fake_scores >= thr).sum())
    return DiscriminatorResult(len(fake_scores), fooled, thr, rule, fake_scores.tolist())
