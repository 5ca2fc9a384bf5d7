"""Network builders: MLP generators and discriminators from a preset's layer list, and the
output head that applies each span's activation."""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from ..encoding.base import Span

_ACT = {
    "relu": lambda: nn.ReLU(),
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": lambda: nn.Tanh(),
    "gelu": lambda: nn.GELU(),
    "silu": lambda: nn.SiLU(),
}


class Dropout(nn.Module):
    """Dropout with a mask from random bytes, on the CPU.

    torch's CPU dropout draws its mask with ``bernoulli_``, one generator call per element: 200 us
    for a 50 x 256 critic activation on the development machine, 8% of a ``ctgan-like`` training
    step. Here eight mask bytes come from one 64-bit draw and an element is kept when its byte is at
    or above ``round(p * 256)``: 55 us, the same mask distribution for ``p`` a multiple of 1/256 (0.25,
    0.5) and ``p`` rounded to the nearest 1/256 otherwise. On CUDA torch's own kernel is used.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {p}")
        self.p = p
        self.threshold = int(round(p * 256))
        self.scale = 256.0 / (256 - self.threshold)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.threshold == 0:
            return x
        if x.device.type != "cpu":
            return nn.functional.dropout(x, self.p, True)
        n = x.numel()
        r = torch.randint(-2**63, 2**63 - 1, ((n + 7) // 8,), dtype=torch.int64).view(torch.uint8)[:n]
        return x * ((r.view(x.shape) >= self.threshold).to(x.dtype) * self.scale)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Residual(nn.Module):
    """CTGAN's generator block: linear -> batch norm -> ReLU, concatenated with its input."""

    def __init__(self, i: int, o: int, activation: str = "relu", batchnorm: bool = True):
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.bn = nn.BatchNorm1d(o) if batchnorm else nn.Identity()
        self.act = _ACT[activation]()

    def forward(self, x):
        return torch.cat([self.act(self.bn(self.fc(x))), x], dim=1)


def build_mlp(in_dim: int, layers: Sequence[dict[str, Any]], out_dim: int) -> nn.Sequential:
    """Layers are dicts: width, activation, dropout, batchnorm, residual."""
    mods: list[nn.Module] = []
    d = in_dim
    for spec in layers:
        w = int(spec["width"])
        act = spec.get("activation", "relu")
        if act not in _ACT:
            raise ValueError(f"unknown activation {act!r}; use one of {', '.join(_ACT)}")
        if spec.get("residual"):
            mods.append(Residual(d, w, act, spec.get("batchnorm", True)))
            d = d + w
        else:
            mods.append(nn.Linear(d, w))
            if spec.get("batchnorm"):
                mods.append(nn.BatchNorm1d(w))
            mods.append(_ACT[act]())
            d = w
        if spec.get("dropout"):
            mods.append(Dropout(float(spec["dropout"])))
    mods.append(nn.Linear(d, out_dim))
    return nn.Sequential(*mods)


class _PermuteColumns(torch.autograd.Function):
    """``x[:, perm]`` whose gradient is the gather ``g[:, inverse]``: autograd's own backward for an
    index is a scatter-add (``index_put_`` with accumulation), 0.38 ms per call for a 500 x 158
    batch against a few microseconds for the gather, and a permutation needs no accumulation."""

    @staticmethod
    def forward(ctx, x, perm, inverse):
        ctx.save_for_backward(perm, inverse)
        return x[:, perm]

    @staticmethod
    def backward(ctx, g):
        perm, inverse = ctx.saved_tensors
        return _PermuteColumns.apply(g, inverse, perm), None, None


class OutputHead(nn.Module):
    """Applies the activation of every span of the encoded table, vectorised per group.

    The columns are put in group order with one gather (spans of one activation and width next to
    each other), each group is a contiguous (batch, n_spans, width) view that gets its activation in
    one call, and one more gather puts the result back in the encoded order: a table with 100
    categorical columns costs a handful of kernel calls, not 100, and the backward pass two index
    operations instead of one gather and one scatter per group.
    """

    def __init__(self, spans: Sequence[Span]):
        super().__init__()
        start = 0
        groups: dict[tuple[str, int, float], list[list[int]]] = {}
        for s in spans:
            tau = s.tau if s.activation == "gumbel" else 0.0
            key = (s.activation, s.width if s.activation in ("softmax", "gumbel") else 1, tau)
            if key[1] == 1 and s.activation not in ("softmax", "gumbel"):
                for j in range(s.width):
                    groups.setdefault(key, []).append([start + j])
            else:
                groups.setdefault(key, []).append(list(range(start, start + s.width)))
            start += s.width
        self.width = start
        #: (activation, tau, first column, spans, width) of each group in the grouped order
        self.groups: list[tuple[str, float, int, int, int]] = []
        order: list[int] = []
        for (act, w, tau), idx in groups.items():
            self.groups.append((act, tau, len(order), len(idx), w))
            order.extend(j for span in idx for j in span)
        perm = torch.tensor(order, dtype=torch.long)
        self.register_buffer("perm", perm, persistent=False)
        self.register_buffer("inverse", torch.argsort(perm), persistent=False)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, hard: bool = False) -> torch.Tensor:
        """``hard``: the caller only takes the argmax of choice spans (sampling), so they get
        logits plus Gumbel noise and skip the softmax, which does not move the argmax."""
        xg = _PermuteColumns.apply(x, self.perm, self.inverse)
        parts = []
        for act, tau, a, n, w in self.groups:
            v = xg[:, a:a + n * w]
            if act in ("softmax", "gumbel"):
                v = v.reshape(len(x), n, w)
            if hard and act in ("softmax", "gumbel"):
                if act == "gumbel":
                    u = torch.rand(v.shape, device=v.device, dtype=v.dtype, generator=generator)
                    v = v - torch.log(-torch.log(u.clamp(1e-10, 1.0 - 1e-7)))
            elif act == "tanh":
                v = torch.tanh(v)
            elif act == "sigmoid":
                v = torch.sigmoid(v)
            elif act == "softmax":
                v = torch.softmax(v, dim=-1)
            elif act == "gumbel":
                u = torch.rand(v.shape, device=v.device, dtype=v.dtype, generator=generator)
                u = u.clamp(1e-10, 1.0 - 1e-7)
                g = -torch.log(-torch.log(u))
                v = torch.softmax((v + g) / tau, dim=-1)
            parts.append(v.reshape(len(x), n * w))
        out = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        return _PermuteColumns.apply(out, self.inverse, self.perm)


class Generator(nn.Module):
    def __init__(self, latent_dim: int, cond_dim: int, layers, spans: Sequence[Span]):
        super().__init__()
        self.latent_dim, self.cond_dim = latent_dim, cond_dim
        self.head = OutputHead(spans)
        self.body = build_mlp(latent_dim + cond_dim, layers, self.head.width)

    def forward(self, z, cond=None, generator: torch.Generator | None = None, hard: bool = False):
        x = z if cond is None else torch.cat([z, cond], dim=1)
        return self.head(self.body(x), generator=generator, hard=hard)

    def inference_body(self) -> nn.Sequential:
        """A copy of the body for sampling, with each batch norm folded into the linear layer before
        it (in eval mode a batch norm is an affine map): one matmul per layer instead of three passes."""
        return fold_batchnorm(self.body)


def fold_batchnorm(body: nn.Sequential) -> nn.Sequential:
    import copy

    body = copy.deepcopy(body).eval()
    def fold(fc: nn.Linear, bn: nn.BatchNorm1d) -> None:
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        fc.weight.data.mul_(scale[:, None])
        fc.bias.data.copy_((fc.bias - bn.running_mean) * scale + bn.bias)

    mods = list(body)
    for i, m in enumerate(mods):
        if isinstance(m, Residual) and isinstance(m.bn, nn.BatchNorm1d):
            fold(m.fc, m.bn)
            m.bn = nn.Identity()
        elif isinstance(m, nn.BatchNorm1d) and i > 0 and isinstance(mods[i - 1], nn.Linear):
            fold(mods[i - 1], m)
            mods[i] = nn.Identity()
    return nn.Sequential(*mods)


class Discriminator(nn.Module):
    """Scores rows (a logit for BCE losses, a critic value for Wasserstein ones).

    With ``pac`` > 1 it scores groups of ``pac`` rows at once (PacGAN, as CTGAN), which makes mode
    collapse visible to it; the batch size must then be a multiple of ``pac``.
    """

    def __init__(self, data_dim: int, cond_dim: int, layers, pac: int = 1):
        super().__init__()
        self.pac = pac
        self.in_dim = (data_dim + cond_dim) * pac
        self.body = build_mlp(self.in_dim, layers, 1)

    def forward(self, x, cond=None):
        if cond is not None:
            x = torch.cat([x, cond], dim=1)
        return self.body(x.reshape(-1, self.in_dim)).reshape(-1)
