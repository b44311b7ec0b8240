"""Checkpoints: the whole training state after every epoch, so an interrupted run can continue.

A checkpoint is one :class:`TrainState`, stored as state dicts, numbers and RNG states only
and loaded with ``weights_only=True`` (no pickled code runs). It carries the MLflow run id and
the config hash of the run that wrote it, so ``train.resume=true`` continues that same run,
and only for the same config. The file is replaced atomically: a kill mid-write leaves the
previous epoch's checkpoint whole, never half a file.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from functools import partial
from pathlib import Path
from typing import Any

import torch

from ..data.io import atomic_write
from ..errors import PipelineError


@dataclass
class History:
    """Per-epoch training and validation loss, where the best validation loss was, and the
    schedule that produced them (the batch size actually used, the epochs planned).

    ``initial_loss`` is the untrained network's loss on the training split (at most
    ``INITIAL_LOSS_ROWS`` rows of it, evenly spaced) before the first step: where the curve
    starts, so the advisor sees a loss that exploded within the first epoch as a rise.
    """

    initial_loss: float = math.nan
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = -1
    stopped_early: bool = False
    batch_size: int = 0
    batches_per_epoch: int = 0
    epochs: int = 0


@dataclass
class TrainState:
    """Everything the loop needs to go on exactly as if it had never stopped."""

    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    generator: torch.Tensor
    torch_rng: torch.Tensor
    history: History
    best: dict[str, torch.Tensor] | None = None
    best_loss: float = math.inf
    since_best: int = 0
    run_id: str | None = None  # the MLflow run that wrote it, which a resume reopens


@dataclass(frozen=True)
class CheckpointFile:
    """The checkpoint of one config (its hash names the file) and the run writing it."""

    path: Path
    config_hash: str
    run_id: str | None = None

    @classmethod
    def for_config(cls, directory: str | Path, model: str, config_hash: str) -> CheckpointFile:
        return cls(Path(directory) / f"{model}-{config_hash}.pt", config_hash)

    def save(self, state: TrainState) -> None:
        """Write ``state`` (with this file's run id and config hash) whole or not at all, like
        every other output (a kill never leaves half a checkpoint; a full disk is one line)."""
        saved = {f.name: getattr(state, f.name) for f in fields(state)}
        saved |= {"history": asdict(state.history), "run_id": self.run_id}
        saved["config_hash"] = self.config_hash
        atomic_write(self.path, partial(torch.save, saved), "paths.checkpoint_dir")

    def load(self) -> TrainState:
        """The saved state; refuses a missing file or one written for another config."""
        if not self.path.is_file():
            raise PipelineError(
                str(self.path),
                "checkpoint exists",
                "no interrupted run with this config to resume; train without train.resume",
            )
        saved = torch.load(self.path, weights_only=True)
        written_for = saved.pop("config_hash", None)
        if written_for != self.config_hash:
            raise PipelineError(
                str(self.path),
                "same config",
                f"checkpoint was written for config {written_for}, not {self.config_hash}",
            )
        return TrainState(**saved | {"history": History(**saved["history"])})

    def remove(self) -> None:
        """Training finished and its model is recorded: nothing is left to resume."""
        self.path.unlink(missing_ok=True)
