"""Every bad input we try, run through the command line as a user would, and what the user sees.

    python benchmarks/bad_inputs.py > docs/measurements/reliability-inputs.md

For each case: the command (paths shortened), the exit code, whether any Python traceback
reached the terminal, whether a file was left at the output path, and the last line the user
reads. A case passes when it either works (exit 0) or fails with a one-line ``error:`` message (exit
code 2), without a traceback and without a file at the output path.
"""

from __future__ import annotations

import json
import os
import shlex
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

FAST = ["--steps", "5", "--batch-size", "20", "-q"]


def _tables(d: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    n = 300
    base = pd.DataFrame({"age": rng.integers(18, 90, n), "income": rng.lognormal(10, 1, n).round(2),
                         "sector": rng.choice(["public", "private", "self"], n), "label": rng.choice(["y", "n"], n)})
    files = {}

    def csv(name, df=None, text=None, binary=None):
        p = d / name
        if binary is not None:
            p.write_bytes(binary)
        elif text is not None:
            p.write_text(text, encoding="utf-8")
        else:
            df.to_csv(p, index=False)
        files[name] = p

    csv("good.csv", base)
    csv("empty.csv", text="")
    csv("header_only.csv", text="age,income,sector,label\n")
    csv("garbage.csv", binary=bytes(rng.integers(0, 256, 4000, dtype=np.uint8)))
    csv("ragged.csv", text="a,b,c\n1,2,3\n4,5\n6,7,8,9,10\n" + "1,2,3\n" * 50)
    csv("duplicate_names.csv", text="a,a,b\n" + "".join(f"{i},{i * 2},{i % 3}\n" for i in range(60)))
    csv("inf.csv", base.assign(income=base["income"].where(base.index != 3, np.inf)))
    csv("all_nan.csv", base.assign(empty=np.nan))
    csv("constant.csv", base.assign(const=7))
    csv("one_row.csv", base.head(1))
    csv("mixed_numbers_text.csv", base.assign(age=base["age"].astype(object).where(base.index != 5, "unknown")))
    csv("one_class_target.csv", base.assign(label="y"))
    csv("two_columns.csv", base[["age", "income"]])
    csv("unicode_names.csv", base.rename(columns={"age": "âge 年齢", "sector": "secteur/Ω"}))
    csv("datetime_text.csv", base.assign(when=pd.date_range("2024-01-01", periods=n, freq="h").astype(str),
                                         note=[f"free text note number {i} é" for i in range(n)]))
    big = pd.DataFrame({"id": [f"u{i}" for i in range(50_000)], "x": rng.normal(0, 1, 50_000),
                        "grp": rng.choice(list("abc"), 50_000)})
    csv("50k_categories.csv", big)
    wide = pd.DataFrame(rng.normal(0, 1, (200, 500)), columns=[f"c{i}" for i in range(500)])
    csv("500_columns.csv", wide)
    (d / "not_a_parquet.parquet").write_bytes(b"PAR1 this is not parquet")
    files["not_a_parquet.parquet"] = d / "not_a_parquet.parquet"
    (d / "bad_schema.json").write_text("{not json", encoding="utf-8")
    files["bad_schema.json"] = d / "bad_schema.json"
    return files


def _model_files(d: Path, good_model: Path) -> dict[str, Path]:
    import pickle

    out = {}
    data = good_model.read_bytes()
    (d / "truncated.gfm").write_bytes(data[: len(data) // 2])
    out["truncated.gfm"] = d / "truncated.gfm"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {d / 'PWNED'}",))

    (d / "pickle.gfm").write_bytes(pickle.dumps(Payload()))
    out["pickle.gfm"] = d / "pickle.gfm"
    header = json.dumps({"w": {"dtype": "F32", "shape": [1000000], "data_offsets": [0, 4000000]},
                         "__metadata__": {"format": "ganforge", "format_version": "1", "kind": "model",
                                          "meta": "{}"}}).encode()
    (d / "outside.gfm").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    out["outside.gfm"] = d / "outside.gfm"
    (d / "foreign.gfm").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    out["foreign.gfm"] = d / "foreign.gfm"
    newer = data.replace(b'"format_version":"1"', b'"format_version":"9"')
    (d / "future_version.gfm").write_bytes(newer)
    out["future_version.gfm"] = d / "future_version.gfm"
    return out


def _run(args: list[str], out: Path | None, d: Path) -> dict:
    r = subprocess.run([sys.executable, "-m", "ganforge", *args], capture_output=True, text=True, timeout=600,
                       cwd=d, env=dict(os.environ, OMP_NUM_THREADS="2", COLUMNS="200"))
    text = (r.stderr.strip() or r.stdout.strip()).splitlines()
    last = next((line.strip() for line in reversed(text) if line.strip()), "")
    return {"rc": r.returncode, "traceback": "Traceback" in r.stderr + r.stdout,
            "left_file": bool(out is not None and out.exists() and r.returncode != 0), "last": last}


def main() -> None:
    d = Path(tempfile.mkdtemp(prefix="ganforge-bad-"))
    f = _tables(d)
    subprocess.run([sys.executable, "-m", "ganforge", "fit", str(f["good.csv"]), "-o", str(d / "good.gfm"),
                    "--target", "label", *FAST], check=True, cwd=d)
    m = _model_files(d, d / "good.gfm")
    gfm = d / "out.gfm"
    cases = [
        ("file not found", ["fit", "missing.csv", "-o", "out.gfm"], gfm),
        ("empty file", ["fit", "empty.csv", "-o", "out.gfm"], gfm),
        ("header only, no rows", ["fit", "header_only.csv", "-o", "out.gfm"], gfm),
        ("random bytes named .csv", ["fit", "garbage.csv", "-o", "out.gfm"], gfm),
        ("ragged rows", ["fit", "ragged.csv", "-o", "out.gfm", *FAST], gfm),
        ("duplicate column names", ["fit", "duplicate_names.csv", "-o", "out.gfm", *FAST], gfm),
        ("inf in a numeric column", ["fit", "inf.csv", "-o", "out.gfm", *FAST], gfm),
        ("an all-missing column", ["fit", "all_nan.csv", "-o", "out.gfm", *FAST], gfm),
        ("a constant column", ["fit", "constant.csv", "-o", "out.gfm", *FAST], gfm),
        ("one row", ["fit", "one_row.csv", "-o", "out.gfm", *FAST], gfm),
        ("a number column with one word in it", ["fit", "mixed_numbers_text.csv", "-o", "out.gfm", *FAST], gfm),
        ("target with one class", ["fit", "one_class_target.csv", "-o", "out.gfm", "--target", "label", *FAST], gfm),
        ("unicode column names", ["fit", "unicode_names.csv", "-o", "out.gfm", *FAST], gfm),
        ("date and free-text columns", ["fit", "datetime_text.csv", "-o", "out.gfm", *FAST], gfm),
        ("a column with 50,000 distinct values", ["fit", "50k_categories.csv", "-o", "out.gfm", *FAST], gfm),
        ("500 columns", ["fit", "500_columns.csv", "-o", "out.gfm", *FAST], gfm),
        ("--target not a column", ["fit", "good.csv", "-o", "out.gfm", "--target", "income2"], gfm),
        ("unknown --model", ["fit", "good.csv", "-o", "out.gfm", "--model", "diffusion"], gfm),
        ("unknown --set option", ["fit", "good.csv", "-o", "out.gfm", "--set", "learning_rate=1"], gfm),
        ("bad --set value", ["fit", "good.csv", "-o", "out.gfm", "--set", "batch_size=-3"], gfm),
        ("--device cuda without a GPU", ["fit", "good.csv", "-o", "out.gfm", "--device", "cuda", *FAST], gfm),
        ("output folder missing", ["fit", "good.csv", "-o", "nowhere/out.gfm"], None),
        ("output on a read-only file system", ["fit", "good.csv", "-o", "/proc/out.gfm"], None),
        ("schema file not JSON", ["fit", "good.csv", "-o", "out.gfm", "--schema", "bad_schema.json"], gfm),
        ("corrupt Parquet file", ["fit", "not_a_parquet.parquet", "-o", "out.gfm"], gfm),
        ("truncated model file", ["sample", "truncated.gfm", "-n", "10", "-o", "s.csv"], d / "s.csv"),
        ("pickle payload as model", ["sample", "pickle.gfm", "-n", "10", "-o", "s.csv"], d / "s.csv"),
        ("tensor pointing outside the file", ["sample", "outside.gfm", "-n", "10", "-o", "s.csv"], d / "s.csv"),
        ("a PNG named .gfm", ["info", "foreign.gfm"], None),
        ("model from a newer format", ["info", "future_version.gfm"], None),
        ("sample -n 0", ["sample", "good.gfm", "-n", "0", "-o", "s.csv"], d / "s.csv"),
        ("sample -n -5", ["sample", "good.gfm", "-n", "-5", "-o", "s.csv"], d / "s.csv"),
        ("condition on an unseen value", ["sample", "good.gfm", "-n", "10", "-o", "s.csv", "--condition",
                                          "label=maybe"], d / "s.csv"),
        ("unknown output format", ["sample", "good.gfm", "-n", "10", "-o", "s.xlsx"], d / "s.xlsx"),
        ("evaluate: synthetic lacks a column", ["evaluate", "--real", "good.csv", "--synthetic", "two_columns.csv",
                                                "--json", "r.json"], d / "r.json"),
    ]
    rows = []
    for name, args, out in cases:
        if out is not None and out.exists():
            out.unlink()
        r = _run(args, out, d)
        ok = not r["traceback"] and not r["left_file"] and (r["rc"] == 0 or r["last"].startswith("error:"))
        rows.append((name, " ".join(shlex.quote(a) for a in args), r, ok))
        print(f"{'ok ' if ok else 'BAD'} {name}: rc={r['rc']} {r['last'][:150]}", file=sys.stderr, flush=True)
    print("| input | command | exit | traceback | file left | what the user reads |")
    print("|---|---|---|---|---|---|")
    for name, cmd, r, ok in rows:
        last = r["last"].replace("|", "\\|")
        print(f"| {name} | `ganforge {cmd}` | {r['rc']} | {'yes' if r['traceback'] else 'no'} | "
              f"{'yes' if r['left_file'] else 'no'} | {last} |")
    print(f"\n{sum(ok for *_, ok in rows)} of {len(rows)} cases behave (work, or exit with one error line and no file);"
          f" pickle payload executed: {'YES' if (d / 'PWNED').exists() else 'no'}.")


if __name__ == "__main__":
    main()
