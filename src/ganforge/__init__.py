"""ganforge: synthetic data with GANs, and the evidence that it is good."""
__version__ = "0.1.0"
