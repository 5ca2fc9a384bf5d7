"""Peak memory of fit and sample on a 1,000,000-row table with a 300,000-value categorical column.

    python benchmarks/high_cardinality.py [--rows 1000000] [--categories 300000] [--steps 200]

Each phase runs in its own process so that its peak resident memory (ru_maxrss) is its own:
building the table alone (the floor: the data in pandas), then fit (schema, encoders, encoded
matrix, training), then sampling 1,000,000 rows to Parquet in chunks. A one-hot encoding of the
column would need rows x categories x 4 bytes; ganforge keeps max_categories - 1 values and a
rare code (see docs/measurements/reliability.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _phases import parse, peak_rss_mb, run_phases  # noqa: E402


def table(rows: int, categories: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    # every category appears, the first few often: a zipf-like head and a long flat tail
    head = rng.zipf(1.3, rows // 2) % categories
    tail = np.concatenate([np.arange(categories), rng.integers(0, categories, max(0, rows - rows // 2 - categories))])
    code = np.concatenate([head, tail])[:rows]
    rng.shuffle(code)
    return pd.DataFrame({
        "account": pd.Series([f"acct-{c:06d}" for c in code], dtype=object),
        "amount": rng.lognormal(3, 1, rows).round(2),
        "age": rng.integers(18, 90, rows),
        "channel": rng.choice(["web", "shop", "phone"], rows, p=[0.6, 0.3, 0.1]),
        "score": rng.normal(0, 1, rows),
    })


def phase(name: str, args: argparse.Namespace, work: Path) -> dict:
    from ganforge import Synthesizer

    t = time.perf_counter()
    out: dict = {"phase": name}
    if name == "data":
        df = table(args.rows, args.categories)
        df.to_parquet(work / "data.parquet")
        out["in_pandas_mb"] = float(df.memory_usage(deep=True).sum() / 2**20)
        out["distinct_accounts"] = int(df["account"].nunique())
    elif name == "fit":
        df = pd.read_parquet(work / "data.parquet")
        syn = Synthesizer("wgan", steps=args.steps, seed=0).fit(df, quiet=True)
        syn.save(work / "m.gfm")
        out["encoded_width"] = syn.encoder_.width
        out["encoder_seconds"] = syn.encoder_fit_seconds_
        out["model_file_mb"] = (work / "m.gfm").stat().st_size / 2**20
    else:
        from ganforge.io import write_table

        syn = Synthesizer.load(work / "m.gfm", device="cpu")
        n = write_table(syn.iter_sample(args.rows, seed=1, chunk_size=100_000), work / "s.parquet")
        s = pd.read_parquet(work / "s.parquet", columns=["account"])
        out["rows"] = n
        out["distinct_accounts_generated"] = int(s["account"].nunique())
    out["seconds"] = time.perf_counter() - t
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--categories", type=int, default=300_000)
    ap.add_argument("--steps", type=int, default=200)
    args = parse(ap, phase)
    if args is None:
        return
    work = Path(tempfile.mkdtemp(prefix="ganforge-hc-"))
    results = list(run_phases(__file__, ("data", "fit", "sample"), work,
                              ["--rows", str(args.rows), "--categories", str(args.categories),
                               "--steps", str(args.steps)]).values())
    onehot_gb = args.rows * args.categories * 4 / 2**30
    print(f"{args.rows:,} rows, a column of {args.categories:,} values; {args.steps} training steps; "
          f"torch {__import__('torch').__version__}, {os.cpu_count()} cores\n")
    print("| phase | seconds | peak RSS (MB) | notes |\n|---|---|---|---|")
    d, f, s = results
    print(f"| build the table, write Parquet | {d['seconds']:.1f} | {d['peak_rss_mb']:.0f} | "
          f"{d['in_pandas_mb']:.0f} MB in pandas, {d['distinct_accounts']:,} distinct accounts |")
    print(f"| fit (read, schema, encoders, train) | {f['seconds']:.1f} | {f['peak_rss_mb']:.0f} | encoded width "
          f"{f['encoded_width']}, encoders {f['encoder_seconds']:.1f} s, model file {f['model_file_mb']:.1f} MB |")
    print(f"| sample {s['rows']:,} rows to Parquet | {s['seconds']:.1f} | {s['peak_rss_mb']:.0f} | "
          f"{s['distinct_accounts_generated']:,} distinct accounts generated |")
    print(f"\nA one-hot block for the column alone would take {onehot_gb:,.0f} GiB as float32.")


if __name__ == "__main__":
    main()
