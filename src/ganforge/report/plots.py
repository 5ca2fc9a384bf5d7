"""Figures of an evaluation, as PNG bytes. They draw results; they compute no metric."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

REAL, SYN = "#1f77b4", "#ff7f0e"


def pyplot():
    """matplotlib's pyplot on the Agg backend (files, no screen), imported on first use."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    pyplot().close(fig)
    return buf.getvalue()


def marginals(real: pd.DataFrame, synth: pd.DataFrame, schema, max_columns: int = 30) -> bytes:
    plt = pyplot()
    cols = schema.columns[:max_columns]
    ncol = 4
    nrow = int(np.ceil(len(cols) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 2.8 * nrow), squeeze=False)
    for ax, spec in zip(axes.ravel(), cols):
        r, s = real[spec.name], synth[spec.name]
        if spec.is_numeric:
            rv = pd.to_numeric(r, errors="coerce").dropna().astype(float)
            sv = pd.to_numeric(s, errors="coerce").dropna().astype(float)
            lo, hi = np.nanpercentile(np.r_[rv, sv], [0.5, 99.5]) if len(rv) + len(sv) else (0, 1)
            bins = np.linspace(lo, hi if hi > lo else lo + 1, 40)
            ax.hist(rv.clip(lo, hi), bins=bins, density=True, alpha=0.55, color=REAL, label="real")
            ax.hist(sv.clip(lo, hi), bins=bins, density=True, alpha=0.55, color=SYN, label="synthetic")
        else:
            p = r.astype(object).where(r.notna(), "<missing>").value_counts(normalize=True)
            q = s.astype(object).where(s.notna(), "<missing>").value_counts(normalize=True)
            top = p.index[:12]
            x = np.arange(len(top))
            ax.bar(x - 0.2, p.reindex(top).fillna(0), 0.4, color=REAL, label="real")
            ax.bar(x + 0.2, q.reindex(top).fillna(0), 0.4, color=SYN, label="synthetic")
            ax.set_xticks(x, [str(t)[:12] for t in top], rotation=60, fontsize=7)
        ax.set_title(spec.name, fontsize=9)
    for ax in axes.ravel()[len(cols):]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    fig.tight_layout()
    return _png(fig)


def association_heatmaps(fid) -> bytes:
    plt = pyplot()
    names = list(fid.association_real.columns)
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))
    for ax, (title, m, cmap, vmin) in zip(axes, [
        ("real", fid.association_real, "coolwarm", -1), ("synthetic", fid.association_synthetic, "coolwarm", -1),
        ("|real - synthetic|", fid.association_difference, "Reds", 0)]):
        im = ax.imshow(m.to_numpy(float), cmap=cmap, vmin=vmin, vmax=1)
        ax.set_title(title)
        ax.set_xticks(range(len(names)), [n[:14] for n in names], rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), [n[:14] for n in names], fontsize=7)
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return _png(fig)


def projection(p) -> bytes:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(p.real[:, 0], p.real[:, 1], s=4, alpha=0.4, color=REAL, label="real")
    if p.groups:
        colors = {"fooled": "#2ca02c", "not fooled": "#d62728"}
        for k, v in p.groups.items():
            ax.scatter(v[:, 0], v[:, 1], s=14, alpha=0.9, color=colors.get(k), label=f"synthetic, {k}")
    else:
        ax.scatter(p.synthetic[:, 0], p.synthetic[:, 1], s=4, alpha=0.4, color=SYN, label="synthetic")
    title = "PCA" if p.method == "pca" else "t-SNE"
    if p.explained:
        title += f" (explained variance {sum(p.explained):.0%})"
    ax.set_title(title)
    ax.legend(fontsize=8, markerscale=2)
    return _png(fig)


def pair_plot(real: pd.DataFrame, synth: pd.DataFrame, schema, max_columns: int = 5, n: int = 800,
              seed: int = 0) -> bytes | None:
    plt = pyplot()
    cols = [c.name for c in schema.columns if c.is_numeric][:max_columns]
    if len(cols) < 2:
        return None
    r = real[cols].sample(min(n, len(real)), random_state=seed).apply(pd.to_numeric, errors="coerce").astype(float)
    s = synth[cols].sample(min(n, len(synth)), random_state=seed).apply(pd.to_numeric, errors="coerce").astype(float)
    k = len(cols)
    fig, axes = plt.subplots(k, k, figsize=(2.4 * k, 2.4 * k), squeeze=False)
    for i, a in enumerate(cols):
        for j, b in enumerate(cols):
            ax = axes[i, j]
            if i == j:
                ax.hist(r[a].dropna().astype(float), bins=30, alpha=0.5, color=REAL, density=True)
                ax.hist(s[a].dropna().astype(float), bins=30, alpha=0.5, color=SYN, density=True)
            else:
                ax.scatter(r[b], r[a], s=2, alpha=0.3, color=REAL)
                ax.scatter(s[b], s[a], s=2, alpha=0.3, color=SYN)
            if i == k - 1:
                ax.set_xlabel(b[:14], fontsize=7)
            if j == 0:
                ax.set_ylabel(a[:14], fontsize=7)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    return _png(fig)


def loss_curves(history: pd.DataFrame) -> bytes:
    plt = pyplot()
    has_w = "wasserstein" in history and history["wasserstein"].notna().any()
    fig, axes = plt.subplots(1, 2 if has_w else 1, figsize=(12 if has_w else 6, 4), squeeze=False)
    ax = axes[0, 0]
    ax.plot(history["step"], history["g_loss"], label="generator", lw=0.8)
    ax.plot(history["step"], history["d_loss"], label="discriminator / critic", lw=0.8)
    ax.set_xlabel("step")
    ax.set_title("losses")
    ax.legend()
    if has_w:
        axes[0, 1].plot(history["step"], history["wasserstein"], color="#2ca02c", lw=0.8)
        axes[0, 1].set_title("Wasserstein estimate (critic)")
        axes[0, 1].set_xlabel("step")
    return _png(fig)


def distance_histograms(priv) -> bytes:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    d_tr, d_te = np.asarray(priv.dcr_train), np.asarray(priv.dcr_test)
    hi = np.percentile(np.r_[d_tr, d_te], 99) if len(d_tr) else 1
    bins = np.linspace(0, hi or 1, 50)
    ax.hist(d_tr.clip(0, hi), bins=bins, alpha=0.55, label="to closest train row", color=REAL)
    ax.hist(d_te.clip(0, hi), bins=bins, alpha=0.55, label="to closest test row", color=SYN)
    ax.set_xlabel("distance (scaled numerics + one-hot)")
    ax.set_title("synthetic rows: distance to the closest real record")
    ax.legend()
    return _png(fig)


def all_figures(result: Any) -> dict[str, bytes]:
    figs: dict[str, bytes] = {}
    if result.real is not None and result.synthetic is not None:
        figs["marginals"] = marginals(result.real, result.synthetic, result.schema)
        pp = pair_plot(result.real, result.synthetic, result.schema)
        if pp:
            figs["pair_plot"] = pp
    if len(result.fidelity.association_real.columns) > 1:
        figs["associations"] = association_heatmaps(result.fidelity)
    for p in result.projections:
        figs[p.method] = projection(p)
    if result.privacy:
        figs["distances"] = distance_histograms(result.privacy)
    if result.history is not None and len(result.history):
        figs["losses"] = loss_curves(result.history)
    return figs


def image_grid(ax, imgs: np.ndarray, ncol: int = 10, title: str = "") -> None:
    """Images (values in [0, 1], greyscale) drawn on one axis in rows of ``ncol``."""
    import math

    n = len(imgs)
    nrow = max(1, math.ceil(n / ncol))
    h, w = imgs.shape[-2:]
    canvas = np.ones((nrow * (h + 2), ncol * (w + 2)))
    for k, im in enumerate(imgs):
        r, c = divmod(k, ncol)
        canvas[r * (h + 2) + 1:r * (h + 2) + 1 + h, c * (w + 2) + 1:c * (w + 2) + 1 + w] = im.reshape(h, w)
    ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)
