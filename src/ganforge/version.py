"""The release of ganforge (model files record it)."""

__version__ = "0.8.0"
