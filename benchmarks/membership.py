"""Membership-inference attacks against ganforge's default model on real tables, next to what a
leak looks like.

    python benchmarks/membership.py [--datasets pima,german] [--seeds 0,1,2] > docs/measurements/membership.md

For each dataset (the fixed 75/25 splits of benchmarks/compare_ctgan.py) and seed: fit the
`default` preset on the training rows, sample as many rows as the training set has, and run both
attacks of ganforge.metrics.membership with the held-out rows. The reference "copies" releases
the training rows themselves (a generator that memorised everything): what a leak looks like.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from compare_ctgan import split  # noqa: E402

from ganforge import Synthesizer  # noqa: E402
from ganforge.metrics.membership import membership_inference  # noqa: E402
from ganforge.metrics.privacy import privacy  # noqa: E402
from ganforge.schema import infer_schema  # noqa: E402


def row(name, system, seed, train, test, synth, schema):
    m = membership_inference(train, test, synth, schema, seed=seed)
    p = privacy(train, test, synth, schema, seed=seed)
    return {"dataset": name, "release": system, "seed": seed, "members": m.n_members,
            "distance_auc": m.distance.auc, "distance_p": m.distance.p_value,
            "density_auc": m.density.auc, "density_p": m.density.p_value,
            "tpr_at_fpr_10": max(m.distance.tpr_at_fpr_10, m.density.tpr_at_fpr_10),
            "closer_to_train": p.closer_to_train_share, "baseline": p.closer_to_train_baseline,
            "verdict": "leak" if (m.distance.at_risk or m.density.at_risk) else "no leak found"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--datasets", default="pima,german")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    rows = []
    t0 = time.perf_counter()
    for name in args.datasets.split(","):
        train, test, target = split(name, args.data_dir)
        schema = infer_schema(train, target=target)
        rows.append(row(name, "copies of the training rows", 0, train, test, train, schema))
        for seed in [int(s) for s in args.seeds.split(",")]:
            syn = Synthesizer("wcgan", "default", seed=seed).fit(train, target=target, quiet=True)
            fake = syn.sample(len(train), seed=seed + 100)
            rows.append(row(name, "ganforge default", seed, train, test, fake, schema))
            print(rows[-1], file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    print(f"Seeds {args.seeds}; {time.perf_counter() - t0:.0f} s on this machine.\n")
    print("| dataset | release | seeds | members vs non-members | distance AUC | density AUC | best TPR at FPR 0.1 "
          "| closer-to-train share (expected) | verdict |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (ds, rel), g in df.groupby(["dataset", "release"], sort=False):
        def ms(c):
            return f"{g[c].mean():.3f}" + (f" ± {g[c].std(ddof=1):.3f}" if len(g) > 1 else "")
        verdicts = ", ".join(f"{v} x{n}" for v, n in g["verdict"].value_counts().items())
        print(f"| {ds} | {rel} | {len(g)} | {g['members'].iloc[0]} vs {g['members'].iloc[0]} | {ms('distance_auc')} "
              f"| {ms('density_auc')} | {ms('tpr_at_fpr_10')} | {ms('closer_to_train')} ({g['baseline'].iloc[0]:.3f}) "
              f"| {verdicts} |")


if __name__ == "__main__":
    main()
