"""The ``ganforge`` command line: the app, error translation and the torchrun relaunch.

Every error a user can cause is printed as one line (``error: ...``) with exit code 2. Library
errors name parameters (`` `dp_epsilon` ``); here they read as the flags a user types
(``--dp-epsilon``), or ``--set NAME`` for an option without a flag of its own.
"""

from __future__ import annotations

import sys

import typer

from ..errors import GanforgeError

# plain help: rich markup would take "[ray]" in "pip install 'ganforge[ray]'" for a tag, and show flags as
# taking a <bool>; and rich's help formatter is a fifth of a second of start-up
app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="Synthetic tables with GANs, and the evidence that they are good.\n\n"
                       "Example:  ganforge fit data.csv --model wcgan --target label -o model.gfm && "
                       "ganforge sample model.gfm -n 1000 -o synthetic.csv")


def _version(value: bool) -> None:
    if value:
        from ..version import __version__

        print(f"ganforge {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                          help="Print ganforge's version and exit.")) -> None:
    """Synthetic tables with GANs, and the evidence that they are good.

    Example:  ganforge fit data.csv --model wcgan --target label -o model.gfm && ganforge sample model.gfm
    -n 1000 -o synthetic.csv
    """


def console():
    from rich.console import Console

    return Console(stderr=False)


def literal(value) -> str:
    """A value read from a file as rich prints it: on one line, its brackets literal (a column named
    ``weight [kg]`` or ``[/x]`` is printed as it is, not read as markup)."""
    from rich.markup import escape

    from ..errors import one_line

    return escape(one_line(str(value)))


def monitor_best(q: dict) -> str:
    """"best fidelity 0.975 at step 4392" from a training summary's quality section (model files
    written before the monitor had a choice of metric hold column shapes only)."""
    metric = q.get("metric", "column_shapes")
    return f"best {metric.replace('_', ' ')} {q.get('best_score', q['best_column_shapes']):.3f} at step {q['best_step']}"



#: library parameters -> the flags that set them (other options are set with --set NAME=VALUE)
FLAGS = {
    "target": "--target", "condition_on": "--condition-on", "dp_epsilon": "--dp-epsilon", "dp_delta": "--dp-delta",
    "max_rows": "--max-rows", "schema": "--schema", "save_schema": "--save-schema", "nproc": "--nproc",
    "resume": "--resume", "lr": "--lr", "lr_g": "--lr", "lr_d": "--lr", "batch_size": "--batch-size",
    "steps": "--steps", "epochs": "--epochs", "device": "--device", "categorical": "--categorical",
    "numeric": "--numeric", "ordinal": "--ordinal", "drop": "--drop", "categorical_threshold": "--categorical-threshold",
    "ema_decay": "--ema-decay", "eval_every": "--eval-every", "monitor": "--monitor", "time_limit": "--time-limit",
    "early_stopping": "--early-stopping", "engine": "--engine", "workers": "--workers", "seed": "--seed",
    "condition": "--condition", "chunk_size": "--chunk-size", "part_rows": "--part-rows", "n": "-n",
    "stream": "--stream", "cache_dir": "--cache-dir", "sep": "--sep", "data_dir": "--data-dir",
    "seeds": "--seeds", "minority": "--minority", "keep": "--keep", "keep_fraction": "--keep-fraction",
    "add": "--add", "models": "--models", "base_minority": "--base-minority",
    "threads": "--threads", "rules": "--rule",
}


def flag(name: str) -> str:
    """How a user of the command line sets the library parameter ``name``."""
    from ..config import OPTION_SECTION

    if name in FLAGS:
        return FLAGS[name]
    return f"--set {name}" if name in OPTION_SECTION else name


def message(exc: GanforgeError) -> str:
    """The error's one line, with its parameters named as flags."""
    return exc.render(flag)


def has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


class Relaunch(Exception):
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
    from ..training.threads import free_cores

    env = dict(os.environ)
    # each process --threads, or its share of the cores (torchrun would set 1): of the free ones unless
    # the environment set a count (then of all of them, as before --threads)
    threads = next((a.split("=", 1)[1] for a in argv if a.startswith("--threads=")), None)
    if threads is None and "--threads" in argv[:-1]:
        threads = argv[argv.index("--threads") + 1]
    if threads and threads.isdigit():
        env["OMP_NUM_THREADS"] = threads
    else:
        cores = (os.cpu_count() or 1) if env.get("OMP_NUM_THREADS") else free_cores()
        env["OMP_NUM_THREADS"] = str(max(1, cores // nproc))
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


def _show_warning(text, category, filename, lineno, file=None, line=None, _default=None):
    """A ``GanforgeWarning`` as one ``warning: ...`` line (flags named as flags); others as Python shows them."""
    from ..errors import GanforgeWarning

    if issubclass(category, GanforgeWarning):
        sys.stderr.write(f"warning: {message(GanforgeError(str(text)))}\n")
    else:
        _default(text, category, filename, lineno, file, line)


class Terminated(SystemExit):
    """SIGTERM ends the command as Ctrl-C does: the exception unwinds through the writers, which remove
    their temporary files (modelfile.atomic_write); the exit code is 128 + 15."""


def _terminated(signum, frame):
    raise Terminated(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; usage errors are handled by typer (exit 2), ganforge errors print one line."""
    import functools
    import signal
    import threading
    import warnings

    args = list(sys.argv[1:] if argv is None else argv)
    shown, handler = warnings.showwarning, None
    warnings.showwarning = functools.partial(_show_warning, _default=shown)
    if threading.current_thread() is threading.main_thread():
        handler = signal.signal(signal.SIGTERM, _terminated)
    try:
        return _run(args)
    finally:
        warnings.showwarning = shown
        if handler is not None:
            signal.signal(signal.SIGTERM, handler)


def _run(args: list[str]) -> int:
    try:
        app(args=args, prog_name="ganforge")
    except Terminated as exc:
        print("terminated", file=sys.stderr)
        return int(exc.code)
    except SystemExit as exc:  # typer always exits: 0, or 2 for a usage error
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Relaunch as launch:
        return _torchrun(args, launch.nproc)
    except GanforgeError as exc:
        # one write, line and newline together: the ranks of an --nproc run share one stderr pipe, and
        # with unbuffered stderr (PYTHONUNBUFFERED) print's two writes let their lines run into each other
        sys.stderr.write(f"error: {message(exc)}\n")
        sys.stderr.flush()
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

