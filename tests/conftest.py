import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp

os.environ.setdefault("OMP_NUM_THREADS", "2")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"

#: a small network and budget for tests: the models must still learn, only faster
SMALL = dict(
    batch_size=200, pac=10, latent_dim=16,
    generator_layers=[{"width": 128, "activation": "relu", "batchnorm": True, "residual": True}] * 2,
    discriminator_layers=[{"width": 128, "activation": "leaky_relu", "dropout": 0.25}] * 2,
)


CENTERS = np.array([[-4.0, -2.0], [-1.0, 3.0], [2.0, -3.5], [4.0, 1.5]])


def four_gaussians(n: int = 4000, seed: int = 0) -> pd.DataFrame:
    """A 2-D mixture of four Gaussians and a colour that depends on the component.

    The centres are off a grid, so x and y are dependent: drawing each coordinate from its own
    marginal (what an untrained mode-specific generator does) lands off the centres.
    """
    rng = np.random.default_rng(seed)
    centers = CENTERS
    lab = rng.integers(0, 4, n)
    xy = centers[lab] + rng.normal(0, 0.5, (n, 2))
    color = np.where(lab < 2, "red", np.where(lab == 2, "green", "blue"))
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "color": color})


@pytest.fixture(scope="session")
def mixture() -> pd.DataFrame:
    return four_gaussians()


def require_shared(*parts: str) -> Path:
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"dataset {p} not available")
    return p


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


HERE = Path(__file__).resolve().parent


def subprocess_env(threads: int) -> dict:
    """The environment of a child process that runs this checkout's ganforge with ``threads`` threads."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent / "src"), env.get("PYTHONPATH", "")])
    return env


#: the ``--set`` options of SMALL's networks for command-line tests
SMALL_SET = ["--set", "latent_dim=16", "--set", "n_critic=2",
             "--set", "generator_layers=" + json.dumps([{"width": 128, "activation": "relu", "batchnorm": True,
                                                         "residual": True}] * 2),
             "--set", "discriminator_layers=" + json.dumps([{"width": 128, "activation": "leaky_relu",
                                                             "dropout": 0.25}] * 2)]


def fitted_encoder(df: pd.DataFrame, target: str, **encoding):
    """A TableEncoder fitted on ``df`` with ``target`` as the condition, numbers under ``mode_quantile`` and the
    given encoding options."""
    from ganforge.config import EncodingConfig
    from ganforge.encoding import TableEncoder
    from ganforge.schema import infer_schema

    enc = TableEncoder(infer_schema(df, target=target), EncodingConfig(**{"numeric_encoding": "mode_quantile",
                                                                          **encoding}))
    enc.fit(df, ("column", target))
    return enc


def cli_fit(tmp_path: Path, df: pd.DataFrame, target: str, *sets: str):
    """``ganforge fit`` on ``df`` (a CSV in ``tmp_path``) with small networks, 20 steps, one thread and the
    given ``--set`` options: the finished process and the model file's path."""
    from test_cli_polish import run

    data, model = tmp_path / "table.csv", tmp_path / "m.gfm"
    df.to_csv(data, index=False)
    options = [x for opt in sets for x in ("--set", opt)]
    r = run("fit", str(data), "--target", target, "--steps", "20", "--batch-size", "200", *SMALL_SET, *options,
            "--threads", "1", "-o", str(model))
    assert r.returncode == 0, r.stderr
    return r, model


def adversarial_trainer(gen, disc, source, loss: str = "wasserstein", log_every: int = 25, callbacks=(),
                        dist=None, **family):
    """A Trainer over the adversarial family of ``gen`` and ``disc`` (family options by keyword:
    batch_size, n_critic, lr_g, ema_decay, reuse_fakes, classifier, precision, private, ...)."""
    from ganforge.models.families import AdversarialFamily
    from ganforge.models.losses import get_loss
    from ganforge.training import Trainer
    from ganforge.training.collectives import SINGLE

    fam = AdversarialFamily(gen, disc, get_loss(loss), source, dist=dist or SINGLE, **family)
    return Trainer(fam, list(callbacks), dist=dist or SINGLE, log_every=log_every)
