"""Turn a split into tensors: the target encoded once from the training split.

The class list is learned on the training split only and applied unchanged to validation,
test and serving data, so label ``k`` always means the same class. A regression target's
mean and standard deviation are learned the same way: every model is fitted on the
standardised target (a learning rate then means the same on any scale) and answers through
:meth:`TargetEncoding.outputs`, in the target's own units. The encoding is saved with the
model, so serving applies exactly what training did.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..config import Task
from ..errors import DataError
from .features import FeaturePipeline, as_labels


@dataclass(frozen=True)
class TargetEncoding:
    """How target values map to model outputs: class indices, or the standardised number."""

    task: Task
    classes: tuple[str, ...] = ()
    mean: float = 0.0
    std: float = 1.0

    @classmethod
    def fit(cls, target: pd.Series, task: Task) -> TargetEncoding:
        """Learn the sorted class list, or the mean and standard deviation, from training."""
        if not task.is_classification:
            std = float(target.std()) if len(target) > 1 else 0.0
            return cls(task, mean=float(target.mean()), std=std if std > 0 else 1.0)
        return cls(task, tuple(sorted(as_labels(target.dropna()).unique())))

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.task.is_classification else 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"task": self.task.value, "classes": list(self.classes)}

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> TargetEncoding:
        return cls(Task(saved["task"]), tuple(saved["classes"]), saved["mean"], saved["std"])

    def encode(self, target: pd.Series, source: str = "<table>") -> torch.Tensor:
        """Class indices (int64) or float32 values in the target's units; unknown classes are
        an error, never guessed."""
        if not self.task.is_classification:
            return torch.tensor(target.to_numpy(dtype=np.float32))
        index = {label: i for i, label in enumerate(self.classes)}
        labels = as_labels(target)
        unknown = sorted(set(labels) - set(index))
        if unknown:
            raise DataError(
                source,
                "known target class",
                f"classes {unknown} were not in training",
                column=str(target.name),
            )
        return torch.tensor(labels.map(index).to_numpy(dtype=np.int64))

    def fit_targets(self, y: torch.Tensor) -> torch.Tensor:
        """What a model is fitted on: class indices, or the standardised target as a column."""
        if self.task.is_classification:
            return y
        return ((y - self.mean) / self.std)[:, None]

    def outputs(self, raw: torch.Tensor) -> np.ndarray:
        """A model's raw outputs as answers: class probabilities (rows sum to 1), or values
        in the target's units (one per row)."""
        raw = raw.double()
        if self.task.is_classification:
            return torch.softmax(raw, dim=1).numpy()
        return (raw.reshape(-1) * self.std + self.mean).numpy()


@dataclass(frozen=True)
class Tensors:
    """One split as a model sees it: the feature matrix and the encoded target."""

    x: torch.Tensor
    y: torch.Tensor


def to_tensors(
    part: pd.DataFrame,
    target: str,
    encoding: TargetEncoding,
    features: FeaturePipeline,
    source: str = "<table>",
) -> Tensors:
    """One split's fitted feature matrix and encoded target (in the target's units)."""
    matrix, _ = features.transform(part)
    return Tensors(torch.from_numpy(matrix), encoding.encode(part[target], source))
