"""Reading users' tables and writing generated ones.

Reading turns every pandas/pyarrow failure into a one-line :class:`DataError` naming the file.
Writing goes to a temporary file in the target folder, in chunks, and is renamed into place only
when complete: an interrupted run never leaves a partial output file.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from .errors import DataError
from .modelfile import atomic_write, check_writable

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".data")
#: "?" is how UCI files (Adult, mushroom) write a missing value
DEFAULT_NA_VALUES = ["?"]


def sniff_sep(path: Path) -> str:
    with open(path, "r", encoding="utf-8", errors="replace", newline="") as f:
        sample = f.read(65536)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def check_header(p: Path, sep: str) -> None:
    """pandas renames a repeated header name (a, a.1) silently; a user should rename it knowingly."""
    import csv

    if len(sep) != 1:  # a regular-expression separator: the csv module cannot split the header
        return
    with open(p, encoding="utf-8", errors="replace", newline="") as f:
        names = next(csv.reader(f, delimiter=sep, skipinitialspace=True), [])
    seen, dup = set(), []
    for n in names:
        if n in seen and n not in dup:
            dup.append(n)
        seen.add(n)
    if dup:
        raise DataError(f"{p} has duplicate column names {', '.join(map(repr, dup))}: rename them so that "
                        f"each column is unique")


def read_table(path: str | Path, sep: str | None = None, na_values: list[str] | None = None,
               header: bool = True) -> pd.DataFrame:
    """Read a CSV (delimiter sniffed unless ``sep`` is given) or a Parquet file."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"input file not found: {p}")
    if p.is_dir():
        raise DataError(f"{p} is a folder: give a CSV or Parquet file")
    if p.stat().st_size == 0:
        raise DataError(f"{p} is empty: it has no header and no rows")
    if p.suffix.lower() in PARQUET_SUFFIXES:
        try:
            df = pd.read_parquet(p)
        except Exception as exc:  # pyarrow raises many types; the user needs the file name and the gist
            raise DataError(f"cannot read {p} as Parquet: {str(exc).splitlines()[0]}") from None
    else:
        sep = sep or sniff_sep(p)
        na = DEFAULT_NA_VALUES if na_values is None else na_values
        try:
            df = pd.read_csv(p, sep=sep, skipinitialspace=True, na_values=na, header=0 if header else None,
                             encoding_errors="replace")
        except pd.errors.EmptyDataError:
            raise DataError(f"{p} has no data: the file holds no columns") from None
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise DataError(f"cannot parse {p} as CSV (separator {sep!r}): {str(exc).splitlines()[0]}; "
                            f"pass `sep` if the file uses another separator") from None
        if not header:
            df.columns = [f"col{i}" for i in range(df.shape[1])]
        else:
            check_header(p, sep)
    if len(df) == 0:
        raise DataError(f"{p} has a header but no rows: give at least a few rows of data")
    if df.shape[1] == 1:
        raise DataError(f"{p} has a single column ({df.columns[0]!r}): ganforge learns tables of several "
                        f"columns; if the file uses another separator, pass `sep`")
    unnamed = [c for c in df.columns if str(c).startswith("Unnamed: ")]
    if unnamed and df.columns[0] in unnamed and pd.api.types.is_integer_dtype(df[df.columns[0]]):
        # the row counter DataFrame.to_csv writes by default is an index, not data
        df = df.drop(columns=df.columns[0])
    return df


def output_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    raise DataError(f"output {path}: unknown file type {suffix or '(none)'}; use .csv or .parquet")


def write_table(chunks: Iterable[pd.DataFrame] | pd.DataFrame, path: str | Path) -> int:
    """Write one DataFrame or an iterator of chunks atomically; returns the number of rows."""
    p = check_writable(path, "output")
    fmt = output_format(p)
    if isinstance(chunks, pd.DataFrame):
        chunks = [chunks]
    count = 0

    def write(tmp: str) -> None:
        nonlocal count
        it: Iterator[pd.DataFrame] = iter(chunks)
        if fmt == "csv":
            sep = "\t" if p.suffix.lower() == ".tsv" else ","
            with open(tmp, "w", encoding="utf-8", newline="") as f:
                for i, chunk in enumerate(it):
                    chunk.to_csv(f, index=False, header=(i == 0), sep=sep)
                    count += len(chunk)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            writer = None
            try:
                for chunk in it:
                    table = pa.Table.from_pandas(chunk, preserve_index=False)
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, table.schema)
                    writer.write_table(table.cast(writer.schema) if table.schema != writer.schema else table)
                    count += len(chunk)
            finally:
                if writer is not None:
                    writer.close()

    atomic_write(p, write)
    return count
