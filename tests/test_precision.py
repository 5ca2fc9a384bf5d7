"""Mixed precision for the training step (``precision``): bfloat16 matrix products under autocast,
float32 weights, optimiser state, critic scores and sampling."""

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from conftest import SMALL, adversarial_trainer, fidelity_ok, four_gaussians
from ganforge import Synthesizer
from ganforge.encoding.base import Span
from ganforge.errors import ConfigError
from ganforge.models.networks import Discriminator, Generator
from ganforge.training import kernels


def test_auto_is_bfloat16_only_on_a_cpu_that_multiplies_bfloat16_in_hardware(monkeypatch):
    monkeypatch.setattr(kernels, "cpu_has_bf16", lambda: True)
    assert kernels.resolve_precision("auto", "cpu") == "bfloat16"
    assert kernels.resolve_precision("auto", "cuda") == "float32"  # not measured on a GPU yet
    monkeypatch.setattr(kernels, "cpu_has_bf16", lambda: False)
    assert kernels.resolve_precision("auto", "cpu") == "float32"
    for given in ("float32", "bfloat16"):  # what is asked for is what runs
        assert kernels.resolve_precision(given, "cpu") == given
    with pytest.raises(ValueError, match="precision"):
        kernels.resolve_precision("float16", "cpu")


def test_cpu_feature_check_says_no_when_pytorch_cannot_tell(monkeypatch):
    assert isinstance(kernels.cpu_has_bf16(), bool)

    def broken():
        raise RuntimeError("no cpuinfo")

    for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        monkeypatch.setattr(torch.cpu, name, broken, raising=False)
    assert kernels.cpu_has_bf16() is False


def _trainer(precision: str, private=None):
    real = torch.rand(40, 5) * 2 - 1

    class Source:
        def sample(self, n):
            return real[:n], None

    torch.manual_seed(0)
    gen = Generator(8, 0, [{"width": 16, "activation": "relu", "batchnorm": True, "residual": True}],
                    [Span(2, "tanh"), Span(3, "gumbel")])
    disc = Discriminator(5, 0, [{"width": 16, "activation": "leaky_relu", "dropout": 0.25}], pac=2)
    return adversarial_trainer(gen, disc, Source(), log_every=1, batch_size=40, n_critic=2, precision=precision,
                               private=private)


@pytest.mark.parametrize("precision,dtype", [("float32", torch.float32), ("bfloat16", torch.bfloat16)])
def test_the_step_multiplies_in_the_chosen_precision_and_keeps_float32_state(precision, dtype, monkeypatch):
    tr = _trainer(precision)
    seen = []
    heads, scores = [], []
    hooks = [m.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
             for net in (tr.family.generator, tr.family.discriminator) for m in net.modules() if isinstance(m, torch.nn.Linear)]
    hooks.append(tr.family.generator.head.register_forward_hook(lambda m, i, o: heads.append(o.dtype)))
    hooks.append(tr.family.discriminator.register_forward_hook(lambda m, i, o: scores.append(o.dtype)))
    noise, draw = [], tr.family.generator.head.gumbel_noise
    tr.family.generator.head.gumbel_noise = lambda n, device, dtype, generator=None: noise.append(dtype) or draw(
        n, device, dtype, generator)
    products, probed, probing, cpu_matmul, error = [], [], [], kernels.cpu_matmul, kernels._error

    class Products(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func in (torch.ops.aten.mm.default, torch.ops.aten.addmm.default) and not probing:
                products.append(args[-1].dtype)
            return func(*args, **(kwargs or {}))

    monkeypatch.setattr(kernels, "cpu_matmul", lambda *a: probed.append(a) or cpu_matmul(*a))
    monkeypatch.setattr(kernels, "_error", lambda shape: probing.append(shape) or (error(shape), probing.clear())[0])
    monkeypatch.setattr(kernels, "_checked", {})  # probed in this process already or not, probe again
    with Products():
        tr.fit(3)
    for h in hooks:
        h.remove()
    # every linear layer of both networks, in the critic steps, the penalty and the generator step
    assert seen and set(seen) == {dtype}
    # every matrix product, backward passes and the penalty's double backward included; so the
    # float32 products' oneDNN probe runs only for a float32 step (it would compile products that a
    # bfloat16 step never runs)
    assert products and set(products) == {dtype}
    assert len(probed) == (precision == "float32")
    # the generator's output head (its Gumbel noise: bfloat16 uniforms would cut its tail off at
    # about 5.5) and the critic's scores stay float32
    assert set(noise) == set(heads) == set(scores) == {torch.float32}
    for net in (tr.family.generator, tr.family.discriminator):
        assert all(p.dtype == torch.float32 for p in net.parameters())
    for opt in (tr.family.opt_g, tr.family.opt_d):
        assert all(v.dtype == torch.float32 for st in opt.state.values() for k, v in st.items() if k != "step")
    assert len(tr.history) == 3 and all(isinstance(r["d_loss"], float) for r in tr.history)
    # outside the step (sampling, quality monitoring) the networks compute in float32
    with torch.no_grad():
        assert tr.family.generator.eval()(torch.randn(4, 8)).dtype == torch.float32


def test_every_bfloat16_forward_uses_the_weights_of_that_moment():
    """autocast keeps its bfloat16 copies of the weights until its region ends: a region spanning
    several updates would multiply by weights from before them. Each linear layer's output must be
    the product of its input with its weights as they are when it runs."""
    tr = _trainer("bfloat16")
    worst = []

    def check(m, inputs, out):
        with torch.autocast("cpu", enabled=False):
            bf = torch.bfloat16
            ref = torch.nn.functional.linear(inputs[0].detach().to(bf), m.weight.detach().to(bf), m.bias.detach().to(bf))
        worst.append(float((out.detach().float() - ref.float()).abs().max() / ref.float().abs().max()))

    hooks = [m.register_forward_hook(check) for net in (tr.family.generator, tr.family.discriminator)
             for m in net.modules() if isinstance(m, torch.nn.Linear)]
    # large updates, so that stale weights would show
    for opt in (tr.family.opt_g, tr.family.opt_d):
        for g in opt.param_groups:
            g["lr"] = 0.05
    tr.fit(4)
    for h in hooks:
        h.remove()
    # bfloat16 products of the same operands agree to rounding; weights one update old are ~5% off
    assert len(worst) > 20 and max(worst) < 1e-2, max(worst)


def test_a_private_critic_refuses_bfloat16():
    with pytest.raises(ValueError, match="float32"):
        _trainer("bfloat16", private=object())


@pytest.mark.slow
def test_bfloat16_training_learns_the_four_gaussians():
    """The same budget as tests/test_models.py's wcgan, in bfloat16: marginals, centres and the
    colour of each centre (fidelity_ok fails an untrained generator and one that ignores the colour)."""
    df = four_gaussians()
    syn = Synthesizer("wcgan", "default", steps=1500, seed=0, n_critic=2, precision="bfloat16", **SMALL).fit(
        df, target="color")
    assert syn.summary()["precision"] == "bfloat16"
    ok, figures = fidelity_ok(df, syn.sample(4000, seed=1))
    assert ok, figures


@pytest.mark.parametrize("bad", ["float16", "half", 16, True])
def test_precision_must_be_one_of_the_three(bad):
    with pytest.raises(ConfigError, match="precision must be one of auto, float32, bfloat16"):
        Synthesizer("wcgan", precision=bad)


def test_a_model_file_from_before_the_option_loads_as_trained_in_float32(tmp_path):
    from ganforge import modelfile

    df = four_gaussians(500)
    Synthesizer("wcgan", steps=3, seed=0, precision="auto", **SMALL).fit(df, target="color").save(tmp_path / "m.gfm")
    tensors, meta = modelfile.load(tmp_path / "m.gfm", kind="model")
    assert meta["training"]["precision"] in ("float32", "bfloat16")  # what "auto" ran, recorded
    again = Synthesizer.load(tmp_path / "m.gfm", device="cpu")
    assert again.summary()["precision"] == meta["training"]["precision"]
    del meta["config"]["precision"], meta["training"]["precision"]
    modelfile.save(tmp_path / "old.gfm", tensors, meta, kind="model")
    old = Synthesizer.load(tmp_path / "old.gfm", device="cpu")
    assert old.config["precision"] == "float32" and old.summary()["precision"] == "float32"
    assert len(old.sample(50, seed=0)) == 50
