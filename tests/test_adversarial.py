"""Hostile or odd answers either bake a valid, working project or are refused cleanly."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import cookiecutter.prompt
import pytest
import yaml
from conftest import PYTHON, TEMPLATE, baked_files, run
from cookiecutter.exceptions import FailedHookException, UndefinedVariableInTemplate
from cookiecutter.main import cookiecutter as cookiecutter_main
from jinja2 import TemplateSyntaxError

QUESTIONS = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
TEXT_FIELDS = ("project_name", "description", "author_name", "author_email")
INJECTION = "x'''\"\"\"; import os; os.system('touch /tmp/pwned') # $(touch /tmp/pwned) `id`"
# Answers that must bake: each kind of printable text in every free-text field, kept verbatim.
ACCEPTED = {
    "quotes": {
        "project_name": 'The "Quoted" Model\'s Project',
        "description": "Say \"hi\" and 'bye', {braces} }} %} #}",
        "author_name": 'Ada "The Countess" O\'Lovelace',
        "author_email": "o'lovelace+ml@example.com",
    },
    "backslashes": {
        "project_name": "Back\\slash Model",
        "description": "Reads C:\\data\\ and ends with \\",
        "author_name": "C:\\Users\\ada\\",
    },
    # Outside the Basic Multilingual Plane: tojson wrote these as surrogate pairs, invalid TOML.
    "astral": {
        "project_name": "Prévision des ventes 🚀",
        "description": "Ships 🚀 models 𝄞 fast, by 👩‍💻 李雷",
        "author_name": "Zoë Ångström 🦄",
        "author_email": "zoe@exämple.com",
    },
    "injection": {"description": INJECTION, "author_name": INJECTION},
    "very_long": {"project_name": "Extraordinarily " * 20 + "Long"},
    "keyword_name_renamed": {"project_name": "class", "package_name": "class_model"},
}
# What no one-line answer may hold: each is tried in every free-text field, and refused with
# exactly one line that names the field.
UNPRINTABLE = {
    "line_separator": "a\u2028b",
    "paragraph_separator": "a\u2029b",
    "next_line": "a\x85b",
    "newline": "a\nb",
    "escape": "a\x1bb",
    "nul": "a\x00b",
    "jinja_raw": "{% raw %}",  # rendered to "" before the hook runs
    "jinja_comment": "a {# b #} c",  # rendered to "a  c"
    "jinja_expression": "a {{ 7 * 7 }} b",  # rendered to "a 49 b"
}
# Answers that must be refused by the pre-generation hook, and the start of each ERROR line.
REFUSED = {
    "keyword": ({"project_name": "class"}, ["package_name 'class' is a Python keyword"]),
    "torch": (
        {"project_name": "torch"},
        [
            "project_slug 'torch' is the distribution name of the dependency 'torch'",
            "package_name 'torch' would shadow the dependency module 'torch'",
        ],
    ),
    "mlflow_distribution": (
        {"project_name": "mlflow", "package_name": "mlflow_app"},
        ["project_slug 'mlflow' is the distribution name of the dependency 'mlflow'"],
    ),
    "rich": ({"package_name": "rich"}, ["package_name 'rich' would shadow the dependency"]),
    "pyarrow": ({"package_name": "pyarrow"}, ["package_name 'pyarrow' would shadow the dep"]),
    "requests": ({"package_name": "requests"}, ["package_name 'requests' would shadow the dep"]),
    "stdlib": ({"project_name": "test"}, ["package_name 'test' would shadow the standard-lib"]),
    "leading_digits": ({"project_name": "3D Vision"}, ["package_name '3d_vision' is not a"]),
    "only_symbols": ({"project_name": "!!!"}, ["project_name '!!!' has no letters or digits"]),
    "only_emoji": ({"project_name": "🚀"}, ["project_name '🚀' has no letters or digits"]),
    "empty_name": ({"project_name": ""}, ["project_name is empty"]),
    "bad_email": ({"author_email": "ada at example dot com"}, ["author_email 'ada at example"]),
    "comment_email": ({"author_email": "#ada@example.com"}, ["author_email '#ada@example.com'"]),
    "quoted_email": ({"author_email": '"ada"@example.com'}, ['author_email \'"ada"@example']),
    "backslash_email": ({"author_email": "a\\b@example.com"}, ["author_email 'a\\\\b@example"]),
    "astral_email": ({"author_email": "ada🚀@example.com"}, ["author_email 'ada🚀@example.com'"]),
}


def error_lines(stderr: str) -> list[str]:
    """The hook's ERROR lines (without cookiecutter's own "Stopping generation" line)."""
    lines = [line for line in stderr.splitlines() if line.startswith("ERROR: ")]
    return [line.removeprefix("ERROR: ") for line in lines if "Stopping generation" not in line]


@pytest.mark.parametrize("answers", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_odd_answers_bake_a_valid_project(
    bake: Callable[..., Path], tmp_path: Path, answers: dict
) -> None:
    """The bake parses (TOML, YAML, Python), keeps every text answer verbatim where it lands,
    gives the build backend valid metadata, lints, and its config and baseline tests pass."""
    project = bake(**answers)
    text = {field: answers.get(field, QUESTIONS[field]) for field in TEXT_FIELDS}
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["description"] == text["description"]
    assert pyproject["project"]["authors"] == [
        {"name": text["author_name"], "email": text["author_email"]}
    ]
    readme = (project / "README.md").read_text(encoding="utf-8").splitlines()
    assert readme[0] == f"# {text['project_name']}"
    assert readme[2] == text["description"]
    assert text["author_name"] in (project / "LICENSE").read_text(encoding="utf-8")
    codeowners = (project / "CODEOWNERS").read_text(encoding="utf-8")
    assert f"/configs/ {text['author_email']}\n" in codeowners
    record = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert {field: record["context"]["cookiecutter"][field] for field in TEXT_FIELDS} == text
    for rel in baked_files(project):
        content = (project / rel).read_text(encoding="utf-8")
        if rel.endswith((".yaml", ".yml")):
            yaml.safe_load(content)
        if rel.endswith(".py"):
            compile(content, rel, "exec")
    assert not Path("/tmp/pwned").exists()
    package = next((project / "src").iterdir()).name
    assert package.isidentifier()
    # What pip asks the build backend first: hatchling validates the authors' names and e-mails.
    metadata = run(
        [
            PYTHON,
            "-c",
            "import sys, hatchling.build as b; print(b.prepare_metadata_for_build_wheel(sys.argv[1]))",
            str(tmp_path),
        ],
        project,
    )
    assert metadata.returncode == 0, metadata.stderr[-3000:]
    core = (tmp_path / metadata.stdout.strip() / "METADATA").read_text(encoding="utf-8")
    assert f"Summary: {text['description']}\n" in core
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


def assert_refused(
    bake: Callable[..., Path],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    answers: dict,
    expected: list[str],
) -> None:
    """Baking ``answers`` is refused by the hook with exactly the ``expected`` ERROR lines (each
    given by its start), and leaves no half-baked project behind."""
    with pytest.raises(FailedHookException):
        bake(**answers)
    lines = error_lines(capfd.readouterr().err)
    assert len(lines) == len(expected), lines
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), (line, start)
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]


@pytest.mark.parametrize(("answers", "expected"), REFUSED.values(), ids=REFUSED.keys())
def test_bad_answers_are_refused_by_the_hook(
    bake: Callable[..., Path],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    answers: dict,
    expected: list[str],
) -> None:
    """The pre-generation hook refuses with one line per problem and bakes nothing."""
    assert_refused(bake, tmp_path, capfd, answers, expected)


@pytest.mark.parametrize("value", UNPRINTABLE.values(), ids=UNPRINTABLE.keys())
@pytest.mark.parametrize("field", TEXT_FIELDS)
def test_unprintable_text_is_refused_in_every_text_field(
    bake: Callable[..., Path],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    field: str,
    value: str,
) -> None:
    """Line breaks (U+2028, U+2029 and U+0085 too), control characters and Jinja syntax (which
    cookiecutter renders before the hook runs) get one line naming the field."""
    assert_refused(bake, tmp_path, capfd, {field: value}, [f"{field} "])


@pytest.mark.parametrize("value", ["a {% raw %} b", "x {# y", "a {{ b", "{{ undefined_name }}"])
def test_jinja_cookiecutter_cannot_render_bakes_nothing(
    bake: Callable[..., Path], tmp_path: Path, value: str
) -> None:
    """Cookiecutter's own behaviour (README, "Known limitations"): it renders an answer as a
    template before any hook runs, so Jinja it cannot render stops it with its own error, and
    nothing is written."""
    with pytest.raises((TemplateSyntaxError, UndefinedVariableInTemplate)):
        bake(description=value)
    assert not list(tmp_path.iterdir())


def test_jinja_typed_at_the_prompt_is_refused(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Typed at the prompt, an answer is not rendered: the hook sees the Jinja itself."""
    typed = {"description": "Counts {{ rows }} rows"}
    monkeypatch.setattr(
        cookiecutter.prompt,
        "read_user_variable",
        lambda name, default, *args, **kwargs: typed.get(name, default),
    )
    monkeypatch.setattr(
        cookiecutter.prompt, "read_user_choice", lambda name, options, *args, **kwargs: options[0]
    )
    with pytest.raises(FailedHookException):
        cookiecutter_main(str(TEMPLATE), no_input=False, output_dir=str(tmp_path))
    assert error_lines(capfd.readouterr().err) == [
        "description holds Jinja template syntax '{{', which cookiecutter would evaluate "
        "instead of keeping the text; write it without '{{', '{%' or '{#'"
    ]
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            "project_name=torch",
            [
                "project_slug 'torch' is the distribution name of the dependency 'torch', so pip "
                "could not install the project; pass project_slug=<name> to choose another",
                "package_name 'torch' would shadow the dependency module 'torch'; "
                "pass package_name=<name> to choose another",
            ],
        ),
        (
            "description=first\u2028second",
            [
                "description must be a single line of text; it holds a line break (U+2028 LINE "
                "SEPARATOR)"
            ],
        ),
    ],
    ids=["torch", "line_separator"],
)
def test_refusal_is_one_clear_line_without_traceback(
    tmp_path: Path, answer: str, expected: list[str]
) -> None:
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
            answer,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert error_lines(done.stderr) == expected
    frames = re.findall(r'File "([^"]+)"', done.stdout + done.stderr)
    assert all("/cookiecutter/" in frame for frame in frames), frames
    assert not list(tmp_path.iterdir())
