"""Task-appropriate metrics (P3), each a plain number a person can read and compare.

Classification: accuracy, balanced accuracy, macro F1, log loss, and ROC AUC for binary tasks.
Regression: RMSE, MAE and R². Lower is better only for ``log_loss``, ``rmse`` and ``mae``.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn import metrics

from ..config import Task

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


def model_outputs(model: torch.nn.Module, task: Task, x: torch.Tensor) -> np.ndarray:
    """Class probabilities (classification) or predictions (regression) for a feature matrix."""
    with torch.no_grad():
        raw = model(x).double()
    return (torch.softmax(raw, dim=1) if task.is_classification else raw).numpy()


def prefixed(scores: dict[str, float], prefix: str) -> dict[str, float]:
    """``{"<prefix>/<metric>": value}``: the split (or model) a score belongs to, in its name."""
    return {f"{prefix}/{name}": value for name, value in scores.items()}


def evaluate(
    model: torch.nn.Module, task: Task, x: torch.Tensor, y: torch.Tensor, prefix: str
) -> dict[str, float]:
    """``{"<prefix>/<metric>": value}`` for ``model`` on one split."""
    return prefixed(compute_metrics(task, y.numpy(), model_outputs(model, task, x)), prefix)


def outcome_plot(
    model: torch.nn.Module, task: Task, x: torch.Tensor, y: torch.Tensor, classes: tuple[str, ...]
) -> tuple[object, str]:
    """The validation picture for ``task``: a confusion matrix, or residuals for regression."""
    from . import plots

    with torch.no_grad():
        raw = model(x).double().numpy()
    if task.is_classification:
        return plots.confusion_matrix(
            y.numpy(), raw.argmax(axis=1), list(classes)
        ), "plots/confusion_matrix.png"
    return plots.residuals(y.numpy(), raw.reshape(-1)), "plots/residuals.png"
