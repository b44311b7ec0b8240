"""P6 for sweeps: one parent run, every trial nested under it and written down, failures
included, and a summary that ranks the trials against the baseline (T3-T7).

Everything here runs in this process (Hydra's basic launcher does the same); the template's
own tests run the parallel launcher with 8 jobs and two ``tune`` processes on one study.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import optuna
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, OmegaConf, open_dict

from {{ cookiecutter.package_name }}.errors import (
    ConfigError,
    PipelineError,
)
from {{ cookiecutter.package_name }}.tracking.sweep import (
    SWEEP_ENV,
    Job,
    SweepTracking,
    primary_metric,
    run_as_trial,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)
from {{ cookiecutter.package_name }}.tune import (
    RUN_ATTR,
    objective,
    overrides,
    trial_config,
    tune,
)


@pytest.fixture(autouse=True)
def no_sweep_left() -> Iterator[None]:
    """Each test starts outside any sweep, and leaves none behind for the next (popped by hand:
    ``monkeypatch`` would put back, at teardown, a value the test itself set)."""
    os.environ.pop(SWEEP_ENV, None)
    yield
    os.environ.pop(SWEEP_ENV, None)


def with_sweep_dir(cfg: DictConfig, sweep_dir: Path) -> DictConfig:
    """``cfg`` with the ``hydra`` node a multirun's callbacks see (its sweep directory)."""
    sweep = {"dir": str(sweep_dir)}
    given = {"task": ["train.lr=0.01,1e9"]}
    hydra = OmegaConf.create({"sweep": sweep, "overrides": given})
    merged = cfg.copy()
    with open_dict(merged):
        merged.hydra = hydra
    return merged


def children(client: MlflowClient, parent: str) -> list[mlflow.entities.Run]:
    experiment = client.get_run(parent).info.experiment_id
    nested = f"tags.mlflow.parentRunId = '{parent}'"
    return client.search_runs([experiment], filter_string=nested)


def test_a_sweep_opens_its_parent_run_before_any_job_starts(
    compose_cfg: Callable[..., DictConfig], tracking_uri: str, tmp_path: Path
) -> None:
    """The multirun callback creates the experiment (SQLite races on its first migration when
    parallel jobs each try) and the RUNNING parent run whose id every job inherits."""
    cfg = compose_cfg()
    client = MlflowClient(tracking_uri)
    assert client.get_experiment_by_name(cfg.tracking.experiment) is None
    SweepTracking().on_multirun_start(config=with_sweep_dir(cfg, tmp_path / "sweep"))
    parent = client.get_run(os.environ[SWEEP_ENV])
    assert parent.info.status == "RUNNING" and parent.data.tags["stage"] == "sweep"
    assert parent.data.tags["sweep.command"] == "train.lr=0.01,1e9"
    assert client.get_experiment_by_name(cfg.tracking.experiment) is not None


def test_failed_trials_are_written_down_and_the_sweep_goes_on(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    tracking_uri: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Three jobs as a launcher runs them: a good one, one the baseline gate stops (P1), and
    one whose config fails before its run starts. None raises; the sweep then ends with every
    trial in its summary (the failures with their reasons), the best against its baseline,
    one plot of the curves, its first failure's exit code, and no model registered (trials
    run side by side, so none may move the champion)."""
    data = f"data.path={small_sample()}"
    good = compose_cfg(data, "model=linear", "train.steps=18")  # two epochs: a curve to plot
    gated = compose_cfg(data, "model=linear", "train.steps=9", "train.baseline_margin=1e9")
    sweep = with_sweep_dir(good, tmp_path / "sweep")
    SweepTracking().on_multirun_start(config=sweep)
    parent = os.environ[SWEEP_ENV]

    def refused() -> None:  # as a stage refuses a setting before its run starts
        raise ConfigError("data.split", "fractions", "too big")

    jobs = {0: lambda: train(good), 1: lambda: train(gated), 2: refused}
    for number, call in jobs.items():
        job = Job(number, f"job={number}", tmp_path / "sweep" / str(number))
        run_as_trial(job, call)  # never raises: a failed trial does not end the sweep
    assert "error: job 2 (job=2): data.split: check 'fractions' failed" in capsys.readouterr().err

    with pytest.raises(SystemExit) as ended:
        SweepTracking().on_multirun_end(config=sweep)
    assert ended.value.code == 3  # the first failed trial's: below the baseline
    client = MlflowClient(tracking_uri)
    statuses = sorted((run.info.run_name, run.info.status) for run in children(client, parent))
    assert statuses == [("train-linear", "FAILED"), ("train-linear", "FINISHED")]
    assert client.get_run(parent).info.status == "FINISHED"
    artifacts = mlflow.artifacts.download_artifacts(run_id=parent, tracking_uri=tracking_uri)
    summary = (Path(artifacts) / "sweep" / "summary.md").read_text(encoding="utf-8")
    rows = [line for line in summary.splitlines() if line.startswith("| ")][1:]
    assert [row.split(" | ")[2] for row in rows] == ["FINISHED", "FAILED", "FAILED"]
    assert "check 'beats baseline' failed" in rows[1] and "'fractions' failed" in rows[2]
    assert f"Best: trial 0 (job=0): {primary_metric(good)} = " in summary
    assert "(baseline " in summary
    assert (Path(artifacts) / "sweep" / "val_loss.png").stat().st_size > 1000
    assert len((Path(artifacts) / "sweep" / "trials.csv").read_text().splitlines()) == 4
    assert client.search_model_versions(f"name = '{good.tracking.model_name}'") == []


def test_a_sweep_where_no_trial_finishes_ends_failed(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    tracking_uri: str,
    tmp_path: Path,
) -> None:
    """The parent run of a sweep with no finished trial is FAILED, saying so."""
    cfg = compose_cfg(f"data.path={small_sample()}", "model=linear", "train.lr=1e9")
    sweep = with_sweep_dir(cfg, tmp_path / "sweep")
    SweepTracking().on_multirun_start(config=sweep)
    parent = os.environ[SWEEP_ENV]
    run_as_trial(Job(0, "train.lr=1e9", tmp_path / "sweep" / "0"), lambda: train(cfg))
    with pytest.raises(SystemExit):
        SweepTracking().on_multirun_end(config=sweep)
    ended = MlflowClient(tracking_uri).get_run(parent)
    assert ended.info.status == "FAILED"
    assert ended.data.tags["failure.reason"] == "no trial finished"


@pytest.fixture
def tune_cfg(
    compose_cfg: Callable[..., DictConfig], small_sample: Callable[..., Path], tmp_path: Path
) -> Callable[..., DictConfig]:
    """``tune``'s config on a small sample, with a study database of this test's own."""
    storage = f"tune.storage=sqlite:///{tmp_path / 'optuna.db'}"
    data = f"data.path={small_sample()}"
    return lambda *extra: compose_cfg(
        data, storage, "tune.seed=0", "train.steps=18", *extra, stage="tune"
    )


def test_tune_nests_every_trial_under_the_studys_parent_run(
    tune_cfg: Callable[..., DictConfig], tracking_uri: str
) -> None:
    """``tune``: each trial is a training run with the proposed settings, nested under the
    study's parent run, which ends with the summary and the best trial; a second process on
    the same study adds its trials to it (and to the same parent)."""
    cfg = tune_cfg("tune.trials=1")
    first = tune(cfg)
    second = tune(cfg)
    assert [row["trial"] for row in first.rows] == [0]
    assert [row["trial"] for row in second.rows] == [0, 1]
    study = optuna.load_study(study_name=cfg.tune.study, storage=cfg.tune.storage)
    client = MlflowClient(tracking_uri)
    parent = study.user_attrs["mlflow_parent_run"]
    runs = {run.info.run_id: run for run in children(client, parent)}
    assert sorted(runs) == sorted(t.user_attrs[RUN_ATTR] for t in study.trials)
    for trial in study.trials:  # each run trained with the settings its trial proposed
        params = runs[trial.user_attrs[RUN_ATTR]].data.params
        assert float(params["train.lr"]) == pytest.approx(trial.params["train.lr"])
        assert params["model.hidden"] == str(json.loads(trial.params["model.hidden"]))
        assert params["tune.storage"] == cfg.tune.storage  # no password here to hide
    assert second.best is not None and second.best["trial"] in (0, 1)
    assert client.get_run(parent).data.tags["sweep.trials"] == "2"


def test_a_trial_the_pruner_stops_is_pruned_and_its_run_killed(
    tune_cfg: Callable[..., DictConfig], tracking_uri: str
) -> None:
    """A pruner that stops every trial at its first epoch: Optuna records it PRUNED and its
    training run ends KILLED, not FAILED (nothing was wrong with it)."""
    cfg = tune_cfg()
    mlflow.set_tracking_uri(tracking_uri)
    study = optuna.create_study(pruner=optuna.pruners.ThresholdPruner(upper=0.0))
    study.optimize(lambda trial: objective(cfg, trial), n_trials=1, catch=(PipelineError,))
    (trial,) = study.trials
    assert trial.state == optuna.trial.TrialState.PRUNED
    run = MlflowClient(tracking_uri).get_run(trial.user_attrs[RUN_ATTR])
    assert run.info.status == "KILLED"
    assert "pruned at epoch 0" in run.data.tags["failure.reason"]


def test_a_searched_setting_the_config_lacks_is_one_config_error(
    tune_cfg: Callable[..., DictConfig],
) -> None:
    """``model.hidden`` searched for the linear model, or a mistyped dimension, is refused
    naming the setting, before any trial trains; ``tune`` refuses it before it opens a study."""
    linear = tune_cfg("model=linear")
    with pytest.raises(ConfigError, match=r"tune\.search\.model\.hidden.*'setting exists'"):
        trial_config(linear, {"model.hidden": [8]})
    typo = tune_cfg()  # as a mistyped `lo:` in configs/tune.yaml reads
    with open_dict(typo):
        typo.tune.search.train = {"lr": dict(lo=0.1, high=0.2)}
    study = optuna.create_study()
    with pytest.raises(ConfigError, match=r"tune\.search\.train\.lr.*'a search dimension'"):
        objective(typo, study.ask())
    with pytest.raises(ConfigError, match=r"tune\.search\.model\.hidden.*'setting exists'"):
        tune(linear)  # refused whole, before a study or a run exists
    assert not Path(linear.tune.storage.removeprefix("sqlite:///")).exists()


def test_a_trials_settings_are_overrides_that_compose_back(
    compose_cfg: Callable[..., DictConfig],
) -> None:
    """What the summary prints for a trial (the best one's command line) is shell- and
    Hydra-ready: pasted back, it composes the very settings the trial ran with."""
    text = overrides({"train.lr": 0.0031, "model.hidden": "[64, 32]", "train.batch_size": "64"})
    assert text == "train.lr=0.0031 'model.hidden=[64,32]' train.batch_size=64"
    cfg = compose_cfg("model=mlp", *shlex.split(text))
    assert (cfg.train.lr, list(cfg.model.hidden), cfg.train.batch_size) == (0.0031, [64, 32], 64)
