"""The walking skeleton end to end: ``train(cfg)`` fits, scores, and writes everything down."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.config import (
    Task,
)
from {{ cookiecutter.package_name }}.data.validation import (
    DataValidationError,
)
from {{ cookiecutter.package_name }}.errors import (
    DataError,
    PipelineError,
)
from {{ cookiecutter.package_name }}.evaluation.metrics import (
    PRIMARY_METRIC,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)


@pytest.mark.parametrize("task", list(Task), ids=lambda t: t.value)
def test_train_records_a_finished_run(
    compose_cfg: Callable[..., DictConfig],
    data_overrides: Callable[..., list[str]],
    task: Task,
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """Metrics are returned, logged to a FINISHED run and written to the output directory."""
    overrides = data_overrides(task)
    path = overrides[0].removeprefix("data.path=")
    cfg = compose_cfg(*overrides)
    metrics = train(cfg)
    primary = f"val/{PRIMARY_METRIC[task]}"
    assert primary in metrics and f"test/{PRIMARY_METRIC[task]}" in metrics
    run = only_run(cfg)
    assert run.info.status == "FINISHED"
    assert run.data.metrics[primary] == pytest.approx(metrics[primary])
    assert run.data.tags["stage"] == "train"
    assert run.data.params["data.path"] == path
    assert run.data.tags["validation.train"] == "passed"
    assert len(run.data.tags["schema.hash"]) == 16
    assert len(run.data.tags["data.train.digest"]) == 16
    written = json.loads(Path(cfg.paths.output_dir, "metrics.json").read_text())
    assert written == pytest.approx(metrics)


def test_train_is_deterministic(
    compose_cfg: Callable[..., DictConfig], small_sample: Callable[..., Path]
) -> None:
    """Same data, config and seeds give identical metrics."""
    cfg = compose_cfg(f"data.path={small_sample()}")
    assert train(cfg) == train(cfg)


def test_missing_data_file_fails_the_run_with_its_reason(
    compose_cfg: Callable[..., DictConfig],
    tmp_path: Path,
    only_run: Callable[..., mlflow.entities.Run],
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
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """A target the schema does not declare fails the run (FAILED), naming the column."""
    cfg = compose_cfg(f"data.path={small_sample()}", "data.target=no_such_column")
    with pytest.raises(PipelineError, match="no_such_column") as caught:
        train(cfg)
    assert caught.value.check == "target declared"
    assert only_run(cfg).info.status == "FAILED"


def test_bad_data_stops_training_before_anything_is_written(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    tmp_path: Path,
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """Data that breaks its schema ends the run FAILED with the report attached, before a
    model or metrics file is written (P2)."""
    frame = pd.read_csv(small_sample())
    frame.loc[3, "age_years"] = 150.0
    frame.loc[4, "region"] = "atlantis"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    cfg = compose_cfg(f"data.path={bad}")
    with pytest.raises(DataValidationError) as caught:
        train(cfg)
    assert {p.column for p in caught.value.report.failures} == {"age_years", "region"}
    run = only_run(cfg)
    assert run.info.status == "FAILED"
    assert run.data.tags["validation.train"] == "failed"
    assert "age_years" in run.data.tags["failure.reason"]
    client = MlflowClient(mlflow.get_tracking_uri())
    assert "validation/train.json" in {
        a.path for a in client.list_artifacts(run.info.run_id, "validation")
    }
    assert not Path(cfg.paths.output_dir, "metrics.json").exists()
