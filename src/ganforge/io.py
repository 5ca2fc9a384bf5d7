"""Reading users' tables and writing generated ones.

Reading turns every pandas/pyarrow failure into a one-line :class:`DataError` naming the file, and
says (a ``GanforgeWarning``) what it did on the user's behalf: a file that is not UTF-8 read as
Windows-1252 / Latin-1, numbers written with thousands separators read as numbers, a row counter
without a name dropped. Writing goes to a temporary file in the target folder, in chunks, and is
renamed into place only when complete: an interrupted run never leaves a partial output file.
"""

from __future__ import annotations

import codecs
import csv
import re
import warnings
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from .errors import DataError, GanforgeWarning, shown
from .modelfile import atomic_write, check_writable

PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".data")
#: "?" is how UCI files (Adult, mushroom) write a missing value
DEFAULT_NA_VALUES = ["?"]


def text_encoding(path: Path) -> str:
    """utf-8 (or utf-8-sig with a byte-order mark) when the whole file decodes as UTF-8; else cp1252 when
    it decodes as that, else latin-1 (which decodes anything), with a warning naming the first byte that
    is not UTF-8."""
    def decodes(name: str) -> int | None:
        dec, offset = codecs.getincrementaldecoder(name)(), 0
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                pending = len(dec.getstate()[0])  # bytes of the last block that await the next
                try:
                    dec.decode(block)
                except UnicodeDecodeError as exc:
                    return offset - pending + exc.start
                offset += len(block)
            try:
                dec.decode(b"", final=True)
            except UnicodeDecodeError:
                return offset - len(dec.getstate()[0])
        return None

    with open(path, "rb") as f:
        if b"\x00" in f.read(1 << 16):
            raise DataError(f"{path} is not a text file in UTF-8 or Latin-1 (it holds NUL bytes; UTF-16?): save it "
                            f"as UTF-8 CSV, or give a Parquet file")
    bad = decodes("utf-8")
    if bad is None:
        with open(path, "rb") as f:
            return "utf-8-sig" if f.read(3) == codecs.BOM_UTF8 else "utf-8"
    name = "cp1252" if decodes("cp1252") is None else "latin-1"
    warnings.warn(f"{path} is not UTF-8 (byte {max(bad, 0)} is not): read as {name}; save it as UTF-8 to be sure "
                  f"of its accents", GanforgeWarning, stacklevel=3)
    return name


def sniff_sep(path: Path, encoding: str = "utf-8") -> str:
    with open(path, "r", encoding=encoding, errors="replace", newline="") as f:
        sample = f.read(65536)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def check_header(p: Path, sep: str, encoding: str = "utf-8") -> None:
    """pandas renames a repeated header name (a, a.1) silently; a user should rename it knowingly."""
    if len(sep) != 1:  # a regular-expression separator: the csv module cannot split the header
        return
    with open(p, encoding=encoding, errors="replace", newline="") as f:
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
        encoding = text_encoding(p)
        sep = sep or sniff_sep(p, encoding)
        na = DEFAULT_NA_VALUES if na_values is None else na_values
        try:
            df = pd.read_csv(p, sep=sep, skipinitialspace=True, na_values=na, header=0 if header else None,
                             encoding=encoding)
        except pd.errors.EmptyDataError:
            raise DataError(f"{p} has no data: the file holds no columns") from None
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
            raise DataError(f"cannot parse {p} as CSV (separator {sep!r}): {str(exc).splitlines()[0]}; "
                            f"pass `sep` if the file uses another separator") from None
        if not header:
            df.columns = [f"col{i}" for i in range(df.shape[1])]
        else:
            check_header(p, sep, encoding)
        df = _grouped_numbers(df, p, sep)
    if len(df) == 0:
        raise DataError(f"{p} has a header but no rows: give at least a few rows of data")
    if df.shape[1] == 1:
        raise DataError(f"{p} has a single column ({df.columns[0]!r}): ganforge learns tables of several "
                        f"columns; if the file uses another separator, pass `sep`")
    first = df.columns[0]
    if str(first).startswith("Unnamed: ") and pd.api.types.is_integer_dtype(df[first]):
        if (df[first].to_numpy() == np.arange(len(df))).all():
            # the row counter DataFrame.to_csv writes by default is an index, not data
            warnings.warn(f"{p}: dropped its first column, a row counter 0, 1, 2, ... without a name (the index "
                          f"pandas writes)", GanforgeWarning, stacklevel=2)
            df = df.drop(columns=first)
        else:
            warnings.warn(f"{p}: its first column has no name; it is learnt as {shown(first)}: name it in the "
                          f"header, or leave it out with `drop`", GanforgeWarning, stacklevel=2)
    return df


#: a number written with thousands separators ("1,234", "-12,345.6"), or without ("1234.5")
_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_PLAIN = re.compile(r"[+-]?\d+(\.\d+)?")


def _grouped_numbers(df: pd.DataFrame, p: Path, sep: str) -> pd.DataFrame:
    """Text columns whose every value is a number, some with thousands separators ("1,234"), read as
    numbers (with a warning): left as text they would be learnt as categories. With ";" as the separator
    a comma may be a decimal comma: such a column stays text, and the warning says so."""
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            continue
        values = s.dropna()
        if not len(values) or not all(isinstance(v, str) for v in values.iloc[:1000]):
            continue
        text = values.astype(str).str.strip()
        grouped = text.str.fullmatch(_GROUPED.pattern)
        if not grouped.any() or not (grouped | text.str.fullmatch(_PLAIN.pattern)).all():
            continue
        example = text[grouped].iloc[0]
        if sep == ";":
            warnings.warn(f"{p}: column {shown(col)} holds numbers with commas ({example!r}), which may be decimal "
                          f"commas: read as text; write them as plain numbers to learn them as numbers",
                          GanforgeWarning, stacklevel=3)
            continue
        df[col] = pd.to_numeric(s.astype(str).str.replace(",", "", regex=False), errors="coerce").where(s.notna())
        warnings.warn(f"{p}: column {shown(col)} has thousands separators ({example!r}): read as numbers",
                      GanforgeWarning, stacklevel=3)
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
            if writer is None:  # no chunk at all: still a Parquet file a reader can open
                pq.write_table(pa.table({}), tmp)

    atomic_write(p, write)
    return count
