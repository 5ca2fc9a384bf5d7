"""How one column is encoded (:class:`ColumnCodec`), the unit a :class:`~ganforge.encoding.table.TableEncoder`
is made of and its JSON state lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..schema import ColumnSpec
from .base import ColumnEncoder, Span

#: the placeholder a bucketed column's rare code stands for (never a decoded value)
RARE = "<ganforge:rare>"


@dataclass
class ColumnCodec:
    """How one column is encoded: its value encoder and, for numeric columns with missing
    values, a present/missing indicator encoder and the fill value."""

    spec: ColumnSpec
    encoder: ColumnEncoder
    indicator: ColumnEncoder | None = None
    fill: float | None = None
    categories: list[Any] = field(default_factory=list)  # codes -> values; None stands for missing
    #: rare bucket of a high-cardinality column: indices into spec.categories that keep a code of
    #: their own (``keep``), those sharing the rare code, and the rare values' counts in the data
    keep: list[int] | None = None
    rare: list[int] | None = None
    rare_counts: list[int] | None = None
    #: subtracted before encoding a number (a date column's first date, in its units)
    offset: float = 0.0

    @property
    def rare_code(self) -> int | None:
        return None if self.keep is None else len(self.keep)

    @property
    def spans(self) -> list[Span]:
        return self.encoder.spans + (self.indicator.spans if self.indicator else [])

    @property
    def width(self) -> int:
        return sum(s.width for s in self.spans)
