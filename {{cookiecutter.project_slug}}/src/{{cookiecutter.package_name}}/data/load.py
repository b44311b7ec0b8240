"""Read and validate in one step, so no stage can use a table it has not checked (P2)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from .io import read_table
from .schema import SchemaSpec
from .validation import DataValidationError, validate_frame


def fingerprint(frame: pd.DataFrame) -> dict[str, Any]:
    """F4: what identifies a table: row count, columns with dtypes, and a content digest."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return {
        "rows": len(frame),
        "columns": {str(name): str(dtype) for name, dtype in frame.dtypes.items()},
        "digest": digest.hexdigest()[:16],
    }


def load_validated(
    path: str | Path, spec: SchemaSpec, run: Any, context: str, serving: bool = False
) -> pd.DataFrame:
    """Read ``path``, validate it, record report and fingerprint on ``run``; raise on failure.

    The report and fingerprint are recorded before raising, so a FAILED run shows why.
    """
    frame = read_table(path)
    checked, report = validate_frame(frame, spec, str(path), serving=serving)
    run.log_data(frame, report, spec, context, fingerprint(frame))
    if not report.ok:
        raise DataValidationError(report)
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
