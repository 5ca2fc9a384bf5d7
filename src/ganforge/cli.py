"""The ``ganforge`` command line: a thin layer over the Synthesizer facade.

Every error a user can cause is printed as one line (``error: ...``) with exit code 2.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from .errors import ConfigError, GanforgeError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Synthetic tables with GANs, and the evidence that they are good.\n\n"
                       "Example:  ganforge fit data.csv --model wcgan --target label -o model.gfm && "
                       "ganforge sample model.gfm -n 1000 -o synthetic.csv")


def _console():
    from rich.console import Console

    return Console(stderr=False)


def _parse_set(values: list[str] | None) -> dict:
    """``--set key=value``: any preset option; the value is read as JSON when it parses."""
    out = {}
    for item in values or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set latent_dim=32")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def _monitor_best(q: dict) -> str:
    """"best fidelity 0.975 at step 4392" from a training summary's quality section (model files
    written before the monitor had a choice of metric hold column shapes only)."""
    metric = q.get("metric", "column_shapes")
    return f"best {metric.replace('_', ' ')} {q.get('best_score', q['best_column_shapes']):.3f} at step {q['best_step']}"


@app.command(epilog="Example: ganforge fit adult.csv --model wcgan --target income --epochs 50 -o adult.gfm")
def fit(
    data: Path = typer.Argument(..., help="CSV or Parquet file with a header row, or a folder of Parquet parts "
                                          "(streamed: it need not fit in memory)."),
    output: Path = typer.Option(..., "-o", "--output", help="Model file to write (e.g. model.gfm)."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="gan, cgan, wgan or wcgan (default: wcgan "
                                                                     "with a --target or --condition-on, else wgan)."),
    target: Optional[str] = typer.Option(None, "--target", "-t", help="Label column (the condition of cgan/wcgan)."),
    preset: str = typer.Option("default", "--preset", "-p", help="default, ctgan-like, pima-paper, ons-paper, registry-paper."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Generator steps (overrides --epochs)."),
    epochs: Optional[float] = typer.Option(None, "--epochs", help="Passes over the data."),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Rows per batch."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate of both networks."),
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
                                               "(DP-SGD on the discriminator) to this epsilon; needs --schema "
                                               "with the bounds and categories. See docs/privacy.md."),
    dp_delta: Optional[float] = typer.Option(None, "--dp-delta", help="The delta of (epsilon, delta)-DP "
                                             "(default 1/(10 n))."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Any preset option, KEY=VALUE (repeatable)."),
    stream: bool = typer.Option(False, "--stream", help="Stream a CSV or Parquet file from disk in bounded memory "
                                                        "(a folder is always streamed)."),
    max_rows: Optional[int] = typer.Option(None, "--max-rows", help="Train on a uniform sample of N rows (read in "
                                                                     "one bounded-memory pass)."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Folder for the encoded rows when streaming "
                                                                        "(default: a hidden folder here, removed "
                                                                        "after training)."),
    nproc: int = typer.Option(1, "--nproc", help="Train on N local processes (torchrun, Gloo on CPU, NCCL on "
                                                 "GPU); the batch is split over them. See docs/scale.md."),
    engine: str = typer.Option("local", "--engine", help="local, or ray: train on --workers Ray Train workers "
                                                         "(pip install 'ganforge[ray]')."),
    workers: int = typer.Option(2, "--workers", help="Ray Train workers (with --engine ray)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="Ray cluster to join (default: "
                                                                          "RAY_ADDRESS, or a local instance)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Learn a table and save the model."""
    from . import distributed, io, modelfile
    from .schema import Schema, parse_ordinal_option, split_list_option
    from .synthesizer import Synthesizer

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
        raise _Relaunch(nproc)
    if save_schema is not None:
        modelfile.check_writable(save_schema, "schema")
    overrides = _parse_set(set_)
    if early_stopping:
        overrides["early_stopping"] = True
    for k, v in (("steps", steps), ("epochs", epochs), ("batch_size", batch_size), ("lr_g", lr), ("lr_d", lr),
                 ("categorical_threshold", categorical_threshold), ("eval_every", eval_every), ("monitor", monitor),
                 ("ema_decay", ema_decay),
                 ("time_limit", time_limit), ("dp_epsilon", dp_epsilon), ("dp_delta", dp_delta)):
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
                   drop=split_list_option(drop), schema=sch, quiet=quiet, checkpoint=checkpoint,
                   checkpoint_every=checkpoint_every or 500, resume=resume)
    files = stream or max_rows is not None or data.is_dir()
    if engine == "ray":
        from . import ray_engine

        columns["quiet"] = True
        try:
            ray_engine.fit(model, preset, overrides, data, output, columns, files=files, sep=sep, max_rows=max_rows,
                           cache_dir=cache_dir, workers=workers, use_gpu=device.startswith("cuda") or (device == "auto" and _cuda()),
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
    print(f"saved {output}: {model}/{preset}, {s['steps']} steps on {s['n_rows']} rows in {s['fit_seconds']:.1f} s "
          f"(encoder {s['encoder_fit_seconds']:.1f} s)"
          + ("; stopped at the --time-limit" if s.get("stopped_by") == "time_limit" else ""))
    if s.get("derived_columns"):
        print(_derived_line(s["derived_columns"]))
    if s.get("precision") == "bfloat16":
        print("training step in mixed precision: bfloat16 matrix products, float32 weights (--set "
              "precision=float32 for float32 throughout)")
    if s.get("dp"):
        print(f"differential privacy: epsilon {s['dp']['epsilon_spent']:.3f} spent (target {s['dp']['epsilon']:g}, "
              f"delta {s['dp']['delta']:.2g})")
    if s.get("quality"):
        q = s["quality"]
        print(f"{_monitor_best(q)} (weights kept)" + ("; stopped early" if q["stopped_early"] else ""))


def _derived_line(derived: dict[str, str]) -> str:
    return ("derived, not learnt (a function of another column in every training row; --set "
            "derive_columns=false to learn them): " + ", ".join(f"{b} from {a}" for b, a in derived.items()))


def _parse_conditions(items: list[str] | None) -> dict:
    """``COL=VALUE``, or ``COL=v1:0.3,v2:0.7`` when every part ends in ``:share``."""
    out: dict = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--condition {item!r}: expected COLUMN=VALUE, e.g. --condition income='>50K'")
        col, val = (x.strip() for x in item.split("=", 1))
        parts = [p.rpartition(":") for p in val.split(",")]
        if all(sep and _is_number(share) for _, sep, share in parts):
            out[col] = {v: float(share) for v, _, share in parts}
        else:
            out[col] = val
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


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
):
    """Generate rows from a saved model (written atomically: no partial file on failure)."""
    from . import io
    from .partitioned import is_folder_output, sample_to_folder
    from .synthesizer import Synthesizer

    if n < 0:
        raise ConfigError("-n must be at least 0")
    if chunk_size < 1:
        raise ConfigError("--chunk-size must be at least 1")
    cond = _parse_conditions(condition)
    if is_folder_output(output):
        if resume and seed is None:
            raise ConfigError("--resume needs the --seed of the stopped run")
        t0 = time.perf_counter()
        try:
            man = sample_to_folder(model_path, n, output, seed=seed, condition=cond, part_rows=part_rows,
                                   chunk_size=chunk_size, workers=workers, device=device, resume=resume,
                                   engine=engine, address=ray_address)
        finally:
            if engine == "ray":
                from . import ray_engine

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
    t0 = time.perf_counter()
    rows = io.write_table(syn.iter_sample(n, condition=cond, seed=seed, chunk_size=chunk_size), output)
    dt = time.perf_counter() - t0
    print(f"wrote {rows} rows to {output} in {dt:.2f} s")


@app.command(epilog="Example: ganforge info adult.gfm")
def info(model_path: Path = typer.Argument(..., metavar="MODEL", help="Model file."),
         as_json: bool = typer.Option(False, "--json", help="Print the model's metadata as JSON.")):
    """Describe a saved model: settings, columns, training summary."""
    from rich.table import Table

    from . import modelfile

    _, meta = modelfile.load(model_path, kind="model")
    if meta.get("data") == "images":
        _info_images(model_path, meta, as_json)
        return
    if as_json:
        m = dict(meta)
        m.get("training", {}).pop("history", None)
        m.pop("encoder", None)
        print(json.dumps(m, indent=2))
        return
    con = _console()
    cfg, tr = meta["config"], meta.get("training", {})
    con.print(f"[bold]{model_path}[/bold]: model {meta['model']}, preset {meta['preset']}, "
              f"ganforge {meta.get('ganforge_version')}")
    con.print(f"trained {tr.get('steps')} steps on {meta.get('n_rows')} rows in {tr.get('fit_seconds')} s; "
              f"batch {cfg['batch_size']}, latent {cfg['latent_dim']}, seed {cfg['seed']}, "
              f"encoding {cfg['numeric_encoding']}/{cfg['categorical_encoding']}, "
              f"{tr.get('precision', 'float32')} training products")
    if cfg.get("ema_decay"):  # files from before the option have no key: last weights
        con.print(f"generator: moving average of its weights (decay {cfg['ema_decay']:g})")
    derived = {d["column"]: d["source"] for d in meta.get("encoder", {}).get("derived", [])}
    if derived:
        con.print(_derived_line(derived))
    cond = meta.get("condition")
    if cond:
        con.print(f"condition: {cond['column']} ({cond['kind']}), values {cond['categories'][:10]}")
    quality = tr.get("quality")
    dp = meta.get("dp")
    if dp:
        con.print(f"differential privacy: epsilon {dp['epsilon_spent']:.3f} spent of {dp['epsilon']:g} (delta "
                  f"{dp['delta']:.2g}) in {dp['critic_steps']} discriminator steps; noise multiplier "
                  f"{dp['noise_multiplier']:.3f}, clip {dp['max_grad_norm']:g}, sample rate {dp['sample_rate']:.4f}; "
                  f"{dp['accountant']}")
    if quality:
        con.print(f"quality monitor: {_monitor_best(quality)}" + (" (stopped early)" if quality.get("stopped_early") else ""))
    hist = tr.get("history") or {}
    if hist.get("g_loss"):
        d_last = hist["d_loss"][-1]
        con.print(f"final losses: G {hist['g_loss'][-1]:.4f}, D "
                  + ("not recorded (private)" if d_last is None or d_last != d_last else f"{d_last:.4f}"))
    t = Table(title="columns")
    for h in ("column", "kind", "dtype", "missing", "range / categories"):
        t.add_column(h)
    for c in meta["schema"]["columns"]:
        rng = f"{c['min']:g} .. {c['max']:g}" if c.get("min") is not None else ", ".join(map(str, (c.get("categories") or [])[:6]))
        if c.get("categories") and len(c["categories"]) > 6:
            rng += f", ... ({len(c['categories'])})"
        t.add_row(c["name"], c["kind"], c["dtype"], f"{c['missing_rate']:.1%}", rng)
    con.print(t)


def _info_images(model_path: Path, meta: dict, as_json: bool) -> None:
    m = {k: v for k, v in meta.items() if k != "history"}
    if as_json:
        print(json.dumps(m, indent=2))
        return
    con = _console()
    cfg = meta["config"]
    hist = meta.get("history") or {}
    steps = hist.get("step", [None])[-1] if hist.get("step") else None
    con.print(f"[bold]{model_path}[/bold]: image model {meta['model']}, preset {meta['preset']}, "
              f"ganforge {meta.get('ganforge_version')}")
    con.print(f"images {' x '.join(map(str, meta['shape']))} ({meta['dtype']}, values {meta['value_range'][0]:g} .. "
              f"{meta['value_range'][1]:g}); trained on {meta['n_images']} images in {meta.get('fit_seconds', 0):.0f} s"
              + (f", {steps} steps" if steps else "") + f"; seed {cfg['seed']}")
    con.print(f"labels: {meta['classes'] if meta['classes'] is not None else 'none (unconditional)'}")


def _load_images(path: Optional[Path]):
    """Images (and labels) from a .npz (arrays ``images`` and optionally ``labels``) or .npy file;
    with no path, scikit-learn's 8x8 digits."""
    import numpy as np

    if path is None:
        from sklearn.datasets import load_digits

        d = load_digits()
        return d.images, d.target, "scikit-learn 8x8 digits"
    if not path.exists():
        raise ConfigError(f"image file not found: {path}")
    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False), None, str(path)
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                keys = list(z.keys())
                key = next((k for k in ("images", "x", "X") if k in keys), None)
                if key is None:
                    raise ConfigError(f"{path}: no array named 'images' in it (found: {', '.join(keys) or 'none'})")
                lab = next((z[k] for k in ("labels", "y") if k in keys), None)
                return z[key], lab, str(path)
    except (ValueError, OSError) as exc:
        raise ConfigError(f"cannot read images from {path}: {str(exc).splitlines()[0]} "
                          f"(expected a .npz or .npy file saved by numpy, without pickled objects)") from None
    raise ConfigError(f"{path}: image data must be a .npz (arrays 'images' and 'labels') or a .npy file")


@app.command("fit-images", epilog="Example: ganforge fit-images digits.npz --model cwgan --steps 2000 -o digits.gfm")
def fit_images(
    data: Optional[Path] = typer.Argument(None, help=".npz with arrays 'images' (n, h, w) or (n, c, h, w) and "
                                                     "'labels', or .npy images (default: scikit-learn's 8x8 digits)."),
    output: Path = typer.Option(..., "-o", "--output", help="Model file to write."),
    model: str = typer.Option("cwgan", "--model", "-m", help="cwgan, wgan, progan or vae."),
    preset: str = typer.Option("default", "--preset", "-p", help="default or quick."),
    label: Optional[str] = typer.Option(None, "--label", help="wgan/progan/vae: learn only the images of this label."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Generator steps."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
):
    """Learn a set of images (with labels for the conditional model)."""
    from . import modelfile
    from .images import ImageSynthesizer

    modelfile.check_writable(output, "model")
    images, labels, name = _load_images(data)
    over = {"seed": seed, "device": device}
    if steps is not None:
        over["steps"] = steps
    syn = ImageSynthesizer(model, preset, **over)
    lab = None
    if label is not None:
        if labels is None:
            raise ConfigError(f"--label {label}: {name} has no labels")
        try:
            lab = type(labels.flat[0].item())(label) if labels.dtype.kind in "iuf" else label
        except ValueError:
            raise ConfigError(f"--label {label!r}: the labels of {name} are numbers; give one of them") from None
    syn.fit(images, labels, label=lab, quiet=False)
    syn.save(output)
    print(f"learned {syn.n_images_} images of {name} in {syn.fit_seconds_:.1f} s; model written to {output}")


@app.command("sample-images", epilog="Example: ganforge sample-images digits.gfm -n 64 --label 5 -o fives.png")
def sample_images(
    model_path: Path = typer.Argument(..., metavar="MODEL", help="Model file written by `ganforge fit-images`."),
    n: int = typer.Option(..., "-n", help="Number of images."),
    output: Path = typer.Option(..., "-o", "--output", help=".npz (arrays images, labels) or .png (a grid)."),
    label: Optional[str] = typer.Option(None, "--label", help="Label of the images (conditional models)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
):
    """Generate images from a saved image model (written atomically)."""
    import numpy as np

    from . import modelfile
    from .images import ImageSynthesizer

    if output.suffix not in (".npz", ".png"):
        raise ConfigError(f"-o {output}: write a .npz or a .png file")
    if n < 0:
        raise ConfigError("-n must be at least 0")
    modelfile.check_writable(output, "output")
    syn = ImageSynthesizer.load(model_path, device=device)
    lab = label
    if label is not None and syn.classes_ and not isinstance(syn.classes_[0], str):
        try:
            lab = type(syn.classes_[0])(label)
        except ValueError:
            pass
    imgs, labels = syn.sample(n, label=lab, seed=seed, return_labels=True)
    if output.suffix == ".npz":
        def write_npz(tmp):
            with open(tmp, "wb") as fh:  # a file object: numpy would append .npz to a temp name
                arrays = {"images": imgs} if labels is None else {"images": imgs, "labels": labels}
                np.savez_compressed(fh, **arrays)

        modelfile.atomic_write(output, write_npz)
    else:
        from .studies._common import plt
        from .studies.mnist import _grid

        lo, hi = syn.value_range_
        flat = (imgs.astype(float) - lo) / (hi - lo)
        flat = flat if flat.ndim == 3 else flat.mean(1)
        pyplot = plt()
        ncol = min(10, max(1, n))
        fig, ax = pyplot.subplots(figsize=(ncol * 0.8, max(1, -(-n // ncol)) * 0.8))
        _grid(ax, flat, ncol=ncol)
        modelfile.atomic_write(output, lambda tmp: fig.savefig(tmp, format="png", dpi=80, bbox_inches="tight"))
        pyplot.close(fig)
    print(f"wrote {n} images to {output}")


@app.command(epilog="Example: ganforge evaluate --real adult_train.csv --test adult_test.csv --synthetic syn.csv "
                     "--target income --model adult.gfm --json report.json --html report.html")
def evaluate(
    real: Path = typer.Option(..., "--real", help="The real rows the model was trained on (CSV or Parquet)."),
    synthetic: Path = typer.Option(..., "--synthetic", help="The synthetic rows."),
    test: Optional[Path] = typer.Option(None, "--test", help="Held-out real rows (default: 30% of --real)."),
    target: Optional[str] = typer.Option(None, "--target", help="Label column for train-on-synthetic tests."),
    model_path: Optional[Path] = typer.Option(None, "--model", help="Model file: schema, loss curves, and "
                                                                      "its discriminator's verdicts."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write every figure as JSON here."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write the report (one HTML file) here."),
    sep: Optional[str] = typer.Option(None, "--sep", help="CSV separator (sniffed when omitted)."),
    seed: int = typer.Option(0, "--seed"),
    no_tsne: bool = typer.Option(False, "--no-tsne", help="Skip the t-SNE picture (the slowest part)."),
):
    """Measure a synthetic table: fidelity, detection, utility, privacy, pictures."""
    from . import io, modelfile
    from .evaluation import evaluate as run_evaluation
    from .report import terminal_summary, write_report

    for p in (json_out, html_out):
        if p is not None:
            modelfile.check_writable(p, "report")
    real_df = io.read_table(real, sep=sep)
    syn_df = io.read_table(synthetic, sep=sep)
    test_df = io.read_table(test, sep=sep) if test is not None else None
    result = run_evaluation(real_df, syn_df, test=test_df, target=target, model=model_path, seed=seed,
                            tsne=not no_tsne)
    write_report(result, html_out, json_out)
    _console().print(terminal_summary(result))
    for p in (html_out, json_out):
        if p is not None:
            print(f"wrote {p}")


def _int_list(text: str | None, option: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"{option} {text!r}: expected whole numbers separated by commas, e.g. 0,100,200") from None


@app.command(epilog="Example: ganforge study pima -o out/pima   |   ganforge study fraud --quick")
def study(
    name: str = typer.Argument(..., help="pima, german, fraud, adult, categorical or mnist."),
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
    from .studies import run_study

    if data_dir is not None and not data_dir.is_dir():
        raise ConfigError(f"--data-dir {str(data_dir)!r} is not a folder")
    t = time.perf_counter()
    out = run_study(name, output, data_dir=data_dir, quick=quick, seeds=_int_list(seeds, "--seeds"), device=device,
                    minority=minority, keep=keep, keep_fraction=keep_fraction, add=_int_list(add, "--add"),
                    models=[m.strip() for m in models.split(",") if m.strip()] if models else None)
    print(f"study {name} done in {time.perf_counter() - t:.0f} s; results in {out}/README.md")


@app.command(epilog="Example: ganforge augment fraud.csv --target Class --minority 1 --add 50,100,200 "
                     "--base-minority 100 -o augment-out")
def augment(
    data: Path = typer.Argument(..., help="CSV or Parquet training table with a binary target."),
    target: str = typer.Option(..., "--target", "-t", help="The binary label column."),
    minority: str = typer.Option(..., "--minority", help="The label value to add rows of (the rare class)."),
    add: str = typer.Option("50,100,200,400", "--add", help="Rows to add, comma separated (0 is always included)."),
    test: Optional[Path] = typer.Option(None, "--test", help="Held-out rows (default: a stratified 30% of DATA)."),
    base_minority: Optional[int] = typer.Option(None, "--base-minority",
                                                help="Minority rows kept in the base set (default: half of them); "
                                                     "the rest are the 'real' rows added."),
    model: str = typer.Option("wcgan", "--model", "-m", help="gan, cgan, wgan or wcgan."),
    preset: str = typer.Option("default", "--preset", "-p"),
    steps: Optional[int] = typer.Option(None, "--steps", help="Generator steps (default: the preset's budget)."),
    seeds: str = typer.Option("0,1,2", "--seeds", help="Seeds: each redraws the base set, generator, classifier."),
    output: Path = typer.Option(Path("augment-out"), "-o", "--output", help="Folder for the table and figure."),
    sep: Optional[str] = typer.Option(None, "--sep", help="CSV separator (sniffed when omitted)."),
):
    """Does adding generated minority rows raise recall? Real rows, a trained and an untrained generator,
    and SMOTE, side by side (XGBoost on held-out real rows)."""
    from sklearn.model_selection import train_test_split

    from . import io
    from .augment import augmentation_experiment, plot
    from .studies._common import StudyOutput

    df = io.read_table(data, sep=sep)
    if target not in df.columns:
        raise ConfigError(f"--target {target!r} is not a column of {data}; columns: {', '.join(map(str, df.columns))}")
    seeds_l = _int_list(seeds, "--seeds")
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
                                      _int_list(add, "--add"), base_minority=base_minority, model=model,
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
    _console().print(t)
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

    from . import io
    from .datasets import load_breast_cancer
    from .synthesizer import Synthesizer

    output.mkdir(parents=True, exist_ok=True)
    df = load_breast_cancer()
    con = _console()
    con.print(f"[bold]ganforge demo[/bold]: scikit-learn's breast cancer table, {len(df)} rows x {df.shape[1]} "
              f"columns, target 'diagnosis'")
    # min-max numerics: on this small all-numeric table they measured better than mode-specific
    # normalisation (docs/default-preset.md)
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


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


class _Relaunch(Exception):
    """Raised by ``fit --nproc N``: main() starts torchrun with the same arguments."""

    def __init__(self, nproc: int):
        self.nproc = nproc


def _torchrun(argv: list[str], nproc: int) -> int:
    """``torchrun --standalone --nproc-per-node N -m ganforge ARGS`` without ``--nproc``."""
    import os
    import subprocess

    rest, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--nproc":
            skip = True
        elif not a.startswith("--nproc="):
            rest.append(a)
    env = dict(os.environ)
    # one share of the cores per process (torchrun would set 1)
    env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // nproc))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "-m", "ganforge", *rest]
    # the progress bar goes to stdout as it comes; stderr is read so that a rank's one-line error is
    # shown once instead of torchrun's report of a failed child and its traceback
    r = subprocess.run(cmd, env=env, stderr=subprocess.PIPE, text=True)
    if r.returncode == 0:
        sys.stderr.write(r.stderr)
        return 0
    errors = list(dict.fromkeys(line for line in r.stderr.splitlines() if line.startswith("error: ")))
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 2
    sys.stderr.write("\n".join(r.stderr.splitlines()[-25:]) + "\n")
    return r.returncode


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; usage errors are handled by typer (exit 2), ganforge errors print one line."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="ganforge")
    except SystemExit as exc:  # typer always exits: 0, or 2 for a usage error
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except _Relaunch as launch:
        return _torchrun(args, launch.nproc)
    except GanforgeError as exc:
        # one write, line and newline together: the ranks of an --nproc run share one stderr pipe, and
        # with unbuffered stderr (PYTHONUNBUFFERED) print's two writes let their lines run into each other
        sys.stderr.write(f"error: {exc}\n")
        sys.stderr.flush()
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
