"""One training loop for every model family.

The trainer drives a :class:`~ganforge.training.family.Family` step by step; it knows nothing about
columns, losses or networks. It records each step's figures (one device sync per ``log_every``
steps), stops on a deadline or when a callback asks, keeps every rank of a process group stopping at
the same step, and saves and restores the whole state (weights, optimisers, random streams) for
checkpoints. Callbacks see every step: the progress bar, checkpoints, snapshots and the quality
monitor are callbacks.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from ..errors import TrainingError
from . import kernels
from .family import Family
from .collectives import SINGLE, Context, any_rank, gather_objects


class Callback:
    """Hooks the trainer calls: before the first step, after every step, with each batch of history
    rows (every ``log_every`` steps), and after the last step."""

    def on_train_begin(self, trainer: "Trainer") -> None:
        """Before the first step of this run (``trainer.step`` > 0 when a checkpoint resumed it)."""

    def on_step_end(self, trainer: "Trainer", step: int) -> None:
        """After step ``step`` (counted from 1)."""

    def on_log(self, trainer: "Trainer", records: list[dict[str, float]]) -> None:
        """With the history rows just recorded."""

    def on_train_end(self, trainer: "Trainer") -> None:
        """After the last step."""


def with_prefix(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors stored under ``prefix.``, with the prefix removed (a module's state dict)."""
    cut = len(prefix) + 1
    return {k[cut:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}


@dataclass
class Trainer:
    family: Family
    callbacks: Sequence[Callback] = ()
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    #: the process group (gradients are averaged over its ranks by the family)
    dist: Context = SINGLE
    log_every: int = 25

    def __post_init__(self):
        self.step = 0
        self.history: list[dict[str, float]] = []
        self.stop_requested = False
        #: why training stopped before its budget: "early_stopping", "time_limit" or None
        self.stop_reason: str | None = None
        self.train_seconds = 0.0
        self._pending: list[torch.Tensor] = []

    @property
    def precision(self) -> str:
        """The arithmetic of the training step: "float32" or "bfloat16"."""
        return self.family.precision

    def flush(self) -> list[dict[str, float]]:
        """Move pending per-step figures to the history (one device sync per ``log_every``)."""
        if not self._pending:
            return []
        vals = torch.stack(self._pending).cpu().tolist()
        first = self.step - len(vals) + 1
        self._pending = []
        recs = [self.family.record(first + i, v) for i, v in enumerate(vals)]
        self.history.extend(recs)
        return recs

    def train_step(self) -> None:
        """One step of the family (its figures wait for the next ``flush``)."""
        self._pending.append(self.family.train_step(self.step))
        self.step += 1

    def _log(self, recs: list[dict[str, float]]) -> None:
        for cb in self.callbacks:
            cb.on_log(self, recs)

    def fit(self, total_steps: int, deadline: float | None = None) -> list[dict[str, float]]:
        """Train until ``total_steps`` steps have been made (resumes from ``self.step``), or until
        ``time.perf_counter()`` passes ``deadline``, whichever comes first."""
        fam = self.family
        fam.train(True)
        for cb in self.callbacks:
            cb.on_train_begin(self)
        # float32 products through oneDNN where it keeps float32 accuracy for these networks' shapes
        # (probed once per process and shape, before the clock starts). A bfloat16 step multiplies in
        # bfloat16, forward and backward: probing its float32 products would only compile products that
        # training never runs
        with (kernels.cpu_matmul(self.device, fam.matmul_shapes()) if fam.precision == "float32"
              else contextlib.nullcontext(False)):
            t0 = time.perf_counter()
            try:
                fam.begin(self.step)
                while self.step < total_steps and not self.stop_requested:
                    self.train_step()
                    if self.step % self.log_every == 0 or self.step == total_steps:
                        self._log(self.flush())
                    for cb in self.callbacks:
                        cb.on_step_end(self, self.step)
                    if deadline is not None and not self.stop_requested and time.perf_counter() >= deadline:
                        self.stop_requested, self.stop_reason = True, "time_limit"
                    if self.dist.active:  # every rank stops at the same step
                        self.stop_requested = any_rank(self.stop_requested, self.device)
                recs = self.flush()
                if recs:
                    self._log(recs)
            finally:
                self.train_seconds += time.perf_counter() - t0
                fam.train(False)
        fam.end()
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    # --- state for checkpoints ----------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        for name, m in self.family.modules().items():
            out.update({f"{name}.{k}": v for k, v in m.state_dict().items()})
        for name, opt in self.family.optimizers().items():
            for pid, st in opt.state_dict()["state"].items():
                for k, v in st.items():
                    out[f"{name}.{pid}.{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
        out.update(self.family.extra_state())
        out["rng.cpu"] = torch.get_rng_state()
        if self.device.type == "cuda":
            out["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        if self.dist.active:  # every rank's streams (a collective: all ranks call this at the same step)
            for r, st in enumerate(gather_objects({k: out[k].cpu() for k in out if k.startswith("rng.")},
                                                  self.dist)):
                out.update({f"{k}.rank{r}": v for k, v in st.items()})
        return out

    def state_meta(self) -> dict[str, Any]:
        return {"step": self.step, "history": self.history, "train_seconds": self.train_seconds,
                "train_config": self.family.describe(), "world_size": self.dist.world_size}

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        self.flush()
        world = int(meta.get("world_size", 1))
        if world != self.dist.world_size:
            raise TrainingError(f"the checkpoint was written by a run on {world} process(es); resume it with "
                                f"`nproc` {world}, or drop `resume`")
        prefixes = {k.split(".", 1)[0] for k in tensors}
        self.family.check_resumable(prefixes)
        for name, m in self.family.modules().items():
            m.load_state_dict(with_prefix(tensors, name))
        for name, opt in self.family.optimizers().items():
            sd = opt.state_dict()
            state: dict[int, dict[str, torch.Tensor]] = {}
            for k, v in with_prefix(tensors, name).items():
                pid, key = k.split(".", 1)
                state.setdefault(int(pid), {})[key] = v.to(self.device) if key != "step" else v
            sd["state"] = state
            opt.load_state_dict(sd)
        self.family.load_extra_state(tensors)
        own = f".rank{self.dist.rank}" if self.dist.active else ""
        torch.set_rng_state(tensors["rng.cpu" + own])
        if "rng.cuda" + own in tensors and self.device.type == "cuda":
            torch.cuda.set_rng_state(tensors["rng.cuda" + own], self.device)
        self.step = int(meta["step"])
        self.history = list(meta["history"])
        self.train_seconds = float(meta.get("train_seconds", 0.0))


class ProgressBar(Callback):
    """A rich progress bar with ETA and the latest figures."""

    def __init__(self, total_steps: int, description: str = "training"):
        self.total = total_steps
        self.description = description

    def on_train_begin(self, trainer):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), TextColumn("{task.fields[losses]}"), transient=False)
        self.progress.start()
        self.task = self.progress.add_task(self.description, total=self.total, completed=trainer.step, losses="")

    def on_log(self, trainer, records):
        if not records:
            return
        r = records[-1]
        short = {"g_loss": "G", "d_loss": "D", "wasserstein": "W", "vae_loss": "VAE"}
        text = "  ".join(f"{short[k]} {r[k]:.3f}" for k in short if k in r and r[k] == r[k])
        self.progress.update(self.task, completed=trainer.step, losses=text)

    def on_train_end(self, trainer):
        self.progress.update(self.task, completed=trainer.step)
        self.progress.stop()


class ProgressLine(Callback):
    """Progress without a terminal (a log file, a notebook, CI), where a progress bar shows nothing until
    the end: a line every ``every`` seconds and one at the end, with the step, rows per second, the time
    spent and left, the latest losses and the quality monitor's last score."""

    def __init__(self, total_steps: int, description: str = "training", rows_per_step: int = 0,
                 every: float = 20.0, stream=None):
        self.total, self.description = total_steps, description
        self.rows_per_step, self.every, self.stream = rows_per_step, every, stream
        self.losses = ""

    def on_train_begin(self, trainer):
        self.t0 = self.last = time.perf_counter()
        self.first = trainer.step

    def on_log(self, trainer, records):
        if records:
            r = records[-1]
            short = {"g_loss": "G", "d_loss": "D", "wasserstein": "W", "vae_loss": "VAE"}
            self.losses = ", ".join(f"{short[k]} {r[k]:.3f}" for k in short if k in r and r[k] == r[k])

    def on_step_end(self, trainer, step):
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            self.write(trainer, now)

    def on_train_end(self, trainer):
        self.write(trainer, time.perf_counter())

    def write(self, trainer, now: float) -> None:
        import sys

        done, elapsed = trainer.step - self.first, now - self.t0
        rate = done / elapsed if elapsed > 0 else 0.0
        parts = [f"step {trainer.step}/{self.total} ({trainer.step / max(self.total, 1):.0%})"]
        if self.rows_per_step and rate:
            parts.append(f"{rate * self.rows_per_step:,.0f} rows/s")
        parts.append(f"{_clock(elapsed)} elapsed")
        if rate and trainer.step < self.total:
            parts.append(f"about {_clock((self.total - trainer.step) / rate)} left")
        if self.losses:
            parts.append(self.losses)
        monitor = next((cb for cb in trainer.callbacks if getattr(cb, "history", None) and hasattr(cb, "best_step")),
                       None)
        if monitor is not None:
            last = monitor.history[-1]
            parts.append(f"{getattr(monitor, 'metric', 'score').replace('_', ' ')} {last['score']:.3f} "
                         f"(step {last['step']})")
        print(f"{self.description}: " + ", ".join(parts), file=self.stream or sys.stdout, flush=True)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


class Every(Callback):
    """Call ``fn(trainer, step)`` every ``k`` steps (snapshots, checkpoints, quality probes)."""

    def __init__(self, k: int, fn: Callable[["Trainer", int], None]):
        if k <= 0:
            raise ValueError("k must be positive")
        self.k, self.fn = k, fn

    def on_step_end(self, trainer, step):
        if step % self.k == 0:
            trainer.flush()
            self.fn(trainer, step)
