"""Unit tests of the hooks, imported straight from ``hooks/`` (their Jinja line is inert there)."""

from __future__ import annotations

import importlib.metadata
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
names = load_hook("reserved_names")  # not a hook: the generator of the hook's reserved names
JINJA_OPENERS = ("{{", "{%", "{#")

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


# Text a one-line answer may hold, kept verbatim (every kind in every free-text field).
PRINTABLE = {
    "astral": "Rocket 🚀 𝄞 𓂀 👩‍💻",
    "accents": "Zoë Ångström 李雷",
    "quotes": "Say \"hi\" and 'bye'",
    "backslashes": "C:\\Users\\ada\\",
    "jinja_closers": "50% {off} }} %} #}",
}
# Text no one-line answer may hold, and the words its refusal must use.
UNPRINTABLE = {
    "line_separator": ("a\u2028b", "a line break (U+2028 LINE SEPARATOR)"),
    "paragraph_separator": ("a\u2029b", "a line break (U+2029 PARAGRAPH SEPARATOR)"),
    "next_line": ("a\x85b", "a line break (U+0085)"),
    "newline": ("a\nb", "a line break (U+000A)"),
    "crlf": ("a\r\nb", "a line break (U+000D)"),
    "escape": ("a\x1bb", "without control characters; it holds U+001B"),
    "nul": ("a\x00b", "it holds U+0000"),
    "tab": ("a\tb", "it holds U+0009"),
    "delete": ("a\x7fb", "it holds U+007F"),
    "lone_surrogate": ("a\udcffb", "U+DCFF, a lone surrogate"),
    "jinja_raw": ("{% raw %}", "Jinja template syntax '{%'"),
    "jinja_comment": ("a {# b", "Jinja template syntax '{#'"),
    "jinja_expression": ("{{ 7 * 7 }}", "Jinja template syntax '{{'"),
}


@pytest.mark.parametrize("value", PRINTABLE.values(), ids=PRINTABLE.keys())
@pytest.mark.parametrize("field", ["project_name", "description", "author_name"])
def test_printable_text_is_accepted_in_every_text_field(field: str, value: str) -> None:
    """Emoji and other characters outside the BMP, quotes and backslashes are kept."""
    assert pre.answer_problems({**GOOD, field: value}) == []


@pytest.mark.parametrize(("value", "needle"), UNPRINTABLE.values(), ids=UNPRINTABLE.keys())
@pytest.mark.parametrize("field", pre.TEXT_FIELDS)
def test_unprintable_text_is_refused_in_every_text_field(
    field: str, value: str, needle: str
) -> None:
    """Line breaks (U+2028, U+2029, U+0085 too), control characters, lone surrogates and Jinja
    syntax: one printable line that names the field and the character."""
    problems = pre.answer_problems({**GOOD, field: value})
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{field} "), problems
    assert needle in problems[0]
    assert problems[0].isprintable()


def test_jinja_is_seen_in_the_answer_as_typed() -> None:
    """Cookiecutter renders an answer given with --no-input before the hook runs: ``{% raw %}``
    arrives empty and ``{{ 7 * 7 }}`` as ``49``; the typed text (its ``_cookiecutter``) tells.
    Template defaults that are Jinja (project_slug, package_name) are not answers."""
    typed = {
        **GOOD,
        "project_slug": "{{ cookiecutter.project_name|slugify(max_length=60) or '_' }}",
        "package_name": "{{ cookiecutter.project_slug|replace('-', '_') }}",
        "task": ["binary_classification", "regression"],
    }
    assert pre.answer_problems(GOOD, typed) == []
    for field, rendered, raw in (
        ("description", "", "{% raw %}"),
        ("author_name", "49", "{{ 7*7 }}"),
    ):
        problems = pre.answer_problems({**GOOD, field: rendered}, {**typed, field: raw})
        assert len(problems) == 1, problems
        assert problems[0].startswith(f"{field} holds Jinja template syntax"), problems


@pytest.mark.parametrize(
    "email",
    [
        "ada@example.com",
        "o'brien+ml@example.com",
        "ada.lovelace@sub-1.example.co.uk",
        "ada@exämple.com",
        "ada@xn--bcher-kva.example",
    ],
)
def test_plain_emails_are_accepted(email: str) -> None:
    assert pre.answer_problems({**GOOD, "author_email": email}) == []


@pytest.mark.parametrize(
    "email",
    [
        "#ada@example.com",  # a comment in CODEOWNERS
        "not an email",
        "ada",
        "ada@example",
        "ada @example.com",
        "ada@example.com ",
        "Ada <ada@example.com>",
        "ada@example.com,bob@example.com",
        '"ada"@example.com',
        "ada\\x@example.com",
        "zoë@example.com",  # hatchling refuses a non-ASCII local part
        "ada🚀@example.com",
        "ada@🚀.com",
        ".ada@example.com",
        "ada..lovelace@example.com",
        "ada@-example.com",
    ],
)
def test_emails_that_are_not_plain_are_refused(email: str) -> None:
    """An e-mail must be usable as the CODEOWNERS owner and in pyproject's authors."""
    problems = pre.answer_problems({**GOOD, "author_email": email})
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"author_email {email!r} is not a plain e-mail address")


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
        ("torch", "dependency module 'torch'"),
        ("mlflow", "dependency module 'mlflow'"),
        ("hydra", "dependency module 'hydra'"),
        ("pandas", "dependency module 'pandas'"),
        ("sklearn", "dependency module 'sklearn'"),
        ("rich", "dependency module 'rich'"),
        ("pyarrow", "dependency module 'pyarrow'"),
        ("requests", "dependency module 'requests'"),
        ("google", "dependency module 'google'"),
        ("_pytest", "dependency module '_pytest'"),
        ("pil", "dependency module 'PIL' on file systems that ignore case"),
        ("src", "project's tools"),
        ("tests", "project's tools"),
        ("conftest", "project's tools"),
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
    "slug", ["mlflow", "torch", "scikit-learn", "python-dateutil", "typing-extensions", "pip"]
)
def test_a_distribution_of_the_lock_is_refused_as_project_slug(slug: str) -> None:
    """A project named ``mlflow`` with ``package_name=mlflow_app`` is the distribution
    ``mlflow``: ``pip install -e .`` would fail with ResolutionImpossible."""
    problems = pre.answer_problems({**GOOD, "project_slug": slug, "package_name": "my_app"})
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"project_slug {slug!r} is the distribution name of the dep")


@pytest.mark.parametrize("name", ["!!!", "🚀", "", "   "])
def test_a_name_with_nothing_to_slugify_gets_one_line(name: str) -> None:
    """cookiecutter.json derives ``_`` for both names; only the name itself is reported."""
    answers = {**GOOD, "project_name": name, "project_slug": "_", "package_name": "_"}
    problems = pre.answer_problems(answers)
    assert len(problems) == 1, problems
    assert problems[0].startswith("project_name ")


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("project_slug", "Churn Model", "kebab-case"),
        ("project_slug", "../escape", "kebab-case"),
        ("project_slug", "churn-model\n", "kebab-case"),
        ("author_email", "a@b.c\n/configs/ @attacker", "single line"),
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
    """The only Jinja in a hook is ``tojson`` inside raw single-quoted strings, on its last
    lines: the answers as rendered (both hooks) and as typed (the pre-generation hook)."""
    variables = {
        "pre_gen_project": ["cookiecutter", "_cookiecutter | default({})"],
        "post_gen_project": ["cookiecutter"],
    }
    for name, expected in variables.items():
        source = (TEMPLATE / "hooks" / f"{name}.py").read_text(encoding="utf-8")
        jinja = [line for line in source.splitlines() if any(o in line for o in JINJA_OPENERS)]
        assert len(jinja) == len(expected), jinja
        for line, variable in zip(jinja, expected, strict=True):
            assert "json.loads(r'{{ " + variable + " | tojson }}')" in line


def test_reserved_names_are_generated_from_the_lock() -> None:
    """The hook's lists are exactly what ``python hooks/reserved_names.py`` computes from
    constraints.txt in this environment (installed from it): a lock update without running
    the generator fails here."""
    modules, distributions = names.locked_names()
    assert set(modules) - pre.LOCKED_MODULES == set(), "run python hooks/reserved_names.py"
    assert pre.LOCKED_MODULES - set(modules) == set(), "run python hooks/reserved_names.py"
    assert set(distributions) == pre.LOCKED_DISTRIBUTIONS, "run python hooks/reserved_names.py"
    source = (TEMPLATE / "hooks" / "pre_gen_project.py").read_text(encoding="utf-8")
    assert names.with_block(source, names.render_block(modules, distributions)) == source
    assert {"rich", "pyarrow", "requests", "mlflow", "torch", "yaml"} <= pre.LOCKED_MODULES
    assert {"mlflow", "scikit-learn", "requests", "hydra-core"} <= pre.LOCKED_DISTRIBUTIONS


def test_reserved_modules_cover_what_python_reads_from_the_environment() -> None:
    """A second reading of the same metadata (``packages_distributions``): every top-level name
    it gives a locked distribution is reserved, and every locked distribution is."""
    locked = {names.normalize(name) for name in names.read_lock(names.LOCK)}
    assert locked == pre.LOCKED_DISTRIBUTIONS
    for module, dists in importlib.metadata.packages_distributions().items():
        if module.isidentifier() and {names.normalize(d) for d in dists} & locked:
            assert module in pre.LOCKED_MODULES, (module, dists)


# The CI files the tree below holds besides the review checklist (P5).
CI_CONFIG = {
    ".github/workflows/ci.yml",
    ".github/dependabot.yml",
    ".gitlab-ci.yml",
    "tests/test_ci.py",
}


def make_tree(root: Path) -> None:
    for rel in (
        ".github/workflows/ci.yml",
        ".github/dependabot.yml",
        ".github/pull_request_template.md",
        ".gitlab-ci.yml",
        "tests/test_ci.py",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel, encoding="utf-8")


@pytest.mark.parametrize(
    ("ci", "kept"),
    [
        (
            "github",
            {
                ".github/workflows/ci.yml",
                ".github/dependabot.yml",
                ".github/pull_request_template.md",
                "tests/test_ci.py",
            },
        ),
        (
            "gitlab",
            {".gitlab-ci.yml", ".gitlab/merge_request_templates/Default.md", "tests/test_ci.py"},
        ),
        ("none", {"docs/config-review-checklist.md"}),
    ],
)
def test_prune_keeps_only_the_chosen_ci(tmp_path: Path, ci: str, kept: set[str]) -> None:
    """Pruning leaves the chosen service's files and moves the checklist to where it is read."""
    make_tree(tmp_path)
    post.prune(tmp_path, ci)
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert files == kept
    checklist = next(iter(kept - CI_CONFIG))
    assert (tmp_path / checklist).read_text() == ".github/pull_request_template.md"


def test_record_answers_expands_github_shorthand(tmp_path: Path) -> None:
    """``gh:org/repo`` is written as the URL cruft needs; this run's own keys are not recorded."""
    answers = {
        **GOOD,
        "_template": "gh:org/cookiecutter-ml-pipeline",
        "_output_dir": "/tmp/x",
        "_repo_dir": "/nonexistent/cookiecutter-ml-pipeline",
        "_checkout": None,
    }
    record = json.loads(post.record_answers(tmp_path, answers).read_text())
    assert record["template"] == "https://github.com/org/cookiecutter-ml-pipeline"
    assert record["commit"] is None
    context = record["context"]["cookiecutter"]
    assert not {"_output_dir", "_repo_dir", "_checkout"} & set(context)
    assert context["_template"] == record["template"]
    assert context["package_name"] == "churn_model"


def test_record_answers_resolves_a_local_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative template path is resolved from where cookiecutter was started, not the bake."""
    monkeypatch.setenv("PWD", str(TEMPLATE.parent))
    answers = {**GOOD, "_template": TEMPLATE.name, "_repo_dir": TEMPLATE.name}
    record = json.loads(post.record_answers(tmp_path, answers).read_text())
    assert record["template"] == str(TEMPLATE)
    assert record["context"]["cookiecutter"]["_template"] == str(TEMPLATE)
    assert record["context"]["cookiecutter"]["_commit"] == record["commit"]


def test_a_stale_pwd_falls_back_to_the_output_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started without a shell after a ``chdir``, ``PWD`` is stale; cookiecutter's absolute
    ``_output_dir`` is then where it was started (no ``--output-dir``), and the path resolves."""
    monkeypatch.setenv("PWD", str(tmp_path))
    answers = {
        **GOOD,
        "_template": TEMPLATE.name,
        "_repo_dir": TEMPLATE.name,
        "_output_dir": str(TEMPLATE.parent),
    }
    record = json.loads(post.record_answers(tmp_path, answers).read_text())
    assert record["template"] == str(TEMPLATE)


def test_record_is_what_cruft_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cruft's own shape, byte for byte: its key order, the answers in question order (they
    arrive key-sorted from ``tojson``) then ``_template`` and ``_commit``, its JSON layout (with
    non-ASCII text as is), so cruft's rewrite after ``cruft update`` moves only the commit."""
    from cruft._commands.utils.cruft import json_dumps

    questions = json.loads((TEMPLATE / "cookiecutter.json").read_text(encoding="utf-8"))
    questions.pop("__prompts__")
    answers = {
        **{key: value[0] if isinstance(value, list) else value for key, value in questions.items()},
        **GOOD,
        "project_name": "Café Model",
        "_template": str(TEMPLATE),
        "_output_dir": str(tmp_path),
        "_repo_dir": str(TEMPLATE),
        "_checkout": None,
    }
    answers = dict(sorted(answers.items()))
    text = post.record_answers(tmp_path, answers).read_text(encoding="utf-8")
    record = json.loads(text)
    assert text == json_dumps(record)
    assert "Café Model" in text
    assert list(record) == ["template", "commit", "checkout", "context", "directory", "skip"]
    context = record["context"]["cookiecutter"]
    assert list(context) == [*questions, "_template", "_commit"]
    assert ".cruft.json" in record["skip"]


def test_main_leaves_the_record_to_cruft_when_cruft_generates(tmp_path: Path) -> None:
    """Cruft's context has ``_commit`` and no ``_output_dir``: it writes ``.cruft.json`` itself
    (and a file written here would conflict in ``cruft update``). Cookiecutter's gets one."""
    by_cruft = {**GOOD, "ci": "github", "_template": str(TEMPLATE), "_commit": "0" * 40}
    by_cookiecutter = {**GOOD, "ci": "github", "_template": str(TEMPLATE)}
    by_cookiecutter |= {"_output_dir": str(tmp_path), "_repo_dir": str(TEMPLATE)}
    for answers, recorded in ((by_cruft, False), (by_cookiecutter, True)):
        project = tmp_path / str(recorded)
        make_tree(project)
        assert post.main(answers, project) == 0
        assert (project / ".cruft.json").exists() is recorded
        assert not (project / ".gitlab-ci.yml").exists()
