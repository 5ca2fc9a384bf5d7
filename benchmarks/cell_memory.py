"""Peak and current RSS after each phase of one ganforge cell of compare_ctgan.py, to find which
phase (or which commit, run from a checkout of it) a change in the cell's peak RSS comes from.

    python benchmarks/cell_memory.py [--dataset adult] [--preset ctgan-like] [--epochs 3]

Phases, as the cell runs them: imports, reading the data, fit, 200,000 rows to Parquet, 200,000
rows into memory, as many rows as the training table, the evaluation.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _phases import peak_rss_mb  # noqa: E402


def rss(phase: str) -> None:
    peak = peak_rss_mb()
    with open("/proc/self/statm") as f:
        now = int(f.read().split()[1]) * resource.getpagesize() / 2**20
    print(f"{phase:14s} peak {peak:6.0f} MB   now {now:6.0f} MB   {time.strftime('%H:%M:%S')}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="adult", choices=("adult", "pima", "german", "fraud"))
    ap.add_argument("--preset", default="ctgan-like")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    rss("start")
    import torch

    torch.set_num_threads(args.threads)
    from compare_ctgan import split

    from ganforge import Synthesizer, evaluate
    from ganforge.io import write_table
    from ganforge.schema import infer_schema

    rss("imports")
    train, test, target = split(args.dataset, args.data_dir)
    schema = infer_schema(train, target=target)
    rss("data")
    syn = Synthesizer("wcgan", args.preset, seed=0, device="cpu", epochs=args.epochs).fit(train, target=target)
    rss("fit")
    with tempfile.TemporaryDirectory() as tmp:
        write_table(syn.iter_sample(200_000, seed=2), Path(tmp) / "big.parquet")
    rss("to Parquet")
    syn.sample(200_000, seed=1)
    rss("sample")
    synth = syn.sample(len(train), seed=1)[list(train.columns)]
    rss("sample n")
    evaluate(train, synth, test=test, target=target, schema=schema, seed=0, tsne=False,
             utility_classifiers=("logistic_regression", "xgboost"))
    rss("evaluation")


if __name__ == "__main__":
    main()
