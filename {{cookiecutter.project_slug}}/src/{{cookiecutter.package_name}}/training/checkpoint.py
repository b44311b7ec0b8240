"""Checkpoints: the whole training state after every epoch, so an interrupted run can continue.

A checkpoint holds state dicts, numbers and RNG states only, and is loaded with
``weights_only=True`` (no pickled code runs). It carries the MLflow run id and the config hash
of the run that wrote it, so ``train.resume=true`` continues that same run, and only for the
same config. The file is replaced atomically: a kill mid-write leaves the previous epoch's
checkpoint whole, never half a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch

from ..data.io import atomic_write
from ..errors import PipelineError


@dataclass(frozen=True)
class CheckpointFile:
    """The checkpoint of one config (its hash names the file) and the run writing it."""

    path: Path
    config_hash: str
    run_id: str | None = None

    @classmethod
    def for_config(cls, directory: str | Path, model: str, config_hash: str) -> CheckpointFile:
        return cls(Path(directory) / f"{model}-{config_hash}.pt", config_hash)

    def save(self, state: dict[str, Any]) -> None:
        """Write ``state`` (plus the run id and config hash) whole or not at all, like every
        other output (a kill never leaves half a checkpoint; a full disk is one clear line)."""
        meta = {"run_id": self.run_id, "config_hash": self.config_hash}
        atomic_write(self.path, partial(torch.save, state | meta), "paths.checkpoint_dir")

    def load(self) -> dict[str, Any]:
        """The saved state; refuses a missing file or one written for another config."""
        if not self.path.is_file():
            raise PipelineError(
                str(self.path),
                "checkpoint exists",
                "no interrupted run with this config to resume; train without train.resume",
            )
        state = torch.load(self.path, weights_only=True)
        if state.get("config_hash") != self.config_hash:
            raise PipelineError(
                str(self.path),
                "same config",
                f"checkpoint was written for config {state.get('config_hash')}, "
                f"not {self.config_hash}",
            )
        return state

    def remove(self) -> None:
        """Training finished and its model is recorded: nothing is left to resume."""
        self.path.unlink(missing_ok=True)
