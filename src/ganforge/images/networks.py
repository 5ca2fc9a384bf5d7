"""Convolutional networks for images: a DCGAN-style generator and critic that can also grow
progressively (base -> 2x -> 4x resolution with fade-in), and a VAE with a small latent space.

Images are tensors (batch, channels, height, width) scaled to [-1, 1]; height and width must be
multiples of 4 (two doublings from the base resolution: 7 -> 14 -> 28 for MNIST, 2 -> 4 -> 8
for scikit-learn's 8x8 digits). Conditions are one-hot label vectors, as for tables, so the one
trainer drives both: the generator takes the label next to the noise, the critic uses a
projection (Miyato & Koyama 2018: the score gets the inner product of a label embedding with the
critic's features), which costs one small matmul instead of extra input channels.

A network has ``level`` (0 = base resolution ... ``levels - 1`` = full) and ``alpha`` (the fade-in
weight of the newest level). A plain, non-progressive model is one that stays at the last level
with alpha 1.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

LEVELS = 3


def _channels(spec: Sequence[int]) -> list[int]:
    ch = [int(c) for c in spec]
    if len(ch) != LEVELS or min(ch) < 1:
        raise ValueError(f"channel lists need {LEVELS} positive widths (base, 2x, 4x resolution), got {spec}")
    return ch


class ImageGenerator(nn.Module):
    """noise (+ one-hot label) -> linear -> base map -> two transposed-conv doublings -> tanh."""

    def __init__(self, latent_dim: int, cond_dim: int, shape: tuple[int, int, int], channels: Sequence[int]):
        super().__init__()
        c, h, w = shape
        self.latent_dim, self.cond_dim, self.shape = latent_dim, cond_dim, tuple(shape)
        ch = _channels(channels)
        self.base = (h // 4, w // 4)
        self.fc = nn.Sequential(nn.Linear(latent_dim + cond_dim, ch[0] * self.base[0] * self.base[1], bias=False),
                                nn.BatchNorm1d(ch[0] * self.base[0] * self.base[1]), nn.ReLU())
        self.ch0 = ch[0]
        self.ups = nn.ModuleList(
            nn.Sequential(nn.ConvTranspose2d(ch[i], ch[i + 1], 4, stride=2, padding=1, bias=False),
                          nn.BatchNorm2d(ch[i + 1]), nn.ReLU())
            for i in range(LEVELS - 1))
        self.to_img = nn.ModuleList(nn.Conv2d(ch[i], c, 3, padding=1) for i in range(LEVELS))
        self.level, self.alpha = LEVELS - 1, 1.0

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        x = z if cond is None else torch.cat([z, cond], dim=1)
        hmap = self.fc(x).reshape(len(z), self.ch0, *self.base)
        prev = None
        for i in range(self.level):
            prev = hmap
            hmap = self.ups[i](hmap)
        out = self.to_img[self.level](hmap)
        if self.level > 0 and self.alpha < 1.0:
            skip = F.interpolate(self.to_img[self.level - 1](prev), scale_factor=2, mode="nearest")
            out = self.alpha * out + (1.0 - self.alpha) * skip
        return torch.tanh(out)


class ImageCritic(nn.Module):
    """image -> 1x1 conv -> strided 3x3 convs down to the base map -> linear score
    (+ projection of the label embedding onto the features). No batch norm: the gradient
    penalty is taken per image."""

    pac = 1

    def __init__(self, cond_dim: int, shape: tuple[int, int, int], channels: Sequence[int]):
        super().__init__()
        c, h, w = shape
        ch = _channels(channels)  # widths at base, 2x, 4x resolution
        self.from_img = nn.ModuleList(nn.Sequential(nn.Conv2d(c, ch[i], 1), nn.LeakyReLU(0.2))
                                      for i in range(LEVELS))
        # downs[i] takes level i+1 (ch[i+1] channels) to level i (ch[i] channels)
        self.downs = nn.ModuleList(nn.Sequential(nn.Conv2d(ch[i + 1], ch[i], 3, stride=2, padding=1),
                                                 nn.LeakyReLU(0.2))
                                   for i in range(LEVELS - 1))
        feat = ch[0] * (h // 4) * (w // 4)
        self.out = nn.Linear(feat, 1)
        self.embed = nn.Linear(cond_dim, feat, bias=False) if cond_dim else None
        self.level, self.alpha = LEVELS - 1, 1.0

    def features(self, x: torch.Tensor) -> torch.Tensor:
        hmap = self.from_img[self.level](x)
        if self.level > 0:
            hmap = self.downs[self.level - 1](hmap)
            if self.alpha < 1.0:
                skip = self.from_img[self.level - 1](F.avg_pool2d(x, 2))
                hmap = self.alpha * hmap + (1.0 - self.alpha) * skip
            for i in range(self.level - 2, -1, -1):
                hmap = self.downs[i](hmap)
        return hmap.flatten(1)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        f = self.features(x)
        score = self.out(f).reshape(-1)
        if self.embed is not None and cond is not None:
            score = score + (self.embed(cond) * f).sum(dim=1)
        return score


def set_level(level: int, alpha: float, *modules: nn.Module) -> None:
    for m in modules:
        m.level, m.alpha = int(level), float(alpha)


def resize_to_level(x: torch.Tensor, level: int, alpha: float) -> torch.Tensor:
    """Real images at the resolution of ``level``; while that level fades in, blended with the
    coarser version (as the generator's output is), so the critic cannot tell them apart by
    sharpness alone."""
    factor = 2 ** (LEVELS - 1 - level)
    if factor > 1:
        x = F.avg_pool2d(x, factor)
    if level > 0 and alpha < 1.0:
        coarse = F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
        x = alpha * x + (1.0 - alpha) * coarse
    return x


def progressive_schedule(step: int, total: int, fractions: Sequence[float]) -> tuple[int, float]:
    """(level, alpha) for generator step ``step`` (0-based) of ``total``: each level after the
    first fades in over the first half of its share of the steps."""
    fr = [float(f) for f in fractions]
    bounds, acc = [], 0.0
    for f in fr:
        acc += f / sum(fr)
        bounds.append(acc * total)
    start = 0.0
    for level, end in enumerate(bounds):
        if step < end or level == len(bounds) - 1:
            if level == 0:
                return 0, 1.0
            fade = max((end - start) / 2.0, 1.0)
            return level, float(min(1.0, (step - start + 1) / fade))
        start = end
    return len(bounds) - 1, 1.0


class VAE(nn.Module):
    """Convolutional VAE on images scaled to [0, 1]; the latent space is small (2-D by default) so
    that a dataset can be pictured as a scatter of its latent means."""

    def __init__(self, shape: tuple[int, int, int], latent: int = 2, channels: Sequence[int] = (64, 32, 16)):
        super().__init__()
        c, h, w = shape
        ch = _channels(channels)
        self.shape, self.latent_dim = tuple(shape), latent
        self.base = (h // 4, w // 4)
        feat = ch[0] * self.base[0] * self.base[1]
        self.enc = nn.Sequential(nn.Conv2d(c, ch[1], 3, stride=2, padding=1), nn.ReLU(),
                                 nn.Conv2d(ch[1], ch[0], 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                                 nn.Linear(feat, 128), nn.ReLU())
        self.mu, self.logvar = nn.Linear(128, latent), nn.Linear(128, latent)
        self.ch0 = ch[0]
        self.dec_fc = nn.Sequential(nn.Linear(latent, 128), nn.ReLU(), nn.Linear(128, feat), nn.ReLU())
        self.dec = nn.Sequential(nn.ConvTranspose2d(ch[0], ch[1], 4, stride=2, padding=1), nn.ReLU(),
                                 nn.ConvTranspose2d(ch[1], c, 4, stride=2, padding=1))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hid = self.enc(x)
        return self.mu(hid), self.logvar(hid).clamp(-10, 10)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec(self.dec_fc(z).reshape(len(z), self.ch0, *self.base))

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Negative ELBO per image: Bernoulli reconstruction (pixels in [0, 1]) + KL to N(0, I)."""
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, device=mu.device, dtype=mu.dtype, generator=generator)
        z = mu + eps * torch.exp(0.5 * logvar)
        rec = F.binary_cross_entropy_with_logits(self.decode_logits(z), x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (rec + kl) / len(x)
