"""The credit-card-fraud study: GAN, CGAN, WGAN-GP and WCGAN-GP learn the fraud rows only (the
conditional ones on 2 KMeans clusters); an XGBoost real-vs-generated test every 100 steps picks
each model's best checkpoint; generated rows are drawn over training on the two features that
best separate fraud from normal; then the augmentation experiment (real rows, the best
generator, an untrained generator, SMOTE) on XGBoost recall."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split

from ... import datasets
from ..augment import augmentation_experiment, plot as plot_augment
from ...synthesizer import Synthesizer
from ...training import Callback
from .common import StudyOutput, fresh_rows, plt

MODELS = {"GAN": "gan", "CGAN": "cgan", "WGAN-GP": "wgan", "WCGAN-GP": "wcgan"}
#: the article gives no layer sizes: the census report's preset (built on this article's networks)
#: with the article's standardised features
OVERRIDES = {"numeric_encoding": "standard", "device": "cpu"}
PUBLISHED = {"best_model": "WCGAN at step 4800", "best_xgb_accuracy": 0.70, "baseline_recall": 0.76,
             "baseline_precision": 0.94, "augmentation": "generated rows (trained or untrained) did not raise "
                                                         "recall; real fraud rows did"}


def _xgb(seed):
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=100, max_depth=3, learning_rate=0.1, tree_method="hist", n_jobs=2,
                         random_state=seed, verbosity=0)


def realism_accuracy(real: np.ndarray, fake_a: np.ndarray, fake_b: np.ndarray, seed: int) -> float:
    """The article's test: XGBoost trained on half the real rows + as many generated rows, tested
    on the other half + a fresh generated set. 0.5 = it cannot tell them apart."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(real))
    h = len(real) // 2
    ra, rb = real[perm[:h]], real[perm[h:2 * h]]
    X = np.concatenate([ra, fake_a[:h]])
    y = np.r_[np.ones(h), np.zeros(h)]
    clf = _xgb(seed).fit(X, y)
    Xt = np.concatenate([rb, fake_b[:h]])
    return float(accuracy_score(np.r_[np.ones(h), np.zeros(h)], clf.predict(Xt)))


class Tracker(Callback):
    """Every ``every`` steps: the realism accuracy of fresh rows, the best generator weights, and
    snapshots of generated rows at the ``snapshot`` steps."""

    def __init__(self, syn: Synthesizer, real: pd.DataFrame, every: int, snapshots: list[int], seed: int):
        self.syn, self.real, self.every, self.snaps, self.seed = syn, real, every, set(snapshots), seed
        self.records, self.frames = [], {}
        self.best = (np.inf, 0, None)

    def _probe(self, trainer, step):
        n = len(self.real)
        a, codes_a = fresh_rows(self.syn, n, self.seed * 7919 + step)
        b, _ = fresh_rows(self.syn, n, self.seed * 7919 + step + 1)
        cols = list(self.real.columns)
        acc = realism_accuracy(self.real.to_numpy(float), a[cols].to_numpy(float), b[cols].to_numpy(float),
                               self.seed + step)
        self.records.append({"step": step, "xgb_accuracy": acc})
        if abs(acc - 0.5) < self.best[0]:
            state = {k: v.detach().clone() for k, v in self.syn.generator_.state_dict().items()}
            self.best = (abs(acc - 0.5), step, state)
        if step in self.snaps:
            a = a.copy()
            a["_code"] = codes_a if codes_a is not None else -1
            self.frames[step] = a

    def on_train_begin(self, trainer):
        if trainer.step == 0:
            self._probe(trainer, 0)

    def on_step_end(self, trainer, step):
        if step % self.every == 0:
            self._probe(trainer, step)


def _train_tracked(name: str, model: str, fraud: pd.DataFrame, steps: int, every: int, seed: int):
    gap = max(every, (steps // 5) // every * every)  # snapshots fall on probe steps
    snaps = list(range(0, steps + 1, gap))
    syn = Synthesizer(model, "ons-paper", steps=steps, seed=seed, **OVERRIDES)
    tracker = Tracker(syn, fraud, every, snaps, seed)
    cond = "kmeans:2" if model in ("cgan", "wcgan") else None
    syn.fit(fraud, condition_on=cond, callbacks=[tracker])
    final_state = {k: v.clone() for k, v in syn.generator_.state_dict().items()}
    hist = syn.history_
    w = hist[["step", "wasserstein"]] if syn.config.loss == "wasserstein" else None
    return {"name": name, "syn": syn, "records": pd.DataFrame(tracker.records), "frames": tracker.frames,
            "best_step": tracker.best[1], "best_state": tracker.best[2], "final_state": final_state,
            "wasserstein": w, "history": hist, "train_seconds": syn.trainer_.train_seconds}


def run(out, data_dir=None, quick: bool = False, seeds: list[int] | None = None) -> StudyOutput:
    seeds = seeds or ([0] if quick else [0, 1, 2])
    steps, every = (150, 50) if quick else (5000, 100)
    df = datasets.load_credit_card_fraud(data_dir)
    fraud = df[df["Class"] == 1].drop(columns=["Class"]).reset_index(drop=True)
    so = StudyOutput("fraud", out, quick=quick, seeds=seeds,
                     title="Credit card fraud: four GANs on the fraud rows, and augmentation")
    try:
        # the two features XGBoost ranks most important for telling fraud from normal
        feats = [c for c in df.columns if c != "Class"]
        imp = _xgb(0).fit(df[feats].to_numpy(float), df["Class"].to_numpy()).feature_importances_
        top2 = [feats[i] for i in np.argsort(imp)[::-1][:2]]

        # 1. the four models, tracked (first seed; the augmentation below runs every seed)
        runs = {name: _train_tracked(name, m, fraud, steps, every, seeds[0]) for name, m in MODELS.items()}
        track_rows = []
        for name, r in runs.items():
            rec = r["records"]
            best = rec.loc[(rec["xgb_accuracy"] - 0.5).abs().idxmin()]
            last = rec.iloc[-1]
            track_rows.append({"model": name, "best step": int(best["step"]),
                               "XGBoost accuracy at best step": round(float(best["xgb_accuracy"]), 3),
                               "at the last step": round(float(last["xgb_accuracy"]), 3),
                               "mean over the last 1,000 steps": round(float(
                                   rec[rec["step"] > steps - steps // 5]["xgb_accuracy"].mean()), 3),
                               "train seconds": round(r["train_seconds"], 1)})
        track = pd.DataFrame(track_rows)
        best_name = min(runs, key=lambda n: abs(
            track.set_index("model").loc[n, "XGBoost accuracy at best step"] - 0.5))

        so.section("Realism of the generated fraud rows over training",
                   f"Each model learned the {len(fraud)} fraud rows (30 standardised features; conditional models "
                   f"on 2 KMeans clusters) for {steps} steps, preset `ons-paper` with standardised numerics "
                   f"(the article gives no layer sizes). Every {every} steps {len(fraud)} fresh rows went through "
                   f"the article's test: XGBoost trained on half the real fraud rows and as many generated rows, "
                   f"tested on the other half and a fresh generated set (0.5 = indistinguishable). "
                   f"Published: best was {PUBLISHED['best_model']} with accuracy {PUBLISHED['best_xgb_accuracy']}.")
        so.table(track, csv_name="realism")
        so.text(f"Best model by the test: **{best_name}** (its best checkpoint is the generator used for augmentation "
                f"below, retrained on the base set's fraud rows for that many steps).")
        _figures(so, runs, fraud, top2, steps, seeds[0])
        allrec = pd.concat([r["records"].assign(model=n) for n, r in runs.items()])
        so.frame(allrec, "realism_curve")

        # 2. augmentation
        tr, te = train_test_split(df, test_size=0.3, stratify=df["Class"], random_state=0)
        n_tr_fraud = int((tr["Class"] == 1).sum())
        add = [0, 50, 100, 200, n_tr_fraud - 100, n_tr_fraud] if not quick else [0, 100, n_tr_fraud - 100]
        best_steps = max(int(track.set_index("model").loc[best_name, "best step"]), every)
        res = augmentation_experiment(
            tr.reset_index(drop=True), te.reset_index(drop=True), "Class", 1, add, base_minority=100,
            model=MODELS[best_name], preset="ons-paper", seeds=seeds, steps=best_steps, generator_overrides=OVERRIDES,
            condition_on="kmeans:2" if MODELS[best_name] in ("cgan", "wcgan") else None)
        summ = res.summary()
        so.section("Augmentation",
                   f"Base training set: {res.n_base_majority} normal rows (70%) + {res.n_base_minority} fraud rows. "
                   f"Added: 0 to {max(add)} fraud rows that are real (left out of the base set; "
                   f"{res.n_pool} exist), from {best_name} trained {best_steps} steps on the base set's fraud rows, "
                   f"from the same network untrained, or from SMOTE on the base set. XGBoost, tested on the "
                   f"held-out 30% ({res.n_test} rows, {res.n_test_minority} frauds); {len(seeds)} seed(s) "
                   f"redraw the base fraud rows, the generator and the classifier. Note: this sample holds "
                   f"1,230 normal rows, not the full data's 284,315, so the task is far easier than the "
                   f"article's (its base recall was {PUBLISHED['baseline_recall']}).")
        fmt = summ.copy()
        for m in ("recall", "precision", "f1"):
            fmt[m] = [f"{a:.3f} ± {b:.3f}" if not np.isnan(b) else f"{a:.3f}" for a, b in zip(summ[m], summ[f"{m}_sd"])]
        so.table(fmt[["source", "added", "recall", "precision", "f1", "seeds"]], csv_name="augmentation")
        res.scores.to_csv(so.tmp / "augmentation_per_seed.csv", index=False)
        so.figure(plot_augment(res, "credit card fraud: rows added to a base set with 100 frauds"), "augmentation",
                  "XGBoost recall, precision and F1 on held-out real rows against fraud rows added "
                  "(mean ± 1 sd over seeds)")
        base_recall = summ[(summ.added == 0)]["recall"].iloc[0]
        top_real = summ[summ.source == "real"].iloc[-1]
        so.results = {"top_features": top2, "realism": track.to_dict("records"), "best_model": best_name,
                      "best_steps": best_steps, "augmentation": summ.to_dict("records"),
                      "base_recall": float(base_recall), "real_max_recall": float(top_real["recall"]),
                      "real_max_added": int(top_real["added"]), "published": PUBLISHED, "notes": res.notes}
        return so.finish()
    except BaseException:
        so.abort()
        raise


def _figures(so, runs, fraud, top2, steps, seed):
    p = plt()
    # clusters of the real fraud rows, as the conditional models saw them
    ref = runs["CGAN"]["syn"]
    X = ref.encoder_.transform(fraud)
    km = KMeans(n_clusters=2, n_init=10, random_state=ref.config.runtime.seed).fit(X)
    real_lab = km.labels_
    snaps = sorted(next(iter(runs.values()))["frames"])
    fig, axes = p.subplots(len(runs), len(snaps), figsize=(3.0 * len(snaps), 2.8 * len(runs)), sharex=True,
                           sharey=True)
    xr, yr = fraud[top2[0]].to_numpy(), fraud[top2[1]].to_numpy()
    lo = np.percentile(np.r_[xr, yr], 0.5) - 2
    hi = np.percentile(np.r_[xr, yr], 99.5) + 2
    for i, (name, r) in enumerate(runs.items()):
        for j, st in enumerate(snaps):
            ax = axes[i, j]
            ax.scatter(xr, yr, s=3, c=np.where(real_lab == 0, "#9ecae1", "#fdae6b"), alpha=0.6)
            f = r["frames"][st]
            if (f["_code"] >= 0).all():
                lab = f["_code"].to_numpy()
            else:
                lab = km.predict(r["syn"].encoder_.transform(f[list(fraud.columns)]))
            ax.scatter(f[top2[0]], f[top2[1]], s=3, c=np.where(lab == 0, "tab:blue", "tab:orange"), alpha=0.7)
            ax.set_xlim(lo, hi)
            ax.set_ylim(lo, hi)
            if i == 0:
                ax.set_title(f"step {st}")
            if j == 0:
                ax.set_ylabel(f"{name}\n{top2[1]}")
            if i == len(runs) - 1:
                ax.set_xlabel(top2[0])
    fig.tight_layout()
    so.figure(fig, "over_training", f"Generated fraud rows (dark) over real ones (light) on {top2[0]} and {top2[1]}, "
              f"coloured by KMeans cluster (conditional models: the cluster asked for), seed {seed}")

    fig, ax = p.subplots(1, 2, figsize=(13, 4))
    for name, r in runs.items():
        rec = r["records"]
        ax[0].plot(rec["step"], rec["xgb_accuracy"], label=name)
    ax[0].axhline(0.5, c="k", ls="--", lw=1)
    ax[0].set_xlabel("step")
    ax[0].set_ylabel("XGBoost real-vs-generated accuracy")
    ax[0].legend()
    for name, r in runs.items():
        if r["wasserstein"] is not None:
            w = r["wasserstein"]
            ax[1].plot(w["step"], w["wasserstein"].rolling(max(1, len(w) // 100)).mean(), label=name)
    ax[1].set_xlabel("step")
    ax[1].set_ylabel("critic's Wasserstein estimate (real - generated)")
    ax[1].legend()
    so.figure(fig, "realism", "Left: the realism test every few steps (0.5 ideal). Right: the critic's "
              "Wasserstein estimate (moving average)")
