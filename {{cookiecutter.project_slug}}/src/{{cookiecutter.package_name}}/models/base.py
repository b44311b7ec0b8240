"""What every model says about itself, so the pipeline never asks for a model by name.

A model is a torch module built from its config (``configs/model/<name>.yaml``, whose
``_target_`` names the class) with ``task``, ``n_features`` and ``n_outputs`` added. Its
``forward(x)`` gives raw outputs for a feature matrix: logits for classification, the
standardised target for regression (:class:`~..data.tensors.TargetEncoding` turns both into
answers).
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn


class Model(nn.Module):
    """The base of every model: two class-level facts the pipeline acts on.

    ``trained_by_gradient``: fitted by the training loop; otherwise in closed form by
    :meth:`fit`. ``competes``: gated against the baseline (P1) and registered as a challenger
    (I4); only the baseline itself, the reference, does not.
    """

    trained_by_gradient: ClassVar[bool] = True
    competes: ClassVar[bool] = True

    def fit(self, x: torch.Tensor, y: torch.Tensor) -> Model:
        """Closed-form fit on the training split; only models not trained by gradient need it."""
        raise NotImplementedError(f"{type(self).__name__} is trained by the training loop")
