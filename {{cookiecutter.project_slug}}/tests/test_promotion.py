"""Promotion you can trust (I4, I7): like with like, the last step of a run that succeeded, and
only for a model that was loaded back and served like in training (the canary).

The session's ``champion`` (a linear model on 400 sample rows) is the better model here; a
copy of it whose network answers with a constant is the worse one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.data.io import (
    read_table,
)
from {{ cookiecutter.package_name }}.data.split import (
    split_frame,
)
from {{ cookiecutter.package_name }}.errors import (
    DataError,
    PipelineError,
)
from {{ cookiecutter.package_name }}.models import (
    BaselineModel,
)
from {{ cookiecutter.package_name }}.serving.predictor import (
    Predictor,
    log_predictor,
)
from {{ cookiecutter.package_name }}.tracking.registry import (
    CHAMPION,
    PREVIOUS,
    Rule,
    register,
    rollback,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)

NAME = "champion-model"  # conftest.CHAMPION_NAME: the model the `champion` fixture trains


def client() -> MlflowClient:
    return MlflowClient(mlflow.get_tracking_uri())


def alias(name: str) -> str | None:
    """The version ``champion`` points at, or None."""
    try:
        return str(client().get_model_version_by_alias(name, CHAMPION).version)
    except mlflow.exceptions.MlflowException:
        return None


@pytest.fixture
def champion_model(champion: tuple) -> tuple[str, Predictor, pd.DataFrame, str]:
    """The champion's logged model URI, its served predictor, its validation rows and target."""
    compose, _ = champion
    cfg = compose()
    version = client().get_model_version_by_alias(NAME, CHAMPION)
    served = mlflow.pyfunc.load_model(f"models:/{NAME}/{version.version}")
    predictor = served.unwrap_python_model().predictor
    frame = read_table(cfg.data.path)
    rows = split_frame(frame, predictor.spec, cfg.data.target, cfg.data.task, cfg.data.split).val
    return version.source, predictor, rows, cfg.data.target


def constant_copy(predictor: Predictor, rows: pd.DataFrame, target: str) -> tuple[str, Predictor]:
    """A copy of ``predictor`` whose network ignores its input (uniform classes, or 0), logged
    as a model of its own: clearly worse on any rows."""
    n_features = len(predictor.features.feature_names)
    network = BaselineModel(predictor.task, n_features, predictor.encoding.n_outputs).eval()
    model = {"_target_": f"{BaselineModel.__module__}.BaselineModel", "name": "baseline"}
    worse = replace(predictor, network=network, meta=predictor.meta | {"model": model})
    with mlflow.start_run():
        uri = log_predictor(worse, rows.drop(columns=[target]).head(5))
    return uri, worse


def test_a_better_model_on_the_same_rows_is_promoted_and_rollback_undoes_it(
    champion_model: tuple, request: pytest.FixtureRequest
) -> None:
    """I4: a first model becomes champion; the same model again is not better on the same rows
    (it stays a challenger, saying why, with enough digits to see it); a better one is promoted
    with the paired test's figures and its predecessor recorded. I7: rollback walks back."""
    uri, better, rows, target = champion_model
    worse_uri, worse = constant_copy(better, rows, target)
    name = f"promotion-{request.node.name}"
    first = register(worse_uri, name, worse, rows, target, Rule())
    assert first.promoted and "first champion" in first.reason
    again = register(worse_uri, name, worse, rows, target, Rule())
    assert not again.promoted and alias(name) == first.version
    assert "not better" in again.reason and f"same {len(rows)} rows" in again.reason
    promoted = register(uri, name, better, rows, target, Rule())
    assert promoted.promoted, promoted.reason
    assert promoted.previous == first.version
    assert float(promoted.tags["promotion.p_value"]) < 0.05
    assert float(promoted.tags["promotion.difference"]) < 0
    assert alias(name) == promoted.version
    version = client().get_model_version(name, promoted.version)
    assert version.tags[PREVIOUS] == first.version
    assert rollback(name) == (promoted.version, first.version)
    assert alias(name) == first.version
    with pytest.raises(PipelineError, match="first champion"):
        rollback(name)


def test_a_tiny_table_never_takes_the_alias(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """The issue's 12-row run: a model validated on a handful of rows is registered but never
    promoted (not even as a first champion), and its run's tags say why."""
    cfg = compose_cfg(f"data.path={small_sample(rows=60)}", "train.require_beats_baseline=false")
    train(cfg)
    name = cfg.tracking.model_name
    assert alias(name) is None
    run = only_run(cfg)
    assert run.info.status == "FINISHED"
    assert run.data.tags["registry.champion"] == "false"
    assert "fewer than train.promote_min_rows = 20" in run.data.tags["registry.reason"]


def test_a_run_that_fails_after_promoting_takes_the_promotion_back(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """Promotion is the last step, and if the run still fails after it (here, ending the run),
    the alias goes back: it never points at a FAILED run."""
    end_run = mlflow.end_run

    def failing_end(status: str = "FINISHED") -> None:
        if status == "FINISHED":
            raise RuntimeError("the store went away")
        end_run(status)

    monkeypatch.setattr(mlflow, "end_run", failing_end)
    cfg = compose_cfg(f"data.path={small_sample()}")
    with pytest.raises(RuntimeError, match="the store went away"):
        train(cfg)
    run = only_run(cfg)
    assert run.info.status == "FAILED"
    assert run.data.tags["registry.champion"] == "true"  # it was promoted, then taken back
    assert alias(cfg.tracking.model_name) is None
    version = client().get_model_version(cfg.tracking.model_name, run.data.tags["registry.version"])
    assert version.tags["promotion.undone"] == "true"


def test_a_write_that_fails_leaves_the_champion_and_the_registry_alone(
    champion: tuple, tmp_path: Path
) -> None:
    """The issue's case: a directory named ``metrics.json`` in the output directory. The run
    fails on that write, one line naming the file, before anything is registered; the
    champion does not move."""
    compose, _ = champion
    output = tmp_path / "out"
    (output / "metrics.json").mkdir(parents=True)
    versions = len(client().search_model_versions(f"name = '{NAME}'"))
    before = alias(NAME)
    with pytest.raises(DataError, match=r"metrics\.json") as caught:
        train(compose(f"paths.output_dir={output}"))
    assert caught.value.check == "writable output" and "\n" not in str(caught.value)
    assert alias(NAME) == before
    assert len(client().search_model_versions(f"name = '{NAME}'")) == versions


def test_a_model_that_cannot_be_served_is_never_registered(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """The canary: the logged model is loaded back through the serving path before it may be
    registered; when that fails the run is FAILED, saying so, and nothing is registered."""

    def broken(uri: str, *args: object, **kwargs: object) -> None:
        raise OSError("artifact store unreachable")

    cfg = compose_cfg(f"data.path={small_sample()}")
    monkeypatch.setattr(mlflow.pyfunc, "load_model", broken)
    with pytest.raises(PipelineError, match="artifact store unreachable") as caught:
        train(cfg)
    assert caught.value.check == "canary: the logged model serves"
    run = only_run(cfg)
    assert run.info.status == "FAILED" and "registry.version" not in run.data.tags
    assert client().search_model_versions(f"name = '{cfg.tracking.model_name}'") == []
