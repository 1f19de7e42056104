"""Data-parallel training under ``torchrun`` with PyTorch's own engine (DistributedDataParallel).

``torchrun --nproc_per_node=N script.py`` sets ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``; ``fit`` then
joins the process group (gloo on CPU, nccl on CUDA), wraps the module in DDP, gives each process its
slice of every global batch (``batch_size`` is the global batch), averages the logged loss and metrics
over processes, and writes files (checkpoints, logs, progress) on rank 0 only. DDP's gradient
all-reduce makes each step equal to one process's step on the whole global batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class Context:
    world_size: int = 1
    rank: int = 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def context() -> Context:
    """The current process's place in a distributed run (a single process when not under torchrun)."""
    if dist.is_available() and dist.is_initialized():
        return Context(dist.get_world_size(), dist.get_rank())
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or not dist.is_available():
        return Context()
    backend = "nccl" if torch.cuda.is_available() and os.environ.get("RECURRA_DIST_BACKEND", "") != "gloo" else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)
    return Context(dist.get_world_size(), dist.get_rank())


def wrap(module: nn.Module, ctx: Context) -> nn.Module:
    """``module`` wrapped in DistributedDataParallel when the run is distributed."""
    if not ctx.active:
        return module
    device = next(module.parameters()).device
    if device.type == "cuda":
        return nn.parallel.DistributedDataParallel(module, device_ids=[device.index])
    return nn.parallel.DistributedDataParallel(module)


def shard(t: torch.Tensor, ctx: Context) -> torch.Tensor:
    """This process's rows of a global batch (rank r takes rows r, r + N, r + 2N, ...)."""
    return t[ctx.rank :: ctx.world_size] if ctx.active else t


def all_sum(values: torch.Tensor, ctx: Context) -> torch.Tensor:
    """Sum a float64 tensor over processes (identity for one process)."""
    if ctx.active:
        values = values.clone()
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values
