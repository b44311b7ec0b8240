"""Errors a user can act on: each names the file, the column and the check that failed.

Entry points print these as one line and exit with ``EXIT_BAD_INPUT``; anything else is a bug
and keeps its traceback. Either way the MLflow run is marked FAILED with the reason (P6).
"""

from __future__ import annotations

import sys
from typing import NoReturn

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


def exit_bad_input(err: PipelineError) -> NoReturn:
    """Print ``err`` for the user (its first line prefixed ``error:``; a report's further lines
    keep their own ``failure:`` or ``warning:``) and exit with its code (2 for bad input, 3 for
    a model below the baseline)."""
    first, *rest = str(err).splitlines() or [type(err).__name__]
    print(f"error: {first}", file=sys.stderr)
    for line in rest:
        print(line, file=sys.stderr)
    sys.exit(err.exit_code)
