"""The measures that ``evaluate`` runs through the seam of ``ganforge.metrics.measure``: one entry each.
A new measure is its metric module (the function, its judgement and its ``Measure``) and one line
here; its data appears in the JSON under ``measures`` and its verdict in the summary."""

from __future__ import annotations

from ..metrics import coverage
from ..metrics.measure import Measure

MEASURES: tuple[Measure, ...] = (
    coverage.MEASURE,
)
