"""Early stopping on Adult: where it stops, what it keeps, against a fixed budget.

    python benchmarks/early_stopping.py [--epochs 60] [--out docs/measurements/early-stopping.md]
"""

import argparse
import time
from pathlib import Path

from ganforge import Synthesizer
from ganforge.datasets import load_adult
from ganforge.metrics.fidelity import fidelity


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=float, default=60)
    ap.add_argument("--out", default="docs/measurements/early-stopping.md")
    ap.add_argument("--monitor", default=None, help="column_shapes or fidelity (default: the preset's, fidelity)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    real = load_adult()
    t = time.perf_counter()
    syn = Synthesizer("wcgan", "default", epochs=args.epochs, early_stopping=True, seed=args.seed, monitor=args.monitor).fit(real, target="income")
    wall = time.perf_counter() - t
    f = fidelity(real.sample(10_000, random_state=0), syn.sample(10_000, seed=1000), syn.schema_)
    q = syn.summary()["quality"]
    every = q["history"][1]["step"] - q["history"][0]["step"] if len(q["history"]) > 1 else "?"
    what = "column shapes" if q["metric"] == "column_shapes" else "fidelity (mean of column shapes and pair trends)"
    lines = [
        "# Early stopping on Adult",
        "",
        f"`python benchmarks/early_stopping.py --epochs {args.epochs:g} --monitor {q['metric']} --seed {args.seed}`: "
        f"wcgan, preset default, `early_stopping=True` ({what} of 2,000 generated rows against 2,000 real rows "
        f"every {every} steps, patience 8), at most {args.epochs:g} epochs; seed {args.seed}, 2 CPU cores.",
        "",
        f"- stopped early: {q['stopped_early']}, after {syn.trainer_.step} steps in {wall:.0f} s",
        f"- best monitored {q['metric']} {q['best_score']:.3f} at step {q['best_step']} (those weights are kept)",
        f"- kept model, scored like docs/measurements/default-preset.md (10,000 rows): column_shapes {f.column_shapes:.3f}, "
        f"pair_trends {f.pair_trends:.3f}",
        "",
        f"| step | monitored {q['metric']} | column shapes |",
        "|---:|---:|---:|",
        *[f"| {h['step']} | {h['score']:.3f} | {h['column_shapes']:.3f} |" for h in q["history"]],
    ]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
