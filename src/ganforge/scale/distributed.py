"""Training on several processes or GPUs with torch.distributed (launched by ``torchrun``).

ganforge runs no cluster code of its own: ``torchrun`` (or Ray Train) starts the processes and
sets ``RANK`` / ``WORLD_SIZE`` / ``MASTER_ADDR``; :func:`context` joins the process group (Gloo
on CPU, NCCL on CUDA) and :func:`join` takes this rank's device. The collectives used during
training (gradient averaging, stop decisions) are in ``ganforge.training.collectives``.
"""

from __future__ import annotations

import os
import sys

import torch

from ..errors import ConfigError
from ..training.collectives import SINGLE, Context, barrier, shutdown

__all__ = ["SINGLE", "Context", "barrier", "shutdown", "launched_world_size", "context", "exit_rank"]


def launched_world_size() -> int:
    """The number of processes a launcher (torchrun, Ray Train) says this run has; 1 without one."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def context(device_type: str = "cpu") -> Context:
    """The process group this process belongs to, joined on first call (a single process when
    ``WORLD_SIZE`` is unset or 1)."""
    import torch.distributed as dist

    world = launched_world_size()
    if dist.is_available() and dist.is_initialized():  # a group set up by the launcher (Ray Train)
        world = dist.get_world_size()
    if world <= 1:
        return SINGLE
    if not dist.is_available():
        raise ConfigError("this PyTorch build has no torch.distributed: run one process")
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    return Context(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())))


def exit_rank(code: int) -> None:
    """End a process that a launcher (torchrun) started, after its work is written, without the
    interpreter's teardown. Gloo's worker threads can still hold tensors then, and freeing them
    during finalisation has aborted ranks of finished runs (SIGABRT, "terminate called without an
    active exception"; pytorch/pytorch#179291 describes the cause)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def join(device: torch.device, batch_size: int, pac: int, private: bool) -> tuple[Context, torch.device]:
    """Under torchrun or Ray Train: join the group, take this rank's GPU, check the batch splits evenly.
    Returns the group (a single process without a launcher) and the device this rank trains on."""
    ctx = context(device.type)
    if not ctx.active:
        return ctx, device
    if device.type == "cuda":
        # torchrun shows every GPU of the node (take the local rank's); Ray Train shows each
        # worker only its own (CUDA_VISIBLE_DEVICES), which is then device 0
        index = ctx.local_rank if torch.cuda.device_count() > 1 else 0
        device = torch.device("cuda", index)
        torch.cuda.set_device(device)
    if private:
        raise ConfigError("`dp_epsilon` trains on one process (its accountant counts one stream of batches): "
                          "drop `nproc` / torchrun")
    unit = ctx.world_size * pac
    if batch_size % unit:
        raise ConfigError(f"`batch_size` {batch_size} must split evenly over {ctx.world_size} processes in groups "
                          f"of pac={pac}: use a multiple of {unit}, e.g. {max(unit, batch_size // unit * unit)}")
    return ctx, device
