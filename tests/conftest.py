"""Helpers shared by the template tests: bake a project and describe what a bake must contain."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
PYTHON = sys.executable  # the template's .venv holds every generated project's dependencies

# Files every bake has, with the package directory written as {pkg}.
COMMON_FILES = frozenset(
    {
        ".cruft.json",
        ".gitignore",
        ".pre-commit-config.yaml",
        "CODEOWNERS",
        "LICENSE",
        "Makefile",
        "PRACTICES.md",
        "README.md",
        "docs/recipes.md",
        "pyproject.toml",
        "schemas/sample.yaml",
        "configs/config.yaml",
        "configs/train.yaml",
        "configs/tune.yaml",
        "configs/validate.yaml",
        "configs/evaluate.yaml",
        "configs/predict.yaml",
        "configs/serve.yaml",
        "configs/monitor.yaml",
        "configs/rollback.yaml",
        "configs/audit.yaml",
        "configs/card.yaml",
        "configs/card/default.yaml",
        "configs/data/sample.yaml",
        "configs/experiment/baseline.yaml",
        "configs/experiment/batch_sweep.yaml",
        "configs/experiment/lr_too_high.yaml",
        "configs/experiment/mlp.yaml",
        "configs/experiment/optimizers.yaml",
        "configs/hydra/default.yaml",
        "configs/hydra/launcher/parallel.yaml",
        "configs/hydra/launcher/slurm.yaml",
        "configs/model/baseline.yaml",
        "configs/model/linear.yaml",
        "configs/model/mlp.yaml",
        "configs/paths/default.yaml",
        "configs/tracking/local.yaml",
        "configs/tracking/server.yaml",
        "data/README.md",
        "data/raw/.gitkeep",
        "notebooks/quickstart.ipynb",
        "src/{pkg}/__init__.py",
        "src/{pkg}/config.py",
        "src/{pkg}/data/__init__.py",
        "src/{pkg}/data/features.py",
        "src/{pkg}/data/infer.py",
        "src/{pkg}/data/io.py",
        "src/{pkg}/data/load.py",
        "src/{pkg}/data/report.py",
        "src/{pkg}/data/schema.py",
        "src/{pkg}/data/table_checks.py",
        "src/{pkg}/data/validation.py",
        "src/{pkg}/data/sample.py",
        "src/{pkg}/data/split.py",
        "src/{pkg}/data/tensors.py",
        "src/{pkg}/dataset.py",
        "src/{pkg}/errors.py",
        "src/{pkg}/infer_schema.py",
        "src/{pkg}/evaluation/__init__.py",
        "src/{pkg}/evaluation/gate.py",
        "src/{pkg}/evaluation/importance.py",
        "src/{pkg}/evaluation/metrics.py",
        "src/{pkg}/evaluation/plots.py",
        "src/{pkg}/evaluation/slices.py",
        "src/{pkg}/evaluate.py",
        "src/{pkg}/models/__init__.py",
        "src/{pkg}/models/base.py",
        "src/{pkg}/models/baseline.py",
        "src/{pkg}/models/linear.py",
        "src/{pkg}/models/mlp.py",
        "src/{pkg}/predict.py",
        "src/{pkg}/monitor.py",
        "src/{pkg}/audit.py",
        "src/{pkg}/card.py",
        "src/{pkg}/monitoring/__init__.py",
        "src/{pkg}/monitoring/age.py",
        "src/{pkg}/monitoring/drift.py",
        "src/{pkg}/monitoring/profile.py",
        "src/{pkg}/monitoring/report.py",
        "src/{pkg}/reports/__init__.py",
        "src/{pkg}/reports/html.py",
        "src/{pkg}/reports/markdown.py",
        "src/{pkg}/reports/audit.py",
        "src/{pkg}/reports/pytest_outcomes.py",
        "src/{pkg}/rollback.py",
        "src/{pkg}/serve.py",
        "src/{pkg}/serve_check.py",
        "src/{pkg}/train.py",
        "src/{pkg}/tune.py",
        "src/{pkg}/serving/__init__.py",
        "src/{pkg}/serving/budget.py",
        "src/{pkg}/serving/predictor.py",
        "src/{pkg}/serving/pyfunc_entry.py",
        "src/{pkg}/tracking/__init__.py",
        "src/{pkg}/tracking/card.py",
        "src/{pkg}/tracking/registry.py",
        "src/{pkg}/tracking/runs.py",
        "src/{pkg}/tracking/store.py",
        "src/{pkg}/tracking/summary.py",
        "src/{pkg}/tracking/sweep.py",
        "src/{pkg}/training/__init__.py",
        "src/{pkg}/training/advisor.py",
        "src/{pkg}/training/checkpoint.py",
        "src/{pkg}/training/distributed.py",
        "src/{pkg}/training/loop.py",
        "src/{pkg}/training/steps.py",
        "src/{pkg}/use_data.py",
        "src/{pkg}/validate.py",
        "tests/conftest.py",
        "tests/test_advisor.py",
        "tests/test_audit.py",
        "tests/test_baseline.py",
        "tests/test_card.py",
        "tests/test_cli.py",
        "tests/test_column_names.py",
        "tests/test_config.py",
        "tests/test_data.py",
        "tests/test_experiments.py",
        "tests/test_feature_columns.py",
        "tests/test_features.py",
        "tests/test_infer.py",
        "tests/test_serve_check.py",
        "tests/test_serving.py",
        "tests/test_sweeps.py",
        "tests/test_promotion.py",
        "tests/test_model_age.py",
        "tests/test_monitoring.py",
        "tests/test_notebook.py",
        "tests/test_reports.py",
        "tests/test_own_data.py",
        "tests/test_tracking.py",
        "tests/test_train.py",
        "tests/test_training.py",
        "tests/test_validation.py",
    }
)
# What each CI choice adds: its workflow and where the config-review checklist (P5) lives.
CI_FILES = {
    "github": {
        ".github/workflows/ci.yml",
        ".github/dependabot.yml",
        ".github/pull_request_template.md",
        "tests/test_ci.py",
    },
    "gitlab": {".gitlab-ci.yml", ".gitlab/merge_request_templates/Default.md", "tests/test_ci.py"},
    "none": {"docs/config-review-checklist.md"},
}


# Where each task's whole generated suite runs, once: the quick start's `make test` (the default
# task), the own-data flow's `make test` (its sample beside the user's table) and the recipes
# applied as written. A generated suite costs about 45 CPU-seconds; running one per task on a
# bake of its own as well would repeat each of them (test_generated.py checks this covers every
# task).
SUITE_TASKS = {
    "test_makefile.py": "binary_classification",
    "test_own_data.py": "multiclass_classification",
    "test_recipes.py": "regression",
}

# The modules whose tests take a minute or more (whole bakes through the command line), run
# first: `make test` hands tests out one at a time (`-n 2 --maxschedchunk=1`), so the longest
# start first and the short ones fill the gaps; a long test started last would leave the other
# core idle at the end.
HEAVY_FIRST = (
    "test_tracking_server.py",
    "test_own_data.py",
    "test_makefile.py",
    "test_recipes.py",
    "test_sweeps.py",
    "test_distributed.py",
    "test_generated.py",
    "test_adversarial.py",
    "test_browser.py",  # a bake's data, train and monitor, then Chromium: about a minute
    "test_audit.py",  # a bake's data and two `make audit` runs: about a minute of CPU
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order modules heaviest first (a stable sort: each module's own order is kept)."""

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return HEAVY_FIRST.index(name) if name in HEAVY_FIRST else len(HEAVY_FIRST)

    items.sort(key=rank)


def expected_files(package: str, ci: str) -> set[str]:
    """The exact relative file set of a bake with this package name and CI choice."""
    return {path.format(pkg=package) for path in COMMON_FILES} | CI_FILES[ci]


def baked_files(project: Path) -> set[str]:
    """Every file in a bake, relative to it (caches from running it are left out)."""
    skip = {"__pycache__", ".pytest_cache", ".ruff_cache"}
    return {
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file() and not skip & set(path.relative_to(project).parts)
    }


def bake_project(output_dir: Path, **answers: str) -> Path:
    """Bake the template non-interactively with ``answers``; return the project directory."""
    return Path(
        cookiecutter(
            str(TEMPLATE), no_input=True, output_dir=str(output_dir), extra_context=answers
        )
    )


def committed_bake(output_dir: Path, **answers: str) -> Path:
    """:func:`bake_project`, then the bake committed to a new git repository, as a user starts:
    runs then carry a real commit tag, and ``git status`` shows what a command wrote."""
    project = bake_project(output_dir, **answers)
    for command in (
        ["git", "init", "--quiet"],
        ["git", "add", "-A"],
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "bake"],
    ):
        assert run(command, project).returncode == 0
    return project


@pytest.fixture
def bake(tmp_path: Path) -> Callable[..., Path]:
    """Bake into this test's ``tmp_path``."""
    return lambda **answers: bake_project(tmp_path, **answers)


def run(
    command: list[str], cwd: Path, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``cwd`` with the template environment, capturing its output."""
    full_env = {**os.environ, "MLFLOW_TRACKING_URI": "", **(env or {})}
    full_env.pop("PYTEST_ADDOPTS", None)
    full_env.pop("PYTEST_XDIST_WORKER", None)
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env, check=False
    )


def make(
    project: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``make <args>`` in a bake, as a user types it, with the template's environment (its
    ``src/`` on the path)."""
    command = ["make", "--no-print-directory", f"PYTHON={PYTHON}", *args]
    return run(command, project, timeout, {"PYTHONPATH": str(project / "src"), **(env or {})})


def worktree(project: Path) -> set[str]:
    """What git sees in a bake besides its commit (new files, ignored or not; caches left out):
    a run that writes nothing into the project leaves this unchanged."""
    status = run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], project)
    caches = ("__pycache__/", ".pytest_cache/", ".ruff_cache/")
    return {line for line in status.stdout.splitlines() if not any(c in line for c in caches)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running(
    command: list[str], project: Path, url: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """Start a long-running target (``make serve``, ``make ui``, ``make mlflow-server``), wait
    until ``url`` answers, and stop it with everything it started when the block ends."""
    server = subprocess.Popen(
        command,
        cwd=project,
        env={
            **os.environ,
            "MLFLOW_TRACKING_URI": "",
            "PYTHONPATH": str(project / "src"),
            **(env or {}),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # make, python and the server's workers: stopped together
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-3000:]
                assert time.monotonic() < deadline, f"{command} did not answer {url}"
                time.sleep(0.5)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
