"""Differential privacy: DP-SGD on the discriminator, with the privacy budget accounted.

Only the discriminator reads real rows; the generator learns from the discriminator alone, so
its updates, and everything sampled from it, are post-processing and cost no privacy. Each
discriminator step:

1. draws a Poisson sample of real rows (each row independently with probability ``q``), so the
   subsampled-Gaussian accounting applies exactly; packing is off (``pac`` 1): one row, one unit;
2. clips the gradient of each real row's critic loss to L2 norm ``C`` (ghost norms: see
   :class:`PrivateCritic`), sums, adds Gaussian noise of standard deviation ``sigma * C`` and
   divides by the expected batch size ``q * n``;
3. adds the gradient of the generated-row term, which reads no private data: generated rows with
   conditions drawn from a uniform label mix, and the Wasserstein gradient penalty taken at the
   generated rows (instead of between real and generated ones, which would read real rows);
4. hands the sum to the optimiser (Adam: post-processing of the noisy gradient).

``sigma`` is chosen by Opacus' RDP accountant for the target (epsilon, delta) over the planned
number of discriminator steps, and the epsilon actually spent is recomputed from the steps done.

Everything else that reads the data is replaced or accounted: numeric bounds and category sets
come from the user's schema (not from the data), numerics are min-max scaled to those bounds (no
mixture fitted on the data), the label frequencies used for conditional sampling are Laplace-noised
counts (a share of epsilon, composed sequentially), the loss history keeps only the
generator's figures, and quality monitoring on real rows is off. The number of rows is treated as
public.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError, DataError

#: the share of epsilon spent on the label counts of a conditional model
COUNT_SHARE = 0.05


@dataclass
class DPSettings:
    epsilon: float
    delta: float
    max_grad_norm: float
    sample_rate: float
    noise_multiplier: float
    planned_steps: int
    epsilon_sgd: float
    epsilon_counts: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _accountant_module():
    try:
        from opacus.accountants import RDPAccountant
        from opacus.accountants.utils import get_noise_multiplier
    except ImportError:
        raise ConfigError("differential privacy needs Opacus' accountant: pip install 'ganforge[dp]' "
                          "(or pip install opacus)") from None
    return RDPAccountant, get_noise_multiplier


def plan(epsilon: float, delta: float | None, n_rows: int, batch_size: int, critic_steps: int,
         max_grad_norm: float, conditional: bool) -> DPSettings:
    """Choose the noise for a target (epsilon, delta) over ``critic_steps`` discriminator steps."""
    if not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon) and epsilon > 0):
        raise ConfigError(f"`dp_epsilon` must be a positive number, got {epsilon!r}")
    if delta is None:
        delta = 1.0 / (10 * n_rows)
    if not 0 < delta < 1:
        raise ConfigError(f"`dp_delta` must be between 0 and 1, got {delta!r}")
    if delta >= 1.0 / n_rows:
        warnings.warn(f"dp_delta {delta:g} is not below 1/n = {1 / n_rows:.2g}: such a delta permits "
                      f"releasing a row outright; 1/(10 n) is the default", stacklevel=2)
    if not max_grad_norm > 0:
        raise ConfigError(f"dp_max_grad_norm must be positive, got {max_grad_norm!r}")
    q = min(1.0, batch_size / n_rows)
    eps_counts = COUNT_SHARE * epsilon if conditional else 0.0
    eps_sgd = epsilon - eps_counts
    _, get_noise_multiplier = _accountant_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "optimal order is the largest alpha": a looser bound, still valid
        sigma = float(get_noise_multiplier(target_epsilon=eps_sgd, target_delta=delta, sample_rate=q,
                                           steps=max(critic_steps, 1), accountant="rdp"))
    return DPSettings(epsilon=float(epsilon), delta=float(delta), max_grad_norm=float(max_grad_norm),
                      sample_rate=q, noise_multiplier=sigma, planned_steps=int(critic_steps),
                      epsilon_sgd=eps_sgd, epsilon_counts=eps_counts)


def spent(settings: DPSettings, critic_steps: int) -> float:
    """Epsilon spent after ``critic_steps`` discriminator steps (SGD part plus the counts)."""
    if critic_steps == 0:
        return settings.epsilon_counts
    RDPAccountant, _ = _accountant_module()
    acc = RDPAccountant()
    acc.history = [(settings.noise_multiplier, settings.sample_rate, int(critic_steps))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        eps = float(acc.get_epsilon(delta=settings.delta))
    return eps + settings.epsilon_counts


def noisy_frequencies(counts: np.ndarray, epsilon: float, rng: np.random.Generator) -> np.ndarray:
    """Label frequencies from counts with Laplace noise (sensitivity 1 under add/remove-one)."""
    noisy = np.clip(counts + rng.laplace(0.0, 1.0 / epsilon, len(counts)), 0, None)
    return noisy / noisy.sum() if noisy.sum() > 0 else np.full(len(counts), 1.0 / len(counts))


class PoissonSource:
    """Each real row joins a batch independently with probability ``q`` (on the device);
    ``onehot(codes)`` gives the condition vectors of label codes."""

    def __init__(self, X: torch.Tensor, codes: torch.Tensor | None, n_labels: int, q: float, onehot=None):
        self.X, self.codes, self.q, self.n_labels, self.onehot = X, codes, q, n_labels, onehot

    def poisson(self):
        idx = torch.nonzero(torch.rand(len(self.X), device=self.X.device) < self.q).flatten()
        cond = self.onehot(self.codes[idx]) if self.codes is not None else None
        return self.X[idx], cond

    def sample(self, batch_size: int):
        """Conditions for the generator's step, drawn from a uniform label mix (no data read)."""
        idx = torch.randint(len(self.X), (batch_size,), device=self.X.device)
        if self.codes is None:
            return self.X[idx], None
        labels = torch.randint(self.n_labels, (batch_size,), device=self.X.device)
        return self.X[idx], self.onehot(labels)


class PrivateCritic:
    """One DP-SGD discriminator step with per-row clipping by "ghost norms".

    For a linear layer, the gradient of row i's loss is the outer product of the layer's output
    gradient and its input for that row, so its norm is ``|a_i| |delta_i|`` (plus ``|delta_i|``
    for the bias): one forward and one gradient with respect to the layers' outputs give every
    row's gradient norm without materialising per-row gradients, and a second backward of the
    loss weighted by ``min(1, C / norm_i)`` gives the clipped sum (Goodfellow 2015; Li et al.
    2022). Only discriminators made of linear layers (and parameter-free activations and dropout)
    qualify.

    The real term is the only one that reads private rows: the generated rows are drawn with
    their own conditions and the gradient penalty is taken on generated rows, so those terms get
    no noise. Generated rows are clipped like real ones, so that clipping (which shrinks real-row
    gradients by their norm, often 10x) does not leave the generated side dominating the critic.
    """

    def __init__(self, discriminator: torch.nn.Module, loss, gp_lambda: float, settings: DPSettings,
                 n_rows: int):
        """``loss``: an ``ganforge.models.losses.AdversarialLoss`` (its per-row losses are clipped)."""
        if getattr(discriminator, "pac", 1) != 1:
            raise ConfigError("differential privacy trains with pac 1 (one row per discriminator unit)")
        linears = [m for m in discriminator.modules() if isinstance(m, torch.nn.Linear)]
        others = [m for m in discriminator.modules() if not isinstance(m, torch.nn.Linear)
                  and any(True for _ in m.parameters(recurse=False))]
        if others:
            raise ConfigError(f"differential privacy needs a discriminator of linear layers; it has "
                              f"{type(others[0]).__name__} (remove batchnorm from discriminator_layers)")
        self.d, self.loss, self.gp_lambda, self.linears = discriminator, loss, gp_lambda, linears
        self.s = settings
        self.expected_batch = settings.sample_rate * n_rows

    def clipped_sum(self, rows: torch.Tensor, cond: torch.Tensor | None, real: bool = True) -> torch.Tensor:
        """Accumulate the sum of per-row clipped gradients of the real (or generated) term into
        ``.grad``; returns the per-row norms before clipping."""
        inputs, outputs = [], []

        def keep(module, args, out):
            inputs.append(args[0].detach())
            outputs.append(out)

        hooks = [m.register_forward_hook(keep) for m in self.linears]
        try:
            losses = self.loss.row_losses(self.d(rows, cond), real)
        finally:
            for h in hooks:
                h.remove()
        deltas = torch.autograd.grad(losses.sum(), outputs, retain_graph=True)
        sq = torch.zeros(len(rows), device=rows.device, dtype=rows.dtype)
        for a, delta in zip(inputs, deltas):
            dn = delta.pow(2).sum(1)
            sq = sq + a.pow(2).sum(1) * dn + dn  # weight and bias
        norms = sq.sqrt()
        factor = (self.s.max_grad_norm / (norms + 1e-6)).clamp(max=1.0)
        (factor.detach() * losses).sum().backward()
        return norms.detach()

    def step(self, real: torch.Tensor, cond: torch.Tensor | None, fake: torch.Tensor,
             fake_cond: torch.Tensor | None, opt: torch.optim.Optimizer) -> None:
        C, sigma = self.s.max_grad_norm, self.s.noise_multiplier
        params = [p for p in self.d.parameters()]
        opt.zero_grad(set_to_none=False)
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        if len(real):
            self.clipped_sum(real, cond, real=True)
        with torch.no_grad():
            for p in params:
                p.grad.add_(torch.randn_like(p) * (sigma * C))
        # the generated side reads no private data; its rows are clipped the same way (without
        # noise) so that neither side of the game is scaled down against the other
        self.clipped_sum(fake, fake_cond, real=False)
        with torch.no_grad():
            for p in params:
                p.grad.div_(self.expected_batch)
        if self.loss.penalised and self.gp_lambda > 0:
            x = fake.detach().requires_grad_(True)
            (g,) = torch.autograd.grad(self.d(x, fake_cond).sum(), x, create_graph=True)
            (self.gp_lambda * ((g.norm(2, dim=1) - 1) ** 2).mean()).backward()
        opt.step()


def private_config(config, public_schema: bool, kmeans: bool):
    """The configuration a differentially private fit runs with: refuse what would read the data
    outside DP-SGD, switch the rest (numerics min-max scaled to the schema's bounds, one-hot
    categories, one row per critic unit, no label classifier, no refinement classifier, float32). ``public_schema``: the
    bounds and categories come from the user, not from a scan of the data."""
    if not public_schema:
        raise DataError("`dp_epsilon` needs `schema`: numeric bounds and category sets inferred from the data "
                        "would leak it; write them from public knowledge (a schema saved with `save_schema` from "
                        "public or made-up rows, then edited)")
    if kmeans:
        raise ConfigError("`condition_on` kmeans clusters the private rows; with `dp_epsilon` condition on a column "
                          "or on nothing")
    if config.monitor.early_stopping or config.monitor.eval_every:
        raise ConfigError("early stopping scores generated rows against the private rows; with `dp_epsilon` give a "
                          "fixed `steps` or `epochs`")
    enc = config.encoding
    return config.replace(
        numeric_encoding=enc.numeric_encoding if enc.numeric_encoding in ("minmax", "minmax01") else "minmax",
        categorical_encoding="onehot",
        ordinal_encoding="onehot" if enc.ordinal_encoding == "gaussian_interval" else enc.ordinal_encoding,
        pac=1, classifier_weight=0.0, precision="float32", refine_candidates=0)


def release_summary(settings: DPSettings, critic_steps: int) -> dict[str, Any]:
    """What a private model file records of its privacy: the settings, the steps and the epsilon spent."""
    import opacus

    return {**settings.to_dict(), "critic_steps": critic_steps, "epsilon_spent": spent(settings, critic_steps),
            "accountant": f"RDP, Opacus {opacus.__version__}",
            "mechanism": "DP-SGD on the discriminator (Poisson sampling, per-row clipping, Gaussian noise); "
                         "Laplace-noised label counts; bounds and categories from the user's schema; the number "
                         "of rows treated as public"}
