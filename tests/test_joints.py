"""Categories learnt together (``join_categories``): categorical columns that go closely together are encoded
as one column of the combinations the training rows hold, and split again when decoded."""

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL, fitted_encoder
from ganforge import Synthesizer
from ganforge.encoding import joints
from ganforge.errors import DataError

#: which roles each status allows, and their shares (husband / wife only when married, a child never married)
ROLES = {"married": (["husband", "wife"], [0.8, 0.2]), "single": (["child", "alone", "other"], [0.5, 0.4, 0.1]),
         "divorced": (["alone", "child", "other"], [0.7, 0.1, 0.2])}


def households(n=3000, seed=0):
    """A status and a role that go together (8 of 9 x 5 pairs occur), a sex the role sets for husbands and
    wives, a colour unrelated to anything, a region with missing values, an income and a label."""
    rng = np.random.default_rng(seed)
    status = rng.choice(list(ROLES), n, p=[0.5, 0.35, 0.15])
    role = np.array([rng.choice(ROLES[s][0], p=ROLES[s][1]) for s in status])
    sex = np.where(role == "husband", "m", np.where(role == "wife", "f", rng.choice(["m", "f"], n)))
    region = rng.choice(["north", "south", "east"], n).astype(object)
    region[rng.random(n) < 0.1] = None
    income = rng.lognormal(10, 0.5, n) * np.where(status == "married", 1.3, 1.0)
    label = np.where(rng.random(n) < np.where(status == "married", 0.35, 0.15), "yes", "no")
    return pd.DataFrame({"status": status, "role": role, "sex": sex, "colour": rng.choice(["red", "blue"], n),
                         "region": region, "income": income.round(0), "label": label})


def encoder(df, **encoding):
    return fitted_encoder(df, "label", **{"join_categories": True, **encoding})


def test_cramers_v_tells_association_from_none():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 4, 5000), rng.integers(0, 3, 5000)
    assert joints.cramers_v(a, 4, b, 3) < 0.03
    assert joints.cramers_v(a, 4, a, 4) == pytest.approx(1.0, abs=1e-3)
    assert joints.cramers_v(a, 4, a // 2, 2) == pytest.approx(1.0, abs=1e-3)  # a function of a, V of the smaller
    half = np.where(rng.random(5000) < 0.5, a, rng.integers(0, 4, 5000))
    assert 0.3 < joints.cramers_v(a, 4, half, 4) < 0.7


def test_finds_the_columns_that_go_together_and_no_others():
    df = households()
    found = encoder(df).joints_
    assert [j.columns for j in found] == [["status", "role", "sex"]]
    real = set(map(tuple, df[["status", "role", "sex"]].drop_duplicates().to_numpy()))
    assert len(found[0].combos) == len(real) == 14  # 2 married + 3 x 2 single + 3 x 2 divorced
    assert encoder(df, join_categories=False).joints_ == []
    # the limits: two columns only leave sex out; under 8 combinations status and role (8) cannot join, and
    # that refusal closes both: the weaker status and sex (6 combinations) do not join either, which would
    # put the status in a joint without its strongest partner
    coded = _coded(df, ["status", "role", "sex"])
    assert [j.columns for j in joints.find(coded, max_members=2)] == [["status", "role"]]
    assert joints.find(coded, max_combos=7) == []
    without_role = {k: v for k, v in coded.items() if k != "role"}
    assert [j.columns for j in joints.find(without_role, max_combos=7)] == [["status", "sex"]]


def _coded(df, columns):
    out = {}
    for c in columns:
        cats = sorted(df[c].unique())
        out[c] = (pd.Index(cats).get_indexer(df[c]), len(cats))
    return out


def test_rows_come_back_through_the_joint_and_unseen_pairs_are_refused():
    df = households()
    df["region2"] = df["region"]  # a copy of a column with missing values: joined with it, missing included
    enc = encoder(df)
    assert ["region", "region2"] in [j.columns for j in enc.joints_]
    back = enc.inverse_transform(enc.transform(df), codes=enc.condition_codes(df))
    for c in ("status", "role", "sex", "colour", "region", "region2"):
        pd.testing.assert_series_equal(back[c].astype(object), df[c].astype(object), check_names=False)
    # the joint is one block of the encoded row, as wide as its combinations
    widths = {c.spec.name: c.width for c in enc.codecs_}
    assert widths["status & role & sex"] == 14 and "status" not in widths and "role" not in widths
    bad = df.head(5).copy()
    bad.loc[2, ["status", "role"]] = ["single", "husband"]  # each value known, never together
    with pytest.raises(DataError, match="'status', 'role', 'sex'.*never occurred together"):
        enc.transform(bad)


@pytest.mark.slow
def test_generated_rows_hold_only_real_combinations_in_their_shares(tmp_path):
    df = households()
    syn = Synthesizer("wcgan", "default", join_categories=True, seed=0, device="cpu", **SMALL).fit(df, target="label")
    assert syn.summary()["joint_categories"] == [["status", "role", "sex"]]
    rows = syn.sample(4000, seed=1)
    cols = ["status", "role", "sex"]
    real = df[cols].value_counts(normalize=True)
    gen = rows[cols].value_counts(normalize=True)
    assert set(gen.index) <= set(real.index)  # no husband who is single, no wife who is male
    tvd = 0.5 * pd.concat([real, gen], axis=1).fillna(0).diff(axis=1).iloc[:, 1].abs().sum()
    # 0.017 at seeds 0 and 1; learnt one by one (join_categories=false) the same fit gives 0.064
    assert tvd < 0.035, tvd
    # the label still reaches the joined columns: married rows are twice as often "yes"
    yes = syn.sample(2000, condition={"label": "yes"}, seed=2)
    no = syn.sample(2000, condition={"label": "no"}, seed=2)
    assert (yes["status"] == "married").mean() > (no["status"] == "married").mean() + 0.1
    again = Synthesizer.load(syn.save(tmp_path / "m.gfm"), device="cpu")
    pd.testing.assert_frame_equal(again.sample(500, seed=3), syn.sample(500, seed=3))


def test_fit_and_info_name_the_joints(tmp_path):
    from conftest import cli_fit
    from test_cli_polish import run

    r, model = cli_fit(tmp_path, households(1000), "label", "join_categories=true")
    line = ("learnt together as one column of the combinations the training rows hold (--set join_categories=false "
            "to learn them one by one): status & role & sex")
    assert line in r.stdout.splitlines()
    assert "status & role & sex" in " ".join(run("info", str(model)).stdout.split())


def test_the_moment_loss_sees_each_joined_columns_shares():
    """Two labels whose generated rows hold the right share of each combination's first column but not of
    the second, spread over four combinations: the loss on the members' shares is what tells them apart."""
    import torch

    from ganforge.encoding.base import Span
    from ganforge.models.families.adversarial import conditional_moments
    from ganforge.models.moments import moment_parts, with_parts

    j = joints.Joint(["a", "b"], [2, 2], [[0, 0], [0, 1], [1, 0], [1, 1]])
    parts = moment_parts([Span(1, "linear"), Span(4, "softmax", parts=j.parts)], torch.device("cpu"))
    assert parts[0].tolist() == [1, 2, 3, 4] and parts[1].shape == (4, 4)
    two = moment_parts([Span(2, "softmax", parts=((2, (0, 1)),)), Span(1, "linear"), Span(4, "softmax", parts=j.parts)],
                       torch.device("cpu"))  # two joints: one gather, a block-diagonal matrix
    assert two[0].tolist() == [0, 1, 3, 4, 5, 6] and two[1].shape == (6, 6) and float(two[1][:2, 2:].abs().sum()) == 0
    rows = torch.tensor([[0.5, 0.1, 0.2, 0.3, 0.4]])
    np.testing.assert_allclose(with_parts(rows, parts)[0, 5:].numpy(), [0.3, 0.7, 0.4, 0.6], atol=1e-6)
    real = torch.tensor([[0.0, 1, 0, 0, 0], [0.0, 0, 0, 1, 0]])  # b's 0 then 0 (a: 0 and 1)
    fake = torch.tensor([[0.0, 0, 1, 0, 0], [0.0, 0, 0, 0, 1]])  # a the same, b's 1 each time
    cond = torch.tensor([[1.0], [1.0]])
    plain = float(conditional_moments(fake, cond, real, cond))
    seen = float(conditional_moments(with_parts(fake, parts), cond, with_parts(real, parts), cond))
    # the combinations alone: 4 slots off by 0.5 of 5 columns; with the members: b's two codes off by 1 more
    assert plain == pytest.approx(4 * 0.25 / 5)
    assert seen == pytest.approx((4 * 0.25 + 2 * 1.0) / 9)


def test_the_label_classifier_sees_each_joined_columns_one_hot():
    """Its first layer gets each joined column's one-hot beside the combinations' (a label that depends on
    one joined column is then learnt from all the combinations that hold its value)."""
    import torch

    from ganforge.encoding.base import Span
    from ganforge.models.moments import moment_parts
    from ganforge.models.networks import LabelClassifier

    j = joints.Joint(["a", "b"], [2, 3], [[0, 0], [0, 1], [1, 1], [1, 2]])
    parts = moment_parts([Span(2, "linear"), Span(4, "softmax", parts=j.parts)], torch.device("cpu"))
    layers = [{"width": 8, "activation": "relu"}]
    clf = LabelClassifier(6, 2, layers, parts)
    assert clf.body[0].in_features == 6 + 5
    x = torch.zeros(4, 6)
    x[torch.arange(4), 2 + torch.arange(4)] = 1.0
    assert clf(x).shape == (4, 2)
    # what the first layer gets: the row, then a's and b's one-hots summed from the combinations
    seen = torch.cat([x, x[:, 2:6] @ parts[1]], 1)
    assert seen[:, 6:].tolist() == [[1, 0, 1, 0, 0], [1, 0, 0, 1, 0], [0, 1, 0, 1, 0], [0, 1, 0, 0, 1]]
    assert torch.equal(clf(x), clf.body(seen))
