"""Adversarial losses as objects.

A loss says how the critic and the generator score a batch, whether it carries a gradient penalty,
what one row's critic loss is (differential privacy clips rows one by one), and how a critic score
reads to a person (a probability of "real" for the non-saturating GAN, a critic value for WGAN).
Adding a loss is a class here and one entry in ``LOSSES``.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F


class AdversarialLoss:
    name: ClassVar[str] = ""
    #: Wasserstein critics are regularised by a gradient penalty (``gp_lambda``)
    penalised: ClassVar[bool] = False
    #: whether ``verdict`` gives probabilities (a row is judged real above 0.5)
    probabilities: ClassVar[bool] = False

    def critic(self, real_score: torch.Tensor, fake_score: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def generator(self, fake_score: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def row_losses(self, score: torch.Tensor, real: bool) -> torch.Tensor:
        """Each row's critic loss (their mean is ``critic``'s real or fake term)."""
        raise NotImplementedError

    def verdict(self, score: torch.Tensor) -> torch.Tensor:
        """A critic score as reported to a person."""
        return score

    def figures(self, real_mean: float, fake_mean: float) -> tuple[float, float, float]:
        """The history's d_real, d_fake and Wasserstein estimate from the mean scores of a step."""
        return real_mean, fake_mean, real_mean - fake_mean

    def penalty(self, critic, real: torch.Tensor, fake: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        return gradient_penalty(critic, real, fake, cond)


class NonSaturating(AdversarialLoss):
    """The GAN loss on logits, with the non-saturating generator loss (Goodfellow et al. 2014)."""

    name = "bce"
    probabilities = True

    def critic(self, real_score, fake_score):
        return F.softplus(-real_score).mean() + F.softplus(fake_score).mean()

    def generator(self, fake_score):
        return F.softplus(-fake_score).mean()

    def row_losses(self, score, real):
        return F.softplus(-score if real else score)

    def verdict(self, score):
        return torch.sigmoid(score)

    def figures(self, real_mean, fake_mean):
        # the studies report the discriminator's probabilities; there is no Wasserstein estimate
        import math

        return 1 / (1 + math.exp(-real_mean)), 1 / (1 + math.exp(-fake_mean)), float("nan")


class WassersteinGP(AdversarialLoss):
    """The WGAN critic loss with a gradient penalty (Gulrajani et al. 2017)."""

    name = "wasserstein"
    penalised = True

    def critic(self, real_score, fake_score):
        return fake_score.mean() - real_score.mean()

    def generator(self, fake_score):
        return -fake_score.mean()

    def row_losses(self, score, real):
        return -score if real else score


LOSSES: dict[str, AdversarialLoss] = {cls.name: cls() for cls in (NonSaturating, WassersteinGP)}


def get_loss(name: str) -> AdversarialLoss:
    """The loss registered under ``name`` (``LOSSES``)."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; use one of {', '.join(LOSSES)}") from None


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
    """(||grad D(x_hat)|| - 1)^2 on points between real and fake rows.

    One interpolation weight per pac group; the gradient norm is taken per group (as CTGAN).
    The graph is kept (``create_graph``) so the penalty is added to the critic loss and the
    critic step needs a single backward pass.
    """
    pac = critic.pac
    n = real.shape[0] // pac
    alpha = torch.rand(n, 1, 1, device=real.device, dtype=real.dtype).expand(n, pac, 1)
    alpha = alpha.reshape((-1,) + (1,) * (real.dim() - 1))  # one weight per row or per image
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    score = critic(x_hat, cond)
    (grad,) = torch.autograd.grad(score.sum(), x_hat, create_graph=True)
    norms = grad.reshape(n, -1).norm(2, dim=1)
    return ((norms - 1) ** 2).mean()
