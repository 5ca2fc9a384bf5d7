"""The adversarial family: a generator and a discriminator trained against each other.

The four classic GANs are this family with a loss and a condition: ``gan`` (non-saturating BCE),
``cgan`` (the same with a label), ``wgan`` (Wasserstein with a gradient penalty) and ``wcgan`` (the
same with a label). The image GANs are this family too, with convolutional networks. A step is
``n_critic`` critic updates then one generator update; options: the critic's gradient penalty on one
step in ``gp_every``, the generator step reusing the last critic step's fake rows, a moving average
of the generator's weights (what is sampled), an auxiliary label classifier whose cross-entropy joins
the generator's loss (CTAB-GAN's), mixed precision, DP-SGD critic steps
(``ganforge.training.private``), and gradient averaging over the ranks of a process group.
"""

from __future__ import annotations

import contextlib
import copy
import math
from typing import Any

import torch
import torch.nn.functional as F

import numpy as np

from ...errors import TrainingError
from ...training import collectives, kernels
from ...training.collectives import SINGLE, Context
from ...training.family import Family
from ..losses import AdversarialLoss, get_loss
from ..moments import moment_parts, with_parts
from ..networks import Discriminator, Generator, LabelClassifier


class AdversarialFamily(Family):
    figures = ("g_loss", "d_loss", "d_real", "d_fake")

    def __init__(self, generator: torch.nn.Module, discriminator: torch.nn.Module, loss: AdversarialLoss,
                 source: Any, *, batch_size: int, n_critic: int = 1, gp_lambda: float = 10.0, gp_every: int = 1,
                 lr_g: float = 2e-4, lr_d: float = 2e-4, betas=(0.5, 0.9), weight_decay_g: float = 0.0,
                 weight_decay_d: float = 0.0, pretrain_critic_steps: int = 0, ema_decay: float = 0.0,
                 reuse_fakes: bool = False, classifier: torch.nn.Module | None = None,
                 classifier_weight: float = 0.0, classifier_loss: str = "full", lr_c: float = 1e-3,
                 moment_weight: float = 0.0, precision: str = "float32",
                 private: Any = None, device: torch.device | None = None, dist: Context = SINGLE):
        """``source``: a batch source (``sample(n)`` -> real rows and their one-hot conditions, and
        optionally ``conditions(n)``; a private run's ``poisson()``). ``private``: a
        ``ganforge.training.private.PrivateCritic`` (DP-SGD critic steps on Poisson batches).
        ``classifier``: rows -> logits over the condition's labels; each generator step first trains it
        on real rows, then adds ``classifier_weight`` x the cross-entropy of the labels the generated rows
        were conditioned on (the reported generator loss stays the adversarial one). ``classifier_loss``:
        "full" (that cross-entropy), "matched" (per label, only its excess over the classifier's
        cross-entropy on real rows of the label: ``label_matched_loss``) or "quantile" (per label, the
        distance between the sorted log-probabilities of generated and real rows: ``label_quantile_loss``);
        for the last two the classifier trains on 80% of the rows and the real rows compared with come
        from the rest (``CLASSIFIER_HOLDOUT``), where the source can split."""
        if private is not None and precision != "float32":
            raise ValueError("a private (DP) critic trains in float32: its per-row gradients are clipped "
                             "to a norm, which bfloat16 products would blur; use precision='float32'")
        if precision not in ("float32", "bfloat16"):
            raise ValueError(f"precision must be float32 or bfloat16, got {precision!r}")
        self.generator, self.discriminator, self.loss, self.source = generator, discriminator, loss, source
        self.batch_size, self.n_critic, self.gp_lambda, self.gp_every = batch_size, n_critic, gp_lambda, gp_every
        self.pretrain_critic_steps, self.ema_decay, self.reuse_fakes = pretrain_critic_steps, ema_decay, reuse_fakes
        if classifier_loss not in ("full", "matched", "quantile"):
            raise ValueError(f"classifier_loss must be full, matched or quantile, got {classifier_loss!r}")
        self.classifier, self.classifier_weight, self.classifier_loss = classifier, classifier_weight, classifier_loss
        #: (rows the classifier trains on, rows it is checked on: the matched loss's reference), made at
        #: the first classifier step; full cross-entropy, or a source that cannot split, gives both
        self._classifier_sources: tuple[Any, Any] | None = None
        #: conditional models: the generator's loss adds this weight x the squared distance between the
        #: mean encoded row of each label in its batch and in the last critic step's real batch
        self.moment_weight = moment_weight
        #: the joints' columns and their combinations -> each joined column's codes (``moments.moment_parts``): the
        #: moment loss sees each joined column's shares too, not only the combinations'
        self.moment_parts: tuple[torch.Tensor, torch.Tensor] | None = None
        self._last_real: tuple[torch.Tensor, torch.Tensor] | None = None
        self.precision, self.private, self.dist = precision, private, dist
        self.device = device or torch.device("cpu")
        # the fused Adam kernel is about 4x faster than the default on CPU (measured: 0.27 vs 0.99 ms
        # for eight 256x256 tensors); it runs on CPU and CUDA alike
        self.opt_g = torch.optim.Adam(generator.parameters(), lr=lr_g, betas=tuple(betas),
                                      weight_decay=weight_decay_g, fused=True)
        self.opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr_d, betas=tuple(betas),
                                      weight_decay=weight_decay_d, fused=True)
        self.opt_c = torch.optim.Adam(classifier.parameters(), lr=lr_c, fused=True) if classifier is not None else None
        self._kept: tuple[torch.Tensor, torch.Tensor | None] | None = None
        self._training = False  # between begin() and end(): sampling reads the averaged generator
        self._version = 0  # bumped whenever the weights change: sampling refolds its batch norms then
        self._folded: tuple[int, torch.nn.Module] | None = None
        self.last_penalty = torch.zeros((), device=self.device)  # gp_lambda x the latest penalty
        # a critic with batch statistics (a user's batchnorm layer) must see real and fake rows in
        # separate batches, as in the WGAN-GP and CTGAN recipes; without them one pass gives the same scores
        self.joint_critic = not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
                                     for m in discriminator.modules())
        #: the averaged generator (``ema_decay`` > 0): what the quality monitor scores, and what the
        #: generator holds after training; the live weights keep training
        self.ema: torch.nn.Module | None = None
        if ema_decay > 0:
            self.ema = copy.deepcopy(generator).eval().requires_grad_(False)
            # the float tensors of both (parameters and batch-norm running statistics), in the same order
            self._ema_avg = [v for v in self.ema.state_dict().values() if v.is_floating_point()]
            self._ema_live = [v for v in generator.state_dict().values() if v.is_floating_point()]

    # --- the protocol -----------------------------------------------------------------------
    def modules(self) -> dict[str, torch.nn.Module]:
        out = {"generator": self.generator, "discriminator": self.discriminator}
        if self.ema is not None:
            out["ema"] = self.ema
        if self.classifier is not None:
            out["classifier"] = self.classifier
        return out

    def saved_modules(self) -> dict[str, torch.nn.Module]:
        """What a model file holds: the generator (the average, when kept) and the discriminator."""
        return {"generator": self.generator, "discriminator": self.discriminator}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        out = {"opt_g": self.opt_g, "opt_d": self.opt_d}
        return out | ({"opt_c": self.opt_c} if self.opt_c is not None else {})

    def train(self, mode: bool = True) -> None:
        for m in (self.generator, self.discriminator, self.classifier):
            if m is not None:
                m.train(mode)

    @property
    def sampling_module(self) -> torch.nn.Module:
        """The generator whose rows count: the averaged one when ``ema_decay`` is set."""
        return self.ema if self.ema is not None else self.generator

    def keep(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.load_state_dict(state)
        self._version += 1

    def critic_steps(self, step: int) -> int:
        """Discriminator updates made before generator step ``step`` (what a privacy accountant counts)."""
        return self.pretrain_critic_steps + step * self.n_critic

    def begin(self, step: int) -> None:
        self._training = True
        if step == 0:
            for j in range(self.pretrain_critic_steps):
                self.critic_step(index=j)

    def train_step(self, step: int) -> torch.Tensor:
        """``n_critic`` critic updates, then one generator update."""
        # a private critic draws Poisson batches of its own; its fakes are not kept
        reuse = self.reuse_fakes and self.private is None
        for i in range(self.n_critic):
            d_loss, d_real, d_fake = self.critic_step(keep=reuse and i == self.n_critic - 1,
                                                       index=self.critic_steps(step) + i)
        g_loss = self._generator_step()
        if self.ema is not None:
            self._update_ema(step + 1)
        self._version += 1
        return torch.stack([g_loss, d_loss, d_real, d_fake])

    def end(self) -> None:
        self._training = False
        if self.ema is not None:  # the generator that is kept is the average (a monitor may then pick its best)
            self.generator.load_state_dict(self.ema.state_dict())
        self._version += 1

    def record(self, step: int, values: list[float]) -> dict[str, float]:
        g, d, r, f = values
        # a private critic's losses on real rows are not released (nan by design)
        if not math.isfinite(g) or (self.private is None and not math.isfinite(d)):
            which, v = ("generator", g) if not math.isfinite(g) else ("discriminator", d)
            raise TrainingError(
                f"training diverged at step {step}: the {which} loss is {v}; lower the learning rates (`lr`), "
                f"use a Wasserstein model (wgan/wcgan), or check the data for extreme values")
        d_real, d_fake, w = self.loss.figures(r, f)
        return {"step": step, "g_loss": g, "d_loss": d, "wasserstein": w, "d_real": d_real, "d_fake": d_fake}

    def matmul_shapes(self) -> list:
        b, pac = self.batch_size, getattr(self.discriminator, "pac", 1)
        shapes = (kernels.linear_shapes(self.generator, (b,))
                  + kernels.linear_shapes(self.discriminator, sorted({max(1, b // pac), max(1, 2 * b // pac)})))
        if self.classifier is not None:
            shapes += kernels.linear_shapes(self.classifier, (b,))
        return shapes

    def extra_state(self) -> dict[str, torch.Tensor]:
        return {"gp.last_penalty": self.last_penalty.detach().cpu()}  # what the reported loss carries (gp_every)

    def load_extra_state(self, tensors: dict[str, torch.Tensor]) -> None:
        if "gp.last_penalty" in tensors:  # absent in checkpoints of earlier versions
            self.last_penalty = tensors["gp.last_penalty"].to(self.device)

    def check_resumable(self, prefixes: set[str]) -> None:
        for net, prefix, what, option in ((self.ema, "ema", "averaged generator", "ema_decay"),
                                          (self.classifier, "classifier", "label classifier", "classifier_weight")):
            if net is not None and prefix not in prefixes:
                raise TrainingError(f"the checkpoint holds no {what} (it was written with {option}=0, or by a "
                                    f"ganforge without it): resume it with `{option}`=0, or drop `resume`")

    def describe(self) -> dict[str, Any]:
        return {"loss": self.loss.name, "batch_size": self.batch_size, "n_critic": self.n_critic,
                "gp_lambda": self.gp_lambda, "gp_every": self.gp_every, "ema_decay": self.ema_decay,
                "reuse_fakes": self.reuse_fakes, "classifier_weight": self.classifier_weight,
                "precision": self.precision}

    # --- one step ---------------------------------------------------------------------------
    def _autocast(self) -> contextlib.AbstractContextManager:
        """The forward passes' arithmetic: bfloat16 matrix products under autocast (their gradients
        follow the forward's dtypes), or float32 as written."""
        if self.precision == "bfloat16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _noise(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.generator.latent_dim, device=self.device)

    @torch.no_grad()
    def _update_ema(self, step: int) -> None:
        decay = min(self.ema_decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(self._ema_avg, self._ema_live, 1.0 - decay)

    def _private_critic_step(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        real, cond = self.source.poisson()
        _, fake_cond = self.source.sample(self.batch_size)  # conditions that read no private row
        with torch.no_grad():
            fake = self.generator(self._noise(self.batch_size), fake_cond)
        self.private.step(real, cond, fake, fake_cond, self.opt_d)
        # the losses on real rows are not released (they would read the data without noise)
        nan = torch.tensor(float("nan"), device=self.device)
        with torch.no_grad():
            d_fake = self.discriminator(fake, fake_cond).mean()
        return nan, nan, d_fake

    def critic_step(self, keep: bool = False, index: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One critic update; ``keep``: generate with the generator's graph and keep the rows (and
        their conditions) for the generator step. ``index``: the critic update's number (pre-training
        included), which decides whether it carries the penalty (``gp_every``)."""
        if self.private is not None:
            return self._private_critic_step()
        with self._autocast():
            loss, reported, real_score, fake_score = self._critic_loss(keep, index)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()  # one backward: the penalty's graph is part of the loss
        if self.dist.active:
            collectives.average_gradients(self.discriminator, self.dist.world_size)
        self.opt_d.step()
        return reported, real_score.detach().mean(), fake_score.detach().mean()

    def _critic_loss(self, keep: bool, index: int):
        """The critic step's forward passes: its loss, the loss to report, and the real and fake scores."""
        real, cond = self.source.sample(self.batch_size)
        if self.moment_weight > 0 and cond is not None:
            self._last_real = (real, cond)
        if keep:
            kept = self.generator(self._noise(len(real)), cond)
            self._kept = (kept, cond)
            fake = kept.detach()
        else:
            with torch.no_grad():
                fake = self.generator(self._noise(len(real)), cond)
        if self.joint_critic:  # real and fake rows in one pass: half the critic's kernel calls
            both = self.discriminator(torch.cat([real, fake]), None if cond is None else torch.cat([cond, cond]))
            real_score, fake_score = both.chunk(2)  # equal halves: real rows first
        else:
            real_score = self.discriminator(real, cond)
            fake_score = self.discriminator(fake, cond)
        loss = self.loss.critic(real_score, fake_score)
        reported = loss.detach()
        if self.loss.penalised and self.gp_lambda > 0:
            if index % self.gp_every == 0:
                penalty = self.loss.penalty(self.discriminator, real, fake, cond)
                loss = loss + (self.gp_lambda * self.gp_every) * penalty
                self.last_penalty = self.gp_lambda * penalty.detach()
            # the reported loss carries the penalty at its unlazy weight, the latest one between
            # penalised steps, so that loss curves read the same for every gp_every
            reported = reported + self.last_penalty
        return loss, reported, real_score, fake_score

    #: the share of real rows the label classifier never trains on: its cross-entropy there is what a
    #: real row of a label scores when the classifier has not learnt it, the matched loss's reference
    #: (on the rows it trains on, it overfits: small tables would ask for rows more typical than real)
    CLASSIFIER_HOLDOUT = 0.2

    def _classifier_step(self) -> None:
        """One update of the label classifier on a batch of its real rows."""
        if self._classifier_sources is None:
            split = getattr(self.source, "split", None) if self.classifier_loss != "full" else None
            self._classifier_sources = split(self.CLASSIFIER_HOLDOUT) if split is not None else (self.source,) * 2
        real, cond = self._classifier_sources[0].sample(self.batch_size)
        with self._autocast():
            loss = F.cross_entropy(self.classifier(real), cond.argmax(1))
        self.opt_c.zero_grad(set_to_none=True)
        loss.backward()
        if self.dist.active:
            collectives.average_gradients(self.classifier, self.dist.world_size)
        self.opt_c.step()

    def _generator_step(self) -> torch.Tensor:
        if self.classifier is not None:
            self._classifier_step()
        # the forward passes in the chosen precision; a region per step, as autocast keeps its casts of
        # the weights until the region ends, and the optimisers change the weights between steps
        with self._autocast():
            if self._kept is not None:  # the last critic step's rows, scored by the updated critic
                (fake, cond), self._kept = self._kept, None
            else:
                # the generator needs conditions only: a source may give them without reading real rows
                conditions = getattr(self.source, "conditions", None)
                cond = conditions(self.batch_size) if conditions is not None else self.source.sample(self.batch_size)[1]
                fake = self.generator(self._noise(self.batch_size), cond)
            self.discriminator.requires_grad_(False)
            adversarial = self.loss.generator(self.discriminator(fake, cond))
            loss = adversarial
            if self.moment_weight > 0 and self._last_real is not None and cond is not None:
                real, real_cond = self._last_real
                loss = loss + self.moment_weight * conditional_moments(
                    with_parts(fake, self.moment_parts), cond, with_parts(real, self.moment_parts), real_cond)
            if self.classifier is not None:
                self.classifier.eval().requires_grad_(False)  # no dropout: the classifier's own prediction
                if self.classifier_loss in ("matched", "quantile"):
                    real, real_cond = self._classifier_sources[1].sample(self.batch_size)
                    match = label_matched_loss if self.classifier_loss == "matched" else label_quantile_loss
                    term = match(self.classifier, fake, cond, real, real_cond)
                else:
                    term = F.cross_entropy(self.classifier(fake), cond.argmax(1))
                loss = loss + self.classifier_weight * term
                self.classifier.train().requires_grad_(True)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        if self.dist.active:
            collectives.average_gradients(self.generator, self.dist.world_size)
        self.opt_g.step()
        if self.dist.active:  # batch-norm running statistics of rank 0 everywhere, as DDP does
            collectives.broadcast_buffers(self.generator)
        self.discriminator.requires_grad_(True)
        return adversarial.detach()

    # --- sampling -----------------------------------------------------------------------------
    #: rows per generator call when sampling: small batches keep activations in cache (measured:
    #: 2,048-row batches run the CTGAN-sized body about 3x faster than 200,000-row ones on 2 cores)
    INFERENCE_BATCH = 2048

    def loaded(self) -> None:
        """Weights were loaded from a file: sampling refolds."""
        self._version += 1

    def _inference_net(self, network: torch.nn.Module | None = None) -> tuple[torch.nn.Module, torch.nn.Module]:
        """The sampled generator's body with its batch norms folded (cached until the weights change)
        and its head. While training, the averaged generator when there is one."""
        if network is not None:
            return network.inference_body(), network.head
        net = self.ema if self._training and self.ema is not None else self.generator
        key = self._version * 2 + int(net is self.ema)
        if self._folded is None or self._folded[0] != key:
            self._folded = (key, net.inference_body())
        return self._folded[1], net.head

    @torch.inference_mode()
    def generate(self, n: int, cond: torch.Tensor | None, g: torch.Generator,
                 network: torch.nn.Module | None = None) -> np.ndarray:
        """``n`` encoded rows (float32; choice spans as indicators whose argmax is a draw); ``cond``:
        their one-hot conditions. Noise comes from ``g`` (a CPU generator). ``network``: a generator
        other than the sampled one (the live weights while an average is kept, say)."""
        dev = self.device
        z = torch.randn(n, self.generator.latent_dim, generator=g).to(dev)
        if cond is not None:
            cond = cond.to(dev)
        dg = g if dev.type == "cpu" else torch.Generator(dev).manual_seed(int(torch.randint(2**62, (1,), generator=g)))
        body, head = self._inference_net(network)
        out = np.empty((n, head.width), dtype=np.float32)
        step = self.INFERENCE_BATCH if dev.type == "cpu" else 65536
        for i in range(0, n, step):
            x = z[i:i + step] if cond is None else torch.cat([z[i:i + step], cond[i:i + step]], dim=1)
            out[i:i + step] = head(body(x), generator=dg, hard=True).float().cpu().numpy()
        return out

    @torch.inference_mode()
    def score(self, X: torch.Tensor, cond: torch.Tensor | None) -> np.ndarray:
        """The discriminator's verdict on encoded rows (a probability of "real" for BCE, a critic score
        for Wasserstein losses; higher = more real). With pac > 1 each row is repeated ``pac`` times."""
        self.discriminator.eval()
        pac = getattr(self.discriminator, "pac", 1)
        if pac > 1:
            X = X.repeat_interleave(pac, dim=0)
            cond = cond.repeat_interleave(pac, dim=0) if cond is not None else None
        return self.loss.verdict(self.discriminator(X, cond)).cpu().numpy()

    # --- for tables ------------------------------------------------------------------------------
    @staticmethod
    def steps(config, n_rows: int) -> int:
        """The training budget in steps for a table of ``n_rows`` rows."""
        return config.steps_for(n_rows)

    @classmethod
    def for_table(cls, config, spans, width: int, n_labels: int, *, device: torch.device,
                  dist: Context = SINGLE, training: bool = False, private=None, n_rows: int = 0
                  ) -> "AdversarialFamily":
        """The family of a table model: MLP networks from the configuration, for the encoder's ``spans``
        and ``n_labels`` condition labels, made in a fixed order from the global random stream.
        ``training``: with the networks only training uses (the label classifier); the batch source is
        set afterwards (``family.source``). ``private(discriminator, loss)`` makes the DP critic."""
        net, t = config.network, config.training
        parts = moment_parts(spans, device)  # joints: each joined column's one-hot beside its combinations'
        generator = Generator(net.latent_dim, n_labels, net.generator_layers, spans).to(device)
        discriminator = Discriminator(width, n_labels, net.discriminator_layers, net.pac).to(device)
        # the label classifier is a training aid only: not in the model file (checkpoints hold it)
        classifier = None
        if training and t.classifier_weight > 0 and n_labels > 1:
            classifier = LabelClassifier(width, n_labels, net.discriminator_layers, parts).to(device)
        if dist.active:
            # the same initial weights everywhere (built from the same seed; made sure of)
            for m in (generator, discriminator, classifier):
                if m is not None:
                    collectives.broadcast_module(m)
        loss = get_loss(config.loss)
        family = cls(generator, discriminator, loss, None, batch_size=t.batch_size // dist.world_size,
                   n_critic=t.n_critic, gp_lambda=t.gp_lambda, gp_every=t.gp_every, lr_g=t.lr_g, lr_d=t.lr_d,
                   betas=tuple(t.betas), weight_decay_g=t.weight_decay_g, weight_decay_d=t.weight_decay_d,
                   pretrain_critic_steps=t.pretrain_critic_steps, ema_decay=float(t.ema_decay),
                   reuse_fakes=t.reuse_fakes, classifier=classifier, classifier_weight=float(t.classifier_weight),
                   classifier_loss=t.classifier_loss,
                   moment_weight=float(t.moment_weight),
                   precision=kernels.resolve_precision(t.precision, device),
                   private=None if private is None else private(discriminator, loss), device=device, dist=dist)
        family.moment_parts = parts
        return family


def conditional_moments(fake: torch.Tensor, cond: torch.Tensor, real: torch.Tensor, real_cond: torch.Tensor
                        ) -> torch.Tensor:
    """The mean over labels present in both batches of the squared distance between the label's mean
    generated row and its mean real row (encoded, per column): what a generator that ignores its
    condition gets wrong first."""
    means = label_means(fake.float(), cond, real.float(), real_cond)
    if means is None:
        return fake.new_zeros(())
    mf, mr, _ = means
    return ((mf - mr) ** 2).mean()


def label_means(fake: torch.Tensor, cond: torch.Tensor, real: torch.Tensor, real_cond: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """For the labels present in both batches: the mean generated row, the mean real row (rows of
    ``fake`` and ``real``, one-hot labels ``cond`` and ``real_cond``) and the generated rows' count per
    label; None when no label is in both."""
    cf, cr = cond.float(), real_cond.float()
    nf, nr = cf.sum(0), cr.sum(0)
    both = (nf > 0) & (nr > 0)
    if not bool(both.any()):
        return None
    return (cf.t() @ fake)[both] / nf[both, None], (cr.t() @ real)[both] / nr[both, None], nf[both]


def label_matched_loss(classifier: torch.nn.Module, fake: torch.Tensor, cond: torch.Tensor, real: torch.Tensor,
                       real_cond: torch.Tensor) -> torch.Tensor:
    """The label classifier's loss without exaggeration: for each label in both batches, how far the
    classifier's mean cross-entropy on the generated rows of that label exceeds its mean on the real
    rows of that label (zero once they are as recognisable as real ones), weighted by the label's share
    of the generated batch. Full cross-entropy keeps pushing rows towards their label's most typical
    region, and the label's associations come out stronger than in the real rows."""
    ce = F.cross_entropy(classifier(fake), cond.argmax(1), reduction="none").float()
    with torch.no_grad():
        ce_real = F.cross_entropy(classifier(real), real_cond.argmax(1), reduction="none").float()
    means = label_means(ce[:, None], cond, ce_real[:, None], real_cond)
    if means is None:
        return ce.new_zeros(())
    mf, mr, counts = means
    return (torch.relu(mf - mr)[:, 0] * counts).sum() / counts.sum()


def label_quantile_loss(classifier: torch.nn.Module, fake: torch.Tensor, cond: torch.Tensor, real: torch.Tensor,
                        real_cond: torch.Tensor) -> torch.Tensor:
    """Two-sided: for each label in both batches, the mean distance between the sorted log-probabilities
    the classifier gives the generated rows of that label and the same quantiles of the real rows' (a
    one-dimensional Wasserstein distance), weighted by the label's share of the generated batch. Rows
    less recognisable than real ones are pushed up, rows more typical than any real one down."""
    y, y_real = cond.argmax(1), real_cond.argmax(1)
    logp = -F.cross_entropy(classifier(fake), y, reduction="none").float()
    with torch.no_grad():
        logp_real = -F.cross_entropy(classifier(real), y_real, reduction="none").float()
    total, count = logp.new_zeros(()), 0
    for label in torch.unique(y).tolist():
        f, r = logp[y == label], logp_real[y_real == label]
        if len(r) == 0:
            continue
        q = torch.linspace(0, 1, len(f), device=f.device) if len(f) > 1 else f.new_full((1,), 0.5)
        total = total + (torch.sort(f).values - torch.quantile(r, q)).abs().sum()
        count += len(f)
    return total / count if count else total
