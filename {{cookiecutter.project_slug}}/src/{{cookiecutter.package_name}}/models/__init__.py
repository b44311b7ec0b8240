"""Models behind one small interface: ``forward(x)`` gives raw outputs for a feature matrix.

Raw outputs are logits for classification and predictions for regression. The baseline is
fitted in closed form (``fit``); every other model is trained by ``training.loop``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..config import ModelConfig, Task
from ..errors import ConfigError
from .baseline import BaselineModel
from .linear import LinearModel
from .mlp import MLPModel

__all__ = ["BUILDERS", "BaselineModel", "LinearModel", "MLPModel", "build_model", "fit_baseline"]

BUILDERS: dict[str, Callable[[ModelConfig, Task, int, int], nn.Module]] = {
    "baseline": lambda cfg, task, n_features, n_outputs: BaselineModel(task, n_outputs),
    "linear": lambda cfg, task, n_features, n_outputs: LinearModel(n_features, n_outputs),
    "mlp": lambda cfg, task, n_features, n_outputs: MLPModel(
        n_features, n_outputs, list(cfg.hidden), cfg.activation, cfg.dropout
    ),
}


def build_model(cfg: ModelConfig, task: Task, n_features: int, n_outputs: int) -> nn.Module:
    """The model ``cfg.name`` names, with freshly seeded weights."""
    try:
        builder = BUILDERS[cfg.name]
    except KeyError:
        known = ", ".join(sorted(BUILDERS))
        raise ConfigError(
            "model.name", "known model", f"{cfg.name!r} is not one of: {known}"
        ) from None
    return builder(cfg, task, n_features, n_outputs)


def fit_baseline(task: Task, n_outputs: int, x: torch.Tensor, y: torch.Tensor) -> BaselineModel:
    """P1: the trivial baseline, fitted in closed form on the training targets."""
    return BaselineModel(task, n_outputs).fit(x, y).eval()
