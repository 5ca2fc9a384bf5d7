"""Images: the image facade (``ImageSynthesizer``), its networks and the image VAE family."""

from .synthesizer import ImageSynthesizer

__all__ = ["ImageSynthesizer"]
