"""Utility against the privacy budget on Adult: wcgan trained with DP-SGD at several epsilons.

    python benchmarks/dp_utility.py [--epsilons 1,3,10,none] [--steps 1000] [--seeds 0] > docs/measurements/dp-utility.md

The schema (numeric bounds, category sets) must not come from the private rows: it is inferred
from adult.test, a public sample of the same census, and the training rows of adult.data are
clipped to its bounds (a value outside its categories would be an error; the rows holding one are
dropped and counted). Every run, private or not, uses the settings DP imposes (min-max numerics,
pac 1) so that the curve shows the cost of the noise alone; the `default` preset without DP is the
reference row. Quality is measured against adult.data, utility by training on 32,561 synthetic
rows and testing on adult.test (logistic regression and XGBoost, ROC AUC), as in docs/measurements/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from ganforge import Synthesizer, datasets
from ganforge.metrics.fidelity import fidelity
from ganforge.metrics.utility import utility
from ganforge.schema import infer_schema


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epsilons", default="1,3,10,none")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    train = datasets.load_adult(args.data_dir)
    test = datasets.load_adult(args.data_dir, split="test")
    public = infer_schema(test, target="income")
    keep = np.ones(len(train), bool)
    for c in public.columns:
        if c.categories is not None:
            keep &= train[c.name].isin(c.categories).to_numpy() | train[c.name].isna().to_numpy()
    dropped = int((~keep).sum())
    train = train[keep].reset_index(drop=True)
    rows = []
    t0 = time.perf_counter()
    runs = [(e, "wcgan, DP settings") for e in args.epsilons.split(",")] + [("none", "wcgan, default preset")]
    for eps_text, label in runs:
        for seed in [int(s) for s in args.seeds.split(",")]:
            kw: dict = dict(steps=args.steps, seed=seed)
            if label.endswith("DP settings"):
                kw.update(numeric_encoding="minmax", pac=1)
            if eps_text != "none":
                kw["dp_epsilon"] = float(eps_text)
            t = time.perf_counter()
            syn = Synthesizer("wcgan", **kw).fit(train, target="income", schema=public)
            fit_s = time.perf_counter() - t
            fake = syn.sample(len(train), seed=seed + 100)
            fid = fidelity(train, fake, public)
            util = utility(train, test, fake, public, "income", seed=seed,
                           classifiers=("logistic_regression", "xgboost"))
            tstr = {c: util.scores["tstr"][c].roc_auc for c in util.scores["tstr"]}
            trtr = {c: util.scores["trtr"][c].roc_auc for c in util.scores["trtr"]}
            rows.append({"epsilon": eps_text, "setting": label, "seed": seed, "fit_s": fit_s,
                         "epsilon_spent": syn.dp_["epsilon_spent"] if syn.dp_ else float("nan"),
                         "noise": syn.dp_["noise_multiplier"] if syn.dp_ else float("nan"),
                         "column_shapes": fid.column_shapes, "pair_trends": fid.pair_trends,
                         "tstr_auc_lr": tstr["logistic_regression"], "tstr_auc_xgb": tstr["xgboost"],
                         "trtr_auc_xgb": trtr["xgboost"]})
            print(rows[-1], file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    print(f"Adult: {len(train):,} training rows ({dropped} dropped for values outside the public schema), "
          f"{args.steps} steps of 5 critic steps, batch 500 (sample rate {500 / len(train):.4f}), delta 1/(10 n), "
          f"clip 1.0; seeds {args.seeds}; {time.perf_counter() - t0:.0f} s in all on this machine.\n")
    print("| epsilon (target) | setting | epsilon spent | noise multiplier | column shapes | pair trends "
          "| TSTR AUC logistic | TSTR AUC XGBoost | TRTR AUC XGBoost | fit (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (eps, setting), g in df.groupby(["epsilon", "setting"], sort=False):
        def ms(c, f="{:.3f}"):
            v = g[c]
            return f.format(v.mean()) + (f" ± {v.std(ddof=1):.3f}" if len(v) > 1 else "")
        print(f"| {eps} | {setting} | {ms('epsilon_spent')} | {ms('noise')} | {ms('column_shapes')} | "
              f"{ms('pair_trends')} | {ms('tstr_auc_lr')} | {ms('tstr_auc_xgb')} | {ms('trtr_auc_xgb')} | "
              f"{ms('fit_s', '{:.0f}')} |")


if __name__ == "__main__":
    main()
