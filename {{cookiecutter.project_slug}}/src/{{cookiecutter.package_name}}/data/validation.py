"""Validate a table against its contract and report every problem at once (P2).

pandera's lazy validation checks every row; this module groups its failure cases into one line
per (column, check) with a count and a few example values, and adds what is not about any one
row (:mod:`.table_checks`: duplicates, constant columns, an undeclared sentinel spike, F3, the
target's classes), unexpected columns when the schema is not strict, and drafted descriptions
(F2). A table read in pieces is checked row by row per piece and as a whole by the table
checks, so its report is the whole table's.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from .report import Problem, ValidationReport, examples_of, meaning
from .schema import Kind, Role, SchemaSpec, build_pandera_schema
from .table_checks import TableChecks

# F2: how `make infer-schema` drafts a description; validation warns while one is left.
PLACEHOLDER = "FILL IN"


STRUCTURE = {"column_in_dataframe": "column present", "column_in_schema": "no unexpected column"}


def _failures(errors: pa.errors.SchemaErrors, spec: SchemaSpec) -> list[Problem]:
    """One problem per (column, check) from pandera's failure cases; when a column has the
    wrong type, only that is reported, not the checks that then cannot run on it."""
    cases = errors.failure_cases
    mistyped = set(cases.loc[cases["check"].astype(str).str.startswith("coerce_dtype"), "column"])
    follow_on = (
        cases["column"].isin(mistyped)
        & ~cases["check"].astype(str).str.startswith("coerce_dtype")
        & ~cases["check"].eq("not_nullable")
    )
    cases = cases[~follow_on]
    problems = []
    keys = [cases["column"].fillna(""), cases["check"].astype(str)]
    for (column, check), group in cases.groupby(keys, sort=False):
        name: str | None = column or None
        whole = name in spec.columns and spec.columns[name].kind is Kind.integer
        examples = examples_of(group["failure_case"], whole)
        rows = int(group["index"].nunique()) if group["index"].notna().any() else len(group)
        if check in STRUCTURE:  # the failure case is the column's name
            name, check, rows, examples = (
                str(group["failure_case"].iloc[0]),
                STRUCTURE[check],
                0,
                [],
            )
        elif check.startswith("coerce_dtype"):
            check = f"{spec.columns[name].kind.value} values"
        described = spec.columns.get(name) if name else None
        problems.append(Problem(name, check, rows, examples, meaning(described)))
    return problems


def placeholder_warnings(spec: SchemaSpec) -> list[Problem]:
    """F2: one warning naming every column whose description still starts with
    :data:`PLACEHOLDER` (as ``make infer-schema`` drafts them), so a draft is not taken for a
    reviewed contract."""
    unfilled = [
        name for name, col in spec.columns.items() if col.description.startswith(PLACEHOLDER)
    ]
    if not unfilled:
        return []
    check = (
        f"description still {PLACEHOLDER!r} in {len(unfilled)} column(s): write one line a "
        "newcomer understands for each (F2)"
    )
    return [Problem(None, check, 0, [repr(name) for name in unfilled])]


def check_rows(
    frame: pd.DataFrame, spec: SchemaSpec, source: str, serving: bool = False
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate every row of ``frame`` lazily (``serving``: the target may be absent); return
    the coerced frame and the report, failures included, without the table checks."""
    report = ValidationReport(file=source, rows=len(frame), columns=[str(c) for c in frame.columns])
    try:
        frame = build_pandera_schema(spec, serving=serving).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        report.failures = _failures(errors, spec)
    if not spec.strict:
        unexpected = [c for c in frame.columns if c not in spec.columns]
        report.warnings += [
            Problem(c, "column expected (schema not strict)", 0) for c in unexpected
        ]
    report.warnings += placeholder_warnings(spec)
    return frame, report


def mistyped(report: ValidationReport, spec: SchemaSpec) -> set[str]:
    """The columns whose values are not of their declared kind, as ``report`` found."""
    return {
        p.column
        for p in report.failures
        if p.column in spec.columns and p.check == f"{spec.columns[p.column].kind.value} values"
    }


def finish(report: ValidationReport, checks: TableChecks) -> ValidationReport:
    """Add what the table checks found to ``report`` (once every piece is counted)."""
    failures, warnings = checks.problems()
    report.failures += failures
    report.warnings += warnings
    return report


def validate_frame(
    frame: pd.DataFrame, spec: SchemaSpec, source: str, serving: bool = False
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate a whole table: every row, then the table checks (not for rows to score,
    ``serving``: one row is a valid request). Return the coerced frame and the report."""
    checked, report = check_rows(frame, spec, source, serving)
    checks = TableChecks(spec, table=not serving).add(checked, mistyped(report, spec))
    return checked, finish(report, checks)


def check_frame(
    frame: pd.DataFrame, spec: SchemaSpec, source: str, serving: bool = False
) -> tuple[pd.DataFrame, ValidationReport]:
    """Like :func:`validate_frame`, but raise :class:`~.report.DataValidationError` on any failure."""
    validated, report = validate_frame(frame, spec, source, serving)
    report.raise_if_failed()
    return validated, report


def describe_features(spec: SchemaSpec) -> list[dict[str, str | None]]:
    """F2: the feature list with meaning and unit, as logged next to every run."""
    return [
        {"name": name, "kind": col.kind.value, "unit": col.unit, "description": col.description}
        for name, col in spec.columns.items()
        if col.role is Role.feature
    ]
