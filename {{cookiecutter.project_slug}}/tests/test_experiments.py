"""Every recorded experiment (``configs/experiment/*.yaml``) runs, not only composes (P5, P6).

Like lightning-hydra-template's ``test_experiments``: each file is trained end to end for one
epoch on a small sample, so an experiment that no longer fits the code fails here, not when
someone needs it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import mlflow
import pytest
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.config import (
    CONFIG_DIR,
)
from {{ cookiecutter.package_name }}.models import (
    model_class,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)
from {{ cookiecutter.package_name }}.training.loop import (
    TrainingDivergedError,
)

EXPERIMENTS = sorted(path.stem for path in (CONFIG_DIR / "experiment").glob("*.yaml"))
MEANT_TO_DIVERGE = {"lr_too_high"}  # its point is the advice or the NaN/Inf guard (T4)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_trains_for_one_epoch(
    experiment: str,
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """``train.steps=1`` is one epoch whatever the batch size; the gate is off because one
    epoch proves the experiment runs, not that it is good. A model trained by gradient
    records exactly one epoch; only an experiment meant to diverge may stop on the guard."""
    cfg = compose_cfg(
        f"experiment={experiment}",
        f"data.path={small_sample()}",
        "train.steps=1",
        "train.require_beats_baseline=false",
    )
    try:
        metrics = train(cfg)
    except TrainingDivergedError:
        assert experiment in MEANT_TO_DIVERGE
        assert only_run(cfg).info.status == "FAILED"
        return
    run = only_run(cfg)
    assert run.info.status == "FINISHED"
    by_gradient = model_class(cfg.model).trained_by_gradient
    assert run.data.tags.get("train.epochs_run") == ("1" if by_gradient else None)
    assert all(math.isfinite(v) for k, v in metrics.items() if k.startswith("val/"))
