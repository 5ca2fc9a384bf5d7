"""What an average hides, measured: the strongest real pairs kept or lost, each column given each label,
and the column that alone tells synthetic rows apart."""

import numpy as np
import pandas as pd
import pytest

from ganforge import evaluate
from ganforge.metrics.detection import detection
from ganforge.metrics.fidelity import fidelity
from ganforge.metrics.structure import conditional_shift, strongest_pairs, target_pairs, unseen_combinations
from ganforge.schema import infer_schema


def table(n, seed):
    rng = np.random.default_rng(seed)
    label = rng.choice(["yes", "no"], n, p=[0.3, 0.7])
    x = np.where(label == "yes", 2.0, -1.0) + rng.normal(0, 1, n)
    y = 0.9 * x + rng.normal(0, 0.4, n)
    city = np.where(rng.random(n) < 0.8, np.where(label == "yes", "paris", "lyon"), rng.choice(["paris", "lyon", "nice"], n))
    hours = np.where(rng.random(n) < 0.3, 40, np.where(rng.random(n) < 0.12, 60, rng.integers(10, 70, n)))
    return pd.DataFrame({"x": x, "y": y, "city": city, "hours": hours, "label": label})


def shuffled(df, seed):
    """Every column drawn from its own marginal: the associations and the label's relationship gone."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({c: df[c].to_numpy()[rng.permutation(len(df))] for c in df.columns})


def test_the_strongest_pairs_are_listed_and_judged_kept_or_lost():
    real, held_out = table(3000, 0), table(3000, 1)
    schema = infer_schema(real, target="label")
    good = strongest_pairs(fidelity(real, held_out, schema), k=4)
    assert [(p.column_a, p.column_b) for p in good][0] == ("x", "y") and abs(good[0].real) > 0.9
    assert all(p.kept for p in good)
    bad = strongest_pairs(fidelity(real, shuffled(real, 2), schema), k=4)
    assert not any(p.kept for p in bad[:3])
    # every pair with the target, strongest real association first
    tp = target_pairs(fidelity(real, held_out, schema), "label")
    assert len(tp) == 4 and tp[0].real >= tp[-1].real and {tp[0].column_a, tp[0].column_b} & {"x", "city", "y"}


def test_the_conditional_shift_tells_a_label_that_was_ignored_from_held_out_rows():
    real, held_out = table(3000, 0), table(1000, 1)
    schema = infer_schema(real, target="label")
    same = conditional_shift(real, table(3000, 3), schema, "label", test=held_out)
    lost = conditional_shift(real, shuffled(real, 2), schema, "label", test=held_out)
    assert same.reference == pytest.approx(lost.reference) and same.reference < 0.08
    assert same.score < same.reference + 0.03
    assert lost.score > lost.reference + 0.15
    assert lost.worst_column in ("x", "y", "city") and set(lost.distances) == {"yes", "no"}


def test_one_column_that_lost_its_secondary_point_mass_is_named_by_detection():
    real = table(4000, 0)
    synth = table(4000, 1)
    flat = synth["hours"] == 60
    synth.loc[flat, "hours"] = np.random.default_rng(5).integers(10, 70, int(flat.sum()))
    schema = infer_schema(real, target="label")
    det = detection(real, synth, schema, seed=0)
    # 8% of the rows moved off 60: alone, the column is told apart at about 0.55; the same table with its
    # point mass kept, and every other column, near 0.5
    assert det.worst_column[0] == "hours" and det.column_auc["hours"] > 0.535
    assert max(v for k, v in det.column_auc.items() if k != "hours") < 0.515
    assert detection(real, table(4000, 1), schema, seed=0).column_auc["hours"] < 0.515
    assert det.tabsyn_score == pytest.approx(2 * (1 - det.cv_auc))


def test_a_pair_whose_relation_is_lost_is_named_by_detection():
    real = table(4000, 0)
    synth = table(4000, 1)
    synth["y"] = synth["y"].to_numpy()[np.random.default_rng(7).permutation(len(synth))]  # marginals kept
    schema = infer_schema(real, target="label")
    det = detection(real, synth, schema, seed=0)
    assert max(det.column_auc.values()) < 0.52  # no column alone shows it
    assert set(det.worst_pair["columns"]) == {"x", "y"} and det.worst_pair["lift"] > 0.3
    # the same table with its relations kept: no pair stands out
    assert detection(real, table(4000, 1), schema, seed=0).worst_pair["lift"] < 0.03
    from ganforge import evaluate

    res = evaluate(real, synth, target="label", schema=schema, seed=0, tsne=False, utility_classifiers=("logistic_regression",))
    said = next(v.verdict for v in res.verdicts() if v.name == "detection_auc")
    assert "together at AUC" in said and (" x and y " in said or " y and x " in said)


@pytest.mark.slow
def test_the_evaluation_summary_judges_pairs_and_the_conditional_shift():
    real, held_out = table(2000, 0), table(1000, 1)
    ok = {v.name: v for v in evaluate(real, table(2000, 3), test=held_out, target="label", tsne=False,
                                      utility_classifiers=("logistic_regression",)).verdicts()}
    bad = {v.name: v for v in evaluate(real, shuffled(real, 2), test=held_out, target="label", tsne=False,
                                       utility_classifiers=("logistic_regression",)).verdicts()}
    assert ok["strong_pairs_kept"].good and not bad["strong_pairs_kept"].good
    assert bad["strong_pairs_kept"].verdict.startswith("poor")
    assert ok["conditional_shift"].good and bad["conditional_shift"].verdict.startswith("poor")
    assert "TabSyn's score" in bad["detection_auc"].verdict


def households(n, seed, independent=False):
    """A status and the role it allows (a husband is married, a child never); ``independent``: each column
    keeps its shares but the two are drawn apart, as a generator that learns each category alone draws them."""
    rng = np.random.default_rng(seed)
    status = rng.choice(["married", "single"], n, p=[0.5, 0.5])
    role = np.where(status == "married", rng.choice(["husband", "wife"], n), rng.choice(["child", "alone"], n))
    if independent:
        role = rng.permutation(role)
    return pd.DataFrame({"status": status, "role": role, "colour": rng.choice(["red", "blue"], n),
                         "label": rng.choice(["yes", "no"], n)})


def test_combinations_no_real_row_holds_are_counted_and_named():
    real, held_out = households(2000, 0), households(1000, 1)
    schema = infer_schema(real, target="label")
    apart = households(2000, 2, independent=True)
    found = unseen_combinations(real, apart, fidelity(real, apart, schema), real, held_out)
    assert [(u["column_a"], u["column_b"]) for u in found] == [("status", "role")]  # colour is unrelated
    assert found[0]["share"] == pytest.approx(0.5, abs=0.04) and found[0]["reference"] == 0.0
    same = households(2000, 3)
    assert unseen_combinations(real, same, fidelity(real, same, schema), real, held_out)[0]["share"] == 0.0
    said = {v.name: v for v in evaluate(real, apart, test=held_out, target="label", tsne=False,
                                        utility_classifiers=("logistic_regression",)).verdicts()}
    assert "of synthetic rows hold values of status and role that no real row holds together (held-out real " \
           "rows: 0.0%)" in said["strong_pairs_kept"].verdict
    ok = {v.name: v for v in evaluate(real, same, test=held_out, target="label", tsne=False,
                                      utility_classifiers=("logistic_regression",)).verdicts()}
    assert "no real row holds" not in ok["strong_pairs_kept"].verdict
