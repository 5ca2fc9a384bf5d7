"""Model families: each is one class that owns its networks and its training step
(``ganforge.training.family.Family``). Registering a family is one entry in ``FAMILIES``; a model
in ``ganforge.models.registry.MODELS`` names its family."""

from __future__ import annotations

from .adversarial import AdversarialFamily
from .latent import LatentFamily

#: a table family has ``for_table(config, spans, width, n_labels, device=..., dist=..., training=...,
#: private=..., n_rows=...)`` and ``steps(config, n_rows)``, beside the trainer's protocol
FAMILIES = {
    "adversarial": AdversarialFamily,
    "latent": LatentFamily,
}

__all__ = ["FAMILIES", "AdversarialFamily", "LatentFamily"]
