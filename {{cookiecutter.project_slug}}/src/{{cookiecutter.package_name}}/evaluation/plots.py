"""Pictures of a run (P3): learning curves, and a confusion matrix or a residual plot.

Drawn with matplotlib's non-interactive Agg backend, so they work on servers and in CI.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay


def learning_curves(train_loss: list[float], val_loss: list[float], best_epoch: int) -> Figure:
    """Training and validation loss per epoch, with the kept (best) epoch marked (T1-T7)."""
    figure, axes = plt.subplots(figsize=(6, 4))
    epochs = np.arange(len(train_loss))
    axes.plot(epochs, train_loss, label="train")
    axes.plot(epochs, val_loss, label="validation")
    if best_epoch >= 0:
        axes.axvline(best_epoch, linestyle="--", color="grey", label=f"kept epoch {best_epoch}")
    axes.set(xlabel="epoch", ylabel="loss", title="Learning curves")
    axes.legend()
    figure.tight_layout()
    return figure


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]) -> Figure:
    """Counts of true against predicted classes on the validation split."""
    figure, axes = plt.subplots(figsize=(5, 4))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=list(range(len(labels))),
        display_labels=labels,
        ax=axes,
        colorbar=False,
    )
    axes.set_title("Confusion matrix (validation)")
    figure.tight_layout()
    return figure


def residuals(y_true: np.ndarray, y_pred: np.ndarray) -> Figure:
    """Residuals against predictions on the validation split: structure here is signal missed."""
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.scatter(y_pred, y_true - y_pred, s=6, alpha=0.5)
    axes.axhline(0.0, color="grey", linestyle="--")
    axes.set(xlabel="prediction", ylabel="actual - prediction", title="Residuals (validation)")
    figure.tight_layout()
    return figure


def distribution_shift(
    feature: str, labels: list[str], reference: list[float], current: list[float]
) -> Figure:
    """P4: training (reference) against batch shares per bin or category, side by side."""
    positions = np.arange(len(labels))
    figure, axes = plt.subplots(figsize=(max(6.0, 0.45 * len(positions)), 4.0))
    axes.bar(positions - 0.2, reference, width=0.4, label="training (reference)")
    axes.bar(positions + 0.2, current, width=0.4, label="this batch")
    axes.set_xticks(positions, labels, rotation=60, ha="right", fontsize=7)
    axes.set_ylabel("share of rows")
    axes.set_title(f"{feature}: reference vs batch")
    axes.legend()
    figure.tight_layout()
    return figure
