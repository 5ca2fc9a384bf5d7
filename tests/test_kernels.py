"""oneDNN for float32 products only where it keeps float32 accuracy, and the user's setting restored."""

import pytest
import torch

from ganforge import kernels


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
    with kernels.cpu_matmul("cpu") as onednn:
        assert onednn == kernels.onednn_is_exact()
        errors = [_relative_error(s) for s in ((100, 1690, 256), (100, 256, 1690), (50, 1690, 256), (2048, 66, 256))]
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
    monkeypatch.setattr(kernels, "_exact", False)
    with kernels.cpu_matmul("cpu") as onednn:
        assert onednn is False and torch.backends.mkldnn.matmul.fp32_precision == before
    monkeypatch.setattr(kernels, "_exact", True)
    with kernels.cpu_matmul("cuda") as onednn:  # no CUDA work is done: the device is only compared
        assert onednn is False and torch.backends.mkldnn.matmul.fp32_precision == before
    monkeypatch.setenv("GANFORGE_ONEDNN", "0")  # the user's way out
    with kernels.cpu_matmul("cpu") as onednn:
        assert onednn is False and torch.backends.mkldnn.matmul.fp32_precision == before


def test_the_setting_is_restored_after_training_and_when_it_fails(monkeypatch, mixture):
    from ganforge import Synthesizer

    before = torch.backends.mkldnn.matmul.fp32_precision
    monkeypatch.setattr(kernels, "_exact", True)
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

        Synthesizer("wcgan", steps=3, batch_size=50, pac=5, seed=0).fit(
            mixture, target="color", quiet=True, callbacks=[Record()])
        assert seen == ["bf16"] * 3  # the steps ran with oneDNN products
        assert torch.backends.mkldnn.matmul.fp32_precision == "ieee"
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = before
