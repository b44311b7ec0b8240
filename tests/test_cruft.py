"""Issue 10, item 11: `cruft update` applies a template change to a baked project, no conflict.

The round trip runs the real `cruft` on a git copy of this template in ``tmp_path`` (local
paths only, no network): bake, commit the project, commit a change to one generated file in
the template, `cruft check` (out of date), `cruft update -y`, then the change is in the project,
no ``*.rej`` file is left anywhere and `cruft check` says up to date. Both ways of baking are
covered: plain `cookiecutter` (the README's way; the post-generation hook writes
``.cruft.json``) and `cruft create` (cruft writes it).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE, run

CHANGED_FILE = "Makefile"  # the generated file the newer template changes
CHANGE = "# A line from a newer template.\n"


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` (the environment is isolated by the ``isolated`` fixture)."""
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No user-level git or cookiecutter configuration, and a git identity for the commits."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "gitconfig").write_text("", encoding="utf-8")
    config = home / "cookiecutterrc"
    config.write_text(
        f"cookiecutters_dir: {home / 'cookiecutters'}\nreplay_dir: {home / 'replay'}\n",
        encoding="utf-8",
    )
    for name, value in {
        "COOKIECUTTER_CONFIG": str(config),
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Template Test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Template Test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path


@pytest.fixture
def template_repo(isolated: Path) -> Path:
    """This template's files (as they are in the work tree) committed to a new git repository."""
    repo = isolated / "template"
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache")
    shutil.copy2(TEMPLATE / "cookiecutter.json", repo / "cookiecutter.json")
    for folder in ("hooks", "{{cookiecutter.project_slug}}"):
        shutil.copytree(TEMPLATE / folder, repo / folder, ignore=ignore)
    git(repo, "init", "--quiet")
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", "Template")
    return repo


def bake(flow: str, template: Path, start: Path) -> Path:
    """Bake with the defaults from ``start``, naming the template by a relative path as a user
    in the directory next to it would."""
    start.mkdir()
    relative = Path("..") / template.name
    if flow == "cookiecutter":
        command = [sys.executable, "-m", "cookiecutter", str(relative), "--no-input"]
    else:
        command = [sys.executable, "-m", "cruft", "create", str(relative), "--no-input"]
    done = run(command, cwd=start, timeout=120, env={"PWD": str(start)})  # as a shell sets it
    assert done.returncode == 0, done.stdout + done.stderr
    (project,) = start.iterdir()
    return project


def cruft(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "cruft", *args], cwd=project, timeout=120)


@pytest.mark.parametrize("flow", ["cookiecutter", "cruft create"])
def test_cruft_update_applies_a_template_change_without_conflict(
    flow: str, template_repo: Path, isolated: Path
) -> None:
    """The acceptance of issue 10, item 11, with the real cruft, for both ways of baking."""
    project = bake(flow, template_repo, isolated / "work")
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Start")
    recorded_text = (project / ".cruft.json").read_text(encoding="utf-8")
    recorded = json.loads(recorded_text)
    assert Path(recorded["template"]).resolve() == template_repo.resolve()
    assert recorded["commit"] == git(template_repo, "rev-parse", "HEAD")
    assert not {"_repo_dir", "_output_dir"} & set(recorded["context"]["cookiecutter"])

    with (template_repo / "{{cookiecutter.project_slug}}" / CHANGED_FILE).open("a") as file:
        file.write(CHANGE)
    git(template_repo, "commit", "--quiet", "--all", "--message", "A newer template")
    newer = git(template_repo, "rev-parse", "HEAD")

    check = cruft(project, "check")
    assert check.returncode == 1 and "out of date" in check.stdout, check.stdout + check.stderr
    update = cruft(project, "update", "-y")
    assert update.returncode == 0, update.stdout + update.stderr
    assert "conflicts" not in update.stdout + update.stderr, update.stdout + update.stderr

    assert (project / CHANGED_FILE).read_text(encoding="utf-8").endswith(CHANGE)
    leftovers = [p for p in project.rglob("*") if p.suffix in {".rej", ".orig"}]
    assert leftovers == [], leftovers
    status = git(project, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert {line.split(maxsplit=1)[1] for line in status} == {CHANGED_FILE, ".cruft.json"}, status
    # Cruft rewrote .cruft.json in its own format, which is the one it had: only the commit moved.
    updated_text = (project / ".cruft.json").read_text(encoding="utf-8")
    assert updated_text == recorded_text.replace(recorded["commit"], newer)
    check = cruft(project, "check")
    assert check.returncode == 0 and "up to date" in check.stdout, check.stdout + check.stderr
