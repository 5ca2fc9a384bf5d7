"""The generator's last weights against moving averages of them, from one training run (Adult).

    python benchmarks/averaging.py [--seed 0] [--time-limit 161] [--decays 0.995,0.999] [--set KEY=VALUE ...]

Trains wcgan with the `default` preset (its own average switched off, ``ema_decay=0``) and the given
overrides on adult.data, stopped by ``--time-limit`` (default: a tenth of CTGAN-300's Adult wall time
here, docs/measurements/benchmarks.md), while a callback keeps one average per decay with the trainer's rule (decay
capped by (1 + t) / (10 + t) at step t). Then samples as many rows as adult.data from the last weights
and from each average and scores them as benchmarks/compare_ctgan.py does (adult.test for TSTR,
logistic regression and XGBoost). Same run, same steps: the difference is the averaging alone.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from ganforge import Synthesizer
from ganforge.training import Callback

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adult_pair_gap import adult, overrides, score  # noqa: E402


class Averages(Callback):
    def __init__(self, decays: list[float]):
        self.decays, self.states, self.keys = decays, None, None

    def on_step_end(self, trainer, step):
        sd = trainer.family.generator.state_dict()
        if self.states is None:  # the first average starts from the weights after step 1
            self.keys = list(sd)
            self.states = {d: [v.detach().clone() for v in sd.values()] for d in self.decays}
            return
        live = [v for v in sd.values() if v.is_floating_point()]
        for d, st in self.states.items():
            decay = min(d, (1 + step) / (10 + step))
            torch._foreach_lerp_([s for s in st if s.is_floating_point()], live, 1 - decay)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=161.0)
    ap.add_argument("--decays", default="0.995,0.999")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a default-preset override (JSON value)")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    train, test, schema = adult(args.data_dir)
    kw = overrides(args.set)
    averages = Averages([float(d) for d in args.decays.split(",")])
    syn = Synthesizer("wcgan", "default", seed=args.seed, device="cpu", epochs=300, time_limit=args.time_limit,
                      **{**kw, "ema_decay": 0.0})
    t = time.perf_counter()
    syn.fit(train, target="income", quiet=True, callbacks=[averages])
    print(json.dumps(dict(settings=kw, seed=args.seed, seconds=round(time.perf_counter() - t, 1),
                          steps=syn.summary()["steps"])), flush=True)
    last = {k: v.clone() for k, v in syn.generator_.state_dict().items()}
    runs = [("last weights", last)] + [(f"average {d}", dict(zip(averages.keys, st)))
                                       for d, st in averages.states.items()]
    for name, state in runs:
        syn.family_.keep(state)  # sampling refolds the new weights
        synth = syn.sample(len(train), seed=args.seed + 1)
        figures = score(train, synth, test, schema, args.seed)[1]
        figures.pop("pair_trends_sdmetrics")
        print(json.dumps(dict(generator=name, **figures)), flush=True)


if __name__ == "__main__":
    main()
