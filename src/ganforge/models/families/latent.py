"""The latent family: a GAN in the latent space of a table VAE (TabSyn's recipe, a GAN in place of
diffusion).

Stage 1 trains a variational autoencoder on the encoded rows: an MLP encoder to a Gaussian code of
``vae_latent`` dimensions, an MLP decoder back to the encoded layout, with a cross-entropy per choice
span (categories, mixture modes, missing indicators) and a squared error per continuous value, and a
KL term weighted by ``vae_beta``. Stage 2 freezes the VAE and trains a (conditional) WGAN-GP, the
adversarial family itself, on the standardised latent means of real rows. A generated row is a latent
drawn by the GAN, decoded, and read by the table encoder like any generator's output.

One trainer step is one VAE update during the first ``vae_epochs`` passes over the data, then one
GAN step (``n_critic`` critic updates and a generator update); the history holds ``vae_loss`` in
the first stage and the GAN's figures in the second.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ...errors import ConfigError
from ...training import collectives
from ...training.collectives import SINGLE, Context
from ...training.family import Family
from ..networks import Discriminator, Generator, OutputHead, build_mlp
from .adversarial import AdversarialFamily


class TableVAE(torch.nn.Module):
    """An MLP VAE over encoded rows: ``encode`` -> (mean, log variance), ``decode`` -> raw outputs in the
    encoded layout (the output head of the spans turns them into rows)."""

    def __init__(self, width: int, latent: int, layers, spans):
        super().__init__()
        self.latent_dim = latent
        self.enc = build_mlp(width, layers, 2 * latent)
        self.dec = build_mlp(latent, list(reversed(layers)), width)
        self.head = OutputHead(spans)
        # the columns of each kind of span, for the reconstruction loss
        choice, point, start = [], [], 0
        for s in spans:
            (choice.append((start, s.width)) if s.activation in ("softmax", "gumbel")
             else point.extend(range(start, start + s.width)))
            start += s.width
        self.choice = choice
        self.point_act = [s.activation for s in spans for _ in range(s.width) if s.activation not in ("softmax", "gumbel")]
        self.register_buffer("point", torch.tensor(point, dtype=torch.long), persistent=False)
        # the latent means' centre and spread over real rows (set after training): the GAN learns standard units
        self.register_buffer("latent_mean", torch.zeros(latent))
        self.register_buffer("latent_std", torch.ones(latent))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.enc(x).chunk(2, dim=1)
        return mu, logvar.clamp(-10, 10)

    def loss(self, x: torch.Tensor, beta: float) -> torch.Tensor:
        mu, logvar = self.encode(x)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        out = self.dec(z)
        rec = out.new_zeros(())
        for start, w in self.choice:
            rec = rec + F.cross_entropy(out[:, start:start + w], x[:, start:start + w].argmax(1), reduction="sum")
        if len(self.point):
            pred = out.index_select(1, self.point)
            acts = self.point_act
            pred = torch.where(torch.tensor([a == "tanh" for a in acts], device=x.device), torch.tanh(pred),
                               torch.where(torch.tensor([a == "sigmoid" for a in acts], device=x.device),
                                           torch.sigmoid(pred), pred))
            rec = rec + ((pred - x.index_select(1, self.point)) ** 2).sum()
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (rec + beta * kl) / len(x)


class _LatentSource:
    """Real rows as the GAN of stage 2 sees them: standardised latent means of the frozen VAE."""

    def __init__(self, family: "LatentFamily"):
        self.family = family

    def sample(self, n: int):
        x, cond = self.family.source.sample(n)
        return self.family.embed(x), cond

    def conditions(self, n: int):
        conditions = getattr(self.family.source, "conditions", None)
        return conditions(n) if conditions is not None else self.family.source.sample(n)[1]


class LatentFamily(Family):
    figures = ("vae_loss", "g_loss", "d_loss", "d_real", "d_fake")

    def __init__(self, vae: TableVAE, gan: AdversarialFamily, vae_steps: int, batch_size: int, lr: float,
                 beta: float, device: torch.device, dist: Context = SINGLE):
        self.vae, self.gan, self.vae_steps, self.batch_size, self.beta = vae, gan, vae_steps, batch_size, beta
        self.device, self.dist = device, dist
        self.opt_vae = torch.optim.Adam(vae.parameters(), lr=lr)
        self.source = None
        self.precision = gan.precision
        gan.source = _LatentSource(self)

    # --- the protocol -------------------------------------------------------------------------
    def modules(self) -> dict[str, torch.nn.Module]:
        return {"vae": self.vae, **self.gan.modules()}

    def saved_modules(self) -> dict[str, torch.nn.Module]:
        return {"vae": self.vae, **self.gan.saved_modules()}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt_vae": self.opt_vae, **self.gan.optimizers()}

    def train(self, mode: bool = True) -> None:
        self.vae.train(mode)
        self.gan.train(mode)

    @property
    def sampling_module(self) -> torch.nn.Module:
        return self.gan.sampling_module

    def keep(self, state: dict[str, torch.Tensor]) -> None:
        self.gan.keep(state)

    def begin(self, step: int) -> None:
        self.gan.begin(1)  # sampling reads the averaged generator from now on; no critic pre-training

    def end(self) -> None:
        self.gan.end()

    def critic_steps(self, step: int) -> int:
        return self.gan.critic_steps(max(0, step - self.vae_steps))

    def train_step(self, step: int) -> torch.Tensor:
        nan = torch.full((4,), float("nan"), device=self.device)
        if step < self.vae_steps:
            x, _ = self.source.sample(self.batch_size)
            self.vae.train()
            loss = self.vae.loss(x, self.beta)
            self.opt_vae.zero_grad(set_to_none=True)
            loss.backward()
            if self.dist.active:
                collectives.average_gradients(self.vae, self.dist.world_size)
            self.opt_vae.step()
            return torch.cat([loss.detach().reshape(1), nan])
        if step == self.vae_steps:
            self._standardise()
        return torch.cat([torch.full((1,), float("nan"), device=self.device), self.gan.train_step(step - self.vae_steps)])

    def record(self, step: int, values: list[float]) -> dict[str, float]:
        if step <= self.vae_steps:
            if not math.isfinite(values[0]):
                from ...errors import TrainingError

                raise TrainingError(f"training diverged at step {step}: the VAE's loss is {values[0]}; lower "
                                    f"`vae_lr`, or check the data for extreme values")
            return {"step": step, "vae_loss": values[0]}
        rec = self.gan.record(step, values[1:])
        return {**rec, "vae_loss": float("nan")}

    def extra_state(self) -> dict[str, torch.Tensor]:
        return self.gan.extra_state()

    def load_extra_state(self, tensors: dict[str, torch.Tensor]) -> None:
        self.gan.load_extra_state(tensors)

    def check_resumable(self, prefixes: set[str]) -> None:
        self.gan.check_resumable(prefixes)

    def describe(self) -> dict[str, Any]:
        return {"vae_steps": self.vae_steps, "beta": self.beta, **self.gan.describe()}

    # --- latents -----------------------------------------------------------------------------
    @torch.no_grad()
    def _standardise(self, batches: int = 20) -> None:
        """Mean and spread of the latent means over some real batches: the GAN learns standard units."""
        self.vae.eval()
        mus = [self.vae.encode(self.source.sample(self.batch_size)[0])[0] for _ in range(batches)]
        mu = torch.cat(mus)
        self.vae.latent_mean.copy_(mu.mean(0))
        self.vae.latent_std.copy_(mu.std(0).clamp_min(1e-3))

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        self.vae.eval()
        return (self.vae.encode(x)[0] - self.vae.latent_mean) / self.vae.latent_std

    @torch.inference_mode()
    def generate(self, n: int, cond: torch.Tensor | None, g: torch.Generator, network=None) -> np.ndarray:
        latent = torch.as_tensor(self.gan.generate(n, cond, g, network), device=self.device)
        dg = g if self.device.type == "cpu" else torch.Generator(self.device).manual_seed(
            int(torch.randint(2**62, (1,), generator=g)))
        self.vae.eval()
        out = np.empty((n, self.vae.head.width), dtype=np.float32)
        for i in range(0, n, 4096):
            z = latent[i:i + 4096] * self.vae.latent_std + self.vae.latent_mean
            out[i:i + 4096] = self.vae.head(self.vae.dec(z), generator=dg, hard=True).float().cpu().numpy()
        return out

    def score(self, X: torch.Tensor, cond: torch.Tensor | None) -> np.ndarray:
        return self.gan.score(self.embed(X), cond)

    @property
    def loss(self):
        return self.gan.loss

    @property
    def generator(self):
        return self.gan.generator

    @property
    def discriminator(self):
        return self.gan.discriminator

    def loaded(self) -> None:
        self.gan.loaded()

    # --- for tables ------------------------------------------------------------------------------
    @staticmethod
    def steps(config, n_rows: int) -> int:
        """The VAE's steps and the GAN's (``epochs``/``steps`` as for any model)."""
        return LatentFamily.vae_steps_for(config, n_rows) + config.steps_for(n_rows)

    @staticmethod
    def vae_steps_for(config, n_rows: int) -> int:
        return math.ceil(config.latent.vae_epochs * n_rows / config.training.batch_size)

    @classmethod
    def for_table(cls, config, spans, width: int, n_labels: int, *, device: torch.device,
                  dist: Context = SINGLE, training: bool = False, private=None, n_rows: int = 0) -> "LatentFamily":
        if private is not None:
            raise ConfigError("the latent family's VAE reads every row without noise: with `dp_epsilon` use an "
                              "adversarial model (gan, cgan, wgan, wcgan)")
        lat, net, t = config.latent, config.network, config.training
        vae = TableVAE(width, lat.vae_latent, lat.vae_layers, spans).to(device)
        from ...encoding.base import Span
        from ...training import kernels
        from ..losses import get_loss

        generator = Generator(net.latent_dim, n_labels, net.generator_layers, [Span(lat.vae_latent, "linear")]).to(device)
        discriminator = Discriminator(lat.vae_latent, n_labels, net.discriminator_layers, net.pac).to(device)
        gan = AdversarialFamily(generator, discriminator, get_loss(config.loss or "wasserstein"), None,
                                batch_size=t.batch_size // dist.world_size, n_critic=t.n_critic or 5, gp_lambda=t.gp_lambda,
                                gp_every=t.gp_every, lr_g=t.lr_g, lr_d=t.lr_d, betas=tuple(t.betas),
                                weight_decay_g=t.weight_decay_g, weight_decay_d=t.weight_decay_d,
                                ema_decay=float(t.ema_decay), reuse_fakes=t.reuse_fakes,
                                precision=kernels.resolve_precision(t.precision, device), device=device, dist=dist)
        if dist.active:
            for m in (vae, generator, discriminator):
                collectives.broadcast_module(m)
        return cls(vae, gan, cls.vae_steps_for(config, n_rows) if training else 0, t.batch_size // dist.world_size,
                   lat.vae_lr, lat.vae_beta, device, dist)
