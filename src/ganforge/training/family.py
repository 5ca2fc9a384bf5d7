"""What a model family is to the trainer: networks, optimisers, and one training step.

The trainer (``ganforge.training.trainer``) runs the loop, the history, callbacks, deadlines,
checkpoints and the process group; a family owns everything that differs between kinds of model:
which networks exist, how one step updates them, what figures a step reports, which weights are
sampled. The adversarial family (``ganforge.models.families.adversarial``) trains the four GANs,
tables and images alike; a family with a different step (the latent GAN on a VAE, the image VAE) is
another subclass, and registering it is one entry in ``ganforge.models.families.FAMILIES``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ..errors import TrainingError


class Family:
    #: names of the figures ``train_step`` returns, in order: the history's columns after "step"
    figures: tuple[str, ...] = ()
    #: figures that must be finite (a non-finite one stops training with a TrainingError)
    watched: tuple[str, ...] = ()
    #: "float32" or "bfloat16": the arithmetic of the training step
    precision: str = "float32"

    # --- what the trainer drives ---------------------------------------------------------------
    def modules(self) -> dict[str, torch.nn.Module]:
        """Every network the family trains or keeps, by name (the checkpoint's prefixes)."""
        raise NotImplementedError

    def saved_modules(self) -> dict[str, torch.nn.Module]:
        """The networks a model file holds (training aids such as optimisers' companions left out)."""
        return self.modules()

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def begin(self, step: int) -> None:
        """Before the loop (``step`` > 0 when a checkpoint resumed the run)."""

    def train_step(self, step: int) -> torch.Tensor:
        """One update; returns the step's figures as a 1-D tensor (left on the device)."""
        raise NotImplementedError

    def end(self) -> None:
        """After the loop."""

    def train(self, mode: bool = True) -> None:
        for m in self.modules().values():
            m.train(mode)

    def matmul_shapes(self) -> list:
        """The matrix products of a step (``ganforge.training.kernels``' probe); none by default."""
        return []

    def record(self, step: int, values: list[float]) -> dict[str, float]:
        """A history row from a step's figures; raises when a watched figure is not finite."""
        rec = dict(zip(self.figures, values))
        for name in self.watched:
            if not math.isfinite(rec[name]):
                raise TrainingError(
                    f"training diverged at step {step}: the {name.replace('_', ' ')} is {rec[name]}; lower the "
                    f"learning rates (`lr`), use a Wasserstein model (wgan/wcgan), or check the data for extreme "
                    f"values")
        return {"step": step, **rec}

    # --- the weights that count --------------------------------------------------------------------
    @property
    def sampling_module(self) -> torch.nn.Module:
        """The network whose rows count (a monitor scores it and keeps its best weights)."""
        raise NotImplementedError

    def keep(self, state: dict[str, torch.Tensor]) -> None:
        """Load ``state`` (weights of ``sampling_module``) as the family's result."""
        self.sampling_module.load_state_dict(state)

    # --- checkpoints -------------------------------------------------------------------------------
    def extra_state(self) -> dict[str, torch.Tensor]:
        """Tensors beside the networks and optimisers that a resumed run needs."""
        return {}

    def load_extra_state(self, tensors: dict[str, torch.Tensor]) -> None:
        pass

    def check_resumable(self, prefixes: set[str]) -> None:
        """Raise when a checkpoint lacks a network this run has (it was written with other options)."""
        missing = [name for name in self.modules() if name not in prefixes]
        if missing:
            raise TrainingError(f"the checkpoint holds no {missing[0]} network (it was written with other options, "
                                f"or by another ganforge): resume with the options it was written with, or drop "
                                f"`resume`")

    def describe(self) -> dict[str, Any]:
        """What a checkpoint records of the family's settings (informational)."""
        return {}
