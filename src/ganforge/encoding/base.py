"""The contract every column encoder follows, and the registry that rebuilds them from JSON.

An encoder turns one column into a block of float columns and back. It declares the blocks it
produces as :class:`Span` objects (width + output activation): the generator's output head reads
them to apply tanh, sigmoid, softmax or Gumbel-softmax to the right slice. All learned state is
plain JSON (lists of floats), so a saved model holds no pickled objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

ACTIVATIONS = ("tanh", "sigmoid", "linear", "softmax", "gumbel")
#: activations whose span is one categorical choice (decoded by argmax)
CHOICE_ACTIVATIONS = ("softmax", "gumbel")


@dataclass(frozen=True)
class Span:
    width: int
    activation: str
    tau: float = 0.2  # Gumbel-softmax temperature; ignored by other activations
    #: a choice span whose value follows another span's (``ganforge.encoding.links``): for each link,
    #: (the leader span's first column, its width, the leader's slot, this span's slot, both ways)
    links: tuple = ()
    #: a joint's span (``ganforge.encoding.joints``): for each joined column, its number of codes and each
    #: combination's code in it, so that a loss on the encoded row can see each column's shares too
    parts: tuple = ()
    #: a choice span whose values another span's allows (``ganforge.encoding.supports``): (the leader span's
    #: first column, its width, for each of the leader's codes this span's codes allowed with it)
    support: tuple = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ENCODERS: dict[str, type["ColumnEncoder"]] = {}


def register(cls: type["ColumnEncoder"]) -> type["ColumnEncoder"]:
    ENCODERS[cls.kind] = cls
    return cls


class ColumnEncoder:
    """Base class: ``fit`` learns from a 1-D array, ``transform`` returns an (n, width) matrix."""

    kind: ClassVar[str] = ""
    #: names of constructor parameters (stored with the state)
    params: ClassVar[tuple[str, ...]] = ()

    @property
    def spans(self) -> list[Span]:
        raise NotImplementedError

    @property
    def width(self) -> int:
        return sum(s.width for s in self.spans)

    def fit(self, values: np.ndarray) -> "ColumnEncoder":
        raise NotImplementedError

    def transform(self, values: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        raise NotImplementedError

    def inverse_transform(self, block: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # --- JSON state ---------------------------------------------------------------------
    def _learned(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def get_state(self) -> dict[str, Any]:
        learned = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self._learned().items()}
        return {"kind": self.kind, "params": {p: getattr(self, p) for p in self.params}, "learned": learned}

    @staticmethod
    def from_state(state: dict[str, Any]) -> "ColumnEncoder":
        cls = ENCODERS[state["kind"]]
        enc = cls(**state["params"])
        for k, v in state["learned"].items():
            setattr(enc, k, np.asarray(v, dtype=float) if isinstance(v, list) else v)
        return enc
