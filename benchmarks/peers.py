"""Peer tabular generators for the benchmark (tested with the bench extra:
torch 2.13.0+cpu, mostlyai-engine 2.7.3, sdv 2.0.0, ctgan 0.12.1, pandas 2.3.3).

Every function takes a pandas DataFrame and returns a DataFrame with exactly
the same columns (same order).  With ``harmonize_dtypes=True`` (default) the
output is cast back to the input's dtypes where that is lossless-ish (see
``match_dtypes``); pass ``False`` to get each tool's raw output.

Input recommendations (all four tools):
  * string column names (SDV converts non-str names to str; the engine writes parquet)
  * categorical columns as ``object`` (or pandas ``string``) dtype; ``category`` dtype
    is rejected by SDV CTGAN/TVAE and is turned to object here anyway
  * numeric columns as float64 / int64 (NaN allowed in float; ``Int64`` allowed)
  * bool columns are fine for TabularARGN/SDV, the plain ctgan path treats them as discrete
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "fit_sample_tabularargn",
    "fit_sample_gaussian_copula",
    "fit_sample_ctgan",
    "fit_sample_tvae",
    "match_dtypes",
]


# --------------------------------------------------------------------------- helpers
def _prep_input(train: pd.DataFrame) -> pd.DataFrame:
    """Common, conservative input clean-up: str column names, category -> object."""
    df = train.copy()
    if not all(isinstance(c, str) for c in df.columns):
        raise ValueError("use string column names")
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def match_dtypes(syn: pd.DataFrame, train: pd.DataFrame) -> pd.DataFrame:
    """Return ``syn`` with the columns/order of ``train`` and, where possible, its dtypes.

    * int64 input -> rounded int64 if the synthetic column has no missing values,
      otherwise pandas ``Int64``
    * float64 input -> float64 (nullable Float64 / Int64 are converted, <NA> -> NaN)
    * bool input -> bool if no missing values else ``boolean``
    * object / string / category input -> same dtype (missing -> None/NaN/<NA>)
    * datetime64 input -> datetime64 of the same unit
    """
    out = pd.DataFrame(index=pd.RangeIndex(len(syn)))
    syn = syn.reset_index(drop=True)
    for c in train.columns:
        s = syn[c]
        dt = train[c].dtype
        try:
            if pd.api.types.is_bool_dtype(dt):
                if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
                    s = s.map({"True": True, "False": False, True: True, False: False})
                s = s.astype("boolean")
                s = s.astype(bool) if (dt == bool and not s.isna().any()) else s
            elif pd.api.types.is_integer_dtype(dt):
                s = pd.to_numeric(s, errors="coerce").astype("Float64").round()
                if isinstance(dt, pd.api.extensions.ExtensionDtype) or s.isna().any():
                    s = s.astype("Int64")
                else:
                    s = s.astype(dt)
            elif pd.api.types.is_float_dtype(dt):
                s = pd.to_numeric(s, errors="coerce")
                s = s.astype(dt) if isinstance(dt, pd.api.extensions.ExtensionDtype) else s.astype("float64")
            elif pd.api.types.is_datetime64_any_dtype(dt):
                if pd.api.types.is_numeric_dtype(s.dtype):  # ns since epoch (ctgan path)
                    s = pd.to_datetime(pd.to_numeric(s).round(), unit="ns", errors="coerce")
                s = pd.to_datetime(s, errors="coerce").astype(dt)
            elif isinstance(dt, pd.CategoricalDtype):
                s = s.astype(object).where(s.notna(), None).astype(dt)
            elif pd.api.types.is_string_dtype(dt) and dt != object:  # pandas "string"
                s = s.astype(dt)
            else:  # object
                s = s.astype(object).where(s.notna(), None)
                if train[c].isna().any() and not train[c].map(lambda v: v is None).any():
                    s = s.where(s.notna(), np.nan)
        except (TypeError, ValueError):
            pass  # keep the tool's own dtype
        out[c] = s.values
    return out


# --------------------------------------------------------------------------- TabularARGN
def fit_sample_tabularargn(
    train: pd.DataFrame,
    n: int,
    seed: int,
    workdir: str,
    *,
    max_training_time: float | None = None,  # minutes; None -> engine default 14400 (10 days)
    max_epochs: float | None = None,  # None -> engine default 100 (+ early stopping)
    model: str | None = None,  # None -> "MOSTLY_AI/Medium"; also "MOSTLY_AI/Small"/"Large"
    num_threads: int | None = None,  # torch intra-op threads; None -> leave as is
    value_protection: bool = True,  # engine default (rare-category / extreme-value protection)
    rare_category_replacement_method: str = "CONSTANT",  # engine default; "SAMPLE" avoids "_RARE_"
    verbose: bool = False,
    harmonize_dtypes: bool = True,
    keep_workdir: bool = True,
    **train_kwargs,  # passed to mostlyai.engine.train, e.g. enable_flexible_generation, batch_size
) -> pd.DataFrame:
    """Train MOSTLY AI TabularARGN (flat table, no context) on CPU and sample ``n`` rows.

    All defaults are the engine's own: MOSTLY_AI/Medium, max 100 epochs, max 14400 min,
    early stopping (val-loss patience 4 epochs; best-val-loss checkpoint is used),
    80/20 train/validation split, value protection on.
    """
    import torch

    with warnings.catch_warnings():
        # mostlyai/engine/splitting.py runs warnings.simplefilter("ignore", UserWarning) at
        # import time (process-wide); catch_warnings() undoes that on exit.
        import mostlyai.engine as me
        from mostlyai.engine.logging import disable_logging

    for name, v in (("max_training_time", max_training_time), ("max_epochs", max_epochs)):
        if v is not None and v <= 0:  # the engine silently maps falsy values to its defaults
            raise ValueError(f"{name} must be > 0 or None")
    df = _prep_input(train)
    ws = Path(workdir)
    if ws.exists() and any(ws.iterdir()):
        if not ((ws / "OriginalData").exists() or (ws / "ModelStore").exists()):
            raise ValueError(f"{ws} is not empty and not an engine workspace; refusing to delete it")
        shutil.rmtree(ws)  # split() only resets sub-folders; start from a clean workspace
    ws.mkdir(parents=True, exist_ok=True)

    # `datasets.load_dataset` (used inside train) caches Arrow files under
    # ~/.cache/huggingface/datasets by default -> redirect into the workspace.
    import datasets.config as hf_cfg

    old_cache = hf_cfg.HF_DATASETS_CACHE
    hf_cfg.HF_DATASETS_CACHE = ws / "hf-datasets-cache"
    old_threads = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    me.init_logging() if verbose else disable_logging()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            me.set_random_state(seed)  # seeds random/np/torch + env MOSTLYAI_ENGINE_SEED
            me.split(tgt_data=df, workspace_dir=ws, model_type="TABULAR")  # 80/20 trn/val split
            me.analyze(workspace_dir=ws, value_protection=value_protection)
            me.encode(workspace_dir=ws)
            me.train(
                workspace_dir=ws,
                model=model,
                max_training_time=max_training_time,
                max_epochs=max_epochs,
                device="cpu",
                **train_kwargs,
            )
            me.set_random_state(seed)  # make sampling independent of training RNG consumption
            me.generate(
                workspace_dir=ws,
                sample_size=n,
                device="cpu",
                rare_category_replacement_method=rare_category_replacement_method,
            )
        parts = sorted((ws / "SyntheticData").glob("*.parquet"))
        syn = pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)
    finally:
        hf_cfg.HF_DATASETS_CACHE = old_cache
        if num_threads:
            torch.set_num_threads(old_threads)
        if not keep_workdir:
            shutil.rmtree(ws, ignore_errors=True)
    syn = syn[list(train.columns)]
    return match_dtypes(syn, train) if harmonize_dtypes else syn


# --------------------------------------------------------------------------- SDV GaussianCopula
def _sdv_metadata(df: pd.DataFrame, table: str = "table", discrete_columns=None):
    from sdv.metadata import Metadata

    # SDV 2.0.0: Metadata.detect_from_dataframe(df) is gone (now private);
    # detect_from_dataframes takes {name: df}. infer_keys=None: never turn a column into a key.
    md = Metadata.detect_from_dataframes({table: df}, infer_keys=None)
    sdtypes = {c: v["sdtype"] for c, v in md.tables[table].columns.items()}
    # Never let SDV treat a column as PII/id/text (it would be faked, not learned).
    for c, st in sdtypes.items():
        if st not in ("numerical", "categorical", "boolean", "datetime", "ordinal"):
            if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
                md.update_column(c, table_name=table, sdtype="numerical")
            else:
                md.update_column(c, table_name=table, sdtype="categorical")
    for c in discrete_columns or []:
        if sdtypes.get(c) not in ("categorical", "boolean"):
            md.update_column(c, table_name=table, sdtype="categorical")
    return md


def fit_sample_gaussian_copula(
    train: pd.DataFrame,
    n: int,
    seed: int,
    *,
    discrete_columns=None,
    default_distribution: str = "beta",  # SDV default
    harmonize_dtypes: bool = True,
) -> pd.DataFrame:
    """SDV 2.0.0 GaussianCopulaSynthesizer with default settings."""
    from sdv.single_table import GaussianCopulaSynthesizer

    df = _prep_input(train)
    md = _sdv_metadata(df, discrete_columns=discrete_columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        synth = GaussianCopulaSynthesizer(md, default_distribution=default_distribution)
        synth.fit({"table": df})  # SDV 2.0.0: fit/sample use {table_name: DataFrame}
        synth._set_random_state(seed)  # default would be the fixed seed 73251
        syn = synth.sample(num_rows=n)["table"]
    syn = syn[list(train.columns)]
    return match_dtypes(syn, train) if harmonize_dtypes else syn


# --------------------------------------------------------------------------- plain ctgan
NULL_SUFFIX = "__is_null"


def _ctgan_input(train: pd.DataFrame, discrete_columns):
    """Make a frame the plain ctgan models accept.

    ctgan 0.12.1: CTGAN raises InvalidDataError on NaN in continuous columns and TVAE crashes
    (ValueError: Shape of passed values ...).  So, for each continuous column with NaN, fill NaN
    with the median and add a discrete indicator column ``<col>__is_null`` ("0"/"1"), learned
    jointly with the rest; ``_ctgan_output`` puts the NaN back.
    """
    df = _prep_input(train)
    null_cols = []
    for c in list(df.columns):
        s = df[c]
        if c in discrete_columns:
            # one-hot encoder: plain object values; NaN/None is its own category
            df[c] = s.astype(object).where(s.notna(), np.nan)
            continue
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            # no datetime support in ctgan: model float nanoseconds; match_dtypes converts back
            s = s.astype("datetime64[ns]").astype("int64").astype("float64").where(s.notna(), np.nan)
        elif pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            raise ValueError(f"non-numeric column {c!r} must be listed in discrete_columns")
        s = s.astype("float64")  # Int64/Float64 -> float64 with NaN
        if s.isna().any():
            if s.isna().all():
                raise ValueError(f"column {c!r} is all-NaN")
            ind = c + NULL_SUFFIX
            if ind in df.columns:
                raise ValueError(f"column name clash: {ind!r}")
            df[ind] = np.where(s.isna(), "1", "0").astype(object)
            null_cols.append(c)
            s = s.fillna(s.median())
        df[c] = s
    return df, null_cols


def _ctgan_output(syn: pd.DataFrame, null_cols) -> pd.DataFrame:
    syn = syn.copy()
    for c in null_cols:
        ind = c + NULL_SUFFIX
        syn[c] = syn[c].astype("float64").where(syn[ind].astype(str) != "1", np.nan)
    return syn


def _fit_sample_plain(cls, train, discrete_columns, n, seed, epochs, harmonize_dtypes, **kw):
    import torch

    discrete_columns = list(discrete_columns)
    df, null_cols = _ctgan_input(train, discrete_columns)
    disc = discrete_columns + [c + NULL_SUFFIX for c in null_cols]
    model = cls(epochs=epochs, enable_gpu=False, verbose=False, **kw)
    # set_random_state(seed) gives fit() and sample() private RandomState/Generator objects that
    # are swapped in for np.random / torch's global CPU RNG (globals restored afterwards);
    # the globals are seeded too, for safety.
    np.random.seed(seed)
    torch.manual_seed(seed)
    model.set_random_state(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(df, discrete_columns=disc)
        syn = model.sample(n)
    syn = _ctgan_output(syn, null_cols)[list(train.columns)]
    return match_dtypes(syn, train) if harmonize_dtypes else syn


def fit_sample_ctgan(train, discrete_columns, n, seed, epochs=300, *, harmonize_dtypes=True, **kw):
    """ctgan 0.12.1 CTGAN (defaults: batch_size=500, pac=10, dims 256x256) on CPU."""
    from ctgan import CTGAN

    return _fit_sample_plain(CTGAN, train, discrete_columns, n, seed, epochs, harmonize_dtypes, **kw)


def fit_sample_tvae(train, discrete_columns, n, seed, epochs=300, *, harmonize_dtypes=True, **kw):
    """ctgan 0.12.1 TVAE (defaults: batch_size=500, dims 128x128, loss_factor=2) on CPU."""
    from ctgan import TVAE

    return _fit_sample_plain(TVAE, train, discrete_columns, n, seed, epochs, harmonize_dtypes, **kw)
