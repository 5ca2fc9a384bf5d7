"""Numbers learnt as a multiple of another (``ratio_numerics``): a positive number that is mostly another
positive number times a factor that varies little is encoded as the ratio and decoded as the ratio times
the other's generated value."""

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL, fitted_encoder
from ganforge import Synthesizer
from ganforge.encoding import ratios

FEES = {"basic": (40.0, 45.0), "plus": (50.0, 60.0), "pro": (65.0, 75.0)}


def accounts(n=3000, seed=0):
    """Total charges: the months of tenure times the plan's monthly fee (and a little noise); a number that
    is 0 in a third of the rows; an unrelated positive number; a label."""
    rng = np.random.default_rng(seed)
    plan = rng.choice(list(FEES), n, p=[0.5, 0.3, 0.2])
    fee = np.array([rng.uniform(*FEES[p]) for p in plan])
    months = rng.integers(1, 73, n)
    return pd.DataFrame({"plan": plan, "fee": fee.round(2), "months": months,
                         "total": (months * fee * rng.uniform(0.98, 1.02, n)).round(2),
                         "calls": np.where(rng.random(n) < 0.33, 0, rng.integers(1, 300, n)),
                         "other": rng.lognormal(3, 1, n).round(2), "churn": rng.choice(["yes", "no"], n, p=[0.3, 0.7])})


def encoder(df, **encoding):
    return fitted_encoder(df, "churn", **{"ratio_numerics": True, **encoding})


def test_finds_a_total_as_a_multiple_of_its_count_and_nothing_else():
    found = encoder(accounts()).ratios_
    assert [(r.column, r.source) for r in found] == [("total", "months")]
    assert found[0].share < 0.1
    assert encoder(accounts(), ratio_numerics=False).ratios_ == []
    # a source with missing values, or a number that is 0 where it is present, is not used
    df = accounts()
    df.loc[::7, "months"] = np.nan
    assert encoder(df).ratios_ == []
    nums = {"a": np.arange(1.0, 101.0), "b": np.arange(1.0, 101.0) * 3 * np.r_[0.0, np.ones(99)]}
    assert ratios.find(nums) == []  # b is 0 in a row
    rng = np.random.default_rng(1)
    assert ratios.find({"u": rng.lognormal(0, 1, 500), "v": rng.lognormal(0, 1, 500)}) == []


def test_training_rows_come_back_through_the_ratio():
    df = accounts()
    enc = encoder(df)
    back = enc.inverse_transform(enc.transform(df), codes=enc.condition_codes(df))
    np.testing.assert_allclose(back["total"], df["total"], atol=0.011)
    assert (back["months"] == df["months"]).all()


@pytest.mark.slow
def test_generated_totals_keep_the_ratio_and_its_relation_to_the_plan(tmp_path):
    df = accounts()
    syn = Synthesizer("wcgan", "default", ratio_numerics=True, seed=0, device="cpu", **SMALL).fit(df, target="churn")
    assert syn.summary()["ratio_numerics"] == {"total": "months"}
    rows = syn.sample(4000, seed=1)
    per_month = rows["total"] / rows["months"]
    real = df["total"] / df["months"]
    # decoded through the ratio, every generated total lies in the real ratios' range (to the cent)
    assert per_month.between(real.min() - 0.01, real.max() + 0.01).all()
    # the ratio is grouped by the plan that sets its range (a ratio of its own, it would be off by 6 to 16 a
    # month): each plan's level is the real one
    assert syn.summary()["grouped_numerics"] == {"fee": "plan", "total": "plan"}
    for plan in FEES:
        assert abs(per_month[rows["plan"] == plan].mean() - real[df["plan"] == plan].mean()) < 1.0, plan
    # what the generator learnt: within a plan the ratio follows the fee (it is the fee, to 2%), the months
    for plan in FEES:
        one = rows[rows["plan"] == plan]
        assert np.corrcoef(one["total"] / one["months"], one["fee"])[0, 1] > 0.5, plan
    assert abs(rows["months"].median() - df["months"].median()) < 6
    again = Synthesizer.load(syn.save(tmp_path / "m.gfm"), device="cpu")
    pd.testing.assert_frame_equal(again.sample(500, seed=3), syn.sample(500, seed=3))


def test_fit_and_info_name_the_ratios(tmp_path):
    from conftest import cli_fit
    from test_cli_polish import run

    r, model = cli_fit(tmp_path, accounts(1000), "churn", "ratio_numerics=true")
    assert ("learnt as a multiple of another number (--set ratio_numerics=false to learn them on their own "
            "scale): total / months") in r.stdout
    assert "total / months" in run("info", str(model)).stdout
