"""Networks, losses, model families and the registry of models and presets."""

from .registry import MODELS, PRESETS, model_names, preset_names

__all__ = ["MODELS", "PRESETS", "model_names", "preset_names"]
