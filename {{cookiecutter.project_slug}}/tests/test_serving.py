"""Serve, predict, evaluate, promote (I4, I7): the trained model used the way users use it.

One linear model is trained once for the session (the ``champion`` fixture) and registered as
``champion`` of its own registered model; the tests load it by alias like ``make predict`` and
``make evaluate`` do.
"""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.data.sample import (
    write_sample,
)
from {{ cookiecutter.package_name }}.data.validation import (
    DataValidationError,
)
from {{ cookiecutter.package_name }}.errors import (
    BelowBaselineError,
    DataError,
    PipelineError,
)
from {{ cookiecutter.package_name }}.evaluate import (
    evaluate,
)
from {{ cookiecutter.package_name }}.predict import (
    predict,
)
from {{ cookiecutter.package_name }}.registry import (
    CHAMPION,
    PREVIOUS,
    register,
    rollback,
)
from {{ cookiecutter.package_name }}.rollback import (
    rollback as rollback_stage,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)

NAME = "champion-model"  # conftest.CHAMPION_NAME: the model the `champion` fixture trains


def new_batch(cfg: DictConfig, path: Path, rows: int = 60) -> Path:
    """Unlabelled rows, as they arrive for scoring."""
    return write_sample(path, rows, 7, cfg.data.task, labelled=False)


def last_run(cfg: DictConfig, stage: str) -> mlflow.entities.Run:
    client = MlflowClient(mlflow.get_tracking_uri())
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    runs = client.search_runs(
        [experiment.experiment_id], f"tags.stage = '{stage}'", order_by=["start_time DESC"]
    )
    return runs[0]


def test_the_model_is_registered_as_champion(champion: tuple) -> None:
    """The first model to pass the gate becomes ``champion``; its run says so."""
    compose, _ = champion
    cfg = compose()
    version = MlflowClient(mlflow.get_tracking_uri()).get_model_version_by_alias(NAME, CHAMPION)
    run = last_run(cfg, "train")
    assert version.run_id == run.info.run_id
    assert run.data.tags["registry.champion"] == "true"


def test_the_logged_model_takes_raw_rows_like_predict(champion: tuple, tmp_path: Path) -> None:
    """The pyfunc model answers raw rows (no target, CSV types) exactly as ``predict`` does;
    its signature names the raw columns and it carries an input example."""
    compose, _ = champion
    batch = new_batch(compose(), tmp_path / "batch.csv")
    output = tmp_path / "predictions.csv"
    cfg = compose(f"predict.input={batch}", f"predict.output={output}")
    assert predict(cfg) == output
    written = pd.read_csv(output)
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@{CHAMPION}")
    raw = pd.read_csv(batch)
    served = model.predict(raw)
    assert len(served) == len(raw) == len(written)
    assert written["customer_id"].tolist() == raw["customer_id"].tolist()
    assert written["prediction"].astype(str).tolist() == served["prediction"].astype(str).tolist()
    numbers = [c for c in served.columns if c != "prediction"] or ["prediction"]
    np.testing.assert_allclose(written[numbers].to_numpy(float), served[numbers].to_numpy(float))
    assert model.metadata.get_input_schema().input_names() == list(raw.columns)
    assert model.metadata.saved_input_example_info is not None
    run = last_run(cfg, "predict")
    assert run.info.status == "FINISHED"
    assert run.data.metrics["predict/rows"] == len(raw)
    assert any(key.startswith("predict/unseen/") for key in run.data.metrics)


def test_predict_refuses_rows_that_break_the_contract(champion: tuple, tmp_path: Path) -> None:
    """Mo2: a missing column and an out-of-range value are both named; nothing is written
    and the run is FAILED."""
    compose, _ = champion
    frame = pd.read_csv(new_batch(compose(), tmp_path / "batch.csv"))
    frame = frame.drop(columns="region")
    frame.loc[0, "age_years"] = 150.0
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    output = tmp_path / "predictions.csv"
    cfg = compose(f"predict.input={bad}", f"predict.output={output}")
    with pytest.raises(DataValidationError) as caught:
        predict(cfg)
    assert {p.column for p in caught.value.report.failures} == {"region", "age_years"}
    assert f"against the contract of models:/{NAME}@{CHAMPION}" in str(caught.value)
    assert not output.exists()
    assert not list(tmp_path.glob(".*partial"))
    run = last_run(cfg, "predict")
    assert run.info.status == "FAILED"
    assert "region" in run.data.tags["failure.reason"]


def test_predict_refuses_an_output_it_cannot_write(champion: tuple, tmp_path: Path) -> None:
    """An unsupported output extension fails before any work, naming the file."""
    compose, _ = champion
    batch = new_batch(compose(), tmp_path / "batch.csv")
    cfg = compose(f"predict.input={batch}", f"predict.output={tmp_path / 'out.txt'}")
    with pytest.raises(DataError, match=r"out\.txt"):
        predict(cfg)
    assert last_run(cfg, "predict").info.status == "FAILED"


def test_the_served_model_refuses_a_bad_request(champion: tuple, tmp_path: Path) -> None:
    """``mlflow models serve`` runs the same contract check: a missing column is named."""
    compose, _ = champion
    raw = pd.read_csv(new_batch(compose(), tmp_path / "batch.csv")).drop(columns="contract")
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@{CHAMPION}")
    with pytest.raises(Exception, match="contract"):
        model.predict(raw)


def test_evaluate_by_alias_reproduces_the_test_metrics(champion: tuple) -> None:
    """``evaluate`` on the champion re-splits the data as training did: its test metrics are
    the training run's, recorded as a separate run linked to it, with slices (M6)."""
    compose, trained = champion
    cfg = compose()
    metrics = evaluate(cfg)
    assert metrics == pytest.approx({k: v for k, v in trained.items() if k.startswith("test/")})
    run = last_run(cfg, "evaluate")
    assert run.info.status == "FINISHED"
    assert run.data.tags["model.run_id"] == last_run(cfg, "train").info.run_id
    path = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="slices")
    rows = json.loads(Path(path, "test.json").read_text())["slices"]
    assert {row["column"] for row in rows} == set(cfg.data.slices)
    assert sum(row["rows"] for row in rows if row["column"] == "contract") == len(
        pd.read_csv(cfg.data.path)
    ) - round(len(pd.read_csv(cfg.data.path)) * (1 - cfg.data.split.test_fraction))


def test_evaluate_an_unknown_model_fails_clearly(champion: tuple) -> None:
    """An alias that does not exist names the model URI; the evaluate run is FAILED."""
    compose, _ = champion
    cfg = compose("evaluate.model=nonexistent")
    with pytest.raises(PipelineError, match=f"models:/{NAME}@nonexistent"):
        evaluate(cfg)
    assert last_run(cfg, "evaluate").info.status == "FAILED"


def test_a_model_below_baseline_leaves_the_champion_alone(champion: tuple) -> None:
    """P1, I4: a model forced below the baseline ends FAILED, registers nothing, and the
    champion alias does not move."""
    compose, _ = champion
    client = MlflowClient(mlflow.get_tracking_uri())
    before = client.get_model_version_by_alias(NAME, CHAMPION).version
    versions = len(client.search_model_versions(f"name = '{NAME}'"))
    cfg = compose("train.baseline_margin=1e9")
    with pytest.raises(BelowBaselineError):
        train(cfg)
    assert last_run(cfg, "train").info.status == "FAILED"
    assert client.get_model_version_by_alias(NAME, CHAMPION).version == before
    assert len(client.search_model_versions(f"name = '{NAME}'")) == versions


def test_only_a_better_model_is_promoted_and_rollback_undoes_it(
    champion: tuple, tracking_uri: str
) -> None:
    """I4: a worse challenger stays a challenger, a better one becomes champion with its
    predecessor recorded; I7: rollback walks the alias back, then refuses to go further."""
    mlflow.set_tracking_uri(tracking_uri)
    client = MlflowClient(tracking_uri)
    logged = client.get_model_version_by_alias(NAME, CHAMPION).source
    name, metric = "registry-rules", "val/log_loss"
    assert register(logged, name, metric, 0.5, lower_is_better=True).promoted
    challenger = register(logged, name, metric, 0.6, lower_is_better=True)
    assert not challenger.promoted and "does not beat" in challenger.reason
    better = register(logged, name, metric, 0.4, lower_is_better=True)
    assert better.promoted
    champion_version = client.get_model_version_by_alias(name, CHAMPION)
    assert str(champion_version.version) == better.version
    assert champion_version.tags[PREVIOUS] == "1"
    assert rollback(name) == (better.version, "1")
    assert str(client.get_model_version_by_alias(name, CHAMPION).version) == "1"
    with pytest.raises(PipelineError, match="first champion"):
        rollback(name)


def test_rollback_with_no_champion_fails_the_run(champion: tuple) -> None:
    """``make rollback`` on an empty registry: a clear error and a FAILED rollback run."""
    compose, _ = champion
    cfg = compose("tracking.model_name=never-trained")
    with pytest.raises(PipelineError, match="no champion"):
        rollback_stage(cfg)
    assert last_run(cfg, "rollback").info.status == "FAILED"


def test_mlflow_models_predict_gives_the_same_predictions(
    champion: tuple, tmp_path: Path, tracking_uri: str
) -> None:
    """The logged model through MLflow's own scoring path (``mlflow.models.predict`` with the
    local environment: MLflow parses the CSV and scores it as ``mlflow models predict`` and
    ``mlflow models serve`` do) gives ``predict``'s numbers for the same rows."""
    compose, _ = champion
    batch = new_batch(compose(), tmp_path / "batch.csv")
    ours = tmp_path / "ours.csv"
    predict(compose(f"predict.input={batch}", f"predict.output={ours}"))
    theirs = tmp_path / "theirs.json"
    mlflow.models.predict(
        model_uri=f"models:/{NAME}@{CHAMPION}",
        input_path=str(batch),
        content_type="csv",
        output_path=str(theirs),
        env_manager="local",
    )
    served = pd.DataFrame(json.loads(theirs.read_text())["predictions"])
    written = pd.read_csv(ours)
    numbers = [c for c in served.columns if c != "prediction"] or ["prediction"]
    np.testing.assert_allclose(written[numbers].to_numpy(float), served[numbers].to_numpy(float))
    assert written["prediction"].astype(str).tolist() == served["prediction"].astype(str).tolist()
