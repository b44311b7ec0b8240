"""P1: the trivial baseline scores exactly what an independent computation says it should."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.config import (
    ModelConfig,
    SplitConfig,
    Task,
)
from {{ cookiecutter.package_name }}.data import (
    sample,
)
from {{ cookiecutter.package_name }}.data.features import (
    FeaturePipeline,
)
from {{ cookiecutter.package_name }}.data.infer import (
    draft_spec,
)
from {{ cookiecutter.package_name }}.data.schema import (
    Role,
)
from {{ cookiecutter.package_name }}.data.split import (
    split_frame,
)
from {{ cookiecutter.package_name }}.data.tensors import (
    TargetEncoding,
    to_tensors,
)
from {{ cookiecutter.package_name }}.errors import (
    ConfigError,
)
from {{ cookiecutter.package_name }}.evaluation.metrics import (
    evaluate,
)
from {{ cookiecutter.package_name }}.models import (
    build_model,
    fit_baseline,
)

MODELS = "{{ cookiecutter.package_name }}.models"


def baseline_metrics(task: Task, rows: int = 500) -> tuple[dict[str, float], pd.Series, pd.Series]:
    """Fit the baseline on a small sample; return validation metrics and the raw targets."""
    frame = sample.generate(rows, 1, task)
    target = sample.TARGETS[task]
    spec = draft_spec(frame)
    spec.columns[target].role = Role.target
    splits = split_frame(frame, spec, target, task, SplitConfig(seed=5))
    features = FeaturePipeline.fit(splits.train, spec, rare_min_count=5)
    encoding = TargetEncoding.fit(splits.train[target], task)
    model = fit_baseline(encoding, to_tensors(splits.train, target, encoding, features))
    metrics = evaluate(model, encoding, to_tensors(splits.val, target, encoding, features), "val")
    return metrics, splits.train[target], splits.val[target]


@pytest.mark.parametrize("task", [Task.binary_classification, Task.multiclass_classification])
def test_classification_baseline_matches_class_prior(task: Task) -> None:
    """Accuracy is the share of the training majority class in validation; log loss is the
    cross-entropy of the training class prior, both computed here with plain pandas."""
    metrics, train, val = baseline_metrics(task)
    prior = train.astype(str).value_counts(normalize=True)
    majority = prior.index[0]
    assert metrics["val/accuracy"] == pytest.approx((val.astype(str) == majority).mean())
    expected_log_loss = -np.mean([math.log(prior[label]) for label in val.astype(str)])
    assert metrics["val/log_loss"] == pytest.approx(expected_log_loss, rel=1e-6)
    assert metrics["val/balanced_accuracy"] == pytest.approx(1 / len(prior))


def test_regression_baseline_matches_training_mean() -> None:
    """RMSE is the root mean squared distance from the training mean; MAE likewise."""
    metrics, train, val = baseline_metrics(Task.regression)
    mean = train.mean()
    assert metrics["val/rmse"] == pytest.approx(np.sqrt(((val - mean) ** 2).mean()), rel=1e-5)
    assert metrics["val/mae"] == pytest.approx((val - mean).abs().mean(), rel=1e-5)
    assert metrics["val/r2"] <= 0.0


def test_baseline_ignores_inputs() -> None:
    """The baseline's output is the same for any input rows: it cannot leak features."""
    cfg = ModelConfig(_target_=f"{MODELS}.baseline.BaselineModel", name="baseline")
    model = build_model(cfg, Task.multiclass_classification, 2, 3)
    model.fit(torch.zeros(4, 2), torch.tensor([0, 1, 1, 2]))
    out = model(torch.randn(5, 2))
    assert torch.allclose(out, out[0].expand(5, -1))
    assert torch.allclose(torch.softmax(out[0], 0), torch.tensor([0.25, 0.5, 0.25]))


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        (f"{MODELS}.gradient_boosting.Model", "No module named"),
        (f"{MODELS}.baseline.Task", "is not a Model"),
        ("os.system", f"is not in {MODELS}"),
    ],
)
def test_a_model_class_that_is_not_a_model_here_is_refused(target: str, reason: str) -> None:
    """``model._target_`` must name a :class:`Model` in this package's ``models``: nothing
    else is imported, so a saved model's ``model.json`` cannot run code from elsewhere."""
    with pytest.raises(ConfigError) as caught:
        build_model(ModelConfig(_target_=target, name="x"), Task.regression, 2, 1)
    assert caught.value.file == "model._target_"
    assert caught.value.check == "importable model class"
    assert reason in str(caught.value)


def test_an_option_the_model_does_not_take_is_one_clear_error() -> None:
    """A config option the model class has no parameter for (``+model.depth=3`` on the linear
    model) is refused naming the model and the option, before any weight is made."""
    cfg = OmegaConf.create(
        {"_target_": f"{MODELS}.linear.LinearModel", "name": "linear", "depth": 3}
    )
    with pytest.raises(ConfigError) as caught:
        build_model(cfg, Task.regression, 2, 1)
    assert caught.value.check == "options the model takes"
    assert "LinearModel" in str(caught.value) and "'depth'" in str(caught.value)
