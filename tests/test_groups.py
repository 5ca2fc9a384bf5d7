"""Numbers grouped by a category (``group_numerics``): a number whose range a category sets is encoded as
its normal score within that category's values and decoded through the generated category's quantiles."""

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL, fitted_encoder
from ganforge import Synthesizer
from ganforge.encoding import groups

RATES = {g: (r, r + 0.25, r + 0.5) for g, r in zip("ABCDE", (5.0, 7.0, 9.0, 11.0, 13.0))}
BANDS = {1: (1000, 2000), 2: (2500, 4000), 3: (5000, 9000)}


def loans(n=3000, seed=0):
    """A rate that is one of its grade's three rates (the middle one in 30% of rows); an income inside its level's band, skewed within it,
    and rising with years inside the band; a number unrelated to any category; a label."""
    rng = np.random.default_rng(seed)
    grade = rng.choice(list(RATES), n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    rate = np.array([RATES[g][1 if rng.random() < 0.3 else 2 * int(rng.random() < 0.5)] for g in grade])
    level = rng.choice([1, 2, 3], n, p=[0.5, 0.3, 0.2])
    years = rng.uniform(0, 1, n)
    lo, hi = np.array([BANDS[v][0] for v in level]), np.array([BANDS[v][1] for v in level])
    income = lo + (hi - lo) * np.clip(0.7 * years ** 2 + 0.3 * rng.uniform(0, 1, n) ** 2, 0, 1)
    return pd.DataFrame({"grade": grade, "rate": rate, "level": pd.Series(level).map({1: "L1", 2: "L2", 3: "L3"}),
                         "income": income.round(0), "years": (years * 30).round(1),
                         "other": rng.normal(50, 10, n), "default": rng.choice(["yes", "no"], n, p=[0.2, 0.8])})


def encoder(df, **encoding):
    return fitted_encoder(df, "default", **{"group_numerics": True, **encoding})


def test_finds_the_numbers_a_category_shapes_and_no_others():
    found = {g.column: (g.parent, g.eta2) for g in encoder(loans()).groups_}
    assert set(found) == {"rate", "income"}
    assert found["rate"][0] == "grade" and found["rate"][1] > 0.9
    assert found["income"][0] == "level" and found["income"][1] > 0.7
    assert encoder(loans(), group_numerics=False).groups_ == []
    # a weak dependence is left alone: the grade shifts a number by a tenth of its spread
    df = loans()
    df["other"] = df["other"] + df["grade"].map({"A": 0, "B": 1, "C": 2, "D": 3, "E": 4}).to_numpy()
    assert "other" not in {g.column for g in encoder(df).groups_}
    # nor is a number set by a column of many categories (the label would reach it only through them)
    df["grade20"] = np.random.default_rng(3).integers(0, 20, len(df)).astype(str)
    df["other"] = df["grade20"].astype(int) * 10.0 + df["other"] / 10
    assert "other" not in {g.column for g in encoder(df).groups_}
    assert groups.eta2(df["other"].to_numpy(), df["grade20"].astype(int).to_numpy(), 20) > 0.9
    assert groups.eta2(np.arange(100.0), np.repeat([0, 1], 50), 2) == pytest.approx(0.75, abs=0.01)


def test_training_rows_come_back_through_their_groups():
    df = loans()
    enc = encoder(df)
    back = enc.inverse_transform(enc.transform(df), codes=enc.condition_codes(df))
    assert (back["rate"].to_numpy() == df["rate"].to_numpy()).all()
    np.testing.assert_allclose(back["income"], df["income"], atol=0.5)
    # a score decodes inside the band of the row's category, however far out the generator puts it
    g = next(g for g in enc.groups_ if g.column == "income")
    codes = np.repeat(np.arange(3), 2)
    v = g.value(np.array([-40.0, 40.0] * 3), codes)
    for k, name in enumerate(["L1", "L2", "L3"]):
        lo, hi = BANDS[int(name[1])]
        assert lo <= v[2 * k] <= v[2 * k + 1] <= hi


@pytest.mark.slow
def test_generated_numbers_stay_in_their_category_and_keep_its_shape(tmp_path):
    df = loans()
    syn = Synthesizer("wcgan", "default", group_numerics=True, seed=0, device="cpu", **SMALL).fit(df, target="default")
    assert syn.summary()["grouped_numerics"] == {"rate": "grade", "income": "level"}
    rows = syn.sample(4000, seed=1)
    in_set = [r in RATES[g] for g, r in zip(rows["grade"], rows["rate"])]
    assert np.mean(in_set) > 0.99
    level = rows["level"].str[1].astype(int)
    lo, hi = level.map(lambda v: BANDS[v][0]), level.map(lambda v: BANDS[v][1])
    assert ((rows["income"] >= lo) & (rows["income"] <= hi)).all()
    # what the generator learnt: each grade's share of its middle rate (0.3), each level's income median, and
    # that income rises with years inside a level
    middle = np.mean([r == RATES[g][1] for g, r in zip(rows["grade"], rows["rate"])])
    assert abs(middle - 0.3) < 0.08
    for name in ("L1", "L2", "L3"):
        real, gen = df.loc[df["level"] == name, "income"], rows.loc[rows["level"] == name, "income"]
        lo_, hi_ = BANDS[int(name[1])]
        assert abs(gen.median() - real.median()) < 0.1 * (hi_ - lo_), name
    l1 = rows[rows["level"] == "L1"]
    assert np.corrcoef(l1["years"], l1["income"])[0, 1] > 0.3
    # the file keeps the groups: the same rows after loading
    again = Synthesizer.load(syn.save(tmp_path / "m.gfm"), device="cpu")
    pd.testing.assert_frame_equal(again.sample(500, seed=3), syn.sample(500, seed=3))
    yes = syn.sample(1000, condition={"default": "yes"}, seed=4)
    assert np.mean([r in RATES[g] for g, r in zip(yes["grade"], yes["rate"])]) > 0.99


def test_fit_and_info_name_the_groups(tmp_path):
    from conftest import cli_fit
    from test_cli_polish import run

    r, model = cli_fit(tmp_path, loans(1000), "default", "group_numerics=true")
    line = ("learnt within the categories of the column that sets their range (--set group_numerics=false to "
            "learn them on their own scale): ")
    said = next(x for x in r.stdout.splitlines() if x.startswith(line))
    assert set(said[len(line):].split(", ")) == {"rate by grade", "income by level"}
    assert "rate by grade, income by level" in " ".join(run("info", str(model)).stdout.split())  # wrapped
