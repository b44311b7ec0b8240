"""Models behind one small interface (:class:`~.base.Model`), built from their config.

``configs/model/<name>.yaml`` names a model class in ``_target_`` and holds its options; adding
a model is its own file here, its YAML and its options' dataclass in ``config.py``. Nothing
else in the pipeline names a model: it asks the model what it needs (``trained_by_gradient``,
``competes``).
"""

from __future__ import annotations

import inspect
from typing import Any

from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from ..config import Task
from ..data.tensors import TargetEncoding, Tensors
from ..errors import ConfigError
from .base import ClosedFormModel, Model
from .baseline import BaselineModel
from .linear import LinearModel
from .mlp import MLPModel

__all__ = [
    "BaselineModel",
    "ClosedFormModel",
    "LinearModel",
    "MLPModel",
    "Model",
    "build_model",
    "fit_baseline",
]
NOT_OPTIONS = ("_target_", "name")  # what the config says about the model, not to it


def model_class(cfg: DictConfig | Any) -> type[Model]:
    """The class ``cfg._target_`` names; a name that is not a :class:`Model` in this package's
    ``models`` is one clear line. Only this folder is imported from, so a saved model's
    ``model.json`` cannot make loading run code from anywhere else."""
    if not str(cfg._target_).startswith(f"{__name__}."):
        raise ConfigError(
            "model._target_", "importable model class", f"{cfg._target_!r} is not in {__name__}"
        )
    try:
        found = get_class(cfg._target_)
    except Exception as err:  # Hydra wraps ImportError and AttributeError alike
        raise ConfigError(
            "model._target_", "importable model class", f"{cfg._target_!r}: {err}"
        ) from None
    if not (isinstance(found, type) and issubclass(found, Model)):
        raise ConfigError(
            "model._target_", "importable model class", f"{cfg._target_!r} is not a Model"
        )
    return found


def build_model(cfg: DictConfig | Any, task: Task, n_features: int, n_outputs: int) -> Model:
    """The model ``cfg`` describes, with freshly seeded weights."""
    options = OmegaConf.to_container(OmegaConf.structured(cfg), resolve=True)
    assert isinstance(options, dict)
    for key in NOT_OPTIONS:
        options.pop(key, None)
    found = model_class(cfg)
    arguments = {"task": task, "n_features": n_features, "n_outputs": n_outputs, **options}
    try:
        inspect.signature(found).bind(**arguments)
    except TypeError as err:  # an option the class does not take, or one it needs
        raise ConfigError("model", "options the model takes", f"{cfg._target_}: {err}") from None
    return found(**arguments)


def fit_baseline(encoding: TargetEncoding, train: Tensors) -> BaselineModel:
    """P1: the trivial baseline, fitted in closed form on the training split's targets."""
    baseline = BaselineModel(encoding.task, train.x.shape[1], encoding.n_outputs)
    return baseline.fit(train.x, encoding.fit_targets(train.y)).eval()
