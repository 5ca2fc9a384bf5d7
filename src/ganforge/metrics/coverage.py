"""Coverage: does the synthetic table reach every value the real one has? A generator can match every
marginal closely while never producing a rare category (a share of 0.5% lost moves column_shapes by
0.005) or the tails of a numeric column; a detector, a user filtering on that category, and a model
trained on the rows all notice. As SDMetrics' CategoryCoverage and RangeCoverage define them:

- a categorical or ordinal column: the share of the real categories that appear in the synthetic
  column (missing values not counted);
- a numeric, integer or date column: the share of the real range [min, max] that the synthetic
  values span, clipped to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .measure import Measure, Tables

#: a column whose coverage is below this is named in the verdict; the verdict is good when every
#: column reaches it, fair when the mean does
COVERED = 0.9


@dataclass
class CoverageResult:
    #: column -> coverage in [0, 1]
    columns: dict[str, float] = field(default_factory=dict)
    #: categorical columns: the real categories never generated (at most 10 per column)
    missing_categories: dict[str, list] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return float(np.mean(list(self.columns.values()))) if self.columns else float("nan")


def coverage(real: pd.DataFrame, synthetic: pd.DataFrame, schema) -> CoverageResult:
    out = CoverageResult()
    for spec in schema.columns:
        if spec.is_generated or spec.name not in real or spec.name not in synthetic:
            continue
        r, s = real[spec.name].dropna(), synthetic[spec.name].dropna()
        if len(r) == 0:
            continue
        if spec.is_numeric or spec.is_datetime:
            r, s = pd.to_numeric(r, errors="coerce").dropna(), pd.to_numeric(s, errors="coerce").dropna()
            lo, hi = float(r.min()), float(r.max())
            if hi == lo:  # one value: covered if generated
                out.columns[spec.name] = float(bool((s == lo).any()))
                continue
            if len(s) == 0:
                out.columns[spec.name] = 0.0
                continue
            slo, shi = max(float(s.min()), lo), min(float(s.max()), hi)
            out.columns[spec.name] = max(shi - slo, 0.0) / (hi - lo)
        else:
            real_values = pd.unique(r.astype(str))
            seen = set(s.astype(str))
            lost = [v for v in real_values if v not in seen]
            out.columns[spec.name] = 1 - len(lost) / len(real_values)
            if lost:
                out.missing_categories[spec.name] = sorted(lost)[:10]
    return out


def judge(c: CoverageResult) -> tuple[float, bool, str] | None:
    if not c.columns:
        return None
    score = c.score
    worst = min(c.columns, key=c.columns.get)
    low = [k for k, v in c.columns.items() if v < COVERED]
    band = "good" if not low else "fair" if score >= COVERED else "poor"
    text = (f"{band}: the synthetic rows reach {score:.0%} of the real categories and ranges on average"
            + (f"; {len(low)} column(s) below {COVERED:.0%}, the lowest {worst} at {c.columns[worst]:.0%}"
               if low else ""))
    if worst in c.missing_categories:
        text += f" (never generated: {', '.join(map(str, c.missing_categories[worst][:3]))})"
    return score, not low, text


MEASURE = Measure("coverage", lambda t: coverage(t.real, t.synthetic, t.schema), judge)
