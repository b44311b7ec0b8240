"""Each task's bake passes its own tests and linter, and its pipeline runs from the command line.

Dependencies are installed once, in the template's environment; each bake runs there with its
``src/`` on the path, so no test installs torch or MLflow again.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sysconfig
import time
import venv
from pathlib import Path

import pytest
import yaml
from conftest import PYTHON, SUITE_TASKS, TEMPLATE, bake_project, committed_bake, run

TASKS = ["binary_classification", "multiclass_classification", "regression"]
DEFAULT_TASK = "binary_classification"
PRIMARY = {
    "binary_classification": "val/log_loss",
    "multiclass_classification": "val/log_loss",
    "regression": "val/rmse",
}


@pytest.fixture(scope="module", params=TASKS)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bake per task, committed to git so runs carry a real commit tag."""
    return committed_bake(tmp_path_factory.mktemp(request.param), task=request.param)


def test_every_tasks_suite_runs_once() -> None:
    """Each task's bake runs its whole own suite in exactly one template test (``SUITE_TASKS``):
    the quick start's ``make test``, the own-data flow's and the recipes'. Those tests bake
    with the task named there; this fails when a task is left without its suite."""
    assert sorted(SUITE_TASKS.values()) == sorted(TASKS)
    for module, task in SUITE_TASKS.items():
        source = (Path(__file__).parent / module).read_text(encoding="utf-8")
        assert f'SUITE_TASKS["{module}"]' in source, f"{module} must bake {task}"


def test_generated_code_is_lint_clean(project: Path) -> None:
    """``ruff check`` and ``ruff format --check`` pass on the bake as generated."""
    for command in (
        ["ruff", "check", "--no-cache", "."],
        ["ruff", "format", "--check", "--no-cache", "."],
    ):
        done = run([PYTHON, "-m", *command], project)
        assert done.returncode == 0, done.stdout + done.stderr


def test_pipeline_records_a_finished_run_with_provenance(project: Path) -> None:
    """``dataset`` then ``train`` give a FINISHED run in <project>/mlflow.db with params, the
    git commit tag and the resolved-config artifact, run from outside the project directory."""
    package = "my_ml_project"
    env = {"PYTHONPATH": str(project / "src")}
    assert run([PYTHON, "-m", f"{package}.dataset"], project.parent, env=env).returncode == 0
    done = run([PYTHON, "-m", f"{package}.train"], project.parent, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    task = yaml.safe_load((project / "configs/data/sample.yaml").read_text())["task"]
    assert PRIMARY[task] in done.stdout
    assert f"mlflow ui --backend-store-uri sqlite:///{project}/mlflow.db" in done.stdout

    commit = run(["git", "rev-parse", "HEAD"], project).stdout.strip()
    with sqlite3.connect(project / "mlflow.db") as db:
        ((run_id, status),) = db.execute(
            "select r.run_uuid, r.status from runs r join experiments e using (experiment_id) "
            "where e.name = 'my-ml-project'"
        ).fetchall()
        tags = dict(db.execute("select key, value from tags where run_uuid=?", (run_id,)))
        params = dict(db.execute("select key, value from params where run_uuid=?", (run_id,)))
        metrics = {k for (k,) in db.execute("select key from metrics where run_uuid=?", (run_id,))}
    assert status == "FINISHED"
    assert tags["git.commit"] == commit
    assert tags["git.dirty"] == "false"  # outputs live in git-ignored places
    assert tags["stage"] == "train"
    assert params["data.task"] == task
    assert PRIMARY[task] in metrics
    artifacts = list((project / "mlartifacts").rglob("resolved.yaml"))
    assert len(artifacts) == 1
    assert not (project.parent / "mlruns").exists()
    assert not (project.parent / "mlflow.db").exists()


# What the command line does with a typo or a failure does not depend on the task.
@pytest.mark.parametrize("project", [DEFAULT_TASK], indirect=True)
def test_typo_and_forced_failure_from_the_command_line(project: Path) -> None:
    """``train.sede=1`` is refused naming ``sede``; a missing data file leaves a FAILED run."""
    env = {"PYTHONPATH": str(project / "src")}
    typo = run([PYTHON, "-m", "my_ml_project.train", "train.sede=1"], project, env=env)
    assert typo.returncode != 0
    assert "sede" in typo.stderr
    missing = run(
        [
            PYTHON,
            "-m",
            "my_ml_project.train",
            "data.path=/no/such/file.csv",
            "tracking.experiment=forced-failure",
        ],
        project,
        env=env,
    )
    assert missing.returncode == 2
    assert "/no/such/file.csv: check 'file exists' failed" in missing.stderr
    with sqlite3.connect(project / "mlflow.db") as db:
        rows = db.execute(
            "select r.status, t.value from runs r join experiments e on r.experiment_id = e.experiment_id "
            "join tags t on t.run_uuid = r.run_uuid where e.name = 'forced-failure' and t.key = 'failure.reason'"
        ).fetchall()
    assert len(rows) == 1
    assert rows[0][0] == "FAILED"
    assert "/no/such/file.csv" in rows[0][1]


def champion_version(project: Path, name: str = "my_ml_project-sample") -> tuple[str, str | None]:
    """The registry's champion version of the model ``name``, and the version it replaced."""
    with sqlite3.connect(project / "mlflow.db") as db:
        ((version,),) = db.execute(
            "select version from registered_model_aliases where name = ? and alias = 'champion'",
            (name,),
        ).fetchall()
        previous = db.execute(
            "select value from model_version_tags where name = ? "
            "and version = ? and key = 'champion.previous'",
            (name, version),
        ).fetchall()
    return str(version), previous[0][0] if previous else None


# Promotion and rollback from the command line; each task's own suite checks them per task.
@pytest.mark.parametrize("project", [DEFAULT_TASK], indirect=True)
def test_train_promote_refuse_and_rollback(project: Path) -> None:
    """Checks that a promotion is rolled back to the champion it replaced, and that a first
    champion refuses to roll back, on a registry lineage and experiment of this test's own in
    the shared bake, so what other tests trained there never decides which path runs.

    Issue 4's acceptance, as a new user: a deliberately weak linear model (one epoch at a tiny
    learning rate, baseline gate off) becomes the lineage's first champion; the MLP beats the
    baseline and replaces that champion; a model forced below the baseline exits 3 and the
    champion does not move;
    `rollback` steps the champion back to the weak model, and a second `rollback` refuses with
    exit 2, as that was the first champion."""
    module = "my_ml_project"
    name = "my_ml_project-rollback"
    lineage = [f"tracking.model_name={name}", "tracking.experiment=rollback"]
    env = {"PYTHONPATH": str(project / "src")}
    assert run([PYTHON, "-m", f"{module}.dataset"], project, env=env).returncode == 0
    weak_args = [
        "model=linear",
        "train.steps=1",
        "train.lr=1e-6",
        "train.require_beats_baseline=false",
    ]
    weak = run([PYTHON, "-m", f"{module}.train", *weak_args, *lineage], project, env=env)
    assert weak.returncode == 0, weak.stderr[-3000:]
    first, replaced = champion_version(project, name)
    assert replaced is None, "the lineage is this test's own: its first model is its first champion"

    mlp = run([PYTHON, "-m", f"{module}.train", "model=mlp", *lineage], project, env=env)
    assert mlp.returncode == 0, mlp.stderr[-3000:]
    assert f"registered {name} v" in mlp.stdout + mlp.stderr
    champion = champion_version(project, name)
    assert champion[0] != first and champion[1] == first, (
        "the MLP must replace the weak first champion",
        champion,
        mlp.stderr[-3000:],
    )

    forced_args = ["train.baseline_margin=1e9", *lineage]
    forced = run([PYTHON, "-m", f"{module}.train", *forced_args], project, env=env)
    assert forced.returncode == 3
    assert "check 'beats baseline' failed" in forced.stderr
    assert champion_version(project, name) == champion

    rolled = run([PYTHON, "-m", f"{module}.rollback", *lineage], project, env=env)
    assert rolled.returncode == 0, rolled.stderr[-3000:]
    assert champion_version(project, name)[0] == first
    again = run([PYTHON, "-m", f"{module}.rollback", *lineage], project, env=env)
    assert again.returncode == 2 and "first champion" in again.stderr, again.stderr[-3000:]
    assert champion_version(project, name)[0] == first


def bake_with_sample(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A default bake with its sample written, and the environment that runs its modules."""
    project = bake_project(tmp_path / "bake")
    env = {"PYTHONPATH": str(project / "src")}
    assert run([PYTHON, "-m", "my_ml_project.dataset"], project, env=env).returncode == 0
    return project, env


def test_kill_training_then_resume_reaches_the_uninterrupted_metrics(tmp_path: Path) -> None:
    """Issue 4's acceptance: SIGKILL a training process mid-run, then `train.resume=true`: the
    interrupted MLflow run is reopened and finished, with exactly the metrics of a run that was
    never interrupted."""
    project, env = bake_with_sample(tmp_path)
    module = "my_ml_project"
    train = [PYTHON, "-m", f"{module}.train", "model=mlp", "train.steps=2190", "train.patience=0"]
    train += ["train.batch_size=16"]  # 10 epochs of 219 steps: killed after the first one
    full_args = ["tracking.experiment=full", f"paths.log_dir={tmp_path / 'full'}"]
    full = run([*train, *full_args], project, env=env)
    assert full.returncode == 0, full.stderr[-3000:]

    killed_env = {**os.environ, "PYTHONPATH": str(project / "src"), "MLFLOW_TRACKING_URI": ""}
    job = subprocess.Popen(
        [*train, f"paths.log_dir={tmp_path / 'killed'}"],
        cwd=project,
        env=killed_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not list((project / "checkpoints").glob("*.pt")) and time.monotonic() < deadline:
        time.sleep(0.02)
    job.kill()
    assert job.wait() == -signal.SIGKILL, "training finished before it could be killed"
    resumed_args = ["train.resume=true", f"paths.log_dir={tmp_path / 'resumed'}"]
    resumed = run([*train, *resumed_args], project, env=env)
    assert resumed.returncode == 0, resumed.stderr[-3000:]

    def metrics(log_dir: str) -> dict[str, float]:
        (path,) = (tmp_path / log_dir).rglob("metrics.json")
        return json.loads(path.read_text())

    assert metrics("resumed") == metrics("full")
    assert not list((project / "checkpoints").glob("*.pt"))
    with sqlite3.connect(project / "mlflow.db") as db:
        runs = db.execute(
            "select r.status, t.value from runs r join experiments e using (experiment_id) "
            "join tags t on t.run_uuid = r.run_uuid "
            "where e.name = 'my-ml-project' and t.key = 'resumed'"
        ).fetchall()
        (count,) = db.execute(
            "select count(*) from runs r join experiments e using (experiment_id) "
            "where e.name = 'my-ml-project'"
        ).fetchone()
    assert runs == [("FINISHED", "true")] and count == 1


def test_editable_install_works(tmp_path: Path) -> None:
    """``pip install -e ".[dev]"`` succeeds and the CLI runs from anywhere once installed.

    The new venv sees the template environment's packages through a ``.pth`` file, so nothing
    is downloaded: this checks the project's packaging, not PyPI.
    """
    project = bake_project(tmp_path / "bake")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], tmp_path)
    template_site = sysconfig.get_path("purelib")
    Path(site.stdout.strip(), "template-env.pth").write_text(template_site + "\n", encoding="utf-8")
    constraints = str(TEMPLATE / "constraints.txt")
    install = run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-build-isolation",
            "-c",
            constraints,
            "-e",
            f"{project}[dev]",
        ],
        tmp_path,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    helped = run([python, "-m", "my_ml_project.train", "--help"], tmp_path)
    assert helped.returncode == 0, helped.stderr
    assert "model: baseline" in helped.stdout

    # The installed CLI, from outside the project: data, then a two-job multirun whose
    # experiment and parent run the Hydra callback creates once before the jobs start.
    assert run([python, "-m", "my_ml_project.dataset"], tmp_path).returncode == 0
    sweep = run([python, "-m", "my_ml_project.train", "--multirun", "train.seed=0,1"], tmp_path)
    assert sweep.returncode == 0, sweep.stderr[-3000:]
    with sqlite3.connect(project / "mlflow.db") as db:
        statuses = db.execute(
            "select t.value, r.status from runs r join tags t using (run_uuid) "
            "where t.key = 'stage' order by t.value"
        ).fetchall()
        seeds = db.execute("select value from params where key = 'train.seed'").fetchall()
    assert statuses == [("sweep", "FINISHED"), ("train", "FINISHED"), ("train", "FINISHED")]
    assert sorted(seeds) == [("0",), ("1",)]
    assert len(list((project / "logs" / "multiruns").glob("*/*/[01]/metrics.json"))) == 2


def test_validate_and_infer_schema_from_the_command_line(tmp_path: Path) -> None:
    """Issue 3's acceptance, as a new user: `validate` passes on the sample and fails (exit 2),
    listing every planted problem at once; `train` on that copy ends FAILED before writing
    anything; `infer-schema` on a table the project has never seen drafts a schema that, with
    target and task set in config only, lets `validate` and `train` run."""
    project, env = bake_with_sample(tmp_path)
    module = "my_ml_project"
    clean = run([PYTHON, "-m", f"{module}.validate"], project, env=env)
    assert clean.returncode == 0, clean.stderr[-2000:]
    assert "passed" in clean.stdout

    import pandas as pd

    planted = pd.read_csv(project / "data/sample/sample.csv")
    planted.loc[1, "age_years"] = 150.0
    planted.loc[2, "region"] = "atlantis"
    planted.loc[3, "monthly_spend_usd"] = float("inf")
    planted = planted.drop(columns=["device"])
    bad = tmp_path / "planted.csv"
    planted.to_csv(bad, index=False)
    failed = run([PYTHON, "-m", f"{module}.validate", f"data.path={bad}"], project, env=env)
    assert failed.returncode == 2
    for column in ("age_years", "region", "monthly_spend_usd", "device"):
        assert f"{bad}: column '{column}'" in failed.stderr, column
    trained = run([PYTHON, "-m", f"{module}.train", f"data.path={bad}"], project, env=env)
    assert trained.returncode == 2
    assert not list((project / "logs").rglob("metrics.json"))

    rng = __import__("numpy").random.default_rng(3)
    n = 600
    sizes = rng.normal(50, 10, n)
    unseen = pd.DataFrame(
        {
            "plot_id": range(1, n + 1),
            "plot_size_m2": sizes.round(1),
            "soil": rng.choice(["clay", "sand", "loam"], n),
            "rain_mm": rng.gamma(3, 20, n).round(1),
            "yield_kg": (3 * sizes + rng.normal(0, 5, n)).round(2),
        }
    )
    new_csv = tmp_path / "farm.csv"
    unseen.to_csv(new_csv, index=False)
    infer = [PYTHON, "-m", f"{module}.infer_schema", str(new_csv), "--target", "yield_kg"]
    drafted = run(infer, project, env=env)
    assert drafted.returncode == 0, drafted.stderr
    assert drafted.stdout.splitlines()[-1].strip() == "make use-data NAME=farm"
    schema = project / "schemas" / "farm.yaml"
    assert "FILL IN" in schema.read_text()
    data_config = (project / "configs" / "data" / "farm.yaml").read_text()
    assert "task: regression" in data_config  # proposed from the target
    assert 'slices: ["soil"]' in data_config  # M6: the categorical feature
    assert f"path: {json.dumps(str(new_csv))}" in data_config
    checked = run([PYTHON, "-m", f"{module}.validate", "data=farm"], project, env=env)
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert "FILL IN" in checked.stdout + checked.stderr, "drafted descriptions are named"
    done = run([PYTHON, "-m", f"{module}.train", "data=farm"], project, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "val/rmse" in done.stdout
    again = run(infer, project, env=env)
    assert again.returncode == 2, "a draft must never overwrite a reviewed schema"
    assert "never overwrites" in again.stderr
