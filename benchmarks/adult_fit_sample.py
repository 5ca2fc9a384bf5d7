"""`ganforge fit` then `ganforge sample` on Adult through the CLI, checked and measured.

    python benchmarks/adult_fit_sample.py [--epochs 30] [--model wcgan] [--out docs/measurements/adult-fit-sample.md]

Writes adult.data to a CSV, runs the two commands as a user would, then checks the synthetic
table (columns, dtypes, category sets, integer values, bounds, missing rates) and scores its
fidelity against the real rows.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ganforge.datasets import load_adult
from ganforge.io import read_table
from ganforge.metrics.fidelity import fidelity
from ganforge.synthesizer import Synthesizer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--epochs", type=float, default=30)
    ap.add_argument("--model", default="wcgan")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default="docs/measurements/adult-fit-sample.md")
    ap.add_argument("--workdir", default=None, help="keep adult.csv, adult_test.csv, adult.gfm and synthetic.csv here")
    args = ap.parse_args()
    real = load_adult(args.data_dir)
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(args.workdir or scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        real.to_csv(tmp / "adult.csv", index=False)
        load_adult(args.data_dir, split="test").to_csv(tmp / "adult_test.csv", index=False)
        # the interpreter running this script, so that its ganforge runs whether or not a venv is active
        cmd_fit = [sys.executable, "-m", "ganforge", "fit", str(tmp / "adult.csv"), "--model", args.model, "--preset", args.preset,
                   "--target", "income", "--epochs", str(args.epochs), "--seed", "0", "-q", "-o", str(tmp / "adult.gfm")]
        t0 = time.perf_counter()
        subprocess.run(cmd_fit, check=True)
        fit_wall = time.perf_counter() - t0
        cmd_sample = [sys.executable, "-m", "ganforge", "sample", str(tmp / "adult.gfm"), "-n", str(len(real)), "--seed", "1",
                      "-o", str(tmp / "synthetic.csv")]
        t0 = time.perf_counter()
        subprocess.run(cmd_sample, check=True)
        sample_wall = time.perf_counter() - t0
        syn = Synthesizer.load(tmp / "adult.gfm", device="cpu")
        back = read_table(tmp / "adult.csv")
        fake = read_table(tmp / "synthetic.csv")
    checks = {
        "same columns in the same order": list(fake.columns) == list(back.columns),
        "same dtypes": all(fake[c].dtype == back[c].dtype for c in back.columns),
        "category sets within the real ones": all(set(fake[c].dropna()) <= set(back[c].dropna())
                                                  for c in back.columns if back[c].dtype.kind not in "iuf"),
        "integers are integers": all(fake[c].dtype.kind == "i" for c in back.columns if back[c].dtype.kind == "i"),
        "numbers within observed bounds": all(fake[c].min() >= back[c].min() and fake[c].max() <= back[c].max()
                                              for c in back.columns if back[c].dtype.kind in "iuf"),
    }
    f = fidelity(back, fake, syn.schema_)
    s = syn.summary()
    lines = [
        f"# Adult: `ganforge fit` ({args.model}, preset {args.preset}) then `ganforge sample`",
        "",
        f"Command: `python benchmarks/adult_fit_sample.py --epochs {args.epochs:g} --model {args.model}` "
        f"(2 CPU cores). The script runs, as a user would:",
        "",
        "```",
        " ".join(["ganforge", "fit", "adult.csv", "--model", args.model, "--preset", args.preset, "--target", "income",
                  "--epochs", f"{args.epochs:g}", "--seed", "0", "-o", "adult.gfm"]),
        f"ganforge sample adult.gfm -n {len(real)} --seed 1 -o synthetic.csv",
        "```",
        "",
        f"- fit: {fit_wall:.1f} s wall for the command ({s['steps']} generator steps; encoder fit "
        f"{s['encoder_fit_seconds']:.1f} s, training {s['train_seconds']:.1f} s)",
        f"- sample: {sample_wall:.1f} s wall for {len(real):,} rows, process start and model load included",
        f"- column_shapes {f.column_shapes:.3f}, pair_trends {f.pair_trends:.3f} (synthetic vs all real rows)",
        "",
        "| check | result |", "|---|---|",
        *[f"| {k} | {'yes' if v else 'NO'} |" for k, v in checks.items()],
        "",
        "| column | kind | KS / TVD | missing real | missing synthetic |", "|---|---|---:|---:|---:|",
        *[f"| {c.column} | {c.kind} | {c.value:.3f} ({c.statistic}) | {c.missing_real:.3%} | {c.missing_synthetic:.3%} |"
          for c in f.columns],
    ]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
