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
from {{ cookiecutter.package_name }}.data.report import (
    DataValidationError,
)
from {{ cookiecutter.package_name }}.errors import (
    DataError,
    PipelineError,
)
from {{ cookiecutter.package_name }}.evaluation.metrics import (
    PRIMARY_METRIC,
)
from {{ cookiecutter.package_name }}.tracking.runs import (
    RunRecorder,
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
    champion: tuple,
    champion_run: mlflow.entities.Run,
) -> None:
    """Metrics are returned, logged to a FINISHED run and written to the output directory.
    (The project's own task is the session's champion, already trained on the sample.)"""
    compose, metrics = champion
    cfg, run = compose(), champion_run
    if task is not cfg.data.task:
        cfg = compose_cfg(*data_overrides(task))
        metrics = train(cfg)
        run = only_run(cfg)
    primary = f"val/{PRIMARY_METRIC[task]}"
    assert primary in metrics and f"test/{PRIMARY_METRIC[task]}" in metrics
    assert run.info.status == "FINISHED"
    assert run.data.metrics[primary] == pytest.approx(metrics[primary])
    assert run.data.tags["stage"] == "train"
    assert run.data.params["data.path"] == cfg.data.path
    assert run.data.tags["validation.train"] == "passed"
    assert len(run.data.tags["schema.hash"]) == 16
    assert len(run.data.tags["data.train.digest"]) == 16
    slices = [key for key in run.data.metrics if key.startswith("slice/val/")]
    for column in cfg.data.slices:  # M6: every slice column has per-value row counts ...
        assert any(key.startswith(f"slice/val/{column}/") for key in slices)
    assert any(key.endswith(PRIMARY_METRIC[task]) for key in slices)  # ... and scores
    artifacts = {a.path for a in MlflowClient().list_artifacts(run.info.run_id)}
    assert {"slices", "plots", "advisor.md"} <= artifacts
    assert len(run.outputs.model_outputs) == 1  # the pyfunc model (MLflow 3 logged model)
    written = json.loads(Path(cfg.paths.output_dir, "metrics.json").read_text())
    assert written == pytest.approx(metrics)


def test_train_is_deterministic(
    compose_cfg: Callable[..., DictConfig], small_sample: Callable[..., Path], champion: tuple
) -> None:
    """Same data, config and seeds give identical metrics (the session's champion was trained
    on the same rows with the same config, in another experiment and directory)."""
    _, metrics = champion
    assert train(compose_cfg(f"data.path={small_sample()}")) == metrics


def test_an_interrupted_run_resumes_to_the_uninterrupted_result(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """Kill training after epoch 2, ``train.resume=true``: the same MLflow run finishes with
    exactly the metrics of a run never interrupted (weights, optimizer, early-stopping state
    and RNG states all come back from the checkpoint), and the checkpoint is then removed."""
    args = (f"data.path={small_sample()}", "model=mlp", "train.steps=54", "train.patience=0")
    expected = train(compose_cfg(*args, "tracking.experiment=uninterrupted"))
    cfg = compose_cfg(*args)
    log_epoch = RunRecorder.log_epoch

    def killed_after_epoch_2(self: RunRecorder, epoch: int, values: dict[str, float]) -> None:
        log_epoch(self, epoch, values)
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunRecorder, "log_epoch", killed_after_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        train(cfg)
    assert only_run(cfg).info.status == "KILLED"
    assert len(list(Path(cfg.paths.checkpoint_dir).glob("*.pt"))) == 1
    monkeypatch.undo()
    elsewhere = f"paths.output_dir={Path(cfg.paths.output_dir).parent / 'resumed'}"
    assert train(compose_cfg(*args, "train.resume=true", elsewhere)) == expected
    run = only_run(cfg)
    assert run.info.status == "FINISHED" and run.data.tags["resumed"] == "true"
    moved = mlflow.artifacts.load_dict(f"runs:/{run.info.run_id}/config/resume_changes.json")
    assert list(moved) == ["paths.output_dir"]  # write-once params keep the first attempt's
    history = MlflowClient(mlflow.get_tracking_uri()).get_metric_history(
        run.info.run_id, "train/loss"
    )
    assert {m.step for m in history} == set(range(6))
    assert not list(Path(cfg.paths.checkpoint_dir).glob("*.pt"))


def test_resume_without_a_checkpoint_fails_the_run(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """``train.resume=true`` with nothing interrupted says so and leaves a FAILED run."""
    cfg = compose_cfg(f"data.path={small_sample()}", "train.resume=true")
    with pytest.raises(PipelineError, match="no interrupted run") as caught:
        train(cfg)
    assert caught.value.check == "checkpoint exists"
    assert only_run(cfg).info.status == "FAILED"


def test_an_unknown_slice_column_fails_before_training(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """M6: ``data.slices`` naming a column the contract lacks fails naming it (FAILED run)."""
    cfg = compose_cfg(f"data.path={small_sample()}", "data.slices=[region,colour]")
    with pytest.raises(PipelineError, match="colour") as caught:
        train(cfg)
    assert caught.value.check == "slice column declared"
    assert only_run(cfg).info.status == "FAILED"


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
