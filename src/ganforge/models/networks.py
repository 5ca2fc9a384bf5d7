"""Network builders: MLP generators and discriminators from a preset's layer list, and the
output head that applies each span's activation."""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from ..encoding.base import Span
from ..encoding.supports import mask as support_mask, order as support_order
from .moments import with_parts

_ACT = {
    "relu": lambda: nn.ReLU(),
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "tanh": lambda: nn.Tanh(),
    "gelu": lambda: nn.GELU(),
    "silu": lambda: nn.SiLU(),
}


def at_least_float32(t: torch.Tensor) -> torch.Tensor:
    """``t`` in float32 if it is in a narrower float (bfloat16 under autocast); float32 and float64
    tensors are returned as they are (no copy)."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


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
    """``x[:, perm]`` (an ``index_select``) whose gradient is the gather ``g[:, inverse]``.

    autograd's own backward for an index is a scatter-add (0.38 ms for a 500 x 158 batch against
    a few microseconds for a gather). ``perm`` may also repeat columns at positions whose value the
    caller overwrites (the head's padding, set to -inf): their gradient is zero, and the gather
    ``g[:, inverse]`` reads only the one position that holds each input column."""

    @staticmethod
    def forward(ctx, x, perm, inverse):
        ctx.save_for_backward(perm, inverse)
        return x.index_select(1, perm)  # 3x faster than x[:, perm] on the CPU

    @staticmethod
    def backward(ctx, g):
        perm, inverse = ctx.saved_tensors
        return _PermuteColumns.apply(g, inverse, perm), None, None


#: choice spans at least this wide are padded to a multiple of 16 columns: torch's CPU softmax over
#: a last dimension that is a multiple of the 16-float vector runs at about 17 ns per row, over 5 to
#: 12 columns at 40-110 ns per row (measured for 500-row batches); narrower spans keep their width
_PAD_FROM, _PAD_TO = 5, 16


class OutputHead(nn.Module):
    """Applies the activation of every span of the encoded table, vectorised.

    One gather puts the columns in the head's layout: first the one-column spans grouped by
    activation, then the choice spans (Gumbel-softmax first, then softmax) grouped by width, each
    span of five or more columns padded with -inf to a multiple of 16 columns so that all of them
    share a few fast softmax calls. The Gumbel noise is drawn in one call for every Gumbel column
    (in the encoded order) and gathered into the layout; one more gather puts the result back in the
    encoded order. A table with 100 categorical columns costs a handful of kernel calls, not 100.
    In sampling mode (``hard``) a Gumbel span draws its category by the inverse CDF (``_choose``).
    """

    def __init__(self, spans: Sequence[Span]):
        super().__init__()
        start = 0
        point: dict[str, list[int]] = {}
        choice: dict[tuple[str, int, float], list[list[int]]] = {}
        gumbel_cols: list[int] = []
        for s in spans:
            cols = list(range(start, start + s.width))
            if s.activation in ("softmax", "gumbel"):
                p = -(-s.width // _PAD_TO) * _PAD_TO if s.width >= _PAD_FROM else s.width
                choice.setdefault((s.activation, p, s.tau if s.activation == "gumbel" else 1.0), []).append(cols)
                if s.activation == "gumbel":
                    gumbel_cols.extend(cols)
            else:
                point.setdefault(s.activation, []).extend(cols)
            start += s.width
        self.width = start
        layout: list[int] = []  # the encoded column at each layout position; -1 for padding
        #: (activation, columns) of each one-column group, in layout order
        self.point_groups: list[tuple[str, int]] = [(act, len(cols)) for act, cols in point.items()]
        for cols in point.values():
            layout.extend(cols)
        self.n_point = len(layout)
        #: (spans, padded width, Gumbel?) of each choice group, in layout order
        self.choice_groups: list[tuple[int, int, bool]] = []
        inv_tau: list[float] = []
        gumbel_pos = {c: i for i, c in enumerate(gumbel_cols)}
        noise_index: list[int] = []
        for act, p, tau in sorted(choice, key=lambda k: (k[0] != "gumbel", k[1], k[2])):
            group = choice[(act, p, tau)]
            for cols in group:
                padded = cols + [-1] * (p - len(cols))
                layout.extend(padded)
                if act == "gumbel":
                    noise_index.extend(gumbel_pos.get(c, 0) for c in padded)
            inv_tau.extend([1.0 / tau] * (p * len(group)))
            self.choice_groups.append((len(group), p, act == "gumbel"))
        self.n_choice = len(layout) - self.n_point
        self.n_gumbel = len(gumbel_cols)
        self.n_gumbel_layout = len(noise_index)
        perm = torch.tensor([max(c, 0) for c in layout], dtype=torch.long)
        inverse = torch.empty(self.width, dtype=torch.long)
        for i, c in enumerate(layout):
            if c >= 0:
                inverse[c] = i
        pad = torch.tensor([float("-inf") if c < 0 else 0.0 for c in layout[self.n_point:]])
        self.register_buffer("perm", perm, persistent=False)
        self.register_buffer("inverse", inverse, persistent=False)
        self.register_buffer("pad", pad[None, :], persistent=False)
        self.register_buffer("inv_tau", torch.tensor(inv_tau)[None, :], persistent=False)
        self.register_buffer("noise_index", torch.tensor(noise_index, dtype=torch.long), persistent=False)
        self._scaled = any(t != 1.0 for t in inv_tau)  # some Gumbel temperature is not 1
        #: linked values (``ganforge.encoding.links``): (follower's first column, width, Gumbel temperature
        #: or None for softmax, its links as (leader's first column, leader's width, leader's slot,
        #: follower's slot, both ways), its slots linked both ways)
        self.links: list[tuple[int, int, float | None, tuple, frozenset]] = []
        start = 0
        for s in spans:
            if s.links:
                both = frozenset(slot for *_, slot, b in s.links if b)
                if len(both) >= s.width:  # a crafted file: a follower needs a value of its own
                    both = frozenset()
                self.links.append((start, s.width, s.tau if s.activation == "gumbel" else None,
                                   tuple(tuple(k) for k in s.links), both))
            start += s.width
        if self.links:
            self._link_tables(gumbel_pos)
        #: forbidden combinations (``ganforge.encoding.supports``): (follower's first column, width, Gumbel
        #: temperature or None for softmax, leader's first column, leader's width); buffers ``support_mask{k}``
        #: (leader's code x follower's code allowed) and ``support_noise{k}`` (its columns in the head's noise)
        #: in the order they apply (a column's own support before those it leads)
        self.supports: list[tuple[int, int, float | None, int, int]] = []
        found, start = [], 0
        for s in spans:
            if s.support:
                found.append((start, s))
            start += s.width
        for k, i in enumerate(support_order([(s.support[0], start) for start, s in found])):
            start, s = found[i]
            ls, lw, allowed = s.support
            gumbel = s.activation == "gumbel"
            self.register_buffer(f"support_mask{k}", torch.tensor(support_mask(lw, s.width, allowed)), persistent=False)
            self.register_buffer(f"support_noise{k}", torch.tensor(
                [gumbel_pos.get(c, 0) for c in range(start, start + s.width)], dtype=torch.long), persistent=False)
            self.supports.append((start, s.width, s.tau if gumbel else None, ls, lw))
        if self.supports:  # the followers' columns, in the order they apply: one write of all the blocks
            self.register_buffer("support_cols", torch.tensor(
                [c for start, width, *_ in self.supports for c in range(start, start + width)], dtype=torch.long),
                persistent=False)

    def gumbel_noise(self, n: int, device, dtype, generator: torch.Generator | None = None) -> torch.Tensor:
        """-log(-log(U)) for every Gumbel column of ``n`` rows, in the encoded order."""
        u = torch.rand((n, self.n_gumbel), device=device, dtype=dtype, generator=generator)
        return u.clamp_(1e-10, 1.0 - 1e-7).log_().neg_().log_().neg_()

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None, hard: bool = False) -> torch.Tensor:
        """``hard``: the caller only takes the argmax of choice spans (sampling): a Gumbel span
        then gives an indicator whose argmax is a draw from its softmax, a softmax span its logits."""
        n = len(x)
        # float32 under bfloat16 autocast too: bfloat16 uniforms come in steps of 1/256 near 1, which
        # would cut the Gumbel noise off at about 5.5, and bfloat16 gathers are slow
        x = at_least_float32(x)
        xl = _PermuteColumns.apply(x, self.perm, self.inverse)
        point, choice = xl.split([self.n_point, self.n_choice], dim=1)
        parts = []
        for (act, _), v in zip(self.point_groups, point.split([k for _, k in self.point_groups], dim=1)):
            if act == "tanh":
                v = torch.tanh(v)
            elif act == "sigmoid":
                v = torch.sigmoid(v)
            parts.append(v)
        if self.n_choice and hard:
            parts.extend(self._choose(choice + self.pad, generator))
        noise = None
        if self.n_choice and not hard:
            z = choice + self.pad
            if self.n_gumbel:
                noise = self.gumbel_noise(n, x.device, x.dtype, generator)
                g = noise.index_select(1, self.noise_index)
                if self.n_gumbel_layout < self.n_choice:  # softmax spans after the Gumbel ones: no noise
                    g = torch.cat([g, g.new_zeros(n, self.n_choice - self.n_gumbel_layout)], dim=1)
                z = z + g
            if self._scaled:
                z = z * self.inv_tau
            for (k, p, _), v in zip(self.choice_groups, z.split([k * p for k, p, _ in self.choice_groups], dim=1)):
                parts.append(torch.softmax(v.reshape(n, k, p), dim=-1).reshape(n, k * p))
        out = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        out = _PermuteColumns.apply(out, self.inverse, self.perm)
        if self.supports:  # before the links, which stay exact (encoding.supports)
            out = self._support_hard(out, x, generator) if hard else self._support_soft(out, x, noise)
        if self.links:
            out = self._link_hard(out, x, generator) if hard else self._link_soft(out, x, noise)
        return out

    def _support_soft(self, out: torch.Tensor, x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        """Training: each follower's probabilities become sum_a p(a) * softmax(z | allowed(a)), p the
        leader's probabilities (its own follower's mixture where it follows one) and z the follower's logits with
        the head's Gumbel noise, over temperature."""
        blocks: dict[int, torch.Tensor] = {}  # follower's first column -> its mixed probabilities
        for k, (start, width, tau, ls, lw) in enumerate(self.supports):
            z = x[:, start:start + width].float()
            if tau is not None:
                if noise is not None:
                    z = z + noise.index_select(1, getattr(self, f"support_noise{k}")).to(z.dtype)
                z = z / tau
            allowed = getattr(self, f"support_mask{k}")
            soft = torch.softmax(z[:, None, :].masked_fill(~allowed[None], float("-inf")), dim=-1)
            lead = blocks.get(ls, out[:, ls:ls + lw])
            blocks[start] = (lead[:, :, None].float() * soft).sum(dim=1).to(out.dtype)  # not bfloat16
        return out.index_copy(1, self.support_cols, torch.cat(list(blocks.values()), dim=1))

    def _support_hard(self, out: torch.Tensor, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Sampling: a follower whose drawn value its leader's drawn value does not allow draws again among
        those it allows, from its softmax of the raw outputs ``x`` (as ``_choose`` draws: 1 from the value on;
        a softmax span: its logits, decoded by argmax)."""
        blocks: dict[int, torch.Tensor] = {}  # follower's first column -> its block, its leader's drawn value kept
        for k, (start, width, tau, ls, lw) in enumerate(self.supports):
            lead = blocks.get(ls, out[:, ls:ls + lw])
            allowed = getattr(self, f"support_mask{k}").index_select(0, lead.argmax(dim=1))
            block = out[:, start:start + width]
            bad = ~allowed.gather(1, block.argmax(dim=1, keepdim=True))
            logits = x[:, start:start + width].float().masked_fill(~allowed, float("-inf"))
            if tau is not None:
                c = torch.softmax(logits, dim=1).cumsum_(1)
                u = 1.0 - torch.rand((len(x), 1), device=x.device, dtype=c.dtype, generator=generator)
                other = (c >= u * c[:, -1:]).to(out.dtype)
            else:  # finite: a caller may read the logits
                other = logits.clamp_min(-1e30).to(out.dtype)
            blocks[start] = torch.where(bad, other, block)
        return out.index_copy(1, self.support_cols, torch.cat(list(blocks.values()), dim=1))

    def _link_tables(self, gumbel_pos: dict[int, int]) -> None:
        """Index tensors of the links for training's one-pass mixing (``_link_soft``): each follower's
        columns in a padded (follower, position) layout, which of them are values linked both ways,
        their Gumbel noise's place in the head's noise and their temperature; each link's leader column,
        its follower column (``hot``) and its follower (``whose``)."""
        wide = max(width for _, width, *_ in self.links)
        wide = -(-wide // _PAD_TO) * _PAD_TO if wide >= _PAD_FROM else wide  # the fast softmax widths
        cols, flat, excl, noise_at, inv_tau, lead, hot, whose, rebuild = [], [], [], [], [], [], [], [], []
        for f, (start, width, tau, links, both) in enumerate(self.links):
            rebuild.append(bool(both))
            for k in range(wide):  # padded: position k of follower f is layout column f * wide + k
                real = k < width
                cols.append(start + k if real else 0)
                excl.append(not real or k in both)
                noise_at.append(gumbel_pos.get(start + k, -1) if real and tau is not None else -1)
                inv_tau.append(1.0 / tau if tau is not None else 1.0)
                if real:
                    flat.append(f * wide + k)
            for ls, _, la, slot, _ in links:
                lead.append(ls + la)
                hot.append(start + slot)
                whose.append(f)
        follower_cols = [cols[i] for i in flat]
        index = {c: i for i, c in enumerate(follower_cols)}
        whose_m = torch.zeros(len(lead), len(self.links))  # link -> its follower
        whose_m[torch.arange(len(lead)), torch.tensor(whose)] = 1.0
        noisy = [a >= 0 for a in noise_at]
        for name, value in (("link_cols", torch.tensor(follower_cols)), ("link_pad_cols", torch.tensor(cols)),
                            ("link_flat", torch.tensor(flat)), ("link_excl", torch.tensor(excl)[None, :]),
                            ("link_noise_at", torch.tensor([max(a, 0) for a in noise_at])),
                            ("link_noisy", torch.tensor(noisy, dtype=torch.float32)[None, :]),
                            ("link_inv_tau", torch.tensor(inv_tau)[None, :]), ("link_lead", torch.tensor(lead)),
                            ("link_hot", torch.tensor([index[h] for h in hot])), ("link_whose", whose_m),
                            ("link_owner", torch.tensor([i // wide for i in flat])),
                            ("link_rebuild", torch.tensor([rebuild[i // wide] for i in flat])[None, :])):
            self.register_buffer(name, value, persistent=False)
        self._link_wide = wide
        self._link_any_rebuild = any(rebuild)  # plain Python: the head may be built on the meta device
        self._link_any_noise = any(noisy)

    def _link_soft(self, out: torch.Tensor, x: torch.Tensor, noise: torch.Tensor | None) -> torch.Tensor:
        """Training: each follower's probabilities become sum_l p_l * onehot_l + (1 - sum_l p_l) * rest,
        p_l the probabilities of its leader's linked values and the rest its Gumbel-softmax over the values
        not linked both ways, with the head's own noise (its head output where none is linked both ways),
        so that rows are exact where the leader is and gradients reach both. All followers in one pass: a
        table can have dozens (``noise``: the head's Gumbel noise, in the encoded order)."""
        n = len(out)
        own = out.index_select(1, self.link_cols)
        p = out.index_select(1, self.link_lead)
        rest = own
        if self._link_any_rebuild:
            z = x.float().index_select(1, self.link_pad_cols)
            if noise is not None and self._link_any_noise:
                z = z + noise.index_select(1, self.link_noise_at) * self.link_noisy
            z = (z * self.link_inv_tau).masked_fill(self.link_excl, float("-inf"))
            soft = torch.softmax(z.view(n, len(self.links), self._link_wide), dim=-1).view(n, -1)
            rest = torch.where(self.link_rebuild, soft.index_select(1, self.link_flat).to(own.dtype), own)
        taken = (p @ self.link_whose).index_select(1, self.link_owner)  # sum_l p_l of each column's follower
        mixed = ((1.0 - taken) * rest).index_add(1, self.link_hot, p)
        return out.index_copy(1, self.link_cols, mixed)

    def _link_hard(self, out: torch.Tensor, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        """Sampling: where the leader drew a linked value the follower takes its linked value; a follower
        that drew a value linked both ways without its leader's draws again among its other values (from
        its softmax of the raw outputs ``x``, as ``_choose`` draws: 1 from the value on)."""
        pieces, at = [], 0
        for start, width, tau, links, both in self.links:
            block = out[:, start:start + width]
            if both:
                excluded = torch.tensor([k in both for k in range(width)], device=out.device)
                drew = excluded[block.argmax(dim=1)][:, None]
                logits = x[:, start:start + width].float().masked_fill(excluded[None, :], float("-inf"))
                if tau is not None:
                    c = torch.softmax(logits, dim=1).cumsum_(1)
                    u = 1.0 - torch.rand((len(x), 1), device=x.device, dtype=c.dtype, generator=generator)
                    other = (c >= u * c[:, -1:]).to(out.dtype)
                else:  # a softmax span is decoded by the argmax of its logits
                    other = logits.to(out.dtype)
                block = torch.where(drew, other, block)
            for ls, lw, la, slot, _ in links:
                lead = (out[:, ls:ls + lw].argmax(dim=1) == la)[:, None]
                hot = torch.zeros(width, device=out.device, dtype=out.dtype)
                hot[slot] = 1.0
                block = torch.where(lead, hot.expand_as(block), block)
            pieces += [out[:, at:start], block]
            at = start + width
        pieces.append(out[:, at:])
        return torch.cat(pieces, dim=1)

    def _choose(self, z: torch.Tensor, generator: torch.Generator | None) -> list[torch.Tensor]:
        """Sampling mode: each Gumbel span draws its category from softmax(logits) by the inverse
        CDF, one uniform per span (the Gumbel-max trick needs one per column: ten times the random
        numbers on Adult, for the same distribution; the temperature does not change it), and
        returns 1 from that category on, so that its argmax is the draw; softmax spans return their
        logits (decoded by argmax, no draw)."""
        n = len(z)
        spans = sum(k for k, _, gumbel in self.choice_groups if gumbel)
        u = iter(())
        if spans:  # in (0, 1]: the threshold u * total is above zero and reaches the last category
            u = iter((1.0 - torch.rand((n, spans), device=z.device, dtype=z.dtype, generator=generator))
                     .split([k for k, _, gumbel in self.choice_groups if gumbel], dim=1))
        parts = []
        for (k, p, gumbel), v in zip(self.choice_groups, z.split([k * p for k, p, _ in self.choice_groups], dim=1)):
            if gumbel:
                c = torch.softmax(v.reshape(n, k, p), dim=-1).cumsum_(-1)
                v = (c >= next(u).unsqueeze(-1) * c[:, :, -1:]).to(z.dtype).reshape(n, k * p)
            parts.append(v)
        return parts


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
        # float32 scores under bfloat16 autocast too: the losses and the curves they report keep
        # float32 precision
        return at_least_float32(self.body(x.reshape(-1, self.in_dim)).reshape(-1))


class LabelClassifier(nn.Module):
    """Logits over a conditional model's labels from an encoded row: the training aid of
    ``classifier_weight`` (ganforge.training.Trainer), with the critic's hidden layers."""

    def __init__(self, data_dim: int, n_labels: int, layers, parts=None):
        super().__init__()
        #: joints' columns and matrix (``moments.moment_parts``): each joined column's one-hot beside its
        #: combinations', so that a label's relation to one column is learnt from all its combinations' rows
        self.parts = parts
        extra = 0 if parts is None else parts[1].shape[1]
        self.body = build_mlp(data_dim + extra, layers, n_labels)

    def forward(self, x):
        return self.body(with_parts(x, self.parts))
