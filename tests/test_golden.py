"""Golden rows: the same seed, preset and data give the same generated rows, release after release.

A restructuring of the code must not change what a seed produces. These tests train ``default`` and
``ctgan-like`` (and a plain GAN, a kmeans-conditioned WGAN) for a few hundred steps on a fixed mixed
table and compare a few generated rows, exactly, with rows pinned in ``tests/golden/``.

Floating-point results depend on the CPU's instruction set (which kernels PyTorch picks) and on
PyTorch's version, so the pinned rows record both; on another machine the comparison is skipped with
the reason (regenerate there with ``GANFORGE_WRITE_GOLDEN=1 pytest tests/test_golden.py``, and only
for a change that is meant to change the rows).
"""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ganforge import Synthesizer

pytestmark = pytest.mark.slow  # trains models: minutes (CI runs every test)

GOLDEN = Path(__file__).parent / "golden"

CASES = {
    # name: (model, preset, overrides, fit keyword arguments, sample keyword arguments)
    "default": ("wcgan", "default", {"steps": 300}, {"target": "label"}, {}),
    # the default before 0.3 (no moment loss, mode-specific numerics), before 0.4 (mode-specific
    # numerics) and before 0.5 (no label classifier): their rows as pinned then
    "default-0.2": ("wcgan", "default", {"steps": 300, "moment_weight": 0.0, "numeric_encoding": "mode_specific",
                                         "classifier_weight": 0.0}, {"target": "label"}, {}),
    "default-0.3": ("wcgan", "default", {"steps": 300, "numeric_encoding": "mode_specific", "classifier_weight": 0.0},
                    {"target": "label"}, {}),
    "default-0.4": ("wcgan", "default", {"steps": 300, "classifier_weight": 0.0}, {"target": "label"}, {}),
    "ctgan-like": ("wcgan", "ctgan-like", {"steps": 300}, {"target": "label"}, {}),
    "default-condition": ("wcgan", "default", {"steps": 300}, {"target": "label"},
                          {"condition": {"label": {"yes": 0.5, "no": 0.5}}}),
    "gan-minmax": ("gan", "default", {"steps": 300, "numeric_encoding": "minmax", "ema_decay": 0.0},
                   {}, {}),
    "kmeans": ("wcgan", "ctgan-like", {"steps": 200}, {"condition_on": "kmeans:3"}, {}),
}


def golden_table(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    """Numeric, integer with gaps, categorical with gaps, a derived column and a label."""
    rng = np.random.default_rng(seed)
    lab = rng.integers(0, 3, n)
    centers = np.array([[-2.0, 1.0], [1.0, 2.5], [2.5, -1.5]])
    xy = centers[lab] + rng.normal(0, 0.6, (n, 2))
    grade = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])
    df = pd.DataFrame({
        "x": xy[:, 0], "y": xy[:, 1],
        "hours": np.where(rng.random(n) < 0.3, 40, rng.integers(10, 70, n)).astype(float),
        "city": rng.choice(["paris", "lyon", "nice", "lille"], n).astype(object),
        "grade": grade, "grade_num": pd.Series(grade).map({"a": 1, "b": 2, "c": 3, "d": 4}).to_numpy(),
        "label": np.where(lab == 0, "yes", "no"),
    })
    df.loc[rng.random(n) < 0.1, "hours"] = np.nan
    df.loc[rng.random(n) < 0.05, "city"] = None
    return df


def machine() -> dict:
    from ganforge.training.kernels import cpu_has_bf16, onednn_is_exact

    return {"torch": torch.__version__, "cpu": torch.backends.cpu.get_cpu_capability(),
            "bf16": cpu_has_bf16(), "onednn": onednn_is_exact(), "threads": torch.get_num_threads()}


@functools.lru_cache(maxsize=None)
def fitted(model: str, preset: str, over: str, fit_kw: str) -> Synthesizer:
    """One fit per model, preset and options (two cases sample the same model)."""
    return Synthesizer(model, preset, seed=0, device="cpu", **json.loads(over)).fit(golden_table(),
                                                                                   **json.loads(fit_kw))


def rows(case: str) -> pd.DataFrame:
    model, preset, over, fit_kw, sample_kw = CASES[case]
    syn = fitted(model, preset, json.dumps(over, sort_keys=True), json.dumps(fit_kw, sort_keys=True))
    return syn.sample(8, seed=1, **sample_kw)


def as_json(df: pd.DataFrame) -> list[dict]:
    out = []
    for rec in df.astype(object).to_dict(orient="records"):
        out.append({k: (None if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA
                        else float(v) if isinstance(v, (float, np.floating)) else
                        int(v) if isinstance(v, (int, np.integer)) else str(v)) for k, v in rec.items()})
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_generated_rows_match_the_pinned_rows(case):
    path = GOLDEN / f"{case}.json"
    got = {"machine": machine(), "dtypes": {}, "rows": []}
    if os.environ.get("GANFORGE_WRITE_GOLDEN") == "1":
        df = rows(case)
        got["dtypes"] = {c: str(t) for c, t in df.dtypes.items()}
        got["rows"] = as_json(df)
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(got, indent=1) + "\n")
        pytest.skip(f"wrote {path}")
    pinned = json.loads(path.read_text())
    if pinned["machine"] != got["machine"]:
        pytest.skip(f"rows pinned on {pinned['machine']}, this machine is {got['machine']}")
    df = rows(case)
    assert {c: str(t) for c, t in df.dtypes.items()} == pinned["dtypes"]
    assert as_json(df) == pinned["rows"]
