"""The command line a user types: fast help, loud typos, exit codes, a recorded run."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.config import (
    CONFIG_DIR,
)
from {{ cookiecutter.package_name }}.errors import (
    EXIT_BAD_INPUT,
)

ROOT = CONFIG_DIR.parent


def run_cli(module: str, *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m <package>.<module>`` with logs and the store under ``tmp_path``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MLFLOW_TRACKING_URI": ""}
    command = [
        sys.executable,
        "-m",
        f"{{ cookiecutter.package_name }}.{module}",
        f"paths.log_dir={tmp_path / 'logs'}",
        f"tracking.uri=sqlite:///{tmp_path / 'mlflow.db'}",
        *args,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=tmp_path, check=False
    )


def test_help_lists_the_config_groups(tmp_path: Path) -> None:
    """``--help`` works and shows the groups a user can choose from."""
    done = run_cli("train", "--help", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    for group in ("data", "model", "train", "tracking", "experiment"):
        assert f"{group}:" in done.stdout


def test_typo_in_an_override_fails_naming_the_key(tmp_path: Path) -> None:
    """``train.sede=1`` exits non-zero with ``sede`` in the message, before any run starts."""
    done = run_cli("train", "train.sede=1", tmp_path=tmp_path)
    assert done.returncode != 0
    assert "sede" in done.stderr
    assert not (tmp_path / "mlflow.db").exists()


@pytest.mark.slow
def test_pipeline_from_the_command_line(tmp_path: Path) -> None:
    """``dataset`` then ``train`` from another directory: bad input exits 2 with one clear line
    and a FAILED run; good input gives a FINISHED run, metrics under logs/, the ui command."""
    missing = run_cli("train", f"data.path={tmp_path / 'absent.csv'}", tmp_path=tmp_path)
    assert missing.returncode == EXIT_BAD_INPUT, missing.stderr
    assert "absent.csv: check 'file exists' failed" in missing.stderr
    assert "Traceback" not in missing.stderr

    data = f"data.path={tmp_path / 'sample.csv'}"
    made = run_cli("dataset", data, "data.sample.rows=300", tmp_path=tmp_path)
    assert made.returncode == 0, made.stderr
    done = run_cli("train", data, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"mlflow ui --backend-store-uri sqlite:///{tmp_path}/mlflow.db" in done.stdout

    with sqlite3.connect(tmp_path / "mlflow.db") as db:
        statuses = db.execute("select status from runs order by start_time").fetchall()
    assert statuses == [("FAILED",), ("FINISHED",)]
    assert len(list((tmp_path / "logs" / "runs").glob("*/*/metrics.json"))) == 1
    assert not list(ROOT.joinpath("src").rglob("metrics.json"))
