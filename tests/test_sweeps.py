"""Issue 12, sweeps: a bake's `make sweep` and `make tune` with real parallel processes on one
SQLite store, as a user runs them (the bake's own tests run sweeps in one process).

Measured before the fix: 8 parallel jobs on one store lost 6 of 8 runs to MLflow's dataset
row race (``UNIQUE constraint failed: datasets...``); every run must now be there, with every
metric.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import committed_bake, make

JOBS = 8


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed bake with its sample written."""
    project = committed_bake(tmp_path_factory.mktemp("sweeps"))
    assert make(project, "data").returncode == 0
    return project


def sweep_runs(project: Path, stage: str) -> tuple[str, str, list[tuple[str, str, str]]]:
    """The one parent run of ``stage`` (sweep or tune): its id, status and its children's
    (id, status, epochs run)."""
    with sqlite3.connect(project / "mlflow.db") as db:
        ((parent, status),) = db.execute(
            "select r.run_uuid, r.status from runs r join tags t using (run_uuid) "
            "where t.key = 'stage' and t.value = ?",
            (stage,),
        ).fetchall()
        children = db.execute(
            "select r.run_uuid, r.status, e.value from runs r "
            "join tags p on p.run_uuid = r.run_uuid and p.key = 'mlflow.parentRunId' "
            "left join tags e on e.run_uuid = r.run_uuid and e.key = 'train.epochs_run' "
            "where p.value = ?",
            (parent,),
        ).fetchall()
    return parent, status, children


def metric_keys(project: Path, run_id: str) -> tuple[set[str], int]:
    """A run's metric names, and how many per-epoch points its val/loss curve has."""
    with sqlite3.connect(project / "mlflow.db") as db:
        keys = {k for (k,) in db.execute("select key from metrics where run_uuid=?", (run_id,))}
        ((points,),) = db.execute(
            "select count(*) from metrics where run_uuid=? and key='val/loss'", (run_id,)
        ).fetchall()
    return keys, points


def test_eight_parallel_jobs_on_one_sqlite_store_are_all_recorded(project: Path) -> None:
    """`make sweep JOBS=8`: eight training processes at once (Hydra's joblib launcher) against
    one SQLite store: one FINISHED parent run with eight FINISHED children, each with the same
    metrics and a full validation-loss curve (one point per epoch run), and a summary."""
    seeds = ",".join(str(seed) for seed in range(JOBS))
    done = make(project, "sweep", f"JOBS={JOBS}", f"ARGS=train.steps=40 train.seed={seeds}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    parent, status, children = sweep_runs(project, "sweep")
    assert status == "FINISHED"
    assert sorted(s for _, s, _ in children) == ["FINISHED"] * JOBS, done.stderr[-3000:]
    keys = [metric_keys(project, run_id) for run_id, _, _ in children]
    assert all(k == keys[0][0] for k, _ in keys) and "val/log_loss" in keys[0][0]
    assert [points for _, points in keys] == [int(epochs) for _, _, epochs in children]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + JOBS and "Best: trial " in done.stdout
    summaries = list((project / "mlartifacts").rglob("sweep/summary.md"))
    assert [path.parts[-4] for path in summaries] == [parent]


def test_two_tune_workers_share_one_study_and_lose_no_trial(project: Path) -> None:
    """`make tune WORKERS=2`: two processes on one Optuna study in a database file: all six
    trials are in the study (numbers 0 to 5, none left running), each ran once, as its own
    MLflow run nested under the study's one parent run."""
    import optuna

    args = "ARGS=tune.trials=3 train.steps=40 tune.prune_startup_trials=10"
    done = make(project, "tune", "WORKERS=2", args)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    study = optuna.load_study(study_name="sample-mlp", storage=f"sqlite:///{project}/optuna.db")
    trials = study.get_trials(deepcopy=False)
    assert sorted(t.number for t in trials) == list(range(6))
    assert {t.state.name for t in trials} <= {"COMPLETE", "FAIL"}
    runs = [t.user_attrs["mlflow_run"] for t in trials]
    parent, _, children = sweep_runs(project, "tune")
    assert study.user_attrs["mlflow_parent_run"] == parent
    assert sorted(runs) == sorted(run_id for run_id, _, _ in children)  # each trial: one run
    assert len(set(runs)) == 6
