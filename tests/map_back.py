"""Format the generated project's Python with ruff and carry the result back into the template.

``make format-project``: bakes the default answers into ``build/format/``, runs ``ruff check
--fix`` and ``ruff format`` there (the project's own settings), and writes every changed ``.py``
file back to ``{{cookiecutter.project_slug}}/``, turning the package name back into its Jinja
variable. A file whose template holds other Jinja (``{{ cookiecutter.task }}`` in the tests'
conftest) is only reported: fix it by hand. Run it, then review ``git diff``.

``--check`` (part of ``make lint``): bake and run ``ruff check`` and ``ruff format --check`` on
the generated project, changing nothing, so a lint problem in generated code shows in seconds,
not after the template suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parents[1]
SOURCE = TEMPLATE / "{{cookiecutter.project_slug}}"
PACKAGE = "my_ml_project"
VARIABLE = "{{ cookiecutter.package_name }}"
PATH_VARIABLE = "{{cookiecutter.package_name}}"


def bake(out: Path) -> Path:
    """A fresh bake of the default answers in ``out``."""
    subprocess.run(["rm", "-rf", str(out)], check=True)
    return Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(out)))


def check() -> int:
    """Ruff on a fresh bake, changing nothing: non-zero when the generated code is not clean."""
    project = bake(TEMPLATE / "build" / "lint")
    codes = [
        subprocess.run([sys.executable, "-m", "ruff", *command], cwd=project, check=False)
        for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."])
    ]
    return max(done.returncode for done in codes)


def main() -> int:
    if sys.argv[1:] == ["--check"]:
        return check()
    project = bake(TEMPLATE / "build" / "format")
    before = {path: path.read_text(encoding="utf-8") for path in project.rglob("*.py")}
    for command in (["check", "--fix", "--quiet", "."], ["format", "--quiet", "."]):
        subprocess.run([sys.executable, "-m", "ruff", *command], cwd=project, check=False)
    manual = []
    for path, text in before.items():
        after = path.read_text(encoding="utf-8")
        if after == text:
            continue
        relative = path.relative_to(project).as_posix().replace(PACKAGE, PATH_VARIABLE)
        target = SOURCE / relative
        template = target.read_text(encoding="utf-8")
        if "{{" in template.replace(VARIABLE, "") or "{%" in template:
            manual.append(relative)
            continue
        target.write_text(after.replace(PACKAGE, VARIABLE), encoding="utf-8")
        print(f"formatted {relative}")
    for relative in manual:
        print(f"by hand (other Jinja in the template): {relative}")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=project, check=False)
    return 1 if manual else done.returncode


if __name__ == "__main__":
    sys.exit(main())
