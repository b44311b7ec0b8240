"""Refuse answers that would bake a broken project, with one clear line and no traceback.

Cookiecutter renders this file with Jinja before running it. The answers reach us only as
JSON documents inside raw single-quoted strings (Jinja's ``tojson`` writes every ``'`` as
``\\u0027``, every newline as ``\\n`` and everything outside ASCII as ``\\u`` escapes), so no
answer text is ever executed as Python. The functions below are plain Python and are
unit-tested by importing this file directly (``tests/test_hooks.py``). This file must never
hold a Jinja opener (a brace followed by a brace, ``%`` or ``#``) outside its last lines.

At most one line per question: the first problem found with it.
"""

from __future__ import annotations

import json
import keyword
import re
import sys
import unicodedata

MAX_NAME_LENGTH = 60
STDLIB_MODULES = frozenset(sys.stdlib_module_names) | {"test"}
# Besides the locked dependency closure (LOCKED_MODULES and LOCKED_DISTRIBUTIONS, generated at
# the end of this file from constraints.txt), names a package or distribution must not take:
# pytest's conftest, the project's own src/ and tests/ layout, and the installer's modules.
EXTRA_MODULES = frozenset(
    {"conftest", "distutils", "pip", "pkg_resources", "setuptools", "src", "tests", "wheel"}
)
EXTRA_DISTRIBUTIONS = frozenset({"pip", "setuptools", "wheel"})
NO_SLUG = "_"  # what cookiecutter.json derives when project_name slugifies to nothing
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PACKAGE_RE = re.compile(r"[a-z_][a-z0-9_]*")
# A plain address, usable as a CODEOWNERS owner and in pyproject's authors: an ASCII dot-atom
# before the @ (hatchling refuses anything else there; no '#', which would start a comment in
# CODEOWNERS), a domain of dot-separated labels after it.
_ATOM = r"[A-Za-z0-9!$%&'*+/=?^_~-]+"
_LABEL = r"[^\W_](?:(?:[^\W_]|-)*[^\W_])?"
EMAIL_RE = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")
# The free-text answers: one line of printable text each, kept verbatim.
TEXT_FIELDS = ("project_name", "description", "author_name", "author_email")
FIELD_ORDER = ("project_name", "project_slug", "package_name", *TEXT_FIELDS[1:])
# What str.splitlines() breaks a line at (U+0085, U+2028 and U+2029 included).
LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
# Jinja's openers, spelled so that cookiecutter, which renders this file, does not see them.
JINJA_OPENERS = tuple("{" + second for second in ("{", "%", "#"))


def normalize(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def character(ch: str) -> str:
    """``U+2028 LINE SEPARATOR``, or just ``U+001B`` for a character without a name."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def text_problem(field: str, value: str) -> str | None:
    """Why ``value`` cannot be the one-line answer ``field``, or None when it can.

    Any printable text is kept verbatim (quotes, backslashes, emoji and other characters
    outside the Basic Multilingual Plane). Refused: line breaks, control characters, lone
    surrogates (bytes that were not UTF-8 on the command line) and Jinja syntax, which
    cookiecutter evaluates instead of keeping (and would evaluate again on ``cruft update``).
    """
    for ch in value:
        category = unicodedata.category(ch)
        if ch in LINE_BREAKS or category in ("Zl", "Zp"):
            return f"{field} must be a single line of text; it holds a line break ({character(ch)})"
        if category == "Cc":
            return (
                f"{field} must be a single line of text without control characters; "
                f"it holds {character(ch)}"
            )
        if category == "Cs":
            return (
                f"{field} is not valid text: it holds {character(ch)}, a lone surrogate "
                "(bytes that are not UTF-8?)"
            )
    opener = next((opener for opener in JINJA_OPENERS if opener in value), None)
    if opener is not None:
        openers = ", ".join(repr(o) for o in JINJA_OPENERS[:-1]) + f" or {JINJA_OPENERS[-1]!r}"
        return (
            f"{field} holds Jinja template syntax {opener!r}, which cookiecutter would evaluate "
            f"instead of keeping the text; write it without {openers}"
        )
    return None


def package_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the importable package, or None when it can."""
    if not name:
        return "package_name is empty: give the project a name with at least one letter"
    if len(name) > MAX_NAME_LENGTH:
        return f"package_name is {len(name)} characters long; keep it to {MAX_NAME_LENGTH}"
    if not PACKAGE_RE.fullmatch(name) or not name.isidentifier():
        return (
            f"package_name {name!r} is not a lowercase Python identifier "
            "(letters, digits and underscores, not starting with a digit)"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"package_name {name!r} is a Python keyword"
    if name in STDLIB_MODULES:
        return f"package_name {name!r} would shadow the standard-library module {name!r}"
    if name in EXTRA_MODULES:
        return f"package_name {name!r} would shadow the module {name!r} of the project's tools"
    # Compared without case: on macOS and Windows a package 'pil' lands in PIL's directory.
    module = {m.lower(): m for m in LOCKED_MODULES}.get(name.lower())
    if module is not None:
        case = "" if module == name else " on file systems that ignore case"
        return f"package_name {name!r} would shadow the dependency module {module!r}{case}"
    return None


def project_slug_problem(slug: str) -> str | None:
    """Why ``slug`` cannot be the directory and distribution name, or None when it can."""
    if not SLUG_RE.fullmatch(slug) or len(slug) > MAX_NAME_LENGTH:
        return (
            f"project_slug {slug!r} must be kebab-case ASCII (a-z, 0-9, '-'), "
            f"1 to {MAX_NAME_LENGTH} characters"
        )
    if normalize(slug) in LOCKED_DISTRIBUTIONS | EXTRA_DISTRIBUTIONS:
        return (
            f"project_slug {slug!r} is the distribution name of the dependency "
            f"{normalize(slug)!r}, so pip could not install the project; "
            "pass project_slug=<name> to choose another"
        )
    return None


def answer_problems(
    answers: dict[str, object], typed: dict[str, object] | None = None
) -> list[str]:
    """Every problem with the answers, at most one line per question, each saying what to change.

    ``typed`` holds the answers given on the command line, in ``extra_context`` or in a user
    config as they were typed, before cookiecutter rendered them as Jinja (its
    ``_cookiecutter``): an answer that is just Jinja's ``raw`` tag renders to nothing, so
    only the typed text shows it.
    """
    typed = typed or {}
    problems: dict[str, str] = {}
    for field in TEXT_FIELDS:
        for value in (str(answers.get(field, "")), typed.get(field)):
            problem = text_problem(field, value) if isinstance(value, str) else None
            if problem is not None and field not in problems:
                problems[field] = problem
    name = str(answers.get("project_name", ""))
    slug = str(answers.get("project_slug", ""))
    package = str(answers.get("package_name", ""))
    if "project_name" not in problems and not name.strip():
        problems["project_name"] = "project_name is empty"
    if slug == NO_SLUG:
        problems.setdefault(
            "project_name",
            f"project_name {name!r} has no letters or digits to make project_slug from; "
            "choose another name or pass project_slug=<name>",
        )
    else:
        slug_problem = project_slug_problem(slug)
        if slug_problem is not None:
            problems["project_slug"] = slug_problem
    # A package derived from a name with nothing to slugify is NO_SLUG too: said above.
    package_problem = None if slug == package == NO_SLUG else package_name_problem(package)
    if package_problem is not None:
        problems["package_name"] = package_problem + "; pass package_name=<name> to choose another"
    email = str(answers.get("author_email", ""))
    if "author_email" not in problems and not EMAIL_RE.fullmatch(email):
        problems["author_email"] = (
            f"author_email {email!r} is not a plain e-mail address like you@example.com "
            "(ASCII before the @, no spaces; it owns configs/ in CODEOWNERS)"
        )
    return [problems[field] for field in FIELD_ORDER if field in problems]


def main(answers: dict[str, object], typed: dict[str, object] | None = None) -> int:
    """Print the problems (one line each) and return the exit status for cookiecutter."""
    problems = answer_problems(answers, typed)
    for problem in problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if problems else 0


# BEGIN RESERVED NAMES: generated by `python hooks/reserved_names.py`; do not edit.
# The locked dependency closure (constraints.txt): its top-level modules, and its
# distribution names normalized as PEP 503 does.
LOCKED_MODULES = frozenset(
    {
        "_cffi_backend",
        "_pytest",
        "_yaml",
        "aiohappyeyeballs",
        "aiohttp",
        "aiosignal",
        "alembic",
        "annotated_doc",
        "annotated_types",
        "antlr4",
        "anyio",
        "arrow",
        "asttokens",
        "attr",
        "attrs",
        "binaryornot",
        "blinker",
        "cachetools",
        "certifi",
        "cffi",
        "cfgv",
        "charset_normalizer",
        "click",
        "cloudpickle",
        "colorlog",
        "comm",
        "contourpy",
        "cookiecutter",
        "cruft",
        "cryptography",
        "cycler",
        "databricks",
        "dateutil",
        "debugpy",
        "distlib",
        "docker",
        "dotenv",
        "execnet",
        "executing",
        "fastapi",
        "fastjsonschema",
        "filelock",
        "flask",
        "flask_cors",
        "fontTools",
        "frozenlist",
        "fsspec",
        "functorch",
        "git",
        "gitdb",
        "google",
        "graphene",
        "graphql",
        "graphql_relay",
        "gunicorn",
        "h11",
        "hatchling",
        "huey",
        "hydra",
        "hydra_plugins",
        "identify",
        "idna",
        "importlib_metadata",
        "iniconfig",
        "ipykernel",
        "ipykernel_launcher",
        "IPython",
        "ipython_pygments_lexers",
        "isympy",
        "itsdangerous",
        "jedi",
        "jinja2",
        "joblib",
        "jsonschema",
        "jsonschema_specifications",
        "jupyter",
        "jupyter_client",
        "jupyter_core",
        "kiwisolver",
        "mako",
        "markdown_it",
        "markupsafe",
        "matplotlib",
        "matplotlib_inline",
        "mdurl",
        "mlflow",
        "mpl_toolkits",
        "mpmath",
        "multidict",
        "mypy_extensions",
        "narwhals",
        "nbformat",
        "nest_asyncio2",
        "networkx",
        "nodeenv",
        "numpy",
        "omegaconf",
        "opentelemetry",
        "optuna",
        "packaging",
        "pandas",
        "pandera",
        "parso",
        "pathspec",
        "pexpect",
        "PIL",
        "platformdirs",
        "pluggy",
        "pre_commit",
        "prettytable",
        "prompt_toolkit",
        "propcache",
        "psutil",
        "psycopg",
        "psycopg_binary",
        "ptyprocess",
        "pure_eval",
        "py",
        "pyarrow",
        "pyasn1",
        "pyasn1_modules",
        "pycparser",
        "pydantic",
        "pydantic_core",
        "pydevd_plugins",
        "pygments",
        "pylab",
        "pyparsing",
        "pytest",
        "python_discovery",
        "referencing",
        "requests",
        "rich",
        "rpds",
        "ruff",
        "scipy",
        "shellingham",
        "six",
        "sklearn",
        "skops",
        "slugify",
        "smmap",
        "sqlalchemy",
        "sqlparse",
        "stack_data",
        "starlette",
        "sympy",
        "text_unidecode",
        "threadpoolctl",
        "tomlkit",
        "torch",
        "torchgen",
        "tornado",
        "tqdm",
        "traitlets",
        "trove_classifiers",
        "typeguard",
        "typer",
        "typing_extensions",
        "typing_inspect",
        "typing_inspection",
        "tzdata",
        "urllib3",
        "uvicorn",
        "virtualenv",
        "wcwidth",
        "werkzeug",
        "xdist",
        "yaml",
        "yarl",
        "zipp",
        "zmq",
    }
)
LOCKED_DISTRIBUTIONS = frozenset(
    {
        "aiohappyeyeballs",
        "aiohttp",
        "aiosignal",
        "alembic",
        "annotated-doc",
        "annotated-types",
        "antlr4-python3-runtime",
        "anyio",
        "arrow",
        "asttokens",
        "attrs",
        "binaryornot",
        "blinker",
        "cachetools",
        "certifi",
        "cffi",
        "cfgv",
        "charset-normalizer",
        "click",
        "cloudpickle",
        "colorlog",
        "comm",
        "contourpy",
        "cookiecutter",
        "cruft",
        "cryptography",
        "cycler",
        "databricks-sdk",
        "debugpy",
        "distlib",
        "docker",
        "execnet",
        "executing",
        "fastapi",
        "fastjsonschema",
        "filelock",
        "flask",
        "flask-cors",
        "fonttools",
        "frozenlist",
        "fsspec",
        "gitdb",
        "gitpython",
        "google-auth",
        "graphene",
        "graphql-core",
        "graphql-relay",
        "gunicorn",
        "h11",
        "hatchling",
        "huey",
        "hydra-core",
        "hydra-joblib-launcher",
        "identify",
        "idna",
        "importlib-metadata",
        "iniconfig",
        "ipykernel",
        "ipython",
        "ipython-pygments-lexers",
        "itsdangerous",
        "jedi",
        "jinja2",
        "joblib",
        "jsonschema",
        "jsonschema-specifications",
        "jupyter-client",
        "jupyter-core",
        "kiwisolver",
        "mako",
        "markdown-it-py",
        "markupsafe",
        "matplotlib",
        "matplotlib-inline",
        "mdurl",
        "mlflow",
        "mlflow-skinny",
        "mlflow-tracing",
        "mpmath",
        "multidict",
        "mypy-extensions",
        "narwhals",
        "nbformat",
        "nest-asyncio2",
        "networkx",
        "nodeenv",
        "numpy",
        "omegaconf",
        "opentelemetry-api",
        "opentelemetry-proto",
        "opentelemetry-sdk",
        "opentelemetry-semantic-conventions",
        "optuna",
        "packaging",
        "pandas",
        "pandera",
        "parso",
        "pathspec",
        "pexpect",
        "pillow",
        "platformdirs",
        "pluggy",
        "pre-commit",
        "prettytable",
        "prompt-toolkit",
        "propcache",
        "protobuf",
        "psutil",
        "psycopg",
        "psycopg-binary",
        "ptyprocess",
        "pure-eval",
        "pyarrow",
        "pyasn1",
        "pyasn1-modules",
        "pycparser",
        "pydantic",
        "pydantic-core",
        "pygments",
        "pyparsing",
        "pytest",
        "pytest-xdist",
        "python-dateutil",
        "python-discovery",
        "python-dotenv",
        "python-slugify",
        "pyyaml",
        "pyzmq",
        "referencing",
        "requests",
        "rich",
        "rpds-py",
        "ruff",
        "scikit-learn",
        "scipy",
        "shellingham",
        "six",
        "skops",
        "smmap",
        "sqlalchemy",
        "sqlparse",
        "stack-data",
        "starlette",
        "sympy",
        "text-unidecode",
        "threadpoolctl",
        "tomlkit",
        "torch",
        "tornado",
        "tqdm",
        "traitlets",
        "trove-classifiers",
        "typeguard",
        "typer",
        "typing-extensions",
        "typing-inspect",
        "typing-inspection",
        "tzdata",
        "urllib3",
        "uvicorn",
        "virtualenv",
        "wcwidth",
        "werkzeug",
        "yarl",
        "zipp",
    }
)
# END RESERVED NAMES


if __name__ == "__main__":
    # Single quotes on purpose: tojson escapes every ' but not ", so no answer can end a string.
    # The answers as cookiecutter rendered them, then as they were typed (empty under cruft).
    answers = json.loads(r'{{ cookiecutter | tojson }}')  # fmt: skip
    typed = json.loads(r'{{ _cookiecutter | default({}) | tojson }}')  # fmt: skip
    sys.exit(main(answers, typed))
