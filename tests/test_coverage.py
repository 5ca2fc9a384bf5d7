"""Coverage (metrics/coverage.py), and the measure seam it comes through (metrics/measure.py,
evaluation/measures.py): a measure declared in its module reaches the summary and the JSON."""

import numpy as np
import pandas as pd
import pytest

from ganforge import evaluate
from ganforge.evaluation.measures import MEASURES
from ganforge.metrics.coverage import coverage, judge
from ganforge.schema import infer_schema


def table(n, rng, rare=True):
    colour = rng.choice(["red", "green", "blue"], n, p=[0.6, 0.35, 0.05])
    if not rare:
        colour = np.where(colour == "blue", "red", colour)
    return pd.DataFrame({"x": rng.normal(0, 1, n), "colour": colour,
                         "label": rng.choice(["a", "b"], n)})


def test_coverage_counts_categories_and_the_range_reached():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"x": np.linspace(0, 10, 101), "c": list("abcde") * 20 + ["f"]})
    schema = infer_schema(real)
    syn = pd.DataFrame({"x": np.linspace(2.5, 20, 50), "c": list("abcd") * 12 + ["a", "zz"]})
    got = coverage(real, syn, schema)
    assert got.columns["x"] == pytest.approx(0.75)  # 2.5..10 of 0..10; beyond the real max is clipped
    assert got.columns["c"] == pytest.approx(4 / 6)  # e and f never generated; the invented zz does not count
    assert got.missing_categories["c"] == ["e", "f"]
    value, good, text = judge(got)
    assert value == pytest.approx((0.75 + 4 / 6) / 2) and not good and text.startswith("poor")
    same = coverage(real, real.sample(frac=1, random_state=1), schema)
    assert same.score == 1.0 and judge(same)[1]
    del rng


def test_a_lost_rare_category_is_in_the_summary_and_the_json_through_the_seam():
    rng = np.random.default_rng(1)
    real, lost = table(1500, rng), table(1500, rng, rare=False)
    assert "coverage" in [m.name for m in MEASURES]
    r = evaluate(real, lost, target="label", tsne=False, utility_classifiers=("logistic_regression",))
    v = {v.name: v for v in r.verdicts()}["coverage"]
    assert not v.good and "colour" in v.verdict and "blue" in v.verdict
    assert r.to_dict()["measures"]["coverage"]["missing_categories"] == {"colour": ["blue"]}
    kept = evaluate(real, table(1500, np.random.default_rng(2)), target="label", tsne=False,
                    utility_classifiers=("logistic_regression",))
    assert {v.name: v for v in kept.verdicts()}["coverage"].good
