"""The simple model (P1): one linear layer on the features.

With cross-entropy it is logistic regression (binary) or softmax regression (multiclass); with
squared error it is linear regression.
"""

from __future__ import annotations

import torch
from torch import nn

from ..config import Task
from .base import Model


class LinearModel(Model):
    """``n_features`` inputs to ``n_outputs`` raw outputs (logits, or a prediction)."""

    def __init__(self, task: Task, n_features: int, n_outputs: int) -> None:
        super().__init__()
        del task  # the same layer serves every task; the loss differs, not the model
        self.layer = nn.Linear(n_features, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layer(x)
