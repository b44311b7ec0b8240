"""A multi-layer perceptron: worth its cost only when it beats the linear model (P1)."""

from __future__ import annotations

import torch
from torch import nn

from ..config import Activation, Task
from .base import Model

ACTIVATIONS: dict[Activation, type[nn.Module]] = {
    Activation.relu: nn.ReLU,
    Activation.gelu: nn.GELU,
    Activation.tanh: nn.Tanh,
}


class MLPModel(Model):
    """Hidden layers of the given widths, each followed by the activation and dropout."""

    def __init__(
        self,
        task: Task,
        n_features: int,
        n_outputs: int,
        hidden: list[int],
        activation: Activation,
        dropout: float,
    ) -> None:
        super().__init__()
        del task  # the same network serves every task; the loss differs, not the model
        layers: list[nn.Module] = []
        width = n_features
        for size in hidden:
            layers += [nn.Linear(width, size), ACTIVATIONS[activation](), nn.Dropout(dropout)]
            width = size
        layers.append(nn.Linear(width, n_outputs))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
