"""Faster float32 matrix products on CPUs where oneDNN computes them in float32.

PyTorch sends float32 matrix products on the CPU to MKL. On the 2-core AMD EPYC development
machine MKL runs some of the training step's thin products (100 packed rows x 256 x 1,690, the
critic's input gradient) at about 160 GFLOP/s, oneDNN at about 210 (``benchmarks/matmul_kernels.py``,
docs/measurements/performance.md). PyTorch routes float32 products to oneDNN only when
``torch.backends.mkldnn.matmul.fp32_precision`` lets oneDNN compute in bfloat16 inside; on a CPU
without the matrix units for that (Intel AMX) oneDNN keeps float32 arithmetic. So the setting is
used only where a probe shows that: the products of the model's own layer shapes (forward and both
backward forms, in the layouts autograd uses) are compared with float64 products (float32 gives a
relative error near 1e-7, bfloat16 near 1e-3); a shape is probed once per process.
``cpu_matmul`` switches the setting on for a block of code where the probe passed, and restores the
user's setting when the last such block ends. ``GANFORGE_ONEDNN=0`` in the environment leaves the
products with PyTorch's default everywhere.

While the setting is on, ``torch.get_float32_matmul_precision()`` raises (PyTorch will not
summarise a mix of its old and new precision settings): a callback that calls it, or compiles a
model during ``fit``, needs ``GANFORGE_ONEDNN=0``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Iterable, Iterator, Union

import torch

from ..config import PRECISIONS

#: relative error (Frobenius) of a float32 product against float64 below which oneDNN is taken to
#: compute in float32; bfloat16 arithmetic gives about 1e-3 on these shapes, float32 about 1e-7
TOLERANCE = 1e-5
#: a product to probe: (rows, inner, columns), optionally with its form (``FORMS``; all three without)
Product = Union[tuple[int, int, int], tuple[int, int, int, str]]
#: products every probe checks: the ctgan-like critic's first layer on 100 packed rows, its input
#: gradient, and a generator layer on a 500-row batch
PROBE_SHAPES = ((100, 1690, 256, "forward"), (100, 256, 1690, "grad_input"), (500, 386, 256, "forward"))

_lock = threading.Lock()
_checked: dict[tuple, float] = {}  # product -> relative error with oneDNN allowed
_depth = 0  # blocks open now (the setting is restored when the last one closes)
_saved: str | None = None


def _available() -> bool:
    mk = getattr(torch.backends, "mkldnn", None)
    return mk is not None and mk.is_available() and hasattr(getattr(mk, "matmul", None), "fp32_precision")


#: the products of a linear layer, as autograd computes them on the CPU (x: rows x in, W: out x in,
#: g: the output's gradient, rows x out): the forward ``addmm(b, x, W.t())``, the input gradient
#: ``g @ W`` and the weight gradient ``g.t() @ x``. The probe computes each form in the layout that
#: training uses, so that its oneDNN primitives are the ones training reuses, not extra ones (each
#: primitive keeps its generated code: probing every shape in every layout held about 75 MB more
#: in an Adult fit). Not covered: the gradient penalty's double backward, which also runs the
#: forward's layout through ``mm`` and two products with a one-column operand, on the same shapes;
#: and a network's first layer gets an input-gradient probe that only the critic's uses
FORMS = ("forward", "grad_input", "grad_weight")


def _error(shape: Product) -> float:
    """Relative error of the product of this shape, ``(rows, inner, columns)`` or ``(rows, inner,
    columns, form)``, with oneDNN allowed (the caller sets it): the form's layout, or all three."""
    m, k, n = shape[:3]
    forms = shape[3:] or FORMS
    g = torch.Generator().manual_seed(0)
    worst = 0.0
    for form in forms:
        if form == "forward":  # x (m x k) times a weight stored as n x k, transposed
            x, y = torch.randn(m, k, generator=g), torch.randn(n, k, generator=g).t()
            got = torch.addmm(torch.zeros(n), x, y)
        elif form == "grad_input":  # g (m x k) times a weight stored as k x n
            x, y = torch.randn(m, k, generator=g), torch.randn(k, n, generator=g)
            got = x @ y
        elif form == "grad_weight":  # g transposed (stored as k x m) times the input (k x n)
            x, y = torch.randn(k, m, generator=g).t(), torch.randn(k, n, generator=g)
            got = x @ y
        else:
            raise ValueError(f"unknown product form {form!r}; choose one of {', '.join(FORMS)}")
        ref = x.double() @ y.double()
        worst = max(worst, float((got.double() - ref).norm() / ref.norm()))
    return worst


def probe_error(shapes: Iterable[Product] = ()) -> float:
    """The largest relative error of the probe products (``PROBE_SHAPES`` and ``shapes``) with oneDNN
    allowed; nan if this PyTorch build has no such setting. Each shape is computed once per process."""
    if not _available():
        return float("nan")
    todo = [tuple(int(v) for v in s[:3]) + tuple(s[3:]) for s in (*PROBE_SHAPES, *shapes)]
    with _lock:
        missing = [s for s in dict.fromkeys(todo) if s not in _checked]
        if missing:
            old = torch.backends.mkldnn.matmul.fp32_precision
            try:
                torch.backends.mkldnn.matmul.fp32_precision = "bf16"
                for s in missing:
                    _checked[s] = _error(s)
            finally:
                torch.backends.mkldnn.matmul.fp32_precision = old
        return max(_checked[s] for s in todo)


def onednn_is_exact(shapes: Iterable[Product] = ()) -> bool:
    """Whether oneDNN's products keep float32 accuracy on this CPU, for the probe's shapes and ``shapes``."""
    err = probe_error(shapes)
    return err == err and err < TOLERANCE


def linear_shapes(module: torch.nn.Module, rows: Iterable[int]) -> list[Product]:
    """The products of ``module``'s linear layers on batches of ``rows`` rows, with their forms: the
    forward (rows x in x out), the input gradient (rows x out x in) and the weight gradient (out x
    rows x in)."""
    out = []
    for lin in (m for m in module.modules() if isinstance(m, torch.nn.Linear)):
        for r in rows:
            i, o = lin.in_features, lin.out_features
            out += [(r, i, o, "forward"), (r, o, i, "grad_input"), (o, r, i, "grad_weight")]
    return out


@contextlib.contextmanager
def cpu_matmul(device: torch.device | str, shapes: Iterable[Product] = ()) -> Iterator[bool]:
    """Within the block, float32 products on the CPU go to oneDNN where ``onednn_is_exact(shapes)``;
    yields whether they do. Other devices, and CPUs that fail the probe, are left as they are."""
    global _depth, _saved
    if (torch.device(device).type != "cpu" or os.environ.get("GANFORGE_ONEDNN", "1").strip() == "0"
            or not onednn_is_exact(shapes)):
        yield False
        return
    with _lock:
        if _depth == 0:
            _saved = torch.backends.mkldnn.matmul.fp32_precision
            torch.backends.mkldnn.matmul.fp32_precision = "bf16"
        _depth += 1
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                torch.backends.mkldnn.matmul.fp32_precision = _saved


# --- training precision -----------------------------------------------------------------------------


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AVX512-BF16 or AMX). Without it
    PyTorch emulates bfloat16 products, slower than float32 ones. Read from the CPU's feature flags,
    so the answer (and with it a run's arithmetic) does not depend on timing."""
    for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        fn = getattr(torch.cpu, name, None)
        try:
            if fn is not None and fn():
                return True
        except Exception:  # a private PyTorch function: its absence or failure means "no"
            pass
    return False


def resolve_precision(setting: str, device: torch.device | str) -> str:
    """The training step's arithmetic for ``precision=setting`` on ``device``: "float32" and
    "bfloat16" as given; "auto" is bfloat16 on a CPU with bfloat16 products in hardware (on the
    2-core AMD EPYC development machine the step's products run about twice as fast, and Adult's
    figures stay within the seed spread: docs/measurements/performance.md), float32 elsewhere, CUDA included
    (not yet measured there)."""
    if setting not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {setting!r}")
    if setting != "auto":
        return setting
    return "bfloat16" if torch.device(device).type == "cpu" and cpu_has_bf16() else "float32"


def resolve_device(name: str) -> torch.device:
    """``auto`` (a CUDA GPU when there is one, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``."""
    from ..errors import ConfigError

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but no CUDA GPU is available: use `device`=cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}: use auto, cpu or cuda") from None
