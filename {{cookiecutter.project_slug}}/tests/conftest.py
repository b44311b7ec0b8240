"""Shared fixtures: compose configs the way the CLI does, with every output under ``tmp_path``.

One SQLite tracking store per test session (creating and migrating one costs about a second),
with a fresh experiment per test so tests never see each other's runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import mlflow
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.config import (
    CONFIG_DIR,
    HYDRA_VERSION_BASE,
    Task,
)
from {{ cookiecutter.package_name }}.data.infer import (
    draft_spec,
    render_draft,
)
from {{ cookiecutter.package_name }}.data.sample import (
    TARGETS,
    generate,
    write_sample,
)

DEFAULT_TASK = Task("{{ cookiecutter.task }}")
SMALL_ROWS = 400
CHAMPION_NAME = "champion-model"


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A throw-away SQLite store shared by the session's tests."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture(scope="session")
def compose_in(tracking_uri: str) -> Callable[..., DictConfig]:
    """Compose ``config.yaml`` with overrides, writing outputs, checkpoints and runs under
    ``directory``, runs in experiment ``name`` and models under registered name ``name``."""

    def _compose(directory: Path, name: str, *overrides: str) -> DictConfig:
        base = [
            f"paths.output_dir={directory / 'output'}",
            f"paths.checkpoint_dir={directory / 'checkpoints'}",
            f"tracking.uri={tracking_uri}",
            f"tracking.experiment={name}",
            f"tracking.model_name={name}",
            "train.epochs=5",  # short training; tests about training set their own
            "train.batch_size=32",
        ]
        with initialize_config_dir(str(CONFIG_DIR), version_base=HYDRA_VERSION_BASE):
            return compose("config", overrides=[*base, *overrides])

    return _compose


@pytest.fixture
def compose_cfg(
    tmp_path: Path, compose_in: Callable[..., DictConfig], request: pytest.FixtureRequest
) -> Callable[..., DictConfig]:
    """Compose like the CLI does, with a fresh experiment and registered model per test."""
    name = "test-" + "".join(c if c.isalnum() else "-" for c in request.node.name)
    return lambda *overrides: compose_in(tmp_path, name, *overrides)


@pytest.fixture(scope="session")
def champion(
    tmp_path_factory: pytest.TempPathFactory, compose_in: Callable[..., DictConfig]
) -> tuple[Callable[..., DictConfig], dict[str, float]]:
    """Train one linear model for the session, registered as ``champion`` of ``CHAMPION_NAME``:
    ``(compose, metrics)``, where ``compose(*overrides)`` gives configs for the same data,
    store and registered model (``predict``, ``evaluate``, ``monitor`` tests use it)."""
    from {{ cookiecutter.package_name }}.train import train

    directory = tmp_path_factory.mktemp("champion")
    data = write_sample(directory / "train.csv", SMALL_ROWS, 0, DEFAULT_TASK)

    def _compose(*overrides: str) -> DictConfig:
        return compose_in(directory, CHAMPION_NAME, f"data.path={data}", *overrides)

    return _compose, train(_compose())


@pytest.fixture
def small_sample(tmp_path: Path) -> Callable[..., Path]:
    """Write a small copy of the sample data for a task, made by the project's own generator."""

    def _write(task: Task = DEFAULT_TASK, rows: int = SMALL_ROWS, seed: int = 0) -> Path:
        return write_sample(tmp_path / f"{task.value}-{rows}-{seed}.csv", rows, seed, task)

    return _write


@pytest.fixture
def data_overrides(tmp_path: Path) -> Callable[..., list[str]]:
    """Overrides that point the pipeline at a small sample of ``task`` and a schema for it:
    the shipped schema for the baked task, a drafted one (``make infer-schema``) for others."""

    def _overrides(task: Task = DEFAULT_TASK, rows: int = SMALL_ROWS, seed: int = 0) -> list[str]:
        path = write_sample(tmp_path / f"{task.value}-{rows}-{seed}.csv", rows, seed, task)
        schema = CONFIG_DIR.parent / "schemas" / "customers.yaml"
        if task is not DEFAULT_TASK:
            schema = tmp_path / f"{task.value}.yaml"
            schema.write_text(render_draft(draft_spec(generate(2000, 0, task)), "test"))
        return [
            f"data.path={path}",
            f"data.schema={schema}",
            f"data.task={task.value}",
            f"data.target={TARGETS[task]}",
        ]

    return _overrides


@pytest.fixture
def only_run() -> Callable[[DictConfig], mlflow.entities.Run]:
    """The single run recorded in a config's experiment (each test has its own experiment)."""

    def _only_run(cfg: DictConfig) -> mlflow.entities.Run:
        client = mlflow.MlflowClient(mlflow.get_tracking_uri())
        experiment = client.get_experiment_by_name(cfg.tracking.experiment)
        (run,) = client.search_runs([experiment.experiment_id])
        return run

    return _only_run
