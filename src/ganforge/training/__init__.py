"""The training loop and what it drives: batch sources, the quality monitor, differential privacy,
the collectives of a process group, and the CPU kernels' settings. Nothing here knows columns."""

from .family import Family
from .trainer import Callback, Every, ProgressBar, ProgressLine, Trainer

__all__ = ["Callback", "Every", "Family", "ProgressBar", "ProgressLine", "Trainer"]
