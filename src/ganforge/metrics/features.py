"""Turning tables into model-ready matrices, one way for every metric."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import Schema


def codes_matrix(frames: list[pd.DataFrame], schema: Schema, columns: list[str] | None = None) -> list[np.ndarray]:
    """Numeric values as floats (NaN kept, for tree models) and categories as shared integer codes."""
    cols = columns or schema.names
    out = [np.empty((len(f), len(cols)), dtype=np.float32) for f in frames]
    for j, name in enumerate(cols):
        spec = schema[name]
        if spec.is_numeric:
            for m, f in zip(out, frames):
                m[:, j] = pd.to_numeric(f[name], errors="coerce").to_numpy(float)
        else:
            allv = pd.concat([f[name].astype(object) for f in frames], ignore_index=True)
            codes, _ = pd.factorize(allv.where(allv.notna(), "<missing>"))
            start = 0
            for m, f in zip(out, frames):
                m[:, j] = codes[start:start + len(f)]
                start += len(f)
    return out


def scaled_onehot(frames: list[pd.DataFrame], schema: Schema, reference: pd.DataFrame,
                  columns: list[str] | None = None) -> list[np.ndarray]:
    """Numerics min-max scaled by the reference's range (missing -> -1, as its own value) and
    categories one-hot over the reference's values: the space distances are measured in."""
    cols = columns or schema.names
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    for name in cols:
        spec = schema[name]
        if spec.is_numeric:
            ref = pd.to_numeric(reference[name], errors="coerce")
            lo, hi = float(ref.min()), float(ref.max())
            span = (hi - lo) or 1.0
            for b, f in zip(blocks, frames):
                v = (pd.to_numeric(f[name], errors="coerce").to_numpy(float) - lo) / span
                b.append(np.where(np.isnan(v), -1.0, v)[:, None])
        else:
            cats = pd.Index(reference[name].astype(object).where(reference[name].notna(), "<missing>").unique())
            for b, f in zip(blocks, frames):
                codes = cats.get_indexer(f[name].astype(object).where(f[name].notna(), "<missing>"))
                oh = np.zeros((len(f), len(cats)), dtype=np.float64)
                ok = codes >= 0
                oh[np.flatnonzero(ok), codes[ok]] = 1.0
                b.append(oh)
    return [np.concatenate(b, axis=1) if b else np.zeros((len(f), 0)) for b, f in zip(blocks, frames)]
