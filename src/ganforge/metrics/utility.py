"""Utility: is the synthetic table as useful as the real one for training a classifier?

TSTR = train on synthetic, test on real (held-out test rows); TRTS = train on real, test on
synthetic; TRTR = train on real, test on real, the reference. Four classifiers, balanced class
weights, accuracy / macro F1 / ROC AUC each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from ..schema import Schema

CLASSIFIERS = ("logistic_regression", "random_forest", "xgboost", "mlp")


def _classifier(name: str, seed: int):
    if name == "logistic_regression":
        return LogisticRegression(max_iter=1000)
    if name == "random_forest":
        return RandomForestClassifier(n_estimators=200, min_samples_leaf=2, n_jobs=2, random_state=seed)
    if name == "xgboost":
        from xgboost import XGBClassifier

        return XGBClassifier(n_estimators=200, max_depth=5, learning_rate=0.1, tree_method="hist", n_jobs=2,
                             random_state=seed, verbosity=0)
    if name == "mlp":
        return MLPClassifier(hidden_layer_sizes=(64, 32), max_iter=200, early_stopping=True, random_state=seed)
    raise ValueError(f"unknown classifier {name!r}; use one of {', '.join(CLASSIFIERS)}")


def _preprocessor(schema: Schema, features: list[str]) -> ColumnTransformer:
    num = [c for c in features if schema[c].is_numeric]
    cat = [c for c in features if not schema[c].is_numeric]
    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num),
        ("cat", make_pipeline(SimpleImputer(strategy="constant", fill_value="<missing>"),
                              OneHotEncoder(handle_unknown="ignore")), cat),
    ])


def _as_features(df: pd.DataFrame, schema: Schema, features: list[str]) -> pd.DataFrame:
    out = df[features].copy()
    for c in features:
        if not schema[c].is_numeric:
            out[c] = out[c].astype(object).where(out[c].notna(), "<missing>").astype(str)
    return out


@dataclass
class Score:
    accuracy: float
    macro_f1: float
    roc_auc: float


@dataclass
class UtilityResult:
    target: str
    classes: list
    scores: dict[str, dict[str, Score]]   # setting (tstr/trts/trtr) -> classifier -> Score

    def ratio(self, metric: str = "roc_auc") -> dict[str, float]:
        """TSTR / TRTR per classifier (1.0 = synthetic data as useful as real)."""
        return {c: getattr(self.scores["tstr"][c], metric) / getattr(self.scores["trtr"][c], metric)
                for c in self.scores["trtr"]}

    def mean(self, setting: str, metric: str = "roc_auc") -> float:
        return float(np.mean([getattr(s, metric) for s in self.scores[setting].values()]))


def _fit_score(name, pre, train_X, train_y, test_X, test_y, n_classes, seed) -> Score:
    """Labels are class indices 0..n_classes-1."""
    present = np.unique(train_y)
    if len(present) < 2:
        # a generator that produced a single class cannot train a classifier: score as chance
        return Score(float(np.mean(test_y == train_y[0])), 0.0, 0.5)
    model = make_pipeline(pre, _classifier(name, seed))
    weights = compute_sample_weight("balanced", train_y)
    # xgboost wants labels 0..k-1 with every one present: index within what this training set holds
    model.fit(train_X, np.searchsorted(present, train_y), **{f"{model.steps[-1][0]}__sample_weight": weights})
    pred = present[model.predict(test_X).astype(int)]
    proba = np.zeros((len(test_X), n_classes))
    proba[:, present] = model.predict_proba(test_X)
    seen = np.unique(test_y)
    if n_classes == 2:
        auc = roc_auc_score(test_y == 1, proba[:, 1]) if len(seen) == 2 else float("nan")
    elif len(seen) > 2:
        sub = proba[:, seen] / np.clip(proba[:, seen].sum(1, keepdims=True), 1e-12, None)
        auc = roc_auc_score(test_y, sub, multi_class="ovr", labels=seen)
    else:
        auc = float("nan")
    return Score(float(accuracy_score(test_y, pred)), float(f1_score(test_y, pred, average="macro")), float(auc))


def utility(train: pd.DataFrame, test: pd.DataFrame, synth: pd.DataFrame, schema: Schema, target: str,
            classifiers: tuple[str, ...] = CLASSIFIERS, seed: int = 0, max_rows: int = 20_000) -> UtilityResult:
    features = [c for c in schema.names if c != target]
    rng = np.random.default_rng(seed)

    def cap(df):
        df = df[df[target].notna()]
        return df.iloc[rng.choice(len(df), max_rows, replace=False)] if len(df) > max_rows else df

    train, test, synth = cap(train), cap(test), cap(synth)
    classes = sorted({str(v) for v in train[target].unique()})
    index = {c: i for i, c in enumerate(classes)}
    # labels as class indices; synthetic or test rows of a label unseen in train are left out
    keep = {k: d[target].astype(str).isin(index).to_numpy() for k, d in (("train", train), ("test", test),
                                                                          ("synth", synth))}
    test, synth = test[keep["test"]], synth[keep["synth"]]
    y = {k: d[target].astype(str).map(index).to_numpy(int) for k, d in (("train", train), ("test", test),
                                                                        ("synth", synth))}
    X = {k: _as_features(d, schema, features) for k, d in (("train", train), ("test", test), ("synth", synth))}
    plans = {"trtr": ("train", "test"), "tstr": ("synth", "test"), "trts": ("train", "synth")}
    scores: dict[str, dict[str, Score]] = {}
    for setting, (a, b) in plans.items():
        scores[setting] = {}
        for name in classifiers:
            scores[setting][name] = _fit_score(name, _preprocessor(schema, features), X[a], y[a], X[b], y[b],
                                               len(classes), seed)
    return UtilityResult(target, classes, scores)
