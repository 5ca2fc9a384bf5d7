"""Scale: train on a Parquet table larger than memory allows for its encoding, 1 vs 2 processes,
and generate 100M rows to partitioned Parquet.

    python benchmarks/scale.py [--rows 10000000] [--steps 300] [--sample 100000000] > docs/measurements/scale-results.md

Phases, each in its own process (peak RSS is the phase's own):

* ``data``: a 40-column table (benchmarks/load.py's: 30 numeric, 10 categorical) written as Parquet
  parts of 1M rows, one part in memory at a time.
* ``stream_fit``: ``ganforge fit FOLDER`` streamed (scan, encoded cache on disk, shuffle buffer).
* ``memory_fit``: the first 1M rows fitted in memory, the same settings: the source's cost compared.
* ``nproc1`` / ``nproc2``: Adult in memory, ``ganforge fit --nproc 1`` and ``--nproc 2`` (torchrun,
  Gloo), same global batch and steps.
* ``sample``: ``ganforge sample ADULT_MODEL -n N -o folder/ --workers 2``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _phases import parse, peak_rss_mb, run_phases  # noqa: E402
from load import table  # noqa: E402

PART = 1_000_000


def _cli(args: list[str], threads: int = 2) -> tuple[str, float]:
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True,
                       env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    if r.returncode:
        sys.exit(f"ganforge {' '.join(args)} failed:\n{r.stderr[-3000:]}")
    return r.stdout, time.perf_counter() - t


def phase(name: str, a, work: Path) -> dict:
    from ganforge import Synthesizer

    t = time.perf_counter()
    out: dict = {"phase": name}
    folder = work / "table"
    if name == "data":
        folder.mkdir(exist_ok=True)
        mb = 0.0
        for i in range(0, a.rows, PART):
            df = table(min(PART, a.rows - i), seed=i // PART)
            mb += df.memory_usage(deep=True).sum() / 2**20
            df.to_parquet(folder / f"part-{i // PART:05d}.parquet", index=False)
        out["in_pandas_mb"] = mb
        out["parquet_mb"] = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    elif name in ("stream_fit", "memory_fit"):
        syn = Synthesizer("wgan", steps=a.steps, seed=0)
        if name == "stream_fit":
            syn.fit_files(folder, cache_dir=work / "cache")
        else:
            syn.fit(pd.read_parquet(folder / "part-00000.parquet"))
        s = syn.summary()
        out.update(rows=s["n_rows"], encoded_width=s["encoded_width"], prepare_seconds=s["fit_seconds"] - s["train_seconds"],
                   train_seconds=s["train_seconds"], train_rows_per_s=a.steps * syn.config["batch_size"]
                   * syn.config["n_critic"] / s["train_seconds"], encoded_gb=s["n_rows"] * s["encoded_width"] * 4 / 2**30)
    elif name in ("nproc1", "nproc2"):
        from ganforge.datasets import load_adult

        csv = work / "adult.csv"
        if not csv.exists():
            load_adult().to_csv(csv, index=False)
        n = name[-1]
        stdout, wall = _cli(["fit", str(csv), "--target", "income", "--steps", str(a.steps), "--seed", "0", "-q",
                             "-o", str(work / f"adult{n}.gfm"), "--nproc", n])
        m = Synthesizer.load(work / f"adult{n}.gfm")
        s = m.summary()
        out.update(wall_seconds=wall, train_seconds=s["train_seconds"],
                   train_rows_per_s=a.steps * m.config["batch_size"] * m.config["n_critic"] / s["train_seconds"])
    elif name == "sample":
        target = work / "generated"
        stdout, wall = _cli(["sample", str(work / "adult1.gfm"), "-n", str(a.sample), "-o", str(target) + "/",
                             "--seed", "0", "--workers", str(a.workers)], threads=2)
        files = list(target.glob("part-*.parquet"))
        out.update(rows=a.sample, parts=len(files), wall_seconds=wall, rows_per_s=a.sample / wall,
                   gb_on_disk=sum(p.stat().st_size for p in files) / 2**30,
                   peak_rss_mb_worker=peak_rss_mb(children=True))
        shutil.rmtree(target)
    out["seconds"] = time.perf_counter() - t
    out["peak_rss_mb"] = peak_rss_mb()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--sample", type=int, default=100_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--phases", default="data,stream_fit,memory_fit,nproc1,nproc2,sample")
    a = parse(ap, phase)
    if a is None:
        return
    work = Path(tempfile.mkdtemp(prefix="ganforge-scale-"))
    try:
        res = run_phases(__file__, a.phases.split(","), work,
                         ["--rows", str(a.rows), "--steps", str(a.steps), "--sample", str(a.sample),
                          "--workers", str(a.workers)])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    import torch

    print(f"Command: `python benchmarks/scale.py --rows {a.rows} --steps {a.steps} --sample {a.sample} "
          f"--workers {a.workers}`; torch {torch.__version__}, {os.cpu_count()} cores, "
          f"{re.sub(' +', ' ', open('/proc/cpuinfo').read().split('model name')[1].split(chr(10))[0][3:])}\n")
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
