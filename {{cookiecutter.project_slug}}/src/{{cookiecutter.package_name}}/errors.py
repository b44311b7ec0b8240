"""Errors a user can act on: each names the file, the column and the check that failed.

Every entry point is a plain function under :func:`one_line_errors`, which prints these as
one line and exits with their code (``EXIT_BAD_INPUT`` unless they say otherwise); anything else
is a bug and keeps its traceback. Either way the MLflow run is marked FAILED with the reason (P6).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, NoReturn

EXIT_BAD_INPUT = 2
EXIT_BELOW_BASELINE = 3
EXIT_FINDINGS = 4  # `monitor`: drift, contract violations or schema changes (for cron or CI)


class PipelineError(Exception):
    """A problem in the inputs or configuration, explained for the user."""

    exit_code = EXIT_BAD_INPUT

    def __init__(self, file: str, check: str, detail: str, column: str | None = None) -> None:
        self.file = file
        self.column = column
        self.check = check
        self.detail = detail
        where = f"{file}, column {column!r}" if column else file
        super().__init__(f"{where}: check {check!r} failed: {detail}")


class DataError(PipelineError):
    """The data does not meet what the pipeline needs."""


class ConfigError(PipelineError):
    """A setting that cannot work, named by its config key (``data.split``, ``model.name``)."""

    def __init__(self, setting: str, check: str, detail: str) -> None:
        super().__init__(setting, check, detail)


class BelowBaselineError(PipelineError):
    """P1: the model does not beat the trivial baseline, so it must not be used."""

    exit_code = EXIT_BELOW_BASELINE


def first_line(err: BaseException) -> str:
    """The first line of ``err`` (and of its cause, when the first only introduces it): what a
    one-line error says about a library's exception, without its traceback."""
    lines = [line.strip() for line in str(err).strip().splitlines()] or [type(err).__name__]
    line = lines[0]
    if line.endswith(":") and len(lines) > 1:
        line = f"{line} {lines[1]}"
    elif line.endswith(":") and err.__cause__ is not None:
        line = f"{line} {first_line(err.__cause__)}"
    return line


def print_error(err: PipelineError, prefix: str = "") -> None:
    """Print ``err`` for the user: its first line prefixed ``error:``; a report's further lines
    keep their own ``failure:`` or ``warning:``."""
    first, *rest = str(err).splitlines() or [type(err).__name__]
    print(f"error: {prefix}{first}", file=sys.stderr)
    for line in rest:
        print(line, file=sys.stderr)


def exit_bad_input(err: PipelineError) -> NoReturn:
    """Print ``err`` and exit with its code (2 for bad input, 3 for a model below the
    baseline)."""
    print_error(err)
    sys.exit(err.exit_code)


def one_line_errors(main: Callable[..., int | None]) -> Callable[..., None]:
    """The one wrapper of every entry point: a :class:`PipelineError` becomes one line on stderr
    and its exit code; an ``int`` that ``main`` returns becomes the process's exit code (how
    ``monitor`` reports findings). Under ``@hydra.main``, tests call ``main.__wrapped__(cfg)``
    and see the same ``SystemExit`` a user's shell sees. In a Hydra multirun, each job is a
    trial of the sweep instead: its failure is written down and the other jobs still run
    (``tracking.sweep``; the sweep exits with the first failed trial's code at its end)."""

    @functools.wraps(main)
    def wrapped(*args: Any, **kwargs: Any) -> None:
        from .tracking.sweep import multirun_job, run_as_trial

        job = multirun_job()
        if job is not None:
            run_as_trial(job, lambda: main(*args, **kwargs))
            return
        try:
            code = main(*args, **kwargs)
        except PipelineError as err:
            exit_bad_input(err)
        if code is not None:
            sys.exit(code)

    return wrapped
