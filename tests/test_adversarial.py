"""Hostile or odd answers either bake a valid, working project or are refused cleanly."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from conftest import PYTHON, TEMPLATE, baked_files, run
from cookiecutter.exceptions import FailedHookException

INJECTION = "x'''\"\"\"; import os; os.system('touch /tmp/pwned') # $(touch /tmp/pwned) `id`"
# Answers that must bake: text fields may hold anything printable on one line.
ACCEPTED = {
    "quotes": {
        "project_name": 'The "Quoted" Model\'s Project',
        "description": "Say \"hi\" and 'bye'",
    },
    "backslashes": {"project_name": "Back\\slash Model", "author_name": "C:\\Users\\ada"},
    "unicode": {"project_name": "Prévision des ventes 🚀", "author_name": "Zoë Ångström 李雷"},
    "injection": {"description": INJECTION, "author_name": INJECTION},
    "very_long": {"project_name": "Extraordinarily " * 20 + "Long"},
    "keyword_name_renamed": {"project_name": "class", "package_name": "class_model"},
}
# Answers that must be refused by the pre-generation hook, and the reason it must give.
REFUSED = {
    "keyword": ({"project_name": "class"}, "keyword"),
    "torch": ({"project_name": "torch"}, "dependency"),
    "stdlib": ({"project_name": "test"}, "standard-library"),
    "leading_digits": ({"project_name": "3D Vision"}, "identifier"),
    "newline": ({"description": "first line\nsecond line"}, "single line"),
    "only_symbols": ({"project_name": "!!!"}, "kebab-case"),
    "bad_email": ({"author_email": "ada at example dot com"}, "e-mail"),
}


@pytest.mark.parametrize("answers", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_odd_answers_bake_a_valid_project(bake: Callable[..., Path], answers: dict) -> None:
    """The bake parses (TOML, YAML, Python), keeps the text verbatim, and its config composes."""
    project = bake(**answers)
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    if "description" in answers:
        assert pyproject["project"]["description"] == answers["description"]
    if "author_name" in answers:
        assert pyproject["project"]["authors"][0]["name"] == answers["author_name"]
    for rel in baked_files(project):
        text = (project / rel).read_text(encoding="utf-8")
        if rel.endswith((".yaml", ".yml")):
            yaml.safe_load(text)
        if rel.endswith(".py"):
            compile(text, rel, "exec")
    assert not Path("/tmp/pwned").exists()
    package = next((project / "src").iterdir()).name
    assert package.isidentifier()
    check = run(
        [
            PYTHON,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_config.py",
            "tests/test_baseline.py",
        ],
        project,
    )
    assert check.returncode == 0, check.stdout[-3000:]
    lint = run([PYTHON, "-m", "ruff", "check", "--no-cache", "."], project)
    fmt = run([PYTHON, "-m", "ruff", "format", "--check", "--no-cache", "."], project)
    assert lint.returncode == 0, lint.stdout
    assert fmt.returncode == 0, fmt.stdout


@pytest.mark.parametrize(("answers", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_bad_answers_are_refused_by_the_hook(
    bake: Callable[..., Path], tmp_path: Path, answers: dict, reason: str
) -> None:
    """The pre-generation hook refuses, and leaves no half-baked project behind."""
    with pytest.raises(FailedHookException):
        bake(**answers)
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]


def test_refusal_is_one_clear_line_without_traceback(tmp_path: Path) -> None:
    """On the command line the hook prints the reason on one line and never crashes.

    Cookiecutter itself then logs "Stopping generation" with a trace of its own hook runner;
    no frame of that trace may come from our hook.
    """
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "-o",
            str(tmp_path),
            str(TEMPLATE),
            "project_name=torch",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "ERROR: package_name 'torch' would shadow the dependency module 'torch'" in done.stderr
    frames = re.findall(r'File "([^"]+)"', done.stdout + done.stderr)
    assert all("/cookiecutter/" in frame for frame in frames), frames
    assert not list(tmp_path.iterdir())
