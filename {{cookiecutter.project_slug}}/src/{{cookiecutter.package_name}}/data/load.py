"""Read and validate in one step, so no stage can use a table it has not checked (P2)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import Task
from .io import read_table
from .schema import SchemaSpec
from .validation import ValidationReport, target_problems, validate_frame


def fingerprint(frame: pd.DataFrame) -> dict[str, Any]:
    """F4: what identifies a table: row count, columns with dtypes, and a content digest."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return {
        "rows": len(frame),
        "columns": {str(name): str(dtype) for name, dtype in frame.dtypes.items()},
        "digest": digest.hexdigest()[:16],
    }


def inspect_table(
    path: str | Path,
    spec: SchemaSpec,
    run: Any,
    context: str,
    serving: bool = False,
    reference_run: str | None = None,
    setting: str = "data.path",
    task: Task | None = None,
    contract: str | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Read ``path`` (named by the config key ``setting``) and validate it; with
    ``reference_run``, also report how its columns and schema differ from that run's training
    data (F4). The report and the fingerprint are recorded on ``run``; failed checks are left to
    the caller. With ``task``, the target is checked against it too (the classes it needs)."""
    frame = read_table(path, setting)
    checked, report = validate_frame(frame, spec, str(path), serving=serving)
    report.contract = contract
    if task is not None:
        failures, warnings = target_problems(checked, spec, task)
        report.failures += failures
        report.warnings += warnings
    current = fingerprint(frame)
    if reference_run:
        report.schema_changes = run.compare_with(reference_run, current, spec, serving)
    run.log_data(frame, report, spec, context, current)
    return checked, report


def load_validated(
    path: str | Path,
    spec: SchemaSpec,
    run: Any,
    context: str,
    serving: bool = False,
    setting: str = "data.path",
    task: Task | None = None,
    contract: str | None = None,
) -> pd.DataFrame:
    """:func:`inspect_table`, raising on any failed check, so a FAILED run shows why."""
    checked, report = inspect_table(
        path, spec, run, context, serving, setting=setting, task=task, contract=contract
    )
    report.raise_if_failed()
    return checked


def schema_changes(reference: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """F4: how the columns of ``current`` differ from the fingerprint a model was trained on,
    one readable line per new, missing or retyped column."""
    before, after = reference["columns"], current["columns"]
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
