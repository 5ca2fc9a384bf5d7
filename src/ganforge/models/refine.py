"""Refinement after training: a classifier of real against generated rows, and sampling importance
resampling by its density ratio (``refine_candidates``).

After a generator is trained, a small MLP learns to tell its encoded rows from real ones (both with
their condition vectors). Its logit estimates log p_real(x) / p_generated(x); sampling then draws k
candidates for every row it returns, with the row's own condition, and keeps one with probability
proportional to exp(logit) (clipped): sampling importance resampling towards the real distribution
(as discriminator rejection sampling, Azadi et al. 2019, does with the GAN's own critic, here with a
classifier trained for the purpose, which a Wasserstein critic is not). Label shares and conditions are
kept exactly: a row's candidates share its condition. The classifier is part of the model file.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .networks import build_mlp

#: density ratios are clipped to exp(+-LOGIT_CLIP): a few rows the classifier is sure of must not take over
LOGIT_CLIP = 3.0


class Refiner(torch.nn.Module):
    """An MLP from an encoded row (and its condition vector) to the logit of "real"."""

    def __init__(self, width: int, cond_width: int, layers):
        super().__init__()
        self.cond_width = cond_width
        self.body = build_mlp(width + cond_width, layers, 1)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        if cond is not None:
            x = torch.cat([x, cond], dim=1)
        return self.body(x).reshape(-1)


def train_refiner(refiner: Refiner, real: torch.Tensor, real_cond: torch.Tensor | None, fake: torch.Tensor,
                  fake_cond: torch.Tensor | None, epochs: int, seed: int, batch_size: int = 500,
                  lr: float = 1e-3) -> dict[str, float]:
    """Train on balanced batches of real and generated rows (its own random stream); returns the held-out
    accuracy and the mean logit of each side on the last fifth of the rows, kept out of training."""
    g = torch.Generator().manual_seed(int(seed))
    n = min(len(real), len(fake))
    perm_r, perm_f = torch.randperm(len(real), generator=g)[:n], torch.randperm(len(fake), generator=g)[:n]
    cut = max(1, int(0.8 * n))
    opt = torch.optim.Adam(refiner.parameters(), lr=lr, weight_decay=1e-5)
    refiner.train()
    for _ in range(max(1, epochs)):
        order = torch.randperm(cut, generator=g)
        for i in range(0, cut, batch_size):
            ir, if_ = perm_r[order[i:i + batch_size]], perm_f[order[i:i + batch_size]]
            x = torch.cat([real[ir], fake[if_]])
            c = None if real_cond is None else torch.cat([real_cond[ir], fake_cond[if_]])
            y = torch.cat([torch.ones(len(ir)), torch.zeros(len(if_))]).to(x.device)
            loss = F.binary_cross_entropy_with_logits(refiner(x, c), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    refiner.eval()
    with torch.no_grad():
        hr, hf = perm_r[cut:], perm_f[cut:]
        lr_ = refiner(real[hr], None if real_cond is None else real_cond[hr])
        lf = refiner(fake[hf], None if fake_cond is None else fake_cond[hf])
    acc = float(((lr_ > 0).float().mean() + (lf <= 0).float().mean()) / 2) if len(hr) else float("nan")
    return {"holdout_accuracy": round(acc, 4), "mean_logit_real": round(float(lr_.mean()), 4) if len(hr) else None,
            "mean_logit_generated": round(float(lf.mean()), 4) if len(hf) else None}


@torch.inference_mode()
def choose(refiner: Refiner, candidates: np.ndarray, cond: torch.Tensor | None, k: int,
           g: torch.Generator) -> np.ndarray:
    """Of ``k`` consecutive candidates per row (``len(candidates) = k * rows``), the index of the one
    kept for each row, drawn with probability proportional to the clipped density ratio."""
    x = torch.as_tensor(candidates, dtype=torch.float32)
    logits = refiner(x, cond).float().clamp(-LOGIT_CLIP, LOGIT_CLIP).reshape(-1, k)
    w = torch.softmax(logits, dim=1)
    pick = torch.multinomial(w, 1, generator=g).reshape(-1)
    return (torch.arange(len(pick)) * k + pick).numpy()
