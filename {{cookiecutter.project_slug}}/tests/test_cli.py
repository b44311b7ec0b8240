"""The command line a user types: fast help, loud typos, exit codes, a recorded run."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.config import (
    CONFIG_DIR,
)
from {{ cookiecutter.package_name }}.errors import (
    EXIT_BAD_INPUT,
)
from {{ cookiecutter.package_name }}.train import (
    main,
)

ROOT = CONFIG_DIR.parent


def run_cli(module: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <package>.<module>`` from ``tmp_path`` with its logs there."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MLFLOW_TRACKING_URI": ""}
    command = [
        sys.executable,
        "-m",
        f"{{ cookiecutter.package_name }}.{module}",
        "data=sample",  # the sample, whatever data the project is set to
        f"paths.log_dir={tmp_path / 'logs'}",
        *args,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=tmp_path, check=False
    )


@pytest.mark.slow  # a new process: the command line as typed
def test_help_lists_the_config_groups(tmp_path: Path) -> None:
    """``--help`` works and shows the groups a user can choose from."""
    done = run_cli("train", "--help", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    for group in ("data", "model", "train", "tracking", "experiment"):
        assert f"{group}:" in done.stdout


@pytest.mark.slow  # a new process: the command line as typed
def test_typo_in_an_override_fails_naming_the_key(tmp_path: Path) -> None:
    """``train.sede=1`` exits non-zero with ``sede`` in the message, before any run starts."""
    store = f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}"
    done = run_cli("train", "train.sede=1", store, tmp_path=tmp_path)
    assert done.returncode != 0
    assert "sede" in done.stderr
    assert not (tmp_path / "mlflow.db").exists()


def test_bad_input_exits_2_with_one_line_and_a_failed_run(
    compose_cfg: Callable[..., DictConfig],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    only_run: Callable[..., mlflow.entities.Run],
) -> None:
    """The entry point turns a missing data file into exit code 2 and one ``error:`` line on
    stderr (no traceback), after the run was recorded FAILED. (``main.__wrapped__`` is the
    function under ``@hydra.main``; the slow test below goes through the real command line.)"""
    cfg = compose_cfg(f"data.path={tmp_path / 'absent.csv'}")
    with pytest.raises(SystemExit) as exited:
        main.__wrapped__(cfg)
    assert exited.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {tmp_path / 'absent.csv'}: check 'file exists' failed: no such file; fix data.path"
    ]
    assert "Traceback" not in err
    run = only_run(cfg)
    assert run.info.status == "FAILED"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("data.split.val_fraction=0.9", "data.split: check 'fractions' failed: val_fraction"),
        (
            "model._target_={{ cookiecutter.package_name }}.models.gradient_boosting.Model",
            "model._target_: check 'importable model class' failed: '{{ cookiecutter.package_name }}.models.gradient_",
        ),
    ],
)
def test_a_setting_that_cannot_work_is_one_line_and_exit_2(
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    only_run: Callable[..., mlflow.entities.Run],
    override: str,
    expected: str,
) -> None:
    """Config mistakes found only when the stage runs (split fractions, an unknown model) are
    the same one ``error:`` line and exit 2 as bad data, never a traceback: a FAILED run naming
    the setting, and nothing written."""
    cfg = compose_cfg(f"data.path={small_sample()}", override)
    with pytest.raises(SystemExit) as exited:
        main.__wrapped__(cfg)
    assert exited.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: {expected}"), line
    assert "Traceback" not in err
    run = only_run(cfg)
    assert run.info.status == "FAILED"
    assert expected in run.data.tags["failure.reason"]
    assert not Path(cfg.paths.output_dir, "metrics.json").exists()


def test_a_stage_from_the_command_line_writes_where_it_should(
    tmp_path: Path,
    small_sample: Callable[..., Path],
    tracking_uri: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A command line as ``python -m ... validate`` gets it, parsed and run by Hydra (in this
    process, to save an interpreter start: the tests above and the template's own tests start
    real ones), from another directory: a FINISHED run in the store and the report under the log
    directory, never in the source tree or the working directory."""
    from hydra.core.global_hydra import GlobalHydra

    from {{ cookiecutter.package_name }}.validate import (
        main as validate_main,
    )

    monkeypatch.chdir(tmp_path)
    argv = ["validate", "data=sample", f"paths.log_dir={tmp_path / 'logs'}"]
    argv += [f"data.path={small_sample()}", f"tracking.uri={tracking_uri}"]
    monkeypatch.setattr(sys, "argv", [*argv, "tracking.experiment=cli-validate"])
    handlers = logging.getLogger().handlers[:]
    try:
        validate_main()
    finally:  # Hydra set up logging and its global state for the run: put them back
        GlobalHydra.instance().clear()
        logging.getLogger().handlers[:] = handlers
    assert "passed" in capsys.readouterr().out
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("cli-validate")
    assert [r.info.status for r in client.search_runs([experiment.experiment_id])] == ["FINISHED"]
    assert len(list((tmp_path / "logs" / "runs").glob("*/*/validation.json"))) == 1
    assert not list(ROOT.joinpath("src").rglob("validation.json"))
    for stray in ("mlflow.db", "mlruns", "mlartifacts", "outputs"):
        assert not (tmp_path / stray).exists(), stray
