"""Read and validate in one step, so no stage can use a table it has not checked (P2)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..config import Task
from .io import read_table
from .schema import Role, SchemaSpec
from .validation import Problem, ValidationReport, target_problems, validate_frame

if TYPE_CHECKING:  # the one run type that reads tables; the data layer never imports MLflow
    from ..tracking.runs import RunRecorder


def fingerprint(frame: pd.DataFrame) -> dict[str, Any]:
    """F4: what identifies a table: row count, columns with dtypes, and a content digest."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return {
        "rows": len(frame),
        "columns": {str(name): str(dtype) for name, dtype in frame.dtypes.items()},
        "digest": digest.hexdigest()[:16],
    }


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
    """Read ``source`` and validate it; with ``reference_run``, also report how its columns and
    schema differ from that run's training data (F4). The report and the fingerprint are
    recorded on ``run``; failed checks are left to the caller."""
    frame = read_table(source.path, source.setting)
    checked, report = validate_frame(frame, spec, str(source.path), serving=source.serving)
    report.contract = source.contract
    if source.task is not None:
        failures, warnings = target_problems(checked, spec, source.task)
        report.failures += failures
        report.warnings += warnings
    current = fingerprint(frame)
    if reference_run:
        trained_on, trained_schema = run.training_fingerprint(reference_run)
        changes = [
            f"same columns as run {reference_run}: {change}"
            for change in schema_changes(trained_on, current, spec, source.serving)
        ]
        if trained_schema and trained_schema != spec.fingerprint():
            changes.append(
                f"schema changed since run {reference_run} "
                f"({trained_schema} -> {spec.fingerprint()})"
            )
        report.schema_changes = [Problem(None, change, 0) for change in changes]
    run.log_data(frame, report, spec, source.context, current)
    return checked, report


def load_validated(source: Source, spec: SchemaSpec, run: RunRecorder) -> pd.DataFrame:
    """:func:`inspect_table`, raising on any failed check, so a FAILED run shows why."""
    checked, report = inspect_table(source, spec, run)
    report.raise_if_failed()
    return checked


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
