"""Promotion you can trust (I4, I7): like with like, the last step of a run that succeeded, and
only for a model that was loaded back and served like in training (the canary), that fails no
slice of the data (M6, M7) and was made from committed specs (M1).

The session's ``champion`` (a linear model on 400 sample rows) is the better model here; a
copy of it whose network answers with a constant is the worse one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import mlflow
import numpy as np
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
from {{ cookiecutter.package_name }}.evaluation.gate import (
    review_gate,
)
from {{ cookiecutter.package_name }}.evaluation.slices import (
    slice_labels,
)
from {{ cookiecutter.package_name }}.models import (
    BaselineModel,
)
from {{ cookiecutter.package_name }}.serving.predictor import (
    Predictor,
    log_predictor,
)
from {{ cookiecutter.package_name }}.tracking import (
    runs,
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
from {{ cookiecutter.package_name }}.training.steps import (
    promote,
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


def test_a_model_that_serves_other_answers_is_never_registered(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """The canary's other half (I6): the logged model loads, but answers held-out rows
    otherwise than the model in memory (every number it returns shifted by 0.25): the run is
    FAILED naming how many rows differ, and nothing is registered."""
    load = mlflow.pyfunc.load_model

    class Shifted:
        def __init__(self, model: mlflow.pyfunc.PyFuncModel) -> None:
            self.model = model

        def predict(self, rows: pd.DataFrame) -> pd.DataFrame:
            answers = self.model.predict(rows)
            numbers = answers.select_dtypes("number").columns
            answers[numbers] = answers[numbers] + 0.25
            return answers

    monkeypatch.setattr(mlflow.pyfunc, "load_model", lambda uri: Shifted(load(uri)))
    cfg = compose_cfg(f"data.path={small_sample()}")
    with pytest.raises(PipelineError, match=r"of 20 held-out rows predicted differently"):
        train(cfg)
    run = only_run(cfg)
    assert run.info.status == "FAILED" and "registry.version" not in run.data.tags
    assert "canary: served like in training" in run.data.tags.get("failure.reason", "")
    assert client().search_model_versions(f"name = '{cfg.tracking.model_name}'") == []


def planted(predictor: Predictor, rows: pd.DataFrame, target: str, mask: pd.Series) -> pd.DataFrame:
    """``rows`` where the rows of ``mask`` are labelled with what the model finds least likely
    (the class of lowest probability, or the prediction plus ten standard deviations): a slice
    the model fails, whatever the task."""
    answers = predictor.predict(rows.drop(columns=[target]))[0]
    if predictor.task.is_classification:
        probabilities = answers.drop(columns="prediction").to_numpy()
        wrong = np.asarray(predictor.encoding.classes, dtype=object)[probabilities.argmin(axis=1)]
    else:
        wrong = (answers["prediction"] + 10 * rows[target].std()).to_numpy()
    bad = rows.astype({target: object})
    bad.loc[mask, target] = wrong[mask.to_numpy()]
    return bad


def promoted_run(cfg: DictConfig, uri: str, served: Predictor, rows: pd.DataFrame) -> dict:
    """Register the session champion's model under ``cfg``'s own name through the training
    run's promotion step (its gates included), on ``rows``; the run's tags."""
    with runs.tracked_run(cfg, "train") as run:
        promote(cfg, run, uri, served, rows)
    return client().get_run(run.run_id).data.tags


def slice_planted(champion: tuple, served: Predictor, target: str, column: str) -> tuple:
    """The champion's whole table with the largest slice of ``column`` (well over MIN_ROWS
    rows) planted to fail (:func:`planted`): the rows and the slice's value."""
    frame = read_table(champion[0]().data.path)
    labels = slice_labels(frame[column])
    value = labels.value_counts().index[0]
    return planted(served, frame, target, labels == value), value


@pytest.mark.parametrize(("column", "sensitive"), [("region", False), ("age_years", True)])
def test_a_model_that_fails_a_slice_is_not_promoted_and_says_which(
    champion: tuple,
    champion_model: tuple,
    compose_cfg: Callable[..., DictConfig],
    column: str,
    sensitive: bool,
) -> None:
    """M6: the champion's model on its whole table, where one slice is labelled with what the
    model finds least likely, is registered but refused the alias, the reason naming the
    column, the value, the gap and the limit. M7: ``age_years`` is not in ``data.slices``; it
    is gated because the schema marks it sensitive."""
    uri, served, _, target = champion_model
    rows, value = slice_planted(champion, served, target, column)
    cfg = compose_cfg()
    assert (column in cfg.data.slices) is not sensitive
    tags = promoted_run(cfg, uri, served, rows)
    assert tags["registry.champion"] == "false" and alias(cfg.tracking.model_name) is None
    assert tags["gate.slices"] == "failed"
    assert tags["gate.slices.worst"] == f"{column}={value}"
    gap = float(tags["gate.slices.gap"])
    reason = tags["registry.reason"]
    assert f"slice {column}={value} (" in reason
    percent = format(gap, ".0%")  # (a format spec ending in % is Jinja syntax here)
    assert f"gap {percent} worse, above train.max_slice_gap = 0.5" in reason
    assert (", a sensitive column" in reason) is sensitive


def test_a_slice_within_the_limit_is_promoted(
    champion: tuple, champion_model: tuple, compose_cfg: Callable[..., DictConfig]
) -> None:
    """M6: the same planted slice, with ``train.max_slice_gap`` above its gap, passes the gate
    (recorded as passed, with the gap) and the model takes the alias."""
    uri, served, _, target = champion_model
    rows, value = slice_planted(champion, served, target, "region")
    cfg = compose_cfg("train.max_slice_gap=1000")
    tags = promoted_run(cfg, uri, served, rows)
    assert tags["gate.slices"] == "passed" and tags["gate.slices.worst"] == f"region={value}"
    assert 0.5 < float(tags["gate.slices.gap"]) < 1000
    assert tags["registry.champion"] == "true"
    assert alias(cfg.tracking.model_name) == tags["registry.version"]


def test_sensitive_columns_are_always_sliced(
    champion: tuple, champion_run: mlflow.entities.Run
) -> None:
    """M7: the session champion's run scored ``age_years``, marked sensitive in the schema, per
    slice on validation and test, though ``data.slices`` does not list it."""
    compose, _ = champion
    assert "age_years" not in compose().data.slices
    for split in ("val", "test"):
        logged = mlflow.artifacts.load_dict(f"{champion_run.info.artifact_uri}/slices/{split}.json")
        assert "age_years" in {row["column"] for row in logged["slices"]}


def faked_git(monkeypatch: pytest.MonkeyPatch, unreviewed: str) -> None:
    """The git state runs record, as :func:`runs.git_state` would report ``unreviewed``."""
    state = {"git.commit": "0" * 40, "git.dirty": str(unreviewed != "none").lower()}
    state["git.unreviewed"] = unreviewed
    monkeypatch.setattr(runs, "git_state", lambda root=None: state)


def test_a_run_from_uncommitted_specs_is_recorded_but_never_promoted(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """M1: a run started with uncommitted changes under configs/ trains, finishes and registers
    its model, but the alias does not move; the run says which files and what to do."""
    faked_git(monkeypatch, "configs/train.yaml, schemas/sample.yaml")
    cfg = compose_cfg(f"data.path={small_sample()}", "train.allow_dirty_promotion=false")
    train(cfg)
    run = only_run(cfg)
    assert run.info.status == "FINISHED"
    assert run.data.tags["gate.reviewed"] == "failed"
    assert run.data.tags["registry.champion"] == "false" and "registry.version" in run.data.tags
    assert alias(cfg.tracking.model_name) is None
    reason = run.data.tags["registry.reason"]
    assert "uncommitted changes" in reason and "configs/train.yaml, schemas/sample.yaml" in reason
    assert "commit them and train again" in reason


@pytest.mark.parametrize(
    ("unreviewed", "allow", "recorded"),
    [
        ("none", False, "passed"),
        ("configs/train.yaml", True, "allowed by train.allow_dirty_promotion"),
        ("unknown", False, "unchecked: not a git checkout (or no git)"),
    ],
)
def test_a_clean_tree_the_override_or_no_git_allow_promotion_and_say_which(
    unreviewed: str, allow: bool, recorded: str
) -> None:
    """M1: committed specs pass; uncommitted ones only with ``train.allow_dirty_promotion=true``
    (a notebook, an experiment); a project without git passes too (nothing to check), and the
    ``gate.reviewed`` tag says which it was (the run above shows the tags are recorded)."""
    verdict = review_gate(unreviewed, allow)
    assert verdict.refusal is None
    assert verdict.tags == {"gate.reviewed": recorded}
