"""Each GAN family learns a simple table; a generator that outputs noise fails the same check."""

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL, adversarial_trainer, fidelity_ok, four_gaussians
from ganforge import Synthesizer
from ganforge.errors import ConfigError
from ganforge.config import Config
from ganforge.models import MODELS, PRESETS


@pytest.fixture(scope="module")
def trained(mixture):
    out = {}
    for name in ("gan", "cgan", "wgan", "wcgan"):
        n_critic = {} if MODELS[name]["loss"] == "bce" else {"n_critic": 2}
        out[name] = Synthesizer(name, "default", steps=1500, seed=0, **SMALL, **n_critic).fit(
            mixture, target="color")
    # ctgan-like's step: one critic step, the generator step on the critic step's fake rows
    out["wcgan-reuse"] = Synthesizer("wcgan", "default", steps=1500, seed=0, n_critic=1, reuse_fakes=True,
                                     **SMALL).fit(mixture, target="color")
    # the penalty on one critic step in four, at four times the weight
    out["wcgan-lazy-gp"] = Synthesizer("wcgan", "default", steps=1500, seed=0, n_critic=2, gp_every=4,
                                       **SMALL).fit(mixture, target="color")
    return out


@pytest.mark.parametrize("name", ["gan", "cgan", "wgan", "wcgan", "wcgan-reuse", "wcgan-lazy-gp"])
@pytest.mark.slow
def test_model_learns_four_gaussians(trained, mixture, name):
    ok, figures = fidelity_ok(mixture, trained[name].sample(4000, seed=1))
    assert ok, figures


def test_untrained_generator_and_noise_fail_the_same_check(mixture):
    untrained = Synthesizer("wcgan", "default", steps=1, seed=0, **SMALL).fit(mixture, target="color")
    ok, figures = fidelity_ok(mixture, untrained.sample(4000, seed=1))
    assert not ok, figures
    rng = np.random.default_rng(0)
    noise = pd.DataFrame({"x": rng.uniform(mixture.x.min(), mixture.x.max(), 4000),
                          "y": rng.uniform(mixture.y.min(), mixture.y.max(), 4000),
                          "color": rng.choice(["red", "green", "blue"], 4000, p=[0.5, 0.25, 0.25])})
    ok, figures = fidelity_ok(mixture, noise)
    assert not ok, figures


@pytest.mark.slow
def test_conditional_sampling_gives_only_that_label_and_moves_the_feature(trained, mixture):
    syn = trained["wcgan"]
    for label in ("red", "green", "blue"):
        s = syn.sample(1000, condition={"color": label}, seed=2)
        assert (s["color"] == label).all()
    # red rows sit at x = -4 and -1, green ones at x = +2: the conditional mean must follow
    red = syn.sample(1000, condition={"color": "red"}, seed=3)["x"].mean()
    green = syn.sample(1000, condition={"color": "green"}, seed=3)["x"].mean()
    real_red = mixture.loc[mixture.color == "red", "x"].mean()
    real_green = mixture.loc[mixture.color == "green", "x"].mean()
    assert abs(red - real_red) < 0.75 and abs(green - real_green) < 0.75
    assert green - red > 3.0


@pytest.mark.slow
def test_label_proportions(trained):
    s = trained["cgan"].sample(1000, condition={"color": {"red": 0.2, "blue": 0.8}}, seed=0)
    assert (s["color"].value_counts() == pd.Series({"blue": 800, "red": 200})).all()


@pytest.mark.slow
def test_kmeans_pseudo_labels_condition_the_model():
    df = four_gaussians(2000).drop(columns="color")
    syn = Synthesizer("cgan", "default", steps=300, seed=0, **SMALL).fit(df, condition_on="kmeans:4")
    assert syn.condition_["kind"] == "kmeans" and len(syn.condition_["categories"]) == 4
    a = syn.sample(500, condition={"cluster": 0}, seed=0)
    assert list(a.columns) == ["x", "y"]


def test_presets_and_models_resolve():
    for model in MODELS:
        for preset in PRESETS:
            cfg = Config.build(model, preset)
            assert cfg.loss == MODELS[model]["loss"] and cfg["loss"] == cfg.loss
    assert Config.build("wgan", "pima-paper").training.n_critic == 5
    assert Config.build("wgan", "pima-paper")["gp_lambda"] == 10.0
    with pytest.raises(ConfigError, match="unknown model"):
        Config.build("vae")
    with pytest.raises(ConfigError, match="unknown option"):
        Config.build("gan", latnt_dim=3)
    with pytest.raises(ConfigError, match="multiple of pac"):
        Config.build("gan", batch_size=55, pac=10)
    assert Config.build("wcgan", "ctgan-like").training.reuse_fakes is True
    assert Config.build("wcgan", "default").training.reuse_fakes is False
    with pytest.raises(ConfigError, match="reuse_fakes must be true or false, got 'yes'"):
        Config.build("wcgan", reuse_fakes="yes")
    assert Config.build("wcgan", "ctgan-like").training.gp_every == 1
    for bad in (0, 2.5, "4", True):
        with pytest.raises(ConfigError, match="gp_every must be a whole number >= 1"):
            Config.build("wcgan", gp_every=bad)
    with pytest.raises(ConfigError, match="ema_decay must be a number in"):
        Config.build("wcgan", ema_decay=1.0)


def test_the_configuration_is_one_typed_object_that_a_model_file_round_trips():
    cfg = Config.build("wcgan", "default", epochs=7, gumbel_tau=0.5, seed=3)
    assert (cfg.training.epochs, cfg.encoding.gumbel_tau, cfg.runtime.seed) == (7, 0.5, 3)
    assert cfg.training.steps is None and Config.build("wcgan", steps=10).training.epochs is None
    back = Config.from_flat(cfg.flat())
    assert back == cfg
    # a file written before the options existed gets the values it was trained with
    old = {k: v for k, v in cfg.flat().items() if k not in ("derive_columns", "classifier_weight", "precision")}
    assert Config.from_flat(old).encoding.derive_columns is False
    assert Config.from_flat(old).training.precision == "float32"
    assert cfg.replace(batch_size=100).training.batch_size == 100 and cfg.training.batch_size == 500
    with pytest.raises(ConfigError, match="batch_size"):
        cfg.replace(batch_size=0)


def test_conditional_model_without_label_is_a_clear_error(mixture):
    with pytest.raises(ConfigError, match="pass target"):
        Synthesizer("wcgan", steps=1).fit(mixture)


def _head_reference(x, spans, noise):
    """The output head span by span, written plainly (the vectorised head must match it)."""
    import torch

    out, start = [], 0
    for s in spans:
        v = x[:, start:start + s.width]
        if s.activation == "tanh":
            v = torch.tanh(v)
        elif s.activation == "sigmoid":
            v = torch.sigmoid(v)
        elif s.activation == "softmax":
            v = torch.softmax(v, dim=1)
        elif s.activation == "gumbel":
            v = torch.softmax((v + noise[:, start:start + s.width]) / s.tau, dim=1)
        out.append(v)
        start += s.width
    return torch.cat(out, dim=1)


def test_output_head_matches_span_by_span_and_its_gradients_are_exact():
    import torch

    from ganforge.encoding.base import Span
    from ganforge.models.networks import OutputHead

    spans = [Span(1, "tanh"), Span(3, "softmax"), Span(2, "tanh"), Span(1, "sigmoid"), Span(3, "softmax"),
             Span(4, "softmax"), Span(1, "linear")]
    head = OutputHead(spans).double()
    x = torch.randn(16, head.width, dtype=torch.float64, requires_grad=True)
    assert torch.allclose(head(x), _head_reference(x, spans, None))
    # first and second derivatives (the critic's gradient penalty differentiates through twice)
    assert torch.autograd.gradcheck(head, (x,))
    assert torch.autograd.gradgradcheck(head, (x,))
    # wide spans (padded to 16 columns in the head) and narrow ones, Gumbel and softmax together,
    # in double precision: values, first and second derivatives
    wide = [Span(2, "softmax"), Span(7, "gumbel", tau=0.5), Span(1, "tanh"), Span(17, "softmax"),
            Span(3, "gumbel", tau=0.2), Span(5, "softmax"), Span(7, "gumbel", tau=0.2)]
    whead = OutputHead(wide).double()
    xw = torch.randn(6, whead.width, dtype=torch.float64, requires_grad=True)
    wnoise = torch.zeros(6, whead.width, dtype=torch.float64)
    wnoise[:, [sum(s.width for s in wide[:j]) + i for j, s in enumerate(wide) if s.activation == "gumbel"
              for i in range(s.width)]] = whead.gumbel_noise(6, "cpu", torch.float64, torch.Generator().manual_seed(5))
    assert whead.n_gumbel == 17
    assert torch.allclose(whead(xw, generator=torch.Generator().manual_seed(5)), _head_reference(xw, wide, wnoise))
    seeded = lambda v: whead(v, generator=torch.Generator().manual_seed(5))  # noqa: E731 (the same noise each call)
    assert torch.autograd.gradcheck(seeded, (xw,))
    assert torch.autograd.gradgradcheck(seeded, (xw,))
    # Gumbel spans: the noise is -log(-log(U)) of one uniform draw over the Gumbel columns in the
    # encoded order, added by hand here
    gspans = [Span(2, "tanh"), Span(3, "gumbel", tau=0.5), Span(3, "gumbel", tau=0.5), Span(5, "gumbel", tau=0.5)]
    ghead = OutputHead(gspans)
    xg = torch.randn(8, ghead.width)
    got = ghead(xg, generator=torch.Generator().manual_seed(3))
    u = torch.rand((8, 11), generator=torch.Generator().manual_seed(3)).clamp(1e-10, 1 - 1e-7)
    noise = torch.cat([torch.zeros(8, 2), -torch.log(-torch.log(u))], dim=1)
    assert torch.allclose(got, _head_reference(xg, gspans, noise), atol=1e-6)
    # sampling mode: a Gumbel span's argmax is a draw from the softmax of its logits (whatever the
    # temperature), a softmax span's argmax is that of its logits; 100,000 draws per span, so a
    # share's standard error is at most 0.0016
    logits = torch.tensor([0.0, 1.0, 2.0, -1.0, 0.5, -3.0, 0.2])
    per_span = {2: logits[:2], 3: logits[:3] * 0.5, 5: logits[:5] + 1, 7: logits, 17: torch.linspace(-1, 2, 17).flip(0)}
    rows = torch.cat([per_span[s.width] if s.activation != "tanh" else torch.tensor([0.7]) for s in wide])
    assert len(rows) == whead.width
    x = rows.repeat(100_000, 1)
    hard = whead(x.double(), generator=torch.Generator().manual_seed(1), hard=True)
    assert torch.isfinite(hard).all()
    start = 0
    for s in wide:
        if s.activation == "gumbel":
            drawn = torch.bincount(hard[:, start:start + s.width].argmax(1), minlength=s.width) / len(x)
            expected = torch.softmax(rows[start:start + s.width].double(), 0)
            assert (drawn - expected).abs().max() < 0.006, (s, drawn, expected)
        elif s.activation == "softmax":
            assert (hard[:, start:start + s.width].argmax(1) == rows[start:start + s.width].argmax()).all()
        start += s.width
    again = whead(x[:1000].double(), generator=torch.Generator().manual_seed(1), hard=True)
    assert torch.equal(again, hard[:1000])  # reproducible from the generator


@pytest.mark.parametrize("p", [0.25, 0.5])
def test_dropout_keeps_the_expected_share_and_mean(p):
    import torch

    from ganforge.models.networks import Dropout

    torch.manual_seed(0)
    d = Dropout(p).train()
    x = torch.ones(400, 500)
    y = d(x)
    kept = (y > 0).double().mean().item()
    assert abs(kept - (1 - p)) < 0.005  # 200,000 draws: the standard error is about 0.001
    assert abs(y.mean().item() - 1.0) < 0.01  # kept values are scaled by 1 / (1 - p)
    values = torch.unique(y)
    assert len(values) == 2 and values[0] == 0 and abs(values[1].item() - 1 / (1 - p)) < 1e-6
    # the mask moves from row to row and is reproducible from the seed
    torch.manual_seed(1)
    a = d(x)
    torch.manual_seed(1)
    assert torch.equal(a, d(x)) and not torch.equal(a, y)
    assert torch.equal(d.eval()(x), x)
    with pytest.raises(ValueError, match="dropout"):
        Dropout(1.0)


def test_critic_scores_real_and_fake_in_one_pass_only_without_batch_statistics():
    import torch

    from ganforge.encoding.base import Span
    from ganforge.models.networks import Discriminator, Generator
    real = torch.rand(40, 5)
    cond = torch.nn.functional.one_hot(torch.arange(40) % 3, 3).float()

    class Source:
        def sample(self, n):
            return real[:n], cond[:n]

    def critic_step(layers, joint=None):
        torch.manual_seed(0)
        gen = Generator(8, 3, [{"width": 16, "activation": "relu"}], [Span(2, "tanh"), Span(3, "softmax")])
        fam = adversarial_trainer(gen, Discriminator(5, 3, layers, pac=4), Source(), batch_size=40, lr_d=1e-3).family
        chosen = fam.joint_critic
        if joint is not None:
            fam.joint_critic = joint
        fam.critic_step()
        return chosen, [p.grad.clone() for p in fam.discriminator.parameters()]

    plain = [{"width": 16, "activation": "leaky_relu"}] * 2
    chosen, one_pass = critic_step(plain)
    assert chosen  # no batch statistics: one pass
    _, two_passes = critic_step(plain, joint=False)
    # the same gradient, penalty included, to rounding
    for a, b in zip(one_pass, two_passes):
        assert torch.allclose(a, b, atol=1e-5), (a - b).abs().max()
    # a critic with batch norm keeps real and fake rows in separate batches
    chosen, _ = critic_step([{"width": 16, "activation": "leaky_relu", "batchnorm": True}] * 2)
    assert not chosen


def test_trainer_averages_the_generator_weights():
    """ema_decay: after each generator step the average moves towards the live weights (batch-norm
    running statistics too) by 1 - min(decay, (1 + t) / (10 + t)); fit leaves the average in the generator."""
    import torch

    from ganforge.encoding.base import Span
    from ganforge.models.networks import Discriminator, Generator
    real = torch.rand(40, 5)

    class Source:
        def sample(self, n):
            return real[:n], None

    torch.manual_seed(0)
    gen = Generator(8, 0, [{"width": 16, "activation": "relu", "batchnorm": True}], [Span(2, "tanh"), Span(3, "softmax")])
    tr = adversarial_trainer(gen, Discriminator(5, 0, [{"width": 16, "activation": "leaky_relu"}]), Source(),
                             batch_size=40, lr_g=1e-2, ema_decay=0.5)
    expected = {k: v.clone() for k, v in gen.state_dict().items() if v.is_floating_point()}
    for t in range(1, 6):
        tr.train_step()
        d = min(0.5, (1 + t) / (10 + t))
        live = gen.state_dict()
        expected = {k: d * v + (1 - d) * live[k] for k, v in expected.items()}
        got = tr.family.ema.state_dict()
        for k, v in expected.items():
            torch.testing.assert_close(got[k], v, msg=k)
    assert any(not torch.equal(tr.family.ema.state_dict()[k], gen.state_dict()[k]) for k in expected)
    assert any("running_mean" in k for k in expected)
    assert tr.family.sampling_module is tr.family.ema
    tr.fit(7)
    for k, v in tr.family.ema.state_dict().items():
        assert torch.equal(gen.state_dict()[k], v), k


@pytest.mark.parametrize("n_critic", [1, 3])
def test_trainer_reuses_the_last_critic_steps_fakes(n_critic):
    """reuse_fakes: the generator step scores the rows of the last critic step (same noise, graph kept)
    with the updated critic, so its gradient is that of -mean D_new(G(z_last)); one generator forward
    per step fewer. Without it the generator step draws new noise and the same gradient differs."""
    import copy

    import torch

    from ganforge.encoding.base import Span
    from ganforge.models.networks import Discriminator, Generator
    real = torch.rand(40, 5)

    class Source:
        def sample(self, n):
            return real[:n], None

    def run(reuse):
        torch.manual_seed(0)
        gen = Generator(8, 0, [{"width": 16, "activation": "relu", "batchnorm": True}], [Span(2, "tanh"), Span(3, "softmax")])
        disc = Discriminator(5, 0, [{"width": 16, "activation": "leaky_relu"}])
        fam = adversarial_trainer(gen, disc, Source(), batch_size=40, n_critic=n_critic, reuse_fakes=reuse).family
        calls = []
        gen.register_forward_hook(lambda m, i, o: calls.append(1))
        for step in range(2):  # the second step starts from trained, different networks
            before = copy.deepcopy(gen)
            torch.manual_seed(1)
            fam.train_step(step)
        forwards = len(calls)  # (the copy below carries the hook too)
        # the noise of the last critic step: n_critic normals draws, each followed by one uniform (penalty)
        torch.manual_seed(1)
        for _ in range(n_critic):
            z = torch.randn(40, 8)
            torch.rand(40, 1, 1)
        loss = -disc(before(z, None), None).mean()  # the critic after its update, the generator before
        grads = torch.autograd.grad(loss, list(before.parameters()))
        same = all(torch.allclose(a, p.grad, rtol=1e-4, atol=1e-6) for a, p in zip(grads, gen.parameters()))
        return same, forwards

    assert run(True) == (True, 2 * n_critic)
    assert run(False) == (False, 2 * (n_critic + 1))


def test_lazy_penalty_is_the_full_penalty_at_k_times_the_weight_on_one_step_in_k(monkeypatch):
    """gp_every=k: critic updates number 0, k, 2k, ... carry the penalty at k * gp_lambda (the update
    is that of gp_every=1 with that weight), the others none (the update of gp_lambda=0); the
    reported critic loss keeps the latest penalty at its own weight, so the curves stay comparable."""
    import torch

    from ganforge.models import losses
    from ganforge.models.networks import Discriminator, Generator
    from ganforge.encoding.base import Span

    real = torch.rand(40, 5)

    class Source:
        def sample(self, n):
            return real[:n], None

    def trainer(log_every=25, **kw):
        torch.manual_seed(0)
        gen = Generator(8, 0, [{"width": 16, "activation": "relu"}], [Span(2, "tanh"), Span(3, "softmax")])
        disc = Discriminator(5, 0, [{"width": 16, "activation": "leaky_relu"}])
        return adversarial_trainer(gen, disc, Source(), batch_size=40, log_every=log_every, **kw)

    def critic_after(tr, index):
        torch.manual_seed(1)
        tr.family.critic_step(index=index)
        # the gradients, not the weights: Adam's first update is nearly the gradient's sign
        return [p.grad.clone() for p in tr.family.discriminator.parameters()]

    def same(a, b):
        return all(torch.allclose(x, y, rtol=1e-5, atol=1e-7) for x, y in zip(a, b))

    lazy = critic_after(trainer(gp_every=3, gp_lambda=10.0), 3)
    full = critic_after(trainer(gp_every=1, gp_lambda=30.0), 3)
    none = critic_after(trainer(gp_every=1, gp_lambda=0.0), 3)
    assert same(lazy, full) and not same(lazy, none)
    skipped = critic_after(trainer(gp_every=3, gp_lambda=10.0), 4)
    assert same(skipped, none) and not same(skipped, full)

    # the schedule over train steps: critic updates 0..5 (two per step), penalised 0 and 3
    calls = []
    real_gp = losses.gradient_penalty
    monkeypatch.setattr(losses, "gradient_penalty", lambda *a: calls.append(1) or real_gp(*a))
    tr = trainer(gp_every=3, n_critic=2, log_every=1)
    tr.fit(3)
    assert len(calls) == 2
    # pre-training updates are numbered first: 2 of them, then 4 in training (updates 0-5), penalised 0 and 3
    calls.clear()
    tr = trainer(gp_every=3, n_critic=2, pretrain_critic_steps=2, log_every=1)
    tr.fit(2)
    assert len(calls) == 2
    # between penalised updates the reported loss carries the last penalty: never the bare critic loss
    torch.manual_seed(2)
    tr2 = trainer(gp_every=3, gp_lambda=10.0)
    critic_after(tr2, 0)
    assert float(tr2.family.last_penalty) > 0
    torch.manual_seed(1)
    reported, d_real, d_fake = tr2.family.critic_step(index=1)
    assert float(reported) == pytest.approx(float(d_fake - d_real) + float(tr2.family.last_penalty), rel=1e-5)
