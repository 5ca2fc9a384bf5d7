"""How many generated Adult rows keep the real table's exact dependencies (education-num of education).

    python benchmarks/dependencies.py [--systems default,default-learnt,ctgan] [--ctgan-epochs 30] [--seed 0]

`default` derives the column (`derive_columns`, on in the preset), `default-learnt` is the preset
with ``derive_columns=False``, `ctgan` is CTGAN 0.12.1 (the ``bench`` extra) with its defaults and
the given epochs. Each trains on adult.data and samples as many rows; the figure is the evaluation's
``dependencies`` (``ganforge.metrics.fidelity.dependency_checks``, docs/guide/evaluation.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from ganforge import Synthesizer
from ganforge.metrics.fidelity import dependency_checks

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adult_pair_gap import adult  # noqa: E402


def generate(system: str, train, schema, seed: int, ctgan_epochs: int):
    if system == "ctgan":
        from ctgan import CTGAN

        model = CTGAN(epochs=ctgan_epochs, verbose=False)
        model.set_random_state(seed)
        model.fit(train, [c.name for c in schema.columns if not c.is_numeric])
        return model.sample(len(train))
    syn = Synthesizer("wcgan", "default", seed=seed, device="cpu", derive_columns=system == "default")
    return syn.fit(train, target="income").sample(len(train), seed=seed + 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--systems", default="default,default-learnt,ctgan")
    ap.add_argument("--ctgan-epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    train, _, schema = adult(args.data_dir)
    for system in args.systems.split(","):
        t = time.perf_counter()
        synth = generate(system, train, schema, args.seed, args.ctgan_epochs)
        deps = dependency_checks(train, synth[list(train.columns)], schema)
        name = f"ctgan, {args.ctgan_epochs} epochs" if system == "ctgan" else system
        print(json.dumps({"system": name, "seed": args.seed, "seconds": round(time.perf_counter() - t, 1),
                          "dependencies": [vars(d) for d in deps]}), flush=True)


if __name__ == "__main__":
    main()
