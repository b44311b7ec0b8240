"""Training on several processes with torch.distributed, as ``torchrun`` starts them.

``make train-ddp NPROC=2`` runs ``torchrun --standalone --nproc-per-node=2 -m
{{ cookiecutter.package_name }}.train``: every process reads the same data and builds the same network; the
training loop wraps it in ``DistributedDataParallel`` and gives each rank its share of every
batch (the batch of ``train.batch_size`` rows is cut in ``WORLD_SIZE`` pieces), so the
gradients DDP averages are those of the whole batch and a run on 2 processes follows the
single-process run closely. Only rank 0 opens the MLflow run, writes checkpoints, models and
outputs; the others record nothing. Without torchrun (``WORLD_SIZE`` unset) nothing here runs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch


@dataclass(frozen=True)
class Shard:
    """This process's place among the training processes (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world: int = 1

    @property
    def main(self) -> bool:
        """Rank 0: the one process that records and writes."""
        return self.rank == 0


def current() -> Shard:
    """The shard of this process while a process group is up, else the single process."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return Shard(dist.get_rank(), dist.get_world_size())
    return Shard()


@contextlib.contextmanager
def joined() -> Iterator[Shard]:
    """Join the process group torchrun describes in the environment (gloo on CPU, nccl when
    CUDA is there, each rank on its own GPU), for the length of one training run."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        yield Shard()
        return
    import torch.distributed as dist

    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if cuda else "gloo")
    try:
        yield current()
    finally:
        dist.destroy_process_group()


class Unrecorded:
    """The run recorder of ranks other than 0: every call records nothing."""

    run_id = ""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None
