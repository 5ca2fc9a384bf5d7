"""Adversarial losses. ``bce``: the non-saturating GAN loss on logits. ``wasserstein``: the
WGAN critic loss with a gradient penalty (Gulrajani et al. 2017)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("bce", "wasserstein")


def discriminator_loss(kind: str, real_score: torch.Tensor, fake_score: torch.Tensor) -> torch.Tensor:
    if kind == "bce":
        return F.softplus(-real_score).mean() + F.softplus(fake_score).mean()
    return fake_score.mean() - real_score.mean()


def generator_loss(kind: str, fake_score: torch.Tensor) -> torch.Tensor:
    if kind == "bce":
        return F.softplus(-fake_score).mean()
    return -fake_score.mean()


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
