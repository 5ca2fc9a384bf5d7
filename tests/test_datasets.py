"""Dataset loaders: shapes and counts from the READMEs in shared/datasets, and the errors."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ganforge import datasets
from ganforge.errors import DataError

DATA = datasets.data_root()
needs_data = pytest.mark.skipif(
    not (DATA / "adult").is_dir(),
    reason=f"shared datasets not found at {DATA}; set GANFORGE_DATA to run these tests",
)


# --- real data: shapes, counts and dtypes quoted in each README ---------------------------


@needs_data
def test_pima():
    df = datasets.load_pima(DATA)
    assert df.shape == (768, 9)
    assert df["Outcome"].value_counts().to_dict() == {0: 500, 1: 268}
    assert not df.isna().any().any()
    assert (df["Insulin"] == 0).sum() == 374  # zeros kept by default
    assert df["Glucose"].mean() == pytest.approx(120.894531)


@needs_data
def test_pima_zeros_as_missing():
    df = datasets.load_pima(DATA, zeros_as_missing=True)
    missing = df.isna().sum()
    expected = {"Glucose": 5, "BloodPressure": 35, "SkinThickness": 227, "Insulin": 374, "BMI": 11}
    assert missing[missing > 0].to_dict() == expected
    assert (df["Pregnancies"] == 0).sum() == 111  # a real zero, left alone


@needs_data
def test_german():
    df = datasets.load_german(DATA)
    assert df.shape == (1000, 21)
    assert df["class"].value_counts().to_dict() == {"good": 700, "bad": 300}
    assert not df.isna().any().any()  # every code was decoded
    ints = ["duration_months", "credit_amount", "installment_rate", "residence_since", "age",
            "existing_credits", "num_dependents"]
    assert all(df[c].dtype == np.int64 for c in ints)
    assert df["credit_amount"].mean() == pytest.approx(3271.258)
    first = df.iloc[0]  # A11 6 A34 A43 1169 A65 A75 4 A93 ... A192 A201 1
    assert first["checking_status"] == "< 0 DM"
    assert first["purpose"] == "radio/television"
    assert first["personal_status_sex"] == "male: single"
    assert first["class"] == "good"
    assert df["purpose"].nunique() == 10  # A47 never occurs
    assert not df["checking_status"].str.startswith("A").any()


@needs_data
def test_adult_train():
    df = datasets.load_adult(DATA)
    assert df.shape == (32561, 15)
    assert list(df.columns[[4, 12, 13, 14]]) == ["education-num", "hours-per-week",
                                                  "native-country", "income"]
    assert df["income"].value_counts().to_dict() == {"<=50K": 24720, ">50K": 7841}
    missing = df.isna().sum()
    assert missing[missing > 0].to_dict() == {"workclass": 1836, "occupation": 1843,
                                             "native-country": 583}
    ints = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
    assert all(df[c].dtype == np.int64 for c in ints)
    assert not df["workclass"].dropna().str.startswith(" ").any()
    assert df["age"].mean() == pytest.approx(38.581647)


@needs_data
def test_adult_test_and_all():
    te = datasets.load_adult(DATA, split="test")
    assert te.shape == (16281, 15)
    assert te["income"].value_counts().to_dict() == {"<=50K": 12435, ">50K": 3846}
    missing = te.isna().sum()
    assert missing[missing > 0].to_dict() == {"workclass": 963, "occupation": 966,
                                             "native-country": 274}
    both = datasets.load_adult(DATA, split="all")
    assert both.shape == (32561 + 16281, 15)
    assert both.index.is_unique


@needs_data
def test_credit_card_fraud():
    df = datasets.load_credit_card_fraud(DATA)
    assert df.shape == (1722, 31)
    assert df.columns[0] == "Time" and df.columns[-1] == "Class"
    assert df["Class"].dtype == np.int64
    assert df["Class"].value_counts().to_dict() == {0: 1230, 1: 492}
    assert df.loc[df["Class"] == 1, "Amount"].sum() == pytest.approx(60127.97)


@needs_data
def test_mushroom():
    df = datasets.load_mushroom(DATA)
    assert df.shape == (8124, 23)
    assert df["class"].value_counts().to_dict() == {"e": 4208, "p": 3916}
    missing = df.isna().sum()
    assert missing[missing > 0].to_dict() == {"stalk-root": 2480}
    assert df["veil-type"].unique().tolist() == ["p"]


@needs_data
def test_car():
    df = datasets.load_car(DATA)
    assert df.shape == (1728, 7)
    assert list(df.columns) == ["buying", "maint", "doors", "persons", "lug_boot", "safety", "class"]
    assert df["class"].value_counts().to_dict() == {"unacc": 1210, "acc": 384, "good": 69,
                                                   "vgood": 65}
    assert set(df["doors"]) == {"2", "3", "4", "5more"}
    assert set(df["persons"]) == {"2", "4", "more"}


def test_breast_cancer_needs_no_files(tmp_path):
    df = datasets.load_breast_cancer(tmp_path)
    assert df.shape == (569, 31)
    assert df["diagnosis"].value_counts().to_dict() == {"benign": 357, "malignant": 212}


@needs_data
def test_mnist():
    images, labels = datasets.load_mnist(DATA)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    counts = np.bincount(labels, minlength=10).tolist()
    assert counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert images.mean() / 255 == pytest.approx(0.13251, abs=1e-5)


@needs_data
@pytest.mark.parametrize("name", sorted(datasets.DATASETS))
def test_registry(name):
    info = datasets.DATASETS[name]
    for rel in info.files:
        assert (DATA / rel).is_file(), rel
    df = datasets.load(name, DATA)
    assert isinstance(df, pd.DataFrame)
    assert info.target in df.columns


@needs_data
def test_load_aliases_and_options():
    assert datasets.DATASETS["fraud"] is datasets.DATASETS["credit_card_fraud"]
    pd.testing.assert_frame_equal(datasets.load("Credit-Card-Fraud", DATA),
                                  datasets.load_credit_card_fraud(DATA))
    assert len(datasets.load("adult", DATA, split="test")) == 16281


# --- where the data is looked for ----------------------------------------------------------


@needs_data
def test_env_var_is_honoured(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GANFORGE_DATA", str(DATA))
    assert datasets.data_root() == DATA
    assert datasets.load_car().shape == (1728, 7)
    # An explicit argument wins over the environment.
    assert datasets.data_root(tmp_path) == tmp_path


def test_env_var_points_to_empty_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("GANFORGE_DATA", str(tmp_path))
    with pytest.raises(DataError, match="GANFORGE_DATA") as err:
        datasets.load("mushroom")
    assert str(tmp_path / "mushroom" / "agaricus-lepiota.data") in str(err.value)


def test_data_root_cwd_candidate(monkeypatch, tmp_path):
    monkeypatch.delenv("GANFORGE_DATA", raising=False)
    work = tmp_path / "work"
    (work / "shared" / "datasets").mkdir(parents=True)
    monkeypatch.chdir(work)
    assert datasets.data_root() == (work / "shared" / "datasets").resolve()
    (tmp_path / "shared" / "datasets").mkdir(parents=True)  # ../shared/datasets comes first
    assert datasets.data_root() == (tmp_path / "shared" / "datasets").resolve()


def test_data_root_falls_back_to_cwd_path(monkeypatch, tmp_path):
    monkeypatch.delenv("GANFORGE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(datasets, "__file__", str(tmp_path / "repo/src/ganforge/datasets.py"))
    assert datasets.data_root() == (tmp_path / "../shared/datasets").resolve()


# --- errors ----------------------------------------------------------------------------------


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(DataError) as err:
        datasets.load_adult(tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "adult" / "adult.data") in msg
    assert "--data-dir" in msg and "GANFORGE_DATA" in msg and "adult/" in msg
    assert "\n" not in msg


def test_missing_mnist_file(tmp_path):
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        datasets.load_mnist(tmp_path)


def test_unknown_name():
    with pytest.raises(DataError, match="unknown dataset 'iris'") as err:
        datasets.load("iris")
    assert "adult" in str(err.value) and "breast_cancer" in str(err.value)


def test_bad_options():
    with pytest.raises(DataError, match="unknown adult split"):
        datasets.load_adult(split="validation")
    with pytest.raises(DataError, match="does not take"):
        datasets.load("breast_cancer", split="train")


def _write_idx(path: Path, magic: int, dims: tuple[int, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = struct.pack(f">{1 + len(dims)}I", magic, *dims)
    with gzip.open(path, "wb") as fh:
        fh.write(header + bytes(int(np.prod(dims))))


def test_mnist_wrong_magic(tmp_path):
    _write_idx(tmp_path / "mnist/t10k-images-idx3-ubyte.gz", 2049, (2, 28, 28))
    _write_idx(tmp_path / "mnist/t10k-labels-idx1-ubyte.gz", 2049, (2,))
    with pytest.raises(DataError, match="magic number 2049, expected 2051"):
        datasets.load_mnist(tmp_path)


def test_mnist_small_valid_and_not_gzip(tmp_path):
    _write_idx(tmp_path / "mnist/t10k-images-idx3-ubyte.gz", 2051, (3, 28, 28))
    _write_idx(tmp_path / "mnist/t10k-labels-idx1-ubyte.gz", 2049, (3,))
    images, labels = datasets.load_mnist(tmp_path)
    assert images.shape == (3, 28, 28) and labels.shape == (3,)
    (tmp_path / "mnist/t10k-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="cannot read dataset file"):
        datasets.load_mnist(tmp_path)


def test_german_wrong_columns_and_codes(tmp_path):
    path = tmp_path / "german_credit" / "german.data"
    path.parent.mkdir()
    path.write_text("A11 6 A34\n")
    with pytest.raises(DataError, match="has 3 columns, expected 21"):
        datasets.load_german(tmp_path)
    row = "A19 6 A34 A43 1169 A65 A75 4 A93 A101 4 A121 67 A143 A152 2 A173 1 A192 A201 1\n"
    path.write_text(row)
    with pytest.raises(DataError, match="unknown codes \\['A19'\\] in column 'checking_status'"):
        datasets.load_german(tmp_path)


def test_adult_corrupt_numeric(tmp_path):
    path = tmp_path / "adult" / "adult.data"
    path.parent.mkdir()
    path.write_text("x, Private, 1, HS-grad, 9, Divorced, Sales, Unmarried, White, Male,"
                    " 0, 0, 40, United-States, <=50K\n")
    with pytest.raises(DataError, match="column 'age' is not all integers"):
        datasets.load_adult(tmp_path)
