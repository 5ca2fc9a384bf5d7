"""Look for the pair-trend / TSTR gap between `default` and CTGAN-300 on Adult (docs/measurements/default-preset.md).

    python benchmarks/adult_pair_gap.py [--set KEY=VALUE ...] [--seed 0] [--pairs 12]
    python benchmarks/adult_pair_gap.py --training-by-sampling [--epochs 30] [--n-critic 5]

Trains wcgan with the `default` preset and the given overrides on adult.data, samples as many rows,
and scores them as benchmarks/compare_ctgan.py does (adult.test for TSTR, logistic regression and
XGBoost), with the mean and largest gap between the real and synthetic associations of the label
(income) with each other column; then prints the column pairs whose association (Pearson / Cramer's
V / correlation ratio) is furthest from the real one.

``--training-by-sampling`` is a prototype of CTGAN's conditioning, built from ganforge's networks and
trainer, not a ganforge option: each training row is conditioned on one category of a randomly
chosen discrete column (categories drawn by log frequency, the real row drawn among the rows with
that category), the critic sees the condition, and the generator's loss gets the cross-entropy of
the chosen category; samples are conditioned by the real frequencies. The label is one of the
discrete columns (the model is unconditional otherwise).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from ganforge import Synthesizer, datasets, evaluate
from ganforge.models import losses
from ganforge.models.networks import Discriminator, Generator
from ganforge.schema import infer_schema
from ganforge.models.families import AdversarialFamily
from ganforge.training import Trainer


class ConditionSampler:
    """CTGAN's training-by-sampling over the one-hot spans of the discrete columns of ``X``."""

    def __init__(self, X: torch.Tensor, slices: list[slice]):
        widths = [s.stop - s.start for s in slices]
        self.X, self.n_cols, self.width = X, len(slices), sum(widths)
        first = torch.tensor(np.cumsum([0] + widths[:-1]))
        #: condition index -> encoded column, and -> discrete column
        self.encoded = torch.cat([torch.arange(s.start, s.stop) for s in slices])
        self.column = torch.cat([torch.full((w,), j) for j, w in enumerate(widths)])
        codes = torch.stack([X[:, s].argmax(1) for s in slices], 1) + first  # (rows, columns)
        rows = [torch.nonzero(codes[:, self.column[g]] == g).flatten() for g in range(self.width)]
        self.counts = torch.tensor([len(r) for r in rows], dtype=torch.float32)
        self.order = torch.cat(rows)
        self.offsets = torch.cumsum(torch.cat([torch.zeros(1), self.counts[:-1]]), 0).long()
        self.log_freq, self.freq = torch.zeros(self.width), torch.zeros(self.width)
        for j in range(self.n_cols):
            m = self.column == j
            self.log_freq[m] = torch.log1p(self.counts[m]) / torch.log1p(self.counts[m]).sum()
            self.freq[m] = self.counts[m] / self.counts[m].sum()

    def draw(self, n: int, probs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        j = torch.randint(self.n_cols, (n,), generator=generator)
        p = probs.expand(n, -1) * (self.column.unsqueeze(0) == j.unsqueeze(1))
        return torch.multinomial(p, 1, generator=generator).flatten()

    def onehot(self, g: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.one_hot(g, self.width).float()

    def sample(self, n: int):
        g = self.draw(n, self.log_freq)
        pick = (torch.rand(n) * self.counts[g]).long().clamp_max(self.counts[g].long() - 1)
        return self.X[self.order[self.offsets[g] + pick]], self.onehot(g)

    def conditions(self, n: int):
        return self.onehot(self.draw(n, self.log_freq))


class ConditionedFamily(AdversarialFamily):
    """The generator step adds the cross-entropy of the category its condition names."""

    def _generator_step(self):
        b, src = self.batch_size, self.source
        cond = src.conditions(b)
        self.discriminator.requires_grad_(False)
        fake = self.generator(self._noise(b), cond)
        chosen = fake[torch.arange(b), src.encoded[cond.argmax(1)]]
        loss = self.loss.generator(self.discriminator(fake, cond)) - torch.log(chosen.clamp_min(1e-8)).mean()
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_g.step()
        self.discriminator.requires_grad_(True)
        return loss.detach()


def training_by_sampling(train, seed: int, epochs: int, n_critic: int):
    base = Synthesizer("wgan", "default", steps=1, seed=seed, device="cpu").fit(train, quiet=True)
    enc, cfg = base.encoder_, base.config
    X = torch.as_tensor(enc.transform(train))
    slices = [sl for codec, sl in zip(enc.codecs_, enc.column_slices().values())
              if not codec.spec.is_numeric and len(codec.spans) == 1
              and codec.spans[0].activation in ("gumbel", "softmax")]
    src = ConditionSampler(X, slices)
    torch.manual_seed(seed)
    G = Generator(cfg["latent_dim"], src.width, cfg["generator_layers"], enc.spans)
    D = Discriminator(enc.width, src.width, cfg["discriminator_layers"], cfg["pac"])
    steps = int(np.ceil(epochs * len(train) / cfg["batch_size"]))
    fam = ConditionedFamily(G, D, losses.get_loss("wasserstein"), src, batch_size=cfg["batch_size"], n_critic=n_critic,
                            lr_g=cfg["lr_g"], lr_d=cfg["lr_d"], betas=tuple(cfg["betas"]))
    Trainer(fam).fit(steps)
    G.eval()
    gen = torch.Generator().manual_seed(seed + 1)
    with torch.inference_mode():
        g = src.draw(len(train), src.freq, gen)
        out = G(torch.randn(len(train), cfg["latent_dim"], generator=gen), src.onehot(g), generator=gen, hard=True)
    return enc.inverse_transform(out.numpy(), np.random.default_rng(seed)), steps


def overrides(items: list[str]) -> dict:
    """``--set KEY=VALUE`` options (JSON values) as a dict of preset overrides."""
    return {k: json.loads(v) for k, v in (s.split("=", 1) for s in items)}


def adult(data_dir: str | None):
    """adult.data, adult.test and the schema inferred from adult.data (target income)."""
    train = datasets.load_adult(data_dir)
    return train, datasets.load_adult(data_dir, split="test"), infer_schema(train, target="income")


def score(train, synth, test, schema, seed: int):
    """The evaluation suite as benchmarks/compare_ctgan.py runs it (adult.test for TSTR, logistic
    regression and XGBoost), and its headline figures rounded for printing."""
    res = evaluate(train, synth[list(train.columns)], test=test, target="income", schema=schema, seed=seed,
                   tsne=False, utility_classifiers=("logistic_regression", "xgboost"))
    return res, dict(column_shapes=round(res.column_shapes, 4), pair_trends=round(res.pair_trends, 4),
                     pair_trends_sdmetrics=round(res.fidelity.pair_trends_sdmetrics, 4),
                     detection_auc=round(res.detection.cv_auc, 4), tstr_auc=round(res.utility.mean("tstr"), 4))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a default-preset override (JSON value)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pairs", type=int, default=12, help="how many of the worst pairs to print")
    ap.add_argument("--training-by-sampling", action="store_true")
    ap.add_argument("--epochs", type=int, default=30, help="with --training-by-sampling")
    ap.add_argument("--n-critic", type=int, default=5, help="with --training-by-sampling")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    torch.set_num_threads(2)
    train, test, schema = adult(args.data_dir)
    t = time.perf_counter()
    if args.training_by_sampling:
        synth, steps = training_by_sampling(train, args.seed, args.epochs, args.n_critic)
        name = f"training-by-sampling, {args.epochs} epochs, n_critic {args.n_critic}"
    else:
        kw = overrides(args.set)
        syn = Synthesizer("wcgan", "default", seed=args.seed, device="cpu", **kw).fit(train, target="income", quiet=True)
        summary = syn.summary()
        synth, steps = syn.sample(len(train), seed=args.seed + 1), summary["steps"]
        name = "default " + json.dumps(kw)
        if summary["quality"]:  # the quality monitor's choice (early stopping, best generator)
            q = summary["quality"]
            name += f" (stopped by {summary['stopped_by']}; kept step {q['best_step']}, {q['metric']} {q['best_score']})"
    fit_s = time.perf_counter() - t
    res, figures = score(train, synth, test, schema, args.seed)
    d, real, fake = (res.fidelity.association_difference, res.fidelity.association_real,
                     res.fidelity.association_synthetic)
    label = d["income"].drop("income")  # how far the label's associations with the other columns are off
    print(json.dumps(dict(run=name, seed=args.seed, seconds=round(fit_s, 1), steps=steps, **figures,
                          label_gap_mean=round(float(label.mean()), 4), label_gap_max=round(float(label.max()), 4),
                          label_gap_worst=str(label.idxmax()))))
    worst = sorted(((d.loc[a, b], a, b) for i, a in enumerate(d.columns) for b in d.columns[i + 1:]), reverse=True)
    for v, a, b in worst[:args.pairs]:
        print(f"{a:>16} {b:<16} real {real.loc[a, b]:.3f}  synthetic {fake.loc[a, b]:.3f}  difference {v:.3f}")


if __name__ == "__main__":
    main()
