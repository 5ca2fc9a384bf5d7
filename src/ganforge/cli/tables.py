"""``ganforge fit``, ``sample`` and ``info``: tables."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer

from ..errors import ConfigError
from .app import Relaunch, app, console, has_cuda, literal, monitor_best
from .options import parse_conditions, parse_set

from ..models.registry import PRESETS  # data only: cheap to import

#: the default preset's budget and batch, for --help (the flags default to the preset's values)
_DEFAULT = PRESETS["default"]


@app.command(epilog="Example: ganforge fit adult.csv --model wcgan --target income --epochs 50 -o adult.gfm")
def fit(
    data: Path = typer.Argument(..., metavar="DATA", help="CSV or Parquet file with a header row, or a folder of "
                                                          "Parquet parts (streamed: it need not fit in memory)."),
    output: Path = typer.Option(..., "-o", "--output", help="Model file to write (e.g. model.gfm)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="gan, cgan, wgan, wcgan, latent-wgan or latent-wcgan (default: wcgan "
                                                                     "with a --target or --condition-on, else wgan)."),
    target: Optional[str] = typer.Option(None, "--target", "-t", help="Label column (the condition of cgan/wcgan)."),
    preset: str = typer.Option("default", "--preset", "-p", help="default, ctgan-like, pima-paper, ons-paper, registry-paper."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Generator steps (overrides --epochs)."),
    epochs: Optional[float] = typer.Option(None, "--epochs", help="Passes over the data (default: the preset's; "
                                           "default: {e}, at least {m:,} steps).".format(
                                               e=_DEFAULT["epochs"], m=_DEFAULT["min_steps"])),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Rows per batch (default: the preset's; "
                                             "default: {b}).".format(b=_DEFAULT["batch_size"])),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate of both networks (default: the preset's; "
                                       "default: {lr:g}).".format(lr=_DEFAULT["lr_g"])),
    seed: int = typer.Option(0, "--seed", help="Random seed: same seed, same model."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    condition_on: Optional[str] = typer.Option(None, "--condition-on",
                                               help="Condition column, or kmeans:K for K pseudo-labels."),
    categorical: Optional[str] = typer.Option(None, "--categorical", help="Columns to treat as categorical: a,b."),
    numeric: Optional[str] = typer.Option(None, "--numeric", help="Columns to treat as numeric: a,b."),
    ordinal: Optional[str] = typer.Option(None, "--ordinal", help='Ordered categories: "col=low,mid,high" '
                                                                  '(several separated by ";").'),
    drop: Optional[str] = typer.Option(None, "--drop", help="Columns to leave out: a,b."),
    categorical_threshold: Optional[int] = typer.Option(
        None, "--categorical-threshold", help="Numeric columns with at most this many values are categorical (10)."),
    schema: Optional[Path] = typer.Option(None, "--schema", help="Use this schema JSON instead of inferring one."),
    save_schema: Optional[Path] = typer.Option(None, "--save-schema", help="Also write the schema used, as JSON."),
    sep: Optional[str] = typer.Option(None, "--sep", help="CSV separator (sniffed when omitted)."),
    checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="Checkpoint file (default: OUTPUT.ckpt "
                                                                           "when --checkpoint-every is given)."),
    checkpoint_every: Optional[int] = typer.Option(None, "--checkpoint-every", help="Save a checkpoint every K steps."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the checkpoint if it exists."),
    early_stopping: bool = typer.Option(False, "--early-stopping", help="Score generated rows (see --monitor) "
                                        "every --eval-every steps, keep the best generator, stop when it stops "
                                        "improving (then --steps/--epochs is an upper bound)."),
    monitor: Optional[str] = typer.Option(None, "--monitor", help="What --early-stopping scores: fidelity "
                                          "(column shapes and pair trends; the default preset's) or column_shapes "
                                          "(half the cost per score; the other presets' default)."),
    ema_decay: Optional[float] = typer.Option(None, "--ema-decay", help="Keep and sample an exponential moving "
                                              "average of the generator's weights, with this decay per step "
                                              "(0 = off, the live weights; 0.999 = a long average)."),
    eval_every: Optional[int] = typer.Option(None, "--eval-every", help="Steps between quality scores "
                                                                          "(default with --early-stopping: steps/40)."),
    time_limit: Optional[float] = typer.Option(None, "--time-limit", help="Stop training after this many seconds "
                                               "from the start (reading and encoding included); then "
                                               "--steps/--epochs is an upper bound. With --early-stopping or "
                                               "--eval-every the best generator so far is kept."),
    dp_epsilon: Optional[float] = typer.Option(None, "--dp-epsilon", help="Train with differential privacy "
                                               "(DP-SGD on the discriminator) to this epsilon; needs a --schema "
                                               "of public bounds and categories marked \"public\": true. See "
                                               "docs/guide/privacy.md."),
    dp_delta: Optional[float] = typer.Option(None, "--dp-delta", help="The delta of (epsilon, delta)-DP "
                                             "(default 1/(10 n))."),
    set_: Optional[list[str]] = typer.Option(None, "--set", metavar="KEY=VALUE",
                                             help="Any option of docs/guide/tables.md#options (repeatable)."),
    rule: Optional[list[str]] = typer.Option(None, "--rule", metavar="RULE",
                                             help='A rule every generated row keeps (repeatable): "start <= end", '
                                                  '"net + tax = gross", "pct in [0, 100]", "fixed(city, country)". '
                                                  "fit also finds inequalities and sums the rows keep (--set "
                                                  "detect_rules=false to not)."),
    threads: Optional[int] = typer.Option(None, "--threads", metavar="N",
                                          help="CPU threads (default: the cores other processes leave free, or "
                                               "OMP_NUM_THREADS when set)."),
    stream: bool = typer.Option(False, "--stream", help="Stream a CSV or Parquet file from disk in bounded memory "
                                                        "(a folder is always streamed)."),
    max_rows: Optional[int] = typer.Option(None, "--max-rows", help="Train on a uniform sample of N rows (read in "
                                                                     "one bounded-memory pass)."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Folder for the encoded rows when streaming "
                                                                        "(default: a hidden folder here, removed "
                                                                        "after training)."),
    nproc: int = typer.Option(1, "--nproc", help="Train on N local processes (torchrun, Gloo on CPU, NCCL on "
                                                 "GPU); the batch is split over them. See docs/guide/scale.md."),
    engine: str = typer.Option("local", "--engine", help="local, or ray: train on --workers Ray Train workers "
                                                         "(pip install 'ganforge[ray]')."),
    workers: int = typer.Option(2, "--workers", help="Ray Train workers (with --engine ray)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster to join (default: "
                                                                          "RAY_ADDRESS, or a local instance)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar (or, without a terminal, no "
                                                            "progress lines)."),
):
    """Learn a table and save the model."""
    from .. import io, modelfile
    from ..scale import distributed
    from ..schema import Schema
    from ..synthesizer import Synthesizer
    from .options import parse_ordinal_option, split_list_option

    modelfile.check_writable(output, "model")
    if nproc < 1:
        raise ConfigError("--nproc must be at least 1")
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine {engine!r}: use local or ray")
    if engine == "ray" and nproc > 1:
        raise ConfigError("--nproc starts torchrun; with --engine ray give --workers N instead")
    if (nproc > 1 or engine == "ray") and not data.exists():  # checked before other processes start
        raise ConfigError(f"data file {data} does not exist")
    if nproc > 1:
        if distributed.launched_world_size() > 1:
            raise ConfigError("--nproc launches torchrun itself: under torchrun leave it out")
        raise Relaunch(nproc)
    if save_schema is not None:
        modelfile.check_writable(save_schema, "schema")
    overrides = parse_set(set_)
    if early_stopping:
        overrides["early_stopping"] = True
    for k, v in (("steps", steps), ("epochs", epochs), ("batch_size", batch_size), ("lr_g", lr), ("lr_d", lr),
                 ("categorical_threshold", categorical_threshold), ("eval_every", eval_every), ("monitor", monitor),
                 ("ema_decay", ema_decay),
                 ("time_limit", time_limit), ("dp_epsilon", dp_epsilon), ("dp_delta", dp_delta),
                 ("threads", threads)):
        if v is not None:
            overrides[k] = v
    overrides.update(seed=seed, device=device)
    if model is None:
        model = "wcgan" if (target or condition_on) else "wgan"
    syn = Synthesizer(model=model, preset=preset, **overrides)
    sch = Schema.from_json(schema) if schema is not None else None
    if checkpoint is None and (checkpoint_every or resume):
        checkpoint = output.with_name(output.name + ".ckpt")
    columns = dict(target=target, condition_on=condition_on, categorical=split_list_option(categorical),
                   numeric=split_list_option(numeric), ordinal=parse_ordinal_option(ordinal) if ordinal else None,
                   drop=split_list_option(drop), schema=sch, rules=list(rule or []) or None, quiet=quiet,
                   checkpoint=checkpoint,
                   checkpoint_every=checkpoint_every or 500, resume=resume)
    files = stream or max_rows is not None or data.is_dir()
    if engine == "ray":
        import os

        from ..scale import ray as ray_engine
        from ..training.threads import choose

        columns["quiet"] = True
        if threads is None and ray_address is None and not os.environ.get("RAY_ADDRESS"):
            # workers on this machine share its free cores (Ray would give each one thread)
            overrides["threads"] = choose(None, workers) or max(1, (os.cpu_count() or 1) // workers)
        try:
            ray_engine.fit(Synthesizer, model, preset, overrides, data, output, columns, files=files, sep=sep, max_rows=max_rows,
                           cache_dir=cache_dir, workers=workers, use_gpu=device.startswith("cuda") or (device == "auto" and has_cuda()),
                           address=ray_address)
        finally:
            ray_engine.shutdown()
        s = Synthesizer.load(output, device="cpu").summary()
        print(f"saved {output}: {model}/{preset}, {s['steps']} steps on {s['n_rows']} rows with {workers} Ray "
              f"workers in {s['fit_seconds']:.1f} s")
        return
    if files:
        syn.fit_files(data, sep=sep, max_rows=max_rows, cache_dir=cache_dir, **columns)
    else:
        syn.fit(io.read_table(data, sep=sep), **columns)
    ctx = syn.dist_
    if not ctx.is_main:  # rank 0 writes the model and speaks for the group
        distributed.barrier(ctx)
        distributed.shutdown(ctx)
        return
    syn.save(output)
    distributed.barrier(ctx)
    distributed.shutdown(ctx)
    if save_schema is not None:
        syn.schema_.to_json(save_schema)
    s = syn.summary()
    on = f" on {s['threads']} CPU thread{'s' if s['threads'] != 1 else ''}" if s.get("threads") else ""
    print(f"saved {output}: {model}/{preset}, {s['steps']} steps on {s['n_rows']} rows in {s['fit_seconds']:.1f} s{on} "
          f"(encoder {s['encoder_fit_seconds']:.1f} s)"
          + ("; stopped at the --time-limit" if s.get("stopped_by") == "time_limit" else ""))
    for line in _column_lines(s.get("columns") or {}):
        print(line)
    if s.get("derived_columns"):
        print(_derived_line(s["derived_columns"]))
    if s.get("linked_values"):
        print(_links_line(s["linked_values"]))
    if s.get("grouped_numerics"):
        print(_groups_line(s["grouped_numerics"]))
    if s.get("ratio_numerics"):
        print(_ratios_line(s["ratio_numerics"]))
    if s.get("joint_categories"):
        print(_joints_line(s["joint_categories"]))
    if s.get("forbidden_combinations"):
        print(_forbidden_line(s["forbidden_combinations"]))
    if s.get("looked_up"):
        print(_lookups_line(s["looked_up"]))
    if s.get("precision") == "bfloat16":
        print("training step in mixed precision: bfloat16 matrix products, float32 weights (--set "
              "precision=float32 for float32 throughout)")
    if s.get("dp"):
        print(f"differential privacy: epsilon {s['dp']['epsilon_spent']:.3f} spent (target {s['dp']['epsilon']:g}, "
              f"delta {s['dp']['delta']:.2g})")
    if s.get("quality"):
        q = s["quality"]
        print(f"{monitor_best(q)} (weights kept)" + ("; stopped early" if q["stopped_early"] else ""))



def _column_lines(columns: dict[str, str]) -> list[str]:
    """What the fit did with the columns not learnt as they are, and the rules it keeps (``summary()``'s
    ``columns``), one line each."""
    cols = {k: v for k, v in columns.items() if not k.startswith("rule ")}
    rules = {k[5:]: v for k, v in columns.items() if k.startswith("rule ")}
    out = [f"column {name}: {how}" for name, how in cols.items()]
    out += [f"rule {text}: {how}" for text, how in rules.items()]
    if any(" generated, not learnt" in v for v in cols.values()):
        out.append("generated columns hold new values, never training ones (--set identifiers=drop to leave them "
                   "out, --categorical COL to learn one)")
    return out


def _first(texts: list[str], sep: str, most: int = 8) -> str:
    """The first ``most`` texts joined by ``sep``, and how many more."""
    return sep.join(texts[:most]) + (f"{sep}and {len(texts) - most} more" if len(texts) > most else "")


def _links_line(texts: list[str]) -> str:
    return (f"values linked as every training row links them (--set link_values=false to learn them freely): "
            f"{_first(texts, '; ')}")


def _groups_line(groups: dict[str, str]) -> str:
    return ("learnt within the categories of the column that sets their range (--set group_numerics=false to "
            "learn them on their own scale): " + ", ".join(f"{b} by {a}" for b, a in groups.items()))


def _joints_line(joined: list[list[str]]) -> str:
    return ("learnt together as one column of the combinations the training rows hold (--set join_categories=false "
            "to learn them one by one): " + ", ".join(" & ".join(cols) for cols in joined))


def _forbidden_line(pairs: dict[str, int]) -> str:
    return ("combinations no training row holds are never generated (--set forbid_unseen_combinations=false to "
            f"allow them), of: {_first([f'{pair} ({k})' for pair, k in pairs.items()], ', ')}")


def _lookups_line(texts: list[str]) -> str:
    return ("columns that a pair of columns determines in every training row take, with the pair, the closest "
            f"combination training rows hold (--set lookup_pairs=false to learn them freely): {_first(texts, '; ')}")


def _ratios_line(ratios: dict[str, str]) -> str:
    return ("learnt as a multiple of another number (--set ratio_numerics=false to learn them on their own "
            "scale): " + ", ".join(f"{c} / {a}" for c, a in ratios.items()))


def _derived_line(derived: dict[str, str]) -> str:
    return ("derived, not learnt (a function of another column in every training row; --set "
            "derive_columns=false to learn them): " + ", ".join(f"{b} from {a}" for b, a in derived.items()))



@app.command(epilog="Examples: ganforge sample adult.gfm -n 10000 -o synthetic.parquet --condition income='>50K'\n\n"
                     "ganforge sample adult.gfm -n 100000000 -o synthetic/ --workers 2 --seed 0   (partitioned Parquet)")
def sample(
    model_path: Path = typer.Argument(..., metavar="MODEL", help="Model file written by `ganforge fit`."),
    n: int = typer.Option(..., "-n", "--rows", help="Number of rows to generate."),
    output: Path = typer.Option(..., "-o", "--output", help="Output file, .csv or .parquet; or a folder (a name "
                                                             "without suffix, or ending in /) for part-NNNNN.parquet "
                                                             "files."),
    condition: Optional[list[str]] = typer.Option(
        None, "--condition", "-c", help="COL=VALUE (all rows with that value) or COL=v1:0.3,v2:0.7 (shares)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed: same seed, same rows."),
    chunk_size: int = typer.Option(100_000, "--chunk-size", help="Rows generated and written at a time."),
    part_rows: int = typer.Option(1_000_000, "--part-rows", help="Rows per part file (folder output)."),
    workers: int = typer.Option(1, "--workers", help="Local processes sharing the parts (folder output); the "
                                                     "parts are the same for any number of workers."),
    resume: bool = typer.Option(False, "--resume", help="Finish a stopped folder output: keep its complete parts, "
                                                        "make the missing ones (same model, -n, --seed)."),
    engine: str = typer.Option("local", "--engine", help="local (processes on this machine) or ray (Ray Data "
                                                         "actors on a Ray cluster; folder output)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster to join (default: "
                                                                          "RAY_ADDRESS, or a local instance)."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
    threads: Optional[int] = typer.Option(None, "--threads", metavar="N",
                                          help="CPU threads for one output file (default: the cores other "
                                               "processes leave free, or OMP_NUM_THREADS when set)."),
):
    """Generate rows from a saved model (written atomically: no partial file on failure)."""
    from .. import io
    from ..scale.partitioned import is_folder_output, sample_to_folder
    from ..synthesizer import Synthesizer

    if n < 0:
        raise ConfigError("-n must be at least 0")
    if chunk_size < 1:
        raise ConfigError("--chunk-size must be at least 1")
    cond = parse_conditions(condition)
    if is_folder_output(output):
        if resume and seed is None:
            raise ConfigError("--resume needs the --seed of the stopped run")
        t0 = time.perf_counter()
        try:
            man = sample_to_folder(model_path, n, output, load=Synthesizer.load, seed=seed, condition=cond, part_rows=part_rows,
                                   chunk_size=chunk_size, workers=workers, device=device, resume=resume,
                                   engine=engine, address=ray_address)
        finally:
            if engine == "ray":
                from ..scale import ray as ray_engine

                ray_engine.shutdown()
        dt = time.perf_counter() - t0
        print(f"wrote {man['rows']} rows to {output}/ in {man['parts']} parts in {dt:.2f} s (seed {man['seed']})")
        return
    if workers != 1 or resume or engine != "local":
        raise ConfigError("--workers, --engine and --resume are for a folder output (-o out/): one file is written "
                          "by one process")
    io.output_format(output)
    io.check_writable(output, "output")
    syn = Synthesizer.load(model_path, device=device)
    if threads is not None:
        syn.config = syn.config.replace(threads=threads)
    t0 = time.perf_counter()
    rows = io.write_table(syn.iter_sample(n, condition=cond, seed=seed, chunk_size=chunk_size), output)
    dt = time.perf_counter() - t0
    print(f"wrote {rows} rows to {output} in {dt:.2f} s")



@app.command(epilog="Example: ganforge info adult.gfm")
def info(model_path: Path = typer.Argument(..., metavar="MODEL", help="Model file."),
         as_json: bool = typer.Option(False, "--json", help="Print the model's metadata as JSON.")):
    """Describe a saved model: settings, columns, training summary."""
    from rich.table import Table

    from .. import modelcheck, modelfile
    from ..config import Config
    from .images import info_images

    meta, shapes = modelfile.read_meta(model_path, kind="model")
    if meta.get("data") == "images":
        modelcheck.check_images(model_path, meta, shapes)
        info_images(model_path, meta, as_json)
        return
    modelcheck.check_table(model_path, meta, shapes)  # every value printed below has its type and range
    if as_json:
        m = dict(meta)
        m.get("training", {}).pop("history", None)
        m.pop("encoder", None)
        print(json.dumps(m, indent=2))
        return
    con = console()
    cfg = Config.from_flat({**meta["config"], "model": meta["model"], "preset": meta["preset"], "device": "cpu"})
    tr = meta.get("training", {})
    con.print(f"[bold]{literal(model_path)}[/bold]: model {literal(meta['model'])}, preset {literal(meta['preset'])}, "
              f"ganforge {literal(meta.get('ganforge_version'))}")
    took = f"in {tr['fit_seconds']} s" if tr.get("fit_seconds") is not None else "(no durations kept: private)"
    con.print(f"trained {tr.get('steps')} steps on {meta.get('n_rows')} rows {took}; "
              f"batch {cfg['batch_size']}, latent {cfg['latent_dim']}, seed {cfg['seed']}, "
              f"encoding {cfg['numeric_encoding']}/{cfg['categorical_encoding']}, "
              f"{tr.get('precision') or 'float32'} training products")
    if cfg["ema_decay"]:  # files from before the option have none: last weights
        con.print(f"generator: moving average of its weights (decay {cfg['ema_decay']:g})")
    if cfg.conditional and cfg["classifier_weight"]:  # what trained the label's relationship
        con.print(f"label classifier in training: weight {cfg['classifier_weight']:g}, "
                  f"{cfg['classifier_loss']} loss")
    enc = meta.get("encoder", {})
    derived = {d["column"]: d["source"] for d in enc.get("derived", [])}
    if derived:
        con.print(literal(_derived_line(derived)))
    links = [d.get("text") or f"{d['leader']} -> {d['follower']}" for d in enc.get("links", [])]
    if links:
        con.print(literal(_links_line(links)))
    groups = {d["column"]: d["parent"] for d in enc.get("groups", [])}
    if groups:
        con.print(literal(_groups_line(groups)))
    ratios = {d["column"]: d["source"] for d in enc.get("ratios", [])}
    if ratios:
        con.print(literal(_ratios_line(ratios)))
    joined = [d["columns"] for d in enc.get("joints", [])]
    if joined:
        con.print(literal(_joints_line(joined)))
    from ..encoding.supports import Support

    forbidden = {u.text: u.forbidden for u in map(Support.from_dict, enc.get("supports", []))}
    if forbidden:
        con.print(literal(_forbidden_line(forbidden)))
    from ..encoding.keyed import Lookup

    looked = [lk.text for lk in map(Lookup.from_dict, enc.get("lookups", []))]
    if looked:
        con.print(literal(_lookups_line(looked)))
    from ..columns import describe_columns
    from ..schema import Schema

    for line in _column_lines(describe_columns(Schema.from_dict(meta["schema"]), enc.get("rules"))):
        con.print(literal(line))
    cond = meta.get("condition")
    if cond:
        con.print(f"condition: {literal(cond['column'])} ({cond['kind']}), values {literal(cond['categories'][:10])}")
    quality = tr.get("quality")
    if meta.get("dp"):
        con.print(literal(_privacy_line(meta["dp"])))
    if quality:
        con.print(f"quality monitor: {literal(monitor_best(quality))}" + (" (stopped early)" if quality.get("stopped_early") else ""))
    hist = tr.get("history") or {}
    if hist.get("g_loss") and hist["g_loss"][-1] is not None:
        d_last = (hist.get("d_loss") or [None])[-1]
        con.print(f"final losses: G {hist['g_loss'][-1]:.4f}, D "
                  + ("not recorded (private)" if d_last is None or d_last != d_last else f"{d_last:.4f}"))
    t = Table(title="columns")
    for h in ("column", "kind", "dtype", "missing", "range / categories"):
        t.add_column(h)
    for c in meta["schema"]["columns"]:
        if c.get("min") is not None and c.get("max") is not None:
            rng = f"{c['min']:g} .. {c['max']:g}" if not isinstance(c["min"], str) else f"{c['min']} .. {c['max']}"
        else:
            rng = ", ".join(map(str, (c.get("categories") or [])[:6]))
        if c.get("categories") and len(c["categories"]) > 6:
            rng += f", ... ({len(c['categories'])})"
        t.add_row(literal(c["name"]), literal(c["kind"]), literal(c["dtype"]), f"{c.get('missing_rate', 0.0):.1%}", literal(rng))
    con.print(t)


def _privacy_line(dp: dict) -> str:
    """What a private model spent on what (files from before the breakdown: the total and the noise)."""
    head = f"differential privacy: epsilon {dp['epsilon_spent']:.3f} spent of {dp['epsilon']:g} (delta {dp['delta']:.2g})"
    sgd = (f"{dp['critic_steps']} discriminator steps of DP-SGD (noise multiplier {dp['noise_multiplier']:.3f}, "
           f"clip {dp['max_grad_norm']:g}, sample rate {dp['sample_rate']:.4f})")
    spent = dp.get("spent")
    if not spent:
        return f"{head} in {sgd}; {dp.get('accountant', '')}"
    what = {"dp_sgd": sgd, "label_counts": "the label counts (Laplace)", "row_count": "the row count (Laplace)"}
    parts = [f"{v:.3f} on {what.get(k, k)}" for k, v in spent.items()]
    return f"{head}: " + ", ".join(parts) + f"; {dp.get('schema', 'bounds and categories from the schema')}; " \
        f"{dp.get('accountant', '')}"
