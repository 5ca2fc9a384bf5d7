"""Networks, losses and the registry of models and presets."""

from .registry import MODELS, PRESETS, model_names, preset_names, resolve_config

__all__ = ["MODELS", "PRESETS", "model_names", "preset_names", "resolve_config"]
