"""Load: fit on a 1,000,000-row, 40-column table, then sample 10,000,000 rows to Parquet in chunks.

    python benchmarks/load.py [--rows 1000000] [--sample 10000000] [--steps 300]

Each phase runs in its own process, so its peak resident memory (ru_maxrss) is its own. Sampling
is also run for a tenth of the rows: if the chunked writer holds memory independent of n, the two
sampling peaks are about equal.
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


def table(rows: int, seed: int = 0) -> pd.DataFrame:
    """30 numeric columns (correlated, some skewed, some with missing values) and 10 categorical."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1, (rows, 4)).astype(np.float32)
    cols = {}
    for i in range(30):
        v = z[:, i % 4] * (1 + i % 3) + rng.normal(0, 1, rows).astype(np.float32)
        if i % 5 == 0:
            v = np.exp(v / 3)
        if i % 7 == 0:
            v[rng.random(rows) < 0.05] = np.nan
        cols[f"x{i}"] = v
    for j in range(10):
        k = 3 + 4 * j
        cols[f"c{j}"] = pd.Categorical.from_codes(
            np.clip((z[:, j % 4] * k / 4 + k / 2 + rng.normal(0, 1, rows)).astype(int), 0, k - 1),
            [f"v{m}" for m in range(k)])
    return pd.DataFrame(cols)


def phase(name: str, a, work: Path) -> dict:
    from ganforge import Synthesizer
    from ganforge.io import write_table

    t = time.perf_counter()
    out: dict = {"phase": name}
    if name == "data":
        df = table(a.rows)
        df.to_parquet(work / "data.parquet")
        out["in_pandas_mb"] = float(df.memory_usage(deep=True).sum() / 2**20)
    elif name == "fit":
        df = pd.read_parquet(work / "data.parquet")
        syn = Synthesizer("wgan", steps=a.steps, seed=0).fit(df, quiet=True)
        syn.save(work / "m.gfm")
        s = syn.summary()
        out.update(encoder_seconds=s["encoder_fit_seconds"], train_seconds=s["train_seconds"],
                   encoded_width=s["encoded_width"])
    else:
        n = a.sample if name == "sample" else a.sample // 10
        syn = Synthesizer.load(work / "m.gfm", device="cpu")
        path = work / f"{name}.parquet"
        out["rows"] = write_table(syn.iter_sample(n, seed=1, chunk_size=200_000), path)
        out["file_mb"] = path.stat().st_size / 2**20
        path.unlink()
    out["seconds"] = time.perf_counter() - t
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--sample", type=int, default=10_000_000)
    ap.add_argument("--steps", type=int, default=300)
    a = parse(ap, phase)
    if a is None:
        return
    work = Path(tempfile.mkdtemp(prefix="ganforge-load-"))
    res = run_phases(__file__, ("data", "fit", "sample_tenth", "sample"), work,
                     ["--rows", str(a.rows), "--sample", str(a.sample), "--steps", str(a.steps)])
    d, f, s1, s = res["data"], res["fit"], res["sample_tenth"], res["sample"]
    print(f"{a.rows:,} rows x 40 columns (30 numeric, 10 categorical), wgan default preset, {a.steps} steps; "
          f"torch {__import__('torch').__version__}, {os.cpu_count()} cores\n")
    print("| phase | seconds | peak RSS (MB) | notes |\n|---|---|---|---|")
    print(f"| build the table, write Parquet | {d['seconds']:.1f} | {d['peak_rss_mb']:.0f} | "
          f"{d['in_pandas_mb']:.0f} MB in pandas |")
    print(f"| fit (read, schema, encoders, train) | {f['seconds']:.1f} | {f['peak_rss_mb']:.0f} | encoders "
          f"{f['encoder_seconds']:.1f} s, training {f['train_seconds']:.1f} s, encoded width {f['encoded_width']} |")
    for x in (s1, s):
        print(f"| sample {x['rows']:,} rows to Parquet | {x['seconds']:.1f} | {x['peak_rss_mb']:.0f} | "
              f"{x['rows'] / x['seconds']:,.0f} rows/s, file {x['file_mb']:.0f} MB |")


if __name__ == "__main__":
    main()
