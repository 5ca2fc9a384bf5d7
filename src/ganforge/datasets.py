"""Loaders for the benchmark datasets.

The data files are never shipped with ganforge; they are read from a data root that holds
one folder per dataset (``adult/``, ``german_credit/``, ...). See :func:`data_root` for how
that folder is found. Only :func:`load_breast_cancer` works without any files.
"""

from __future__ import annotations

import gzip
import inspect
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ganforge.errors import DataError

__all__ = [
    "DATASETS",
    "DatasetInfo",
    "data_root",
    "load",
    "load_adult",
    "load_breast_cancer",
    "load_car",
    "load_credit_card_fraud",
    "load_german",
    "load_mnist",
    "load_mushroom",
    "load_pima",
]

ENV_VAR = "GANFORGE_DATA"


def data_root(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the folder that holds the dataset folders.

    Order: ``data_dir``; the ``GANFORGE_DATA`` environment variable; the first existing of
    ``./../shared/datasets``, ``./shared/datasets`` and ``<repo>/../shared/datasets``.
    If none exists the first candidate is returned, so that the error names a real path.
    """
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    cwd = Path.cwd()
    # Read __file__ at call time (not import time) so tests can relocate the module.
    repo = Path(__file__).resolve().parents[2]
    candidates = [cwd / "../shared/datasets", cwd / "shared/datasets", repo / "../shared/datasets"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    return candidates[0].resolve()


def _data_file(data_dir: str | os.PathLike[str] | None, relpath: str) -> Path:
    """Resolve ``relpath`` under the data root; the single place that checks files exist."""
    path = data_root(data_dir) / relpath
    if not path.is_file():
        folder = relpath.split("/", 1)[0]
        raise DataError(
            f"dataset file not found: {path} (pass --data-dir / data_dir= or set "
            f"{ENV_VAR} to the folder that holds {folder}/)"
        )
    return path


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _read_csv(path: Path, ncols: int | None = None, **kw) -> pd.DataFrame:
    """``pd.read_csv`` that turns parse failures and wrong column counts into DataError."""
    try:
        df = pd.read_csv(path, **kw)
    except (ValueError, OSError) as exc:  # ParserError, EmptyDataError, UnicodeDecodeError
        raise DataError(f"cannot read dataset file {path}: {_first_line(exc)}") from exc
    if ncols is not None and df.shape[1] != ncols:
        raise DataError(
            f"dataset file {path} has {df.shape[1]} columns, expected {ncols}; "
            "is it the original, unmodified file?"
        )
    return df


def _require_columns(df: pd.DataFrame, columns: list[str], path: Path) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"dataset file {path} lacks the columns {missing}; is it the original file?")


def _as_int64(df: pd.DataFrame, columns: list[str], path: Path) -> pd.DataFrame:
    for col in columns:
        if df[col].dtype != np.int64:
            try:
                df[col] = df[col].astype("int64")
            except (ValueError, TypeError) as exc:
                raise DataError(
                    f"dataset file {path}: column {col!r} is not all integers ({_first_line(exc)})"
                ) from exc
    return df


# ---------------------------------------------------------------------------------------
# Pima Indians Diabetes

PIMA_ZERO_MEANS_MISSING = ["Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI"]
_PIMA_COLUMNS = [
    "Pregnancies", "Glucose", "BloodPressure", "SkinThickness", "Insulin", "BMI",
    "DiabetesPedigreeFunction", "Age", "Outcome",
]


def load_pima(data_dir=None, zeros_as_missing: bool = False) -> pd.DataFrame:
    """Pima Indians Diabetes, ``pima_diabetes/diabetes.csv`` (768 x 9, target ``Outcome`` 0/1).

    The file has no NaN, but a zero in Glucose, BloodPressure, SkinThickness, Insulin or BMI
    means "not measured". Zeros are kept by default; ``zeros_as_missing=True`` turns them
    into NaN in those five columns (which then become float).
    """
    path = _data_file(data_dir, "pima_diabetes/diabetes.csv")
    df = _read_csv(path)
    _require_columns(df, _PIMA_COLUMNS, path)
    if zeros_as_missing:
        cols = PIMA_ZERO_MEANS_MISSING
        df[cols] = df[cols].astype("float64").mask(df[cols] == 0)
    return df


# ---------------------------------------------------------------------------------------
# Statlog German Credit

_GERMAN_COLUMNS = [
    "checking_status", "duration_months", "credit_history", "purpose", "credit_amount",
    "savings", "employment_since", "installment_rate", "personal_status_sex", "other_debtors",
    "residence_since", "property", "age", "other_installment_plans", "housing",
    "existing_credits", "job", "num_dependents", "telephone", "foreign_worker", "class",
]
_GERMAN_INT = [
    "duration_months", "credit_amount", "installment_rate", "residence_since", "age",
    "existing_credits", "num_dependents",
]
# Short labels for the codes in german.doc (DM = Deutsche Mark).
GERMAN_CODES: dict[str, dict[str, str]] = {
    "checking_status": {
        "A11": "< 0 DM",
        "A12": "0 to < 200 DM",
        "A13": ">= 200 DM / salary assignment",
        "A14": "no checking account",
    },
    "credit_history": {
        "A30": "no credits / all paid back duly",
        "A31": "all paid back duly at this bank",
        "A32": "existing paid back duly till now",
        "A33": "delay in paying off in the past",
        "A34": "critical account / credits elsewhere",
    },
    "purpose": {
        "A40": "car (new)",
        "A41": "car (used)",
        "A42": "furniture/equipment",
        "A43": "radio/television",
        "A44": "domestic appliances",
        "A45": "repairs",
        "A46": "education",
        "A47": "vacation",
        "A48": "retraining",
        "A49": "business",
        "A410": "others",
    },
    "savings": {
        "A61": "< 100 DM",
        "A62": "100 to < 500 DM",
        "A63": "500 to < 1000 DM",
        "A64": ">= 1000 DM",
        "A65": "unknown / no savings account",
    },
    "employment_since": {
        "A71": "unemployed",
        "A72": "< 1 year",
        "A73": "1 to < 4 years",
        "A74": "4 to < 7 years",
        "A75": ">= 7 years",
    },
    "personal_status_sex": {
        "A91": "male: divorced/separated",
        "A92": "female: divorced/separated/married",
        "A93": "male: single",
        "A94": "male: married/widowed",
        "A95": "female: single",
    },
    "other_debtors": {"A101": "none", "A102": "co-applicant", "A103": "guarantor"},
    "property": {
        "A121": "real estate",
        "A122": "savings agreement / life insurance",
        "A123": "car or other",
        "A124": "unknown / no property",
    },
    "other_installment_plans": {"A141": "bank", "A142": "stores", "A143": "none"},
    "housing": {"A151": "rent", "A152": "own", "A153": "for free"},
    "job": {
        "A171": "unemployed / unskilled non-resident",
        "A172": "unskilled resident",
        "A173": "skilled employee / official",
        "A174": "management / self-employed / highly qualified",
    },
    "telephone": {"A191": "none", "A192": "yes, registered"},
    "foreign_worker": {"A201": "yes", "A202": "no"},
}
_GERMAN_CLASS = {1: "good", 2: "bad"}


def _decode(df: pd.DataFrame, col: str, codes: dict, path: Path) -> None:
    unknown = sorted(set(df[col].dropna().unique()) - set(codes), key=str)
    if unknown:
        raise DataError(f"dataset file {path}: unknown codes {unknown[:5]} in column {col!r}")
    df[col] = df[col].map(codes)


def load_german(data_dir=None) -> pd.DataFrame:
    """Statlog German Credit, ``german_credit/german.data`` (1000 x 21).

    Columns get snake_case names, the A-codes are decoded into short labels from german.doc
    (see ``GERMAN_CODES``) and the target ``class`` is "good" (1) or "bad" (2).
    """
    path = _data_file(data_dir, "german_credit/german.data")
    df = _read_csv(path, ncols=len(_GERMAN_COLUMNS), sep=" ", header=None,
                   keep_default_na=False)
    df.columns = _GERMAN_COLUMNS
    _as_int64(df, _GERMAN_INT + ["class"], path)
    for col, codes in GERMAN_CODES.items():
        _decode(df, col, codes, path)
    _decode(df, "class", _GERMAN_CLASS, path)
    return df


# ---------------------------------------------------------------------------------------
# Adult (Census Income)

_ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]
_ADULT_INT = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
_ADULT_SPLITS = ("train", "test", "all")


def _read_adult(path: Path, test: bool) -> pd.DataFrame:
    skip = 0
    if test:
        # Only skip the UCI banner ("|1x3 Cross validator") if it is really there, so a copy
        # without it does not silently lose its first row.
        with open(path, encoding="utf-8", errors="replace") as fh:
            skip = 1 if fh.readline().startswith("|") else 0
    df = _read_csv(path, ncols=len(_ADULT_COLUMNS), header=None, skipinitialspace=True,
                   skiprows=skip, na_values=["?"], keep_default_na=False)
    df.columns = _ADULT_COLUMNS
    _as_int64(df, _ADULT_INT, path)
    if test:
        df["income"] = df["income"].str.rstrip(".")
    bad = sorted(set(df["income"].dropna().unique()) - {"<=50K", ">50K"})
    if bad:
        raise DataError(f"dataset file {path}: unexpected income labels {bad[:5]}")
    return df


def load_adult(data_dir=None, split: str = "train") -> pd.DataFrame:
    """UCI Adult: ``split`` is "train" (32561 rows), "test" (16281) or "all" (both, in that order).

    ``?`` becomes NaN (workclass, occupation, native-country). The test labels lose their
    trailing ".", so ``income`` is "<=50K" or ">50K" in both splits.
    """
    if split not in _ADULT_SPLITS:
        raise DataError(f"unknown adult split {split!r}; use one of {', '.join(_ADULT_SPLITS)}")
    parts = []
    if split in ("train", "all"):
        parts.append(_read_adult(_data_file(data_dir, "adult/adult.data"), test=False))
    if split in ("test", "all"):
        parts.append(_read_adult(_data_file(data_dir, "adult/adult.test"), test=True))
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------------------
# Credit card fraud (subset), mushroom, car


def load_credit_card_fraud(data_dir=None) -> pd.DataFrame:
    """ULB credit card fraud subset, ``credit_card_fraud/creditcard_sample.csv`` (1722 x 31).

    Holds all 492 frauds but only 1230 normal rows: the fraud rate (28.6%) is not the real one.
    Target ``Class`` is int 0/1.
    """
    path = _data_file(data_dir, "credit_card_fraud/creditcard_sample.csv")
    # The first, unnamed column is a row counter written by to_csv, not data.
    df = _read_csv(path, index_col=0)
    expected = ["Time", *(f"V{i}" for i in range(1, 29)), "Amount", "Class"]
    _require_columns(df, expected, path)
    df = df[expected].reset_index(drop=True)
    return _as_int64(df, ["Class"], path)


MUSHROOM_COLUMNS = [
    "class", "cap-shape", "cap-surface", "cap-color", "bruises", "odor", "gill-attachment",
    "gill-spacing", "gill-size", "gill-color", "stalk-shape", "stalk-root",
    "stalk-surface-above-ring", "stalk-surface-below-ring", "stalk-color-above-ring",
    "stalk-color-below-ring", "veil-type", "veil-color", "ring-number", "ring-type",
    "spore-print-color", "population", "habitat",
]


def load_mushroom(data_dir=None) -> pd.DataFrame:
    """UCI Mushroom, ``mushroom/agaricus-lepiota.data`` (8124 x 23), single-letter codes.

    Target ``class`` is "e" (edible) or "p" (poisonous); ``?`` in stalk-root becomes NaN.
    veil-type is constant ("p").
    """
    path = _data_file(data_dir, "mushroom/agaricus-lepiota.data")
    # keep_default_na=False: only "?" marks a missing value, never a code such as "n".
    df = _read_csv(path, ncols=len(MUSHROOM_COLUMNS), header=None, dtype=str,
                   na_values=["?"], keep_default_na=False)
    df.columns = MUSHROOM_COLUMNS
    return df


CAR_COLUMNS = ["buying", "maint", "doors", "persons", "lug_boot", "safety", "class"]


def load_car(data_dir=None) -> pd.DataFrame:
    """UCI Car Evaluation, ``car_evaluation/car.data`` (1728 x 7), every column a string.

    doors ("5more") and persons ("more") look numeric but are not. Target ``class``:
    unacc, acc, good, vgood.
    """
    path = _data_file(data_dir, "car_evaluation/car.data")
    df = _read_csv(path, ncols=len(CAR_COLUMNS), header=None, dtype=str, na_filter=False)
    df.columns = CAR_COLUMNS
    return df


def load_breast_cancer(data_dir=None) -> pd.DataFrame:
    """Wisconsin breast cancer from scikit-learn (569 x 31); needs no files.

    ``data_dir`` is accepted for a uniform signature and ignored. Target ``diagnosis`` is
    "malignant" or "benign".
    """
    from sklearn.datasets import load_breast_cancer as _sk_load

    bunch = _sk_load(as_frame=True)
    df = bunch.data.copy()
    names = np.asarray(bunch.target_names, dtype=object)
    df["diagnosis"] = pd.Series(names[bunch.target.to_numpy()], index=df.index).astype(str)
    return df


# ---------------------------------------------------------------------------------------
# MNIST (test split, IDX format)


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    """Read a gzipped big-endian IDX file whose header holds ``ndim`` dimension sizes."""
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise DataError(f"cannot read dataset file {path}: {_first_line(exc)}") from exc
    header = 4 * (1 + ndim)
    if len(raw) < header:
        raise DataError(f"dataset file {path} is too short to be an IDX file")
    found, *dims = struct.unpack(f">{1 + ndim}I", raw[:header])
    if found != magic:
        raise DataError(f"dataset file {path} has IDX magic number {found}, expected {magic}")
    expected = int(np.prod(dims))
    if len(raw) - header != expected:
        raise DataError(
            f"dataset file {path} holds {len(raw) - header} bytes of data, header says {expected}"
        )
    # Copy so callers get a writable array, not a view of an immutable bytes object.
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims).copy()


def load_mnist(data_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST test split from ``mnist/t10k-*-ubyte.gz``: images uint8 (10000, 28, 28), labels uint8.

    Only the test split is available; the training images are not in the data folder.
    """
    images = _read_idx(_data_file(data_dir, "mnist/t10k-images-idx3-ubyte.gz"), 2051, 3)
    labels = _read_idx(_data_file(data_dir, "mnist/t10k-labels-idx1-ubyte.gz"), 2049, 1)
    if len(images) != len(labels):
        raise DataError(f"MNIST has {len(images)} images but {len(labels)} labels")
    return images, labels


# ---------------------------------------------------------------------------------------
# Registry


@dataclass(frozen=True)
class DatasetInfo:
    """One tabular dataset: its loader, target column and files (relative to the data root)."""

    name: str
    loader: Callable[..., pd.DataFrame]
    target: str
    files: tuple[str, ...]
    description: str


_FRAUD = DatasetInfo(
    "credit_card_fraud", load_credit_card_fraud, "Class",
    ("credit_card_fraud/creditcard_sample.csv",),
    "ULB card transactions, all 492 frauds + 1230 normal rows; 30 numeric columns",
)

DATASETS: dict[str, DatasetInfo] = {
    "pima": DatasetInfo(
        "pima", load_pima, "Outcome", ("pima_diabetes/diabetes.csv",),
        "Pima Indians diabetes, 768 rows, 8 numeric columns (zeros mean missing in 5)",
    ),
    "german": DatasetInfo(
        "german", load_german, "class", ("german_credit/german.data",),
        "Statlog German credit, 1000 rows, 7 numeric + 13 categorical columns",
    ),
    "adult": DatasetInfo(
        "adult", load_adult, "income", ("adult/adult.data", "adult/adult.test"),
        "UCI census income, 32561 train + 16281 test rows, 6 numeric + 8 categorical",
    ),
    "credit_card_fraud": _FRAUD,
    "fraud": _FRAUD,
    "mushroom": DatasetInfo(
        "mushroom", load_mushroom, "class", ("mushroom/agaricus-lepiota.data",),
        "UCI mushroom, 8124 rows, 22 categorical columns",
    ),
    "car": DatasetInfo(
        "car", load_car, "class", ("car_evaluation/car.data",),
        "UCI car evaluation, 1728 rows, 6 categorical columns (complete factorial)",
    ),
    "breast_cancer": DatasetInfo(
        "breast_cancer", load_breast_cancer, "diagnosis", (),
        "Wisconsin breast cancer from scikit-learn, 569 rows, 30 numeric; needs no files",
    ),
}


def load(name: str, data_dir=None, **kw) -> pd.DataFrame:
    """Load a registered dataset by name ("credit-card-fraud" and "Adult" work too)."""
    key = str(name).strip().lower().replace("-", "_")
    if key not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; known names: {', '.join(sorted(DATASETS))}")
    info = DATASETS[key]
    try:
        inspect.signature(info.loader).bind(data_dir, **kw)
    except TypeError as exc:
        params = [p for p in inspect.signature(info.loader).parameters if p != "data_dir"]
        raise DataError(
            f"dataset {info.name!r} does not take {sorted(kw)}; its options: "
            f"{', '.join(params) or 'none'}"
        ) from exc
    return info.loader(data_dir, **kw)
