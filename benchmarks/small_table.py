"""Settings compared on a small all-numeric table (scikit-learn's breast cancer, 569 x 31).

    python benchmarks/small_table.py

Prints, per setting, the fit time, the mean KS over the 30 numeric columns and the mean absolute
difference of Pearson correlations between 2,000 generated rows and the real ones.
"""

import time

import numpy as np
from scipy.stats import ks_2samp

from ganforge import Synthesizer
from ganforge.datasets import load_breast_cancer

SETTINGS = [
    ("default (mode-specific), 5 critic steps, 600 steps", dict(steps=600)),
    ("default, at most 3 modes, 600 steps", dict(steps=600, max_modes=3)),
    ("min-max numerics, 600 steps", dict(steps=600, numeric_encoding="minmax")),
    ("min-max numerics, 1000 steps", dict(steps=1000, numeric_encoding="minmax")),
    ("min-max numerics, 1 critic step, 1500 steps", dict(steps=1500, numeric_encoding="minmax", n_critic=1)),
    ("default, 2 critic steps, 800 steps", dict(steps=800, n_critic=2)),
]


def main() -> None:
    df = load_breast_cancer()
    num = [c for c in df.columns if c != "diagnosis"]
    for label, kw in SETTINGS:
        t = time.perf_counter()
        syn = Synthesizer("wcgan", "default", seed=0, **kw).fit(df, target="diagnosis")
        fit_s = time.perf_counter() - t
        s = syn.sample(2000, seed=1)
        ks = np.mean([ks_2samp(df[c], s[c]).statistic for c in num])
        corr = np.abs(df[num].corr().to_numpy() - s[num].corr().to_numpy()).mean()
        print(f"{label:55s} {fit_s:6.1f} s  mean KS {ks:.3f}  corr diff {corr:.3f}", flush=True)


if __name__ == "__main__":
    main()
