"""Image augmentation experiments: a small CNN classifier with train/test curves, classic
crop-and-rotate augmentation, and the minority-class figures (recall, precision, F1)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn


class SmallCNN(nn.Module):
    """Two 3x3 conv + max-pool blocks and a 64-wide hidden layer: about 99% on balanced MNIST.
    ``features`` (the hidden layer) also serves the Frechet distance."""

    def __init__(self, shape: tuple[int, int, int], n_classes: int, width: int = 16):
        super().__init__()
        c, h, w = shape
        self.conv = nn.Sequential(nn.Conv2d(c, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten())
        self.hidden = nn.Sequential(nn.Linear(2 * width * (h // 4) * (w // 4), 64), nn.ReLU())
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(64, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.hidden(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(self.features(x)))


@dataclass
class ClassifierRun:
    model: SmallCNN
    curves: pd.DataFrame          # epoch, train_loss, train_acc, test_loss, test_acc
    test_pred: np.ndarray
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)


def _batches(n: int, bs: int):
    for i in range(0, n, bs):
        yield slice(i, min(n, i + bs))


@torch.inference_mode()
def predict_proba(model: SmallCNN, X: torch.Tensor, bs: int = 1024) -> np.ndarray:
    model.eval()
    return torch.cat([torch.softmax(model(X[s]), 1) for s in _batches(len(X), bs)]).cpu().numpy()


@torch.inference_mode()
def features(model: SmallCNN, X: torch.Tensor, bs: int = 1024) -> np.ndarray:
    model.eval()
    return torch.cat([model.features(X[s]) for s in _batches(len(X), bs)]).cpu().numpy()


def train_classifier(Xtr: torch.Tensor, ytr: torch.Tensor, Xte: torch.Tensor, yte: torch.Tensor, n_classes: int,
                     epochs: int = 6, seed: int = 0, batch_size: int = 128, lr: float = 2e-3) -> ClassifierRun:
    """Adam on cross-entropy; after every epoch the train figures (running, over that epoch's
    batches) and the test loss and accuracy are recorded."""
    import time

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    model = SmallCNN(tuple(Xtr.shape[1:]), n_classes).to(Xtr.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator(device=Xtr.device).manual_seed(seed + 3)
    rows = []
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(Xtr), device=Xtr.device, generator=g)
        tot_loss = torch.zeros((), device=Xtr.device)
        tot_ok = torch.zeros((), device=Xtr.device)
        for s in _batches(len(Xtr), batch_size):
            idx = perm[s]
            logits = model(Xtr[idx])
            loss = F.cross_entropy(logits, ytr[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot_loss += loss.detach() * len(idx)
            tot_ok += (logits.detach().argmax(1) == ytr[idx]).sum()
        probs = torch.as_tensor(predict_proba(model, Xte))
        yte_c = yte.cpu()
        test_loss = float(F.nll_loss(torch.log(probs.clamp_min(1e-12)), yte_c))
        rows.append({"epoch": epoch, "train_loss": float(tot_loss) / len(Xtr), "train_acc": float(tot_ok) / len(Xtr),
                     "test_loss": test_loss, "test_acc": float((probs.argmax(1) == yte_c).float().mean())})
        if not math.isfinite(rows[-1]["train_loss"]):
            raise RuntimeError("the classifier diverged; lower its learning rate")
    return ClassifierRun(model, pd.DataFrame(rows), probs.argmax(1).numpy(), time.perf_counter() - t0)


def crop_rotate(images: torch.Tensor, n: int, seed: int, degrees: float = 10.0,
                min_crop: float = 0.85) -> torch.Tensor:
    """``n`` new images, each a random source image rotated by up to +-``degrees`` and cropped to
    a random square of ``min_crop``..1 of its side (at a random position), resized back."""
    g = torch.Generator(device=images.device).manual_seed(seed)
    src = torch.randint(len(images), (n,), device=images.device, generator=g)
    u = lambda: torch.rand(n, device=images.device, generator=g)  # noqa: E731
    angle = (2 * u() - 1) * math.radians(degrees)
    scale = min_crop + (1 - min_crop) * u()
    tx, ty = (2 * u() - 1) * (1 - scale), (2 * u() - 1) * (1 - scale)
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    x = images[src]
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def minority_figures(y_true: np.ndarray, y_pred: np.ndarray, minority: int) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    p, r, f, _ = precision_recall_fscore_support(y_true == minority, y_pred == minority, average="binary",
                                                 zero_division=0)
    return {"accuracy": float(accuracy_score(y_true, y_pred)), "recall": float(r), "precision": float(p),
            "f1": float(f)}
