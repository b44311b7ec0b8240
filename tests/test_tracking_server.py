"""Issue 12, a team tracking server: a bake's `make mlflow-server` on a throw-away PostgreSQL 15
cluster, every stage logging to it over HTTP, and what a stage does when the server is not
there or goes away in the middle of a run.

The cluster is made with the machine's own ``initdb`` and ``pg_ctl`` in a temporary directory
(as the ``postgres`` user when the tests run as root: PostgreSQL refuses to run as root), on a
free loopback port, with a password that only the environment carries. ``.ci/run`` sets
``REQUIRE_POSTGRES=1``, so there a missing PostgreSQL fails the test instead of skipping it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PYTHON, committed_bake, free_port, make, run, running

JOBS = 8


def postgres_bin() -> Path:
    """The directory of the machine's PostgreSQL server programs (Debian keeps them off PATH)."""
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    found = debian[-1] if debian else shutil.which("initdb")
    if found is None:
        message = "PostgreSQL's initdb is not installed (Debian: apt-get install postgresql)"
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(message)
        pytest.skip(message)
    return Path(found).resolve().parent  # beside initdb: pg_ctl and createdb


@contextlib.contextmanager
def postgres_cluster() -> Iterator[tuple[str, str]]:
    """A new cluster with a database ``mlflow`` owned by user ``mlflow``: its URI (no password
    in it) and the password, which only ``$PGPASSWORD`` carries to the server."""
    pg = postgres_bin()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    base = Path(tempfile.mkdtemp(prefix="pg-cluster-"))
    password = secrets.token_hex(12)
    (base / "password").write_text(password)
    if as_postgres:
        for path in (base, base / "password"):
            shutil.chown(path, "postgres")
    port = free_port()
    data = base / "data"
    options = f"-p {port} -h 127.0.0.1 -k {base}"
    commands = [
        [pg / "initdb", "-D", data, "-U", "mlflow", f"--pwfile={base / 'password'}",
         "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8"],
        [pg / "pg_ctl", "-D", data, "-l", base / "log", "-o", options, "-w", "start"],
        [pg / "createdb", "-h", str(base), "-p", str(port), "-U", "mlflow", "mlflow"],
    ]  # fmt: skip
    try:
        for command in commands:
            done = run([*as_postgres, *map(str, command)], base)
            assert done.returncode == 0, done.stdout + done.stderr
        yield f"postgresql://mlflow@127.0.0.1:{port}/mlflow", password
    finally:
        stop = [*as_postgres, str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        run(stop, base)
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def mlflow_server(project: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`make mlflow-server` of the bake on a free port (two workers); its URL while it runs."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = ["make", f"PYTHON={PYTHON}", "mlflow-server", f"MLFLOW_PORT={port}"]
    with running([*command, "ARGS=--workers 2"], project, f"{url}/health", env=env):
        yield url


def on_server(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``make <args>`` in the bake, every stage on ``tracking=server`` at ``url``."""
    return make(project, *args, env={"MLFLOW_TRACKING_URI": url})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = committed_bake(tmp_path)
    assert make(project, "data").returncode == 0
    return project


def test_every_stage_logs_to_a_server_on_postgresql(project: Path) -> None:
    """train, predict and monitor with ``tracking=server`` against `make mlflow-server` on
    PostgreSQL: their runs, metrics, the registered model and its ``champion`` alias read back
    over HTTP; then 8 training jobs at once (`make sweep JOBS=8`): every run and every metric
    is there. Nothing goes to a local store, and the password is in no run."""
    from mlflow import MlflowClient

    with postgres_cluster() as (database, password):
        backend = {"MLFLOW_BACKEND_STORE_URI": database, "PGPASSWORD": password}
        with mlflow_server(project, env=backend) as url:
            for stage in (["train"], ["predict"], ["monitor"]):
                done = on_server(project, url, *stage, "ARGS=tracking=server")
                assert done.returncode == 0, (stage, done.stdout[-2000:], done.stderr[-3000:])
            seeds = ",".join(map(str, range(JOBS)))
            args = f"ARGS=tracking=server train.steps=40 train.seed={seeds}"
            swept = on_server(project, url, "sweep", f"JOBS={JOBS}", args)
            assert swept.returncode == 0, swept.stdout[-2000:] + swept.stderr[-3000:]

            client = MlflowClient(url)
            (experiment,) = [e for e in client.search_experiments() if e.name == "my-ml-project"]
            runs = client.search_runs([experiment.experiment_id], max_results=100)
            by_stage: dict[str, list] = {}
            for found in runs:
                by_stage.setdefault(found.data.tags["stage"], []).append(found)
            assert {s: len(r) for s, r in by_stage.items()} == {
                "train": 1 + JOBS, "predict": 1, "monitor": 1, "sweep": 1,
            }  # fmt: skip
            assert {r.info.status for r in runs} == {"FINISHED"}
            (trained,) = [r for r in by_stage["train"] if "mlflow.parentRunId" not in r.data.tags]
            assert "val/log_loss" in trained.data.metrics
            assert client.get_metric_history(trained.info.run_id, "val/loss")
            champion = client.get_model_version_by_alias("my_ml_project-sample", "champion")
            assert champion.run_id == trained.info.run_id
            assert by_stage["predict"][0].data.metrics["predict/rows"] == 500
            metric_sets = [set(r.data.metrics) for r in by_stage["train"]]
            assert all(keys == metric_sets[0] for keys in metric_sets)
            assert all(password not in str(r.data.params) for r in runs)
    assert not (project / "mlflow.db").exists()


def test_a_server_that_is_not_there_or_goes_away(project: Path) -> None:
    """No server: `make train` fails before any work, within 10 seconds, with one line naming
    the URI. The server killed in the middle of training: the stage ends (exit 2) saying what
    the server has of the run and what it does not, and its checkpoint stays on disk."""
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    absent = on_server(project, url, "train", "ARGS=tracking=server")
    assert time.monotonic() - started < 10
    assert absent.returncode == 2
    errors = [line for line in absent.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: {url}: check 'server reachable' failed: no answer ([Errno 111] Connection "
        "refused); start it (`make mlflow-server`) or fix tracking.uri ($MLFLOW_TRACKING_URI "
        "for tracking=server)"
    ]
    assert not list((project / "logs").rglob("metrics.json"))

    from mlflow import MlflowClient

    long = "ARGS=tracking=server model=mlp train.steps=100000 train.patience=0 train.batch_size=16"
    with mlflow_server(project) as url:
        env = {**os.environ, "PYTHONPATH": str(project / "src"), "MLFLOW_TRACKING_URI": url}
        command = ["make", "--no-print-directory", f"PYTHON={PYTHON}", "train", long]
        job = subprocess.Popen(command, cwd=project, env=env, text=True, stderr=subprocess.PIPE)
        client, deadline = MlflowClient(url), time.monotonic() + 120
        while time.monotonic() < deadline:
            experiment = client.get_experiment_by_name("my-ml-project")
            runs = client.search_runs([experiment.experiment_id]) if experiment else []
            if runs and client.get_metric_history(runs[0].info.run_id, "val/loss"):
                break
            time.sleep(0.5)
        assert list((project / "checkpoints").glob("*.pt")), "a checkpoint after the first epoch"
    # the server is stopped: the training process notices at its next epoch
    _, stderr = job.communicate(timeout=120)
    assert job.returncode == 2, stderr[-3000:]
    (line,) = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert f"error: {url}: check 'store answers' failed: it stopped answering" in line
    assert "Recorded there: run " in line and "epoch(s) of curves" in line
    assert "Not recorded: the rest, the run's end and its outputs" in line
    assert "(train.resume=true continues the same run)" in line
    assert list((project / "checkpoints").glob("*.pt"))
    assert not (project / "mlflow.db").exists()
