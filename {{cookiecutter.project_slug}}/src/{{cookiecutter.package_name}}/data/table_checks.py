"""Checks about a whole table, not any one row, counted piece by piece (P2, F3).

A file larger than memory is validated in pieces, and must get the verdict the whole table
would: a row or an id repeated across two pieces, a column constant in every piece, a magic
value frequent over the whole file, the classes the target has. Each check keeps a small state
and adds every piece to it: repeats keep the sorted 64-bit hashes of what they have seen (8
bytes a row, the only state that grows with the file), the others a few values per column. A
whole table is one piece, so both ways run this code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..config import Task
from .features import as_labels
from .report import EXAMPLES, Problem, meaning, shown
from .schema import Kind, Role, SchemaSpec

# F3: values upstream systems like to use for "unknown"; one that is frequent and far outside
# the rest of a column is reported when the schema does not declare the column's magic values.
SENTINELS = (-1, -9, -99, -999, -9999, -99999, 0, 9, 99, 999, 9999, 99999, 999999)
SPIKE_SHARE = 0.01  # at least 1 % of the column's non-missing values...
SPIKE_MIN_ROWS = 2  # ...and at least this many rows
MIN_DISTINCT_REST = 3  # the other values must vary: in {-1, 1} or {-1, 0, 1} each may be real
FEW_VALUES = (
    10  # a regression target with at most this many distinct whole values looks like classes
)
EXACT_FLOAT = 2**53  # integers below this are exact as float64


def row_hashes(frame: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row (or per value, for one column), the same for the same values
    whatever dtype a piece was read with: a column of whole numbers is ``int64`` in a piece
    without gaps and ``float64`` in one with, so numbers are hashed as ``float64`` (integers
    beyond 2**53, which float64 would merge, keep their own)."""
    same = {}
    for name, values in frame.items():
        if values.dtype == np.float64 or pd.api.types.is_bool_dtype(values):
            continue
        integer = pd.api.types.is_integer_dtype(values)
        if pd.api.types.is_float_dtype(values) or (integer and values.abs().max() < EXACT_FLOAT):
            same[name] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    if same:
        frame = frame.assign(**same)
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def _merged(known: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``known`` (sorted, distinct) with the distinct ``values`` it lacks inserted in order:
    linear in ``known``, so adding every piece of a file costs no sort of the whole."""
    values = np.sort(values)  # a sort and a comparison: numpy's unique hashes, 10x slower here
    values = values[np.append(True, values[1:] != values[:-1])]
    if known.size:
        where = np.searchsorted(known, values).clip(max=known.size - 1)
        values = values[known[where] != values]
    return np.insert(known, np.searchsorted(known, values), values)


@dataclass
class Repeats:
    """Which rows (or values) repeat an earlier one, by their 64-bit hashes. Two different
    rows share a hash with a chance of about n²/2**65: below one in a million for 5 million
    rows. ``involved`` counts every occurrence of a repeated value, the first one included."""

    seen: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    repeated: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint64))
    repeats: int = 0

    def add(self, hashes: np.ndarray) -> np.ndarray:
        """Which of the next rows repeat an earlier row, in this piece or an earlier one."""
        repeat = pd.Series(hashes).duplicated().to_numpy(copy=True)
        if self.seen.size:
            where = np.searchsorted(self.seen, hashes).clip(max=self.seen.size - 1)
            repeat |= self.seen[where] == hashes
        self.seen = _merged(self.seen, hashes[~repeat])
        if repeat.any():
            self.repeated = _merged(self.repeated, hashes[repeat])
            self.repeats += int(repeat.sum())
        return repeat

    @property
    def involved(self) -> int:
        return self.repeats + self.repeated.size


@dataclass
class Constancy:
    """Whether a column has held two different values yet, missing ones aside (a constant
    feature teaches nothing): one value kept, one comparison pass (a min/max for numbers)."""

    value: object = None
    present: bool = False  # the column was in the table (an absent one is another check's)
    seen: bool = False  # a value was
    varies: bool = False

    def add(self, values: pd.Series) -> None:
        self.present = True
        present = values.dropna()
        if self.varies or present.empty:
            return
        if pd.api.types.is_numeric_dtype(present):
            first, self.varies = present.min(), bool(present.max() > present.min())
        else:
            first = present.iloc[0]
            self.varies = bool(present.ne(first).any())
        if not self.seen:
            self.value, self.seen = first, True
        elif first != self.value:
            self.varies = True


@dataclass
class Spikes:
    """F3: what the magic-value rule needs of a numeric column: how many values it has, how
    often each sentinel occurs, and its two lowest and two highest distinct values (enough to
    know the rest's range without a sentinel, and whether the rest has 3 distinct values)."""

    values: int = 0
    counts: dict[float, int] = field(default_factory=dict)
    lowest: list[float] = field(default_factory=list)
    highest: list[float] = field(default_factory=list)

    def add(self, column: pd.Series) -> None:
        numbers = pd.to_numeric(column, errors="coerce")
        values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)  # Int64 holds pd.NA
        values = values[~np.isnan(values)]
        if values.size == 0:
            return
        self.values += values.size
        low, high = values.min(), values.max()
        for sentinel in SENTINELS:  # cheap on clean data: only sentinels inside the range
            if low <= sentinel <= high:
                found = int(np.count_nonzero(values == sentinel))
                if found:
                    self.counts[sentinel] = self.counts.get(sentinel, 0) + found
        self.lowest = sorted(set(self.lowest) | set(_extremes(values, low, np.greater)))[:2]
        self.highest = sorted(set(self.highest) | set(_extremes(values, high, np.less)))[-2:]

    def warnings(self, name: str, spec: SchemaSpec) -> list[Problem]:
        """Each sentinel that is frequent (at least 1 % of the values and
        :data:`SPIKE_MIN_ROWS` rows, but not all) and far outside the rest, which has at least
        :data:`MIN_DISTINCT_REST` distinct values: negative among values never negative
        (``-1`` among counts), or beyond the rest's min..max by more than its whole width
        (``999`` among ages). A real ``0`` next to small positive numbers is neither."""
        distinct = len(set(self.lowest) | set(self.highest))  # 4 when there are 4 or more
        found = []
        for sentinel in SENTINELS:
            count = self.counts.get(sentinel, 0)
            if count < max(SPIKE_SHARE * self.values, SPIKE_MIN_ROWS) or count == self.values:
                continue
            if distinct - 1 < MIN_DISTINCT_REST:
                continue
            low = self.lowest[1] if self.lowest[0] == sentinel else self.lowest[0]
            high = self.highest[0] if self.highest[1] == sentinel else self.highest[1]
            width = high - low
            if not (sentinel < 0 <= low or sentinel < low - width or sentinel > high + width):
                continue
            check = (
                f"undeclared magic value {sentinel:g} ({100 * count / self.values:.1f} % of "
                "rows, far outside the rest): if it means 'unknown', list it in "
                "magic_values; if it is a real value, write magic_values: [] (F3)"
            )
            found.append(
                Problem(name, check, count, [f"{sentinel:g}"], meaning(spec.columns[name]))
            )
        return found


def _extremes(values: np.ndarray, extreme: float, beyond: np.ufunc) -> list[float]:
    """``extreme`` and the next distinct value toward the middle, if there is one."""
    rest = values[beyond(values, extreme)]
    if not rest.size:
        return [float(extreme)]
    return [float(extreme), float(rest.min() if beyond is np.greater else rest.max())]


@dataclass
class TargetValues:
    """The target against the task: the classes found (a binary task needs exactly two, a
    multiclass task at least two), or, for regression, whether only a few distinct whole
    values occur (probably classes: a warning). Classes are few by nature; for regression at
    most :data:`FEW_VALUES` + 1 values are kept."""

    task: Task
    labels: set[str] = field(default_factory=set)
    whole: set[float] | None = field(default_factory=set)  # None: more than a few, or not whole

    def add(self, values: pd.Series) -> None:
        values = values.dropna()
        if self.task.is_classification:
            self.labels.update(as_labels(values).unique())
        elif self.whole is not None:
            distinct = pd.to_numeric(values, errors="coerce").dropna().unique()
            if not bool((distinct % 1 == 0).all()):
                self.whole = None
            else:
                self.whole.update(float(v) for v in distinct)
                self.whole = self.whole if len(self.whole) <= FEW_VALUES else None

    def problems(self, name: str, described: str | None) -> tuple[list[Problem], list[Problem]]:
        if self.task.is_classification:
            classes = sorted(self.labels)
            found = f"found {len(classes)}"
            if self.task is Task.binary_classification and len(classes) != 2:
                check = f"2 classes for {self.task.value} ({found})"
            elif len(classes) < 2:
                check = f"at least 2 classes for {self.task.value} ({found})"
            else:
                return [], []
            return [Problem(name, check, 0, classes[: EXAMPLES * 2], described)], []
        if self.whole is None:
            return [], []
        check = (
            f"a regression target with only {len(self.whole)} distinct whole values: "
            "if they are classes, set data.task to a classification task"
        )
        return [], [Problem(name, check, 0, [f"{v:g}" for v in sorted(self.whole)], described)]


class TableChecks:
    """Every check about the whole table, fed one checked piece at a time (rows indexed by their
    position in the file). ``table``: the checks a single request must not face (no duplicate
    rows, unique ids, no constant feature or target), which apply to training data, not to rows
    to score. ``task``: check the target's classes against it. F3's magic-value warning always
    applies (a column the schema leaves undeclared)."""

    def __init__(self, spec: SchemaSpec, table: bool, task: Task | None = None) -> None:
        self.spec, self.table = spec, table
        self.rows = Repeats() if table and not spec.allow_duplicate_rows else None
        self.row_examples: list[str] = []
        self.ids = {name: Repeats() for name, col in spec.columns.items() if table and col.unique}
        self.id_examples: dict[str, list[str]] = {name: [] for name in self.ids}
        self.constant = {
            name: Constancy()
            for name, col in spec.columns.items()
            if table and not col.unique and col.role in (Role.feature, Role.target)
        }
        self.spikes = {
            name: Spikes()
            for name, col in spec.columns.items()
            if col.magic_values is None
            and col.kind in (Kind.integer, Kind.float)
            and col.role not in (Role.id, Role.ignore)
        }
        targets = spec.names(Role.target)
        self.target = TargetValues(task) if task is not None and targets else None
        self.target_name = targets[0] if targets else None
        self.mistyped: set[str] = set()

    def add(self, piece: pd.DataFrame, mistyped: set[str] = frozenset()) -> TableChecks:
        """Count ``piece`` (validated row by row; ``mistyped``: its columns whose values are
        not of the declared kind, whose constancy then says nothing)."""
        self.mistyped |= mistyped
        if self.rows is not None:
            repeat = self.rows.add(row_hashes(piece))
            self._note(self.row_examples, [f"row {i}" for i in piece.index[repeat][:EXAMPLES]])
        for name, repeats in self.ids.items():
            if name in piece:
                values = piece[name]
                repeat = repeats.add(row_hashes(values.to_frame()))
                whole = self.spec.columns[name].kind is Kind.integer
                found = [shown(v, whole) for v in values[repeat].drop_duplicates()[:EXAMPLES]]
                self._note(self.id_examples[name], found)
        for table, check in ((self.constant, Constancy.add), (self.spikes, Spikes.add)):
            for name, state in table.items():
                if name in piece:
                    check(state, piece[name])
        if self.target is not None and self.target_name in piece:
            self.target.add(piece[self.target_name])
        return self

    @staticmethod
    def _note(examples: list[str], found: list[str]) -> None:
        examples[:] = list(dict.fromkeys(examples + found))[:EXAMPLES]

    def problems(self) -> tuple[list[Problem], list[Problem]]:
        """What the table showed, as ``(failures, warnings)``."""
        failures = []
        for name, repeats in self.ids.items():
            if repeats.repeats:
                described = meaning(self.spec.columns[name])
                failures.append(
                    Problem(
                        name,
                        "field_uniqueness",
                        repeats.involved,
                        self.id_examples[name],
                        described,
                    )
                )
        for name, state in self.constant.items():
            if state.varies or not state.present or name in self.mistyped:
                continue
            whole = self.spec.columns[name].kind is Kind.integer
            value = [f"{shown(state.value, whole)} (every row)"] if state.seen else []
            failures.append(
                Problem(name, "not_constant", 0, value, meaning(self.spec.columns[name]))
            )
        if self.rows is not None and self.rows.repeats:
            failures.append(
                Problem(None, "no_duplicate_rows", self.rows.repeats, self.row_examples)
            )
        warnings = [
            problem
            for name, spikes in self.spikes.items()
            for problem in spikes.warnings(name, self.spec)
        ]
        if self.target is not None and self.target_name is not None:
            described = meaning(self.spec.columns[self.target_name])
            more_failures, more_warnings = self.target.problems(self.target_name, described)
            failures += more_failures
            warnings += more_warnings
        return failures, warnings


def sentinel_warnings(frame: pd.DataFrame, spec: SchemaSpec) -> list[Problem]:
    """F3: the magic-value warnings of a whole table (``make infer-schema`` proposes exactly
    what validation reports). A declared list, even ``magic_values: []``, is complete."""
    return TableChecks(spec, table=False).add(frame).problems()[1]


def target_problems(
    frame: pd.DataFrame, spec: SchemaSpec, task: Task
) -> tuple[list[Problem], list[Problem]]:
    """The target of a whole table against the task, as ``(failures, warnings)``."""
    targets = [name for name in spec.names(Role.target) if name in frame]
    if not targets:
        return [], []
    found = TargetValues(task)
    found.add(frame[targets[0]])
    return found.problems(targets[0], meaning(spec.columns[targets[0]]))
