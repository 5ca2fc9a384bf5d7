"""``ganforge evaluate``, ``study``, ``augment`` and ``demo``."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

from ..errors import ConfigError
from .app import console, app
from .options import int_list


@app.command(epilog="Example: ganforge evaluate --real adult_train.csv --test adult_test.csv --synthetic syn.csv "
                     "--target income --model adult.gfm -o report   (writes report/report.html and "
                     "report/report.json; --html and --json name the files one by one)")
def evaluate(
    real: Path = typer.Option(..., "--real", help="The real rows the model was trained on (CSV or Parquet)."),
    synthetic: Path = typer.Option(..., "--synthetic", help="The synthetic rows."),
    test: Optional[Path] = typer.Option(None, "--test", help="Held-out real rows (default: 30% of --real)."),
    target: Optional[str] = typer.Option(None, "--target", help="Label column for train-on-synthetic tests."),
    model_path: Optional[Path] = typer.Option(None, "--model", help="Model file: schema, loss curves, and "
                                                                      "its discriminator's verdicts."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write every figure as JSON here."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write the report (one HTML file) here."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", metavar="DIR",
                                          help="A folder for report.html and report.json (made if missing; "
                                               "--html and --json, when given, name their files instead)."),
    sep: Optional[str] = typer.Option(None, "--sep", help="CSV separator (sniffed when omitted)."),
    seed: int = typer.Option(0, "--seed"),
    no_tsne: bool = typer.Option(False, "--no-tsne", help="Skip the t-SNE picture (the slowest part)."),
):
    """Measure a synthetic table: fidelity, detection, utility, privacy, pictures."""
    from .. import io, modelfile
    from ..evaluation import evaluate as run_evaluation
    from ..report import terminal_summary, write_report

    if output is not None:
        if output.exists() and not output.is_dir():
            raise ConfigError(f"-o {str(output)!r} is a file: give a folder for report.html and report.json "
                              "(or name the files with --html and --json)")
        if not output.parent.is_dir():
            raise ConfigError(f"-o {str(output)!r}: its folder {str(output.parent)!r} does not exist; create it first")
        # the folder is made once the figures are ready: a failed evaluation leaves nothing behind
        modelfile.check_writable((output if output.is_dir() else output.parent) / ".report", "report")
        html_out = html_out if html_out is not None else output / "report.html"
        json_out = json_out if json_out is not None else output / "report.json"
    for p in (json_out, html_out):
        if p is not None and (output is None or p.parent != output):
            modelfile.check_writable(p, "report")
    real_df = io.read_table(real, sep=sep)
    syn_df = io.read_table(synthetic, sep=sep)
    test_df = io.read_table(test, sep=sep) if test is not None else None
    result = run_evaluation(real_df, syn_df, test=test_df, target=target, model=model_path, seed=seed,
                            tsne=not no_tsne)
    if output is not None:
        output.mkdir(exist_ok=True)
    write_report(result, html_out, json_out)
    console().print(terminal_summary(result))
    for p in (html_out, json_out):
        if p is not None:
            print(f"wrote {p}")



@app.command(epilog="Example: ganforge study pima -o out/pima   |   ganforge study fraud --quick")
def study(
    name: str = typer.Argument(..., metavar="NAME", help="pima, german, fraud, adult, categorical or mnist."),
    data_dir: Optional[Path] = typer.Option(None, "--data-dir", help="Folder holding the dataset folders "
                                                                     "(default: $GANFORGE_DATA or ../shared/datasets)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Results folder (default out/studies/NAME); "
                                                                       "replaced only when the study finishes."),
    quick: bool = typer.Option(False, "--quick", help="A small budget (a smoke run for tests, not a result)."),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="Seeds, e.g. 0,1,2 (default: the study's own)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda (adult and mnist studies)."),
    minority: Optional[int] = typer.Option(None, "--minority", help="mnist: the digit made rare (default 5)."),
    keep: Optional[int] = typer.Option(None, "--keep", help="mnist: images of that digit kept (default 54)."),
    keep_fraction: Optional[float] = typer.Option(None, "--keep-fraction",
                                                  help="mnist: or the fraction kept, e.g. 0.01."),
    add: Optional[str] = typer.Option(None, "--add", help="mnist: images added, e.g. 100,1000,2000,4500."),
    models: Optional[str] = typer.Option(None, "--models", help="mnist: generators, e.g. cwgan,wgan,progan."),
):
    """Reproduce one of the studies ganforge grew from: tables, figures and a results page."""
    from ..experiments.studies import run_study

    if data_dir is not None and not data_dir.is_dir():
        raise ConfigError(f"--data-dir {str(data_dir)!r} is not a folder")
    t = time.perf_counter()
    out = run_study(name, output, data_dir=data_dir, quick=quick, seeds=int_list(seeds, "--seeds"), device=device,
                    minority=minority, keep=keep, keep_fraction=keep_fraction, add=int_list(add, "--add"),
                    models=[m.strip() for m in models.split(",") if m.strip()] if models else None)
    print(f"study {name} done in {time.perf_counter() - t:.0f} s; results in {out}/README.md")



@app.command(epilog="Example: ganforge augment fraud.csv --target Class --minority 1 --add 50,100,200 "
                     "--base-minority 100 -o augment-out")
def augment(
    data: Path = typer.Argument(..., metavar="DATA", help="CSV or Parquet training table with a binary target."),
    target: str = typer.Option(..., "--target", "-t", help="The binary label column."),
    minority: str = typer.Option(..., "--minority", help="The label value to add rows of (the rare class)."),
    add: str = typer.Option("50,100,200,400", "--add", help="Rows to add, comma separated (0 is always included)."),
    test: Optional[Path] = typer.Option(None, "--test", help="Held-out rows (default: a stratified 30% of DATA)."),
    base_minority: Optional[int] = typer.Option(None, "--base-minority",
                                                help="Minority rows kept in the base set (default: half of them); "
                                                     "the rest are the 'real' rows added."),
    model: str = typer.Option("wcgan", "--model", "-m", help="gan, cgan, wgan, wcgan, latent-wgan or latent-wcgan."),
    preset: str = typer.Option("default", "--preset", "-p"),
    steps: Optional[int] = typer.Option(None, "--steps", help="Generator steps (default: the preset's budget)."),
    seeds: str = typer.Option("0,1,2", "--seeds", help="Seeds: each redraws the base set, generator, classifier."),
    output: Path = typer.Option(Path("augment-out"), "-o", "--output", help="Folder for the table and figure."),
    sep: Optional[str] = typer.Option(None, "--sep", help="CSV separator (sniffed when omitted)."),
):
    """Does adding generated minority rows raise recall? Real rows, a trained and an untrained generator,
    and SMOTE, side by side (XGBoost on held-out real rows)."""
    from sklearn.model_selection import train_test_split

    from .. import io
    from ..experiments.augment import augmentation_experiment, plot
    from ..experiments.studies.common import StudyOutput

    df = io.read_table(data, sep=sep)
    if target not in df.columns:
        raise ConfigError(f"--target {target!r} is not a column of {data}; columns: {', '.join(map(str, df.columns))}")
    seeds_l = int_list(seeds, "--seeds")
    so = StudyOutput("augment", output, quick=False, seeds=seeds_l, title=f"Augmentation: {data.name}, "
                     f"{target}={minority}", command="ganforge augment " + " ".join(sys.argv[2:]))
    try:
        if test is not None:
            tr, te = df, io.read_table(test, sep=sep)
        else:
            y = df[target].astype(str)
            if y.value_counts().min() < 2:
                raise ConfigError(f"--target {target!r}: a class has fewer than 2 rows; pass --test")
            tr, te = train_test_split(df, test_size=0.3, stratify=y, random_state=0)
        res = augmentation_experiment(tr.reset_index(drop=True), te.reset_index(drop=True), target, minority,
                                      int_list(add, "--add"), base_minority=base_minority, model=model,
                                      preset=preset, seeds=seeds_l, steps=steps,
                                      on_progress=lambda s, src: print(f"seed {s}: {src} done", flush=True))
        summ = res.summary()
        so.section("Result", f"Base set: {res.n_base_majority} majority rows + {res.n_base_minority} "
                   f"{target}={minority} rows; {res.n_pool} real minority rows left to add. Test: {res.n_test} "
                   f"rows, {res.n_test_minority} of them minority. Generator: {model}/{preset}. "
                   + " ".join(res.notes))
        so.table(summ.round(4), csv_name="summary")
        res.scores.to_csv(so.tmp / "per_seed.csv", index=False)
        so.figure(plot(res, f"{target}={minority}: rows added"), "recall", "Recall, precision, F1 vs rows added")
        so.results = {"summary": summ.to_dict("records")}
        out = so.finish()
    except BaseException:
        so.abort()
        raise
    from rich.table import Table

    t = Table(title=f"{target}={minority}: recall / precision / F1 on held-out rows (mean of {len(seeds_l)} seeds)")
    for h in ("source", "added", "recall", "precision", "F1"):
        t.add_column(h)
    for r in summ.itertuples():
        t.add_row(r.source, str(r.added), f"{r.recall:.3f}", f"{r.precision:.3f}", f"{r.f1:.3f}")
    console().print(t)
    print(f"wrote {out}/README.md, {out}/recall.png")



@app.command(epilog="Example: ganforge demo -o demo-out")
def demo(
    output: Path = typer.Option(Path("ganforge-demo"), "-o", "--output", help="Folder for the model and samples."),
    steps: int = typer.Option(800, "--steps", help="Training steps (the default takes about a minute on 2 cores)."),
    seed: int = typer.Option(0, "--seed"),
    quiet: bool = typer.Option(False, "--quiet", "-q"),
):
    """Fit wcgan on the embedded breast-cancer table, sample it, and compare with the real rows."""
    import numpy as np
    import pandas as pd
    from rich.table import Table
    from scipy.stats import ks_2samp

    from .. import io
    from ..datasets import load_breast_cancer
    from ..synthesizer import Synthesizer

    output.mkdir(parents=True, exist_ok=True)
    df = load_breast_cancer()
    con = console()
    con.print(f"[bold]ganforge demo[/bold]: scikit-learn's breast cancer table, {len(df)} rows x {df.shape[1]} "
              f"columns, target 'diagnosis'")
    # min-max numerics: on this small all-numeric table they measured better than mode-specific
    # normalisation (docs/measurements/default-preset.md)
    syn = Synthesizer("wcgan", "default", steps=steps, seed=seed, numeric_encoding="minmax").fit(
        df, target="diagnosis", quiet=quiet)
    model_path = syn.save(output / "breast_cancer.gfm")
    synth = syn.sample(len(df), seed=seed)
    io.write_table(synth, output / "synthetic.csv")
    t = Table(title="real vs synthetic (first 8 numeric columns)")
    for h in ("column", "real mean", "synth mean", "real std", "synth std", "KS"):
        t.add_column(h, justify="right" if h != "column" else "left")
    num = [c for c in df.columns if c != "diagnosis"]
    ks_all = [ks_2samp(df[c], synth[c]).statistic for c in num]
    for c, ks in list(zip(num, ks_all))[:8]:
        t.add_row(c, f"{df[c].mean():.3g}", f"{synth[c].mean():.3g}", f"{df[c].std():.3g}", f"{synth[c].std():.3g}",
                  f"{ks:.3f}")
    con.print(t)
    real_share = df["diagnosis"].value_counts(normalize=True)
    syn_share = synth["diagnosis"].value_counts(normalize=True).reindex(real_share.index, fill_value=0)
    corr_diff = float(np.abs(df[num].corr().to_numpy() - synth[num].corr().to_numpy()).mean())
    con.print(f"mean KS over {len(num)} numeric columns: {np.mean(ks_all):.3f} (0 = identical marginals)")
    con.print("diagnosis shares real / synthetic: " + ", ".join(
        f"{k} {real_share[k]:.1%} / {syn_share[k]:.1%}" for k in real_share.index))
    con.print(f"mean absolute difference of Pearson correlations: {corr_diff:.3f}")
    s = syn.summary()
    con.print(f"trained {s['steps']} steps in {s['fit_seconds']:.1f} s"
              + (" (bfloat16 matrix products, float32 weights)" if s.get("precision") == "bfloat16" else "")
              + f"; model {model_path}, rows {output / 'synthetic.csv'}")
    pd.options.display.width = 120


