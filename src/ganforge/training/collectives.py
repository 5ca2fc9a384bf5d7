"""The collectives of a training run on several processes (a torch.distributed process group).

Every rank runs the same train step on its share of the global batch; after each backward the
gradients of the network being stepped are averaged over the ranks with one all-reduce of a
flattened buffer (as StyleGAN3 does, instead of DistributedDataParallel: a critic step has three
forwards of the critic and a double backward through the gradient penalty, which DDP's hooks do not
support, pytorch #47260 / #63929). Since every loss term is a mean over rows and every rank holds the
same number of rows, the average of the ranks' gradients is the gradient of the global batch, and the
ranks' weights stay identical step after step. Joining a group is ``ganforge.scale.distributed``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Context:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


SINGLE = Context()


def rank_seed(seed: int, ctx: Context) -> int:
    """Each rank's own random stream, derived from the seed and the rank (the seed itself for one process)."""
    if not ctx.active:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), ctx.rank, ctx.world_size]).generate_state(1, np.uint64)[0] >> 2)


def broadcast_module(module: torch.nn.Module, src: int = 0) -> None:
    """Parameters and buffers of rank ``src`` on every rank."""
    import torch.distributed as dist

    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src)


def _views(flat: torch.Tensor, like: list[torch.Tensor]):
    """Consecutive slices of ``flat`` shaped as the tensors ``like`` (the inverse of a flattening cat)."""
    offset = 0
    for t in like:
        yield flat[offset:offset + t.numel()].view_as(t)
        offset += t.numel()


def average_gradients(module: torch.nn.Module, world_size: int) -> None:
    """Replace each parameter's gradient by its mean over the ranks (one flattened all-reduce)."""
    import torch.distributed as dist

    params = [p for p in module.parameters() if p.requires_grad]
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])
    dist.all_reduce(flat)
    flat /= world_size
    for p, g in zip(params, _views(flat, params)):
        p.grad = g


def broadcast_buffers(module: torch.nn.Module, src: int = 0) -> None:
    """Rank ``src``'s float buffers (batch-norm running statistics) on every rank, as DDP does."""
    import torch.distributed as dist

    bufs = [b for b in module.buffers() if b.is_floating_point()]
    if not bufs:
        return
    flat = torch.cat([b.reshape(-1) for b in bufs])
    dist.broadcast(flat, src)
    with torch.no_grad():
        for b, v in zip(bufs, _views(flat, bufs)):
            b.copy_(v)


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on one of them (a stop decision, an error)."""
    import torch.distributed as dist

    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def gather_objects(obj, ctx: Context) -> list:
    import torch.distributed as dist

    out = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(ctx: Context) -> None:
    if ctx.active:
        import torch.distributed as dist

        dist.barrier()


def shutdown(ctx: Context) -> None:
    if ctx.active:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()

