"""P1: anything fancier than the baseline must beat it, measured on the validation split."""

from __future__ import annotations

from ..config import Task
from ..errors import BelowBaselineError
from .metrics import PRIMARY_METRIC, better_sign


def baseline_delta(metrics: dict[str, float]) -> dict[str, float]:
    """``delta/<metric>``: how much better than the baseline (positive is better, any metric)."""
    deltas = {}
    for key, value in metrics.items():
        if key.startswith("val/") and f"baseline/{key}" in metrics:
            name = key.removeprefix("val/")
            deltas[f"delta/{name}"] = better_sign(name) * (value - metrics[f"baseline/{key}"])
    return deltas


def require_beats_baseline(
    metrics: dict[str, float], task: Task, margin: float, model: str
) -> None:
    """Raise :class:`BelowBaselineError` unless the primary validation metric beats the
    baseline's by more than ``margin``."""
    name = PRIMARY_METRIC[task]
    delta = baseline_delta(metrics)[f"delta/{name}"]
    if delta <= margin:
        raise BelowBaselineError(
            "<validation split>",
            "beats baseline",
            f"{model} val/{name} = {metrics[f'val/{name}']:.4f} vs baseline "
            f"{metrics[f'baseline/val/{name}']:.4f}: improvement {delta:.4f} is not above "
            f"train.baseline_margin = {margin}",
        )
