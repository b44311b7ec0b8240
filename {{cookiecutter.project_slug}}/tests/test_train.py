"""The walking skeleton end to end: ``train(cfg)`` fits, scores, and writes everything down."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.config import (
    Task,
)
from {{ cookiecutter.package_name }}.errors import (
    DataError,
)
from {{ cookiecutter.package_name }}.evaluation.metrics import (
    PRIMARY_METRIC,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)


def only_run(cfg: DictConfig) -> mlflow.entities.Run:
    """The single run recorded in this test's experiment."""
    client = MlflowClient(mlflow.get_tracking_uri())
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    (run,) = client.search_runs([experiment.experiment_id])
    return run


@pytest.mark.parametrize("task", list(Task), ids=lambda t: t.value)
def test_train_records_a_finished_run(
    compose_cfg: Callable[..., DictConfig], small_sample: Callable[..., Path], task: Task
) -> None:
    """Metrics are returned, logged to a FINISHED run and written to the output directory."""
    from {{ cookiecutter.package_name }}.data.sample import (
        TARGETS,
    )

    path = small_sample(task)
    cfg = compose_cfg(
        f"data.path={path}", f"data.task={task.value}", f"data.target={TARGETS[task]}"
    )
    metrics = train(cfg)
    primary = f"val/{PRIMARY_METRIC[task]}"
    assert primary in metrics and f"test/{PRIMARY_METRIC[task]}" in metrics
    run = only_run(cfg)
    assert run.info.status == "FINISHED"
    assert run.data.metrics[primary] == pytest.approx(metrics[primary])
    assert run.data.tags["stage"] == "train"
    assert run.data.params["data.path"] == str(path)
    written = json.loads(Path(cfg.paths.output_dir, "metrics.json").read_text())
    assert written == pytest.approx(metrics)


def test_train_is_deterministic(
    compose_cfg: Callable[..., DictConfig], small_sample: Callable[..., Path]
) -> None:
    """Same data, config and seeds give identical metrics."""
    cfg = compose_cfg(f"data.path={small_sample()}")
    assert train(cfg) == train(cfg)


def test_missing_data_file_fails_the_run_with_its_reason(
    compose_cfg: Callable[..., DictConfig], tmp_path: Path
) -> None:
    """A wrong data path raises a DataError naming the file and leaves the run FAILED."""
    missing = tmp_path / "nowhere.csv"
    cfg = compose_cfg(f"data.path={missing}")
    with pytest.raises(DataError, match="file exists"):
        train(cfg)
    run = only_run(cfg)
    assert run.info.status == "FAILED"
    assert str(missing) in run.data.tags["failure.reason"]
    assert not Path(cfg.paths.output_dir, "metrics.json").exists()


def test_missing_target_column_fails_the_run(
    compose_cfg: Callable[..., DictConfig], small_sample: Callable[..., Path]
) -> None:
    """A target that is not in the table fails the run (FAILED), it is never guessed."""
    cfg = compose_cfg(f"data.path={small_sample()}", "data.target=no_such_column")
    with pytest.raises(KeyError, match="no_such_column"):
        train(cfg)
    assert only_run(cfg).info.status == "FAILED"
