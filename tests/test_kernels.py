"""oneDNN for float32 products only where it keeps float32 accuracy, and the user's setting restored."""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from ganforge.training import kernels

pytestmark = pytest.mark.skipif(not kernels._available(), reason="this PyTorch has no oneDNN precision setting")


@pytest.fixture(autouse=True)
def _no_opt_out(monkeypatch):
    monkeypatch.delenv("GANFORGE_ONEDNN", raising=False)


def _relative_error(shape) -> float:
    m, k, n = shape
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(m, k, generator=g), torch.randn(k, n, generator=g)
    ref = a.double() @ b.double()
    return float(((a @ b).double() - ref).norm() / ref.norm())


def test_products_inside_the_block_keep_float32_accuracy():
    """Whatever the probe decides, the products of the training step's shapes inside the block are
    float32-accurate: a bfloat16 product is off by about 1e-3, a float32 one by about 1e-7."""
    before = torch.backends.mkldnn.matmul.fp32_precision
    shapes = ((50, 1690, 256), (2048, 66, 256))
    with kernels.cpu_matmul("cpu", shapes) as onednn:
        assert onednn == kernels.onednn_is_exact(shapes)
        errors = [_relative_error(s) for s in ((100, 1690, 256), (100, 256, 1690), *shapes)]
        if onednn:
            assert torch.backends.mkldnn.matmul.fp32_precision == "bf16"
    assert max(errors) < kernels.TOLERANCE, errors
    assert torch.backends.mkldnn.matmul.fp32_precision == before


def test_bfloat16_products_fail_the_probe_tolerance():
    """The tolerance tells the two apart: the same products rounded through bfloat16 miss it."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(100, 1690, generator=g), torch.randn(1690, 256, generator=g)
    ref = a.double() @ b.double()
    low = (a.bfloat16().float() @ b.bfloat16().float()).double()
    assert float((low - ref).norm() / ref.norm()) > 10 * kernels.TOLERANCE


def test_a_cpu_that_fails_the_probe_and_other_devices_are_left_alone(monkeypatch):
    before = torch.backends.mkldnn.matmul.fp32_precision
    monkeypatch.setattr(kernels, "onednn_is_exact", lambda shapes=(): False)
    with kernels.cpu_matmul("cpu") as onednn:
        assert onednn is False and torch.backends.mkldnn.matmul.fp32_precision == before
    monkeypatch.setattr(kernels, "onednn_is_exact", lambda shapes=(): True)
    with kernels.cpu_matmul("cuda") as onednn:  # no CUDA work is done: the device is only compared
        assert onednn is False and torch.backends.mkldnn.matmul.fp32_precision == before
    monkeypatch.setenv("GANFORGE_ONEDNN", "0")  # the user's way out
    with kernels.cpu_matmul("cpu") as onednn:
        assert onednn is False and torch.backends.mkldnn.matmul.fp32_precision == before


def test_the_setting_is_restored_after_training_and_when_it_fails(monkeypatch, mixture):
    from ganforge import Synthesizer

    before = torch.backends.mkldnn.matmul.fp32_precision
    monkeypatch.setattr(kernels, "onednn_is_exact", lambda shapes=(): True)
    try:
        torch.backends.mkldnn.matmul.fp32_precision = "ieee"
        with pytest.raises(RuntimeError, match="boom"):
            with kernels.cpu_matmul("cpu"):
                assert torch.backends.mkldnn.matmul.fp32_precision == "bf16"
                raise RuntimeError("boom")
        assert torch.backends.mkldnn.matmul.fp32_precision == "ieee"
        from ganforge.training import Callback

        seen = []

        class Record(Callback):
            def on_step_end(self, trainer, step):
                seen.append(torch.backends.mkldnn.matmul.fp32_precision)

        # a float32 step (a bfloat16 one, what `default` runs on a CPU with bfloat16 hardware, does
        # not route float32 products: tests/test_precision.py)
        Synthesizer("wcgan", steps=3, batch_size=50, pac=5, seed=0, precision="float32").fit(
            mixture, target="color", quiet=True, callbacks=[Record()])
        assert seen == ["bf16"] * 3  # the steps ran with oneDNN products
        assert torch.backends.mkldnn.matmul.fp32_precision == "ieee"
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = before


def test_one_bad_shape_fails_the_probe(monkeypatch):
    """The model's own shapes are probed: one whose product loses accuracy keeps MKL for the fit."""
    monkeypatch.setattr(kernels, "_checked", {**kernels._checked, (7, 7, 7): 3e-3})
    assert not kernels.onednn_is_exact([(7, 7, 7)])
    with kernels.cpu_matmul("cpu", [(7, 7, 7)]) as onednn:
        assert onednn is False


def test_nested_and_overlapping_blocks_restore_the_setting_once(monkeypatch):
    """Two fits at once (threads) must not leave the setting on: it is restored when the last block ends."""
    monkeypatch.setattr(kernels, "onednn_is_exact", lambda shapes=(): True)
    before = torch.backends.mkldnn.matmul.fp32_precision
    a, b = kernels.cpu_matmul("cpu"), kernels.cpu_matmul("cpu")
    a.__enter__()
    b.__enter__()
    a.__exit__(None, None, None)  # the first one ends while the second still runs
    assert torch.backends.mkldnn.matmul.fp32_precision == "bf16"
    b.__exit__(None, None, None)
    assert torch.backends.mkldnn.matmul.fp32_precision == before


def test_linear_shapes_lists_forward_and_both_backward_products():
    net = torch.nn.Sequential(torch.nn.Linear(10, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    assert kernels.linear_shapes(net, [8]) == [
        (8, 10, 4, "forward"), (8, 4, 10, "grad_input"), (4, 8, 10, "grad_weight"),
        (8, 4, 1, "forward"), (8, 1, 4, "grad_input"), (1, 8, 4, "grad_weight")]


def test_the_probe_computes_each_form_as_autograd_does_and_refuses_an_unknown_one():
    """The probe multiplies each form of a linear layer's products in the layout autograd uses for
    it (so that the probe's oneDNN primitives are the ones training reuses, not extra ones)."""

    class Layouts(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.seen = []

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func in (torch.ops.aten.mm.default, torch.ops.aten.addmm.default) and args[-1].dtype == torch.float32:
                mats = args[-2:]  # the float64 reference products are not the ones probed
                self.seen.append((func.__name__.split(".")[0], tuple(tuple(m.shape) for m in mats),
                                  tuple(m.is_contiguous() for m in mats)))
            return func(*args, **(kwargs or {}))

    lin = torch.nn.Linear(6, 3)
    x, up = torch.randn(5, 6, requires_grad=True), torch.randn(5, 3)  # up: the next layer's gradient
    with Layouts() as training:
        (lin(x) * up).sum().backward()
    assert training.seen == [
        ("addmm", ((5, 6), (6, 3)), (True, False)),  # forward: x, W.t() (a transposed view)
        ("mm", ((5, 3), (3, 6)), (True, True)),      # input gradient: g @ W
        ("mm", ((3, 5), (5, 6)), (False, True)),     # weight gradient: g.t() (a view) @ x
    ]
    with Layouts() as probe:
        for product in kernels.linear_shapes(lin, [5]):
            kernels._error(product)
    assert probe.seen == training.seen
    with pytest.raises(ValueError, match="form"):
        kernels._error((2, 2, 2, "sideways"))
