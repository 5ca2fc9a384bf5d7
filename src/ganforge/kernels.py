"""Faster float32 matrix products on CPUs where oneDNN computes them in float32.

PyTorch sends float32 matrix products on the CPU to MKL. On the 2-core AMD EPYC development
machine MKL runs the critic's thin products (100 packed rows x 1,690 x 256, and back) at 110-180
GFLOP/s, oneDNN at 205-215 (docs/performance.md). PyTorch routes float32 products to oneDNN only
when ``torch.backends.mkldnn.matmul.fp32_precision`` lets oneDNN compute in bfloat16 inside; on a
CPU without the matrix units for that (Intel AMX) oneDNN keeps float32 arithmetic. So the setting
is used only where a probe shows that: ``onednn_is_exact()`` multiplies a few matrices of the
training step's shapes once per process and compares them with float64 products (float32 gives a
relative error near 1e-7, bfloat16 near 1e-3). ``cpu_matmul`` switches the setting on for a block of
code where the probe passed, and restores the user's setting after. ``GANFORGE_ONEDNN=0`` in the
environment leaves the products with PyTorch's default everywhere.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Iterator

import torch

#: relative error (Frobenius) of a float32 product against float64 below which oneDNN is taken to
#: compute in float32; bfloat16 arithmetic gives about 1e-3 on these shapes, float32 about 1e-7
TOLERANCE = 1e-5
#: (rows, inner, columns) of products the probe checks: the critic's first layer on 100 packed rows,
#: its input gradient, and a generator layer on a 500-row batch
PROBE_SHAPES = ((100, 1690, 256), (100, 256, 1690), (500, 386, 256))

_lock = threading.Lock()
_exact: bool | None = None


def _available() -> bool:
    mk = getattr(torch.backends, "mkldnn", None)
    return (mk is not None and mk.is_available() and hasattr(getattr(mk, "matmul", None), "fp32_precision"))


def probe_error() -> float:
    """The largest relative error of the probe products with oneDNN allowed (nan if the setting
    does not exist in this PyTorch build)."""
    if not _available():
        return float("nan")
    g = torch.Generator().manual_seed(0)
    old = torch.backends.mkldnn.matmul.fp32_precision
    worst = 0.0
    try:
        torch.backends.mkldnn.matmul.fp32_precision = "bf16"
        for m, k, n in PROBE_SHAPES:
            a = torch.randn(m, k, generator=g)
            b = torch.randn(k, n, generator=g)
            ref = a.double() @ b.double()
            for got in (a @ b, torch.addmm(torch.zeros(n), a, b)):
                worst = max(worst, float((got.double() - ref).norm() / ref.norm()))
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = old
    return worst


def onednn_is_exact() -> bool:
    """Whether oneDNN's products keep float32 accuracy on this CPU (probed once per process)."""
    global _exact
    with _lock:
        if _exact is None:
            err = probe_error()
            _exact = bool(err == err and err < TOLERANCE)
        return _exact


@contextlib.contextmanager
def cpu_matmul(device: torch.device | str) -> Iterator[bool]:
    """Within the block, float32 products on the CPU go to oneDNN where ``onednn_is_exact()``;
    yields whether they do. Other devices, and CPUs that fail the probe, are left as they are."""
    if (torch.device(device).type != "cpu" or os.environ.get("GANFORGE_ONEDNN", "1").strip() == "0"
            or not onednn_is_exact()):
        yield False
        return
    old = torch.backends.mkldnn.matmul.fp32_precision
    torch.backends.mkldnn.matmul.fp32_precision = "bf16"
    try:
        yield True
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = old
