"""What every study shares: an output folder written all-or-nothing, figures, tables with
mean and spread over seeds, and a results page (Markdown + JSON) beside the figures."""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ...errors import ConfigError
from ...schema import jsonable


def plt():
    from ...report.plots import pyplot

    return pyplot()


def mean_sd(values: Iterable[float], digits: int = 3) -> str:
    """``0.912 ± 0.015`` (sample standard deviation over seeds), or the value alone for one seed."""
    v = np.asarray([x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))], float)
    if len(v) == 0:
        return "n/a"
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


def md_table(df: pd.DataFrame, index: bool = False) -> str:
    """A Markdown table (no tabulate dependency)."""
    if index:
        df = df.reset_index()
    cols = [str(c) for c in df.columns]

    def cell(x):
        if isinstance(x, float):
            return "" if math.isnan(x) else f"{x:.4g}"
        return str(x).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


class StudyOutput:
    """Collects a study's figures, tables and numbers in a temporary folder next to ``out``
    and moves it into place only when the study finishes, so an interrupted run never leaves
    a half-written results folder behind."""

    def __init__(self, name: str, out: str | Path, *, quick: bool, seeds: list[int], title: str,
                 command: str | None = None):
        self.name, self.quick, self.seeds, self.title = name, quick, seeds, title
        self.out = Path(out)
        if self.out.exists() and not self.out.is_dir():
            raise ConfigError(f"-o {str(self.out)!r} is a file; give a folder for the study's results")
        if self.out.is_dir() and any(self.out.iterdir()) and not (self.out / "results.json").exists():
            raise ConfigError(f"-o {str(self.out)!r} is a folder that holds other files; give a new or empty "
                              f"folder (or a previous results folder of a study, which is replaced)")
        self.out.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(self.out.parent, os.W_OK):
            raise ConfigError(f"cannot write to {str(self.out.parent)!r}: choose another -o folder")
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.partial-", dir=self.out.parent))
        self.command = command or "ganforge study " + name + (" --quick" if quick else "")
        self.sections: list[str] = []
        self.results: dict[str, Any] = {}
        self.figures: list[str] = []
        self.t0 = time.perf_counter()

    # ---- content -------------------------------------------------------------------------
    def section(self, heading: str, text: str = "") -> None:
        self.sections.append(f"## {heading}\n\n{text}".rstrip() + "\n")

    def text(self, text: str) -> None:
        self.sections.append(text.rstrip() + "\n")

    def table(self, df: pd.DataFrame, caption: str | None = None, csv_name: str | None = None,
              index: bool = False) -> None:
        block = (f"*{caption}*\n\n" if caption else "") + md_table(df, index=index)
        self.sections.append(block + "\n")
        if csv_name:
            df.to_csv(self.tmp / f"{csv_name}.csv", index=index)

    def figure(self, fig, name: str, caption: str) -> None:
        fig.savefig(self.tmp / f"{name}.png", dpi=90, bbox_inches="tight")
        plt().close(fig)
        self.figures.append(name)
        self.sections.append(f"![{caption}]({name}.png)\n\n*{caption}*\n")

    def png(self, data: bytes | None, name: str, caption: str) -> None:
        if data is None:
            return
        (self.tmp / f"{name}.png").write_bytes(data)
        self.figures.append(name)
        self.sections.append(f"![{caption}]({name}.png)\n\n*{caption}*\n")

    def frame(self, df: pd.DataFrame, name: str) -> None:
        df.to_csv(self.tmp / f"{name}.csv", index=False)

    # ---- finish --------------------------------------------------------------------------
    def finish(self) -> Path:
        import torch

        from ...version import __version__

        seconds = time.perf_counter() - self.t0
        env = {"ganforge": __version__, "python": sys.version.split()[0], "torch": torch.__version__,
               "pandas": pd.__version__, "numpy": np.__version__, "platform": platform.platform(),
               "cpu_threads": torch.get_num_threads()}
        meta = {"study": self.name, "command": self.command, "quick": self.quick, "seeds": self.seeds,
                "seconds": round(seconds, 1), "environment": env, "figures": self.figures}
        (self.tmp / "results.json").write_text(json.dumps(jsonable({**meta, "results": self.results}), indent=2,
                                                          allow_nan=False, default=str))
        head = [f"# {self.title}", "",
                f"Regenerate with `{self.command}`. Seeds: {', '.join(map(str, self.seeds))}"
                f"{' (quick budget: a smoke run, not a result)' if self.quick else ''}. "
                f"Ran in {seconds / 60:.1f} min on {env['cpu_threads']} CPU threads; ganforge {__version__}, "
                f"torch {env['torch']}, Python {env['python']}.", ""]
        (self.tmp / "README.md").write_text("\n".join(head) + "\n" + "\n".join(self.sections))
        if self.out.exists():
            shutil.rmtree(self.out)
        os.replace(self.tmp, self.out)
        for p in self.out.iterdir():
            os.chmod(p, 0o644)
        os.chmod(self.out, 0o755)
        return self.out

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def fresh_rows(syn, n: int, seed: int):
    """Rows from a Synthesizer in the middle of training (the current weights), and their condition
    codes (None for an unconditional model)."""
    return syn.sample(n, seed=int(seed), return_codes=True)


class Snapshots:
    """A training callback that keeps ``n`` generated rows at the given steps (step 0 = before
    any training), to draw what a generator produces as it learns."""

    def __init__(self, syn, steps: list[int], n: int, seed: int):
        from ...training import Callback  # noqa: F401  (duck-typed: the trainer calls these hooks)

        self.syn, self.steps, self.n, self.seed = syn, set(steps), n, seed
        self.frames: dict[int, pd.DataFrame] = {}

    def _take(self, step):
        df, codes = fresh_rows(self.syn, self.n, self.seed + step)
        if codes is not None:
            df = df.assign(_code=codes)
        self.frames[step] = df

    def on_train_begin(self, trainer):
        if trainer.step == 0 and 0 in self.steps:
            self._take(0)

    def on_step_end(self, trainer, step):
        if step in self.steps:
            self._take(step)

    def on_log(self, trainer, records):
        pass

    def on_train_end(self, trainer):
        pass
