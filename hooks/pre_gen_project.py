"""Refuse answers that would bake a broken project, with one clear line and no traceback.

Cookiecutter renders this file with Jinja before running it. The answers reach us only as
one JSON document inside a raw single-quoted string (Jinja's ``tojson`` writes every
``'`` as ``\\u0027`` and every newline as ``\\n``), so no answer
text is ever executed as Python. The functions below are plain Python and are unit-tested by
importing this file directly (``tests/test_hooks.py``).
"""

from __future__ import annotations

import json
import keyword
import re
import sys

# Modules a generated package must not shadow: its own dependencies and the tools it runs.
# (The standard library comes from ``sys.stdlib_module_names``, plus CPython's ``test``.)
DEPENDENCY_MODULES = frozenset(
    {
        "conftest",
        "cookiecutter",
        "hydra",
        "matplotlib",
        "mlflow",
        "numpy",
        "omegaconf",
        "pandas",
        "pandera",
        "pytest",
        "ruff",
        "scipy",
        "setuptools",
        "sklearn",
        "src",
        "tests",
        "torch",
        "yaml",
    }
)
MAX_NAME_LENGTH = 60
STDLIB_MODULES = frozenset(sys.stdlib_module_names) | {"test"}
NO_SLUG = "_"  # what cookiecutter.json derives when project_name slugifies to nothing
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PACKAGE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")
SINGLE_LINE_FIELDS = ("project_name", "description", "author_name")


def package_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the importable package, or None when it can."""
    if not name:
        return "package_name is empty: give the project a name with at least one letter"
    if len(name) > MAX_NAME_LENGTH:
        return f"package_name is {len(name)} characters long; keep it to {MAX_NAME_LENGTH}"
    if not PACKAGE_RE.match(name) or not name.isidentifier():
        return (
            f"package_name {name!r} is not a lowercase Python identifier "
            "(letters, digits and underscores, not starting with a digit)"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"package_name {name!r} is a Python keyword"
    if name in STDLIB_MODULES:
        return f"package_name {name!r} would shadow the standard-library module {name!r}"
    if name in DEPENDENCY_MODULES:
        return f"package_name {name!r} would shadow the dependency module {name!r}"
    return None


def answer_problems(answers: dict[str, object]) -> list[str]:
    """Every problem with the answers, each as one line that says what to change."""
    problems = []
    slug = str(answers.get("project_slug", ""))
    if slug == NO_SLUG:
        name = answers.get("project_name", "")
        problems.append(
            f"project_name {name!r} has no letters or digits to make project_slug from; "
            "choose another name or pass project_slug=<name>"
        )
    elif not SLUG_RE.match(slug) or len(slug) > MAX_NAME_LENGTH:
        problems.append(
            f"project_slug {slug!r} must be kebab-case ASCII (a-z, 0-9, '-'), "
            f"1 to {MAX_NAME_LENGTH} characters"
        )
    package_problem = package_name_problem(str(answers.get("package_name", "")))
    if package_problem:
        problems.append(package_problem + "; pass package_name=<name> to choose another")
    email = str(answers.get("author_email", ""))
    if not EMAIL_RE.match(email):
        problems.append(f"author_email {email!r} is not an e-mail address like you@example.com")
    for field in SINGLE_LINE_FIELDS:
        value = str(answers.get(field, ""))
        if any(ch in value for ch in "\r\n\x00"):
            problems.append(f"{field} must be a single line of text")
        if field == "project_name" and not value.strip():
            problems.append("project_name is empty")
    return problems


def main(answers: dict[str, object]) -> int:
    """Print the problems (one line each) and return the exit status for cookiecutter."""
    problems = answer_problems(answers)
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    # Single quotes on purpose: tojson escapes every ' but not ", so no answer can end the string.
    sys.exit(main(json.loads(r'{{ cookiecutter | tojson }}')))  # fmt: skip
