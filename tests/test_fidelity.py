import numpy as np
import pandas as pd
import pytest

from ganforge.metrics.fidelity import correlation_ratio, cramers_v, fidelity
from ganforge.schema import infer_schema


def table(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1, n)
    grp = np.where(a + rng.normal(0, 0.5, n) > 0, "hi", "lo")
    return pd.DataFrame({"a": a, "b": 2 * a + rng.normal(0, 1, n), "grp": grp,
                         "kind": np.where(grp == "hi", rng.choice(["x", "y"], n, p=[0.8, 0.2]),
                                          rng.choice(["x", "y"], n, p=[0.2, 0.8]))})


def test_same_distribution_scores_near_one():
    real, fresh = table(seed=0), table(seed=1)
    f = fidelity(real, fresh, infer_schema(real))
    assert f.column_shapes > 0.96 and f.pair_trends > 0.97
    assert fidelity(real, real, infer_schema(real)).column_shapes == pytest.approx(1.0)


def test_shuffling_a_column_lowers_only_its_pairs():
    real = table()
    shuffled = real.copy()
    shuffled["b"] = np.random.default_rng(0).permutation(shuffled["b"].to_numpy())
    f = fidelity(real, shuffled, infer_schema(real))
    assert f.column_shapes == pytest.approx(1.0)  # marginals untouched
    pairs = f.pair_scores()
    with_b = pairs[(pairs.column_a == "b") | (pairs.column_b == "b")]
    without_b = pairs[(pairs.column_a != "b") & (pairs.column_b != "b")]
    assert with_b.score.max() < 0.9 and without_b.score.min() == pytest.approx(1.0)
    assert f.pair_trends < fidelity(real, real, infer_schema(real)).pair_trends - 0.1


def test_shifted_marginal_lowers_column_shapes():
    real = table()
    shifted = real.assign(a=real["a"] + 1.0)
    f = fidelity(real, shifted, infer_schema(real))
    ks = {c.column: c.value for c in f.columns}
    assert ks["a"] > 0.3 and ks["b"] == 0.0


def test_association_measures():
    codes = np.repeat([0, 1], 500)
    assert cramers_v(codes, codes) == pytest.approx(1.0)
    assert cramers_v(codes, np.tile([0, 1], 500)) == pytest.approx(0.0, abs=1e-9)
    assert correlation_ratio(codes, codes.astype(float)) == pytest.approx(1.0)
    assert correlation_ratio(codes, np.tile([0.0, 1.0], 500)) == pytest.approx(0.0, abs=1e-9)


def test_sdmetrics_pair_trends_formula_by_hand():
    from ganforge.metrics.fidelity import sdmetrics_pair_trends

    real = pd.DataFrame({"c": ["a", "a", "b", "b"], "d": ["x", "y", "x", "y"]})
    synth = pd.DataFrame({"c": ["a", "a", "a", "b"], "d": ["x", "x", "y", "y"]})
    # joint real: ax .25 ay .25 bx .25 by .25; synthetic: ax .5 ay .25 by .25 -> TVD 0.25
    assert sdmetrics_pair_trends(real, synth, infer_schema(real, categorical_threshold=1)) == pytest.approx(0.75)
    real = table()
    assert sdmetrics_pair_trends(real, real, infer_schema(real)) == pytest.approx(1.0)
    shuffled = real.assign(b=np.random.default_rng(0).permutation(real["b"].to_numpy()))
    assert sdmetrics_pair_trends(real, shuffled, infer_schema(real)) < 0.9


def test_label_trends_are_the_pair_trends_of_the_targets_pairs_and_name_the_furthest(tmp_path):
    """A synthetic table whose label decides another column outright (real: 80/20 either way): the
    label's pairs score by hand, and the verdict says which pair is exaggerated."""
    import json

    from ganforge import evaluate
    from ganforge.report import write_report

    real = table()
    sharp = table(seed=1)
    sharp["kind"] = np.where(sharp["grp"] == "hi", "x", "y")
    schema = infer_schema(real, target="grp")
    f = fidelity(real, sharp, schema)
    lt = f.label_trends("grp")
    d = f.association_difference["grp"].drop("grp")
    assert lt["score"] == pytest.approx(1 - d.mean() / 2)
    assert lt["worst_column"] == "kind" and lt["worst_synthetic"] == pytest.approx(1.0)
    assert 0.5 < lt["worst_real"] < 0.7
    assert f.label_trends(None) is None and fidelity(real, table(seed=1), schema).label_trends("grp")["score"] > 0.97

    r = evaluate(real, sharp, target="grp", tsne=False, utility_classifiers=("logistic_regression",))
    v = next(v for v in r.verdicts() if v.name == "label_trends")
    assert v.value == pytest.approx(lt["score"]) and "with kind, is exaggerated" in v.verdict
    write_report(r, tmp_path / "r.html", tmp_path / "r.json")
    assert "label_trends = pair_trends over the pairs of" in (tmp_path / "r.html").read_text()
    got = json.loads((tmp_path / "r.json").read_text())["fidelity"]["label_trends"]
    assert got["worst_column"] == "kind" and got["score"] == pytest.approx(lt["score"])
    # without a target there is no label to speak of
    assert "label_trends" not in [v.name for v in evaluate(real, sharp, tsne=False).verdicts()]


def test_label_trends_are_judged_against_the_same_table_with_its_label_shuffled(tmp_path):
    """A label's pairs score high even when the label carries no information, the more so the
    weaker its associations: the verdict measures the way from that label-free score towards 1."""
    from ganforge.evaluation import label_trends_verdict

    real, fresh = table(seed=0), table(seed=1)
    schema = infer_schema(real, target="grp")
    lost = fresh.assign(grp=np.random.default_rng(2).permutation(fresh["grp"].to_numpy()))
    kept = fidelity(real, fresh, schema).label_trends("grp")
    gone = fidelity(real, lost, schema).label_trends("grp")
    # the label-free reference is the synthetic table's own label shuffled: for the shuffled table
    # it is its score, for the faithful one far below its score
    assert gone["label_free_score"] == pytest.approx(gone["score"], abs=0.01)
    assert kept["label_free_score"] == pytest.approx(gone["score"], abs=0.01) and kept["score"] > 0.97
    good, poor = label_trends_verdict(kept, "grp"), label_trends_verdict(gone, "grp")
    assert good.good and good.verdict.startswith("good") and "carries no information scores" in good.verdict
    assert not poor.good and poor.verdict.startswith("poor")
    # a label that real rows already show to be independent of the other columns: the shuffled table
    # scores within a hair of 1, so the verdict declines to vouch for it
    rng = np.random.default_rng(3)
    weak_real = real.assign(grp=rng.choice(["hi", "lo"], len(real)))
    weak = fidelity(weak_real, lost, infer_schema(weak_real, target="grp")).label_trends("grp")
    v = label_trends_verdict(weak, "grp")
    assert 1 - weak["label_free_score"] < 0.05 and v.verdict.startswith("not judged") and not v.good
    assert not v.judged and good.judged and poor.judged  # shown neither green nor red
    # in the report: the verdict neither green nor red, the label-free score explained and written out
    import json

    from ganforge import evaluate
    from ganforge.report import write_report

    r = evaluate(weak_real, lost, target="grp", tsne=False, utility_classifiers=("logistic_regression",))
    write_report(r, tmp_path / "r.html", tmp_path / "r.json")
    html = (tmp_path / "r.html").read_text()
    assert 'class="l unjudged">not judged<' in html and "shuffled among its rows (a label that carries no information)" in html
    got = json.loads((tmp_path / "r.json").read_text())
    assert got["summary"]["label_trends"]["judged"] is False and got["summary"]["column_shapes"]["judged"] is True
    assert got["fidelity"]["label_trends"]["label_free_score"] > 0.95
    # the schema's target is the default; without one there is no reference
    assert "label_free_score" in fidelity(real, fresh, schema).label_trends("grp")
    assert "label_free_score" not in fidelity(real, fresh, infer_schema(real)).label_trends("grp")
