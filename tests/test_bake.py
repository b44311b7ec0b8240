"""Every option bakes the exact expected file set, with no template syntax left and valid files."""

from __future__ import annotations

import functools
import json
import re
import shutil
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import PYTHON, TEMPLATE, baked_files, expected_files, run

JINJA_LEFTOVER = re.compile(r"\{\{|\}\}|\{%|%\}")
# A covering set: every value of task, ci, license and python_version appears at least once.
COMBINATIONS = [
    {"task": "binary_classification", "ci": "github", "license": "MIT", "python_version": "3.11"},
    {
        "task": "multiclass_classification",
        "ci": "gitlab",
        "license": "BSD-3-Clause",
        "python_version": "3.10",
    },
    {"task": "regression", "ci": "none", "license": "Apache-2.0", "python_version": "3.13"},
    {"task": "regression", "ci": "github", "license": "Proprietary", "python_version": "3.12"},
]
LICENSE_MARKERS = {
    "MIT": "MIT License",
    "BSD-3-Clause": "BSD 3-Clause License",
    "Apache-2.0": "Apache License",
    "Proprietary": "All rights reserved.",
}
CI_CHECKLIST = {
    "github": ".github/pull_request_template.md",
    "gitlab": ".gitlab/merge_request_templates/Default.md",
    "none": "docs/config-review-checklist.md",
}
TARGETS = {
    "binary_classification": "churned",
    "multiclass_classification": "plan_tier",
    "regression": "next_year_spend_usd",
}


def combo_id(answers: dict[str, str]) -> str:
    return "-".join(answers[key] for key in ("task", "ci", "license", "python_version"))


@pytest.fixture(params=COMBINATIONS, ids=combo_id)
def baked(request: pytest.FixtureRequest, bake: Callable[..., Path]) -> tuple[Path, dict]:
    answers = request.param
    return bake(**answers), answers


def test_exact_file_set(baked: tuple[Path, dict]) -> None:
    """The bake holds exactly the expected files: nothing from unchosen options, nothing missing."""
    project, answers = baked
    assert baked_files(project) == expected_files("my_ml_project", answers["ci"])


def test_no_template_syntax_left(baked: tuple[Path, dict]) -> None:
    """No ``{{``, ``}}``, ``{%`` or ``%}`` survives in any file or path."""
    project, _ = baked
    for rel in baked_files(project):
        assert not JINJA_LEFTOVER.search(rel), rel
        text = (project / rel).read_text(encoding="utf-8")
        match = JINJA_LEFTOVER.search(text)
        assert match is None, f"{rel}: {text[max(0, match.start() - 40) : match.end() + 40]!r}"


def test_toml_and_yaml_parse(baked: tuple[Path, dict]) -> None:
    """pyproject.toml and every YAML file parse, and pyproject carries the chosen answers."""
    project, answers = baked
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["name"] == "my-ml-project"
    assert pyproject["project"]["requires-python"] == f">={answers['python_version']}"
    expected_license = (
        "LicenseRef-Proprietary" if answers["license"] == "Proprietary" else answers["license"]
    )
    assert pyproject["project"]["license"] == expected_license
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + answers["python_version"].replace(
        ".", ""
    )
    assert "dev" in pyproject["project"]["optional-dependencies"]
    for rel in baked_files(project):
        if rel.endswith((".yaml", ".yml")):
            assert yaml.safe_load((project / rel).read_text(encoding="utf-8")) is not None, rel


def test_task_sets_the_data_config(baked: tuple[Path, dict]) -> None:
    """The chosen task decides data.task and data.target in the reviewed config."""
    project, answers = baked
    data = yaml.safe_load((project / "configs/data/sample.yaml").read_text(encoding="utf-8"))
    assert data["task"] == answers["task"]
    assert data["target"] == TARGETS[answers["task"]]


def test_license_text_matches_choice(baked: tuple[Path, dict]) -> None:
    """LICENSE holds the chosen license's text (and the author for those that name one)."""
    project, answers = baked
    text = (project / "LICENSE").read_text(encoding="utf-8")
    assert LICENSE_MARKERS[answers["license"]] in text
    for other, marker in LICENSE_MARKERS.items():
        if other != answers["license"]:
            assert marker not in text
    if answers["license"] != "Apache-2.0":
        assert "Your Name" in text
    assert text.endswith("\n") and not text.startswith("\n")


def test_ci_workflow_runs_lint_and_tests_on_cpu_torch(baked: tuple[Path, dict]) -> None:
    """The chosen CI service installs CPU torch and runs `make lint` and `make test`."""
    project, answers = baked
    workflow = {"github": ".github/workflows/ci.yml", "gitlab": ".gitlab-ci.yml"}.get(answers["ci"])
    if workflow is None:
        assert not (project / ".github").exists()
        return
    text = (project / workflow).read_text(encoding="utf-8")
    for needle in ("whl/cpu", "make lint", "make test", answers["python_version"]):
        assert needle in text, needle


def test_config_review_checklist_is_in_place(baked: tuple[Path, dict]) -> None:
    """CODEOWNERS guards configs/ and the review checklist sits where the CI service reads it."""
    project, answers = baked
    assert "/configs/ you@example.com" in (project / "CODEOWNERS").read_text(encoding="utf-8")
    checklist = project / CI_CHECKLIST[answers["ci"]]
    assert "Config review checklist" in checklist.read_text(encoding="utf-8")


def test_answers_are_recorded_for_cruft(bake: Callable[..., Path]) -> None:
    """.cruft.json records the template, its commit when known, and every answer."""
    project = bake(task="regression", ci="none")
    record = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert record["template"] == str(TEMPLATE)
    answers = record["context"]["cookiecutter"]
    assert answers["task"] == "regression"
    assert answers["ci"] == "none"
    assert answers["package_name"] == "my_ml_project"
    assert set(record) >= {"template", "commit", "checkout", "context", "directory", "skip"}


def test_readme_names_only_existing_make_targets(bake: Callable[..., Path]) -> None:
    """Every `make <target>` the generated README mentions exists in its Makefile."""
    project = bake()
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.M))
    named = set(
        re.findall(r"make ([a-z][a-z-]*)", (project / "README.md").read_text(encoding="utf-8"))
    )
    assert named, "the README names no make targets"
    assert named <= targets, named - targets
    assert {"setup", "data", "train", "test", "lint", "ui", "help"} <= targets


def test_only_make_data_writes_data(bake: Callable[..., Path]) -> None:
    """Issue 9: no make target runs the sample generator behind the user's back (it once wrote
    over a user's table at data.path); only `make data` does. Checked on make's dry runs."""
    project = bake()
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.M)) - {"data", "setup"}
    variables = ["DATA=x.csv", "TARGET=y", "NAME=x"]
    for target in sorted(targets):
        done = run(["make", "-n", target, *variables], project)
        assert done.returncode == 0, (target, done.stderr)
        assert ".dataset" not in done.stdout, target
    assert ".dataset" in run(["make", "-n", "data"], project).stdout


def test_template_readme_names_only_existing_make_targets() -> None:
    """The template README's own commands (before it turns to generated projects) exist."""
    makefile = (TEMPLATE / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.M))
    readme = (TEMPLATE / "README.md").read_text(encoding="utf-8")
    own_part = readme.split("## Starting a project")[0]
    named = set(re.findall(r"make ([a-z][a-z-]*)", own_part))
    assert {"demo", "test", "bench"} <= named
    assert named <= targets, named - targets


# Every Python version the bake matrix above asks for.
MATRIX_PYTHONS = sorted({answers["python_version"] for answers in COMBINATIONS})


@functools.cache
def find_interpreter(version: str) -> str | None:
    """A working ``python<version>`` on this machine (PATH, then pyenv's versions) that reports
    that very version, or None."""
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(
        str(p) for p in Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}")
    )
    report = "import sys; print('%d.%d' % sys.version_info[:2])"
    for candidate in filter(None, candidates):
        done = run([candidate, "-c", report], Path.cwd())
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


def test_code_compiles_and_lints_for_the_chosen_python(baked: tuple[Path, dict]) -> None:
    """Checks that the bake's Python compiles under the chosen version's own interpreter and
    passes ruff with that ``target-version``. A version with no interpreter on this machine is
    skipped by name, after the ruff checks, never silently; and at least one version of the
    matrix must have an interpreter here, so the compile check can never be skipped everywhere."""
    project, answers = baked
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        done = run([PYTHON, "-m", "ruff", *command], project)
        assert done.returncode == 0, done.stdout + done.stderr
    exercised = [version for version in MATRIX_PYTHONS if find_interpreter(version)]
    assert exercised, (
        f"no interpreter on this machine for any Python of the bake matrix {MATRIX_PYTHONS} "
        "(looked on PATH and in ~/.pyenv/versions): the compile check would run for none"
    )
    version = answers["python_version"]
    interpreter = find_interpreter(version)
    if interpreter is None:
        pytest.skip(
            f"no python{version} interpreter on this machine (looked on PATH and in "
            f"~/.pyenv/versions/{version}.*): compile check not run for {version}; "
            f"it runs for {', '.join(exercised)}"
        )
    done = run([interpreter, "-m", "compileall", "-q", "src", "tests"], project)
    assert done.returncode == 0, done.stdout + done.stderr
