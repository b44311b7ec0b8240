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
    "github": [Path(".github/workflows"), Path(".github/dependabot.yml")],
    "gitlab": [Path(".gitlab-ci.yml")],
    "none": [],
}
# Files for any CI service, removed when there is none (the test of its weekly schedule, Mo1).
ANY_CI_FILES = [Path("tests/test_ci.py")]


def prune(project: Path, ci: str) -> None:
    """Remove the other CI services' files and put the review checklist where ``ci`` reads it."""
    others = [rel for service, paths in CI_FILES.items() if service != ci for rel in paths]
    for rel in others + (ANY_CI_FILES if ci == "none" else []):
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


# Keys cookiecutter's own entry point adds to the answers for this one run: where it wrote the
# project, its working copy of the template and the --checkout flag (recorded at the top level).
RUN_KEYS = frozenset({"_output_dir", "_repo_dir", "_checkout"})
# What ``cruft update`` must never diff or patch: data and run outputs, and ``.cruft.json``
# itself (cruft rewrites it after every update; it is not a template file).
CRUFT_SKIP = [".cruft.json", ".git", "data/raw", "data/sample", "mlflow.db", "mlartifacts", "logs"]


def made_by_cruft(answers: dict[str, object]) -> bool:
    """True when cruft itself is generating (``cruft create``, or the two throw-away bakes
    ``cruft update`` and ``cruft diff`` compare), and it writes ``.cruft.json`` itself.

    Cruft calls cookiecutter's ``generate_files`` with a context of its own, which always has
    ``_commit``; cookiecutter's entry point (its CLI and ``cookiecutter()``) never sets
    ``_commit`` and always sets ``_output_dir``.
    """
    return "_commit" in answers and "_output_dir" not in answers


def start_dirs(answers: dict[str, object]) -> list[Path]:
    """Where cookiecutter may have been started, most trusted first, to resolve relative paths.

    This hook runs inside the new project, so the start directory is not the working directory:
    ``PWD`` is the shell's directory (inherited; stale only if a caller changed directory
    without a shell), and ``_output_dir`` is the start directory when no ``--output-dir`` was
    given (it is the absolute form of that option).
    """
    dirs = [os.environ.get("PWD", ""), str(answers.get("_output_dir") or "")]
    return [Path(d) for d in dirs if d and Path(d).is_absolute()]


def resolve_local(path: str, answers: dict[str, object] | None = None) -> Path | None:
    """An absolute path for a local template location, or None for a remote or unknown one.

    A relative location is resolved against the first start directory (see ``start_dirs``)
    under which it is a cookiecutter template (a directory with ``cookiecutter.json``).
    """
    if not path or "://" in path or path.startswith(("gh:", "gl:", "bb:", "git@")):
        return None
    candidate = Path(path).expanduser()
    if candidate.is_absolute():
        return candidate.resolve() if candidate.is_dir() else None
    for base in start_dirs(answers or {}):
        if (base / candidate / "cookiecutter.json").is_file():
            return (base / candidate).resolve()
    return None


def template_source(answers: dict[str, object]) -> tuple[str, str | None, Path | None]:
    """The template's location (as cruft expects it: a URL or an absolute path), its git commit
    when known, and the local checkout cookiecutter rendered (None when unknown)."""
    template = str(answers.get("_template", ""))
    for short, url in (("gh:", "https://github.com/"), ("gl:", "https://gitlab.com/")):
        if template.startswith(short):
            template = url + template[len(short) :]
    local_template = resolve_local(template, answers)
    if local_template is not None:
        template = str(local_template)
    checkout = resolve_local(str(answers.get("_repo_dir", "")), answers) or local_template
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
    return template, commit, checkout


def question_order(checkout: Path | None) -> list[str]:
    """The keys of the template's ``cookiecutter.json`` in its order (empty when unreadable).

    The answers reach this hook key-sorted (Jinja's ``tojson`` sorts), while cruft records them
    in the order of the questions; this puts them back in that order.
    """
    if checkout is None:
        return []
    try:
        questions = json.loads((checkout / "cookiecutter.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return list(questions) if isinstance(questions, dict) else []


def cruft_record(answers: dict[str, object]) -> dict[str, object]:
    """The ``.cruft.json`` that ``cruft create`` would write for these answers.

    The same keys in the same order: the template's location, the commit, the checkout,
    the answers in question order with cruft's ``_template`` and ``_commit`` last (without the
    keys that only describe this run of cookiecutter), then ``directory`` and ``skip``.
    """
    template, commit, checkout = template_source(answers)
    order = {key: index for index, key in enumerate(question_order(checkout))}
    kept = [key for key in answers if key not in RUN_KEYS | {"_template", "_commit"}]
    kept.sort(key=lambda key: order.get(key, len(order)))
    context = {key: answers[key] for key in kept}
    context["_template"] = template
    context["_commit"] = commit
    return {
        "template": template,
        "commit": commit,
        "checkout": answers.get("_checkout"),
        "context": {"cookiecutter": context},
        "directory": None,
        "skip": list(CRUFT_SKIP),
    }


def record_answers(project: Path, answers: dict[str, object]) -> Path:
    """Write ``.cruft.json`` so ``cruft update`` can later apply a newer template.

    Written byte for byte as cruft writes it (its ``json_dumps``), so cruft's own rewrite after
    an update changes only the commit.
    """
    text = json.dumps(cruft_record(answers), ensure_ascii=False, indent=2, separators=(",", ": "))
    path = project / ".cruft.json"
    path.write_text(text + "\n", encoding="utf-8")
    return path


def main(answers: dict[str, object], project: Path) -> int:
    """Prune and record; return the exit status for cookiecutter.

    Under cruft the answers are not recorded: cruft writes ``.cruft.json`` after generating,
    and a file written here would land in the two bakes ``cruft update`` compares, where it
    differs by the commit, so the update would patch it and leave ``.cruft.json.rej``.
    """
    prune(project, str(answers["ci"]))
    if not made_by_cruft(answers):
        record_answers(project, answers)
    return 0


if __name__ == "__main__":
    # Single quotes on purpose: tojson escapes every ' but not ", so no answer can end the string.
    sys.exit(main(json.loads(r'{{ cookiecutter | tojson }}'), Path.cwd()))  # fmt: skip
