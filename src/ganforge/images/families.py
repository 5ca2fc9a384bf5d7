"""The image VAE as a model family: one trainer step is one batch of an epoch's permutation."""

from __future__ import annotations

import math

import torch

from ..training.family import Family


class ImageVAEFamily(Family):
    """A VAE on images scaled to [0, 1], trained epoch by epoch (``epochs`` passes over the images
    in a new random order each, ``batch_size`` images a step) with Adam."""

    figures = ("vae_loss",)
    watched = ("vae_loss",)

    def __init__(self, vae: torch.nn.Module, images01: torch.Tensor, batch_size: int, lr: float,
                 generator: torch.Generator):
        self.vae, self.X, self.batch_size, self.g = vae, images01, batch_size, generator
        self.opt = torch.optim.Adam(vae.parameters(), lr=lr)
        self.steps_per_epoch = math.ceil(len(images01) / batch_size)
        self._perm = None

    def steps(self, epochs: int) -> int:
        return epochs * self.steps_per_epoch

    def modules(self) -> dict[str, torch.nn.Module]:
        return {"vae": self.vae}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"opt": self.opt}

    @property
    def sampling_module(self) -> torch.nn.Module:
        return self.vae

    def train_step(self, step: int) -> torch.Tensor:
        i = step % self.steps_per_epoch
        if i == 0:
            self._perm = torch.randperm(len(self.X), device=self.X.device, generator=self.g)
        xb = self.X[self._perm[i * self.batch_size:(i + 1) * self.batch_size]]
        loss = self.vae.loss(xb, self.g)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss.detach().reshape(1)
