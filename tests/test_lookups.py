"""Columns looked up by a pair of columns (`lookup_pairs`, ganforge.encoding.keyed): found where every
training row shows a function of two columns together, kept in the model file, applied to generated rows."""

import numpy as np
import pandas as pd
import pytest

from ganforge import Synthesizer
from ganforge.encoding.keyed import Lookup, find


def panel(n_stores=5, n_weeks=40, per=3, seed=0) -> pd.DataFrame:
    """Shoppers in stores by week: the week's price and discount are the store's in that week (a function of
    the pair, of neither alone); the region is the store's alone; age and the label are the shopper's."""
    rng = np.random.default_rng(seed)
    price = rng.choice([1.79, 1.89, 1.99, 2.09, 2.19], size=(n_stores, n_weeks))
    disc = rng.choice([0.0, 0.1, 0.2, 0.3], size=(n_stores, n_weeks), p=[0.6, 0.2, 0.1, 0.1])
    rows = []
    for s in range(n_stores):
        for w in range(n_weeks):
            for _ in range(per):
                age = int(rng.integers(18, 80))
                buy = "yes" if rng.random() < 0.3 + (disc[s, w] > 0) * 0.4 else "no"
                rows.append({"store": f"s{s}", "week": 200 + w, "price": price[s, w], "disc": disc[s, w],
                             "region": "north" if s < 2 else "south", "age": age, "buy": buy})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def test_finds_the_pair_that_determines_columns_and_nothing_by_accident():
    df = panel()
    cols = [c for c in df.columns if c != "buy"]
    (lk,) = find(df[cols])
    assert sorted(lk.key) == ["store", "week"]
    assert sorted(lk.columns) == ["disc", "price"]  # region is the store's alone; age the shopper's
    assert len(lk.keys) == 200  # every pair held by three rows
    # one row per pair: nothing to tell a function from chance
    single = panel(per=1)
    assert find(single[cols]) == []
    # the price of the pair broken in one row: no dependency
    broken = df.copy()
    broken.loc[0, "price"] = 9.99
    assert all("price" not in lk.columns for lk in find(broken[cols]))


def test_apply_takes_the_closest_combination_the_training_rows_hold():
    lk = Lookup(["store", "week"], ["price", "disc"],
                [["s0", 200.0], ["s0", 201.0], ["s1", 200.0]], [[1.79, 0.1], [2.09, 0.0], [1.99, 0.3]])
    out = {"store": np.array(["s0", "s0", "s1", "s1"], dtype=object), "week": np.array([200, 201, 999, 201]),
           "price": np.array([1.80, 1.75, 2.0, 2.09]), "disc": np.array([0.1, 0.1, 0.3, 0.0])}
    lk.apply(out, {"week", "price", "disc"})
    # held pairs whose columns are close keep their pair; an unheld pair, or columns that are another
    # pair's, move to the combination nearest in all four
    assert out["store"].tolist() == ["s0", "s0", "s1", "s0"]
    assert out["week"].tolist() == [200, 200, 200, 201] and out["week"].dtype == np.int64
    assert out["price"].tolist() == [1.79, 1.79, 1.99, 2.09] and out["disc"].tolist() == [0.1, 0.1, 0.3, 0.0]


@pytest.mark.slow
def test_generated_rows_keep_the_pairs_prices(tmp_path):
    df = panel()
    train = dict(steps=600, batch_size=200, seed=0)

    def kept(syn):
        rows = syn.sample(3000, seed=1)
        real = set(map(tuple, df[["store", "week", "price", "disc"]].astype(str).values))
        return np.mean([tuple(r) in real for r in rows[["store", "week", "price", "disc"]].astype(str).values])

    on = Synthesizer("wcgan", lookup_pairs=True, **train).fit(df, target="buy")
    off = Synthesizer("wcgan", lookup_pairs=False, **train).fit(df, target="buy")
    assert [(sorted(lk.key), sorted(lk.columns)) for lk in on.encoder_.lookups_] == [(["store", "week"], ["disc", "price"])]
    # learnt alone, a store's week and its prices come out mixed: most rows hold a combination no real row has
    assert kept(off) < 0.4
    assert kept(on) > 0.9
    path = on.save(tmp_path / "m.gfm")
    again = Synthesizer.load(path)
    assert again.sample(500, seed=3).equals(on.sample(500, seed=3))
