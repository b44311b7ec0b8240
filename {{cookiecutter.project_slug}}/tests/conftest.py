"""Shared fixtures: compose configs the way the CLI does, with every output under ``tmp_path``.

Tests run on the bundled sample (``data=sample``), never on what ``configs/config.yaml``
selects, so they pass whatever data the project is pointed at; ``test_own_data.py`` checks the
project's own data when it exists.

One SQLite tracking store per test session (creating and migrating one costs about a second),
with a fresh experiment per test so tests never see each other's runs.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from {{ cookiecutter.package_name }}.config import (
    CONFIG_DIR,
    HYDRA_VERSION_BASE,
    Task,
)

if TYPE_CHECKING:
    import mlflow
    from omegaconf import DictConfig

# Heavy imports (torch, mlflow, pandas) happen inside the fixtures: pytest-xdist's controller
# loads this file too, and the workers start only once it has.
DEFAULT_TASK = Task("{{ cookiecutter.task }}")
SMALL_ROWS = 400
CHAMPION_NAME = "champion-model"


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Train on one CPU thread: the tensors here are tiny, and under ``pytest -n auto`` a second
    thread only fights the other workers for the cores (an iris fit: 0.8 s alone, 2.4 to 3.8 s
    beside a busy worker with torch's default two threads, 0.8 s with one)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A throw-away SQLite store shared by the session's tests (each test has its own experiment).

    Creating an MLflow database runs every schema migration (about 1.5 s); copying a migrated
    empty one takes milliseconds. One is kept per MLflow version in the system's temporary
    directory, written whole (a rename) so parallel workers never read half of one."""
    import os
    import shutil
    import tempfile

    import mlflow

    database = tmp_path_factory.mktemp("mlflow") / "mlflow.db"
    cache = Path(tempfile.gettempdir()) / "ml-pipeline-test-stores"
    empty = cache / f"mlflow-{mlflow.__version__}.db"
    if not empty.is_file():
        cache.mkdir(exist_ok=True)
        fresh = cache / f"{empty.name}.{os.getpid()}.partial"
        mlflow.MlflowClient(f"sqlite:///{fresh}").search_experiments()
        fresh.replace(empty)
    shutil.copyfile(empty, database)
    return f"sqlite:///{database}"


@pytest.fixture(scope="session")
def compose_in(tracking_uri: str) -> Callable[..., DictConfig]:
    """Compose ``stage``'s config (``configs/<stage>.yaml``) with overrides, writing outputs,
    checkpoints and runs under ``directory``, runs in experiment ``name`` and models under
    registered name ``name``, on the data config ``data`` (the bundled sample; empty: what
    ``configs/config.yaml`` selects). ``hydra_only``: compose every time with Hydra alone, as
    the CLI does (the test that the faster way gives the same config uses it)."""

    def _compose(
        directory: Path,
        name: str,
        *overrides: str,
        data: str = "sample",
        stage: str = "train",
        hydra_only: bool = False,
    ) -> DictConfig:
        base = [
            *([f"data={data}"] if data else []),  # the sample, whatever the project is set to
            f"paths.output_dir={directory / 'output'}",
            f"paths.checkpoint_dir={directory / 'checkpoints'}",
            f"tracking.uri={tracking_uri}",
            f"tracking.experiment={name}",
            f"tracking.model_name={name}",
        ]
        if stage == "train":
            # short training: 5 epochs of the 280 training rows of a 400-row sample (batch 32,
            # picked from the row count: 9 batches an epoch); tests about training set their own
            base.append("train.steps=45")
            # M1 refuses to promote from uncommitted configs/, schemas/ or src/, and tests run
            # in a tree being edited; test_promotion.py tests the refusal on a faked git state
            base.append("train.allow_dirty_promotion=true")
        lines = [*base, *overrides]
        return hydra_compose(stage, lines) if hydra_only else composed(stage, lines)

    return _compose


def hydra_compose(stage: str, overrides: list[str]) -> DictConfig:
    """``stage``'s config as Hydra's compose API makes it."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(CONFIG_DIR), version_base=HYDRA_VERSION_BASE):
        return compose(stage, overrides=overrides)


def composed(stage: str, overrides: list[str]) -> DictConfig:
    """What :func:`hydra_compose` gives, faster. Composing is the slow part of a test's config
    (about 0.1 s, most tests differ only in values), so the config of the group selections
    and other structural overrides is composed once per worker, and the plain value overrides
    (``train.lr=0.1``) are parsed by Hydra's own override parser and set on a copy the way
    Hydra sets them (``OmegaConf.update(..., merge=True)``). When setting one fails (a typo, a
    wrong type), Hydra composes the whole list, so the error is Hydra's own."""
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    structure, values = _split(tuple(overrides))
    cfg = copy.deepcopy(_composed_once(stage, structure))
    try:
        for key, value in values:
            OmegaConf.update(cfg, key, value, merge=True)
    except OmegaConfBaseException:
        return hydra_compose(stage, overrides)
    return cfg


@functools.cache
def _split(overrides: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[tuple[str, object], ...]]:
    """The overrides Hydra must compose (groups, additions, deletions, sweeps, ``hydra.*``) and
    the plain ``key.path=value`` changes, each parsed to its typed value."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import OverrideType

    structure, values = [], []
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    for line, override in zip(overrides, parsed, strict=True):
        key = override.key_or_group
        plain = (
            override.type is OverrideType.CHANGE
            and override.package is None
            and "." in key
            and not key.startswith("hydra")
            and not override.is_sweep_override()
        )
        if plain:
            values.append((key, override.value()))
        else:
            structure.append(line)
    return tuple(structure), tuple(values)


@functools.cache
def _composed_once(stage: str, overrides: tuple[str, ...]) -> DictConfig:
    return hydra_compose(stage, list(overrides))


@pytest.fixture
def compose_cfg(
    tmp_path: Path, compose_in: Callable[..., DictConfig], request: pytest.FixtureRequest
) -> Callable[..., DictConfig]:
    """Compose like the CLI does (``stage=``: whose config; ``train`` unless said), with a fresh
    experiment and registered model per test."""
    name = "test-" + "".join(c if c.isalnum() else "-" for c in request.node.name)
    return lambda *overrides, stage="train": compose_in(tmp_path, name, *overrides, stage=stage)


@pytest.fixture(scope="session")
def champion(
    tmp_path_factory: pytest.TempPathFactory, compose_in: Callable[..., DictConfig]
) -> tuple[Callable[..., DictConfig], dict[str, float]]:
    """Train one linear model for the session, registered as ``champion`` of ``CHAMPION_NAME``:
    ``(compose, metrics)``, where ``compose(*overrides, stage=...)`` gives a stage's config for
    the same data, store and registered model (``predict``, ``evaluate``, ``monitor`` tests
    use it)."""
    from {{ cookiecutter.package_name }}.data.sample import (
        write_sample,
    )
    from {{ cookiecutter.package_name }}.train import (
        train,
    )

    directory = tmp_path_factory.mktemp("champion")
    data = write_sample(directory / "train.csv", SMALL_ROWS, 0, DEFAULT_TASK)

    def _compose(*overrides: str, stage: str = "train") -> DictConfig:
        return compose_in(directory, CHAMPION_NAME, f"data.path={data}", *overrides, stage=stage)

    return _compose, train(_compose())


@pytest.fixture(scope="session")
def champion_run(champion: tuple) -> mlflow.entities.Run:
    """The MLflow run that trained the session's champion (tests about a training run's record
    read it instead of training again)."""
    import mlflow

    client = mlflow.MlflowClient(mlflow.get_tracking_uri())
    version = client.get_model_version_by_alias(CHAMPION_NAME, "champion")
    return client.get_run(version.run_id)


@pytest.fixture
def small_sample(tmp_path: Path) -> Callable[..., Path]:
    """Write a small copy of the sample data for a task, made by the project's own generator."""
    from {{ cookiecutter.package_name }}.data.sample import (
        write_sample,
    )

    def _write(task: Task = DEFAULT_TASK, rows: int = SMALL_ROWS, seed: int = 0) -> Path:
        return write_sample(tmp_path / f"{task.value}-{rows}-{seed}.csv", rows, seed, task)

    return _write


@pytest.fixture
def data_overrides(tmp_path: Path) -> Callable[..., list[str]]:
    """Overrides that point the pipeline at a small sample of ``task`` and a schema for it:
    the shipped schema for the baked task, a drafted one (``make infer-schema``) for others."""
    from {{ cookiecutter.package_name }}.data.infer import (
        draft_spec,
        render_draft,
    )
    from {{ cookiecutter.package_name }}.data.sample import (
        TARGETS,
        generate,
        write_sample,
    )

    def _overrides(task: Task = DEFAULT_TASK, rows: int = SMALL_ROWS, seed: int = 0) -> list[str]:
        path = write_sample(tmp_path / f"{task.value}-{rows}-{seed}.csv", rows, seed, task)
        schema = CONFIG_DIR.parent / "schemas" / "sample.yaml"
        if task is not DEFAULT_TASK:
            schema = tmp_path / f"{task.value}.yaml"
            drafted = draft_spec(generate(2000, 0, task), TARGETS[task])
            schema.write_text(render_draft(drafted, "test"))
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
        import mlflow

        client = mlflow.MlflowClient(mlflow.get_tracking_uri())
        experiment = client.get_experiment_by_name(cfg.tracking.experiment)
        (run,) = client.search_runs([experiment.experiment_id])
        return run

    return _only_run


def pytest_collection_finish(session: pytest.Session) -> None:
    """Take what collection imported (torch, MLflow, pandas: millions of objects that live as
    long as the process) out of the garbage collector's sight, so its full passes during the
    tests, and pytest's own at the end, scan only what the tests make."""
    import gc

    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """End a pytest-xdist worker at once when it is done. By now it has sent every result (and
    any plugin's data) to the controller; tearing down torch, MLflow and scikit-learn at
    interpreter exit would only keep the controller waiting, about 2 s of a 25 s suite."""
    import os
    import sys

    if "PYTEST_XDIST_WORKER" in os.environ:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
