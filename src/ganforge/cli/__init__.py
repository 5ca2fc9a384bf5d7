"""The ``ganforge`` command line: a thin layer over the library's public API."""

from . import experiments, images, tables  # noqa: F401  (each registers its commands)
from .app import app, main

__all__ = ["app", "main"]
