"""Search training settings with Optuna: ``python -m {{ cookiecutter.package_name }}.tune`` (``make tune``).

Each trial composes the training config with the settings Optuna proposes and calls the same
``train(cfg)`` as ``make train``, so it is validated, tracked and gated exactly like one
(P1, P2, P6), nested under the study's parent MLflow run. Optuna's database storage holds the
study, so any number of these processes, on one machine or many, share it: each adds
``tune.trials`` trials, and no trial is run twice. A trial whose validation loss is worse
than the median of earlier trials at the same epoch is stopped (pruned, its run KILLED); a
trial that fails (the loss guard, the baseline gate) is written down and the search goes on.
When this process is done the parent run holds every trial of the study so far in one table
and one plot (T3-T7), and the best trial's command line.

Driven directly rather than through hydra-optuna-sweeper, which pins ``optuna<3``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
from omegaconf import DictConfig, OmegaConf

from .config import CONFIG_DIR, HYDRA_VERSION_BASE, Dimension
from .errors import ConfigError, PipelineError, one_line_errors

if TYPE_CHECKING:
    import optuna

    from .tracking.sweep import Summary, Trial

log = logging.getLogger(__name__)

OPTUNA_DB = "optuna.db"
PARENT_ATTR = "mlflow_parent_run"  # the study's parent MLflow run, set by its first process
RUN_ATTR = "mlflow_run"  # each trial's MLflow run
REASON_ATTR = "failure"
STATES = {"COMPLETE": "FINISHED", "FAIL": "FAILED", "PRUNED": "PRUNED", "RUNNING": "RUNNING"}


def storage_uri(cfg: DictConfig) -> str:
    """``tune.storage``, or ``sqlite:///optuna.db`` in the project root; relative sqlite paths
    resolve against the root, as the tracking store's do."""
    from .tracking.store import rooted

    root = Path(cfg.paths.root)
    return rooted(cfg.tune.storage or f"sqlite:///{root / OPTUNA_DB}", root)


def open_storage(uri: str) -> optuna.storages.RDBStorage:
    """Optuna's database storage. SQLite waits for a lock instead of failing at once, and the
    first use of a new file, whose tables several processes may create at the same moment,
    is retried."""
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    engine = {"connect_args": dict(timeout=60)} if uri.startswith("sqlite:") else {}
    for attempt in range(1, 6):
        try:
            return optuna.storages.RDBStorage(uri, engine_kwargs=engine)
        except SQLAlchemyError:
            if attempt == 5:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def open_study(cfg: DictConfig, storage: optuna.storages.RDBStorage) -> tuple[Any, str]:
    """The study, created by the first process (the database decides which) with the parent
    MLflow run; a later process loads both. Returns the study and the parent run's id."""
    import optuna

    from .evaluation.metrics import better_sign
    from .tracking.sweep import open_sweep, primary_metric

    metric = primary_metric(cfg)
    direction = "maximize" if better_sign(metric.removeprefix("val/")) > 0 else "minimize"
    sampler = optuna.samplers.TPESampler(seed=cfg.tune.seed)
    pruner = optuna.pruners.MedianPruner(
        n_startup_trials=cfg.tune.prune_startup_trials,
        n_warmup_steps=cfg.tune.prune_warmup_epochs,
    )
    name = cfg.tune.study
    try:
        study = optuna.create_study(
            study_name=name, storage=storage, direction=direction, sampler=sampler, pruner=pruner
        )
    except optuna.exceptions.DuplicatedStudyError:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        return study, wait_for_parent(study)
    tags = {"stage": "tune", "tune.study": name, "tune.storage": safe_uri(str(storage.url))}
    parent = open_sweep(cfg, f"tune-{name}", tags)
    study.set_user_attr(PARENT_ATTR, parent)
    return study, parent


def wait_for_parent(study: Any, timeout: float = 60.0) -> str:
    """The parent run id the study's first process records right after creating it."""
    from .tracking.sweep import SWEEP_ENV

    deadline = time.monotonic() + timeout
    while PARENT_ATTR not in study.user_attrs:
        if time.monotonic() > deadline:
            raise PipelineError(study.study_name, "study has a parent run", "none was recorded")
        time.sleep(0.2)
    parent = study.user_attrs[PARENT_ATTR]
    os.environ[SWEEP_ENV] = parent
    return parent


def safe_uri(uri: str) -> str:
    """A database URI without its password, to record."""
    from sqlalchemy.engine import make_url

    return make_url(uri).render_as_string(hide_password=True)


def dimension(key: str, node: Any) -> Dimension:
    """One ``tune.search`` entry as a :class:`Dimension`: a typo or a wrong type is a
    ConfigError naming it."""
    from omegaconf.errors import OmegaConfBaseException

    try:
        dim = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Dimension), node))
    except OmegaConfBaseException as err:
        raise ConfigError(
            f"tune.search.{key}", "a search dimension", str(err).splitlines()[0]
        ) from err
    assert isinstance(dim, Dimension)
    if dim.choices is None and (dim.low is None or dim.high is None):
        raise ConfigError(
            f"tune.search.{key}", "a search dimension", "give low and high, or choices"
        )
    return dim


def search_space(cfg: DictConfig) -> dict[str, Dimension]:
    """``tune.search`` checked whole, before a study is opened or a trial runs: each entry a
    :class:`Dimension` of a setting this config has. A mistake is one ConfigError naming it,
    not a study whose every trial fails."""
    space: dict[str, Dimension] = {}
    for group, settings in cfg.tune.search.items():
        for setting, node in settings.items():
            key = f"{group}.{setting}"
            require_setting(cfg, key)
            space[key] = dimension(key, node)
    return space


def require_setting(cfg: DictConfig, key: str) -> None:
    """A searched setting the config does not have (``model.hidden`` for ``model=linear``)."""
    if OmegaConf.select(cfg, key, default=KeyError) is KeyError:
        raise ConfigError(
            f"tune.search.{key}",
            "setting exists",
            f"{key} is not a setting of this config; remove it with '~tune.search.{key}'",
        )


def proposed(trial: optuna.Trial, space: dict[str, Dimension]) -> dict[str, Any]:
    """The settings Optuna proposes for ``trial``, as ``{"train.lr": ...}``."""
    values: dict[str, Any] = {}
    for key, dim in space.items():
        if dim.choices is not None:  # any values, lists included: proposed as JSON text
            labels = [json.dumps(choice) for choice in dim.choices]
            values[key] = json.loads(trial.suggest_categorical(key, labels))
        else:
            values[key] = trial.suggest_float(key, dim.low, dim.high, log=dim.log)
    return values


def trial_config(cfg: DictConfig, values: dict[str, Any]) -> DictConfig:
    """``cfg`` with the proposed settings; a setting the config does not have is a ConfigError
    (``model.hidden`` searched for ``model=linear``)."""
    trial_cfg = cfg.copy()
    trial_cfg.tune.storage = safe_uri(storage_uri(cfg))  # a run's params never hold a password
    for key, value in values.items():
        require_setting(trial_cfg, key)
        OmegaConf.update(trial_cfg, key, value, merge=False)
    return trial_cfg


def objective(cfg: DictConfig, trial: optuna.Trial) -> float:
    """One trial: train with the proposed settings, reporting the validation loss after every
    epoch so that a hopeless trial is stopped early; the value is the primary val metric."""
    import optuna

    from .tracking.sweep import last_run_id, primary_metric
    from .train import train

    class Pruned(optuna.TrialPruned):
        run_status = "KILLED"

    def report(epoch: int, losses: dict[str, float]) -> None:
        trial.report(losses["val/loss"], epoch)
        if trial.should_prune():
            raise Pruned(f"pruned at epoch {epoch}: val/loss {losses['val/loss']:.4f}")

    trial_cfg = trial_config(cfg, proposed(trial, search_space(cfg)))
    before = last_run_id()
    try:
        metrics = train(trial_cfg, on_epoch=report)
    except PipelineError as err:
        trial.set_user_attr(REASON_ATTR, str(err).splitlines()[0])
        log.warning("trial %d failed: %s", trial.number, str(err).splitlines()[0])
        raise
    finally:
        run_id = last_run_id()
        if run_id and run_id != before:
            trial.set_user_attr(RUN_ATTR, run_id)
    return metrics[primary_metric(cfg)]


def overrides(params: dict[str, Any]) -> str:
    """A trial's settings as Hydra overrides, ready for the command line
    (``train.lr=0.0031 'model.hidden=[64,32]'``)."""
    import shlex

    def value(text: Any) -> str:
        if isinstance(text, str):  # a choice, stored as its JSON text
            return json.dumps(json.loads(text), separators=(",", ":"))
        return repr(text)

    return " ".join(shlex.quote(f"{key}={value(v)}") for key, v in params.items())


def study_trials(study: Any) -> list[Trial]:
    """Every trial of the study so far (all processes'), as the sweep summary lists them."""
    from .tracking.sweep import Trial

    return [
        Trial(
            t.number,
            overrides(t.params),
            STATES.get(t.state.name, t.state.name),
            t.user_attrs.get(RUN_ATTR),
            t.user_attrs.get(REASON_ATTR, ""),
        )
        for t in study.get_trials(deepcopy=False)
    ]


def tune(cfg: DictConfig) -> Summary:
    """Run ``tune.trials`` trials of the study and write its summary on the parent run."""
    from mlflow import MlflowClient

    from .tracking.store import resolve_tracking_uri
    from .tracking.sweep import SWEEP_ENV, close_sweep, primary_metric

    search_space(cfg)  # a mistake in tune.search stops here: no study, no run
    storage = open_storage(storage_uri(cfg))
    study, parent = open_study(cfg, storage)
    client = MlflowClient(resolve_tracking_uri(cfg.tracking.uri, Path(cfg.paths.root)))
    client.update_run(parent, status="RUNNING")
    try:
        study.optimize(
            lambda trial: objective(cfg, trial), n_trials=cfg.tune.trials, catch=(PipelineError,)
        )
    finally:
        os.environ.pop(SWEEP_ENV, None)
    summary = close_sweep(client, parent, study_trials(study), primary_metric(cfg))
    if summary.best is None:
        raise PipelineError(
            f"study {study.study_name}",
            "a trial finished",
            "every trial failed or was pruned; see the parent run's sweep/summary.md",
        )
    return summary


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="tune")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: print every trial of the study and the best one."""
    print(tune(cfg).markdown())


if __name__ == "__main__":
    main()
