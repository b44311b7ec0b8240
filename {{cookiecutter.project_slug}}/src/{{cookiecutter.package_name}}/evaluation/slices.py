"""M6: model quality on every slice of the data named in ``data.slices``, not only on average.

A category column is sliced by value (missing values form their own slice); a numeric column by
quartile. Each slice gets the task's metrics and its gap to the whole split on the primary
metric, so a group the model fails stands out. Slices smaller than ``MIN_ROWS`` are listed
without metrics: a score on a handful of rows is noise. M7: every column the schema marks
``sensitive`` is sliced too, listed or not (:func:`slice_columns`); promotion is gated on the
slices (``evaluation.gate.slice_gate``).
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..config import Task
from ..data.features import MISSING, as_labels
from ..data.schema import SchemaSpec
from ..reports.markdown import table
from .metrics import PRIMARY_METRIC, better_sign, compute_metrics

MIN_ROWS = 20
QUARTILES = 4


def slice_columns(listed: list[str], spec: SchemaSpec) -> list[str]:
    """The columns to slice by: ``data.slices``, then every sensitive column it leaves out
    (M7: a group the schema says must be served fairly is never left unmeasured)."""
    return [*listed, *(name for name in spec.sensitive if name not in listed)]


def slice_labels(values: pd.Series) -> pd.Series:
    """The slice each row belongs to: its category, or its quartile range for numbers."""
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > QUARTILES:
        bins = pd.qcut(values, QUARTILES, duplicates="drop")
        return bins.astype(str).where(values.notna(), MISSING)
    return as_labels(values).astype(object).where(values.notna(), MISSING).astype(str)


def slice_metrics(
    task: Task, frame: pd.DataFrame, columns: list[str], y: np.ndarray, outputs: np.ndarray
) -> list[dict[str, Any]]:
    """One row per slice: column, value, rows, each metric, and ``gap`` on the primary metric
    (slice minus whole split, signed so that negative is worse)."""
    primary = PRIMARY_METRIC[task]
    sign = better_sign(primary)
    overall = compute_metrics(task, y, outputs)[primary]
    rows: list[dict[str, Any]] = []
    for column in columns:
        labels = slice_labels(frame[column]).to_numpy()
        for value in sorted(set(labels)):
            mask = labels == value
            row: dict[str, Any] = {"column": column, "value": value, "rows": int(mask.sum())}
            if mask.sum() >= MIN_ROWS:
                with warnings.catch_warnings():  # one-class slices: sklearn warns, scores stand
                    warnings.simplefilter("ignore")
                    row |= compute_metrics(task, y[mask], outputs[mask])
                row["gap"] = sign * (row[primary] - overall)
            rows.append(row)
    return rows


def metric_name(prefix: str, row: dict[str, Any], metric: str) -> str:
    """A metric key such as ``slice/val/region/north/log_loss`` (the recorder makes it safe)."""
    return f"slice/{prefix}/{row['column']}/{row['value']}/{metric}"


def slice_scalars(prefix: str, rows: list[dict[str, Any]], task: Task) -> dict[str, float]:
    """The primary metric and row count of each slice, as metrics to log."""
    primary = PRIMARY_METRIC[task]
    scalars = {}
    for row in rows:
        scalars[metric_name(prefix, row, "rows")] = float(row["rows"])
        if primary in row:
            scalars[metric_name(prefix, row, primary)] = row[primary]
    return scalars


def render(rows: list[dict[str, Any]], task: Task) -> str:
    """A markdown table of the slices, worst gap first within each column."""
    primary = PRIMARY_METRIC[task]
    ordered = sorted(rows, key=lambda r: (r["column"], r.get("gap", np.inf)))
    cells = [
        [
            row["column"],
            row["value"],
            row["rows"],
            f"{row[primary]:.4f}" if primary in row else "too few rows",
            f"{row['gap']:+.4f}" if "gap" in row else "",
        ]
        for row in ordered
    ]
    return table(["column", "value", "rows", primary, "gap"], cells) + "\n"


def record_slices(run: Any, split: str, rows: list[dict[str, Any]], task: Task) -> None:
    """M6: slice metrics on ``split`` recorded on ``run``: as metrics, as JSON and as a markdown
    table."""
    run.log_metrics(slice_scalars(split, rows, task))
    run.log_text(json.dumps({"slices": rows}, indent=2), f"slices/{split}.json")
    run.log_text(render(rows, task), f"slices/{split}.md")
