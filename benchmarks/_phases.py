"""Run each phase of a benchmark in its own process, so that its peak resident memory is its own.

A benchmark script parses its options with ``parse(ap, phase)`` (which, inside a phase process,
runs ``phase(name, args, work)``, prints its JSON and returns None) and then calls
``run_phases(__file__, names, work, args)``: each phase runs as ``python SCRIPT --phase NAME --work
WORK ARGS...`` and prints one JSON line, which is returned.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its largest waited-for child), in MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024


def run_phases(script: str, names, work: Path, args: list[str], threads: int = 2) -> dict[str, dict]:
    results = {}
    for name in names:
        r = subprocess.run([sys.executable, script, "--phase", name, "--work", str(work), *args],
                           capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
        if r.returncode:
            sys.exit(f"phase {name} failed:\n{r.stderr[-4000:]}")
        results[name] = json.loads(r.stdout.strip().splitlines()[-1])
        print(results[name], file=sys.stderr, flush=True)
    return results


def parse(ap: argparse.ArgumentParser, phase):
    """The script's options; in a phase process, run that phase and return None."""
    ap.add_argument("--phase", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--work", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        print(json.dumps(phase(args.phase, args, Path(args.work))))
        return None
    return args
