"""Time one training step on Adult (the method of docs/performance.md's interleaved runs).

    python benchmarks/step_time.py [--preset ctgan-like] [--steps 500] [--threads 2] [--profile] [--set KEY=VALUE ...]

Builds the wcgan networks of a preset on adult.data, makes 30 warm-up steps of the real Trainer,
then times ``--steps`` more in 50-step windows and prints the median and fastest window in ms per
step (this machine's speed drifts by tens of percent within an hour, so compare two versions of the
code by running this for each, one after the other, several times; ``PYTHONPATH=OTHER/src`` picks
the other checkout; ``--set reuse_fakes=false`` changes an option of the preset). ``--profile`` adds
torch.profiler's table of 50 steps by self CPU time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from ganforge import Synthesizer, datasets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adult_pair_gap import overrides  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="ctgan-like")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a preset override (JSON value)")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    if args.steps < 50:
        ap.error("--steps must be at least 50 (one window)")
    torch.set_num_threads(args.threads)
    syn = Synthesizer("wcgan", args.preset, steps=1, seed=0, device="cpu", **overrides(args.set))
    syn.fit(datasets.load_adult(args.data_dir), target="income", quiet=True)
    tr = syn.trainer_
    tr.generator.train()
    tr.discriminator.train()
    for _ in range(30):
        tr.train_step()
    windows = []
    for _ in range(args.steps // 50):
        t = time.perf_counter()
        for _ in range(50):
            tr.train_step()
        windows.append((time.perf_counter() - t) / 50)
    med = statistics.median(windows)
    print(f"{args.preset}: median {med * 1e3:.1f} ms/step (fastest window {min(windows) * 1e3:.1f}), "
          f"{tr.config.batch_size / med:,.0f} rows/s, {tr.config.n_critic} critic step(s) per step")
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as p:
            for _ in range(50):
                tr.train_step()
        print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


if __name__ == "__main__":
    main()
