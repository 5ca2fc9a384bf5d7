"""Every encoder is reversible: decode(encode(x)) == x (hypothesis round trips)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ganforge.encoding import (ColumnEncoder, GaussianIntervalEncoder, MinMaxEncoder, ModeSpecificEncoder,
                               OneHotEncoder, OrdinalCodeEncoder, StandardEncoder, TableEncoder)
from ganforge.config import EncodingConfig
from ganforge.schema import infer_schema

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
columns = arrays(np.float64, st.integers(1, 300), elements=finite)
codes = st.integers(1, 12).flatmap(lambda k: st.tuples(st.just(k), arrays(np.int64, st.integers(1, 300),
                                                                          elements=st.integers(0, k - 1))))


def reload(enc: ColumnEncoder) -> ColumnEncoder:
    """Encoders must survive their JSON state (that is how models are saved)."""
    import json

    return ColumnEncoder.from_state(json.loads(json.dumps(enc.get_state())))


@settings(max_examples=60, deadline=None)
@given(columns, st.sampled_from([(-1.0, 1.0), (0.0, 1.0)]))
def test_minmax_round_trip_and_range(v, rng):
    enc = reload(MinMaxEncoder(*rng).fit(v))
    block = enc.transform(v)
    assert block.min() >= rng[0] - 1e-9 and block.max() <= rng[1] + 1e-9
    np.testing.assert_allclose(enc.inverse_transform(block), v, rtol=1e-9, atol=1e-6)
    assert enc.spans[0].activation == ("tanh" if rng[0] < 0 else "sigmoid")


@settings(max_examples=60, deadline=None)
@given(columns)
def test_standard_round_trip(v):
    enc = reload(StandardEncoder().fit(v))
    np.testing.assert_allclose(enc.inverse_transform(enc.transform(v)), v, rtol=1e-9, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(columns)
def test_mode_specific_round_trip(v):
    enc = reload(ModeSpecificEncoder(max_modes=5, sample_size=200).fit(v))
    block = enc.transform(v, np.random.default_rng(0))
    assert block.shape == (len(v), 1 + len(enc.means_)) and len(enc.means_) <= 5
    assert np.all(block[:, 1:].sum(axis=1) == 1)  # exactly one mode per row
    np.testing.assert_allclose(enc.inverse_transform(block), v, rtol=1e-7, atol=1e-6 * (1 + np.abs(v).max()))


def test_mode_specific_finds_modes_and_point_masses():
    rng = np.random.default_rng(0)
    v = np.concatenate([np.zeros(3000), rng.normal(100, 5, 1000), rng.normal(500, 20, 1000)])
    enc = ModeSpecificEncoder().fit(v)
    assert 0.0 in enc.means_ and enc.stds_[enc.means_ == 0.0][0] == 0.0  # the spike is an exact mode
    cont = enc.means_[enc.stds_ > 0]
    assert np.any(np.abs(cont - 100) < 10) and np.any(np.abs(cont - 500) < 30)


@settings(max_examples=60, deadline=None)
@given(codes, st.sampled_from(["softmax", "gumbel", "tanh"]))
def test_onehot_round_trip(kc, act):
    k, c = kc
    enc = reload(OneHotEncoder(k, act).fit(c))
    block = enc.transform(c)
    assert block.shape == (len(c), k)
    np.testing.assert_array_equal(enc.inverse_transform(block), c)


@settings(max_examples=60, deadline=None)
@given(codes)
def test_ordinal_round_trip(kc):
    k, c = kc
    enc = reload(OrdinalCodeEncoder(k).fit(c))
    np.testing.assert_array_equal(enc.inverse_transform(enc.transform(c)), c)


@settings(max_examples=60, deadline=None)
@given(codes, st.integers(0, 2**31))
def test_gaussian_interval_round_trip_and_slices(kc, seed):
    k, c = kc
    enc = reload(GaussianIntervalEncoder(k).fit(c))
    v = enc.transform(c, np.random.default_rng(seed))
    assert v.min() >= 0 and v.max() <= 1
    np.testing.assert_array_equal(enc.inverse_transform(v), c)
    # slices are as wide as the category's share, most frequent first
    share = np.bincount(c, minlength=k) / len(c)
    np.testing.assert_allclose(enc.upper_ - enc.lower_, share, atol=1e-12)
    top = share.argmax()
    assert enc.lower_[top] == 0.0


def test_gaussian_interval_values_are_centred_in_their_slice():
    c = np.repeat([0, 1, 2], [6000, 3000, 1000])
    enc = GaussianIntervalEncoder(3).fit(c)
    v = enc.transform(c, np.random.default_rng(0))[:, 0]
    for code in range(3):
        a, b = enc.lower_[code], enc.upper_[code]
        x = v[c == code]
        assert abs(x.mean() - (a + b) / 2) < 0.01 * (b - a) + 1e-3
        assert abs(x.std() - (b - a) / 6) < 0.1 * (b - a) / 6


@pytest.mark.parametrize("numeric", ["mode_specific", "minmax", "minmax01", "standard", "quantile", "mode_quantile"])
@pytest.mark.parametrize("categorical", ["onehot", "gaussian_interval", "ordinal"])
def test_table_round_trip_with_missing_values(numeric, categorical):
    rng = np.random.default_rng(1)
    n = 500
    df = pd.DataFrame({
        "num": rng.normal(0, 1, n), "int": rng.integers(0, 100, n), "cat": rng.choice(["a", "b", "c"], n),
        "flag": rng.random(n) > 0.3, "lvl": rng.choice(["lo", "mid", "hi"], n),
    })
    df.loc[rng.random(n) < 0.1, "num"] = np.nan
    df["cat"] = df["cat"].astype(object)
    df.loc[rng.random(n) < 0.1, "cat"] = None
    schema = infer_schema(df, ordinal={"lvl": ["lo", "mid", "hi"]})
    enc = TableEncoder(schema, EncodingConfig(numeric_encoding=numeric, categorical_encoding=categorical,
                                                ordinal_encoding=categorical))
    enc.fit(df)
    X = enc.transform(df)
    assert X.shape == (n, enc.width) and X.dtype == np.float32
    assert sum(s.width for s in enc.spans) == enc.width
    back = TableEncoder.from_state(schema, enc.get_state()).inverse_transform(X)
    assert list(back.columns) == list(df.columns)
    pd.testing.assert_series_equal(back["int"], df["int"], check_names=False)
    np.testing.assert_allclose(back["num"], df["num"], rtol=1e-4, atol=1e-4)  # float32 matrix
    for c in ("cat", "flag", "lvl"):
        assert back[c].astype(object).where(back[c].notna(), None).tolist() == \
            df[c].astype(object).where(df[c].notna(), None).tolist()
    assert back["flag"].dtype == bool


def test_point_masses_respect_the_mode_budget():
    v = np.array([4.0, 5.0, 2.0, 3.0, 0.0, 1.0] * 10)  # six values, each a point mass of 1/6
    enc = ModeSpecificEncoder(max_modes=5).fit(v)
    assert len(enc.means_) <= 5
    np.testing.assert_allclose(enc.inverse_transform(enc.transform(v)), v, atol=1e-9)


def test_quantile_encoding_gives_normal_scores_and_keeps_point_masses_exact():
    from ganforge.encoding.numeric import QuantileEncoder

    rng = np.random.default_rng(0)
    v = np.where(rng.random(5000) < 0.6, 0.0, rng.lognormal(8, 1, 5000))
    enc = QuantileEncoder().fit(v)
    z = enc.transform(v)[:, 0]
    # a point mass is one score, at its mid-rank (60% of the rows: the 30th percentile's score)
    assert len(np.unique(z[v == 0])) == 1 and abs(z[v == 0][0] - (-0.524)) < 0.01
    spread = z[v > 0]
    assert abs(np.median(spread) - 0.842) < 0.05 and spread.max() < 5.3  # the upper 40%: levels 0.6 to 1
    # exact but at the extremes, whose levels are clipped to 1e-7 from 0 and 1
    np.testing.assert_allclose(enc.inverse_transform(z[:, None]), v, rtol=1e-4, atol=1e-6)
    # every score inside the point mass's levels decodes to exactly its value
    inside = np.linspace(-2.0, 0.2, 7)[:, None]
    assert (enc.inverse_transform(inside) == 0.0).all()


def test_mode_quantile_cuts_between_separate_clusters_and_not_inside_a_skewed_one():
    from ganforge.encoding.numeric import ModeQuantileEncoder
    from scipy.stats import normaltest

    rng = np.random.default_rng(0)
    # three clusters 6 to 10 spreads apart, and a lognormal with a point mass at zero
    clusters = np.concatenate([rng.normal(-4, 0.5, 2000), rng.normal(-1, 0.5, 2000), rng.normal(4, 0.6, 1000)])
    enc = ModeQuantileEncoder().fit(clusters)
    assert len(enc.bounds_) == 2 and -3.0 < enc.bounds_[0] < -2.0 and 0.5 < enc.bounds_[1] < 2.5
    block = enc.transform(clusters)
    assert block.shape == (5000, 4) and (block[:, 1:].sum(axis=1) == 1).all()
    modes = block[:, 1:].argmax(axis=1)
    assert (np.bincount(modes) == [2000, 2000, 1000]).all()
    # inside each mode the scores are standard normal, so a generated score never decodes into a gap
    for k in range(3):
        z = block[modes == k, 0]
        assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.1
    gap = enc.inverse_transform(np.column_stack([np.linspace(-5.2, 5.2, 200), np.tile([0.0, 1.0, 0.0], (200, 1))]))
    assert gap.min() > -3.0 and gap.max() < 1.0  # the middle cluster's values only
    np.testing.assert_allclose(enc.inverse_transform(block), clusters, atol=1e-3)

    skewed = np.where(rng.random(5000) < 0.3, 0.0, rng.lognormal(3, 0.5, 5000))
    enc = ModeQuantileEncoder().fit(skewed)
    assert enc.spikes_.tolist() == [1.0, 0.0] and len(enc.bounds_) == 0  # zero, then one bell for the rest
    z = enc.transform(skewed)[skewed > 0, 0]
    assert normaltest(z).pvalue > 1e-3
    assert (enc.inverse_transform(np.array([[3.0, 1.0, 0.0], [-3.0, 1.0, 0.0]])) == 0.0).all()
    # a column with one bell and no point mass is the plain quantile transform: one linear output
    plain = ModeQuantileEncoder().fit(rng.lognormal(0, 1, 3000))
    assert [s.activation for s in plain.spans] == ["linear"]


def test_a_lower_point_mass_share_makes_secondary_spikes_exact_modes():
    from ganforge.encoding.numeric import ModeSpecificEncoder

    rng = np.random.default_rng(0)
    hours = np.where(rng.random(8000) < 0.4, 40.0, np.where(rng.random(8000) < 0.05, 60.0, rng.normal(40, 12, 8000).round()))
    default = ModeSpecificEncoder(spike_share=0.05).fit(hours)
    finer = ModeSpecificEncoder(spike_share=0.01).fit(hours)
    assert 60.0 not in default.means_[default.stds_ == 0] and 60.0 in finer.means_[finer.stds_ == 0]
