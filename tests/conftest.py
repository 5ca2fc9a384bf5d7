import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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
