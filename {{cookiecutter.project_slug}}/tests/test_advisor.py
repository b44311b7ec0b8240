"""T1-T7: the training advisor reads loss curves and gives the matching advice."""

from __future__ import annotations

import math

import pytest
import torch

from {{ cookiecutter.package_name }}.config import (
    Optimizer,
    Task,
    TrainConfig,
)
from {{ cookiecutter.package_name }}.models import (
    LinearModel,
)
from {{ cookiecutter.package_name }}.training.advisor import (
    advise,
)
from {{ cookiecutter.package_name }}.training.loop import (
    train_network,
)

CONVERGED = [1.0, 0.5, 0.3, 0.22, 0.2, 0.195, 0.193, 0.192, 0.1915, 0.1912]
STILL_FALLING = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.42, 0.35, 0.29, 0.24]
TOO_SLOW = [1.0, 0.995, 0.99, 0.985, 0.98, 0.975, 0.97, 0.965, 0.96, 0.955]
BOUNCING = [1.0, 0.7, 0.9, 0.6, 0.85, 0.55, 0.8, 0.5, 0.75, 0.5]
RISING = [1.0, 1.5, 2.5, 4.0, 7.0]


@pytest.mark.parametrize(
    ("losses", "batch_size", "verdict", "practice"),
    [
        (CONVERGED, 256, "converged", "T1"),
        (STILL_FALLING, 256, "still_falling", "T2"),
        (TOO_SLOW, 256, "too_slow", "T3"),
        (RISING, 256, "diverged", "T4"),
        ([1.0, math.nan], 256, "diverged", "T4"),
        (BOUNCING, 256, "noisy", "T5"),
        (BOUNCING, 16, "noisy_small_batch", "T7"),
    ],
    ids=[
        "converged",
        "still-falling",
        "too-slow",
        "rising",
        "nan",
        "bouncing",
        "bouncing-small-batch",
    ],
)
def test_synthetic_curves_get_the_matching_advice(
    losses: list[float], batch_size: int, verdict: str, practice: str
) -> None:
    advice = advise(losses, lr=0.01, batch_size=batch_size)
    assert (advice.verdict, advice.practice) == (verdict, practice)
    assert advice.message


def test_advice_names_the_knob_to_turn() -> None:
    """Each verdict points at the config key a user would change."""
    assert "train.epochs" in advise(STILL_FALLING, 0.01, 256).message
    assert "raise train.lr" in advise(TOO_SLOW, 0.01, 256).message
    assert "lower train.lr" in advise(RISING, 0.01, 256).message
    assert "T6" in advise(BOUNCING, 0.01, 16).message


def real_curve(optimizer: Optimizer, lr: float) -> list[float]:
    """Train a linear model for real on a learnable problem; return its training losses."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(600, 4, generator=generator)
    y = (x @ torch.tensor([1.0, -2.0, 0.5, 0.0]) > 0).long()
    cfg = TrainConfig(
        optimizer=optimizer, lr=lr, epochs=12, patience=0, grad_clip=None, batch_size=64
    )
    torch.manual_seed(0)
    _, history = train_network(
        LinearModel(4, 2), Task.binary_classification, x[:500], y[:500], x[500:], y[500:], cfg
    )
    return history.train_loss


def test_real_run_with_a_far_too_low_rate_is_told_to_raise_it() -> None:
    advice = advise(real_curve(Optimizer.sgd, 1e-5), 1e-5, 64)
    assert advice.verdict == "too_slow"
    assert "raise train.lr" in advice.message


def test_real_run_with_a_far_too_high_rate_is_told_to_lower_it() -> None:
    advice = advise(real_curve(Optimizer.sgd, 500.0), 500.0, 64)
    assert advice.verdict in {"diverged", "noisy"}
    assert "lower train.lr" in advice.message
