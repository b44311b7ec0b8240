"""What validation found, for people (text) and machines (JSON): one problem per column and
check, with how many rows and a few examples as the data has them (P2, F2)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import PipelineError
from .schema import ColumnSpec

EXAMPLES = 5


@dataclass
class Problem:
    """One failed (or warned) check on one column, with how many rows and a few examples."""

    column: str | None
    check: str
    rows: int
    examples: list[str] = field(default_factory=list)
    description: str | None = None


@dataclass
class ValidationReport:
    """Everything found in one file; ``ok`` when no check failed (warnings allowed)."""

    file: str
    rows: int
    columns: list[str]
    failures: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    schema_changes: list[Problem] = field(default_factory=list)  # F4: since a reference run
    contract: str | None = None  # whose contract, when it is a model's (predict, evaluate)

    @property
    def ok(self) -> bool:
        return not self.failures

    def add(self, part: ValidationReport) -> None:
        """Fold in the report on the next piece of the same file (a table read in chunks): rows
        add up, and a check that failed or warned in several pieces stays one problem."""
        self.rows += part.rows
        for mine, theirs in ((self.failures, part.failures), (self.warnings, part.warnings)):
            known = {(problem.column, problem.check): problem for problem in mine}
            for problem in theirs:
                same = known.get((problem.column, problem.check))
                if same is None:
                    mine.append(problem)
                    known[(problem.column, problem.check)] = problem
                else:
                    same.rows += problem.rows
                    same.examples = list(dict.fromkeys(same.examples + problem.examples))
                    same.examples = same.examples[:EXAMPLES]

    def raise_if_failed(self) -> None:
        """Raise :class:`DataValidationError` (the whole report, its first failure as the
        one-line message) when any check failed."""
        if not self.ok:
            raise DataValidationError(self)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "ok": self.ok}, indent=2, default=str)

    def render(self) -> str:
        """A readable report: one line per failure, then the warnings."""
        verdict = "passed" if self.ok else f"FAILED {len(self.failures)} check(s)"
        against = f" against the contract of {self.contract}" if self.contract else ""
        lines = [f"Validation of {self.file} ({self.rows} rows){against}: {verdict}"]
        shown = (
            ("failure", self.failures),
            ("warning", self.warnings),
            ("schema change", self.schema_changes),
        )
        for title, problems in shown:
            for p in problems:
                where = f"column {p.column!r}" if p.column else "table"
                examples = f", e.g. {', '.join(p.examples)}" if p.examples else ""
                meaning = f" ({p.description})" if p.description else ""
                count = f": {p.rows} row(s)" if p.rows else ""
                lines.append(
                    f"  {title}: {self.file}: {where}{meaning}: check {p.check!r}{count}{examples}"
                )
        return "\n".join(lines)


class DataValidationError(PipelineError):
    """The data breaks its contract; carries the full report."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        first = report.failures[0]
        count = f"{first.rows} row(s) " if first.rows else ""
        super().__init__(
            report.file,
            first.check,
            f"{len(report.failures)} check(s) failed; first: {count}{', '.join(first.examples[:3])}".rstrip(),
            column=first.column,
        )

    def __str__(self) -> str:
        return self.report.render()


def shown(value: object, whole: bool = False) -> str:
    """A value as the data has it: text quoted; in an integer column (``whole``), whole numbers
    without ``.0`` (an id column read with a gap becomes float, but the file says ``100005``)."""
    if isinstance(value, str):
        return repr(value)
    if whole and isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def examples_of(values: pd.Series, whole: bool = False) -> list[str]:
    return [shown(v, whole) for v in values.drop_duplicates()[:EXAMPLES]]


def meaning(column: ColumnSpec | None) -> str | None:
    """F2: a column's description and unit, as shown next to every problem."""
    if column is None:
        return None
    return f"{column.description}, {column.unit}" if column.unit else column.description


def write_report(report: ValidationReport, directory: Path) -> tuple[Path, Path]:
    """Write ``validation.json`` and ``validation.txt`` into ``directory``."""
    from .io import write_text

    as_json = write_text(directory / "validation.json", report.to_json() + "\n")
    as_text = write_text(directory / "validation.txt", report.render() + "\n")
    return as_json, as_text
