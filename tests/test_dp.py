"""Differential privacy: per-row clipping is exact, the budget is accounted and saved, nothing
outside DP-SGD reads the data, and a private model still learns."""

import numpy as np
import pandas as pd
import pytest
import torch

from ganforge import Synthesizer
from ganforge.models.losses import get_loss
from ganforge.training.private import DPSettings, PrivateCritic, plan, spent
from ganforge.errors import ConfigError, DataError
from ganforge.metrics.fidelity import fidelity
from ganforge.models.networks import Discriminator
from ganforge.schema import infer_schema

pytest.importorskip("opacus")


def population(n, seed):
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    sector = rng.choice(["public", "private", "self"], n, p=[0.3, 0.6, 0.1])
    income = rng.lognormal(10 + 0.01 * (age - 18) + 0.4 * (sector == "self"), 0.5, n).round(0)
    return pd.DataFrame({"age": age, "income": income, "sector": sector,
                         "label": np.where(income > 40000, "high", "low")})


def test_ghost_norms_and_clipped_sum_equal_explicit_per_row_gradients():
    torch.manual_seed(0)
    d = Discriminator(7, 2, [{"width": 16, "activation": "leaky_relu"}, {"width": 8, "activation": "relu"}])
    d.eval()
    rows = torch.randn(12, 7) * 3
    cond = torch.nn.functional.one_hot(torch.randint(2, (12,)), 2).float()
    pc = PrivateCritic(d, get_loss("wasserstein"), 10.0, DPSettings(1, 1e-5, 0.5, 0.1, 1.0, 10, 1, 0), 100)
    d.zero_grad()
    norms = pc.clipped_sum(rows, cond)
    got = {k: p.grad.clone() for k, p in d.named_parameters()}
    want = {k: torch.zeros_like(p) for k, p in d.named_parameters()}
    for i in range(12):
        d.zero_grad()
        (-d(rows[i:i + 1], cond[i:i + 1])).sum().backward()
        g = {k: p.grad.clone() for k, p in d.named_parameters()}
        n = torch.sqrt(sum(v.pow(2).sum() for v in g.values()))
        torch.testing.assert_close(norms[i], n)
        for k in want:
            want[k] += g[k] * min(1.0, 0.5 / float(n))
    for k in want:
        torch.testing.assert_close(got[k], want[k], rtol=1e-4, atol=1e-6)


def test_accounting_spends_the_target_and_less_for_fewer_steps():
    s = plan(2.0, 1e-5, 10_000, 100, 1000, 1.0, conditional=True)
    assert s.epsilon_counts == pytest.approx(0.1) and s.sample_rate == pytest.approx(0.01)
    total = spent(s, 1000)
    assert 1.9 < total <= 2.0 + 1e-6
    assert spent(s, 100) < 0.6 * total
    # more noise for a smaller epsilon
    assert plan(0.5, 1e-5, 10_000, 100, 1000, 1.0, conditional=False).noise_multiplier > s.noise_multiplier


@pytest.mark.slow
def test_private_model_learns_spends_its_budget_and_saves_it(tmp_path):
    train = population(3000, 0)
    schema = infer_schema(train, target="label")
    kw = dict(steps=150, seed=0)  # the default networks (the small test networks learn too little under DP)
    private = Synthesizer("wcgan", dp_epsilon=5.0, classifier_weight=1.0, precision="bfloat16", **kw).fit(
        train, target="label", schema=schema)
    untrained = Synthesizer("wcgan", dp_epsilon=5.0, **dict(kw, steps=0)).fit(train, target="label", schema=schema)
    dp = private.summary()["dp"]
    assert 4.5 < dp["epsilon_spent"] <= 5.0 + 1e-6 and dp["critic_steps"] == 750
    assert private.config["numeric_encoding"] == "minmax" and private.config["pac"] == 1
    # a label classifier would read the rows without noise: off, and recorded so
    assert private.config["classifier_weight"] == 0.0 and private.trainer_.family.classifier is None
    # per-row gradients are clipped to a norm: float32 products, whatever was asked, and recorded so
    assert private.config["precision"] == "float32" and private.summary()["precision"] == "float32"
    assert private.history_["d_loss"].isna().all() and private.history_["g_loss"].notna().all()
    good = fidelity(train, private.sample(3000, seed=1), schema).column_shapes
    bad = fidelity(train, untrained.sample(3000, seed=1), schema).column_shapes
    assert good > 0.8 and good > bad + 0.1, (good, bad)
    p = private.save(tmp_path / "m.gfm")
    again = Synthesizer.load(p)
    assert again.dp_["epsilon_spent"] == pytest.approx(dp["epsilon_spent"])
    assert again.model_meta_["fingerprint"] is None  # no hash of the private rows in the file
    pd.testing.assert_frame_equal(again.sample(100, seed=2), private.sample(100, seed=2))


def test_private_training_refuses_what_would_read_the_data():
    train = population(200, 0)
    with pytest.raises(DataError, match="dp_epsilon needs schema"):
        Synthesizer("wgan", steps=2, dp_epsilon=1.0).fit(train)
    schema = infer_schema(train)
    with pytest.raises(ConfigError, match="kmeans"):
        Synthesizer("wcgan", steps=2, dp_epsilon=1.0).fit(train, condition_on="kmeans:2", schema=schema)
    with pytest.raises(ConfigError, match="early stopping"):
        Synthesizer("wgan", steps=2, dp_epsilon=1.0, early_stopping=True).fit(train, schema=schema)
    with pytest.raises(ConfigError, match="dp_epsilon"):
        Synthesizer("wgan", steps=2, dp_epsilon=-1.0)


@pytest.mark.slow
def test_values_outside_the_schema_bounds_are_clipped_not_leaked():
    train = population(500, 0)
    schema = infer_schema(train)
    schema["income"].max = 50_000.0  # the user's public bound is below some real incomes
    out = Synthesizer("wgan", steps=20, seed=0, dp_epsilon=10.0).fit(train, schema=schema).sample(2000, seed=1)
    assert out["income"].max() <= 50_000
