"""Measure candidate settings for the `default` preset on Adult and write docs/default-preset.md.

    python benchmarks/preset_search.py [--data-dir DIR] [--seeds 0] [--out docs/default-preset.md]

Each candidate is a model + preset + overrides; all train on adult.data with the same seed(s)
and are scored with ganforge's fidelity metrics on 10,000 generated rows against the real rows.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from ganforge import Synthesizer, __version__
from ganforge.datasets import load_adult
from ganforge.metrics.fidelity import fidelity

DEEP = [{"width": 256, "activation": "relu", "batchnorm": True, "residual": True}] * 2

CANDIDATES = [
    ("ctgan-like, wcgan, n_critic 1, 10 epochs", "wcgan", "ctgan-like", dict(epochs=10)),
    ("default, wcgan, n_critic 1, 10 epochs", "wcgan", "default", dict(epochs=10, n_critic=1)),
    ("default, wcgan, n_critic 5, 10 epochs", "wcgan", "default", dict(epochs=10, n_critic=5)),
    ("default, wcgan, n_critic 1, 30 epochs", "wcgan", "default", dict(epochs=30, n_critic=1)),
    ("default, wcgan, n_critic 5, 30 epochs", "wcgan", "default", dict(epochs=30, n_critic=5)),
    ("default, cgan, 30 epochs", "cgan", "default", dict(epochs=30)),
    ("default, wcgan, minmax numerics, n_critic 1, 30 epochs", "wcgan", "default",
     dict(epochs=30, n_critic=1, numeric_encoding="minmax")),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--only", default=None, help="comma-separated candidate numbers (1-based)")
    ap.add_argument("--out", default="docs/default-preset.md")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    real = load_adult(args.data_dir)
    chosen = CANDIDATES if not args.only else [CANDIDATES[int(i) - 1] for i in args.only.split(",")]
    rows = []
    for label, model, preset, kw in chosen:
        res = []
        for seed in seeds:
            t0 = time.perf_counter()
            syn = Synthesizer(model, preset, seed=seed, **kw).fit(real, target="income")
            fit_s = time.perf_counter() - t0
            synth = syn.sample(10_000, seed=seed + 1000)
            ref = real.sample(10_000, random_state=seed)
            f = fidelity(ref, synth, syn.schema_)
            res.append((fit_s, f.column_shapes, f.pair_trends, syn.summary()["steps"]))
            print(json.dumps({"candidate": label, "seed": seed, "fit_s": round(fit_s, 1),
                              "column_shapes": round(f.column_shapes, 4), "pair_trends": round(f.pair_trends, 4)}),
                  flush=True)
        a = np.array(res)
        rows.append((label, a[:, 3].mean(), a[:, 0].mean(), a[:, 1].mean(), a[:, 1].std(), a[:, 2].mean(), a[:, 2].std()))
    lines = [
        "# Choosing the `default` preset",
        "",
        f"Command: `python benchmarks/preset_search.py --seeds {args.seeds}` (ganforge {__version__}, torch "
        f"{torch.__version__}, {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads).",
        "Adult (adult.data, 32,561 rows), target income; 10,000 generated rows scored against 10,000 real rows "
        "with `ganforge.metrics.fidelity` (column_shapes = 1 - mean KS/TVD, pair_trends = 1 - mean half "
        "absolute association difference).",
        "",
        "| candidate | steps | fit s | column_shapes | pair_trends |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, steps, fit_s, cs, cs_sd, pt, pt_sd in rows:
        sd = lambda v: f" ± {v:.3f}" if len(seeds) > 1 else ""  # noqa: E731
        lines.append(f"| {label} | {steps:.0f} | {fit_s:.0f} | {cs:.3f}{sd(cs_sd)} | {pt:.3f}{sd(pt_sd)} |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
