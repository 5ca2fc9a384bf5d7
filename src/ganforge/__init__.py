"""ganforge: synthetic tables with GANs, and the evidence that they are good.

>>> from ganforge import Synthesizer
>>> syn = Synthesizer(model="wcgan").fit(df, target="income")
>>> syn.sample(1000, condition={"income": ">50K"}, seed=0)
"""

from .version import __version__

__all__ = ["Synthesizer", "ImageSynthesizer", "evaluate", "Schema", "infer_schema", "GanforgeError", "__version__"]


def __getattr__(name):
    # lazy: `ganforge --help` should not pay for importing torch
    if name == "Synthesizer":
        from .synthesizer import Synthesizer

        return Synthesizer
    if name == "ImageSynthesizer":
        from .images import ImageSynthesizer

        return ImageSynthesizer
    if name == "evaluate":
        from .evaluation import evaluate

        return evaluate
    if name in ("Schema", "infer_schema"):
        from . import schema

        return getattr(schema, name)
    if name == "GanforgeError":
        from .errors import GanforgeError

        return GanforgeError
    raise AttributeError(f"module 'ganforge' has no attribute {name!r}")
