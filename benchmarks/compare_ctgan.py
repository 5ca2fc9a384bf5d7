"""ganforge against CTGAN, side by side, in one process tree: speed, memory and quality.

    pip install -e ".[bench]"    # ctgan 0.12.1 (its rdt needs pandas < 3: use a separate venv)
    python benchmarks/compare_ctgan.py [--datasets adult,pima,german,fraud] [--seeds 0,1,2]
        [--ctgan-epochs 300] [--threads 2] [--out docs/measurements/benchmarks.md] [--keep DIR]

With ``--keep DIR`` each cell's result is kept in DIR as it finishes, and a rerun with the same DIR
skips the cells already there: a run of hours that is stopped goes on where it stopped. With
``--reuse FILE.json`` the cells of an earlier run's JSON (docs/measurements/benchmarks-adult.json) count as done,
so a missing seed can be added to a published table without running the others again.

Each (dataset, seed, system) runs in a child process of this one, with the same torch thread
count, so that peak RSS is that of one system alone. Systems: CTGAN (its defaults, the given
epochs), ganforge wcgan with the ``ctgan-like`` preset (the same architecture, batch and epochs:
speed like for like) and ganforge wcgan with the ``default`` preset, and the ``default`` preset stopped by ``time_limit`` at
one tenth of the CTGAN wall time of the same dataset and seed (``ganforge-default-tenth``). Quality is measured with
ganforge's evaluation suite on as many synthetic rows as training rows. ``ganforge-ctgan-like-fresh``
(only when named) is ``ctgan-like`` with ``reuse_fakes=False``: new fake rows for each generator step, as
CTGAN draws them; ``ganforge-ctgan-like-lazy-gp`` (only when named) is ``ctgan-like`` with ``gp_every=4``:
the gradient penalty on one critic step in four, at four times the weight; ``ganforge-ctgan-like-mkl``
(only when named) is ``ctgan-like`` with ``GANFORGE_ONEDNN=0``: float32 products through MKL, as
before ganforge routed them to oneDNN (``ganforge.kernels``); ``ganforge-ctgan-like-fp32`` (only when
named) is ``ctgan-like`` with ``precision=float32``: the training step in float32 throughout, where the
preset's ``auto`` multiplies in bfloat16 on a CPU that does so in hardware; ``ganforge-default-auto`` (only
when named) is ``default`` with ``precision=auto``, which the preset itself takes since 2026-12-02, and
``ganforge-default-fp32`` (only when named) ``default`` in float32 throughout; ``ganforge-default-0.3`` (only when
named) is the default of 0.3, with mode-specific numerics and no label classifier; ``ganforge-default-0.4``
(only when named) the default of 0.4, without the label classifier, ``ganforge-default-0.5`` that of 0.5,
``ganforge-default-0.6`` that of 0.6 (no grouped numbers, no ratios), ``ganforge-default-0.7`` that of 0.7 (no
categories learnt together); 0.5 and before without linked values. Each ganforge cell records the precision its steps ran
in.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SYSTEMS = ("ctgan", "ganforge-ctgan-like", "ganforge-default", "ganforge-default-tenth")
#: run only when named in --systems: ctgan-like with a new generator batch per step, as CTGAN draws
#: (the preset reuses the critic step's fake rows); ctgan-like with the penalty on one critic step in four;
#: ctgan-like with its float32 products left to MKL (GANFORGE_ONEDNN=0); ctgan-like in float32 throughout;
#: default with precision=auto (the preset itself since 2026-12-02; kept so that the JSON of the run that
#: decided it still tabulates); default in float32 throughout
EXTRA = ("ganforge-ctgan-like-fresh", "ganforge-ctgan-like-lazy-gp", "ganforge-ctgan-like-mkl",
         "ganforge-ctgan-like-fp32", "ganforge-default-auto", "ganforge-default-fp32", "ganforge-default-0.3",
         "ganforge-default-clf03", "ganforge-default-clf1m", "ganforge-default-clf1q", "ganforge-default-0.4",
         "ganforge-default-0.5", "ganforge-default-0.6", "ganforge-default-0.7")
ALL = SYSTEMS + EXTRA
#: the systems that name a default before 0.7 (no grouped numbers, no ratios)
OLD = ("ganforge-default-0.3", "ganforge-default-0.4", "ganforge-default-0.5", "ganforge-default-0.6",
       "ganforge-default-clf03", "ganforge-default-clf1m", "ganforge-default-clf1q")
#: the default preset with a time limit of one tenth of the same seed's CTGAN wall time (the issue's
#: "CTGAN-300's quality in under one tenth of its wall time"); the limit counts from the start of fit
TENTH = 0.1


def cell(results: list[dict], ds: str, seed: int, system: str) -> dict | None:
    """The result of one (dataset, seed, system) among ``results``, or None."""
    return next((r for r in results if (r["dataset"], r["seed"], r["system"]) == (ds, seed, system)), None)


def split(name: str, data_dir: str | None):
    from sklearn.model_selection import train_test_split

    from ganforge import datasets

    if name == "adult":
        return datasets.load_adult(data_dir), datasets.load_adult(data_dir, split="test"), "income"
    loaders = {"pima": (datasets.load_pima, "Outcome"), "german": (datasets.load_german, "class"),
               "fraud": (datasets.load_credit_card_fraud, "Class")}
    load, target = loaders[name]
    df = load(data_dir)
    train, test = train_test_split(df, test_size=0.25, stratify=df[target], random_state=0)
    return train.reset_index(drop=True), test.reset_index(drop=True), target


def child(args) -> None:
    import numpy as np
    import pandas as pd
    import torch

    torch.set_num_threads(args.threads)
    from ganforge import evaluate
    from ganforge.io import write_table
    from ganforge.schema import infer_schema

    train, test, target = split(args.dataset, args.data_dir)
    schema = infer_schema(train, target=target)
    out: dict = {"dataset": args.dataset, "seed": args.seed, "system": args.system, "rows": len(train),
                 "ctgan_epochs": args.ctgan_epochs}
    n_big = args.sample_rows
    with tempfile.TemporaryDirectory() as tmp:
        if args.system == "ctgan":
            from ctgan import CTGAN
            from ctgan.data_transformer import DataTransformer

            discrete = [c.name for c in schema.columns if not c.is_numeric]
            t = time.perf_counter()
            DataTransformer().fit(train, discrete)
            out["transformer_s"] = time.perf_counter() - t
            torch.manual_seed(args.seed)
            np.random.seed(args.seed)
            model = CTGAN(epochs=args.ctgan_epochs, enable_gpu=False)
            t = time.perf_counter()
            model.fit(train, discrete)
            out["fit_s"] = time.perf_counter() - t
            out["train_s"] = out["fit_s"] - out["transformer_s"]
            out["train_rows_per_s"] = args.ctgan_epochs * (len(train) // 500) * 500 / max(out["train_s"], 1e-9)
            sample = lambda n: model.sample(n)  # noqa: E731
            t = time.perf_counter()
            model.sample(n_big).to_parquet(Path(tmp) / "big.parquet")
            out["parquet_rows_per_s"] = n_big / (time.perf_counter() - t)
        else:
            from ganforge import Synthesizer

            preset = "ctgan-like" if args.system.startswith("ganforge-ctgan-like") else "default"
            kw = {"epochs": args.ctgan_epochs} if preset == "ctgan-like" else {}
            if args.system == "ganforge-ctgan-like-fresh":
                kw["reuse_fakes"] = False
            if args.system == "ganforge-ctgan-like-lazy-gp":
                kw["gp_every"] = 4
            if args.system == "ganforge-ctgan-like-mkl":
                os.environ["GANFORGE_ONEDNN"] = "0"
            if args.system.endswith("-fp32"):  # ganforge-ctgan-like-fp32, ganforge-default-fp32
                kw["precision"] = "float32"
            if args.system == "ganforge-default-auto":
                kw["precision"] = "auto"
            if args.system == "ganforge-default-0.3":
                kw.update(numeric_encoding="mode_specific", classifier_weight=0.0, link_values=False)
            if args.system == "ganforge-default-0.4":
                kw.update(classifier_weight=0.0, link_values=False)
            if args.system == "ganforge-default-0.5":  # without linked values
                kw["link_values"] = False
            if args.system in OLD:  # without numbers grouped by a category and ratios (0.7), or lookups (0.8)
                kw.update(group_numerics=False, ratio_numerics=False, lookup_pairs=False)
            if args.system in OLD + ("ganforge-default-0.7",):  # without categories learnt together (0.8)
                kw["join_categories"] = False
            if args.system == "ganforge-default-clf03":  # the label classifier, full cross-entropy
                kw.update(classifier_weight=0.3, classifier_loss="full", link_values=False)
            if args.system == "ganforge-default-clf1m":  # the label classifier, matched to the real rows
                kw.update(classifier_weight=1.0, classifier_loss="matched", link_values=False)
            if args.system == "ganforge-default-clf1q":  # the label classifier, quantiles matched both ways
                kw.update(classifier_weight=1.0, classifier_loss="quantile", link_values=False)
            if args.system == "ganforge-default-tenth":
                kw["time_limit"] = out["time_limit"] = args.time_limit
            syn = Synthesizer("wcgan", preset, seed=args.seed, device="cpu", **kw)
            t = time.perf_counter()
            syn.fit(train, target=target)
            out["fit_s"] = time.perf_counter() - t
            s = syn.summary()
            out["transformer_s"] = s["encoder_fit_seconds"]
            out["train_s"] = s["train_seconds"]
            out["steps"] = s["steps"]
            out["stopped_by"] = s["stopped_by"]
            out["precision"] = s["precision"]
            out["train_rows_per_s"] = s["steps"] * syn.config["batch_size"] / max(s["train_seconds"], 1e-9)
            sample = lambda n: syn.sample(n, seed=args.seed + 1)  # noqa: E731
            t = time.perf_counter()
            write_table(syn.iter_sample(n_big, seed=args.seed + 2), Path(tmp) / "big.parquet")
            out["parquet_rows_per_s"] = n_big / (time.perf_counter() - t)
        t = time.perf_counter()
        sample(n_big)
        out["sample_rows_per_s"] = n_big / (time.perf_counter() - t)
        synth = sample(len(train))
    synth = synth[list(train.columns)]
    res = evaluate(train, synth, test=test, target=target, schema=schema, seed=args.seed, tsne=False,
                   utility_classifiers=("logistic_regression", "xgboost"))
    util = res.utility
    out.update({
        "column_shapes": res.column_shapes, "pair_trends": res.pair_trends,
        "pair_trends_sdmetrics": res.fidelity.pair_trends_sdmetrics, "detection_auc": res.detection.cv_auc,
        "tstr_auc": util.mean("tstr"), "trtr_auc": util.mean("trtr"),
        "dcr_closer_to_train": res.privacy.closer_to_train_share,
        "dcr_baseline": res.privacy.closer_to_train_baseline,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    })
    out["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    part = Path(args.json).with_suffix(".partial")
    part.write_text(json.dumps(out))
    part.replace(args.json)


COLUMNS = [("fit_s", "wall s", "{:.0f}"), ("transformer_s", "transformer s", "{:.1f}"),
           ("train_rows_per_s", "train rows/s", "{:,.0f}"), ("sample_rows_per_s", "sample rows/s", "{:,.0f}"),
           ("parquet_rows_per_s", "to Parquet rows/s", "{:,.0f}"), ("peak_rss_mb", "peak RSS MB", "{:.0f}"),
           ("column_shapes", "column shapes", "{:.3f}"), ("pair_trends", "pair trends", "{:.3f}"),
           ("pair_trends_sdmetrics", "pair trends (SDMetrics)", "{:.3f}"), ("detection_auc", "detection AUC", "{:.3f}"),
           ("tstr_auc", "TSTR AUC", "{:.3f}"), ("trtr_auc", "TRTR AUC", "{:.3f}"),
           ("dcr_closer_to_train", "closer to train", "{:.3f}")]


def table(results: list[dict], seeds: list[int]) -> list[str]:
    import numpy as np

    lines = ["| dataset | system | " + " | ".join(h for _, h, _ in COLUMNS) + " |",
             "|---|---|" + "---:|" * len(COLUMNS)]
    keys = sorted({(r["dataset"], r["system"]) for r in results}, key=lambda k: (k[0], ALL.index(k[1])))
    for ds, system in keys:
        rows = [r for r in results if r["dataset"] == ds and r["system"] == system]
        cells = []
        for key, _, fmt in COLUMNS:
            v = np.array([r[key] for r in rows if key in r], float)
            cell = fmt.format(v.mean()) if len(v) else ""
            if len(v) > 1:
                cell += " ± " + fmt.format(v.std())
            cells.append(cell)
        lines.append(f"| {ds} | {system} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="adult,pima,german,fraud")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--ctgan-epochs", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sample-rows", type=int, default=200_000)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default="docs/measurements/benchmarks.md")
    ap.add_argument("--keep", default=None, metavar="DIR",
                    help="keep each cell's result in DIR and skip cells already there (resume a stopped run)")
    ap.add_argument("--reuse", default=None, metavar="JSON",
                    help="count the cells of an earlier run's JSON as done (same --ctgan-epochs): run only the others")
    ap.add_argument("--table-only", action="store_true",
                    help="run nothing: write the table from the --keep / --reuse cells, naming those missing")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--dataset", help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--system", help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    ap.add_argument("--time-limit", type=float, help=argparse.SUPPRESS)
    args = ap.parse_args()
    unknown = sorted(set(args.systems.split(",")) - set(ALL))
    if unknown:
        ap.error(f"unknown system(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    if args.child:
        child(args)
        return
    seeds = [int(s) for s in args.seeds.split(",")]
    results = []
    missing: list[str] = []
    earlier = json.loads(Path(args.reuse).read_text()) if args.reuse else []
    earlier = [r for r in earlier if r.get("ctgan_epochs", args.ctgan_epochs) == args.ctgan_epochs]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    with tempfile.TemporaryDirectory() as tmp:
        keep = Path(args.keep or tmp)
        keep.mkdir(parents=True, exist_ok=True)
        for ds in args.datasets.split(","):
            for seed in seeds:
                for system in args.systems.split(","):
                    js = keep / f"{ds}-{seed}-{system}-{args.ctgan_epochs}.json"
                    if js.exists():
                        results.append(json.loads(js.read_text()))
                        print(f"{js.name}: kept from an earlier run", flush=True)
                        continue
                    done = cell(earlier, ds, seed, system)
                    if done is not None:
                        results.append(done)
                        print(f"{ds} {seed} {system}: from {args.reuse}", flush=True)
                        continue
                    if args.table_only:
                        missing.append(f"{ds} seed {seed} {system}")
                        continue
                    cmd = [sys.executable, __file__, "--child", "--dataset", ds, "--seed", str(seed), "--system", system,
                           "--json", str(js), "--threads", str(args.threads), "--ctgan-epochs", str(args.ctgan_epochs),
                           "--sample-rows", str(args.sample_rows)] + (["--data-dir", args.data_dir] if args.data_dir else [])
                    if system == "ganforge-default-tenth":
                        ref = cell(results, ds, seed, "ctgan")
                        if ref is None:
                            raise SystemExit("ganforge-default-tenth needs the ctgan cell of the same dataset and "
                                             "seed: list ctgan before it in --systems")
                        cmd += ["--time-limit", str(max(TENTH * ref["fit_s"] - 1.0, 0.001))]  # 1 s for the last step
                    t = time.perf_counter()
                    subprocess.run(cmd, check=True, env=env)
                    r = json.loads(js.read_text())
                    results.append(r)
                    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}),
                          f"({time.perf_counter() - t:.0f} s)", flush=True)
    try:  # a run of ganforge systems only needs no ctgan
        from ctgan import __version__ as ctgan_version
    except ImportError:
        ctgan_version = "not installed"
    import pandas
    import torch

    from ganforge import __version__

    cmd = " ".join(["python benchmarks/compare_ctgan.py", f"--datasets {args.datasets}", f"--seeds {args.seeds}",
                    f"--ctgan-epochs {args.ctgan_epochs}", f"--threads {args.threads}"])
    lines = ["# ganforge against CTGAN", "", f"Command: `{cmd}`", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, {args.threads} torch threads per run; "
             f"Python {platform.python_version()}, torch {torch.__version__}, pandas {pandas.__version__}, "
             f"ctgan {ctgan_version}, ganforge {__version__}.", "",
             f"Mean ± standard deviation over seeds {args.seeds}. CTGAN and `ganforge-ctgan-like` train "
             f"{args.ctgan_epochs} epochs; `ganforge-default` uses its preset's budget (30 epochs, at least "
             f"1,000 steps); `ganforge-default-tenth` is the same preset stopped by its `time_limit` at one tenth of "
             f"the CTGAN wall time of the same dataset and seed. Sampling: {args.sample_rows:,} rows into memory and to Parquet. Quality on as many "
             f"synthetic rows as training rows: adult.data / adult.test for Adult, stratified 75/25 splits "
             f"(seed 0) for the others. TSTR / TRTR AUC: mean of logistic regression and XGBoost."
             + (f" Not run, so not in the means: {'; '.join(missing)}." if missing else ""), ""]
    lines += table(results, seeds)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    Path(args.out).with_suffix(".json").write_text(json.dumps(results, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
