"""What every model says about itself, so the pipeline never asks for a model by name.

A model is a torch module built from its config (``configs/model/<name>.yaml``, whose
``_target_`` names the class) with ``task``, ``n_features`` and ``n_outputs`` added. Its
``forward(x)`` gives raw outputs for a feature matrix: logits for classification, the
standardised target for regression (:class:`~..data.tensors.TargetEncoding` turns both into
answers).
"""

from __future__ import annotations

import abc
from typing import ClassVar

import torch
from torch import nn


class Model(nn.Module):
    """The base of every model: two class-level facts the pipeline acts on.

    ``trained_by_gradient``: fitted by the training loop (a :class:`ClosedFormModel` is not).
    ``competes``: gated against the baseline (P1) and registered as a challenger (I4); only the
    baseline itself, the reference, does not.
    """

    trained_by_gradient: ClassVar[bool] = True
    competes: ClassVar[bool] = True


class ClosedFormModel(Model, abc.ABC):
    """A model fitted in one step on the training split, not by the training loop."""

    trained_by_gradient = False

    @abc.abstractmethod
    def fit(self, x: torch.Tensor, y: torch.Tensor) -> ClosedFormModel:
        """Fit on the training features ``x`` and the encoded targets ``y``; return ``self``."""
