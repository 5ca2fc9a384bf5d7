"""The studies ganforge grew from, as one-command recipes: ``ganforge study NAME``.

Each writes a results folder (README.md with tables and figures, results.json, CSVs, PNGs),
all or nothing. ``--quick`` is a small budget for tests and smoke runs, not a result.
"""

from __future__ import annotations

from pathlib import Path

from ...errors import ConfigError

STUDIES = {
    "pima": "Pima diabetes, vanilla GAN: fooled vs not fooled, closest real rows, PCA, losses",
    "german": "German credit, vanilla GAN: fooled vs not fooled, closest real rows, PCA, losses",
    "fraud": "Credit card fraud: GAN / CGAN / WGAN-GP / WCGAN-GP on fraud rows, realism over training, "
             "augmentation vs SMOTE",
    "adult": "Adult census: four GANs with the report's settings (numeric, then all columns), then the default",
    "categorical": "Mushroom and car evaluation: a multi-categorical GAN with Gumbel-softmax heads, BCE and "
                   "Wasserstein",
    "mnist": "Imbalanced MNIST: conditional, one-class and progressive WGAN-GP digits against crop/rotate "
             "augmentation; VAE picture; Frechet distance",
}


def run_study(name: str, out: str | Path | None = None, data_dir=None, quick: bool = False,
              seeds: list[int] | None = None, device: str = "auto", **options) -> Path:
    """Run one study; returns its results folder. ``options`` are the mnist study's (minority,
    keep, keep_fraction, add, models); other studies refuse them."""
    key = name.strip().lower()
    if key not in STUDIES:
        raise ConfigError(f"unknown study {name!r}; choose one of {', '.join(STUDIES)}")
    given = {k: v for k, v in options.items() if v is not None}
    if given and key != "mnist":
        opts = ", ".join("--" + k.replace("_", "-") for k in given)
        raise ConfigError(f"{opts}: only the mnist study takes these options")
    out = Path(out) if out is not None else Path("out") / "studies" / key
    if key == "mnist":
        from . import mnist

        return mnist.run(out, data_dir, quick, seeds, device=device, **options)
    if key in ("pima", "german"):
        from . import paper

        return paper.run(key, out, data_dir, quick, seeds)
    if key == "fraud":
        from . import fraud

        return fraud.run(out, data_dir, quick, seeds)
    if key == "adult":
        from . import adult

        return adult.run(out, data_dir, quick, seeds, device=device)
    from . import categorical

    return categorical.run(out, data_dir, quick, seeds)
