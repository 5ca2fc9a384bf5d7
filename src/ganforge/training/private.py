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
The sum is divided by ``q * n~`` (``n~`` the noisy row count below): a number fixed before training,
the same for neighbouring tables, so the division is post-processing. (Opacus 1.0-1.6 divides by
the expected batch size of the table itself, which differs between neighbouring tables: the
mismatch with its SGM accounting reported in Opacus issue #819; ganforge uses only its accountant.)

Everything else that reads the data is replaced or accounted: numeric bounds, category sets and
missing rates come from a schema the user declared public (``"public": true``), never from the data
(``private_config`` refuses any other); numerics are min-max scaled to those bounds (no mixture
fitted on the data); ``COUNT_SHARE`` of epsilon buys Laplace-noised counts (``count_rows``): the
label counts of a conditional model (its sampling frequencies, and their sum the row count) or the
row count alone; that noisy count, not the true one, sets the sample rate, the default delta, an
epoch budget's steps and the model file's ``n_rows``. The loss history keeps only the generator's
figures, quality monitoring on real rows is off, and every noise is drawn from the operating
system's entropy (``secret_seed``): a seed recorded in the model file would let anyone replay it.
"""

from __future__ import annotations

import math
import secrets
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError, DataError

#: the share of epsilon spent on counts: the label counts of a conditional model, else the row count
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
    #: what epsilon_counts bought: "labels" (the label counts) or "rows" (the row count)
    counted: str = "labels"
    #: the noisy row count that stands for n (the sample rate, the normaliser, delta); 0: n itself
    rows: int = 0

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


def secret_seed() -> int:
    """A seed from the operating system's entropy, for the noise of a private fit: never recorded."""
    return secrets.randbits(63)


@dataclass
class Counts:
    """The noisy counts a private fit releases: ``rows`` stands for the number of rows from then on;
    ``frequencies``: the label shares for sampling (None for an unconditional model)."""

    rows: int
    frequencies: list[float] | None
    epsilon: float
    #: the standard deviation of the noise on ``rows``
    spread: float = 0.0

    @property
    def default_delta(self) -> float:
        """1 / (10 n), with n the noisy count plus three standard deviations of its noise: a count that
        came out low cannot make delta large."""
        return 1.0 / (10.0 * (self.rows + 3.0 * self.spread))


def count_rows(epsilon: float, n_rows: int, codes: np.ndarray | None, n_labels: int,
               rng: np.random.Generator | None = None) -> Counts:
    """``COUNT_SHARE`` of ``epsilon`` on Laplace-noised counts (sensitivity 1 under adding or removing a
    row): each label's count when ``codes`` are given (the row count is their noisy sum, at no further
    cost), else the row count. ``rng``: OS entropy unless given (tests)."""
    _check_epsilon(epsilon)
    eps = COUNT_SHARE * epsilon
    rng = rng if rng is not None else np.random.default_rng(secret_seed())
    if codes is not None:
        noisy = np.bincount(codes, minlength=n_labels) + rng.laplace(0.0, 1.0 / eps, n_labels)
        clipped = np.clip(noisy, 0, None)
        freq = clipped / clipped.sum() if clipped.sum() > 0 else np.full(n_labels, 1.0 / n_labels)
        return Counts(max(1, int(round(float(noisy.sum())))), freq.tolist(), eps, math.sqrt(2.0 * n_labels) / eps)
    return Counts(max(1, int(round(n_rows + float(rng.laplace(0.0, 1.0 / eps))))), None, eps, math.sqrt(2.0) / eps)


def start(config, n_rows: int, codes: np.ndarray | None, n_labels: int, steps_for) -> tuple[DPSettings, Counts]:
    """What a private fit releases first and its plan: the noisy counts (``count_rows``; ``codes``: the
    rows' labels, None for an unconditional model), then the noise for the rest of epsilon over the
    discriminator steps of ``steps_for(noisy rows)`` generator steps. ``dp_delta`` defaults to
    ``Counts.default_delta``. From here on the noisy count stands for the number of rows."""
    p, t = config.privacy, config.training
    counted = count_rows(float(p.dp_epsilon), n_rows, codes, n_labels)
    delta = p.dp_delta if p.dp_delta is not None else counted.default_delta
    settings = plan(float(p.dp_epsilon), delta, counted.rows, t.batch_size,
                    t.pretrain_critic_steps + steps_for(counted.rows) * t.n_critic, p.dp_max_grad_norm,
                    conditional=codes is not None)
    return settings, counted


#: epsilon beyond which a guarantee means nothing (and Opacus' search for the noise no longer ends)
MAX_EPSILON = 1e6


def _check_epsilon(epsilon: float) -> None:
    if not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon) and epsilon > 0):
        raise ConfigError(f"`dp_epsilon` must be a positive number, got {epsilon!r}")
    if epsilon > MAX_EPSILON:
        raise ConfigError(f"`dp_epsilon` {epsilon:g} promises no privacy (above {MAX_EPSILON:g} the accountant "
                          f"cannot even compute its noise): use a value up to 10, or train without `dp_epsilon`")


def plan(epsilon: float, delta: float | None, n_rows: int, batch_size: int, critic_steps: int,
         max_grad_norm: float, conditional: bool) -> DPSettings:
    """Choose the noise for a target (epsilon, delta) over ``critic_steps`` discriminator steps;
    ``n_rows``: the noisy row count (``count_rows``), whose ``COUNT_SHARE`` of epsilon is set aside."""
    _check_epsilon(epsilon)
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
    eps_counts = COUNT_SHARE * epsilon
    eps_sgd = epsilon - eps_counts
    _, get_noise_multiplier = _accountant_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "optimal order is the largest alpha": a looser bound, still valid
        try:
            sigma = float(get_noise_multiplier(target_epsilon=eps_sgd, target_delta=delta, sample_rate=q,
                                               steps=max(critic_steps, 1), accountant="rdp"))
        except (ValueError, OverflowError, ZeroDivisionError):  # Opacus gives up above a noise multiplier of 1e6
            raise ConfigError(f"`dp_epsilon` {epsilon:g} is too small for {max(critic_steps, 1)} discriminator "
                              f"steps at sample rate {q:.3g}: no noise level reaches it (delta {delta:.2g}); raise "
                              f"`dp_epsilon` (0.1 to 10 are usual) or train fewer `steps`") from None
    if not (math.isfinite(sigma) and sigma > 0):
        raise ConfigError(f"`dp_epsilon` {epsilon:g}: the accountant found no noise level for it; use a value "
                          f"between 0.01 and 100")
    return DPSettings(epsilon=float(epsilon), delta=float(delta), max_grad_norm=float(max_grad_norm),
                      sample_rate=q, noise_multiplier=sigma, planned_steps=int(critic_steps),
                      epsilon_sgd=eps_sgd, epsilon_counts=eps_counts, counted="labels" if conditional else "rows",
                      rows=int(n_rows))


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


class PoissonSource:
    """Each real row joins a batch independently with probability ``q`` (on the device);
    ``onehot(codes)`` gives the condition vectors of label codes."""

    def __init__(self, X: torch.Tensor, codes: torch.Tensor | None, n_labels: int, q: float, onehot=None):
        self.X, self.codes, self.q, self.n_labels, self.onehot = X, codes, q, n_labels, onehot
        # which rows a batch holds must stay secret (the amplification by sampling rests on it): not the
        # fit's seeded stream, which the model file records
        self.g = torch.Generator(device=X.device).manual_seed(secret_seed())

    def poisson(self):
        idx = torch.nonzero(torch.rand(len(self.X), device=self.X.device, generator=self.g) < self.q).flatten()
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
        # the Gaussian noise from a secret stream: from the fit's seed, which the model file records, it
        # could be replayed and subtracted
        device = next(discriminator.parameters()).device
        self.g = torch.Generator(device=device).manual_seed(secret_seed())
        # q times the noisy row count: fixed before training and the same for neighbouring tables
        # (a divisor computed from the table itself would not be: Opacus issue #819)
        self.expected_batch = settings.sample_rate * (settings.rows or n_rows)

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
                p.grad.add_(torch.randn(p.shape, generator=self.g, device=p.device, dtype=p.dtype) * (sigma * C))
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
        raise DataError("`dp_epsilon` needs a public `schema`: bounds, categories and missing rates read from the "
                        "private rows would leak them; write them from public knowledge and mark the schema file "
                        "with \"public\": true (a schema that `save_schema` wrote was read from a table: make its "
                        "values public ones first), or drop `dp_epsilon`")
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
        pac=1, classifier_weight=0.0, moment_weight=0.0, precision="float32", refine_candidates=0)


def untimed(summary: dict[str, Any] | None) -> dict[str, Any]:
    """What a private model file records instead of durations (``summary``: its ``release_summary``;
    None: not private, nothing): none, as a fit's time grows with its number of rows, which stays private."""
    return {} if not summary else {"train_seconds": None, "fit_seconds": None, "encoder_fit_seconds": None}


def release_summary(settings: DPSettings, critic_steps: int) -> dict[str, Any]:
    """What a private model file records of its privacy: the settings, the steps and the epsilon spent."""
    import opacus

    total = spent(settings, critic_steps)
    counted = "label_counts" if settings.counted == "labels" else "row_count"
    return {**settings.to_dict(), "critic_steps": critic_steps, "epsilon_spent": total,
            "spent": {"dp_sgd": total - settings.epsilon_counts, counted: settings.epsilon_counts},
            "schema": "bounds, categories and missing rates from a schema declared public (no budget)",
            "accountant": f"RDP, Opacus {opacus.__version__}",
            "mechanism": "DP-SGD on the discriminator (Poisson sampling, per-row clipping, Gaussian noise, divided "
                         "by a number fixed before training); Laplace-noised "
                         + ("label counts (their sum the row count)" if settings.counted == "labels" else "row count")
                         + "; noise from the operating system's entropy"}
