"""DistributedDataParallel set-up for a run launched by ``torchrun --nproc_per_node=N``.

torchrun sets RANK, WORLD_SIZE, LOCAL_RANK and the rendezvous address in each process's
environment; ``from_environment`` reads them and joins the process group: gloo on the CPU,
nccl on CUDA (one GPU per process, chosen by LOCAL_RANK). The trainer then gives each rank
its slice of every global batch and scales the loss so that DDP's gradient average is the
gradient of the whole batch's mean. Left out: multi-node launch details beyond what torchrun's
environment carries, and model sharding.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from explorer.engine.types import Array


@dataclass(frozen=True)
class World:
    """This process's place in the group: ``rank`` of ``size``, on ``device``."""

    rank: int
    size: int
    local_rank: int
    device: str

    def local_rows(self, batch: Array) -> Array:
        """This rank's contiguous share of a global batch (sizes differ by at most one)."""
        return np.array_split(batch, self.size)[self.rank]


def from_environment(device: str) -> World:
    """Join the process group torchrun set up; ``device`` is "cpu" or "cuda" (or auto's pick).
    Raises RuntimeError when torch.distributed or the device is not available."""
    if not dist.is_available():
        raise RuntimeError("This torch build has no torch.distributed.")
    rank, size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        if torch.cuda.device_count() <= local_rank:
            raise RuntimeError(f"Rank {rank} needs GPU {local_rank}, which is not there.")
        torch.cuda.set_device(local_rank)
        device, backend = f"cuda:{local_rank}", "nccl"
    elif device == "cpu":
        backend = "gloo"
    else:
        raise RuntimeError(f"Distributed training runs on cpu or cuda, not {device}.")
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=size)
    return World(rank, size, local_rank, device)


def shutdown() -> None:
    """Leave the group together: a rank that tore gloo down while the other was still writing
    its outputs died with SIGABRT ("terminate called without an active exception")."""
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
