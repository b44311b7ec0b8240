"""P1: the trivial baseline, a model that ignores its inputs.

For classification it predicts the class prior seen in training (so its label is the majority
class); for regression, the training mean. It is a torch module like every other model, so
the same evaluation code scores it and anything fancier must beat it, measured.
"""

from __future__ import annotations

import torch

from ..config import Task
from .base import ClosedFormModel


class BaselineModel(ClosedFormModel):
    """Constant outputs: log class priors (logits) or the mean target."""

    competes = False  # the reference every other model is measured against

    def __init__(self, task: Task, n_features: int, n_outputs: int) -> None:
        super().__init__()
        del n_features  # it ignores its inputs, by design
        self.task = task
        self.register_buffer("constant", torch.zeros(n_outputs))

    def fit(self, x: torch.Tensor, y: torch.Tensor) -> BaselineModel:
        """Learn the constant from the training targets ``y`` (``x`` only fixes the interface)."""
        del x
        if self.task.is_classification:
            counts = torch.bincount(y.long(), minlength=self.constant.numel()).double()
            prior = counts / counts.sum()
            self.constant = prior.clamp_min(1e-12).log().float()
        else:
            self.constant = y.double().mean().reshape(1).float()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.constant.expand(x.shape[0], -1)
