"""Turn a split into tensors: the target encoded once from the training split.

The class list is learned on the training split only and applied unchanged to validation,
test and serving data, so label ``k`` always means the same class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..config import Task
from ..errors import DataError
from .features import FeaturePipeline, as_labels


@dataclass(frozen=True)
class TargetEncoding:
    """How target values map to model outputs: class indices, or the number itself."""

    task: Task
    classes: tuple[str, ...] = ()

    @classmethod
    def fit(cls, target: pd.Series, task: Task) -> TargetEncoding:
        """Learn the sorted class list from the training target (nothing for regression)."""
        if not task.is_classification:
            return cls(task)
        return cls(task, tuple(sorted(as_labels(target.dropna()).unique())))

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.task.is_classification else 1

    def encode(self, target: pd.Series, source: str = "<table>") -> torch.Tensor:
        """Class indices (int64) or float32 values; unknown classes are an error, never guessed."""
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


def to_tensors(
    part: pd.DataFrame,
    target: str,
    encoding: TargetEncoding,
    features: FeaturePipeline,
    source: str = "<table>",
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` for one split: the fitted feature pipeline's matrix and the encoded target."""
    matrix, _ = features.transform(part)
    return torch.from_numpy(matrix), encoding.encode(part[target], source)
