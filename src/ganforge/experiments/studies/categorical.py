"""The categorical cancer-registry project, on the open stand-ins it names (UCI mushroom and car
evaluation): a generator of three batch-normalised ReLU layers with one Gumbel-softmax head per
variable, a one-hidden-layer discriminator, trained with the BCE and the Wasserstein (gradient
penalty) loss. Per-variable distributions against the real data, and train-on-synthetic /
test-on-real accuracy and AUC against train-on-real."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ... import datasets
from ...metrics.fidelity import column_fidelity, fidelity
from ...metrics.utility import utility
from ...schema import infer_schema
from ...synthesizer import Synthesizer
from .common import StudyOutput, mean_sd, plt

DATA = {"mushroom": datasets.load_mushroom, "car": datasets.load_car}
VARIANTS = {"BCE (gan)": "gan", "Wasserstein-GP (wgan)": "wgan"}
CLASSIFIERS = ("logistic_regression", "random_forest", "xgboost")


def _one(df_train, df_test, schema, model, seed, quick):
    over = {"seed": seed, "device": "cpu"}
    if quick:
        over.update(epochs=2, min_steps=150)
    syn = Synthesizer(model, "registry-paper", **over).fit(df_train, schema=schema)
    fake = syn.sample(len(df_train), seed=50_000 + seed)
    cols = column_fidelity(df_train, fake, schema)
    util = utility(df_train, df_test, fake, schema, "class", seed=seed,
                   classifiers=("logistic_regression", "xgboost") if quick else CLASSIFIERS)
    fid = fidelity(df_train, fake, schema)
    unseen = sum(int((~fake[c].isin(df_train[c].dropna().unique()) & fake[c].notna()).sum()) for c in df_train)
    return {"syn": syn, "fake": fake, "tvd": {c.column: c.value for c in cols},
            "column_shapes": float(np.mean([c.score for c in cols])), "pair_trends": fid.pair_trends,
            "tstr_acc": util.mean("tstr", "accuracy"), "tstr_auc": util.mean("tstr", "roc_auc"),
            "trtr_acc": util.mean("trtr", "accuracy"), "trtr_auc": util.mean("trtr", "roc_auc"),
            "trts_acc": util.mean("trts", "accuracy"), "unseen_values": unseen,
            "steps": syn.trainer_.step, "train_seconds": syn.trainer_.train_seconds}


def run(out, data_dir=None, quick: bool = False, seeds: list[int] | None = None) -> StudyOutput:
    seeds = seeds or ([0] if quick else [0, 1, 2])
    frames = {k: f(data_dir) for k, f in DATA.items()}
    so = StudyOutput("categorical", out, quick=quick, seeds=seeds,
                     title="Categorical tables: a multi-categorical GAN with Gumbel-softmax heads")
    try:
        rows, per_seed, tvd_rows, runs = [], [], [], {}
        for dname, df in frames.items():
            tr, te = train_test_split(df, test_size=0.25, stratify=df["class"], random_state=0)
            tr, te = tr.reset_index(drop=True), te.reset_index(drop=True)
            schema = infer_schema(tr, target="class", categorical=list(tr.columns))
            for vname, model in VARIANTS.items():
                rs = [_one(tr, te, schema, model, s, quick) for s in seeds]
                runs[(dname, vname)] = (rs, tr)
                for s, r in zip(seeds, rs):
                    per_seed.append({"dataset": dname, "loss": vname, "seed": s, "steps": r["steps"],
                                     "column_shapes": r["column_shapes"], "pair_trends": r["pair_trends"],
                                     "tstr_accuracy": r["tstr_acc"], "tstr_auc": r["tstr_auc"],
                                     "trtr_accuracy": r["trtr_acc"], "trtr_auc": r["trtr_auc"],
                                     "train_seconds": r["train_seconds"]})
                    for c, v in r["tvd"].items():
                        tvd_rows.append({"dataset": dname, "loss": vname, "seed": s, "variable": c, "tvd": v})
                rows.append({"dataset": dname, "loss": vname, "rows (train/test)": f"{len(tr)}/{len(te)}",
                             "column shapes": mean_sd(r["column_shapes"] for r in rs),
                             "pair trends": mean_sd(r["pair_trends"] for r in rs),
                             "TSTR accuracy": mean_sd(r["tstr_acc"] for r in rs),
                             "TRTR accuracy": mean_sd(r["trtr_acc"] for r in rs),
                             "TSTR AUC": mean_sd(r["tstr_auc"] for r in rs),
                             "TRTR AUC": mean_sd(r["trtr_auc"] for r in rs),
                             "values never seen in real": sum(r["unseen_values"] for r in rs)})
        summary = pd.DataFrame(rows)
        tvd = pd.DataFrame(tvd_rows)
        so.results = {"summary": summary.to_dict("records"), "per_seed": per_seed,
                      "per_variable_tvd": tvd.groupby(["dataset", "loss", "variable"])["tvd"].mean().reset_index()
                      .to_dict("records")}
        so.section("Summary", "Each dataset split 75/25 (stratified on `class`, seed 0); every variable, the "
                   "class included, learned as a categorical with its own Gumbel-softmax head (preset "
                   f"`registry-paper`). Utility: mean over {', '.join(CLASSIFIERS)} (balanced class weights) "
                   "of classifiers trained on as many synthetic rows as the real train set holds, tested on the "
                   "real test rows (TSTR), against the same classifiers trained on the real train rows (TRTR). "
                   "Column shapes = 1 - mean total variation distance per variable. The registry project "
                   "published no figures, so there is no published column.")
        so.table(summary, csv_name="summary")
        so.section("Per variable", "Total variation distance between real and synthetic frequencies "
                   "(mean over seeds; 0 = identical).")
        piv = tvd.groupby(["dataset", "variable", "loss"])["tvd"].mean().unstack("loss").round(3).reset_index()
        so.table(piv, csv_name="per_variable_tvd")
        so.section("Per seed")
        so.table(pd.DataFrame(per_seed).round(4), csv_name="per_seed")
        p = plt()
        for dname in frames:
            rs, tr = runs[(dname, list(VARIANTS)[0])]
            rs2, _ = runs[(dname, list(VARIANTS)[1])]
            cols = list(tr.columns)
            ncol = 4
            nrow = int(np.ceil(len(cols) / ncol))
            fig, axes = p.subplots(nrow, ncol, figsize=(16, 2.8 * nrow))
            for ax, c in zip(np.ravel(axes), cols):
                cats = tr[c].astype(str).value_counts().index[:12]
                x = np.arange(len(cats))
                for k, (lab, frame) in enumerate((("real", tr), (list(VARIANTS)[0], rs[0]["fake"]),
                                                  (list(VARIANTS)[1], rs2[0]["fake"]))):
                    freq = frame[c].astype(str).value_counts(normalize=True).reindex(cats).fillna(0)
                    ax.bar(x + (k - 1) * 0.27, freq.to_numpy(), width=0.27, label=lab)
                ax.set_xticks(x, cats, fontsize=7)
                ax.set_title(c, fontsize=9)
            for ax in np.ravel(axes)[len(cols):]:
                ax.axis("off")
            np.ravel(axes)[0].legend(fontsize=7)
            fig.tight_layout()
            so.figure(fig, f"{dname}_marginals", f"{dname}: frequency of each value (12 most common), real vs "
                      f"generated, seed {seeds[0]}")
        return so.finish()
    except BaseException:
        so.abort()
        raise
