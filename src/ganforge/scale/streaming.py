"""Tables larger than memory: a Parquet file or a folder of Parquet parts (or a CSV, read in chunks).

Two passes over the data, each holding one batch of rows at a time:

1. :func:`scan` (map-reduce): row and missing counts, numeric bounds and category counts from
   every row, and a uniform sample of rows (a bottom-k sample on random keys, so the same seed
   picks the same rows whatever the batch size). Schema inference and the mixture models of the
   encoders use the sample; bounds, missing rates and category sets come from every row.
2. :func:`build_cache`: every batch is encoded with the fitted encoder and appended to a float32
   file on disk (and the condition codes to an int32 file).

Training then reads the cache with :class:`EncodedBlocks`, an ``IterableDataset`` of row blocks:
each epoch the blocks are put in a new order (the same on every rank) and shard ``s`` of
``ranks x loader workers`` takes blocks ``s, s + shards, ...``, so every row is read once per
epoch across all of them; :class:`StreamingSource` mixes the blocks it receives in a shuffle
buffer and serves batches from it. Label frequencies for conditional sampling are counts.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import torch

from .. import io
from ..errors import DataError
from ..schema import CATEGORICAL, ORDINAL, sorted_categories

#: numeric columns are counted value by value until they show more distinct values than this
#: (beyond it they can only be numeric)
NUMERIC_COUNT_CAP = 1000


def data_files(path: str | Path) -> list[Path]:
    """The Parquet files of a folder (recursively, sorted; hidden and ``_`` files skipped), or the file."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"input not found: {p}")
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in io.PARQUET_SUFFIXES
                       and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts))
        if not files:
            raise DataError(f"folder {p} holds no .parquet files")
        return files
    if p.stat().st_size == 0:
        raise DataError(f"{p} is empty: it has no header and no rows")
    return [p]


def iter_frames(path: str | Path, batch_rows: int = 65_536, sep: str | None = None) -> Iterator[pd.DataFrame]:
    """The table in DataFrames of at most ``batch_rows`` rows, with the same columns and dtypes each time."""
    files = data_files(path)
    if len(files) == 1 and files[0].suffix.lower() not in io.PARQUET_SUFFIXES:
        yield from _csv_frames(files[0], batch_rows, sep)
        return
    import pyarrow.parquet as pq

    first_schema = None
    for f in files:
        try:
            pf = pq.ParquetFile(f)
        except Exception as exc:
            raise DataError(f"cannot read {f} as Parquet: {str(exc).splitlines()[0]}") from None
        if first_schema is None:
            first_schema = pf.schema_arrow
        elif pf.schema_arrow.names != first_schema.names:
            raise DataError(f"{f} has columns {pf.schema_arrow.names}, but {files[0]} has {first_schema.names}: "
                            f"every part of a table needs the same columns")
        for batch in pf.iter_batches(batch_size=batch_rows):
            df = batch.to_pandas()
            index_cols = [c for c in df.columns if str(c).startswith("__index_level_")]
            if index_cols:  # a pandas index stored by to_parquet(index=True) is not data
                df = df.drop(columns=index_cols)
            if len(df):
                yield df


def _csv_frames(p: Path, batch_rows: int, sep: str | None) -> Iterator[pd.DataFrame]:
    encoding = io.text_encoding(p)  # a file that is not UTF-8: read as Latin-1, with a warning
    sep = sep or io.sniff_sep(p, encoding)
    io.check_header(p, sep, encoding)
    kw = dict(sep=sep, skipinitialspace=True, na_values=io.DEFAULT_NA_VALUES, encoding=encoding)
    try:
        head = pd.read_csv(p, nrows=batch_rows, **kw)
        # the first batch fixes the dtypes: numbers stay numbers (float: a later batch may miss a value)
        dtypes = {c: ("float64" if pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
                      else "object") for c, t in head.dtypes.items()}
        for chunk in pd.read_csv(p, chunksize=batch_rows, dtype=dtypes, **kw):
            yield chunk
    except pd.errors.EmptyDataError:
        raise DataError(f"{p} has no data: the file holds no columns") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"cannot read {p} in chunks: {str(exc).splitlines()[0]}; a column that holds numbers in "
                        f"the first {batch_rows} rows must hold numbers (or nothing) in every row") from None


@dataclass
class Scan:
    rows: int
    sample: pd.DataFrame
    nulls: dict[str, int]
    mins: dict[str, float]
    maxs: dict[str, float]
    counts: dict[str, Counter] = field(default_factory=dict)
    digest: str = ""

    def apply(self, schema) -> None:
        """Bounds, missing rates and category sets of ``schema`` from every row, not the sample."""
        for spec in schema.columns:
            name = spec.name
            spec.missing_rate = self.nulls[name] / self.rows
            if spec.kind == CATEGORICAL:
                if name not in self.counts:
                    raise DataError(f"column {name!r} looks categorical in the sample but has more than "
                                    f"{NUMERIC_COUNT_CAP} distinct numbers in the whole table: declare it with "
                                    f"`numeric` {name}")
                spec.categories = sorted_categories(self.counts[name])
            elif spec.kind != ORDINAL and spec.is_numeric and name in self.mins:
                spec.min, spec.max = self.mins[name], self.maxs[name]


def scan(path: str | Path, sample_rows: int, seed: int = 0, batch_rows: int = 65_536,
         sep: str | None = None) -> Scan:
    """One pass: counts and bounds from every row and a uniform sample of ``sample_rows`` rows."""
    rng = np.random.default_rng(seed)
    rows = 0
    kept: pd.DataFrame | None = None
    kept_keys = np.empty(0)
    nulls: Counter = Counter()
    mins: dict[str, float] = {}
    maxs: dict[str, float] = {}
    counts: dict[str, Counter] = {}
    overflow: set[str] = set()
    h = hashlib.sha256()
    for df in iter_frames(path, batch_rows, sep):
        if rows == 0:
            if df.columns.duplicated().any():
                raise DataError(f"{path}: duplicate column names {df.columns[df.columns.duplicated()].tolist()}")
            h.update(json.dumps([str(c) for c in df.columns]).encode())
        n = len(df)
        keys = rng.random(n)
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        for c in df.columns:
            s = df[c]
            nulls[c] += int(s.isna().sum())
            numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
            if numeric:
                v = s.to_numpy(dtype=float, na_value=np.nan)
                fin = v[np.isfinite(v)]
                if len(fin):
                    mins[c] = min(mins.get(c, np.inf), float(fin.min()))
                    maxs[c] = max(maxs.get(c, -np.inf), float(fin.max()))
            if c in overflow:
                continue
            vc = s.value_counts(dropna=True)
            cnt = counts.setdefault(c, Counter())
            cnt.update(dict(zip(vc.index.tolist(), vc.to_numpy().tolist())))
            if numeric and len(cnt) > NUMERIC_COUNT_CAP:
                overflow.add(c)
                del counts[c]
        # bottom-k sample on the keys: uniform, and independent of how the rows were batched
        if kept is None:
            pick = np.argsort(keys, kind="stable")[:sample_rows]
            kept, kept_keys = df.iloc[pick].reset_index(drop=True), keys[pick]
        elif len(kept) < sample_rows or keys.min() < kept_keys.max():
            both = pd.concat([kept, df], ignore_index=True)
            all_keys = np.concatenate([kept_keys, keys])
            pick = np.argsort(all_keys, kind="stable")[:sample_rows]
            kept, kept_keys = both.iloc[pick].reset_index(drop=True), all_keys[pick]
        rows += n
    if rows == 0 or kept is None:
        raise DataError(f"{path} has no rows: give at least a few rows of data")
    order = np.argsort(kept_keys, kind="stable")
    sample = kept.iloc[order].reset_index(drop=True)
    return Scan(rows, sample, dict(nulls), mins, maxs, counts, digest=f"{rows}x{sample.shape[1]}:{h.hexdigest()[:12]}")


def fit_frame(sample: pd.DataFrame, schema, scan_: Scan) -> pd.DataFrame:
    """The sample with two rows added that hold every numeric column's minimum and maximum over the
    whole table, so that scalers fitted on it cover every row."""
    extra = sample.iloc[[0, 0]].copy()
    for spec in schema.columns:
        if spec.is_numeric and spec.min is not None:
            extra[spec.name] = [spec.min, spec.max]
    return pd.concat([sample, extra], ignore_index=True)


# --- the on-disk cache of encoded rows ---------------------------------------------------------
@dataclass
class Cache:
    folder: Path
    rows: int
    width: int
    conditional: bool

    @property
    def x_path(self) -> Path:
        return self.folder / "encoded.f32"

    @property
    def codes_path(self) -> Path:
        return self.folder / "codes.i32"

    def read(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Rows ``[start, stop)``, read from the files (no memory map: only these rows are held)."""
        n = stop - start
        x = np.fromfile(self.x_path, dtype=np.float32, count=n * self.width, offset=start * self.width * 4)
        codes = None
        if self.conditional:
            codes = np.fromfile(self.codes_path, dtype=np.int32, count=n, offset=start * 4)
        return x.reshape(n, self.width), codes

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "width": self.width, "conditional": self.conditional}

    @classmethod
    def open(cls, folder: Path) -> "Cache":
        """A cache that :func:`build_cache` wrote (another process's, in a distributed run)."""
        meta = json.loads((folder / "cache.json").read_text())
        return cls(folder, meta["rows"], meta["width"], meta["conditional"])


def build_cache(path, encoder, folder: Path, codes_of, batch_rows: int = 65_536, sep: str | None = None) -> Cache:
    """Encode the table batch by batch into ``folder``; ``codes_of(df)`` gives condition codes or None."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, conditional = 0, None
    cols = encoder.features.names
    with open(folder / "encoded.f32", "wb") as fx, open(folder / "codes.i32", "wb") as fc:
        for df in iter_frames(path, batch_rows, sep):
            x = encoder.transform(df[cols])
            fx.write(np.ascontiguousarray(x, dtype=np.float32).tobytes())
            codes = codes_of(df)
            conditional = codes is not None
            if conditional:
                fc.write(np.asarray(codes, dtype=np.int32).tobytes())
            rows += len(df)
    cache = Cache(folder, rows, encoder.width, bool(conditional))
    (folder / "cache.json").write_text(json.dumps(cache.to_dict()))
    return cache


class EncodedBlocks(torch.utils.data.IterableDataset):
    """Blocks of ``block_rows`` cached rows, one epoch after another, for one rank.

    Epoch ``e``'s block order is a permutation drawn from ``seed`` and ``e`` (the same on every
    rank); shard ``rank * workers + worker`` of ``world * workers`` takes every ``shards``-th block
    of it, so the shards of one epoch cover each row exactly once. ``epochs=None`` repeats forever.
    """

    def __init__(self, cache: Cache, block_rows: int, rank: int = 0, world: int = 1, seed: int = 0,
                 epochs: int | None = None):
        self.cache, self.block_rows, self.rank, self.world = cache, block_rows, rank, world
        self.seed, self.epochs = seed, epochs
        self.n_blocks = math.ceil(cache.rows / block_rows)

    def shard(self) -> tuple[int, int]:
        info = torch.utils.data.get_worker_info()
        workers, worker = (1, 0) if info is None else (info.num_workers, info.id)
        return self.rank * workers + worker, self.world * workers

    def __iter__(self):
        shard, shards = self.shard()
        epoch = 0
        while self.epochs is None or epoch < self.epochs:
            order = np.random.default_rng([self.seed, epoch]).permutation(self.n_blocks)
            for b in order[shard::shards]:
                start = int(b) * self.block_rows
                stop = min(start + self.block_rows, self.cache.rows)
                x, codes = self.cache.read(start, stop)
                ids = np.arange(start, stop, dtype=np.int64)
                yield torch.from_numpy(x), (None if codes is None else torch.from_numpy(codes.astype(np.int64))), \
                    torch.from_numpy(ids)
            epoch += 1


def collate_none(item):
    return item


class StreamingSource:
    """Batches of real rows from the cache through a shuffle buffer (the trainer's BatchSource)."""

    def __init__(self, cache: Cache, device: torch.device, rank: int = 0, world: int = 1,
                 seed: int = 0, block_rows: int = 4096, buffer_rows: int = 65_536, workers: int = 0,
                 frequencies=None, onehot=None):
        """``onehot(codes)``: the condition vectors of label codes (a conditional cache)."""
        self.cache, self.device = cache, device
        #: label frequencies (counts from the scan): the generator's conditions, drawn without rows
        self.frequencies = None if frequencies is None else torch.as_tensor(frequencies, dtype=torch.float)
        self.onehot = onehot if cache.conditional else None
        ds = EncodedBlocks(cache, block_rows, rank, world, seed)
        loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=workers,
                                             collate_fn=collate_none, persistent_workers=workers > 0)
        self.blocks = iter(loader)
        self.buffer_rows = max(buffer_rows, block_rows)
        self.gen = torch.Generator().manual_seed(int(seed) * 1000 + rank)
        self.x = torch.empty(0, cache.width)
        self.codes = torch.empty(0, dtype=torch.long) if cache.conditional else None
        self.pos = 0

    def _refill(self) -> None:
        xs, cs = [self.x[self.pos:]], [self.codes[self.pos:]] if self.codes is not None else []
        have = len(xs[0])
        while have < self.buffer_rows:
            x, c, _ = next(self.blocks)
            xs.append(x)
            if c is not None:
                cs.append(c)
            have += len(x)
        perm = torch.randperm(have, generator=self.gen)
        self.x = torch.cat(xs)[perm]
        self.codes = torch.cat(cs)[perm] if self.codes is not None else None
        self.pos = 0

    def conditions(self, batch_size: int):
        if self.onehot is None:
            return None
        if self.frequencies is None:
            return self.sample(batch_size)[1]
        codes = torch.multinomial(self.frequencies, batch_size, replacement=True, generator=self.gen)
        return self.onehot(codes.to(self.device))

    def sample(self, batch_size: int):
        # serve at most half the buffer between refills, so new blocks mix with the rows kept
        if self.pos + batch_size > len(self.x) or self.pos >= max(len(self.x) // 2, batch_size):
            self._refill()
        sl = slice(self.pos, self.pos + batch_size)
        self.pos += batch_size
        x = self.x[sl].to(self.device, non_blocking=True)
        cond = self.onehot(self.codes[sl].to(self.device)) if self.codes is not None else None
        return x, cond


def default_cache_dir(output: str | Path) -> Path:
    p = Path(output)
    return p.with_name(p.name + ".cache")


def remove_cache(cache: Cache) -> None:
    for name in ("encoded.f32", "codes.i32", "cache.json"):
        try:
            os.unlink(cache.folder / name)
        except FileNotFoundError:
            pass
    try:
        cache.folder.rmdir()
    except OSError:
        pass
