"""A fit beside other programs (issue #29): how long a default fit takes alone, and beside busy processes
with PyTorch's own thread count (one per core) against ganforge's choice (the cores left free).

    python benchmarks/threads.py --out docs/measurements/threads.json [--steps 200] [--busy 2] [--repeats 1]
    taskset -c 0,1 python benchmarks/threads.py ...      # on a larger machine: as on 2 cores

Each fit is ``ganforge fit`` on scikit-learn's breast cancer table (569 rows, 30 numeric columns, a
label; it ships with scikit-learn) with the ``default`` preset, in a child process without
``OMP_NUM_THREADS`` (so that ganforge chooses), ``--steps`` generator steps (default: the preset's
budget, 1,000 steps). The busy processes are Python loops (``while True: pass``), one core each. The
cases, in this order: ``alone`` (ganforge's choice, no busy process), then with ``--busy`` processes
spinning: ``busy, torch threads`` (``--threads`` = the cores, as PyTorch would), ``busy, ganforge's
choice`` (no ``--threads``), ``busy, 1 thread``. Each row records the wall seconds, the threads the
fit reported ("on N CPU threads"), and the other programs running when it started (threads of other
processes in /proc, ``ganforge.training.threads.busy_elsewhere``, before the busy processes start).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def table(folder: Path) -> Path:
    from sklearn.datasets import load_breast_cancer

    df = load_breast_cancer(as_frame=True).frame
    df["diagnosis"] = df.pop("target").map({0: "malignant", 1: "benign"})
    path = folder / "cancer.csv"
    df.to_csv(path, index=False)
    return path


def fit(data: Path, out: Path, steps: int | None, threads: int | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE / "src"), env.get("PYTHONPATH", "")])
    cmd = [sys.executable, "-m", "ganforge", "fit", str(data), "--target", "diagnosis", "-o", str(out), "-q"]
    if steps:
        cmd += ["--steps", str(steps)]
    if threads:
        cmd += ["--threads", str(threads)]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t0
    if r.returncode:
        raise SystemExit(f"fit failed: {r.stderr.strip()}")
    m = re.search(r"on (\d+) CPU thread", r.stdout)
    return {"seconds": round(seconds, 2), "threads": int(m.group(1)) if m else None}


def spin(n: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--steps", type=int, default=None, help="generator steps (default: the preset's budget)")
    ap.add_argument("--busy", type=int, default=2, help="busy processes beside the fit")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE / "src"))
    from ganforge.training import threads as th

    cores = th.cores()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data, model = table(Path(tmp)), Path(tmp) / "m.gfm"
        for rep in range(args.repeats):
            for case, busy, n in (("alone", 0, None), ("busy, torch threads", args.busy, cores),
                                  ("busy, ganforge's choice", args.busy, None), ("busy, 1 thread", args.busy, 1)):
                background = th.busy_elsewhere()
                procs = spin(busy)
                try:
                    time.sleep(1.0)  # the spinners running before the fit looks
                    r = fit(data, model, args.steps, n)
                finally:
                    for p in procs:
                        p.kill()
                        p.wait()
                rows.append({"case": case, "repeat": rep, "busy": busy, "threads_asked": n, **r,
                             "other_threads_running_before": background})
                print(json.dumps(rows[-1]), flush=True)
    result = {"date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or platform.machine(),
              "cores": cores, "steps": args.steps or "the default preset's (1,000)", "rows": rows}
    args.out.write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
