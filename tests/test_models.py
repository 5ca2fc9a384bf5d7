"""Each GAN family learns a simple table; a generator that outputs noise fails the same check."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

from conftest import CENTERS, SMALL, four_gaussians
from ganforge import Synthesizer
from ganforge.errors import ConfigError
from ganforge.models import MODELS, PRESETS, resolve_config


def fidelity_ok(real: pd.DataFrame, synth: pd.DataFrame) -> tuple[bool, dict]:
    """Marginals (KS < 0.15 per column, category shares within 5 points) and the joint structure:
    most points near a mixture centre, and the colour of the nearest centre (real data: 99% / 100%)."""
    ks = {c: ks_2samp(real[c], synth[c]).statistic for c in ("x", "y")}
    shares = real["color"].value_counts(normalize=True)
    got = synth["color"].value_counts(normalize=True).reindex(shares.index, fill_value=0)
    share_gap = float((shares - got).abs().max())
    dist = np.linalg.norm(synth[["x", "y"]].to_numpy()[:, None, :] - CENTERS[None], axis=2)
    near = float((dist.min(axis=1) < 1.5).mean())
    nearest = dist.argmin(axis=1)
    expected = np.where(nearest < 2, "red", np.where(nearest == 2, "green", "blue"))
    agree = float((expected == synth["color"].to_numpy()).mean())
    ok = max(ks.values()) < 0.15 and share_gap < 0.05 and near > 0.6 and agree > 0.6
    return ok, {**ks, "share_gap": share_gap, "near_centre": near, "colour_agrees": agree}


@pytest.fixture(scope="module")
def trained(mixture):
    out = {}
    for name in ("gan", "cgan", "wgan", "wcgan"):
        n_critic = {} if MODELS[name]["loss"] == "bce" else {"n_critic": 2}
        out[name] = Synthesizer(name, "default", steps=1500, seed=0, **SMALL, **n_critic).fit(
            mixture, target="color")
    return out


@pytest.mark.parametrize("name", ["gan", "cgan", "wgan", "wcgan"])
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


def test_label_proportions(trained):
    s = trained["cgan"].sample(1000, condition={"color": {"red": 0.2, "blue": 0.8}}, seed=0)
    assert (s["color"].value_counts() == pd.Series({"blue": 800, "red": 200})).all()


def test_kmeans_pseudo_labels_condition_the_model():
    df = four_gaussians(2000).drop(columns="color")
    syn = Synthesizer("cgan", "default", steps=300, seed=0, **SMALL).fit(df, condition_on="kmeans:4")
    assert syn.condition_["kind"] == "kmeans" and len(syn.condition_["categories"]) == 4
    a = syn.sample(500, condition={"cluster": 0}, seed=0)
    assert list(a.columns) == ["x", "y"]


def test_presets_and_models_resolve():
    for model in MODELS:
        for preset in PRESETS:
            cfg = resolve_config(model, preset)
            assert cfg["loss"] == MODELS[model]["loss"]
    assert resolve_config("wgan", "pima-paper")["n_critic"] == 5
    assert resolve_config("wgan", "pima-paper")["gp_lambda"] == 10.0
    with pytest.raises(ConfigError, match="unknown model"):
        resolve_config("vae")
    with pytest.raises(ConfigError, match="unknown option"):
        resolve_config("gan", latnt_dim=3)
    with pytest.raises(ConfigError, match="multiple of pac"):
        resolve_config("gan", batch_size=55, pac=10)


def test_conditional_model_without_label_is_a_clear_error(mixture):
    with pytest.raises(ConfigError, match="pass a target column"):
        Synthesizer("wcgan", steps=1).fit(mixture)
