"""Errors a user can act on: each names the file, the column and the check that failed.

Entry points print these as one line and exit with ``EXIT_BAD_INPUT``; anything else is a bug
and keeps its traceback. Either way the MLflow run is marked FAILED with the reason (P6).
"""

from __future__ import annotations

import sys
from typing import NoReturn

EXIT_BAD_INPUT = 2


class PipelineError(Exception):
    """A problem in the inputs or configuration, explained for the user."""

    def __init__(self, file: str, check: str, detail: str, column: str | None = None) -> None:
        self.file = file
        self.column = column
        self.check = check
        self.detail = detail
        where = f"{file}, column {column!r}" if column else file
        super().__init__(f"{where}: check {check!r} failed: {detail}")


class DataError(PipelineError):
    """The data does not meet what the pipeline needs."""


def exit_bad_input(err: PipelineError) -> NoReturn:
    """Print ``err`` for the user (every line prefixed ``error:``) and exit with code 2."""
    for line in str(err).splitlines():
        print(f"error: {line}", file=sys.stderr)
    sys.exit(EXIT_BAD_INPUT)
