"""Imbalanced MNIST: remove most images of one digit, generate new ones with convolutional GANs,
and compare what they add to a CNN classifier with classic crop/rotate augmentation.

The data folder holds the MNIST test split (10,000 images), split here 7,000 / 3,000 stratified
(seed 0). Per seed: keep ``keep`` images of the minority digit (a different random subset per
seed), train the generators on that imbalanced set (the conditional WGAN-GP on all of it; the
one-class WGAN-GP and the progressive WGAN-GP on the kept minority images only), then train the
classifier on the imbalanced set alone, plus N generated images, plus N crop/rotate images, and,
as a ceiling, on the full balanced split. Image quality: Frechet distance and classifier
confidence with the features of the CNN trained on the balanced split. A VAE with a 2-D latent
space pictures the imbalanced training set and the test set.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pandas as pd
import torch

from ... import datasets
from ...errors import ConfigError
from ..image_augment import (crop_rotate, features, minority_figures, predict_proba, train_classifier)
from ...images import ImageSynthesizer
from ...metrics.images import image_quality
from ...report.plots import image_grid
from .common import StudyOutput, mean_sd, plt

GENERATORS = {
    "cwgan": "conditional WGAN-GP (all classes, labels balanced)",
    "wgan": "WGAN-GP on the minority images only",
    "progan": "progressive WGAN-GP (7 -> 14 -> 28) on the minority images only",
}
DEFAULT_ADD = [100, 1000, 2000, 4500]
#: generator steps per model: what fits three seeds of the whole study in 45 minutes on 2 CPU cores
#: (about 0.13 s per step for the WGAN-GPs with one critic step, less for the progressive one)
STEPS = {"cwgan": 1500, "wgan": 1000, "progan": 1200}
QUICK_STEPS = 30
#: images per set for the Frechet distance (its estimate depends on the set size: compare equal sizes)
QUALITY_N = 500


def split_images(images: np.ndarray, labels: np.ndarray):
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    tr, te = train_test_split(idx, train_size=7000, test_size=3000, stratify=labels, random_state=0)
    return np.sort(tr), np.sort(te)


def _confusion(ax, y_true, y_pred, title: str, k: int = 10) -> None:
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, labels=list(range(k)))
    ax.imshow(cm, cmap="Blues")
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    ax.set_xlabel("predicted", fontsize=8)
    ax.set_ylabel("true", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.set_title(title, fontsize=9)


def parse_options(minority: int | None, keep: int | None, keep_fraction: float | None, add: list[int] | None,
                  models: list[str] | None) -> dict[str, Any]:
    minority = 5 if minority is None else int(minority)
    if not 0 <= minority <= 9:
        raise ConfigError(f"`minority` {minority}: MNIST digits are 0 to 9")
    if keep is not None and keep_fraction is not None:
        raise ConfigError("give `keep` or `keep_fraction`, not both")
    if keep_fraction is not None and not 0 < keep_fraction < 1:
        raise ConfigError(f"`keep_fraction` {keep_fraction}: expected a fraction between 0 and 1, e.g. 0.01")
    if keep is not None and keep < 2:
        raise ConfigError(f"`keep` {keep}: keep at least 2 minority images (the generators learn from them)")
    add = sorted(set(add if add is not None else DEFAULT_ADD))
    if not add or min(add) <= 0:
        raise ConfigError(f"`add` {add}: give positive image counts, e.g. 100,1000,2000,4500")
    models = models if models is not None else list(GENERATORS)
    bad = [m for m in models if m not in GENERATORS]
    if bad:
        raise ConfigError(f"`models` {','.join(bad)}: unknown; choose among {', '.join(GENERATORS)}")
    return {"minority": minority, "keep": keep, "keep_fraction": keep_fraction, "add": add, "models": models}


def run(out, data_dir=None, quick: bool = False, seeds: list[int] | None = None, device: str = "auto",
        minority: int | None = None, keep: int | None = None, keep_fraction: float | None = None,
        add: list[int] | None = None, models: list[str] | None = None) -> Any:
    opt = parse_options(minority, keep, keep_fraction, add, models)
    if quick and add is None:
        opt["add"] = [100, 1000]
    seeds = seeds or ([0] if quick else [0, 1, 2])
    images, labels = datasets.load_mnist(data_dir)
    labels = labels.astype(np.int64)
    tr_idx, te_idx = split_images(images, labels)
    m = opt["minority"]
    n_min = int((labels[tr_idx] == m).sum())
    keep_n = opt["keep"] if opt["keep"] is not None else (
        max(2, round(opt["keep_fraction"] * n_min)) if opt["keep_fraction"] is not None else 54)
    if keep_n >= n_min:
        raise ConfigError(f"`keep` {keep_n}: the training split has only {n_min} images of digit {m}; keep fewer")
    from ...training.kernels import resolve_device

    dev = resolve_device(device)
    gan_preset = "quick" if quick else "default"
    epochs = 1 if quick else 5
    so = StudyOutput("mnist", out, quick=quick, seeds=seeds,
                     title=f"Imbalanced MNIST: generated digit {m}s against crop/rotate augmentation",
                     command=("ganforge study mnist" + (" --quick" if quick else "")
                              + (f" --minority {m}" if m != 5 else "") + (f" --keep {keep_n}" if keep_n != 54 else "")
                              + (f" --add {','.join(map(str, opt['add']))}" if add is not None else "")
                              + (f" --models {','.join(opt['models'])}" if opt["models"] != list(GENERATORS) else "")))
    try:
        X01 = torch.as_tensor(images.astype(np.float32) / 255.0)[:, None].to(dev)
        y = torch.as_tensor(labels).to(dev)
        Xtr_all, ytr_all = X01[tr_idx], y[tr_idx]
        Xte, yte = X01[te_idx], y[te_idx]
        yte_np = labels[te_idx]
        te_min = Xte[yte == m]
        rows, curves, preds, quality, grids, gan_hist, timing = [], {}, {}, [], {}, {}, []
        vae_plot = None
        for s in seeds:
            rng = np.random.default_rng(1000 + s)
            min_pos = np.flatnonzero(labels[tr_idx] == m)
            kept = rng.choice(min_pos, keep_n, replace=False)
            mask = labels[tr_idx] != m
            mask[kept] = True
            Xim, yim = Xtr_all[torch.as_tensor(mask, device=dev)], ytr_all[torch.as_tensor(mask, device=dev)]
            Xkept = Xtr_all[torch.as_tensor(kept, device=dev)]

            def fit_clf(X, yy, name, n_add):
                t = time.perf_counter()
                r = train_classifier(X, yy, Xte, yte, 10, epochs=epochs, seed=s)
                fig = minority_figures(yte_np, r.test_pred, m)
                rows.append({"method": name, "added": n_add, "seed": s, **fig, "train_images": len(X),
                             "seconds": round(time.perf_counter() - t, 1)})
                if s == seeds[0]:
                    curves[(name, n_add)] = r.curves
                    preds[(name, n_add)] = r.test_pred
                return r

            # ceiling first: its network is the feature extractor for image quality
            ceiling = fit_clf(Xtr_all, ytr_all, "balanced real (ceiling)", 0)
            ref_feat = features(ceiling.model, te_min)
            fit_clf(Xim, yim, "imbalanced (baseline)", 0)

            def judge(name, imgs01):
                q = image_quality(features(ceiling.model, imgs01), predict_proba(ceiling.model, imgs01), m,
                                  ref_feat, seed=s)
                quality.append({"images": name, "seed": s, **q.to_dict()})

            held_out = Xtr_all[torch.as_tensor(np.setdiff1d(min_pos, kept), device=dev)][:QUALITY_N]
            judge(f"real {m}s not kept (reference; seen by the feature network)", held_out)
            judge(f"the {keep_n} kept real {m}s", Xkept)

            biggest = max(opt["add"])
            candidates: dict[str, torch.Tensor] = {}
            for gname in opt["models"]:
                t = time.perf_counter()
                over = {"seed": s, "device": str(dev), "steps": QUICK_STEPS if quick else STEPS[gname]}
                syn = ImageSynthesizer(gname, gan_preset, **over)
                if gname == "cwgan":
                    syn.fit(Xim.cpu().numpy(), yim.cpu().numpy())
                else:
                    syn.fit(Xkept.cpu().numpy(), np.full(keep_n, m), label=m)
                fake = torch.as_tensor(syn.sample(biggest, label=m, seed=10_000 + s), device=dev)
                timing.append({"generator": gname, "seed": s, "steps": syn.trainer_.step,
                               "fit_seconds": round(syn.fit_seconds_, 1)})
                candidates[gname] = fake
                if s == seeds[0]:
                    grids[gname] = fake[:40].cpu().numpy()
                    gan_hist[gname] = syn.history_
            candidates["crop/rotate"] = crop_rotate(Xkept, biggest, seed=20_000 + s)
            if s == seeds[0]:
                grids["crop/rotate"] = candidates["crop/rotate"][:40].cpu().numpy()
                grids[f"kept real {m}s"] = Xkept[:40].cpu().numpy()
            for cname, imgs in candidates.items():
                judge(cname, imgs[:QUALITY_N])
                for n_add in opt["add"]:
                    Xa = torch.cat([Xim, imgs[:n_add]])
                    ya = torch.cat([yim, torch.full((n_add,), m, device=dev, dtype=yim.dtype)])
                    fit_clf(Xa, ya, cname, n_add)
            if s == seeds[0]:
                t = time.perf_counter()
                vae = ImageSynthesizer("vae", gan_preset, seed=s, device=str(dev)).fit(Xim.cpu().numpy())
                # the mean loss of the last epoch's steps (the history has one row per step)
                last = vae.history_["vae_loss"].tail(-(-len(Xim) // vae.config.batch_size))
                vae_plot = (vae.embed(Xim.cpu().numpy()), yim.cpu().numpy(), vae.embed(Xte.cpu().numpy()), yte_np,
                            float(last.mean()), vae.sample(40, seed=s), time.perf_counter() - t)

        res = pd.DataFrame(rows)
        qual = pd.DataFrame(quality)
        so.frame(res, "classifier_runs")
        so.frame(qual, "image_quality_runs")
        so.frame(pd.DataFrame(timing), "generator_timing")
        _write(so, res, qual, pd.DataFrame(timing), curves, preds, grids, gan_hist, vae_plot, yte_np, m, keep_n,
               n_min, seeds, opt, len(tr_idx), len(te_idx))
        return so.finish()
    except BaseException:
        so.abort()
        raise


def _summary(res: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (method, added), g in res.groupby(["method", "added"], sort=False):
        out.append({"method": method, "added": int(added), "seeds": len(g),
                    "accuracy": mean_sd(g["accuracy"]), "minority recall": mean_sd(g["recall"]),
                    "minority precision": mean_sd(g["precision"]), "minority F1": mean_sd(g["f1"]),
                    "_recall": g["recall"].mean(), "_recall_sd": g["recall"].std(ddof=1) if len(g) > 1 else 0.0})
    return pd.DataFrame(out)


def _write(so, res, qual, timing, curves, preds, grids, gan_hist, vae_plot, yte, m, keep_n, n_min, seeds, opt,
           n_train, n_test):
    pyplot = plt()
    summ = _summary(res)
    base = summ[summ["method"] == "imbalanced (baseline)"].iloc[0]
    so.results["options"] = {**opt, "keep": keep_n, "minority_in_split": n_min, "train_images": n_train,
                             "test_images": n_test}
    so.results["summary"] = summ.drop(columns=["_recall", "_recall_sd"]).to_dict("records")
    so.results["runs"] = res.to_dict("records")
    so.results["image_quality"] = qual.to_dict("records")
    so.results["generator_timing"] = timing.to_dict("records")

    so.section("Set-up", (
        f"MNIST test split (10,000 images) divided 7,000 / 3,000, stratified with seed 0 (the training split "
        f"is not in the data folder). Digit {m} has {n_min} images in the 7,000; {keep_n} are kept (a different "
        f"random subset per seed), so the imbalanced training set has {n_train - n_min + keep_n} images. "
        f"Generators: " + "; ".join(f"`{g}`: {GENERATORS[g]}" for g in opt["models"]) + ". "
        f"Crop/rotate: a random kept image rotated by up to ±10° and cropped to 85-100% of its side, resized "
        f"back. Classifier: two 3x3 conv + max-pool blocks and a 64-wide hidden layer, Adam, "
        f"{int(curves[next(iter(curves))]['epoch'].max())} epoch(s); each row below is a fresh classifier "
        f"trained on the imbalanced set plus the added {m}s, tested on the 3,000 held-out images "
        f"({int((yte == m).sum())} of them {m}s). Mean ± standard deviation over seeds {', '.join(map(str, seeds))} "
        f"(the seed moves the kept subset, the generators and the classifier)."))

    # headline table
    show = summ.drop(columns=["_recall", "_recall_sd"])
    so.table(show, f"Classifier on the 3,000 test images: overall accuracy and the figures of digit {m}",
             csv_name="summary")
    best = {}
    for method, g in summ[~summ["method"].isin(["imbalanced (baseline)", "balanced real (ceiling)"])].groupby(
            "method", sort=False):
        b = g.loc[g["_recall"].idxmax()]
        best[method] = b
    lines = [f"Baseline recall of digit {m}: {base['_recall']:.3f} ± {base['_recall_sd']:.3f}."]
    cr = best.get("crop/rotate")
    for method, b in best.items():
        gain = b["_recall"] - base["_recall"]
        spread = max(b["_recall_sd"], base["_recall_sd"])
        if len(seeds) < 2:
            verdict = "one seed, so no spread to judge it by"
        else:
            verdict = "more than the seed spread" if gain > spread else "within the seed spread (not a clear gain)"
        vs = ""
        if cr is not None and method != "crop/rotate":
            d = b["_recall"] - cr["_recall"]
            vs = (f"; {'above' if d > 0 else 'below'} crop/rotate's best ({cr['_recall']:.3f}) by {abs(d):.3f}")
        lines.append(f"- **{method}**: best recall {b['_recall']:.3f} ± {b['_recall_sd']:.3f} with {int(b['added'])} "
                     f"added images, {gain:+.3f} over the baseline, {verdict}{vs}.")
    so.results["reading"] = lines
    so.text("\n".join(lines))

    # recall vs added count
    fig, axes = pyplot.subplots(1, 2, figsize=(11, 4))
    for method, g in summ[~summ["method"].isin(["imbalanced (baseline)", "balanced real (ceiling)"])].groupby(
            "method", sort=False):
        sub = res[res["method"] == method].groupby("added")
        for ax, col in zip(axes, ("recall", "f1")):
            mu, sd = sub[col].mean(), sub[col].std(ddof=1).fillna(0)
            ax.errorbar(mu.index, mu.values, yerr=sd.values, marker="o", capsize=3, label=method)
    for ax, col in zip(axes, ("recall", "f1")):
        for ref, style in (("imbalanced (baseline)", "--"), ("balanced real (ceiling)", ":")):
            v = res[res["method"] == ref][col]
            ax.axhline(v.mean(), ls=style, color="grey", label=ref)
        ax.set_xscale("log")
        ax.set_xlabel(f"generated / augmented {m}s added")
        ax.set_ylabel(f"digit {m} {col}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    so.figure(fig, "recall_vs_added", f"Recall and F1 of digit {m} against the number of added images "
                                      f"(mean and standard deviation over seeds)")

    # image quality
    qsum = []
    for name, g in qual.groupby("images", sort=False):
        qsum.append({"images": name, "frechet distance": mean_sd(g["frechet"], 2),
                     f"confidence it is a {m}": mean_sd(g["confidence"]),
                     f"share classified {m}": mean_sd(g["share_as_intended"]),
                     "diversity": mean_sd(g["diversity"], 2)})
    so.section("Image quality", (
        f"Features and probabilities from the CNN trained on the balanced 7,000 (the ceiling classifier of the "
        f"same seed); the Frechet distance is to the features of the {int((yte == m).sum())} test {m}s; "
        f"diversity is the mean pairwise feature distance relative to those test images (1 = as varied, "
        f"below 1 = repetitive). Each set: {QUALITY_N} images (at most as many as were generated), except the "
        f"{keep_n} kept real {m}s, whose distance is inflated by their small number (fewer images than the 64 "
        f"features). The real {m}s were training images of the feature network, which flatters them. No Inception network is downloaded, so "
        f"these distances are not comparable with published FID values."))
    so.results["image_quality_summary"] = qsum
    so.table(pd.DataFrame(qsum), "Quality of each image source", csv_name="image_quality")

    # grids
    fig, axes = pyplot.subplots(len(grids), 1, figsize=(8, 1.9 * len(grids)))
    for ax, (name, imgs) in zip(np.atleast_1d(axes), grids.items()):
        image_grid(ax, imgs[:, 0], title=name)
    so.figure(fig, "generated_grids", f"Digit {m}s from each source (seed {seeds[0]}, first 40, not picked)")

    # confusion matrices: baseline, ceiling, and each method at its largest count
    keys = [("imbalanced (baseline)", 0), ("balanced real (ceiling)", 0)]
    keys += [(meth, max(opt["add"])) for meth in best]
    fig, axes = pyplot.subplots(2, math.ceil(len(keys) / 2), figsize=(4 * math.ceil(len(keys) / 2), 8))
    for ax, k in zip(np.ravel(axes), keys):
        _confusion(ax, yte, preds[k], f"{k[0]}" + (f" +{k[1]}" if k[1] else ""))
    for ax in np.ravel(axes)[len(keys):]:
        ax.set_axis_off()
    so.figure(fig, "confusion_matrices", f"Confusion matrices on the test images (seed {seeds[0]})")

    # curves
    ks = [("imbalanced (baseline)", 0)] + [(meth, n) for meth in best for n in (min(opt["add"]), max(opt["add"]))]
    fig, axes = pyplot.subplots(1, 2, figsize=(12, 4))
    for k in ks:
        cv = curves[k]
        lab = k[0] + (f" +{k[1]}" if k[1] else "")
        line = axes[0].plot(cv["epoch"], cv["train_loss"], ls="--", lw=1)[0]
        axes[0].plot(cv["epoch"], cv["test_loss"], color=line.get_color(), lw=1.5, label=lab)
        axes[1].plot(cv["epoch"], cv["train_acc"], ls="--", lw=1, color=line.get_color())
        axes[1].plot(cv["epoch"], cv["test_acc"], color=line.get_color(), lw=1.5, label=lab)
    axes[0].set_ylabel("cross-entropy")
    axes[1].set_ylabel("accuracy")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=6)
    so.figure(fig, "classifier_curves", f"Classifier train (dashed) and test (solid) loss and accuracy per epoch "
                                        f"(seed {seeds[0]})")
    so.results["curves"] = {f"{k[0]} +{k[1]}": v.to_dict("list") for k, v in curves.items()}

    # GAN losses
    if gan_hist:
        fig, axes = pyplot.subplots(1, len(gan_hist), figsize=(4.5 * len(gan_hist), 3.5))
        for ax, (name, h) in zip(np.atleast_1d(axes), gan_hist.items()):
            ax.plot(h["step"], h["wasserstein"], lw=1, label="Wasserstein estimate")
            ax.plot(h["step"], h["g_loss"], lw=1, label="generator loss")
            ax.set_title(name, fontsize=9)
            ax.set_xlabel("generator step")
            ax.grid(alpha=0.3)
        np.atleast_1d(axes)[0].legend(fontsize=7)
        so.figure(fig, "gan_losses", f"Generator training (seed {seeds[0]})")
    so.table(timing.groupby("generator", sort=False).agg(steps=("steps", "first"),
                                                        fit_seconds=("fit_seconds", "mean")).reset_index(),
             "Generator training budget (mean seconds over seeds)")

    # VAE picture
    if vae_plot is not None:
        ztr, ytr_, zte, yte_, last_loss, samples, secs = vae_plot
        fig, axes = pyplot.subplots(1, 3, figsize=(15, 4.5), gridspec_kw={"width_ratios": [1, 1, 0.9]})
        for ax, z, yy, title in ((axes[0], ztr, ytr_, "imbalanced training set"), (axes[1], zte, yte_, "test set")):
            sc = ax.scatter(z[:, 0], z[:, 1], c=yy, cmap="tab10", s=3, vmin=-0.5, vmax=9.5)
            mz = z[yy == m]
            ax.scatter(mz[:, 0], mz[:, 1], facecolors="none", edgecolors="black", s=18, lw=0.6, label=f"digit {m}")
            ax.set_title(f"VAE latent means, {title}", fontsize=9)
            ax.legend(fontsize=7)
        fig.colorbar(sc, ax=axes[1], ticks=range(10))
        image_grid(axes[2], samples[:, 0] if samples.ndim == 4 else samples, ncol=8, title="VAE samples")
        so.figure(fig, "vae_latent", f"A VAE with a 2-D latent space (trained {secs:.0f} s on the imbalanced set): "
                                     f"each image placed at its latent mean, coloured by digit")
        so.results["vae_final_loss"] = last_loss
