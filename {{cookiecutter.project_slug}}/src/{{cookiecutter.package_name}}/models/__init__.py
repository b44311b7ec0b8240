"""Models behind one small interface: ``fit(x, y)`` then ``forward(x)`` gives raw outputs.

Raw outputs are logits for classification and predictions for regression.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..config import ModelConfig, Task
from .baseline import BaselineModel

BUILDERS: dict[str, Callable[[ModelConfig, Task, int], nn.Module]] = {
    "baseline": lambda cfg, task, n_outputs: BaselineModel(task, n_outputs),
}


def build_model(cfg: ModelConfig, task: Task, n_outputs: int) -> nn.Module:
    """The model ``cfg.name`` names, ready to fit."""
    try:
        builder = BUILDERS[cfg.name]
    except KeyError:
        known = ", ".join(sorted(BUILDERS))
        raise ValueError(f"model.name={cfg.name!r} is not one of: {known}") from None
    return builder(cfg, task, n_outputs)


def fit_model(
    cfg: ModelConfig, task: Task, n_outputs: int, x: torch.Tensor, y: torch.Tensor, seed: int
) -> nn.Module:
    """Build and fit the configured model with every random generator seeded by ``seed``."""
    torch.manual_seed(seed)
    model = build_model(cfg, task, n_outputs)
    model.fit(x, y)
    return model.eval()
