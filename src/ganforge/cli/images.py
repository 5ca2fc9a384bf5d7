"""``ganforge fit-images`` and ``sample-images``, and what ``info`` says of an image model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..errors import ConfigError
from .app import app, console, literal


def info_images(model_path: Path, meta: dict, as_json: bool) -> None:
    m = {k: v for k, v in meta.items() if k != "history"}
    if as_json:
        print(json.dumps(m, indent=2))
        return
    con = console()
    cfg = meta["config"]
    hist = meta.get("history") or {}
    steps = hist.get("step", [None])[-1] if hist.get("step") else None
    con.print(f"[bold]{literal(model_path)}[/bold]: image model {literal(meta['model'])}, preset "
              f"{literal(meta['preset'])}, ganforge {literal(meta.get('ganforge_version'))}")
    con.print(f"images {' x '.join(map(str, meta['shape']))} ({literal(meta['dtype'])}, values "
              f"{meta['value_range'][0]:g} .. {meta['value_range'][1]:g}); trained on {meta['n_images']} images in "
              f"{meta.get('fit_seconds') or 0:.0f} s" + (f", {steps} steps" if steps else "")
              + f"; seed {literal(cfg.get('seed'))}")
    con.print(f"labels: {literal(meta['classes']) if meta['classes'] is not None else 'none (unconditional)'}")



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
    data: Optional[Path] = typer.Argument(None, metavar="DATA", help=".npz with arrays 'images' (n, h, w) or (n, c, h, w) and "
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
    from .. import modelfile
    from ..images import ImageSynthesizer

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
    n: int = typer.Option(..., "-n", "--rows", help="Number of images."),
    output: Path = typer.Option(..., "-o", "--output", help=".npz (arrays images, labels) or .png (a grid)."),
    label: Optional[str] = typer.Option(None, "--label", help="Label of the images (conditional models)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed."),
    device: str = typer.Option("auto", "--device", help="auto, cpu or cuda."),
):
    """Generate images from a saved image model (written atomically)."""
    import numpy as np

    from .. import modelfile
    from ..images import ImageSynthesizer

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
        from ..report.plots import image_grid
        from ..report.plots import pyplot as get_pyplot

        lo, hi = syn.value_range_
        flat = (imgs.astype(float) - lo) / (hi - lo)
        flat = flat if flat.ndim == 3 else flat.mean(1)
        pyplot = get_pyplot()
        ncol = min(10, max(1, n))
        fig, ax = pyplot.subplots(figsize=(ncol * 0.8, max(1, -(-n // ncol)) * 0.8))
        image_grid(ax, flat, ncol=ncol)
        modelfile.atomic_write(output, lambda tmp: fig.savefig(tmp, format="png", dpi=80, bbox_inches="tight"))
        pyplot.close(fig)
    print(f"wrote {n} images to {output}")


