"""MKL against oneDNN on the training step's float32 matrix products (docs/measurements/performance.md).

    python benchmarks/matmul_kernels.py [--threads 2] [--rounds 2] [--reps 200]

For each shape (rows x inner x columns) prints the GFLOP/s of ``a @ b`` with PyTorch's default
routing (MKL) and inside ``ganforge.kernels.cpu_matmul`` (oneDNN where the probe passed), in
alternating rounds, and each product's relative error against a float64 product.
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch

from ganforge.training import kernels

SHAPES = ((500, 130, 256), (500, 386, 256), (100, 1690, 256), (100, 256, 1690), (1690, 100, 256))


def rate(a: torch.Tensor, b: torch.Tensor, reps: int) -> float:
    """GFLOP/s of ``a @ b`` over ``reps`` products after 20 warm-up ones (also step_time.py's reference)."""
    for _ in range(20):
        a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * a.shape[0] * a.shape[1] * b.shape[1] * reps / (time.perf_counter() - t) / 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--reps", type=int, default=200)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"oneDNN keeps float32 accuracy here: {kernels.onednn_is_exact()} "
          f"(probe's relative error {kernels.probe_error():.1e}, tolerance {kernels.TOLERANCE:.0e})")
    g = torch.Generator().manual_seed(0)
    mats = {s: (torch.randn(s[0], s[1], generator=g), torch.randn(s[1], s[2], generator=g)) for s in SHAPES}
    for r in range(args.rounds):
        for label in ("MKL", "oneDNN"):
            ctx = kernels.cpu_matmul("cpu") if label == "oneDNN" else contextlib.nullcontext(False)
            with ctx as on:
                if label == "oneDNN" and not on:
                    label = "MKL (oneDNN refused: probe failed or GANFORGE_ONEDNN=0)"
                cells = []
                for s, (a, b) in mats.items():
                    ref = a.double() @ b.double()
                    err = float(((a @ b).double() - ref).norm() / ref.norm())
                    cells.append(f"{s[0]}x{s[1]}x{s[2]} {rate(a, b, args.reps):.0f} GFLOP/s (err {err:.0e})")
            print(f"round {r + 1} {label:6s}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
