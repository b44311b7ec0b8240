"""Read and validate in one step, so no stage can use a table it has not checked (P2)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..config import Task
from .io import read_chunks, read_table
from .report import Problem, ValidationReport
from .schema import Role, SchemaSpec
from .table_checks import TableChecks, row_hashes
from .validation import check_rows, finish, mistyped

if TYPE_CHECKING:  # the one run type that reads tables; the data layer never imports MLflow
    from ..tracking.runs import RunRecorder


class Fingerprinter:
    """F4: what identifies a table (row count, columns with dtypes, a content digest), built
    from the whole table or piece by piece as it is read in chunks, with the same result:
    a reader guesses each piece's types on its own (whole numbers with a gap in one piece are
    float64 there, int64 elsewhere), so numbers are hashed alike (:func:`.table_checks.row_hashes`)
    and a column's type is the one that holds every piece's, as reading it whole gives."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.rows = 0
        self.columns: dict[str, str] = {}

    def add(self, frame: pd.DataFrame) -> Fingerprinter:
        self.digest.update(row_hashes(frame).tobytes())
        self.rows += len(frame)
        for name, dtype in frame.dtypes.items():
            seen = self.columns.get(str(name))
            self.columns[str(name)] = str(dtype) if seen is None else _wider(seen, dtype)
        return self

    def result(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "columns": self.columns,
            "digest": self.digest.hexdigest()[:16],
        }


def _wider(seen: str, dtype: Any) -> str:
    """The type of a column read whole, from the types of two of its pieces: whole and decimal
    numbers make float64; numbers and text, the text's type."""
    if seen == str(dtype):
        return seen
    if not pd.api.types.is_numeric_dtype(pd.api.types.pandas_dtype(seen)):
        return seen
    return "float64" if pd.api.types.is_numeric_dtype(dtype) else str(dtype)


@dataclass(frozen=True)
class Source:
    """A table a stage reads: the file, the config key that names it (for messages), the
    stage's name for it in the run (``train``, ``predict``...), and how it is checked.

    ``serving``: rows to score, which may lack the target (row-level checks only). ``task``:
    also check the target against it (the classes it needs). ``contract``: the model whose
    contract is applied, for the report.
    """

    path: str | Path
    context: str
    setting: str = "data.path"
    serving: bool = False
    task: Task | None = None
    contract: str | None = None


def inspect_table(
    source: Source, spec: SchemaSpec, run: RunRecorder, reference_run: str | None = None
) -> tuple[pd.DataFrame, ValidationReport]:
    """Read the whole of ``source`` and validate it (:class:`Inspection` with one piece); the
    report and the fingerprint are recorded on ``run``; failed checks are left to the caller."""
    inspection = Inspection(source, spec, run, None, reference_run)
    (checked,) = inspection
    return checked, inspection.report


def changes_since(
    reference_run: str, current: dict[str, Any], spec: SchemaSpec, source: Source, run: RunRecorder
) -> list[Problem]:
    """F4: how a table's columns and schema differ from what ``reference_run`` trained on."""
    trained_on, trained_schema = run.training_fingerprint(reference_run)
    changes = [
        f"same columns as run {reference_run}: {change}"
        for change in schema_changes(trained_on, current, spec, source.serving)
    ]
    if trained_schema and trained_schema != spec.fingerprint():
        changes.append(
            f"schema changed since run {reference_run} ({trained_schema} -> {spec.fingerprint()})"
        )
    return [Problem(None, change, 0) for change in changes]


def load_validated(source: Source, spec: SchemaSpec, run: RunRecorder) -> pd.DataFrame:
    """:func:`inspect_table`, raising on any failed check, so a FAILED run shows why."""
    checked, report = inspect_table(source, spec, run)
    report.raise_if_failed()
    return checked


class Inspection:
    """Read ``source`` and validate it: iterate for the checked pieces of at most ``rows`` rows
    (``None``: the whole table, one piece), so memory does not grow with the file. Every row
    is checked in its piece and the table checks count every piece (:mod:`.table_checks`), so
    the report is the whole file's. Once the pieces are read (or, with ``stop_on_failure``, at
    the first piece that breaks the contract), ``report`` holds what they showed (with
    ``reference_run``, the schema changes since it too, F4), and the report and the whole
    file's fingerprint are recorded on ``run``."""

    def __init__(
        self,
        source: Source,
        spec: SchemaSpec,
        run: RunRecorder,
        rows: int | None,
        reference_run: str | None = None,
        stop_on_failure: bool = False,
    ) -> None:
        self.source, self.spec, self.run, self.rows = source, spec, run, rows
        self.reference_run, self.stop_on_failure = reference_run, stop_on_failure
        self.report = ValidationReport(str(source.path), 0, [], contract=source.contract)

    def _pieces(self) -> Iterator[pd.DataFrame]:
        if self.rows is None:
            return iter([read_table(self.source.path, self.source.setting)])
        return read_chunks(self.source.path, self.rows, self.source.setting)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        source, spec = self.source, self.spec
        checks = TableChecks(spec, table=not source.serving, task=source.task)
        seen, first = Fingerprinter(), None
        for piece in self._pieces():
            checked, part = check_rows(piece, spec, str(source.path), serving=source.serving)
            checks.add(checked, mistyped(part, spec))
            seen.add(piece)
            if first is None:
                first, self.report.columns = piece, part.columns
            self.report.add(part)
            if self.stop_on_failure and not part.ok:
                break
            yield checked
        finish(self.report, checks)
        current = seen.result()
        if self.reference_run:
            found = changes_since(self.reference_run, current, spec, source, self.run)
            self.report.schema_changes = found
        streamed = self.rows is not None
        self.run.log_data(first, self.report, spec, source.context, current, streamed)


def stream_validated(
    source: Source, spec: SchemaSpec, run: RunRecorder, rows: int
) -> Iterator[pd.DataFrame]:
    """:func:`load_validated` piece by piece (:class:`Inspection`): the first piece that breaks
    the contract raises, with everything found so far, before it is handed on."""
    inspection = Inspection(source, spec, run, rows, stop_on_failure=True)
    yield from inspection
    inspection.report.raise_if_failed()


def schema_changes(
    reference: dict[str, Any], current: dict[str, Any], spec: SchemaSpec, serving: bool = False
) -> list[str]:
    """F4: how the columns of ``current`` differ from the fingerprint a model was trained on,
    one readable line per new, missing or retyped column (rows to score may lack the target)."""
    before, after = dict(reference["columns"]), current["columns"]
    if serving:
        for name in spec.names(Role.target):
            before.pop(name, None)
    changes = [f"new column {name!r} ({after[name]})" for name in after if name not in before]
    changes += [
        f"missing column {name!r} (was {before[name]})" for name in before if name not in after
    ]
    changes += [
        f"column {name!r} changed type: {before[name]} -> {after[name]}"
        for name in after
        if name in before and before[name] != after[name]
    ]
    return changes
