"""Task-appropriate metrics (P3), each a plain number a person can read and compare.

Classification: accuracy, balanced accuracy, macro F1, log loss, and ROC AUC for binary tasks.
Regression: RMSE, MAE and R². Lower is better only for ``log_loss``, ``rmse`` and ``mae``.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn import metrics

from ..config import Task
from ..data.tensors import TargetEncoding, Tensors

LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})


def better_sign(metric: str) -> float:
    """+1 when a higher ``metric`` is better, -1 when lower is: multiply a difference by it
    and positive always means better."""
    return -1.0 if metric in LOWER_IS_BETTER else 1.0


PRIMARY_METRIC = {
    Task.binary_classification: "log_loss",
    Task.multiclass_classification: "log_loss",
    Task.regression: "rmse",
}


def compute_metrics(task: Task, y_true: np.ndarray, outputs: np.ndarray) -> dict[str, float]:
    """Score raw model ``outputs`` (class probabilities, or predictions for regression)."""
    if not task.is_classification:
        y_pred = outputs.reshape(-1)
        return {
            "rmse": float(metrics.root_mean_squared_error(y_true, y_pred)),
            "mae": float(metrics.mean_absolute_error(y_true, y_pred)),
            "r2": float(metrics.r2_score(y_true, y_pred)),
        }
    labels = np.arange(outputs.shape[1])
    y_pred = outputs.argmax(axis=1)
    scores = {
        "accuracy": metrics.accuracy_score(y_true, y_pred),
        "balanced_accuracy": metrics.balanced_accuracy_score(y_true, y_pred),
        "f1_macro": metrics.f1_score(
            y_true, y_pred, labels=labels, average="macro", zero_division=0
        ),
        "log_loss": metrics.log_loss(y_true, outputs, labels=labels),
    }
    if task is Task.binary_classification and len(np.unique(y_true)) == 2:
        scores["roc_auc"] = metrics.roc_auc_score(y_true, outputs[:, 1])
    return {name: float(value) for name, value in scores.items()}


def row_losses(task: Task, y_true: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """Each row's term of the primary metric: the log loss of its true class (probabilities
    clipped like scikit-learn's), or its squared error. Their mean is the log loss or the MSE,
    so two models scored on the same rows can be compared row by row (a paired test)."""
    if not task.is_classification:
        return (outputs.reshape(-1) - y_true) ** 2
    eps = np.finfo(outputs.dtype).eps
    return -np.log(np.clip(outputs[np.arange(len(y_true)), y_true], eps, 1.0))


def model_outputs(model: torch.nn.Module, encoding: TargetEncoding, x: torch.Tensor) -> np.ndarray:
    """Class probabilities (classification) or predictions in the target's units (regression)."""
    with torch.no_grad():
        return encoding.outputs(model(x))


def prefixed(scores: dict[str, float], prefix: str) -> dict[str, float]:
    """``{"<prefix>/<metric>": value}``: the split (or model) a score belongs to, in its name."""
    return {f"{prefix}/{name}": value for name, value in scores.items()}


def evaluate(
    model: torch.nn.Module, encoding: TargetEncoding, split: Tensors, prefix: str
) -> dict[str, float]:
    """``{"<prefix>/<metric>": value}`` for ``model`` on one split."""
    outputs = model_outputs(model, encoding, split.x)
    return prefixed(compute_metrics(encoding.task, split.y.numpy(), outputs), prefix)


def outcome_plot(
    model: torch.nn.Module, encoding: TargetEncoding, split: Tensors
) -> tuple[object, str]:
    """The validation picture: a confusion matrix, or residuals for regression."""
    from . import plots

    outputs, y = model_outputs(model, encoding, split.x), split.y.numpy()
    if encoding.task.is_classification:
        figure = plots.confusion_matrix(y, outputs.argmax(axis=1), list(encoding.classes))
        return figure, "plots/confusion_matrix.png"
    return plots.residuals(y, outputs), "plots/residuals.png"
