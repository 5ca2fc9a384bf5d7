"""The census report on Adult: GAN, CGAN, WGAN-GP and WCGAN-GP with the report's settings
(preset ``ons-paper``: three ReLU layers, batch 128, learning rate 5e-5, 100 critic pre-training
steps, 5,000 steps, min-max to [0, 1]), first on the six numeric columns, then on all columns
with Gaussian-interval categories; then ganforge's ``default`` preset on all columns. Age vs
hours per week over training, pair plots, association matrices, critic losses, train-on-
synthetic accuracy with balanced classifiers, nearest-neighbour tests and t-SNE."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import datasets
from ...metrics.fidelity import fidelity
from ...metrics.privacy import privacy
from ...metrics.projection import projections
from ...metrics.utility import utility
from ...report import plots
from ...synthesizer import Synthesizer
from .common import Snapshots, StudyOutput, plt

MODELS = {"GAN": "gan", "CGAN": "cgan", "WGAN-GP": "wgan", "WCGAN-GP": "wcgan"}
NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
TARGET = "income"
CLASSIFIERS = ("logistic_regression", "random_forest", "xgboost", "mlp")
PUBLISHED = {"tstr_accuracy_numeric": 0.7612, "tstr_accuracy_all": 0.788, "trts_accuracy_numeric": 0.7825,
             "nn_tests": "Mann-Whitney, Wilcoxon, Kruskal-Wallis p > 0.05 (values not given)"}


def _fit(model: str, preset: str, train: pd.DataFrame, seed: int, quick: bool, snap_steps: list[int],
         device: str = "auto"):
    over = {"seed": seed, "device": device}
    if quick:
        over["steps"] = 100
        over["pretrain_critic_steps"] = 10 if preset == "ons-paper" else 0
    syn = Synthesizer(model, preset, **over)
    snaps = Snapshots(syn, snap_steps, 1000, seed)
    syn.fit(train, target=TARGET, callbacks=[snaps])
    return syn, snaps.frames


def run(out, data_dir=None, quick: bool = False, seeds: list[int] | None = None, device: str = "auto") -> StudyOutput:
    seeds = seeds or [0]
    if len(seeds) > 1:
        from ...errors import ConfigError

        raise ConfigError("the adult study takes one seed per run (about 35 minutes on 2 CPU cores): run it once "
                          "per seed, e.g. `seeds` 1 -o out/adult-seed1")
    seed = seeds[0]
    train = datasets.load_adult(data_dir, split="train").dropna().reset_index(drop=True)  # 30,162 rows, as the report
    test = datasets.load_adult(data_dir, split="test").dropna().reset_index(drop=True)
    if quick:
        train = train.sample(1500, random_state=0).reset_index(drop=True)
        test = test.sample(1000, random_state=0).reset_index(drop=True)
    total = 100 if quick else 5000
    snap_steps = sorted({0, *(k * total // 5 for k in range(1, 6))})
    so = StudyOutput("adult", out, quick=quick, seeds=seeds,
                     title="Adult census: four GANs with the report's settings, then ganforge's default")
    try:
        rows, results, keep = [], {}, {}
        variants = [("numeric", "ons-paper", NUMERIC + [TARGET]), ("all columns", "ons-paper", list(train.columns))]
        for variant, preset, cols in variants:
            tr, te = train[cols], test[cols]
            for name, model in MODELS.items():
                syn, frames = _fit(model, preset, tr, seed, quick, snap_steps, device)
                fake = syn.sample(len(tr), seed=seed + 99)
                rows.append(_score(variant, name, preset, syn, tr, te, fake, seed, quick))
                keep[(variant, name)] = (syn, frames, fake)
        # ganforge's default on all columns
        syn, frames = _fit("wcgan", "default", train, seed, quick, snap_steps, device)
        fake = syn.sample(len(train), seed=seed + 99)
        rows.append(_score("all columns", "WCGAN-GP (ganforge default)", "default", syn, train, test, fake, seed,
                           quick))
        keep[("all columns", "default")] = (syn, frames, fake)

        table = pd.DataFrame(rows)
        show = table.drop(columns=[c for c in table.columns if c.startswith("_")])
        so.section("Summary",
                   f"Train: adult.data without rows holding a missing value ({len(train):,} rows, as the report); "
                   f"test: adult.test likewise ({len(test):,}). Preset `ons-paper` = the report's Table 2; "
                   f"unconditional models learn `income` as one more column, conditional ones take it as the "
                   f"condition. Train-on-synthetic (TSTR) accuracy is the mean over {', '.join(CLASSIFIERS)} with "
                   f"balanced class weights, tested on the real test rows; TRTS trains on real rows and tests on "
                   f"synthetic ones. Published (the report, WCGAN): TSTR {PUBLISHED['tstr_accuracy_numeric']:.1%} "
                   f"numeric-only, {PUBLISHED['tstr_accuracy_all']:.1%} all columns; TRTS "
                   f"{PUBLISHED['trts_accuracy_numeric']:.1%}. Seed {seed}; the report trained once.")
        so.table(show, csv_name="summary")
        so.results = {"summary": show.to_dict("records"), "published": PUBLISHED, "n_train": len(train),
                      "n_test": len(test)}
        _figures(so, keep, train, test, seed, snap_steps)
        return so.finish()
    except BaseException:
        so.abort()
        raise


def _score(variant, name, preset, syn, tr, te, fake, seed, quick=False) -> dict:
    schema = syn.schema_
    fid = fidelity(tr, fake, schema)
    util = utility(tr, te, fake, schema, TARGET, classifiers=CLASSIFIERS[:1] + CLASSIFIERS[2:3] if quick else CLASSIFIERS,
                   seed=seed, max_rows=10_000)
    priv = privacy(tr, te, fake, schema, seed=seed, max_synthetic=3000)
    return {"columns": variant, "model": name, "preset": preset, "steps": syn.trainer_.step,
            "train s": round(syn.trainer_.train_seconds, 1),
            "column shapes": round(fid.column_shapes, 3), "pair trends": round(fid.pair_trends, 3),
            "TSTR accuracy": round(util.mean("tstr", "accuracy"), 3),
            "TRTR accuracy": round(util.mean("trtr", "accuracy"), 3),
            "TRTS accuracy": round(util.mean("trts", "accuracy"), 3),
            "TSTR AUC": round(util.mean("tstr", "roc_auc"), 3),
            "closer to train (baseline)": f"{priv.closer_to_train_share:.3f} ({priv.closer_to_train_baseline:.3f})",
            "Mann-Whitney p": float(f"{priv.mann_whitney_p:.3g}"), "Wilcoxon p": float(f"{priv.wilcoxon_p:.3g}"),
            "Kruskal p": float(f"{priv.kruskal_p:.3g}"),
            "_fid": fid, "_priv": priv,
            "_per_classifier": {k: v.accuracy for k, v in util.scores["tstr"].items()}}


def _figures(so, keep, train, test, seed, snap_steps):
    p = plt()
    for variant in ("numeric", "all columns"):
        fig, axes = p.subplots(len(MODELS), len(snap_steps), figsize=(3 * len(snap_steps), 2.7 * len(MODELS)),
                               sharex=True, sharey=True)
        real = train.sample(1000, random_state=seed)
        for i, name in enumerate(MODELS):
            _, frames, _ = keep[(variant, name)]
            for j, st in enumerate(snap_steps):
                ax = axes[i, j]
                ax.scatter(real["age"], real["hours-per-week"], s=2, c="lightgray")
                f = frames[st]
                col = np.where(f[TARGET].astype(str) == ">50K", "tab:orange", "tab:blue")
                ax.scatter(f["age"], f["hours-per-week"], s=2, c=col, alpha=0.6)
                if i == 0:
                    ax.set_title(f"step {st}")
                if j == 0:
                    ax.set_ylabel(f"{name}\nhours-per-week")
                if i == len(MODELS) - 1:
                    ax.set_xlabel("age")
        fig.tight_layout()
        so.figure(fig, f"age_hours_{variant.split()[0]}", f"{variant}: age vs hours per week of generated rows over "
                  f"training (grey: real; orange: >50K, blue: <=50K)")
    for key, label in ((("numeric", "WCGAN-GP"), "numeric, WCGAN-GP"), (("all columns", "WCGAN-GP"),
                                                                          "all columns, WCGAN-GP"),
                       (("all columns", "default"), "all columns, ganforge default")):
        syn, _, fake = keep[key]
        slug = label.replace(", ", "_").replace(" ", "-")
        so.png(plots.pair_plot(train, fake, syn.schema_, max_columns=6), f"pairs_{slug}",
               f"Pair plot, real (blue) vs synthetic (orange): {label}")
        so.png(plots.association_heatmaps(fidelity(train[syn.schema_.names], fake, syn.schema_)), f"assoc_{slug}",
               f"Association matrices (Pearson / Cramer's V / correlation ratio), real, synthetic and difference: {label}")
        so.png(plots.distance_histograms(privacy(train[syn.schema_.names], test[syn.schema_.names], fake,
                                                 syn.schema_, seed=seed, max_synthetic=3000)),
               f"nn_{slug}", f"Distance of synthetic rows to the closest train and test row: {label}")
    fig, axes = p.subplots(1, 2, figsize=(13, 4))
    for ax, variant in zip(axes, ("numeric", "all columns")):
        for name in MODELS:
            h = keep[(variant, name)][0].history_
            ax.plot(h["step"], h["d_loss"].rolling(max(1, len(h) // 100)).mean(), label=name)
        ax.set_title(f"{variant}: discriminator / critic loss")
        ax.set_xlabel("step")
        ax.legend()
    so.figure(fig, "critic_losses", "Discriminator (GAN, CGAN: BCE) and critic (WGAN-GP, WCGAN-GP) losses, moving average")
    syn, _, fake = keep[("all columns", "default")]
    syn2, _, fake2 = keep[("all columns", "WCGAN-GP")]
    fig, axes = p.subplots(1, 2, figsize=(12, 5))
    for ax, (s, f, lab) in zip(axes, ((syn2, fake2, "WCGAN-GP, ons-paper"), (syn, fake, "WCGAN-GP, ganforge default"))):
        pr = [x for x in projections(train[s.schema_.names], f, s.schema_, seed=seed, n=1000) if x.method != "pca"]
        if pr:
            ax.scatter(pr[0].real[:, 0], pr[0].real[:, 1], s=3, alpha=0.4, label="real")
            ax.scatter(pr[0].synthetic[:, 0], pr[0].synthetic[:, 1], s=3, alpha=0.4, label="synthetic")
        ax.set_title(f"t-SNE: {lab}")
        ax.legend()
    so.figure(fig, "tsne", "t-SNE of 1,000 real and 1,000 synthetic rows (all columns)")
