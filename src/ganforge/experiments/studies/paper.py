"""The Pima diabetes / German credit course report: a vanilla GAN (preset ``pima-paper``), the
samples that fooled its discriminator next to their closest real rows, how many of 100 pass,
a PCA picture of real / fooled / not fooled, and the loss curves. The report trained once; we
train several seeds and give mean and spread."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ... import datasets
from ...metrics.detection import detection
from ...metrics.fidelity import column_fidelity
from ...metrics.privacy import nearest
from ...synthesizer import Synthesizer
from .common import StudyOutput, mean_sd, plt

#: the report's figures (docs/studies/pima.md has their provenance)
PUBLISHED = {
    "pima": {"fooled_of_100": 82, "mean_distance_fooled": 0.374, "mean_distance_not_fooled": 0.471},
    "german": {"fooled_of_100": 29, "mean_distance_fooled": 3.433, "mean_distance_not_fooled": 3.433},
}
SETTINGS = {
    "pima": {"latent_dim": 8, "title": "Pima diabetes: a vanilla GAN and the samples that fool it"},
    "german": {"latent_dim": 20, "title": "German credit: a vanilla GAN and the samples that fool it"},
}


def _load(name: str, data_dir):
    if name == "pima":
        return datasets.load_pima(data_dir), "Outcome"
    return datasets.load_german(data_dir), "class"


def _one_seed(df: pd.DataFrame, name: str, seed: int, quick: bool, n_probe: int = 100) -> dict:
    overrides = {"latent_dim": SETTINGS[name]["latent_dim"], "seed": seed, "device": "cpu"}
    if quick:
        overrides["epochs"] = 15
    syn = Synthesizer("gan", "pima-paper", **overrides).fit(df)
    fakes = syn.sample(n_probe, seed=10_000 + seed)
    p_real = syn.discriminator_scores(fakes)
    fooled = p_real > 0.5
    # distances in the model's own scaled space (min-max to [-1, 1], one-hot / ordinal codes), as the report did
    enc_real = syn.encoder_.transform(df)
    enc_fake = syn.encoder_.transform(fakes)
    dist, idx = nearest(enc_real, enc_fake)
    big = syn.sample(len(df), seed=20_000 + seed)
    fid = column_fidelity(df, big, syn.schema_)
    det = detection(df, big, syn.schema_, seed=seed)
    real_p = syn.discriminator_scores(df.sample(min(len(df), 500), random_state=seed))
    return {"seed": seed, "syn": syn, "fakes": fakes, "p_real": p_real, "fooled": fooled, "dist": dist,
            "closest": df.iloc[idx].reset_index(drop=True), "enc_real": enc_real, "enc_fake": enc_fake,
            "n_fooled": int(fooled.sum()),
            "mean_distance_fooled": float(dist[fooled].mean()) if fooled.any() else float("nan"),
            "mean_distance_not_fooled": float(dist[~fooled].mean()) if (~fooled).any() else float("nan"),
            "real_rows_passing": float((real_p > 0.5).mean()),
            "column_shapes": float(np.mean([c.score for c in fid])), "detection_auc": det.cv_auc,
            "steps": syn.trainer_.step, "train_seconds": syn.trainer_.train_seconds,
            "history": syn.history_}


def _examples(run: dict, per_group: int = 5) -> pd.DataFrame:
    """Fakes next to their closest real rows, in original units (integers stay integers)."""
    rows = []
    fakes, closest, dist, fooled = run["fakes"], run["closest"], run["dist"], run["fooled"]
    for label, mask in (("fooled", fooled), ("not fooled", ~fooled)):
        for i in np.flatnonzero(mask)[:per_group]:
            for kind, frame in (("synthetic", fakes), ("closest real", closest)):
                r = {"group": label, "sample": int(i), "row": kind}
                for c in frame.columns:
                    v = frame.iloc[i][c]
                    r[c] = round(float(v), 3) if isinstance(v, (float, np.floating)) else v
                r["distance"] = round(float(dist[i]), 3)
                rows.append(r)
    return pd.DataFrame(rows)


def run(name: str, out, data_dir=None, quick: bool = False, seeds: list[int] | None = None) -> StudyOutput:
    if name not in SETTINGS:
        raise ValueError(name)
    seeds = seeds or ([0] if quick else [0, 1, 2, 3, 4])
    raw, target = _load(name, data_dir)
    df = raw.drop(columns=[target])  # the report learned the features only
    so = StudyOutput(name, out, quick=quick, seeds=seeds, title=SETTINGS[name]["title"])
    try:
        runs = [_one_seed(df, name, s, quick) for s in seeds]
        pub = PUBLISHED[name]
        summary = pd.DataFrame([
            {"measure": "generated rows of 100 judged real by the discriminator (D > 0.5)",
             "ours (mean ± sd over seeds)": mean_sd([r["n_fooled"] for r in runs], 1),
             "published (one run)": pub["fooled_of_100"]},
            {"measure": "mean distance to closest real row, fooled",
             "ours (mean ± sd over seeds)": mean_sd([r["mean_distance_fooled"] for r in runs]),
             "published (one run)": pub["mean_distance_fooled"]},
            {"measure": "mean distance to closest real row, not fooled",
             "ours (mean ± sd over seeds)": mean_sd([r["mean_distance_not_fooled"] for r in runs]),
             "published (one run)": pub["mean_distance_not_fooled"]},
            {"measure": "real rows judged real by the discriminator (share)",
             "ours (mean ± sd over seeds)": mean_sd([r["real_rows_passing"] for r in runs]),
             "published (one run)": "not reported"},
            {"measure": "column shapes (1 - mean KS/TVD), generated vs real",
             "ours (mean ± sd over seeds)": mean_sd([r["column_shapes"] for r in runs]),
             "published (one run)": "not reported"},
            {"measure": "XGBoost real-vs-generated ROC AUC (0.5 = indistinguishable)",
             "ours (mean ± sd over seeds)": mean_sd([r["detection_auc"] for r in runs]),
             "published (one run)": "not reported"},
        ])
        per_seed = pd.DataFrame([{k: r[k] for k in ("seed", "steps", "n_fooled", "mean_distance_fooled",
                                                      "mean_distance_not_fooled", "real_rows_passing",
                                                      "column_shapes", "detection_auc", "train_seconds")}
                                 for r in runs])
        # is the fooled group really closer? pooled over seeds, one-sided Mann-Whitney
        d_f = np.concatenate([r["dist"][r["fooled"]] for r in runs])
        d_n = np.concatenate([r["dist"][~r["fooled"]] for r in runs])
        p = float(stats.mannwhitneyu(d_f, d_n, alternative="less").pvalue) if len(d_f) and len(d_n) else float("nan")
        so.results = {"summary": summary.to_dict("records"), "per_seed": per_seed.to_dict("records"),
                      "fooled_closer_mann_whitney_p": p, "published": pub,
                      "n_fooled_pooled": int(len(d_f)), "n_not_fooled_pooled": int(len(d_n))}
        so.section("Summary", f"A vanilla GAN (preset `pima-paper`, latent size {SETTINGS[name]['latent_dim']}) "
                   f"learned the {len(df.columns)} feature columns of {len(df)} rows; the label column "
                   f"`{target}` was left out, as in the report. Each seed: 100 generated rows scored by "
                   f"the trained discriminator; distances are Euclidean in the model's scaled space (min-max "
                   f"to [-1, 1], categories one-hot / ordinal codes).")
        so.table(summary, csv_name="summary")
        so.text(f"Are the fakes that fooled the discriminator closer to real rows? Pooled over seeds "
                f"({len(d_f)} fooled, {len(d_n)} not fooled), one-sided Mann-Whitney U p = {p:.3g}.")
        so.section("Per seed")
        so.table(per_seed.round(4), csv_name="per_seed")
        so.section("Closest real rows (first seed)",
                   "Each generated row next to its closest real row; the distance is the same for the pair.")
        ex = _examples(runs[0])
        so.table(ex, csv_name="closest_rows")
        _figures(so, runs, df, name)
        return so.finish()
    except BaseException:
        so.abort()
        raise


def _figures(so: StudyOutput, runs: list[dict], df: pd.DataFrame, name: str) -> None:
    from sklearn.decomposition import PCA

    p = plt()
    r0 = runs[0]
    pca = PCA(2, random_state=0).fit(r0["enc_real"])
    R = pca.transform(r0["enc_real"])
    F = pca.transform(r0["enc_fake"])
    big = r0["syn"].sample(1000, seed=30_000)
    B = pca.transform(r0["syn"].encoder_.transform(big))
    fig, ax = p.subplots(1, 3, figsize=(15, 4.5), sharex=True, sharey=True)
    ax[0].scatter(R[:, 0], R[:, 1], s=6, c="tab:red", alpha=0.5, label="real")
    ax[0].scatter(F[r0["fooled"], 0], F[r0["fooled"], 1], s=18, c="tab:blue", label="fooled")
    ax[0].scatter(F[~r0["fooled"], 0], F[~r0["fooled"], 1], s=18, c="black", marker="x", label="not fooled")
    ax[0].set_title("100 generated rows: fooled / not fooled")
    ax[0].legend()
    ax[1].scatter(R[:, 0], R[:, 1], s=6, c="tab:red", alpha=0.5, label="real")
    ax[1].scatter(B[:, 0], B[:, 1], s=6, c="tab:blue", alpha=0.4, label="1,000 generated")
    ax[1].set_title("real and 1,000 generated rows")
    ax[1].legend()
    ax[2].scatter(R[:, 0], R[:, 1], s=6, c="tab:red", alpha=0.5)
    ax[2].set_title("real rows only")
    for a in ax:
        a.set_xlabel("PC 1")
    ax[0].set_ylabel("PC 2")
    so.figure(fig, "pca", f"{name}: PCA (fitted on the real rows) of real, fooled and not-fooled rows, seed {r0['seed']}")

    fig, ax = p.subplots(figsize=(8, 4))
    for i, r in enumerate(runs):
        h = r["history"]
        win = max(1, len(h) // 100)
        alpha = 1.0 if i == 0 else 0.3
        ax.plot(h["step"], h["d_loss"].rolling(win).mean(), c="tab:red", alpha=alpha,
                label="discriminator" if i == 0 else None)
        ax.plot(h["step"], h["g_loss"].rolling(win).mean(), c="tab:blue", alpha=alpha,
                label="generator" if i == 0 else None)
    ax.set_xlabel("training step")
    ax.set_ylabel("BCE loss (moving average)")
    ax.set_title(f"{name}: losses, seed {runs[0]['seed']} bold, other seeds faint")
    ax.legend()
    so.figure(fig, "losses", f"{name}: generator and discriminator losses over training")

    fig, ax = p.subplots(figsize=(6, 4))
    d_f = np.concatenate([r["dist"][r["fooled"]] for r in runs])
    d_n = np.concatenate([r["dist"][~r["fooled"]] for r in runs])
    bins = np.linspace(0, max(d_f.max() if len(d_f) else 1, d_n.max() if len(d_n) else 1), 30)
    ax.hist(d_f, bins=bins, alpha=0.6, label=f"fooled ({len(d_f)})", density=True)
    ax.hist(d_n, bins=bins, alpha=0.6, label=f"not fooled ({len(d_n)})", density=True)
    ax.set_xlabel("distance to the closest real row")
    ax.legend()
    so.figure(fig, "distances", f"{name}: distance to the closest real row, all seeds pooled")
