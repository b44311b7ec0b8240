"""Shape the baked project to the answers: prune what was not chosen, record the answers.

Runs inside the new project directory. Like the pre-generation hook, it receives the answers
as one JSON document in a raw string, so no answer text is executed; the functions are plain
Python and unit-tested by importing this file (``tests/test_hooks.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

PR_TEMPLATE = Path(".github/pull_request_template.md")
# Where the config-review checklist (practice P5) lives for each CI service.
CHECKLIST_HOME = {
    "github": PR_TEMPLATE,
    "gitlab": Path(".gitlab/merge_request_templates/Default.md"),
    "none": Path("docs/config-review-checklist.md"),
}
# Files that belong to one CI service only.
CI_FILES = {
    "github": [Path(".github/workflows")],
    "gitlab": [Path(".gitlab-ci.yml")],
    "none": [],
}


def prune(project: Path, ci: str) -> None:
    """Remove the other CI services' files and put the review checklist where ``ci`` reads it."""
    for service, paths in CI_FILES.items():
        if service == ci:
            continue
        for rel in paths:
            target = project / rel
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    home = project / CHECKLIST_HOME[ci]
    if home != project / PR_TEMPLATE:
        home.parent.mkdir(parents=True, exist_ok=True)
        (project / PR_TEMPLATE).replace(home)
        github_dir = project / ".github"
        if github_dir.is_dir() and not any(github_dir.iterdir()):
            github_dir.rmdir()


def resolve_local(path: str) -> Path | None:
    """An absolute path for a local template location, or None for a remote one.

    Cookiecutter runs this hook inside the new project, so a relative location is resolved
    against the directory cookiecutter was started from (``PWD`` is inherited from it).
    """
    if not path or "://" in path or path.startswith(("gh:", "gl:", "bb:", "git@")):
        return None
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = Path(os.environ.get("PWD", ".")) / candidate
    return candidate.resolve() if candidate.is_dir() else None


def template_source(answers: dict[str, object]) -> tuple[str, str | None]:
    """The template's location (as cruft expects it) and its git commit when known."""
    template = str(answers.get("_template", ""))
    for short, url in (("gh:", "https://github.com/"), ("gl:", "https://gitlab.com/")):
        if template.startswith(short):
            template = url + template[len(short) :]
    local_template = resolve_local(template)
    if local_template is not None:
        template = str(local_template)
    checkout = resolve_local(str(answers.get("_repo_dir", ""))) or local_template
    commit = None
    if checkout is not None:
        probe = subprocess.run(
            ["git", "-C", str(checkout), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip():
            commit = probe.stdout.strip()
    return template, commit


def record_answers(project: Path, answers: dict[str, object]) -> Path:
    """Write ``.cruft.json`` so ``cruft update`` can later apply a newer template."""
    template, commit = template_source(answers)
    context = {key: value for key, value in answers.items() if key != "_output_dir"}
    record = {
        "template": template,
        "commit": commit,
        "checkout": answers.get("_checkout"),
        "context": {"cookiecutter": context},
        "directory": None,
        "skip": [".git", "data/raw", "data/sample", "mlflow.db", "mlartifacts", "logs"],
    }
    path = project / ".cruft.json"
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def main(answers: dict[str, object], project: Path) -> int:
    """Prune and record; return the exit status for cookiecutter."""
    prune(project, str(answers["ci"]))
    record_answers(project, answers)
    return 0


if __name__ == "__main__":
    # Single quotes on purpose: tojson escapes every ' but not ", so no answer can end the string.
    sys.exit(main(json.loads(r'{{ cookiecutter | tojson }}'), Path.cwd()))  # fmt: skip
