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


def public(schema):
    """``schema`` declared public. Real use writes bounds and categories from public knowledge (a codebook,
    published ranges); these tests infer them from the training rows and declare them public, which is
    what ``test_a_schema_read_from_the_data_is_refused`` shows is refused when not declared."""
    schema.extra["public"] = True
    return schema


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
    schema = public(infer_schema(train, target="label"))
    kw = dict(steps=150, seed=0)  # the default networks (the small test networks learn too little under DP)
    private = Synthesizer("wcgan", dp_epsilon=5.0, classifier_weight=1.0, moment_weight=10.0, precision="bfloat16",
                          **kw).fit(
        train, target="label", schema=schema)
    untrained = Synthesizer("wcgan", dp_epsilon=5.0, **dict(kw, steps=0)).fit(train, target="label", schema=schema)
    dp = private.summary()["dp"]
    assert 4.5 < dp["epsilon_spent"] <= 5.0 + 1e-6 and dp["critic_steps"] == 750
    assert private.config["numeric_encoding"] == "minmax" and private.config["pac"] == 1
    # a label classifier would read the rows without noise: off, and recorded so
    assert private.config["classifier_weight"] == 0.0 and private.trainer_.family.classifier is None
    # so would the moment loss (each label's mean real row): off, and recorded so
    assert private.config["moment_weight"] == 0.0 and private.trainer_.family.moment_weight == 0.0
    # per-row gradients are clipped to a norm: float32 products, whatever was asked, and recorded so
    assert private.config["precision"] == "float32" and private.summary()["precision"] == "float32"
    assert private.history_["d_loss"].isna().all() and private.history_["g_loss"].notna().all()
    good = fidelity(train, private.sample(3000, seed=1), schema).column_shapes
    bad = fidelity(train, untrained.sample(3000, seed=1), schema).column_shapes
    # the noise comes from OS entropy (not the seed): over repeated fits good ranged 0.78-0.92, the
    # untrained generator 0.65
    assert good > bad + 0.09, (good, bad)
    p = private.save(tmp_path / "m.gfm")
    again = Synthesizer.load(p)
    assert again.dp_["epsilon_spent"] == pytest.approx(dp["epsilon_spent"])
    assert again.model_meta_["fingerprint"] is None  # no hash of the private rows in the file
    pd.testing.assert_frame_equal(again.sample(100, seed=2), private.sample(100, seed=2))


def test_private_training_refuses_what_would_read_the_data():
    train = population(200, 0)
    with pytest.raises(DataError, match="dp_epsilon needs a public schema"):
        Synthesizer("wgan", steps=2, dp_epsilon=1.0).fit(train)
    schema = public(infer_schema(train))
    with pytest.raises(ConfigError, match="kmeans"):
        Synthesizer("wcgan", steps=2, dp_epsilon=1.0).fit(train, condition_on="kmeans:2", schema=schema)
    with pytest.raises(ConfigError, match="early stopping"):
        Synthesizer("wgan", steps=2, dp_epsilon=1.0, early_stopping=True).fit(train, schema=schema)
    with pytest.raises(ConfigError, match="dp_epsilon"):
        Synthesizer("wgan", steps=2, dp_epsilon=-1.0)


@pytest.mark.slow
def test_values_outside_the_schema_bounds_are_clipped_not_leaked():
    train = population(500, 0)
    schema = public(infer_schema(train))
    schema["income"].max = 50_000.0  # the user's public bound is below some real incomes
    out = Synthesizer("wgan", steps=20, seed=0, dp_epsilon=10.0).fit(train, schema=schema).sample(2000, seed=1)
    assert out["income"].max() <= 50_000


# --- what a private fit reads from the data, and what it spends on it (issue #28) -----------------------
SMALL_DP = dict(steps=2, batch_size=50, latent_dim=8, seed=0,
                generator_layers=[{"width": 16, "activation": "relu"}],
                discriminator_layers=[{"width": 16, "activation": "leaky_relu"}])


def test_a_schema_read_from_the_data_is_refused(tmp_path):
    """A schema inferred from the private rows (in Python, or written by --save-schema) holds their exact
    bounds, categories and missing rates: a private fit refuses it until the user declares it public."""
    import json

    from ganforge.cli import main

    train = population(300, 0)
    with pytest.raises(DataError, match="public"):
        Synthesizer("wcgan", dp_epsilon=1.0, **SMALL_DP).fit(train, target="label", schema=infer_schema(train))
    data = tmp_path / "private.csv"
    train.to_csv(data, index=False)
    saved, model = tmp_path / "s.json", tmp_path / "dp.gfm"
    assert main(["fit", str(data), "-o", str(tmp_path / "t.gfm"), "--target", "label", "--steps", "1", "-q",
                 "--batch-size", "50", "--save-schema", str(saved)]) == 0
    doc = json.loads(saved.read_text())
    assert doc["extra"]["read_from_data"] is True and "public" not in doc and "public" not in doc["extra"]
    args = ["fit", str(data), "-o", str(model), "--target", "label", "--steps", "2", "--batch-size", "50",
            "--dp-epsilon", "1", "-q"]
    assert main([*args, "--schema", str(saved)]) == 2 and not model.exists()
    # declared public (the user's word that these values are public knowledge): accepted
    (tmp_path / "p.json").write_text(json.dumps({**doc, "public": True}))
    assert main([*args, "--schema", str(tmp_path / "p.json")]) == 0 and model.exists()
    spent = Synthesizer.load(model).dp_["spent"]
    assert set(spent) == {"dp_sgd", "label_counts"} and spent["label_counts"] == pytest.approx(0.05)


def test_the_cli_refusal_is_one_line(tmp_path, capsys):
    from ganforge.cli import main

    data = tmp_path / "d.csv"
    population(200, 0).to_csv(data, index=False)
    assert main(["fit", str(data), "-o", str(tmp_path / "m.gfm"), "--dp-epsilon", "1", "-q"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: --dp-epsilon needs a public --schema")


def test_an_epsilon_too_small_for_any_noise_is_one_clear_error():
    train = population(300, 0)
    with pytest.raises(ConfigError, match="too small"):
        Synthesizer("wgan", dp_epsilon=1e-6, **SMALL_DP).fit(train, schema=public(infer_schema(train)))


def test_noisy_counts_spend_their_share_and_stand_for_n():
    """The label counts (or the row count) get Laplace noise of scale 1 / (COUNT_SHARE epsilon): over many
    draws the mean absolute error of the row count is that scale (a Laplace's mean absolute value)."""
    from ganforge.training.private import COUNT_SHARE, count_rows

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 3, 5000)
    errors = [count_rows(2.0, 5000, None, 0, rng).rows - 5000 for _ in range(4000)]
    assert np.mean(np.abs(errors)) == pytest.approx(1 / (COUNT_SHARE * 2.0), rel=0.08)
    labelled = [count_rows(2.0, 5000, codes, 3, rng) for _ in range(2000)]
    # the noisy row count of a conditional model is the sum of its three noisy label counts: variance 3 x 2 b^2
    spread = np.std([c.rows for c in labelled])
    assert spread == pytest.approx(np.sqrt(6) / (COUNT_SHARE * 2.0), rel=0.1)
    freq = np.mean([c.frequencies for c in labelled], axis=0)
    np.testing.assert_allclose(freq, np.bincount(codes) / 5000, atol=0.01)


def test_the_gradient_divisor_is_the_same_for_neighbouring_tables():
    """Opacus 1.0-1.6 divides the noisy sum by the expected batch size of the table itself, which differs
    between tables that differ by a row (Opacus issue #819): the division is then not post-processing of
    the Gaussian mechanism its accountant analyses. ganforge divides by q times the noisy row count, fixed
    before training: the same number whichever neighbour is trained on."""
    s = plan(1.0, 1e-5, 10_000, 100, 500, 1.0, conditional=False)
    d = Discriminator(4, 0, [{"width": 8, "activation": "relu"}])
    divisors = [PrivateCritic(d, get_loss("wasserstein"), 10.0, s, n).expected_batch for n in (9_999, 10_000, 10_001)]
    assert divisors == [pytest.approx(100.0)] * 3


def test_accounting_matches_the_poisson_subsampled_gaussian_at_integer_orders():
    """An independent computation of what the accountant must give: for integer orders a the RDP of the
    Poisson-subsampled Gaussian is log(sum_k C(a,k) (1-q)^(a-k) q^k exp((k^2-k) / (2 sigma^2))) / (a-1) per
    step (Mironov, Talwar and Zhang 2019), converted to (epsilon, delta) by Balle et al. 2020's bound. Opacus
    also tries fractional orders, so it may find a slightly smaller epsilon, never a larger one."""
    from math import comb, exp, log

    s = plan(3.0, 1e-5, 2_000, 100, 400, 1.0, conditional=True)
    q, sigma, steps, delta = s.sample_rate, s.noise_multiplier, 400, s.delta
    best = np.inf
    for a in range(2, 257):
        terms = [log(comb(a, k)) + (a - k) * log(1 - q) + k * log(q) + (k * k - k) / (2 * sigma**2) for k in range(a + 1)]
        top = max(terms)
        rdp = steps * (top + log(sum(exp(t - top) for t in terms))) / (a - 1)
        best = min(best, rdp - (log(delta) + log(a)) / (a - 1) + log((a - 1) / a))
    got = spent(s, steps) - s.epsilon_counts
    assert got <= best + 1e-9 and got > 0.97 * best, (got, best)
    assert got == pytest.approx(s.epsilon_sgd, rel=0.02)  # and the plan spends its share


def test_private_noise_is_not_replayable_from_the_recorded_seed():
    """The seed is in the model file: noise drawn from it could be replayed, and subtracted. Two private fits
    with the same seed get different noise; the untrained networks (which read no data) are the same."""
    train = population(300, 0)
    schema = public(infer_schema(train))
    a, b = (Synthesizer("wgan", dp_epsilon=5.0, **SMALL_DP).fit(train, schema=schema) for _ in range(2))
    wa, wb = (torch.cat([p.flatten() for p in m.discriminator_.parameters()]) for m in (a, b))
    assert not torch.equal(wa, wb)
    c, d = (Synthesizer("wgan", dp_epsilon=5.0, **dict(SMALL_DP, steps=0)).fit(train, schema=schema) for _ in range(2))
    assert torch.equal(torch.cat([p.flatten() for p in c.discriminator_.parameters()]),
                       torch.cat([p.flatten() for p in d.discriminator_.parameters()]))


def test_an_epsilon_beyond_any_meaning_is_refused_instead_of_searched_forever():
    with pytest.raises(ConfigError, match="promises no privacy"):
        plan(1e20, 1e-5, 1000, 100, 100, 1.0, conditional=True)  # Opacus' search for sigma never ended
