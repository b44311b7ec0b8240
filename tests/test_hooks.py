"""Unit tests of the hooks, imported straight from ``hooks/`` (their Jinja line is inert there)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from conftest import TEMPLATE


def load_hook(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, TEMPLATE / "hooks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pre = load_hook("pre_gen_project")
post = load_hook("post_gen_project")

GOOD = {
    "project_name": "Churn Model",
    "project_slug": "churn-model",
    "package_name": "churn_model",
    "description": "Predicts churn.",
    "author_name": "Ada",
    "author_email": "ada@example.com",
}


def test_good_answers_pass() -> None:
    """Ordinary answers raise no problem."""
    assert pre.answer_problems(GOOD) == []
    assert pre.main(GOOD) == 0


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("class", "keyword"),
        ("match", "keyword"),
        ("3d_vision", "identifier"),
        ("my-model", "identifier"),
        ("Churn", "identifier"),
        ("café", "identifier"),
        ("test", "standard-library"),
        ("json", "standard-library"),
        ("torch", "dependency"),
        ("mlflow", "dependency"),
        ("hydra", "dependency"),
        ("pandas", "dependency"),
        ("sklearn", "dependency"),
        ("a" * 61, "characters long"),
    ],
)
def test_bad_package_names_are_refused_with_the_reason(name: str, reason: str) -> None:
    """Each bad package name gets a one-line reason that says what is wrong."""
    problem = pre.package_name_problem(name)
    assert problem is not None
    assert reason in problem
    assert "\n" not in problem


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("project_slug", "Churn Model", "kebab-case"),
        ("project_slug", "../escape", "kebab-case"),
        ("author_email", "not an email", "e-mail"),
        ("author_email", "a@b.c\n/configs/ @attacker", "e-mail"),
        ("description", "line one\nline two", "single line"),
        ("author_name", "Ada\r\nLovelace", "single line"),
        ("project_name", "   ", "empty"),
    ],
)
def test_other_bad_answers_are_refused(field: str, value: str, needle: str) -> None:
    """Slugs, e-mails and single-line fields are checked too."""
    problems = pre.answer_problems({**GOOD, field: value})
    assert any(needle in p for p in problems), problems


def test_main_prints_one_line_per_problem(capsys: pytest.CaptureFixture[str]) -> None:
    """Refusal is one ERROR line per problem on stderr and exit status 1, no traceback."""
    assert pre.main({**GOOD, "package_name": "torch", "author_email": "x"}) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2
    assert all(line.startswith("ERROR: ") for line in err)


def test_hooks_never_execute_answer_text() -> None:
    """The only Jinja in a hook is one ``tojson`` inside a raw single-quoted string."""
    for name in ("pre_gen_project", "post_gen_project"):
        source = (TEMPLATE / "hooks" / f"{name}.py").read_text(encoding="utf-8")
        jinja = [line for line in source.splitlines() if "{{" in line or "{%" in line]
        assert len(jinja) == 1, jinja
        assert "json.loads(r'{{ cookiecutter | tojson }}')" in jinja[0]


def make_tree(root: Path) -> None:
    for rel in (".github/workflows/ci.yml", ".github/pull_request_template.md", ".gitlab-ci.yml"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel, encoding="utf-8")


@pytest.mark.parametrize(
    ("ci", "kept"),
    [
        ("github", {".github/workflows/ci.yml", ".github/pull_request_template.md"}),
        ("gitlab", {".gitlab-ci.yml", ".gitlab/merge_request_templates/Default.md"}),
        ("none", {"docs/config-review-checklist.md"}),
    ],
)
def test_prune_keeps_only_the_chosen_ci(tmp_path: Path, ci: str, kept: set[str]) -> None:
    """Pruning leaves the chosen service's files and moves the checklist to where it is read."""
    make_tree(tmp_path)
    post.prune(tmp_path, ci)
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert files == kept
    checklist = next(iter(kept - {".github/workflows/ci.yml", ".gitlab-ci.yml"}))
    assert (tmp_path / checklist).read_text() == ".github/pull_request_template.md"


def test_record_answers_expands_github_shorthand(tmp_path: Path) -> None:
    """``gh:org/repo`` is written as the URL cruft needs; the output dir is not recorded."""
    answers = {**GOOD, "_template": "gh:org/cookiecutter-ml-pipeline", "_output_dir": "/tmp/x"}
    record = json.loads(post.record_answers(tmp_path, answers).read_text())
    assert record["template"] == "https://github.com/org/cookiecutter-ml-pipeline"
    assert record["commit"] is None
    assert "_output_dir" not in record["context"]["cookiecutter"]
    assert record["context"]["cookiecutter"]["package_name"] == "churn_model"


def test_record_answers_resolves_a_local_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative template path is resolved from where cookiecutter was started, not the bake."""
    monkeypatch.setenv("PWD", str(TEMPLATE.parent))
    answers = {**GOOD, "_template": TEMPLATE.name, "_repo_dir": TEMPLATE.name}
    record = json.loads(post.record_answers(tmp_path, answers).read_text())
    assert record["template"] == str(TEMPLATE)
