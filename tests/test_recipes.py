"""Issue 11, a guide for the next person: the generated ``docs/recipes.md`` works as written, and
the generated ``PRACTICES.md`` explains every practice id the project cites.

The recipes are applied straight from the baked ``docs/recipes.md``, so the guide cannot drift
from what is tested. A step there is a bold line naming a file and what to do with it (create
it, append to it, or add or replace around the one line that contains a quoted text), followed
by a code block: exactly what gets written. A step that no longer fits the code (a file moved,
its anchor line changed or repeated) fails here, naming the step.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import PYTHON, SUITE_TASKS, bake_project, committed_bake, run, worktree

FILE_STEP = re.compile(r"\*\*(?P<action>Create|Append to) `(?P<path>[^`]+)`:\*\*")
LINE_STEP = re.compile(
    r"\*\*In `(?P<path>[^`]+)`, (?:(?P<action>after|before) the line with `(?P<anchor>[^`]+)`"
    r"|replace the line with `(?P<replaced>[^`]+)` by):\*\*"
)
LOOKS_LIKE_A_STEP = re.compile(r"\*\*(?:Create|Append to|In) `")
FENCE = "```"
RECIPES = 5
OUTCOME = {"failure": "failed", "error": "error", "skipped": "skipped"}  # JUnit's tags
# Practice ids as the project cites them (P3, F4, T7, M6, I4, Mo2) and as PRACTICES.md defines
# them: a list item that starts with the id.
CITED = re.compile(r"(?<![\w-])(?:Mo|[PFTMI])[1-9](?!\w)")
DEFINED = re.compile(r"^- ((?:Mo|[PFTMI])[1-9]) ", flags=re.M)


class RecipeError(Exception):
    """A step of the guide that cannot be applied as written."""


@dataclass(frozen=True)
class Step:
    """One step: ``action`` is create, append, after, before or replace; ``anchor`` the text
    the one line to act on contains; ``block`` the code block, verbatim."""

    recipe: str
    action: str
    path: str
    anchor: str | None
    block: str

    def __str__(self) -> str:
        around = f" the line with {self.anchor!r}" if self.anchor else ""
        return f"[{self.recipe}] {self.path}: {self.action}{around}"


def parse_steps(text: str) -> list[Step]:
    """Every step of a guide, in order, under the ``##`` heading of its recipe."""
    lines = text.splitlines()
    steps: list[Step] = []
    recipe, index, in_block = "", 0, False
    while index < len(lines):
        line = lines[index]
        if line.startswith(FENCE):
            in_block = not in_block
        elif not in_block and line.startswith("## "):
            recipe = line.removeprefix("## ").strip()
        elif not in_block and LOOKS_LIKE_A_STEP.match(line):
            step, index = _step(recipe, lines, index)
            steps.append(step)
        index += 1
    return steps


def _step(recipe: str, lines: list[str], index: int) -> tuple[Step, int]:
    """The step whose bold line is ``lines[index]``, and the index of its closing fence."""
    line = lines[index]
    if found := FILE_STEP.fullmatch(line):
        action = "create" if found["action"] == "Create" else "append"
        head = (action, found["path"], None)
    elif found := LINE_STEP.fullmatch(line):
        action = found["action"] or "replace"
        head = (action, found["path"], found["anchor"] or found["replaced"])
    else:
        raise RecipeError(f"[{recipe}] a step line that says no known action: {line!r}")
    start = index + 1
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start == len(lines) or not lines[start].startswith(FENCE):
        raise RecipeError(f"[{recipe}] a step without its code block: {line!r}")
    end = start + 1
    while end < len(lines) and lines[end] != FENCE:
        end += 1
    if end == len(lines):
        raise RecipeError(f"[{recipe}] a code block that is never closed: {line!r}")
    block = "".join(f"{text}\n" for text in lines[start + 1 : end])
    return Step(recipe, *head, block), end


def apply_step(step: Step, project: Path) -> None:
    """Do what ``step`` says in ``project``, or raise :class:`RecipeError` saying why not."""
    target = project / step.path
    if step.action == "create":
        if target.exists():
            raise RecipeError(f"{step}: the file exists already")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(step.block, encoding="utf-8")
        return
    if not target.is_file():
        raise RecipeError(f"{step}: no such file")
    text = target.read_text(encoding="utf-8")
    if step.action == "append":
        target.write_text(text + ("" if text.endswith("\n") else "\n") + step.block)
        return
    lines = text.splitlines(keepends=True)
    hits = [number for number, line in enumerate(lines) if step.anchor in line]
    if len(hits) != 1:
        raise RecipeError(f"{step}: {len(hits)} lines hold the quoted text, not exactly one")
    (at,) = hits
    block = step.block.splitlines(keepends=True)
    span = {"after": (at + 1, at + 1), "before": (at, at), "replace": (at, at + 1)}[step.action]
    lines[span[0] : span[1]] = block
    target.write_text("".join(lines), encoding="utf-8")


def outcomes(junit: Path) -> dict[str, list[str]]:
    """Each test file's outcomes (passed, failed, error, skipped) from a JUnit XML report."""
    found: dict[str, list[str]] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        # tests.test_x (no classes); a file that fails to collect has it as its name instead
        module = case.get("classname") or case.get("name", "")
        file = module.replace(".", "/") + ".py"
        kinds = [OUTCOME[child.tag] for child in case if child.tag in OUTCOME]
        found.setdefault(file, []).append(kinds[0] if kinds else "passed")
    return found


def pytest_in(
    project: Path, junit: Path, *paths: str, workers: int = 2
) -> tuple[int, str, dict[str, list[str]]]:
    """Run the bake's tests (``paths``, or all; 0 workers: in one process): exit code, output
    and each file's outcomes."""
    command = [PYTHON, "-m", "pytest", "-n", str(workers), "-q", "-p", "no:cacheprovider"]
    done = run([*command, f"--junitxml={junit}", *paths], project, timeout=600)
    output = done.stdout[-4000:] + done.stderr[-2000:]
    assert junit.is_file(), output
    return done.returncode, output, outcomes(junit)


def baked_guide(directory: Path, **answers: str) -> tuple[Path, list[Step], dict[str, str]]:
    """A fresh bake, the steps of its guide, and each recipe's own test file (path: recipe).
    The guide must have :data:`RECIPES` recipes, each creating exactly one test file."""
    project = committed_bake(directory, **answers)  # committed: git shows what a test wrote
    steps = parse_steps((project / "docs" / "recipes.md").read_text(encoding="utf-8"))
    recipes = list(dict.fromkeys(step.recipe for step in steps))
    assert len(recipes) == RECIPES, recipes
    tests: dict[str, str] = {}
    for recipe in recipes:
        own = [
            s.path
            for s in steps
            if s.recipe == recipe and s.action == "create" and s.path.startswith("tests/test_")
        ]
        assert len(own) == 1, f"[{recipe}] needs exactly one test file of its own, has {own}"
        tests[own[0]] = recipe
    return project, steps, tests


def test_each_recipes_test_fails_without_the_recipe(tmp_path: Path) -> None:
    """Only the recipes' test files added to a fresh bake: every one of them fails, so each
    tests its recipe, not what the project did already."""
    project, steps, tests = baked_guide(tmp_path / "bake")
    for step in steps:
        if step.path in tests:
            apply_step(step, project)
    _, output, outcome = pytest_in(project, tmp_path / "junit.xml", *tests, workers=0)
    for path, recipe in tests.items():
        assert {"failed", "error"} & set(outcome.get(path, [])), (
            f"[{recipe}] {path} passes without the recipe's code: it does not test the recipe\n"
            + output
        )


def test_every_recipe_applied_as_written_passes_the_projects_tests(tmp_path: Path) -> None:
    """The five recipes of ``docs/recipes.md`` applied to a fresh bake exactly as written: the
    bake is ruff-clean and its whole suite passes, each recipe's own test included (a model
    that trains and beats the baseline, a contract check that names the column and the check,
    a drift check that flags a planted change, a metric on every run, a slice scored), and
    leaves the project as it found it. The bake is the regression task's: this is where that
    task's whole suite runs (``SUITE_TASKS``)."""
    project, steps, tests = baked_guide(tmp_path / "bake", task=SUITE_TASKS["test_recipes.py"])
    for step in steps:
        apply_step(step, project)
    # The guide's `make format lint`: the formatter may add blank lines around a new class,
    # but the code as written must pass the linter.
    for command in (["format"], ["check"], ["format", "--check"]):
        done = run([PYTHON, "-m", "ruff", *command, "--no-cache", "."], project)
        assert done.returncode == 0, done.stdout + done.stderr
    before = worktree(project)
    code, output, outcome = pytest_in(project, tmp_path / "junit.xml", workers=0)
    assert code == 0, output
    assert worktree(project) == before, "every output of a test goes to its temporary directory"
    for path, recipe in tests.items():
        assert outcome.get(path) and set(outcome[path]) == {"passed"}, (
            f"[{recipe}] {path}: {outcome.get(path)}\n{output}"
        )


@pytest.mark.parametrize(
    ("guide", "reason"),
    [
        ("**In `a.py`, after the line with `gone`:**\n\n```python\nx = 1\n```\n", "0 lines"),
        ("**In `a.py`, replace the line with `= 1` by:**\n\n```python\nx = 1\n```\n", "2 lines"),
        ("**Create `a.py`:**\n\n```python\nx = 1\n```\n", "exists already"),
        ("**Append to `b.py`:**\n\n```python\nx = 1\n```\n", "no such file"),
    ],
)
def test_a_step_that_no_longer_fits_the_code_is_refused(
    tmp_path: Path, guide: str, reason: str
) -> None:
    """A step whose anchor line is gone or not unique, a file to create that exists, or a file
    to edit that does not, is refused naming the step, never applied somewhere else."""
    (tmp_path / "a.py").write_text("a = 1\nb = 1\n")
    (step,) = parse_steps("## A recipe\n\n" + guide)
    with pytest.raises(RecipeError, match=reason) as caught:
        apply_step(step, tmp_path)
    assert "[A recipe]" in str(caught.value)
    assert (tmp_path / "a.py").read_text() == "a = 1\nb = 1\n"


@pytest.mark.parametrize(
    "guide",
    [
        "**Create `a.py`:**\n\nno code block here\n",
        "**Create `a.py`:**\n\n```python\nx = 1\n",
        "**In `a.py`, after `x = 1`:**\n\n```python\nx = 1\n```\n",
        "**Append to `a.py`**\n\n```python\nx = 1\n```\n",
    ],
)
def test_a_step_that_cannot_be_read_is_refused(guide: str) -> None:
    """A step line without its code block, with an unclosed block, or not in one of the forms
    the guide defines, fails parsing instead of being skipped (a skipped step would leave part
    of the guide untested)."""
    with pytest.raises(RecipeError, match=r"\[A recipe\]"):
        parse_steps("## A recipe\n\n" + guide)


@pytest.fixture(scope="module")
def fresh_bake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bake_project(tmp_path_factory.mktemp("guide"))


def test_practices_explain_every_practice_id_the_project_cites(fresh_bake: Path) -> None:
    """Every id the code, configs, tests and docs cite (``F3``, ``T4``, ``M6``, ``I4``,
    ``Mo2``, ...) is defined in the project's ``PRACTICES.md``."""
    defined = set(DEFINED.findall((fresh_bake / "PRACTICES.md").read_text(encoding="utf-8")))
    cited: dict[str, str] = {}
    for path in sorted(fresh_bake.rglob("*")):
        if path.is_file() and path.name not in ("PRACTICES.md", "LICENSE"):
            for found in CITED.findall(path.read_text(encoding="utf-8")):
                cited.setdefault(found, path.relative_to(fresh_bake).as_posix())
    assert {"P1", "F3", "T4", "M6", "I4", "Mo2"} <= set(cited)
    missing = {found: where for found, where in cited.items() if found not in defined}
    assert not missing, f"cited but not explained in PRACTICES.md (id: first file): {missing}"


def test_the_readme_points_to_the_recipes_and_the_practices(fresh_bake: Path) -> None:
    """The generated README names both guides, and both ship in the bake."""
    readme = (fresh_bake / "README.md").read_text(encoding="utf-8")
    for guide in ("docs/recipes.md", "PRACTICES.md"):
        assert f"`{guide}`" in readme, guide
        assert (fresh_bake / guide).is_file(), guide
