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

from ..config import Task
from ..errors import PipelineError
from .features import as_labels
from .schema import ColumnSpec, Kind, Role, SchemaSpec, build_pandera_schema

EXAMPLES = 5
# F3: values upstream systems like to use for "unknown"; one that is frequent and far outside
# the rest of a column is reported when the schema does not declare the column's magic values.
SENTINELS = (-1, -9, -99, -999, -9999, -99999, 0, 9, 99, 999, 9999, 99999, 999999)
SPIKE_SHARE = 0.01  # at least 1 % of the column's non-missing values...
SPIKE_MIN_ROWS = 2  # ...and at least this many rows
MIN_DISTINCT_REST = 3  # the other values must vary: in {-1, 1} or {-1, 0, 1} each may be real
# F2: how `make infer-schema` drafts a description; validation warns while one is left.
PLACEHOLDER = "FILL IN"


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
        super().__init__(
            report.file,
            first.check,
            f"{len(report.failures)} check(s) failed; first: {first.rows} row(s) "
            f"{', '.join(first.examples[:3])}".rstrip(),
            column=first.column,
        )

    def __str__(self) -> str:
        return self.report.render()


def _shown(value: object, whole: bool = False) -> str:
    """A value as the data has it: text quoted; in an integer column (``whole``), whole numbers
    without ``.0`` (an id column read with a gap becomes float, but the file says ``100005``)."""
    if isinstance(value, str):
        return repr(value)
    if whole and isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _examples(values: pd.Series, whole: bool = False) -> list[str]:
    return [_shown(v, whole) for v in values.drop_duplicates()[:EXAMPLES]]


def meaning(column: ColumnSpec | None) -> str | None:
    """F2: a column's description and unit, as shown next to every problem."""
    if column is None:
        return None
    return f"{column.description}, {column.unit}" if column.unit else column.description


STRUCTURE = {"column_in_dataframe": "column present", "column_in_schema": "no unexpected column"}
TYPE_CHECKS = ("coerce_dtype", "dtype(")


def _failures(
    errors: pa.errors.SchemaErrors, spec: SchemaSpec, frame: pd.DataFrame
) -> list[Problem]:
    """One problem per (column, check) from pandera's failure cases.

    Table-level checks (duplicate rows) become one problem with row numbers as examples; a
    constant column shows the value every row has; when a column has the wrong type, only that
    is reported, not the checks that then cannot run on it.
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
        whole = name in spec.columns and spec.columns[name].kind is Kind.integer
        examples = _examples(group["failure_case"], whole)
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
        elif check == "not_constant" and name in frame:  # pandera reports the check's False
            present = frame[name].dropna().unique()[:1]
            examples = [f"{_shown(v, whole)} (every row)" for v in present]
        described = spec.columns.get(name) if name else None
        problems.append(Problem(name, check, rows, examples, meaning(described)))
    return problems


def sentinel_warnings(frame: pd.DataFrame, spec: SchemaSpec) -> list[Problem]:
    """F3: a likely magic value in a numeric column whose ``magic_values`` are not declared.

    A value of :data:`SENTINELS` is reported when it is frequent (at least 1 % of the column's
    non-missing values and :data:`SPIKE_MIN_ROWS` rows, but not all of them) and far outside
    the rest of the column, which has at least :data:`MIN_DISTINCT_REST` distinct values: either
    a negative value in a column whose other values are never negative (``-1`` among counts), or
    a value beyond the other values' min..max by more than their whole width (``999`` among
    ages). A real ``0`` next to small positive numbers, or a class ``0`` next to ``1`` and
    ``2``, is neither. ``make infer-schema`` proposes exactly what this reports. A declared
    list, even ``magic_values: []``, is complete: the column is never warned about.

    Cheap on clean data: only sentinels inside a column's min-max are counted, and the rest of
    the column is looked at only for a sentinel frequent enough to matter."""
    warnings = []
    for name, col in spec.columns.items():
        if (
            col.magic_values is not None
            or col.kind not in (Kind.integer, Kind.float)
            or col.role in (Role.id, Role.ignore)
            or name not in frame
        ):
            continue
        numbers = pd.to_numeric(frame[name], errors="coerce")
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)  # Int64 holds pd.NA
        values = values[~np.isnan(values)]
        if values.size == 0:
            continue
        low_all, high_all = values.min(), values.max()
        for sentinel in SENTINELS:
            if not low_all <= sentinel <= high_all:
                continue
            count = int(np.count_nonzero(values == sentinel))
            if count < max(SPIKE_SHARE * values.size, SPIKE_MIN_ROWS) or count == values.size:
                continue
            rest = values[values != sentinel]
            low, high = rest.min(), rest.max()
            if np.unique(rest).size < MIN_DISTINCT_REST:
                continue
            negative_code = sentinel < 0 <= low
            width = high - low
            beyond = sentinel < low - width or sentinel > high + width
            if not (negative_code or beyond):
                continue
            warnings.append(
                Problem(
                    name,
                    f"undeclared magic value {sentinel:g} ({100 * count / values.size:.1f} % of "
                    "rows, far outside the rest): if it means 'unknown', list it in "
                    "magic_values; if it is a real value, write magic_values: [] (F3)",
                    count,
                    [f"{sentinel:g}"],
                    meaning(col),
                )
            )
    return warnings


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


FEW_VALUES = (
    10  # a regression target with at most this many distinct whole values looks like classes
)


def target_problems(
    frame: pd.DataFrame, spec: SchemaSpec, task: Task
) -> tuple[list[Problem], list[Problem]]:
    """The target against the task, as ``(failures, warnings)``: a binary task needs exactly two
    classes and a multiclass task at least two (the classes found are named); a regression
    target with only a few distinct whole values is probably a set of classes (a warning)."""
    targets = [name for name in spec.names(Role.target) if name in frame]
    if not targets:
        return [], []
    name = targets[0]
    values = frame[name].dropna()
    described = meaning(spec.columns[name])
    if task.is_classification:
        classes = sorted(as_labels(values).unique())
        found = f"found {len(classes)}"
        if task is Task.binary_classification and len(classes) != 2:
            check = f"2 classes for {task.value} ({found})"
        elif len(classes) < 2:
            check = f"at least 2 classes for {task.value} ({found})"
        else:
            return [], []
        return [Problem(name, check, 0, classes[: EXAMPLES * 2], described)], []
    numbers = pd.to_numeric(values, errors="coerce")
    distinct = numbers.dropna().unique()
    if len(distinct) <= FEW_VALUES and bool((distinct % 1 == 0).all()):
        shown = [f"{v:g}" for v in sorted(distinct)]
        check = (
            f"a regression target with only {len(distinct)} distinct whole values: "
            "if they are classes, set data.task to a classification task"
        )
        return [], [Problem(name, check, 0, shown, described)]
    return [], []


def validate_frame(
    frame: pd.DataFrame,
    spec: SchemaSpec,
    source: str,
    serving: bool = False,
    table_checks: bool | None = None,
) -> tuple[pd.DataFrame, ValidationReport]:
    """Validate ``frame`` lazily; return the coerced frame and the report (failures included).
    ``serving`` and ``table_checks``: see :func:`~.schema.build_pandera_schema`."""
    report = ValidationReport(file=source, rows=len(frame), columns=[str(c) for c in frame.columns])
    schema = build_pandera_schema(spec, serving=serving, table_checks=table_checks)
    try:
        frame = schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        report.failures = _failures(errors, spec, frame)
    if not spec.strict:
        unexpected = [c for c in frame.columns if c not in spec.columns]
        report.warnings += [
            Problem(c, "column expected (schema not strict)", 0) for c in unexpected
        ]
    report.warnings += sentinel_warnings(frame, spec)
    report.warnings += placeholder_warnings(spec)
    return frame, report


def check_frame(
    frame: pd.DataFrame, spec: SchemaSpec, source: str, serving: bool = False
) -> tuple[pd.DataFrame, ValidationReport]:
    """Like :func:`validate_frame`, but raise :class:`DataValidationError` on any failure."""
    validated, report = validate_frame(frame, spec, source, serving)
    report.raise_if_failed()
    return validated, report


def write_report(report: ValidationReport, directory: Path) -> tuple[Path, Path]:
    """Write ``validation.json`` and ``validation.txt`` into ``directory``."""
    from .io import write_text

    as_json = write_text(directory / "validation.json", report.to_json() + "\n")
    as_text = write_text(directory / "validation.txt", report.render() + "\n")
    return as_json, as_text


def describe_features(spec: SchemaSpec) -> list[dict[str, str | None]]:
    """F2: the feature list with meaning and unit, as logged next to every run."""
    return [
        {"name": name, "kind": col.kind.value, "unit": col.unit, "description": col.description}
        for name, col in spec.columns.items()
        if col.role is Role.feature
    ]
