"""Validate a table against its contract and report every problem at once (P2).

pandera's lazy validation finds the failures; this module groups its failure cases into one
line per (column, check) with a count and a few example values, adds warnings pandera has no
check for (an undeclared sentinel spike, F3; rare categories, F1; unexpected columns when the
schema is not strict), and renders the result for people (text) and machines (JSON).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from ..errors import PipelineError
from .schema import ColumnSpec, Kind, Role, SchemaSpec, build_pandera_schema

EXAMPLES = 5
# F3: values upstream systems like to use for "unknown"; a spike of one of them far outside the
# rest of a column is reported when the schema does not declare it.
SENTINELS = (-1.0, -99.0, -999.0, -9999.0, 0.0, 99.0, 999.0, 9999.0, 99999.0)
SPIKE_SHARE = 0.01  # at least 1 % of the rows


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

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "ok": self.ok}, indent=2, default=str)

    def render(self) -> str:
        """A readable report: one line per failure, then the warnings."""
        verdict = "passed" if self.ok else f"FAILED {len(self.failures)} check(s)"
        lines = [f"Validation of {self.file} ({self.rows} rows): {verdict}"]
        for title, problems in (("failure", self.failures), ("warning", self.warnings)):
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
        super().__init__(
            report.file,
            first.check,
            f"{len(report.failures)} check(s) failed; first: {first.rows} row(s) "
            f"{', '.join(first.examples[:3])}".rstrip(),
            column=first.column,
        )

    def __str__(self) -> str:
        return self.report.render()


def _examples(values: pd.Series) -> list[str]:
    return [repr(v) if isinstance(v, str) else str(v) for v in values.drop_duplicates()[:EXAMPLES]]


def meaning(column: ColumnSpec | None) -> str | None:
    """F2: a column's description and unit, as shown next to every problem."""
    if column is None:
        return None
    return f"{column.description}, {column.unit}" if column.unit else column.description


STRUCTURE = {"column_in_dataframe": "column present", "column_in_schema": "no unexpected column"}
TYPE_CHECKS = ("coerce_dtype", "dtype(")


def _failures(errors: pa.errors.SchemaErrors, spec: SchemaSpec) -> list[Problem]:
    """One problem per (column, check) from pandera's failure cases.

    Table-level checks (duplicate rows) become one problem with row numbers as examples; when a
    column has the wrong type, only that is reported, not the checks that then cannot run on it.
    """
    cases = errors.failure_cases.copy()
    table_level = cases["schema_context"].eq("DataFrameSchema") & ~cases["check"].isin(STRUCTURE)
    cases.loc[table_level, "column"] = None
    mistyped = set(cases.loc[cases["check"].astype(str).str.startswith("coerce_dtype"), "column"])
    follow_on = (
        cases["column"].isin(mistyped)
        & ~cases["check"].astype(str).str.startswith("coerce_dtype")
        & ~cases["check"].isin(["not_nullable", "field_uniqueness"])
    )
    cases = cases[~follow_on]
    problems = []
    keys = [cases["column"].fillna(""), cases["check"].astype(str)]
    for (column, check), group in cases.groupby(keys, sort=False):
        name: str | None = column or None
        examples = _examples(group["failure_case"])
        rows = int(group["index"].nunique()) if group["index"].notna().any() else len(group)
        if check in STRUCTURE:  # the failure case is the column's name
            name, check, rows, examples = (
                str(group["failure_case"].iloc[0]),
                STRUCTURE[check],
                0,
                [],
            )
        elif name is None:  # a table-level check: show row numbers
            examples = [f"row {i}" for i in group["index"].drop_duplicates()[:EXAMPLES]]
        elif check.startswith("coerce_dtype"):
            check = f"{spec.columns[name].kind.value} values"
        described = spec.columns.get(name) if name else None
        problems.append(Problem(name, check, rows, examples, meaning(described)))
    return problems


def sentinel_warnings(frame: pd.DataFrame, spec: SchemaSpec) -> list[Problem]:
    """F3: an undeclared value from :data:`SENTINELS` in at least 1 % of a numeric column's rows
    that lies far outside the rest of its values (beyond the 1-99 % range by a twentieth of it).

    Cheap on clean data: only sentinels inside a column's min-max are counted, and quantiles are
    computed only for a sentinel frequent enough to matter."""
    warnings = []
    for name, col in spec.columns.items():
        if col.kind not in (Kind.integer, Kind.float) or name not in frame:
            continue
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
        present = int(np.count_nonzero(~np.isnan(values)))
        if present == 0:
            continue
        low_all, high_all = np.nanmin(values), np.nanmax(values)
        for sentinel in SENTINELS:
            if sentinel in col.magic_values or not low_all <= sentinel <= high_all:
                continue
            count = int(np.count_nonzero(values == sentinel))
            if count < max(SPIKE_SHARE * present, 2) or count == present:
                continue
            rest = values[(values != sentinel) & ~np.isnan(values)]
            low, high = np.quantile(rest, [0.01, 0.99])
            margin = 0.05 * max(high - low, 1e-9)
            if low - margin <= sentinel <= high + margin:
                continue
            warnings.append(
                Problem(
                    name,
                    f"undeclared magic value {sentinel:g} ({100 * count / present:.1f} % of rows "
                    "far outside the rest; declare it in magic_values)",
                    count,
                    [f"{sentinel:g}"],
                    meaning(col),
                )
            )
    return warnings


def validate_frame(
    frame: pd.DataFrame, spec: SchemaSpec, source: str, serving: bool = False
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate ``frame`` lazily; return the coerced frame and the report (failures included)."""
    report = ValidationReport(file=source, rows=len(frame), columns=[str(c) for c in frame.columns])
    schema = build_pandera_schema(spec, serving=serving)
    try:
        frame = schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        report.failures = _failures(errors, spec)
    if not spec.strict:
        unexpected = [c for c in frame.columns if c not in spec.columns]
        report.warnings += [
            Problem(c, "column expected (schema not strict)", 0) for c in unexpected
        ]
    report.warnings += sentinel_warnings(frame, spec)
    return frame, report


def check_frame(
    frame: pd.DataFrame, spec: SchemaSpec, source: str, serving: bool = False
) -> tuple[pd.DataFrame, ValidationReport]:
    """Like :func:`validate_frame`, but raise :class:`DataValidationError` on any failure."""
    validated, report = validate_frame(frame, spec, source, serving)
    if not report.ok:
        raise DataValidationError(report)
    return validated, report


def write_report(report: ValidationReport, directory: Path) -> tuple[Path, Path]:
    """Write ``validation.json`` and ``validation.txt`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    as_json, as_text = directory / "validation.json", directory / "validation.txt"
    as_json.write_text(report.to_json() + "\n", encoding="utf-8")
    as_text.write_text(report.render() + "\n", encoding="utf-8")
    return as_json, as_text


def describe_features(spec: SchemaSpec) -> list[dict[str, str | None]]:
    """F2: the feature list with meaning and unit, as logged next to every run."""
    return [
        {"name": name, "kind": col.kind.value, "unit": col.unit, "description": col.description}
        for name, col in spec.columns.items()
        if col.role is Role.feature
    ]
