"""Fidelity: how closely synthetic marginals and pairwise associations follow the real ones.

Scores are named and scaled as SDMetrics' Quality Report so they can be compared with it:
``column_shapes`` = 1 - mean(KS statistic for numeric columns, total variation distance for
categorical ones); ``pair_trends`` = 1 - mean over column pairs of half the absolute difference
between the real and synthetic association (Pearson for numeric pairs, Cramer's V for
categorical pairs, the correlation ratio for mixed pairs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from ..encoding.codes import category_codes
from ..encoding.derived import find_derived
from ..schema import Schema


@dataclass
class ColumnFidelity:
    column: str
    kind: str
    statistic: str          # "ks" or "tvd"
    value: float            # the distance (0 = identical)
    wasserstein: float | None  # numeric columns, on values min-max scaled by the real range
    missing_real: float
    missing_synthetic: float

    @property
    def score(self) -> float:
        return 1.0 - self.value


@dataclass
class DependencyCheck:
    """A column that every real row shows to be a function of a categorical column (found as
    ``derive_columns`` finds them), and the share of synthetic rows that follow the same function."""

    column: str
    source: str
    source_values: int      # categories of the source (missing counted as one)
    kept_share: float       # synthetic rows whose value is the one the real rows give their source's


@dataclass
class FidelityResult:
    columns: list[ColumnFidelity]
    association_real: pd.DataFrame
    association_synthetic: pd.DataFrame
    pair_kinds: dict[tuple[str, str], str] = field(default_factory=dict)
    #: SDMetrics' own formula (contingency similarity for categorical pairs): see docs/guide/evaluation.md
    pair_trends_sdmetrics: float = float("nan")
    #: exact dependencies of the real table and how far the synthetic rows keep them
    dependencies: list[DependencyCheck] = field(default_factory=list)
    #: the target's associations in the synthetic table with the target shuffled among its rows
    #: (``label_free_associations``; named after the target), the floor for ``label_trends``
    label_free: pd.Series | None = None

    @property
    def column_shapes(self) -> float:
        return float(np.mean([c.score for c in self.columns])) if self.columns else float("nan")

    @property
    def association_difference(self) -> pd.DataFrame:
        return (self.association_real - self.association_synthetic).abs()

    @property
    def pair_trends(self) -> float:
        names = list(self.association_real.columns)
        if len(names) < 2:
            return float("nan")
        diff = self.association_difference.to_numpy()
        iu = np.triu_indices(len(names), k=1)
        vals = diff[iu]
        vals = vals[np.isfinite(vals)]
        return float(1.0 - np.mean(vals) / 2) if len(vals) else float("nan")

    def label_trends(self, target: str | None) -> dict | None:
        """The pair trends of the target's pairs alone: 1 - mean(|association difference| / 2) over
        the target and each other column, and the column whose association with the target is
        furthest from the real one (a generator can exaggerate the label's dependence on the other
        columns while the mean over every pair barely moves: docs/measurements/default-preset.md). None without
        a target, or when no pair with it has a finite association."""
        if target is None or target not in self.association_real.columns:
            return None
        real = self.association_real[target].drop(target)
        synth = self.association_synthetic[target].drop(target)
        diff = (real - synth).abs()
        diff = diff[np.isfinite(diff)]
        if diff.empty:
            return None
        worst = str(diff.idxmax())
        out = {"score": float(1.0 - diff.mean() / 2), "worst_column": worst,
               "worst_real": float(real[worst]), "worst_synthetic": float(synth[worst]),
               "columns": {c: {"real": float(real[c]), "synthetic": float(synth[c])} for c in diff.index}}
        if self.label_free is not None and self.label_free.name == target:
            # the score of the same table with its label shuffled: a label carrying no information
            free = (real[diff.index] - self.label_free.reindex(diff.index)).abs()
            out["label_free_score"] = float(1.0 - free.mean() / 2) if free.notna().all() else float("nan")
        return out

    def pair_scores(self) -> pd.DataFrame:
        rows = []
        names = list(self.association_real.columns)
        for a, b in combinations(names, 2):
            r, s = self.association_real.loc[a, b], self.association_synthetic.loc[a, b]
            rows.append({"column_a": a, "column_b": b, "kind": self.pair_kinds.get((a, b), ""),
                         "real": r, "synthetic": s, "score": 1 - abs(r - s) / 2})
        return pd.DataFrame(rows)


def ks_statistic(real: pd.Series, synth: pd.Series) -> float:
    a = pd.to_numeric(real, errors="coerce").dropna().to_numpy(float)
    b = pd.to_numeric(synth, errors="coerce").dropna().to_numpy(float)
    if len(a) == 0 or len(b) == 0:
        return 1.0 if len(a) != len(b) else 0.0
    return float(stats.ks_2samp(a, b).statistic)


def tv_distance(real: pd.Series, synth: pd.Series) -> float:
    """Total variation distance between category frequencies (missing is a category)."""
    p = real.astype(object).where(real.notna(), "<missing>").value_counts(normalize=True)
    q = synth.astype(object).where(synth.notna(), "<missing>").value_counts(normalize=True)
    return float(0.5 * p.sub(q, fill_value=0).abs().sum())


def scaled_wasserstein(real: pd.Series, synth: pd.Series) -> float:
    a = pd.to_numeric(real, errors="coerce").dropna().to_numpy(float)
    b = pd.to_numeric(synth, errors="coerce").dropna().to_numpy(float)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    lo, hi = a.min(), a.max()
    span = (hi - lo) or 1.0
    return float(stats.wasserstein_distance((a - lo) / span, (b - lo) / span))


def column_fidelity(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema) -> list[ColumnFidelity]:
    out = []
    for spec in schema.columns:
        r, s = real[spec.name], synth[spec.name]
        if spec.is_numeric:
            out.append(ColumnFidelity(spec.name, spec.kind, "ks", ks_statistic(r, s), scaled_wasserstein(r, s),
                                      float(r.isna().mean()), float(s.isna().mean())))
        else:
            out.append(ColumnFidelity(spec.name, spec.kind, "tvd", tv_distance(r, s), None,
                                      float(r.isna().mean()), float(s.isna().mean())))
    return out


def _codes(s: pd.Series) -> np.ndarray:
    return pd.factorize(s.astype(object).where(s.notna(), "<missing>"))[0]


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Cramer's V of two code arrays (no bias correction, as most reports use)."""
    ka, kb = a.max() + 1, b.max() + 1
    if ka < 2 or kb < 2:
        return 0.0
    table = np.zeros((ka, kb))
    np.add.at(table, (a, b), 1)
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    if min(table.shape) < 2:
        return 0.0
    chi2 = stats.chi2_contingency(table, correction=False)[0]
    return float(np.sqrt(chi2 / (table.sum() * (min(table.shape) - 1))))


def correlation_ratio(codes: np.ndarray, values: np.ndarray) -> float:
    """eta: the share of a numeric column's spread explained by a categorical column."""
    ok = np.isfinite(values)
    codes, values = codes[ok], values[ok]
    if len(values) < 2:
        return 0.0
    total = ((values - values.mean()) ** 2).sum()
    if total == 0:
        return 0.0
    counts = np.bincount(codes)
    sums = np.bincount(codes, weights=values)
    nz = counts > 0
    means = sums[nz] / counts[nz]
    between = (counts[nz] * (means - values.mean()) ** 2).sum()
    return float(np.sqrt(between / total))


def _association(a: str, b: str, num_vals: dict, codes: dict) -> tuple[float, str]:
    """The association of columns ``a`` and ``b`` and its kind: Pearson for two numeric columns,
    Cramer's V for two categorical ones, the correlation ratio for one of each."""
    if a in num_vals and b in num_vals:  # as association_matrix's DataFrame.corr: pairwise rows, NaN as 0
        r = pd.Series(num_vals[a]).corr(pd.Series(num_vals[b]))
        return (float(r) if np.isfinite(r) else 0.0), "pearson"
    if a in codes and b in codes:
        return cramers_v(codes[a], codes[b]), "cramers_v"
    cat, num = (a, b) if a in codes else (b, a)
    return correlation_ratio(codes[cat], num_vals[num]), "correlation_ratio"


def _columns(df: pd.DataFrame, schema: Schema) -> tuple[dict, dict]:
    num_vals = {c.name: pd.to_numeric(df[c.name], errors="coerce").to_numpy(float) for c in schema.columns if c.is_numeric}
    codes = {c.name: _codes(df[c.name]) for c in schema.columns if not c.is_numeric}
    return num_vals, codes


def association_matrix(df: pd.DataFrame, schema: Schema) -> tuple[pd.DataFrame, dict[tuple[str, str], str]]:
    names = schema.names
    numeric = [c.name for c in schema.columns if c.is_numeric]
    num_vals, codes = _columns(df, schema)
    m = pd.DataFrame(np.eye(len(names)), index=names, columns=names)
    kinds = {}
    if len(numeric) > 1:
        corr = df[numeric].apply(pd.to_numeric, errors="coerce").corr().fillna(0.0)
        m.loc[numeric, numeric] = corr.to_numpy()
    for a, b in combinations(names, 2):
        if a in num_vals and b in num_vals:
            kinds[(a, b)] = "pearson"
            continue
        v, kinds[(a, b)] = _association(a, b, num_vals, codes)
        m.loc[a, b] = m.loc[b, a] = v
    return m, kinds


def label_free_associations(df: pd.DataFrame, schema: Schema, target: str, seed: int = 0) -> pd.Series:
    """The associations of ``target`` with every other column once its values are shuffled among
    the rows: what a table of this size whose label carries no information about the other columns
    would show (Cramer's V and the correlation ratio are above 0 even then, more so on few rows)."""
    num_vals, codes = _columns(df, schema)
    perm = np.random.default_rng(seed).permutation(len(df))
    for d in (num_vals, codes):
        if target in d:
            d[target] = d[target][perm]
    others = [c for c in schema.names if c != target]
    return pd.Series({c: _association(target, c, num_vals, codes)[0] for c in others}, dtype=float)


def fidelity(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema, target: str | None = None) -> FidelityResult:
    """``target`` (default: the schema's): the label whose associations ``label_trends`` also
    scores against a label-free copy of ``synth``."""
    ar, kinds = association_matrix(real, schema)
    as_, _ = association_matrix(synth, schema)
    target = target if target is not None else schema.target
    null = (label_free_associations(synth, schema, target).rename(target)
            if target is not None and target in schema.names and len(synth) > 1 else None)
    return FidelityResult(column_fidelity(real, synth, schema), ar, as_, kinds,
                          sdmetrics_pair_trends(real, synth, schema), dependency_checks(real, synth, schema),
                          label_free=null)


def dependency_checks(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema) -> list[DependencyCheck]:
    """For each column that is a function of a categorical column in every real row: the share of
    synthetic rows with the value the real rows give their source's category. A synthetic source
    value the real rows never had counts as broken; numbers agree to 1e-9 relative."""
    out = []
    for d in find_derived(real, schema, max_categories=200):
        spec = schema[d.source]
        codes = category_codes(synth[d.source], spec.categories, spec.has_missing)
        seen = codes >= 0
        expected = np.asarray(d.values, dtype=object)[np.where(seen, codes, 0)]
        got = synth[d.spec.name].astype(object).to_numpy()
        both_missing = pd.isna(expected) & pd.isna(got)
        both = ~pd.isna(expected) & ~pd.isna(got)  # (pd.NA compares to nothing: keep it out)
        same = np.zeros(len(got), dtype=bool)
        if d.spec.is_numeric:
            e = pd.to_numeric(pd.Series(expected[both]), errors="coerce").to_numpy(float)
            g = pd.to_numeric(pd.Series(got[both]), errors="coerce").to_numpy(float)
            same[both] = np.isclose(g, e, rtol=1e-9, atol=0.0)
        else:
            same[both] = [bool(a == b) or str(a) == str(b) for a, b in zip(got[both], expected[both])]
        kept = seen & (both_missing | same)
        out.append(DependencyCheck(d.spec.name, d.source, len(d.values),
                                   float(kept.mean()) if len(kept) else float("nan")))
    return out


def _binned(real: pd.Series, synth: pd.Series, numeric: bool, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes for a contingency table: numerics cut into equal-width bins over the real range."""
    if numeric:
        r = pd.to_numeric(real, errors="coerce").to_numpy(float)
        s = pd.to_numeric(synth, errors="coerce").to_numpy(float)
        lo, hi = np.nanmin(r), np.nanmax(r)
        edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)[1:-1]
        rc, sc = np.digitize(r, edges), np.digitize(s, edges)
        return np.where(np.isnan(r), bins, rc), np.where(np.isnan(s), bins, sc)
    both = pd.concat([real.astype(object), synth.astype(object)], ignore_index=True)
    codes = pd.factorize(both.where(both.notna(), "<missing>"))[0]
    return codes[:len(real)], codes[len(real):]


def sdmetrics_pair_trends(real: pd.DataFrame, synth: pd.DataFrame, schema: Schema, bins: int = 10) -> float:
    """Pair trends as SDMetrics' Quality Report computes them, for comparison with published figures:
    CorrelationSimilarity (1 - |Pearson real - Pearson synthetic| / 2) for numeric pairs and
    ContingencySimilarity (1 - total variation distance between the 2-D frequency tables, numerics
    in ``bins`` equal-width bins) for pairs with a categorical column."""
    scores = []
    for a, b in combinations(schema.names, 2):
        na, nb = schema[a].is_numeric, schema[b].is_numeric
        if na and nb:
            ra = real[[a, b]].apply(pd.to_numeric, errors="coerce").dropna()
            sa = synth[[a, b]].apply(pd.to_numeric, errors="coerce").dropna()
            r = ra[a].corr(ra[b]) if len(ra) > 1 else 0.0
            s = sa[a].corr(sa[b]) if len(sa) > 1 else 0.0
            scores.append(1 - abs(np.nan_to_num(r) - np.nan_to_num(s)) / 2)
            continue
        ra, sa = _binned(real[a], synth[a], na, bins)
        rb, sb = _binned(real[b], synth[b], nb, bins)
        p = pd.Series(list(zip(ra, rb))).value_counts(normalize=True)
        q = pd.Series(list(zip(sa, sb))).value_counts(normalize=True)
        scores.append(1 - 0.5 * p.sub(q, fill_value=0).abs().sum())
    return float(np.mean(scores)) if scores else float("nan")

