"""The augmentation experiment for an imbalanced binary task (the credit-card-fraud study's
last figure, for any table).

A base training set keeps every majority row and only ``base_minority`` minority rows. To it
we add ``k`` extra minority rows for each ``k`` in ``add``, drawn from

* ``real``: minority rows of the training split that the base set left out (the upper bound:
  genuinely new data; capped at how many there are),
* ``trained``: a generator trained on the base set,
* ``untrained``: the same generator with no training (random weights: what noise in the
  right format buys),
* ``smote``: SMOTE (SMOTENC with categorical features) on the base set,

trains XGBoost on each and scores recall, precision and F1 of the minority class on held-out
real rows. The generator and SMOTE see exactly the rows the base classifier sees: neither is
given information that the classifier lacks. Several seeds redraw the base subset, the
generator and the classifier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, precision_score, recall_score

from ..errors import ConfigError, DataError
from ..metrics.features import codes_matrix
from ..errors import shown
from ..schema import Schema, infer_schema

SOURCES = ("real", "trained", "untrained", "smote")


@dataclass
class AugmentResult:
    target: str
    minority: Any
    scores: pd.DataFrame          # seed, source, added, recall, precision, f1
    n_base_majority: int
    n_base_minority: int
    n_pool: int                   # real minority rows available to add
    n_test: int
    n_test_minority: int
    model: str
    preset: str
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation over seeds, per source and rows added."""
        g = self.scores.groupby(["source", "added"])[["recall", "precision", "f1"]]
        out = g.mean().join(g.std(ddof=1).add_suffix("_sd")).join(g.size().rename("seeds")).reset_index()
        order = {s: i for i, s in enumerate(SOURCES)}
        return out.sort_values(["source", "added"], key=lambda c: c.map(order) if c.name == "source" else c
                               ).reset_index(drop=True)


def _classifier(seed: int):
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=300, max_depth=5, learning_rate=0.1, tree_method="hist", n_jobs=2,
                         random_state=seed, verbosity=0)


def _smote_rows(base: pd.DataFrame, schema: Schema, target: str, minority, k: int, seed: int) -> pd.DataFrame:
    """``k`` SMOTE rows of the minority class, in the table's own units."""
    from imblearn.over_sampling import SMOTE, SMOTEN, SMOTENC

    feats = [c for c in schema.names if c != target]
    y = (base[target].astype(str) == str(minority)).to_numpy(int)
    n_min = int(y.sum())
    if n_min < 2:
        raise DataError("SMOTE needs at least 2 minority rows in the base set")
    X = pd.DataFrame(index=base.index)
    cat_idx, cat_levels = [], {}
    for j, c in enumerate(feats):
        if schema[c].is_numeric:
            v = pd.to_numeric(base[c], errors="coerce").astype(float)
            X[c] = v.fillna(v.median() if v.notna().any() else 0.0)
        else:
            codes, levels = pd.factorize(base[c].astype(object).where(base[c].notna(), "<missing>"))
            X[c] = codes
            cat_idx.append(j)
            cat_levels[c] = levels
    kn = min(5, n_min - 1)
    strategy = {1: n_min + k}
    if not cat_idx:
        sm = SMOTE(sampling_strategy=strategy, k_neighbors=kn, random_state=seed)
    elif len(cat_idx) == len(feats):
        sm = SMOTEN(sampling_strategy=strategy, k_neighbors=kn, random_state=seed)
    else:
        sm = SMOTENC(categorical_features=cat_idx, sampling_strategy=strategy, k_neighbors=kn, random_state=seed)
    Xr, _ = sm.fit_resample(X.to_numpy(float), y)
    new = pd.DataFrame(Xr[len(X):], columns=feats)
    out = pd.DataFrame(index=range(len(new)))
    for c in feats:
        if c in cat_levels:
            vals = np.asarray(cat_levels[c], dtype=object)[new[c].round().astype(int).clip(0, len(cat_levels[c]) - 1)]
            out[c] = pd.Series(vals).replace("<missing>", np.nan).astype(base[c].dtype, errors="ignore")
        elif schema[c].kind == "integer":
            out[c] = new[c].round().astype(base[c].dtype if base[c].notna().all() else "Int64")
        else:
            out[c] = new[c]
    out[target] = pd.Series([minority] * len(out)).astype(base[target].dtype, errors="ignore")
    return out[schema.names]


def _generator(base: pd.DataFrame, schema: Schema, target: str, minority, model: str, preset: str,
               seed: int, steps: int | None, overrides: dict, condition_on: str | None = None) -> Any:
    from ..models.registry import MODELS
    from ..synthesizer import Synthesizer

    kw = dict(overrides)
    kw["seed"] = seed
    if steps is not None:
        kw["steps"] = steps
    syn = Synthesizer(model, preset, **kw)
    if MODELS[model]["conditional"] and condition_on is None:
        syn.fit(base, target=target, schema=schema)
    else:  # the minority rows alone (conditional models then on pseudo-labels, e.g. kmeans:2)
        rows = base[base[target].astype(str) == str(minority)].drop(columns=[target]).reset_index(drop=True)
        sub = Schema([c for c in schema.columns if c.name != target])
        syn.fit(rows, schema=sub, condition_on=condition_on)
    return syn


def _generated(syn, k: int, target: str, minority, template: pd.DataFrame, seed: int) -> pd.DataFrame:
    if syn.condition_ is not None and syn.condition_.get("column") == target:
        rows = syn.sample(k, condition={target: minority}, seed=seed)
    else:
        rows = syn.sample(k, seed=seed)
        rows[target] = minority
    rows[target] = rows[target].astype(template[target].dtype, errors="ignore")
    return rows[list(template.columns)]


def augmentation_experiment(train: pd.DataFrame, test: pd.DataFrame, target: str, minority: Any,
                            add: list[int], *, base_minority: int | None = None, model: str = "wcgan",
                            preset: str = "default", seeds: list[int] | tuple[int, ...] = (0, 1, 2),
                            steps: int | None = None, sources: tuple[str, ...] = SOURCES,
                            schema: Schema | None = None, generator_overrides: dict | None = None,
                            condition_on: str | None = None, on_progress=None) -> AugmentResult:
    """Run the experiment described in the module docstring; see :class:`AugmentResult`."""
    if target not in train.columns:
        raise DataError(f"`target` {shown(target)} is not a column of the training table")
    if target not in test.columns:
        raise DataError(f"`target` {shown(target)} is not a column of the test table")
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ConfigError(f"unknown source(s) {unknown}; choose from {', '.join(SOURCES)}")
    labels = train[target].dropna().astype(str).unique()
    if len(labels) != 2:
        raise DataError(f"the augmentation experiment is for a binary target; {shown(target)} has "
                        f"{len(labels)} values ({', '.join(sorted(labels)[:10])})")
    if str(minority) not in labels:
        raise DataError(f"`minority` {minority!r} is not a value of {shown(target)}; its values: "
                        f"{', '.join(sorted(labels))}")
    minority = train[target][train[target].astype(str) == str(minority)].iloc[0]
    if any(k < 0 for k in add) or not add:
        raise ConfigError("`add` takes row counts >= 0, e.g. `add` 0,100,200,400")
    add = sorted(set(int(k) for k in add) | {0})
    is_min = (train[target].astype(str) == str(minority)).to_numpy()
    n_min = int(is_min.sum())
    if base_minority is None:
        base_minority = max(2, n_min // 2)
    if not 2 <= base_minority <= n_min:
        raise ConfigError(f"`base_minority` must be between 2 and {n_min} (the minority rows in the training "
                          f"data), got {base_minority}")
    schema = schema or infer_schema(train, target=target)
    test_y = (test[target].astype(str) == str(minority)).to_numpy(int)
    if test_y.sum() == 0:
        raise DataError(f"the test rows hold no {target}={minority!r} row: recall cannot be measured")
    maj_rows = train[~is_min]
    min_rows = train[is_min].reset_index(drop=True)
    records, notes = [], []
    pool_size = n_min - base_minority
    for seed in seeds:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(n_min)
        base = pd.concat([maj_rows, min_rows.iloc[perm[:base_minority]]], ignore_index=True)
        pool = min_rows.iloc[perm[base_minority:]].reset_index(drop=True)
        gens = {}
        if "trained" in sources:
            gens["trained"] = _generator(base, schema, target, minority, model, preset, seed, steps,
                                         generator_overrides or {}, condition_on)
        if "untrained" in sources:
            gens["untrained"] = _generator(base, schema, target, minority, model, preset, seed, 0,
                                           generator_overrides or {}, condition_on)
        base_score = None
        for source in sources:
            for k in add:
                if source == "real" and k > len(pool):
                    continue
                if k == 0 and base_score is not None:  # the base set alone: one classifier per seed
                    records.append({**base_score, "source": source})
                    continue
                if k == 0:
                    extra = base.iloc[:0]
                elif source == "real":
                    extra = pool.iloc[:k]
                elif source == "smote":
                    extra = _smote_rows(base, schema, target, minority, k, seed)
                else:
                    extra = _generated(gens[source], k, target, minority, base, 1000 * seed + k)
                data = pd.concat([base, extra], ignore_index=True)
                Xtr, Xte = codes_matrix([data, test], schema, [c for c in schema.names if c != target])
                ytr = (data[target].astype(str) == str(minority)).to_numpy(int)
                pred = _classifier(seed).fit(Xtr, ytr).predict(Xte)
                records.append({"seed": seed, "source": source, "added": k,
                                "recall": recall_score(test_y, pred, zero_division=0),
                                "precision": precision_score(test_y, pred, zero_division=0),
                                "f1": f1_score(test_y, pred, zero_division=0)})
                if k == 0:
                    base_score = records[-1]
            if on_progress:
                on_progress(seed, source)
    if "real" in sources and max(add) > pool_size:
        notes.append(f"only {pool_size} real minority rows are left out of the base set: the 'real' curve "
                     f"stops there")
    return AugmentResult(target, minority, pd.DataFrame(records), int(len(maj_rows)), int(base_minority),
                         int(pool_size), int(len(test)), int(test_y.sum()), model, preset, notes)


def plot(result: AugmentResult, title: str = ""):
    """Recall, precision and F1 against rows added, mean and ±1 sd band over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = result.summary()
    fig, axes = plt.subplots(1, 3, figsize=(15, 4), sharex=True)
    colors = {"real": "tab:green", "trained": "tab:blue", "untrained": "tab:gray", "smote": "tab:orange"}
    for ax, metric in zip(axes, ("recall", "precision", "f1")):
        for source, g in s.groupby("source", sort=False):
            ax.plot(g["added"], g[metric], marker="o", color=colors.get(source), label=source)
            sd = g[f"{metric}_sd"].fillna(0)
            ax.fill_between(g["added"], g[metric] - sd, g[metric] + sd, color=colors.get(source), alpha=0.15)
        ax.set_title(metric)
        ax.set_xlabel(f"{result.minority!r} rows added to the base set")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(f"on held-out real rows ({result.n_test_minority} of {result.n_test} are {result.minority!r})")
    axes[0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
