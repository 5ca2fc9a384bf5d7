"""Model files written by earlier releases still load and give the same rows.

``golden/model-0.1.0.gfm`` was written by ganforge 0.1.0 as it stood before the typed configuration
and the model families (commit 5a2bea5): a conditional wcgan with the ``default`` preset, a derived
column, missing values in a numeric and a categorical column; ``golden/model-0.1.0-sample.csv`` holds
the rows that release sampled from it (5 rows, label yes, seed 3).
"""

from pathlib import Path

import numpy as np
import pandas as pd

from ganforge import Synthesizer

GOLDEN = Path(__file__).parent / "golden"


def test_a_model_file_of_release_0_1_0_loads_and_samples_the_same_rows():
    syn = Synthesizer.load(GOLDEN / "model-0.1.0.gfm", device="cpu")
    assert syn.config.family == "adversarial" and syn.config.loss == "wasserstein"
    assert syn.config.encoding.derive_columns and syn.summary()["derived_columns"] == {"grade_num": "grade"}
    assert syn.condition_["column"] == "label"
    got = syn.sample(5, seed=3, condition={"label": "yes"})
    want = pd.read_csv(GOLDEN / "model-0.1.0-sample.csv")
    assert list(got.columns) == list(want.columns)
    np.testing.assert_allclose(got["x"].to_numpy(float), want["x"].to_numpy(float), rtol=1e-5)
    np.testing.assert_array_equal(got["hours"].astype("Float64").to_numpy(float, na_value=np.nan),
                                  want["hours"].to_numpy(float))
    for c in ("city", "grade", "grade_num", "label"):
        assert [None if pd.isna(v) else str(v) for v in got[c]] == [None if pd.isna(v) else str(v) for v in want[c]], c
