"""Draft a schema for a table the project has never seen (``make infer-schema DATA=...``).

Starts from pandera's inference (dtypes, nullability, observed ranges), then adds what a
contract needs and pandera cannot guess: categories for low-cardinality text, dates, id
columns, and sentinel values that look like "unknown" (F3). The draft is written as commented
YAML for a person to tighten, review and commit (P5); it is a starting point, not a verdict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa

from .schema import ColumnSpec, Kind, Role, SchemaSpec
from .validation import sentinel_warnings

MAX_CATEGORIES = 30


def _observed_range(column: pa.Column) -> tuple[float | None, float | None]:
    """The min and max pandera recorded as checks on a numeric column."""
    low = high = None
    for check in column.checks:
        stats = check.statistics or {}
        if "min_value" in stats:
            low = float(stats["min_value"])
        if "max_value" in stats:
            high = float(stats["max_value"])
    return low, high


def _looks_like_date(values: pd.Series) -> bool:
    sample = values.dropna().astype(str).head(200)
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return not sample.empty and bool(parsed.notna().all()) and sample.str.len().min() >= 6


def draft_spec(frame: pd.DataFrame) -> SchemaSpec:
    """A schema that the table as given passes, with roles and kinds guessed per column."""
    inferred = pa.infer_schema(frame)
    columns: dict[str, ColumnSpec] = {}
    for name, values in frame.items():
        name = str(name)
        nullable = bool(values.isna().any())
        spec = ColumnSpec(description="FILL IN: what this column means", nullable=nullable)
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            whole = bool((values.dropna() % 1 == 0).all())
            spec.kind = Kind.integer if whole else Kind.float
            spec.min, spec.max = _observed_range(inferred.columns[name])
            if whole and values.is_unique and not nullable and name.lower().endswith("id"):
                spec.role, spec.unique, spec.min, spec.max = Role.id, True, None, None
            elif whole and values.nunique() <= 2:
                spec.kind, spec.categories = (
                    Kind.category,
                    sorted(values.dropna().unique().tolist()),
                )
        elif values.nunique() <= MAX_CATEGORIES:
            spec.kind = Kind.category
            spec.categories = sorted(str(v) for v in values.dropna().unique())
        elif _looks_like_date(values):
            spec.kind = Kind.date
        else:
            spec.kind, spec.role = Kind.category, Role.ignore  # free text or an id: not a feature
            spec.unique = bool(values.is_unique and not nullable)
        columns[name] = spec
    draft = SchemaSpec(columns=columns, allow_duplicate_rows=bool(frame.duplicated().any()))
    for warning in sentinel_warnings(frame, draft):  # F3: propose what looks like "unknown"
        assert warning.column is not None
        col = draft.columns[warning.column]
        col.magic_values.append(float(warning.examples[0]))
        real = frame[warning.column][~frame[warning.column].isin(col.magic_values)]
        col.min, col.max = float(real.min()), float(real.max())
    return draft


def _value(value: Any) -> str:
    """A YAML scalar or flow list (JSON is valid YAML and quotes what needs quoting)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, ensure_ascii=False)


def render_draft(spec: SchemaSpec, source: str) -> str:
    """The draft as commented YAML, in the format of ``schemas/customers.yaml``."""
    lines = [
        f"# DRAFT schema inferred from {source} by `make infer-schema`.",
        "# Review every column before committing (P5), then point data.schema at this file:",
        "#  - replace each 'FILL IN' description with one line a newcomer understands (F2), add units;",
        "#  - widen min/max from the observed values to what is plausible;",
        "#  - check proposed magic_values (F3): values that mean 'unknown', not real numbers;",
        "#  - set data.target and data.task in configs/data/; the target's role is set from there.",
        f"strict: {str(spec.strict).lower()}",
        f"allow_duplicate_rows: {str(spec.allow_duplicate_rows).lower()}",
        "",
        "columns:",
    ]
    for name, col in spec.columns.items():
        lines.append(f"  {_value(name)}:")
        lines.append(f"    description: {_value(col.description)}")
        lines.append(f"    kind: {col.kind.value}")
        if col.role is not Role.feature:
            note = "  # guessed: check it" if col.role is Role.ignore else ""
            lines.append(f"    role: {col.role.value}{note}")
        if col.nullable:
            lines.append("    nullable: true")
        if col.unique:
            lines.append("    unique: true")
        for key in ("min", "max"):
            if getattr(col, key) is not None:
                lines.append(f"    {key}: {_value(getattr(col, key))}   # observed; widen it")
        if col.categories is not None:
            lines.append(f"    categories: {_value(col.categories)}")
        if col.magic_values:
            lines.append(
                f"    magic_values: {_value(col.magic_values)}   # looks like 'unknown': confirm"
            )
    return "\n".join(lines) + "\n"


def write_draft(data_path: str | Path, output: str | Path) -> Path:
    """Infer a schema from ``data_path`` and write it to ``output`` (never over an existing file)."""
    from .io import read_table

    output = Path(output)
    if output.exists():
        raise FileExistsError(f"{output} exists; a draft never overwrites a reviewed schema")
    frame = read_table(data_path)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_draft(draft_spec(frame), str(data_path)), encoding="utf-8")
    return output
