"""One training loop for every adversarial model.

The trainer knows networks, a loss kind and a batch source; it knows nothing about columns.
Per step it records the generator and discriminator losses, the Wasserstein estimate (for
Wasserstein losses), and the mean discriminator output on real and on generated rows.
Callbacks see every step: the progress bar, checkpoints, snapshots and early stopping are
callbacks.
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol, Sequence

import torch
import torch.nn.functional as F

from . import distributed, kernels
from .errors import TrainingError
from .modelfile import with_prefix
from .models import losses

HISTORY_KEYS = ("step", "g_loss", "d_loss", "wasserstein", "d_real", "d_fake")


class BatchSource(Protocol):
    def sample(self, batch_size: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Real rows and their condition vectors (None for unconditional models)."""


@dataclass
class TrainConfig:
    loss: str = "wasserstein"
    steps: int = 1000
    batch_size: int = 500
    n_critic: int = 1
    gp_lambda: float = 10.0
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.9)
    weight_decay_g: float = 0.0
    weight_decay_d: float = 0.0
    pretrain_critic_steps: int = 0
    log_every: int = 25
    #: exponential moving average of the generator's weights: 0 = off, else the decay per generator
    #: step (capped by (1 + t) / (10 + t) at step t, so the first, random weights fade quickly)
    ema_decay: float = 0.0
    #: the generator step reuses the fake rows of the last critic step (its forward pass kept with
    #: its graph) instead of generating new ones: one generator forward and one batch of conditions
    #: fewer per step, as in PyTorch's DCGAN example
    reuse_fakes: bool = False
    #: the gradient penalty on one critic step in ``gp_every``, weighted ``gp_every`` times as much
    #: (lazy regularisation, as StyleGAN2 does for its R1 penalty): the penalty's extra critic pass and
    #: double backward; 13-18% shorter ctgan-like steps at k=4 and lower TSTR (docs/performance.md)
    gp_every: int = 1
    #: the weight of the label classifier's cross-entropy in the generator's loss (with a
    #: ``classifier`` given to the Trainer), and the classifier's own Adam learning rate
    classifier_weight: float = 0.0
    lr_c: float = 1e-3
    #: the arithmetic of the training step's forward passes: "float32", or "bfloat16" (mixed
    #: precision: matrix products in bfloat16 under ``torch.autocast``, weights, optimiser state and
    #: critic scores in float32); ``ganforge.kernels.resolve_precision`` turns "auto" into one of them
    precision: str = "float32"

    def __post_init__(self):
        if self.loss not in losses.LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")
        if not isinstance(self.gp_every, int) or isinstance(self.gp_every, bool) or self.gp_every < 1:
            raise ValueError(f"gp_every must be a whole number >= 1, got {self.gp_every!r}")
        if not 0.0 <= self.classifier_weight < math.inf:
            raise ValueError(f"classifier_weight must be a number >= 0, got {self.classifier_weight!r}")
        if self.precision not in ("float32", "bfloat16"):
            raise ValueError(f"precision must be float32 or bfloat16, got {self.precision!r}")


class Callback:
    def on_train_begin(self, trainer: "Trainer") -> None: ...
    def on_step_end(self, trainer: "Trainer", step: int) -> None: ...
    def on_log(self, trainer: "Trainer", records: list[dict[str, float]]) -> None: ...
    def on_train_end(self, trainer: "Trainer") -> None: ...


@dataclass
class Trainer:
    generator: torch.nn.Module
    discriminator: torch.nn.Module
    source: BatchSource
    config: TrainConfig
    callbacks: Sequence[Callback] = ()
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    #: a ganforge.dp.PrivateCritic: DP-SGD critic steps on Poisson batches from ``source.poisson()``
    private: Any = None
    #: the process group (ganforge.distributed.Context): gradients are averaged over its ranks
    dist: distributed.Context = distributed.SINGLE
    #: an auxiliary label classifier (rows -> logits over the condition's labels), for a conditional
    #: generator: each generator step first trains it on a batch of real rows, then adds
    #: ``classifier_weight`` x the cross-entropy of the labels the generated rows were conditioned on
    #: to the generator's loss, so that a row's features predict its label as real rows' do (CTAB-GAN's
    #: auxiliary classifier). The reported generator loss stays the adversarial one.
    classifier: torch.nn.Module | None = None

    def __post_init__(self):
        c = self.config
        if self.private is not None and c.precision != "float32":
            raise ValueError("a private (DP) critic trains in float32: its per-row gradients are clipped "
                             "to a norm, which bfloat16 products would blur; use precision='float32'")
        # the fused Adam kernel is about 4x faster than the default on CPU (measured: 0.27 vs 0.99 ms
        # for eight 256x256 tensors); it runs on CPU and CUDA alike
        self.opt_g = torch.optim.Adam(self.generator.parameters(), lr=c.lr_g, betas=tuple(c.betas),
                                      weight_decay=c.weight_decay_g, fused=True)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), lr=c.lr_d, betas=tuple(c.betas),
                                      weight_decay=c.weight_decay_d, fused=True)
        self.opt_c = None
        if self.classifier is not None:
            self.opt_c = torch.optim.Adam(self.classifier.parameters(), lr=c.lr_c, fused=True)
        self.step = 0
        self.history: list[dict[str, float]] = []
        self.stop_requested = False
        #: why training stopped before its budget: "early_stopping", "time_limit" or None
        self.stop_reason: str | None = None
        self.train_seconds = 0.0
        self._pending: list[torch.Tensor] = []
        self._kept: tuple[torch.Tensor, torch.Tensor | None] | None = None
        self._last_penalty = torch.zeros((), device=self.device)  # gp_lambda x the latest penalty
        # a critic with batch statistics (a user's batchnorm layer) must see real and fake rows in
        # separate batches, as in the WGAN-GP and CTGAN recipes; without them one pass gives the same scores
        self._joint_critic = not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                                     for m in self.discriminator.modules())
        #: the averaged generator (``ema_decay`` > 0): what the quality monitor scores, and what the
        #: generator holds after ``fit``; the live weights keep training
        self.ema: torch.nn.Module | None = None
        if c.ema_decay > 0:
            self.ema = copy.deepcopy(self.generator).eval().requires_grad_(False)
            # the float tensors of both (parameters and batch-norm running statistics), in the same order
            self._ema_avg = [v for v in self.ema.state_dict().values() if v.is_floating_point()]
            self._ema_live = [v for v in self.generator.state_dict().values() if v.is_floating_point()]

    @property
    def precision(self) -> str:
        """The arithmetic of the training step's forward passes: "float32" or "bfloat16"."""
        return self.config.precision

    @property
    def sampling_generator(self) -> torch.nn.Module:
        """The generator whose rows count: the averaged one when ``ema_decay`` is set."""
        return self.ema if self.ema is not None else self.generator

    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        torch._foreach_lerp_(self._ema_avg, self._ema_live, 1.0 - decay)

    # --- one step -----------------------------------------------------------------------
    def _precision(self) -> contextlib.AbstractContextManager:
        """The forward passes' arithmetic: bfloat16 matrix products under autocast (their gradients
        follow the forward's dtypes), or float32 as written."""
        if self.config.precision == "bfloat16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.generator.latent_dim, device=self.device)

    @property
    def critic_steps(self) -> int:
        """Discriminator steps made so far (what a privacy accountant counts)."""
        return self.config.pretrain_critic_steps + self.step * self.config.n_critic

    def _private_critic_step(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        real, cond = self.source.poisson()
        _, fake_cond = self.source.sample(self.config.batch_size)  # conditions that read no private row
        with torch.no_grad():
            fake = self.generator(self._noise(self.config.batch_size), fake_cond)
        self.private.step(real, cond, fake, fake_cond, self.opt_d)
        # the losses on real rows are not released (they would read the data without noise)
        nan = torch.tensor(float("nan"), device=self.device)
        with torch.no_grad():
            d_fake = self.discriminator(fake, fake_cond).mean()
        return nan, nan, d_fake

    def _critic_step(self, keep: bool = False, index: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One critic update; ``keep``: generate with the generator's graph and keep the rows (and
        their conditions) in ``self._kept`` for the generator step. ``index``: the critic update's
        number (pre-training included), which decides whether it carries the penalty (``gp_every``)."""
        if self.private is not None:
            return self._private_critic_step()
        with self._precision():
            loss, reported, real_score, fake_score = self._critic_loss(keep, index)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()  # one backward: the penalty's graph is part of the loss
        if self.dist.active:
            distributed.average_gradients(self.discriminator, self.dist.world_size)
        self.opt_d.step()
        return reported, real_score.detach().mean(), fake_score.detach().mean()

    def _critic_loss(self, keep: bool, index: int):
        """The critic step's forward passes: its loss, the loss to report, and the real and fake scores."""
        c = self.config
        real, cond = self.source.sample(c.batch_size)
        if keep:
            kept = self.generator(self._noise(len(real)), cond)
            self._kept = (kept, cond)
            fake = kept.detach()
        else:
            with torch.no_grad():
                fake = self.generator(self._noise(len(real)), cond)
        if self._joint_critic:  # real and fake rows in one pass: half the critic's kernel calls
            both = self.discriminator(torch.cat([real, fake]), None if cond is None else torch.cat([cond, cond]))
            real_score, fake_score = both.chunk(2)  # equal halves: real rows first
        else:
            real_score = self.discriminator(real, cond)
            fake_score = self.discriminator(fake, cond)
        loss = losses.discriminator_loss(c.loss, real_score, fake_score)
        reported = loss.detach()
        if c.loss == "wasserstein" and c.gp_lambda > 0:
            if index % c.gp_every == 0:
                penalty = losses.gradient_penalty(self.discriminator, real, fake, cond)
                loss = loss + (c.gp_lambda * c.gp_every) * penalty
                self._last_penalty = c.gp_lambda * penalty.detach()
            # the reported loss carries the penalty at its unlazy weight, the latest one between
            # penalised steps, so that loss curves read the same for every gp_every
            reported = reported + self._last_penalty
        return loss, reported, real_score, fake_score

    def _classifier_step(self) -> None:
        """One update of the label classifier on a batch of real rows."""
        real, cond = self.source.sample(self.config.batch_size)
        with self._precision():
            loss = F.cross_entropy(self.classifier(real), cond.argmax(1))
        self.opt_c.zero_grad(set_to_none=True)
        loss.backward()
        if self.dist.active:
            distributed.average_gradients(self.classifier, self.dist.world_size)
        self.opt_c.step()

    def _generator_step(self) -> torch.Tensor:
        c = self.config
        if self.classifier is not None:
            self._classifier_step()
        # the forward passes in the chosen precision; a region per step, as autocast keeps its casts of
        # the weights until the region ends, and the optimisers change the weights between steps
        with self._precision():
            if self._kept is not None:  # the last critic step's rows, scored by the updated critic
                (fake, cond), self._kept = self._kept, None
            else:
                # the generator needs conditions only: a source may give them without reading real rows
                conditions = getattr(self.source, "conditions", None)
                cond = conditions(c.batch_size) if conditions is not None else self.source.sample(c.batch_size)[1]
                fake = self.generator(self._noise(c.batch_size), cond)
            self.discriminator.requires_grad_(False)
            adversarial = losses.generator_loss(c.loss, self.discriminator(fake, cond))
            loss = adversarial
            if self.classifier is not None:
                self.classifier.eval().requires_grad_(False)  # no dropout: the classifier's own prediction
                loss = loss + c.classifier_weight * F.cross_entropy(self.classifier(fake), cond.argmax(1))
                self.classifier.train().requires_grad_(True)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        if self.dist.active:
            distributed.average_gradients(self.generator, self.dist.world_size)
        self.opt_g.step()
        if self.dist.active:  # batch-norm running statistics of rank 0 everywhere, as DDP does
            distributed.broadcast_buffers(self.generator)
        self.discriminator.requires_grad_(True)
        return adversarial.detach()

    def train_step(self) -> None:
        """One generator update after ``n_critic`` discriminator updates."""
        c = self.config
        # a private critic draws Poisson batches of its own; its fakes are not kept
        reuse = c.reuse_fakes and self.private is None
        for i in range(c.n_critic):
            d_loss, d_real, d_fake = self._critic_step(keep=reuse and i == c.n_critic - 1,
                                                       index=self.critic_steps + i)
        g_loss = self._generator_step()
        self.step += 1
        if self.ema is not None:
            self._update_ema()
        self._pending.append(torch.stack([g_loss, d_loss, d_real, d_fake]))

    # --- bookkeeping --------------------------------------------------------------------
    def _flush(self) -> list[dict[str, float]]:
        """Move pending per-step figures to the history (one device sync per ``log_every``)."""
        if not self._pending:
            return []
        vals = torch.stack(self._pending).cpu().tolist()
        first = self.step - len(vals) + 1
        self._pending = []
        recs = []
        for i, (g, d, r, f) in enumerate(vals):
            if not (math.isfinite(g) and (math.isfinite(d) or self.private is not None)):
                which = "generator" if not math.isfinite(g) else "discriminator"
                raise TrainingError(
                    f"training diverged at step {first + i}: the {which} loss is {g if which == 'generator' else d}; "
                    f"lower the learning rates (--lr), use a Wasserstein model (wgan/wcgan), or check the data "
                    f"for extreme values")
            if self.config.loss == "bce":  # report probabilities, as the studies did
                r, f = 1 / (1 + math.exp(-r)), 1 / (1 + math.exp(-f))
                w = float("nan")
            else:
                w = r - f
            recs.append({"step": first + i, "g_loss": g, "d_loss": d, "wasserstein": w, "d_real": r, "d_fake": f})
        self.history.extend(recs)
        return recs

    def fit(self, total_steps: int, deadline: float | None = None) -> list[dict[str, float]]:
        """Train until ``total_steps`` generator steps have been made (resumes from ``self.step``),
        or until ``time.perf_counter()`` passes ``deadline``, whichever comes first."""
        self.generator.train()
        self.discriminator.train()
        if self.classifier is not None:
            self.classifier.train()
        for cb in self.callbacks:
            cb.on_train_begin(self)
        # float32 products through oneDNN where it keeps float32 accuracy for these networks' shapes
        # (faster on thin matrices; probed once per process and shape, before the clock starts). A
        # bfloat16 step multiplies in bfloat16, forward and backward: probing its float32 products
        # would only compile products that training never runs
        b, pac = self.config.batch_size, getattr(self.discriminator, "pac", 1)
        shapes = (kernels.linear_shapes(self.generator, (b,))
                  + kernels.linear_shapes(self.discriminator, sorted({max(1, b // pac), max(1, 2 * b // pac)})))
        if self.classifier is not None:
            shapes += kernels.linear_shapes(self.classifier, (b,))
        with (kernels.cpu_matmul(self.device, shapes) if self.config.precision == "float32"
              else contextlib.nullcontext(False)):
            t0 = time.perf_counter()
            try:
                if self.step == 0:
                    for j in range(self.config.pretrain_critic_steps):
                        self._critic_step(index=j)
                while self.step < total_steps and not self.stop_requested:
                    self.train_step()
                    if self.step % self.config.log_every == 0 or self.step == total_steps:
                        recs = self._flush()
                        for cb in self.callbacks:
                            cb.on_log(self, recs)
                    for cb in self.callbacks:
                        cb.on_step_end(self, self.step)
                    if deadline is not None and not self.stop_requested and time.perf_counter() >= deadline:
                        self.stop_requested, self.stop_reason = True, "time_limit"
                    if self.dist.active:  # every rank stops at the same step
                        self.stop_requested = distributed.any_rank(self.stop_requested, self.device)
                recs = self._flush()
                if recs:
                    for cb in self.callbacks:
                        cb.on_log(self, recs)
            finally:
                self.train_seconds += time.perf_counter() - t0
                self.generator.eval()
                self.discriminator.eval()
        if self.ema is not None:  # the generator that is kept is the average (a monitor may then pick its best)
            self.generator.load_state_dict(self.ema.state_dict())
        for cb in self.callbacks:
            cb.on_train_end(self)
        return self.history

    # --- state for checkpoints ----------------------------------------------------------
    def _optimizers(self) -> list[tuple[str, torch.optim.Optimizer]]:
        out = [("opt_g", self.opt_g), ("opt_d", self.opt_d)]
        return out + ([("opt_c", self.opt_c)] if self.opt_c is not None else [])

    def state_tensors(self) -> dict[str, torch.Tensor]:
        out = {f"generator.{k}": v for k, v in self.generator.state_dict().items()}
        out.update({f"discriminator.{k}": v for k, v in self.discriminator.state_dict().items()})
        if self.ema is not None:
            out.update({f"ema.{k}": v for k, v in self.ema.state_dict().items()})
        if self.classifier is not None:
            out.update({f"classifier.{k}": v for k, v in self.classifier.state_dict().items()})
        for name, opt in self._optimizers():
            for pid, st in opt.state_dict()["state"].items():
                for k, v in st.items():
                    out[f"{name}.{pid}.{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
        out["gp.last_penalty"] = self._last_penalty.detach().cpu()  # what the reported loss carries (gp_every)
        out["rng.cpu"] = torch.get_rng_state()
        if self.device.type == "cuda":
            out["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        if self.dist.active:  # every rank's streams (a collective: all ranks call this at the same step)
            for r, st in enumerate(distributed.gather_objects({k: out[k].cpu() for k in out if k.startswith("rng.")},
                                                              self.dist)):
                out.update({f"{k}.rank{r}": v for k, v in st.items()})
        return out

    def state_meta(self) -> dict[str, Any]:
        return {"step": self.step, "history": self.history, "train_seconds": self.train_seconds,
                "train_config": asdict(self.config), "world_size": self.dist.world_size}

    def load_state(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        self._flush()
        world = int(meta.get("world_size", 1))
        if world != self.dist.world_size:
            raise TrainingError(f"the checkpoint was written by a run on {world} process(es); resume it with "
                                f"--nproc {world}, or drop --resume")
        self.generator.load_state_dict(with_prefix(tensors, "generator"))
        self.discriminator.load_state_dict(with_prefix(tensors, "discriminator"))
        # optional networks: a checkpoint written without one cannot resume a run that has it
        for net, prefix, what, option, flag in (
                (self.ema, "ema", "averaged generator", "ema_decay=0", "--ema-decay 0 (ema_decay=0)"),
                (self.classifier, "classifier", "label classifier", "classifier_weight=0", "--set classifier_weight=0")):
            if net is None:
                continue
            part = with_prefix(tensors, prefix)
            if not part:
                raise TrainingError(f"the checkpoint holds no {what} (it was written with {option}, or by a ganforge "
                                    f"without it): resume it with {flag}, or drop --resume")
            net.load_state_dict(part)
        for name, opt in self._optimizers():
            sd = opt.state_dict()
            flat = with_prefix(tensors, name)
            state: dict[int, dict[str, torch.Tensor]] = {}
            for k, v in flat.items():
                pid, key = k.split(".", 1)
                state.setdefault(int(pid), {})[key] = v.to(self.device) if key != "step" else v
            sd["state"] = state
            opt.load_state_dict(sd)
        if "gp.last_penalty" in tensors:  # absent in checkpoints of earlier versions
            self._last_penalty = tensors["gp.last_penalty"].to(self.device)
        own = f".rank{self.dist.rank}" if self.dist.active else ""
        torch.set_rng_state(tensors["rng.cpu" + own])
        if "rng.cuda" + own in tensors and self.device.type == "cuda":
            torch.cuda.set_rng_state(tensors["rng.cuda" + own], self.device)
        self.step = int(meta["step"])
        self.history = list(meta["history"])
        self.train_seconds = float(meta.get("train_seconds", 0.0))


class ProgressBar(Callback):
    """A rich progress bar with ETA and the latest losses."""

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
        text = f"G {r['g_loss']:.3f}  D {r['d_loss']:.3f}"
        if trainer.config.loss == "wasserstein":
            text += f"  W {r['wasserstein']:.3f}"
        self.progress.update(self.task, completed=trainer.step, losses=text)

    def on_train_end(self, trainer):
        self.progress.update(self.task, completed=trainer.step)
        self.progress.stop()


class Every(Callback):
    """Call ``fn(trainer, step)`` every ``k`` steps (snapshots, checkpoints, quality probes)."""

    def __init__(self, k: int, fn: Callable[["Trainer", int], None]):
        if k <= 0:
            raise ValueError("k must be positive")
        self.k, self.fn = k, fn

    def on_step_end(self, trainer, step):
        if step % self.k == 0:
            trainer._flush()
            self.fn(trainer, step)
