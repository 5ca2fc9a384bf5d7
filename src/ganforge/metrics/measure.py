"""The seam for a measure: what a metric module declares so that ``evaluate`` runs it, writes it to the
JSON and judges it in the summary, without a change to the evaluation package beyond one entry in
``ganforge.evaluation.measures.MEASURES``.

A measure is a function of :class:`Tables` returning plain data (a dataclass or a dict of numbers,
strings and lists), and optionally a judgement of that data: ``(value, good, sentence)``, or None
where it has nothing to judge. The sentence starts with its band ("good: ", "fair: ", "poor: "), as
every verdict of the summary does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import pandas as pd

from ..schema import Schema


@dataclass(frozen=True)
class Tables:
    """What a measure may read: the real rows (``real``: all of them; ``train`` and ``test``: the split
    the other measures use), the synthetic rows, the shared schema, the target (or None) and the seed.
    Dates are numbers here and generated columns (keys, personal data, text) are left out."""
    real: pd.DataFrame
    synthetic: pd.DataFrame
    train: pd.DataFrame
    test: pd.DataFrame
    schema: Schema
    target: str | None
    seed: int


@dataclass(frozen=True)
class Measure:
    """``name``: its key in the JSON's ``measures`` and in the summary. ``compute(tables)`` -> plain
    data, or None where the table has nothing to measure. ``judge(data)`` -> ``(value, good, sentence)``
    or None. ``needs_target``: skipped without a target."""
    name: str
    compute: Callable[[Tables], Any]
    judge: Callable[[Any], tuple[float, bool, str] | None] | None = None
    needs_target: bool = False
