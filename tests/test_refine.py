"""Refinement after training (``refine_candidates``): a classifier of real against generated rows picks
each sampled row among k candidates by its density ratio."""

import pandas as pd
import pytest

from conftest import SMALL, fidelity_ok, four_gaussians
from ganforge import Synthesizer
from ganforge.metrics.detection import detection
from ganforge.schema import infer_schema


@pytest.mark.slow
def test_refinement_moves_an_undertrained_generators_rows_towards_the_real_ones(tmp_path):
    df = four_gaussians(4000)
    schema = infer_schema(df, target="color")
    # refinement alone, on a generator that also ignores its condition (no moment loss, no label classifier)
    kw = dict(steps=400, seed=0, n_critic=2, moment_weight=0.0, classifier_weight=0.0, **SMALL)
    plain = Synthesizer("wcgan", "default", **kw).fit(df, target="color")
    refined = Synthesizer("wcgan", "default", refine_candidates=5, **kw).fit(df, target="color")
    a, b = plain.sample(4000, seed=1), refined.sample(4000, seed=1)
    # the same generator (same seed, same steps); only the choice among candidates differs
    fa, fb = fidelity_ok(df, a)[1], fidelity_ok(df, b)[1]
    assert fb["near_centre"] > fa["near_centre"] + 0.1 and fb["colour_agrees"] > fa["colour_agrees"] + 0.1
    assert detection(df, b, schema).cv_auc < detection(df, a, schema).cv_auc - 0.05
    assert refined.summary()["refine"]["holdout_accuracy"] > 0.6
    # label shares are exact, and the file holds the classifier: the same rows after a round trip
    shares = refined.sample(1000, condition={"color": {"red": 0.3, "blue": 0.7}}, seed=2)["color"].value_counts()
    assert shares.to_dict() == {"blue": 700, "red": 300}
    refined.save(tmp_path / "r.gfm")
    back = Synthesizer.load(tmp_path / "r.gfm")
    pd.testing.assert_frame_equal(back.sample(500, seed=3), refined.sample(500, seed=3))


def test_refinement_is_off_by_default_and_with_differential_privacy():
    from ganforge.config import Config
    from ganforge.training.private import private_config

    assert Config.build("wcgan").training.refine_candidates == 0
    cfg = Config.build("wcgan", refine_candidates=5, dp_epsilon=1.0, numeric_encoding="minmax")
    assert private_config(cfg, public_schema=True, kmeans=False).training.refine_candidates == 0
