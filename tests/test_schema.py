import numpy as np
import pandas as pd
import pytest

from ganforge.errors import DataError
from ganforge.cli.options import parse_ordinal_option
from ganforge.schema import CATEGORICAL, INTEGER, NUMERIC, ORDINAL, Schema, infer_schema


def table():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "age": rng.integers(18, 90, 200),
        "income": rng.normal(5e4, 1e4, 200),
        "flag": rng.integers(0, 2, 200),
        "city": rng.choice(["a", "b", "c"], 200),
        "ok": rng.random(200) > 0.5,
        "size": rng.choice(["small", "medium", "large"], 200),
    })


def test_kinds_are_inferred_from_dtype_and_cardinality():
    s = infer_schema(table())
    kinds = {c.name: c.kind for c in s.columns}
    assert kinds == {"age": INTEGER, "income": NUMERIC, "flag": CATEGORICAL, "city": CATEGORICAL,
                     "ok": CATEGORICAL, "size": CATEGORICAL}
    assert s["age"].min >= 18 and s["age"].max <= 89
    assert s["city"].categories == ["a", "b", "c"]


def test_threshold_and_overrides():
    df = table()
    s = infer_schema(df, categorical_threshold=1, categorical=["age"], drop=["ok"],
                     ordinal={"size": ["small", "medium", "large"]})
    assert s["flag"].kind == INTEGER  # 2 values > threshold 1
    assert s["age"].kind == CATEGORICAL
    assert "ok" not in s
    assert s["size"].kind == ORDINAL and s["size"].categories == ["small", "medium", "large"]


def test_ordinal_order_from_cli_strings_matches_numeric_values():
    df = pd.DataFrame({"rate": [1, 2, 3, 4, 2], "x": [0.1, 0.2, 0.3, 0.4, 0.5]})
    s = infer_schema(df, ordinal=parse_ordinal_option("rate=1,2,3,4"))
    assert s["rate"].categories == [1, 2, 3, 4]


def test_missing_rates_and_json_round_trip(tmp_path):
    df = table()
    df.loc[:19, "income"] = np.nan
    df.loc[:9, "city"] = None
    s = infer_schema(df, target="city")
    assert s["income"].missing_rate == pytest.approx(0.1)
    assert s["city"].missing_rate == pytest.approx(0.05)
    s.to_json(tmp_path / "s.json")
    back = Schema.from_json(tmp_path / "s.json")
    assert back.to_dict() == s.to_dict()
    assert back.target == "city"


@pytest.mark.parametrize("df, match", [
    (pd.DataFrame({"a": [np.nan, np.nan], "b": [1, 2]}), "'a' has no values"),
    (pd.DataFrame({"a": ["1", "2", "3", "x", "4", "5", "6", "7", "8", "9", "10", "11", "12"], "b": range(13)}),
     "'a' mixes numbers and text"),
    (pd.DataFrame({"a": [1.0, np.inf, 2.0], "b": [1, 2, 3]}), "'a' contains infinite"),
    (pd.DataFrame({"a": pd.to_timedelta([1, 2], unit="D"), "b": [1, 2]}), "'a' holds durations"),
    (pd.DataFrame({"a": [], "b": []}), "no rows"),
])
def test_bad_columns_name_the_column(df, match):
    with pytest.raises(DataError, match=match):
        infer_schema(df)


def test_unknown_target_and_override_columns():
    with pytest.raises(DataError, match="target 'nope'"):
        infer_schema(table(), target="nope")
    with pytest.raises(DataError, match="categorical: column"):
        infer_schema(table(), categorical=["nope"])
    with pytest.raises(DataError, match="ordinal size"):
        infer_schema(table(), ordinal={"size": ["small", "large"]})
