"""The data contract as reviewed code (P2, P5): a YAML schema file turned into a pandera schema.

The YAML (``schemas/*.yaml``, chosen by ``data.schema``) says, per column, its role, logical type,
nullability, range, allowed categories, declared magic values (F3), description and unit (F2).
It is loaded through the :class:`SchemaSpec` dataclasses, so a misspelt key in the schema fails
loudly too. :func:`build_pandera_schema` turns it into a ``pandera`` schema whose lazy validation
reports every failure at once; pandera does the checking, this module only declares it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ..config import Task
from ..errors import PipelineError, first_line


class Role(str, Enum):
    """What a column is for: only ``feature`` columns reach the model."""

    feature = "feature"
    target = "target"
    id = "id"
    time = "time"
    ignore = "ignore"


class Kind(str, Enum):
    """Logical type of a column, independent of how a CSV reader guessed it."""

    integer = "integer"
    float = "float"
    category = "category"
    date = "date"


@dataclass
class ColumnSpec:
    """One column of the contract."""

    description: str  # F2: one line a newcomer understands
    kind: Kind = Kind.float
    role: Role = Role.feature
    unit: str | None = None
    nullable: bool = False
    unique: bool = False
    min: float | None = None
    max: float | None = None
    categories: list[Any] | None = None
    # F3: values that mean "unknown". None (absent): not declared, so validation may warn about a
    # likely one; a list, even []: declared and complete, never warned about.
    magic_values: list[float] | None = None
    # M7: a column about a person (age, gender, ...): always sliced and gated by
    # ``train.max_slice_gap``, and never written into a logged example (D5). Its role still
    # decides whether it is a feature.
    sensitive: bool = False


@dataclass
class SchemaSpec:
    """The whole contract: its columns, and whether unexpected columns are an error."""

    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    strict: bool = True
    allow_duplicate_rows: bool = False

    def names(self, role: Role) -> list[str]:
        """Columns with ``role``, in schema order."""
        return [name for name, spec in self.columns.items() if spec.role is role]

    @property
    def features(self) -> list[str]:
        return self.names(Role.feature)

    @property
    def sensitive(self) -> list[str]:
        """M7: the columns marked ``sensitive``, in schema order."""
        return [name for name, spec in self.columns.items() if spec.sensitive]

    def fingerprint(self) -> str:
        """A short hash of the contract's content (F4: notice when the schema changes)."""
        text = json.dumps(asdict(self), sort_keys=True, default=_plain)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _plain(value: object) -> object:
    """An enum as its value, anything else JSON lacks as text (for :meth:`SchemaSpec.fingerprint`)."""
    return value.value if isinstance(value, Enum) else str(value)


def load_schema(path: str | Path) -> SchemaSpec:
    """Read a schema YAML; an unknown key or wrong type fails naming the file and the key.

    A schema already read with the same bytes is not parsed again (OmegaConf's typed merge is
    the slow part): every stage and test reads the same few files many times."""
    path = Path(path)
    if not path.is_file():
        raise PipelineError(str(path), "schema exists", "no such schema file; see data.schema")
    content = path.read_bytes()
    if content not in _PARSED:
        _PARSED[content] = _parse_schema(path)
    return copy.deepcopy(_PARSED[content])  # callers adjust roles (load_contract)


_PARSED: dict[bytes, SchemaSpec] = {}


def _parse_schema(path: Path) -> SchemaSpec:
    try:
        raw = OmegaConf.load(path)
        merged = OmegaConf.merge(OmegaConf.structured(SchemaSpec), raw)
        spec = OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        column = _failing_column(raw) if "raw" in locals() else None
        raise PipelineError(str(path), "schema is valid", first_line(err), column) from err
    assert isinstance(spec, SchemaSpec)
    for name, column in spec.columns.items():
        if not column.description.strip():  # F2: a column nobody can explain is a liability
            raise PipelineError(str(path), "column described (F2)", "description is blank", name)
    return spec


def dump_schema(spec: SchemaSpec) -> str:
    """``spec`` as YAML that :func:`load_schema` reads back to the same contract. Values are
    escaped where OmegaConf would take them for an interpolation (a category such as
    ``${price}``, seen in real data), so they stay plain text."""

    def plain(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("${", "\\${")
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    content = json.loads(json.dumps(asdict(spec), default=_plain))  # enums as their values
    return OmegaConf.to_yaml(OmegaConf.create(plain(content)))


def _failing_column(raw: Any) -> str | None:
    """The first column whose entry does not fit :class:`ColumnSpec` (a misspelt key such as
    ``nulable``, or a wrong type), so the error names it; None when the columns are fine."""
    columns = raw.get("columns") if isinstance(raw, DictConfig) else None
    if not isinstance(columns, DictConfig):
        return None
    for name, entry in columns.items():
        try:
            OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(ColumnSpec), entry))
        except OmegaConfBaseException:
            return str(name)
    return None


def as_labels(values: pd.Series) -> pd.Series:
    """Values as category labels: strings, with whole numbers written without ``.0`` (a CSV
    column with gaps reads ``1`` as ``1.0``; both must be the same category)."""
    uniques = values.dropna().unique()
    if all(isinstance(u, str) for u in uniques):
        return values  # text already: its own labels
    mapping = {
        u: str(int(u))
        if isinstance(u, (int, float, np.number)) and float(u).is_integer()
        else str(u)
        for u in uniques
    }
    return values.map(mapping)


def _category_check(spec: ColumnSpec) -> pa.Check:
    """In the declared categories, compared as labels (:func:`as_labels`): ``1``, ``1.0`` and
    ``"1"`` are one category, as the feature pipeline sees them, whatever type a reader guessed
    (a CSV piece of digits only reads as numbers where the whole file reads as text). The
    labels are made only for values not found as they are, so clean data costs one ``isin``."""
    allowed = list(spec.categories or [])
    labels = set(as_labels(pd.Series(allowed, dtype=object)))

    def known(values: pd.Series) -> pd.Series:
        found = values.isin(allowed)
        if not found.all():
            rest = ~found
            found[rest] = as_labels(values[rest]).isin(labels)
        return found

    return pa.Check(known, name=f"isin({allowed})")


def _range_check(spec: ColumnSpec) -> pa.Check:
    """``min <= x <= max``, where declared magic values (F3) are allowed outside the range."""
    low = -np.inf if spec.min is None else spec.min
    high = np.inf if spec.max is None else spec.max
    magic = list(spec.magic_values or [])
    name = f"in_range[{spec.min}, {spec.max}]" + (f" or magic {magic}" if magic else "")
    if not magic:
        return pa.Check(lambda s: s.between(low, high), name=name)
    return pa.Check(lambda s: s.between(low, high) | s.isin(magic), name=name)


def _column(spec: ColumnSpec, required: bool) -> pa.Column:
    """The pandera column for one spec: the checks each row must pass."""
    checks: list[pa.Check] = []
    dtype: Any = None
    coerce = False
    if spec.kind in (Kind.integer, Kind.float):
        dtype, coerce = "float64", True  # CSV readers turn ints with gaps into floats
        checks.append(pa.Check(lambda s: ~np.isinf(s), name="finite"))
        if spec.kind is Kind.integer:
            checks.append(pa.Check(lambda s: s % 1 == 0, name="whole_number"))
        if spec.min is not None or spec.max is not None:
            checks.append(_range_check(spec))
    elif spec.kind is Kind.date:
        checks.append(
            pa.Check(lambda s: pd.to_datetime(s, errors="coerce").notna(), name="parseable_date")
        )
    if spec.categories is not None:
        checks.append(_category_check(spec))
    return pa.Column(
        dtype,
        checks=checks,
        nullable=spec.nullable,
        coerce=coerce,
        required=required,
        description=spec.description,
        title=spec.unit,
    )


_BUILT: dict[tuple[str, bool], pa.DataFrameSchema] = {}
BUILT_KEPT = 64


def build_pandera_schema(spec: SchemaSpec, serving: bool = False) -> pa.DataFrameSchema:
    """The pandera schema every row of training data must pass, or every row that arrives to be
    scored (``serving``: the target may be absent). Checks about a whole table (duplicates,
    constant columns) are :mod:`.table_checks`', so a table read in pieces gets them too.

    Built once per contract content (its fingerprint): every piece of a file and every request
    to a served model is checked against the same contract, and building one costs more than
    checking a piece of rows."""
    key = (spec.fingerprint(), serving)
    if key not in _BUILT:
        if len(_BUILT) >= BUILT_KEPT:
            _BUILT.clear()
        _BUILT[key] = _pandera_schema(spec, serving)
    return _BUILT[key]


def _pandera_schema(spec: SchemaSpec, serving: bool) -> pa.DataFrameSchema:
    columns = {
        name: _column(col, not (serving and col.role is Role.target))
        for name, col in spec.columns.items()
    }
    return pa.DataFrameSchema(columns, strict=spec.strict)


def load_contract(path: str | Path, target: str, task: Task) -> SchemaSpec:
    """The schema at ``path`` with ``target`` as its target (the config names the target, so a
    drafted schema needs no edit for it) and the task's requirements on the target checked."""
    spec = load_schema(path)
    if target not in spec.columns:
        raise PipelineError(
            str(path), "target declared", "data.target is not a column of the schema", target
        )
    for name, col in spec.columns.items():
        if col.role is Role.target and name != target:
            col.role = Role.ignore  # another label must never become a feature
    column = spec.columns[target]
    column.role = Role.target
    column.nullable = False  # a row without a label teaches nothing
    if task is Task.regression and column.kind not in (Kind.integer, Kind.float):
        raise PipelineError(
            str(path), "numeric target", "a regression target must be numeric", target
        )
    if (
        task is Task.binary_classification
        and column.categories is not None
        and len(column.categories) != 2
    ):
        raise PipelineError(
            str(path),
            f"2 classes for {task.value}",
            f"the schema declares {len(column.categories)}: {list(column.categories)}",
            target,
        )
    if task.is_classification and column.kind in (Kind.float, Kind.date):
        raise PipelineError(
            str(path),
            "categorical target",
            f"kind {column.kind.value} cannot be a class label",
            target,
        )
    return spec


def check_slices(columns: list[str], spec: SchemaSpec, schema_file: str) -> None:
    """Refuse, before any work, slice columns the contract does not declare (all of them named)."""
    unknown = [column for column in columns if column not in spec.columns]
    if unknown:
        raise PipelineError(
            schema_file,
            "slice column declared",
            f"data.slices names {len(unknown)} column(s) the schema lacks: "
            + ", ".join(repr(c) for c in unknown),
            unknown[0] if len(unknown) == 1 else None,
        )
