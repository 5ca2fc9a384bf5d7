"""The cases of issue #28 (crafted model files, odd data and options, signals, differential privacy), run
through the command line as a user would, and what the user now reads.

    python benchmarks/hardening_cases.py [--data diabetes.csv] > table.md

For each case: the command (paths shortened), the exit code, whether a Python traceback reached the
terminal, whether a file was left at the output path (or a hidden temporary file beside it), the peak
memory of the process, and the last line the user reads (a warning line when there is one). Pima's
diabetes table (``--data``, default the shared dataset) stands for the private table ``P.csv``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "pima_diabetes" / "diabetes.csv"
FAST = ["--steps", "3", "--batch-size", "50", "-q"]


#: runs the command line as ``python -m ganforge`` does, and writes the process's peak RSS (KB) at exit
WRAP = """import atexit, resource, sys
peak = sys.argv[1]
atexit.register(lambda: open(peak, "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
sys.argv = ["ganforge", *sys.argv[2:]]
from ganforge.cli import main
sys.exit(main())
"""


def run(args: list[str], d: Path, out: Path | None = None, stop_after: float | None = None,
        how: int = signal.SIGTERM) -> dict:
    """``ganforge ARGS`` in ``d``; ``stop_after``: send ``how`` after that many seconds."""
    env = dict(os.environ, OMP_NUM_THREADS="2", COLUMNS="200")
    peak_file = d / ".peak"
    peak_file.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", WRAP, str(peak_file), *args], cwd=d, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    hwm = float("nan")
    if stop_after is not None:
        time.sleep(stop_after)
        status = Path(f"/proc/{proc.pid}/status")
        if status.exists():  # the peak so far, for a process that SIGKILL leaves no time to write it
            hwm = int(next(x for x in status.read_text().splitlines() if x.startswith("VmHWM")).split()[1]) / 1024
        proc.send_signal(how)
    try:
        stdout, stderr = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    peak = int(peak_file.read_text()) / 1024 if peak_file.exists() else hwm
    lines = [x.strip() for x in (stderr + stdout).splitlines() if x.strip()]
    warning = next((x for x in lines if x.startswith("warning: ")), None)
    errors = [x for x in lines if x.startswith("error: ")]
    last = errors[-1] if errors else (warning or (lines[-1] if lines else ""))
    left = out is not None and proc.returncode != 0 and out.exists()
    temporaries = [p.name for p in d.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]
    return {"rc": proc.returncode, "traceback": "Traceback" in stderr + stdout, "left": left or bool(temporaries),
            "peak": peak, "last": last, "lines": len(errors)}


def crafted(d: Path, model: Path) -> dict[str, Path]:
    """Model files changed as an attacker would (the metadata JSON, or the safetensors header)."""
    data = model.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header, body = json.loads(data[8:8 + n]), data[8 + n:]

    def write(name: str, change=None, header_change=None) -> Path:
        h = json.loads(json.dumps(header))
        meta = json.loads(h["__metadata__"]["meta"])
        if change is not None:
            change(meta)
        h["__metadata__"]["meta"] = json.dumps(meta) if not isinstance(meta, str) else meta
        if header_change is not None:
            header_change(h)
        raw = json.dumps(h).encode()
        (d / name).write_bytes(struct.pack("<Q", len(raw)) + raw + body)
        return d / name

    def column(m, name):
        return next(c for c in m["schema"]["columns"] if c["name"] == name)

    def labels(m):
        m["condition"].update(categories=list(range(200_000)), frequencies=[1.0] * 200_000)
        column(m, "Outcome")["categories"] = list(range(200_000))

    def modes(m):
        codec = next(c for c in m["encoder"]["codecs"] if c["encoder"]["kind"] == "mode_specific")
        codec["encoder"]["learned"].update(means_=list(map(float, range(100_000))), stds_=[1.0] * 100_000,
                                           weights_=[1e-5] * 100_000)

    def relabel(h):
        name = next(k for k, v in h.items() if k != "__metadata__" and v["dtype"] == "F32")
        h[name]["dtype"] = "I32"

    files = {
        "wide": write("wide.gfm", lambda m: m["config"]["generator_layers"][0].update(width=20_000)),
        "labels": write("labels.gfm", labels),
        "modes": write("modes.gfm", modes),
        "typeerror": write("typeerror.gfm", lambda m: m["schema"].update(columns=7)),
        "keyerror": write("keyerror.gfm", lambda m: m.pop("encoder")),
        "indexerror": write("indexerror.gfm", lambda m: m["condition"].update(categories=[0])),
        "attributeerror": write("attributeerror.gfm", lambda m: m["training"].update(quality="x")),
        "ufunc": write("ufunc.gfm", lambda m: next(c for c in m["encoder"]["codecs"] if c["encoder"]["kind"] ==
                                                   "mode_specific")["encoder"]["learned"].update(means_=["a"])),
        "nested": write("nested.gfm", lambda m: m["schema"]["extra"].update(deep=json.loads("[" * 900 + "]" * 900))),
        "negative": write("negative.gfm", lambda m: m["condition"].update(frequencies=[-1.0, 2.0])),
        "nanfreq": write("nanfreq.gfm", lambda m: m["condition"].update(frequencies=[float("nan"), 1.0])),
        "minmax": write("minmax.gfm", lambda m: column(m, "Glucose").update(min=200, max=0)),
        "nanbound": write("nanbound.gfm", lambda m: column(m, "BMI").update(max=float("nan"))),
        "infbound": write("infbound.gfm", lambda m: column(m, "BMI").update(min=float("-inf"))),
        "missing2": write("missing2.gfm", lambda m: column(m, "BMI").update(missing_rate=2)),
        "relabel": write("relabel.gfm", header_change=relabel),
    }
    os.mkfifo(d / "fifo.gfm")
    files["fifo"] = d / "fifo.gfm"
    return files


def tables(d: Path, pima: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    pima.to_csv(d / "P.csv", index=False)
    pima.rename(columns={"BMI": "weight [kg]", "Age": "[/x]"}).to_csv(d / "markup.csv", index=False)
    pima.assign(Big=rng.normal(1e307, 1e306, len(pima))).to_csv(d / "huge.csv", index=False)
    pima.rename(columns={"Age": "A\nge"}).to_csv(d / "newline.csv", index=False)
    pima.assign(City=rng.choice(["café", "Zürich", "naïve"], len(pima))).to_csv(d / "latin1.csv", index=False,
                                                                                  encoding="latin-1")
    ids = pima.copy()
    ids.index = rng.permutation(len(pima)) + 1000
    ids.to_csv(d / "index_col.csv")
    pima.assign(Insulin=[f"{v * 1000:,}" for v in pima["Insulin"]]).to_csv(d / "thousands.csv", index=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(SHARED))
    args = ap.parse_args()
    d = Path(tempfile.mkdtemp(prefix="ganforge-hardening-"))
    tables(d, pd.read_csv(args.data))
    subprocess.run([sys.executable, "-m", "ganforge", "fit", "P.csv", "-o", "m.gfm", "--target", "Outcome", *FAST,
                    "--save-schema", "s.json"], check=True, cwd=d, capture_output=True)
    doc = json.loads((d / "s.json").read_text())
    (d / "public.json").write_text(json.dumps({**doc, "public": True}))
    files = crafted(d, d / "m.gfm")
    out = d / "out.gfm"
    cases = [
        ("DP with a schema --save-schema wrote from the private file",
         ["fit", "P.csv", "-o", "out.gfm", "--target", "Outcome", "--dp-epsilon", "1", "--steps", "20", "--schema",
          "s.json"], out, {}),
        ("DP, that schema marked \"public\": true by the user", ["fit", "P.csv", "-o", "out.gfm", "--target",
                                                                  "Outcome", "--dp-epsilon", "1", "--steps", "20",
                                                                  "--schema", "public.json", "-q"], out, {}),
        ("what it spent, on what", ["info", "out.gfm"], None, {"grep": "differential privacy"}),
        ("--dp-epsilon 1e-6", ["fit", "P.csv", "-o", "dp.gfm", "--target", "Outcome", "--dp-epsilon", "1e-6",
                               "--steps", "20", "--schema", "public.json"], d / "dp.gfm", {}),
    ]
    model_cases = [("a 20,000-wide generator layer (1.4 MB file)", "wide"), ("200,000 condition labels", "labels"),
                   ("100,000 mixture modes", "modes"), ("a number where the columns go (TypeError)", "typeerror"),
                   ("no encoder (KeyError)", "keyerror"), ("one label for two (IndexError)", "indexerror"),
                   ("text for the quality summary (AttributeError)", "attributeerror"),
                   ("text for mixture means (UFuncTypeError)", "ufunc"), ("JSON nested 900 deep", "nested"),
                   ("negative label frequencies", "negative"), ("NaN label frequency", "nanfreq"),
                   ("min above max", "minmax"), ("NaN bound", "nanbound"), ("infinite bound", "infbound"),
                   ("missing rate 2", "missing2"), ("a tensor relabelled F32 -> I32", "relabel"),
                   ("a FIFO as the model file", "fifo")]
    for name, key in model_cases:
        f = files[key].name
        cases.append((f"model file: {name}", ["sample", f, "-n", "10", "-o", "s.csv"], d / "s.csv", {}))
        if key in ("nested", "fifo", "attributeerror"):
            cases.append((f"model file: {name}", ["info", "--json", f] if key == "nested" else ["info", f], None, {}))
    cases += [
        ("columns named `weight [kg]` and `[/x]`", ["fit", "markup.csv", "-o", "markup.gfm", *FAST], None, {}),
        ("... and their model's info", ["info", "markup.gfm"], None, {"grep": "[/x]"}),
        ("a column of values around 1e307", ["fit", "huge.csv", "-o", "out.gfm", *FAST], out, {}),
        ("a column name with a newline, --target misspelt", ["fit", "newline.csv", "-o", "out.gfm", "--target",
                                                             "outcome"], out, {}),
        ("--condition \"Outcome=0:nan,1:1\"", ["sample", "m.gfm", "-n", "10", "-o", "s.csv", "--condition",
                                               "Outcome=0:nan,1:1"], d / "s.csv", {}),
        ("--condition \"Outcome=0:inf,1:1\"", ["sample", "m.gfm", "-n", "10", "-o", "s.csv", "--condition",
                                               "Outcome=0:inf,1:1"], d / "s.csv", {}),
        ("--condition \"Outcome=0:1e308,1:1e308\"", ["sample", "m.gfm", "-n", "10", "-o", "s.csv", "--condition",
                                                     "Outcome=0:1e308,1:1e308"], d / "s.csv", {}),
        ("-n 0 to Parquet", ["sample", "m.gfm", "-n", "0", "-o", "zero.parquet"], None, {"check": "zero.parquet"}),
        ("-n 0 to CSV", ["sample", "m.gfm", "-n", "0", "-o", "zero.csv"], None, {"check": "zero.csv"}),
        ("a Latin-1 file", ["fit", "latin1.csv", "-o", "latin1.gfm", *FAST], None, {}),
        ("an integer first column with an empty header", ["fit", "index_col.csv", "-o", "ids.gfm", *FAST], None, {}),
        ("\"1,234\" thousands separators", ["fit", "thousands.csv", "-o", "thousands.gfm", *FAST], None, {}),
        ("--condition \"Glucose=abc\"", ["sample", "m.gfm", "-n", "1000", "-o", "s.csv", "--condition",
                                         "Glucose=abc"], d / "s.csv", {}),
        ("conditional -n 1000000000000, SIGTERM after 30 s", ["sample", "m.gfm", "-n", "1000000000000", "-o",
                                                               "huge.csv"], d / "huge.csv", {"stop": 30}),
        ("conditional -n 300000000 to Parquet, SIGKILL after 30 s", ["sample", "m.gfm", "-n", "300000000", "-o",
                                                                      "big.parquet", "--condition",
                                                                      "Outcome=0:0.3,1:0.7"],
         None, {"stop": 30, "how": signal.SIGKILL}),
        ("... then the next run to that file", ["sample", "m.gfm", "-n", "10", "-o", "big.parquet"], None, {}),
    ]
    rows = []
    for name, cmd, target, opts in cases:
        if target is not None and target.exists():
            target.unlink()
        r = run(cmd, d, target, opts.get("stop"), opts.get("how", signal.SIGTERM))
        if opts.get("how") == signal.SIGKILL:
            r["left"] = False  # nothing can clean up after SIGKILL: the next case shows who does
            r["last"] = f"(killed) temporary files beside big.parquet: {sum(p.name.startswith('.big.parquet.') for p in d.iterdir())}"
        if "grep" in opts:
            text = subprocess.run([sys.executable, "-m", "ganforge", *cmd], cwd=d, capture_output=True, text=True,
                                  env=dict(os.environ, COLUMNS="400")).stdout
            r["last"] = " ".join(next((x for x in text.splitlines() if opts["grep"] in x), "").split())
        if "check" in opts:
            f = d / opts["check"]
            got = pd.read_parquet(f) if f.suffix == ".parquet" else pd.read_csv(f)
            r["last"] += f" (reads back: {len(got)} rows, columns {', '.join(got.columns[:3])}, ...)"
        ok = not r["traceback"] and not r["left"] and (r["rc"] in (0, 128 + signal.SIGTERM, -signal.SIGKILL) or
                                                       (r["rc"] == 2 and r["lines"] == 1))
        rows.append((name, " ".join(shlex.quote(a) for a in cmd), r, ok))
        print(f"{'ok ' if ok else 'BAD'} {name}: rc={r['rc']} {r['peak']:.0f} MB {r['last'][:160]}", file=sys.stderr,
              flush=True)
    print("| case | command | exit | traceback | file left | peak RSS (MB) | what the user reads |")
    print("|---|---|---|---|---|---|---|")
    for name, cmd, r, ok in rows:
        last, cmd = r["last"].replace("|", "\\|"), cmd.replace("|", "\\|")
        print(f"| {name} | `ganforge {cmd}` | {r['rc']} | {'yes' if r['traceback'] else 'no'} | "
              f"{'yes' if r['left'] else 'no'} | {r['peak']:.0f} | {last} |")
    print(f"\n{sum(ok for *_, ok in rows)} of {len(rows)} cases behave (work, or exit with one error line and no "
          f"file left).")


if __name__ == "__main__":
    main()
