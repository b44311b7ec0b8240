"""Draft the contract and the data config of a table the project has never seen
(``make infer-schema DATA=... TARGET=...``).

From the table alone it guesses, per column, a role and a kind, nullability, categories for
low-cardinality values, dates, id columns, a range that a normal new batch will not break
(:func:`widened_range`) and values that look like "unknown" (F3, by the very rule of
:func:`~.table_checks.sentinel_warnings`, so the draft and validation's warning agree). The target
is drafted as a target and the task is proposed from it (:func:`propose_task`). Both files are
commented YAML for a person to review and commit (P5): a starting point, not a verdict.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import FeaturesConfig, SplitConfig, Task
from ..errors import PipelineError
from .features import as_labels
from .schema import ColumnSpec, Kind, Role, SchemaSpec
from .table_checks import FEW_VALUES, sentinel_warnings
from .validation import PLACEHOLDER

MAX_CATEGORIES = 30  # values that are not numbers, with at most this many distinct: a category
SLICE_CATEGORIES = (2, 10)  # a proposed slice: a categorical feature with this many categories
MAX_SLICES = 2
SHOWN = 10  # classes and columns named in a comment or an error
DESCRIPTION = f"{PLACEHOLDER}: what this column means"
# A data config's name: a file in configs/data/ and a Hydra choice (`data=<name>`). `schema` is
# the data group's own schema node; the others are what Hydra reads as a bool, null or float.
NAME = re.compile(r"[a-z][a-z0-9_]*")
RESERVED_NAMES = frozenset({"schema", "true", "false", "null", "nan", "inf"})

RANGE_RULE = (
    "the observed range widened by its own width on each side, but not across 0 where no "
    "observed value is across it (a column never negative keeps min >= 0), rounded outward"
)
MAGIC_RULE = (
    "a value such as -1, 0, 99 or 999 found in at least 1 % of the rows and far outside the rest "
    "of the column: negative where every other value is >= 0, or beyond the other values' "
    "min..max by more than their whole width"
)


@dataclass
class Draft:
    """A drafted contract with what its rendering says next to the values it guessed."""

    spec: SchemaSpec
    notes: dict[tuple[str, str], str] = field(default_factory=dict)  # (column, key): a comment
    target: str | None = None
    task: Task | None = None
    reason: str = ""  # why this task

    @property
    def magic_columns(self) -> list[str]:
        return [name for name, col in self.spec.columns.items() if col.magic_values]

    @property
    def unfilled(self) -> list[str]:
        return [n for n, c in self.spec.columns.items() if c.description.startswith(PLACEHOLDER)]


@dataclass
class Drafted:
    """What :func:`write_drafts` wrote."""

    name: str
    schema: Path
    data_config: Path
    draft: Draft
    rows: int


def widened_range(low: float, high: float, whole: bool) -> tuple[float, float]:
    """The range drafted for a column observed between ``low`` and ``high`` (:data:`RANGE_RULE`):
    widened by its own width on each side (a constant column by its value, at least 1), kept at
    0 on a side no observed value crosses, rounded outward to whole numbers (``whole``) or to a
    tenth of the width's order of magnitude. A new batch from the same process stays inside."""
    width = high - low if high > low else max(abs(low), 1.0)
    wide_low, wide_high = low - width, high + width
    if low >= 0:
        wide_low = max(wide_low, 0.0)
    if high <= 0:
        wide_high = min(wide_high, 0.0)
    step = 10.0 ** (math.floor(math.log10(width)) - 1)
    if whole:
        step = max(step, 1.0)
    rounded = (math.floor(wide_low / step) * step, math.ceil(wide_high / step) * step)
    return float(f"{rounded[0]:.12g}"), float(f"{rounded[1]:.12g}")


def _is_number(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)


def _all_whole(present: pd.Series) -> bool:
    return bool((present % 1 == 0).all())


def _category_values(present: pd.Series) -> list[Any]:
    """The distinct values as a contract's ``categories``: whole numbers as ints, booleans as
    booleans (the check compares raw values), anything else as sorted text."""
    uniques = present.unique().tolist()
    if _is_number(present):
        return sorted(int(v) if float(v).is_integer() else float(v) for v in uniques)
    if all(isinstance(v, (bool, np.bool_)) for v in uniques):
        return sorted(bool(v) for v in uniques)
    return sorted(str(v) for v in uniques)


def _shown(values: list[Any]) -> str:
    labels = as_labels(pd.Series(values, dtype=object)).tolist()
    more = f", ... ({len(labels) - SHOWN} more)" if len(labels) > SHOWN else ""
    return ", ".join(labels[:SHOWN]) + more


def propose_task(values: pd.Series) -> tuple[Task, str, list[Any] | None]:
    """The task a target suggests, why (one line), and its classes (None for regression).

    Values that are not numbers, or whole numbers with at most :data:`FEW_VALUES` distinct
    values, are classes: binary with exactly 2, multiclass with more. Other numbers (not all
    whole, or more distinct whole values) are a regression target."""
    present = values.dropna()
    if _is_number(present):
        distinct = present.nunique()
        if not _all_whole(present):
            return Task.regression, f"numbers, not all whole ({distinct} distinct values)", None
        if distinct > FEW_VALUES:
            reason = f"{distinct} distinct whole numbers (classes have at most {FEW_VALUES})"
            return Task.regression, reason, None
    classes = _category_values(present)
    task = Task.binary_classification if len(classes) == 2 else Task.multiclass_classification
    why = f" (whole numbers, at most {FEW_VALUES} distinct)" if _is_number(present) else ""
    return task, f"{len(classes)} classes found: {_shown(classes)}{why}", classes


def _target_spec(values: pd.Series, name: str, source: str) -> tuple[ColumnSpec, Task, str]:
    """The target drafted as a target: its classes (classification) or its numeric kind
    (regression); never a range or magic values, which would hide or refuse labels."""
    present = values.dropna()
    task, reason, classes = propose_task(values)
    if classes is not None and len(classes) < 2:
        found = f"only {_shown(classes)}" if classes else "no value at all"
        raise PipelineError(
            source, "target has 2 or more values", f"{found}: nothing to learn", name
        )
    spec = ColumnSpec(description=DESCRIPTION, role=Role.target)
    if classes is not None:
        spec.kind, spec.categories = Kind.category, classes
    else:
        spec.kind = Kind.integer if _all_whole(present) else Kind.float
    missing = int(values.isna().sum())
    if missing:
        reason += f"; {missing} row(s) without a label, which validation refuses"
    return spec, task, reason


def _looks_like_date(values: pd.Series) -> bool:
    sample = values.dropna().astype(str).head(200)
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return not sample.empty and bool(parsed.notna().all()) and sample.str.len().min() >= 6


def _column_spec(name: str, values: pd.Series) -> ColumnSpec:
    """A feature (or id, or ignored column) guessed from its values; no range yet."""
    nullable = bool(values.isna().any())
    present = values.dropna()
    spec = ColumnSpec(description=DESCRIPTION, nullable=nullable)
    if _is_number(values):
        whole = _all_whole(present)
        spec.kind = Kind.integer if whole else Kind.float
        if whole and values.is_unique and not nullable and name.lower().endswith("id"):
            spec.role, spec.unique = Role.id, True
        elif whole and present.nunique() <= 2:  # a flag: its values are categories
            spec.kind, spec.categories = Kind.category, _category_values(present)
    elif present.nunique() <= MAX_CATEGORIES:
        spec.kind, spec.categories = Kind.category, _category_values(present)
    elif _looks_like_date(values):
        spec.kind = Kind.date
    else:
        spec.kind, spec.role = Kind.category, Role.ignore  # free text or an id: not a feature
        spec.unique = bool(values.is_unique and not nullable)
    return spec


def draft(frame: pd.DataFrame, target: str | None = None, source: str = "the table") -> Draft:
    """A contract that ``frame`` passes, with roles and kinds guessed per column, ``target``
    (when given) drafted as the target and the task proposed from it."""
    result = Draft(SchemaSpec(allow_duplicate_rows=bool(frame.duplicated().any())), target=target)
    columns = result.spec.columns
    for name, values in frame.items():
        name = str(name)
        if name == target:
            columns[name], result.task, result.reason = _target_spec(values, name, source)
            result.notes[(name, "role")] = f"proposed task {result.task.value}: {result.reason}"
        else:
            columns[name] = _column_spec(name, values)
    for warning in sentinel_warnings(frame, result.spec):  # F3: the same rule as validation
        assert warning.column is not None
        if warning.column == target:
            continue
        col = columns[warning.column]
        col.magic_values = [*(col.magic_values or []), float(warning.examples[0])]
        share = 100 * warning.rows / frame[warning.column].notna().sum()
        result.notes[(warning.column, "magic_values")] = (
            f"{share:.1f} % of rows, far outside the rest: confirm it means 'unknown'"
        )
    for name, col in columns.items():
        if col.role is not Role.feature or col.kind not in (Kind.integer, Kind.float):
            continue
        values = pd.to_numeric(frame[name], errors="coerce").dropna()
        real = values[~values.isin(col.magic_values or [])]
        if real.empty:
            continue
        low, high = float(real.min()), float(real.max())
        col.min, col.max = widened_range(low, high, col.kind is Kind.integer)
        result.notes[(name, "min")] = f"observed {low:g}"
        result.notes[(name, "max")] = f"observed {high:g}"
    return result


def draft_spec(frame: pd.DataFrame, target: str | None = None) -> SchemaSpec:
    """The drafted contract of ``frame`` (see :func:`draft`)."""
    return draft(frame, target).spec


def _escape(text: str) -> str:
    """``text`` for OmegaConf: ``${`` would start an interpolation, so it is written ``\\${``
    (and the backslashes before it doubled, as OmegaConf's grammar reads them)."""
    return re.sub(r"(\\*)\$\{", lambda m: "\\" * (2 * len(m.group(1)) + 1) + "${", text)


def _scalar(value: Any) -> str:
    """A YAML scalar: JSON is valid YAML and quotes what needs quoting."""
    if isinstance(value, str):
        value = _escape(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, ensure_ascii=False)


def _value(value: Any) -> str:
    """A YAML scalar, or a flow list of scalars."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return _scalar(value)


def _key(name: str) -> str:
    """A column name as a YAML key (keys are never interpolated: quoted, not escaped)."""
    return json.dumps(name, ensure_ascii=False)


def _one_line(text: str) -> str:
    """``text`` fit for a YAML comment (a line break would end it)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _line(text: str, note: str | None) -> str:
    return f"{text}   # {_one_line(note)}" if note else text


def _bullet(text: str) -> list[str]:
    """A bullet of the draft's header, wrapped as comment lines."""
    wrapped = textwrap.wrap(text, width=92)
    return [f"#  - {wrapped[0]}", *(f"#    {line}" for line in wrapped[1:])]


def render_draft(
    spec: SchemaSpec, source: str, notes: dict[tuple[str, str], str] | None = None
) -> str:
    """The drafted contract as commented YAML, in the format of ``schemas/sample.yaml``."""
    notes = notes or {}
    lines = [
        f"# DRAFT data contract for {_one_line(source)}, written by `make infer-schema`.",
        "# Review every column and commit it with its data config (P5). The keys are explained",
        "# at the head of schemas/sample.yaml.",
        *_bullet(
            f"description: replace each {PLACEHOLDER!r} with one line a newcomer understands "
            "(F2) and give numbers a unit; validation warns, naming the columns, until none is "
            "left."
        ),
        *_bullet(
            f"min, max: {RANGE_RULE}, so that a normal new batch does not break them; tighten "
            "them to what is plausible. Ids, ignored columns, dates and the target have none."
        ),
        *_bullet(
            f"magic_values (F3), values that mean 'unknown': proposed only for {MAGIC_RULE}. "
            "Confirm each. Without the key, validation warns about such a value; "
            "`magic_values: []` says the column has none (every value is real)."
        ),
        *_bullet(
            "role: id and ignore are guessed; the target is drafted as a target (its classes, "
            "or numbers), with no range and no magic values."
        ),
        *_bullet(
            "sensitive: true (M7) on each column about a person (age, gender, ...): it is "
            "then always sliced, gated by train.max_slice_gap and kept out of logged examples; "
            "never guessed."
        ),
        f"strict: {str(spec.strict).lower()}",
        f"allow_duplicate_rows: {str(spec.allow_duplicate_rows).lower()}",
        "",
        "columns:",
    ]
    for name, col in spec.columns.items():
        lines.append(f"  {_key(name)}:")
        lines.append(f"    description: {_scalar(col.description)}")
        lines.append(f"    kind: {col.kind.value}")
        if col.role is not Role.feature:
            guessed = "guessed: free text or an id, not a feature; check it"
            default = guessed if col.role is Role.ignore else None
            lines.append(_line(f"    role: {col.role.value}", notes.get((name, "role"), default)))
        if col.nullable:
            lines.append("    nullable: true")
        if col.unique:
            lines.append("    unique: true")
        for key in ("min", "max"):
            if getattr(col, key) is not None:
                text = f"    {key}: {_value(getattr(col, key))}"
                lines.append(_line(text, notes.get((name, key))))
        if col.categories is not None:
            lines.append(f"    categories: {_value(col.categories)}")
        if col.magic_values is not None:
            text = f"    magic_values: {_value(col.magic_values)}"
            lines.append(_line(text, notes.get((name, "magic_values"))))
    return "\n".join(lines) + "\n"


def _config_path(path: Path, root: Path) -> str:
    """``path`` as a config value: ``${paths.root}/...`` inside the project, else absolute."""
    path = path.resolve()
    try:
        inside = path.relative_to(root.resolve())
    except ValueError:
        return json.dumps(_escape(str(path)), ensure_ascii=False)
    return json.dumps("${paths.root}/" + _escape(inside.as_posix()), ensure_ascii=False)


def _slices(spec: SchemaSpec) -> list[str]:
    """M6: the first categorical features with 2 to 10 categories, at most two of them."""
    low, high = SLICE_CATEGORIES
    return [
        name
        for name, col in spec.columns.items()
        if col.role is Role.feature
        and col.kind is Kind.category
        and col.categories is not None
        and low <= len(col.categories) <= high
    ][:MAX_SLICES]


def render_data_config(
    name: str, data_path: Path, schema_path: Path, result: Draft, root: Path
) -> str:
    """The drafted data config, in the format of ``configs/data/sample.yaml``."""
    if result.target is None or result.task is None:
        raise ValueError("a data config needs a target")
    package = __name__.split(".")[0]
    split, features = SplitConfig(), FeaturesConfig()
    slices = _slices(result.spec)
    dates = [n for n, c in result.spec.columns.items() if c.kind is Kind.date]
    low, high = SLICE_CATEGORIES
    if slices:
        slices_note = (
            f"# proposed: the first categorical features with {low} to {high} categories "
            f"(at most {MAX_SLICES}); [] for none."
        )
    else:
        slices_note = f"# no categorical feature with {low} to {high} categories: name columns."
    time_note = (
        f"{_key(dates[0])} holds dates: name it to train on the past, test on the future"
        if dates
        else "a date column: train on the past, test on the future"
    )
    lines = [
        f"# DRAFT data config for {json.dumps(str(data_path), ensure_ascii=False)}, "
        "written by `make infer-schema`",
        f"# with its contract {schema_path.name} (schemas/). Review both (P5), then select this",
        f"# table with `make use-data NAME={name}`.",
        "defaults:",
        "  - schema",
        "  - _self_",
        "",
        f"name: {name}   # this table's lineage: its models register as {package}-{name}",
        f"path: {_config_path(data_path, root)}",
        f"schema: {_config_path(schema_path, root)}   # the data contract (P2), reviewed like code",
        "# new_rows: a file of new, unlabelled rows of this table (no target column), what",
        "# `make predict` and `make monitor` read by default; null until you have one.",
        "new_rows: null",
        _line(f"task: {result.task.value}", f"proposed: {result.reason}"),
        f"target: {_scalar(result.target)}",
        "",
        "# M6: metrics per value of these columns (quartiles for numbers), on validation and test.",
        slices_note,
        f"slices: {_value(slices)}",
        "",
        "split:",
        f"  val_fraction: {split.val_fraction}",
        f"  test_fraction: {split.test_fraction}",
        f"  seed: {split.seed}   # fixed separately from train.seed, so the split stays put while you tune",
        f"  time_column: null   # {time_note}",
        "",
        "features:",
        f"  rare_min_count: {features.rare_min_count}   # F1: rarer categories share one"
        ' "__other__" bucket',
    ]
    return "\n".join(lines) + "\n"


def config_name(stem: str) -> str:
    """A safe data-config name from a file stem: lowercase ASCII letters, digits and ``_``,
    starting with a letter (``Wine Quality-2024`` -> ``wine_quality_2024``)."""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    name = re.sub(r"[^a-z0-9]+", "_", ascii_stem.lower()).strip("_")
    if not name[:1].isalpha():
        name = f"data_{name}".rstrip("_")
    return f"{name}_data" if name in RESERVED_NAMES else name


def _check_name(name: str, source: str) -> None:
    if not NAME.fullmatch(name) or name in RESERVED_NAMES:
        raise PipelineError(
            source,
            "usable name",
            f"{name!r} cannot name a data config: use lowercase letters, digits and _, starting "
            f"with a letter, not {', '.join(sorted(RESERVED_NAMES))} (e.g. {config_name(name)})",
        )


def _check_target(frame: pd.DataFrame, target: str, source: str) -> None:
    columns = [str(c) for c in frame.columns]
    if target in columns:
        return
    from difflib import get_close_matches

    close = get_close_matches(target, columns, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    shown = ", ".join(repr(c) for c in columns[: 2 * SHOWN])
    more = f", ... ({len(columns) - 2 * SHOWN} more)" if len(columns) > 2 * SHOWN else ""
    raise PipelineError(
        source, "target is a column", f"no such column; {hint}the columns are {shown}{more}", target
    )


def write_drafts(data_path: str | Path, target: str, name: str | None, root: Path) -> Drafted:
    """Draft ``schemas/<name>.yaml`` and ``configs/data/<name>.yaml`` under ``root`` for the
    table at ``data_path`` with ``target``; ``name`` defaults to the file's stem made safe
    (:func:`config_name`). Neither file is written if either exists."""
    from .io import read_table

    data_path = Path(data_path)
    name = config_name(data_path.stem) if name is None else name
    _check_name(name, str(data_path))
    schema = root / "schemas" / f"{name}.yaml"
    data_config = root / "configs" / "data" / f"{name}.yaml"
    existing = [p for p in (schema, data_config) if p.exists()]
    if existing:
        also = f" (so does {existing[1]})" if len(existing) > 1 else ""
        raise PipelineError(
            str(existing[0]),
            "draft writes a new file",
            f"the file exists{also} and a draft never overwrites one; draft under another "
            "name with NAME=... (--name)",
        )
    frame = read_table(data_path, setting="DATA, the table to draft from")
    _check_target(frame, target, str(data_path))
    result = draft(frame, target, str(data_path))
    schema_text = render_draft(result.spec, str(data_path), result.notes)
    config_text = render_data_config(name, data_path, schema, result, root)
    for path, text in ((schema, schema_text), (data_config, config_text)):
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:  # "x": never over a file, even a new one
            file.write(text)
    return Drafted(name, schema, data_config, result, len(frame))
