"""Quality of generated images without downloading Inception weights: the Frechet distance
between feature sets (Heusel et al. 2017) and the confidence of a classifier, both computed on
features and probabilities that the caller got from a network trained on the real images."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import linalg


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between two (n, d) feature sets."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be (n, d) with the same d, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError("the Frechet distance needs at least 2 samples per set")
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    import warnings

    with warnings.catch_warnings():  # fewer samples than features: singular, handled below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s_a @ s_b)
    if not np.isfinite(covmean).all():  # near-singular product: regularise, as the reference code does
        eps = 1e-6 * np.eye(a.shape[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", linalg.LinAlgWarning)
            covmean = linalg.sqrtm((s_a + eps) @ (s_b + eps))
    covmean = np.real(covmean)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(covmean))


@dataclass
class ImageQuality:
    """``frechet``: distance to the reference set's features (lower is closer);
    ``confidence``: mean probability the classifier gives the intended class;
    ``share_as_intended``: fraction of images it assigns to that class;
    ``diversity``: mean pairwise feature distance divided by the reference set's (1 = as varied)."""

    n: int
    frechet: float
    confidence: float
    share_as_intended: float
    diversity: float

    def to_dict(self) -> dict:
        return asdict(self)


def image_quality(features: np.ndarray, probs: np.ndarray, intended: int, ref_features: np.ndarray,
                  seed: int = 0) -> ImageQuality:
    """Quality of one set of generated images of class ``intended``, from their classifier
    features and class probabilities, against a reference set of real images of that class."""
    features, probs = np.asarray(features), np.asarray(probs)
    rng = np.random.default_rng(seed)

    def spread(f):
        i = rng.integers(0, len(f), 2000)
        j = rng.integers(0, len(f), 2000)
        keep = i != j
        return float(np.linalg.norm(f[i[keep]] - f[j[keep]], axis=1).mean())

    return ImageQuality(
        n=int(len(features)),
        frechet=frechet_distance(features, ref_features),
        confidence=float(probs[:, intended].mean()),
        share_as_intended=float((probs.argmax(1) == intended).mean()),
        diversity=spread(features) / spread(np.asarray(ref_features)),
    )
