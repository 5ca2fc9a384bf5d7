"""Time one training step on Adult (the method of docs/measurements/performance.md's interleaved runs).

    python benchmarks/step_time.py [--preset ctgan-like] [--steps 500] [--threads 2] [--profile] [--set KEY=VALUE ...]
    python benchmarks/step_time.py --compare-precision [--windows 16]

Builds the wcgan networks of a preset on adult.data, makes 30 warm-up steps of the real Trainer,
then times ``--steps`` more in 50-step windows and prints the median and fastest window in ms per
step (this machine's speed drifts by tens of percent within an hour, so compare two versions of the
code by running this for each, one after the other, several times; ``PYTHONPATH=OTHER/src`` picks
the other checkout; ``--set reuse_fakes=false`` changes an option of the preset). ``--profile`` adds
torch.profiler's table of 50 steps by self CPU time. ``--flops`` counts the floating-point operations
of the matrix products of ten steps (torch.profiler's estimate for every ``mm`` / ``addmm`` call:
forward, backward and the penalty's double backward) and times this machine's matrix product on the
step's first shape (the generator's first layer on one batch), to print the step's arithmetic limit
and the fraction of it reached. The steps run inside ``ganforge.kernels.cpu_matmul`` as in
``Trainer.fit`` (float32 products through oneDNN where it keeps float32 accuracy); ``--mkl`` leaves
them with PyTorch's default (MKL) for comparison. ``--compare-precision`` alternates 50-step windows
of float32 and bfloat16 steps (the ``precision`` option) in one process, the same networks
training on, and prints each one's median and fastest window: the machine's drift then falls on
both alike.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from pathlib import Path

import torch

from ganforge import Synthesizer, datasets
from ganforge.training import kernels

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adult_pair_gap import overrides  # noqa: E402
from matmul_kernels import rate as product_rate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="ctgan-like")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--flops", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a preset override (JSON value)")
    ap.add_argument("--mkl", action="store_true", help="products through MKL, not oneDNN (what fit did before)")
    ap.add_argument("--compare-precision", action="store_true",
                    help="alternate float32 and bfloat16 windows in one process")
    ap.add_argument("--windows", type=int, default=16, help="with --compare-precision: windows of each")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    if args.steps < 50:
        ap.error("--steps must be at least 50 (one window)")
    torch.set_num_threads(args.threads)
    syn = Synthesizer("wcgan", args.preset, steps=1, seed=0, device="cpu", **overrides(args.set))
    syn.fit(datasets.load_adult(args.data_dir), target="income", quiet=True)
    with contextlib.nullcontext(False) if args.mkl else kernels.cpu_matmul("cpu") as onednn:
        if args.compare_precision:
            compare_precision(args, syn.trainer_)
        else:
            run(args, syn.trainer_, onednn)


def warm_up(tr) -> None:
    """Training mode and 30 steps before anything is timed."""
    tr.family.train(True)
    for _ in range(30):
        tr.train_step()


def window(tr, steps: int = 50) -> float:
    """Seconds per step over ``steps`` steps."""
    t = time.perf_counter()
    for _ in range(steps):
        tr.train_step()
    return (time.perf_counter() - t) / steps


def compare_precision(args, tr) -> None:
    warm_up(tr)
    times: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    for _ in range(args.windows):
        for p in times:
            tr.family.precision = p
            times[p].append(window(tr))
    for p, w in times.items():
        print(f"{args.preset}, {p}: median {statistics.median(w) * 1e3:.1f} ms/step (fastest window "
              f"{min(w) * 1e3:.1f}), {tr.family.batch_size / statistics.median(w):,.0f} rows/s")
    print(f"bfloat16 / float32, median: {statistics.median(times['bfloat16']) / statistics.median(times['float32']):.3f}")


def run(args, tr, onednn: bool) -> None:
    warm_up(tr)
    windows = [window(tr) for _ in range(args.steps // 50)]
    med = statistics.median(windows)
    print(f"{args.preset}: median {med * 1e3:.1f} ms/step (fastest window {min(windows) * 1e3:.1f}), "
          f"{tr.family.batch_size / med:,.0f} rows/s, {tr.family.n_critic} critic step(s) per step, "
          f"products through {'oneDNN' if onednn else 'MKL'}, {tr.family.precision}")
    if args.flops:
        flops(tr, med)
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as p:
            for _ in range(50):
                tr.train_step()
        print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=25))


def flops(tr, seconds_per_step: float) -> None:
    """FLOPs of one step, and the step time they would take at this machine's matrix-product rate."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as p:
        for _ in range(10):
            tr.train_step()
    total = sum(e.flops for e in p.key_averages()) / 10
    # the rate of the step's first product: the generator's first layer on one batch (rows x input x width)
    first = next(m for m in tr.family.generator.modules() if isinstance(m, torch.nn.Linear))
    a, b = torch.randn(tr.family.batch_size, first.in_features), torch.randn(first.in_features, first.out_features)
    rate = product_rate(a, b, reps=500) * 1e9
    limit = total / rate
    print(f"{total / 1e9:.2f} GFLOP per step; matrix product {tuple(a.shape)} x {tuple(b.shape)} at "
          f"{rate / 1e9:.0f} GFLOP/s -> arithmetic limit {limit * 1e3:.1f} ms per step; measured "
          f"{seconds_per_step * 1e3:.1f} ms = {seconds_per_step / limit:.2f}x the limit "
          f"({total / seconds_per_step / 1e9:.0f} GFLOP/s)")


if __name__ == "__main__":
    main()
