"""Deterministic train/validation/test splits, and a check that no row leaks between them.

Random splits are seeded and stratified for classification; with ``data.split.time_column``
set, the split is by time (train on the past, test on the future). Either way, a row that
appears in two splits (ids aside) is refused: it would score the model on what it learned.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.model_selection import train_test_split

from ..config import SplitConfig, Task
from ..errors import ConfigError, DataError
from .schema import Role, SchemaSpec


@dataclass(frozen=True)
class Splits:
    """The three disjoint parts of one table."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame


def split_frame(
    frame: pd.DataFrame,
    spec: SchemaSpec,
    target: str,
    task: Task,
    cfg: SplitConfig,
    source: str = "<table>",
) -> Splits:
    """Split ``frame`` the same way every time, then check that no row is in two parts."""
    holdout = cfg.val_fraction + cfg.test_fraction
    if not (cfg.val_fraction > 0.0 and cfg.test_fraction > 0.0 and holdout < 1.0):
        raise ConfigError(
            "data.split",
            "fractions",
            "val_fraction and test_fraction must be positive and sum below 1, "
            f"got {cfg.val_fraction} and {cfg.test_fraction}",
        )
    if cfg.time_column:
        splits = _by_time(frame, cfg, source)
    else:
        splits = _random(frame, target, task, cfg, source)
    if not spec.allow_duplicate_rows:
        check_no_leakage(splits, spec, source)
    return splits


def _random(frame: pd.DataFrame, target: str, task: Task, cfg: SplitConfig, source: str) -> Splits:
    holdout = cfg.val_fraction + cfg.test_fraction

    def stratify(part: pd.DataFrame) -> pd.Series | None:
        return part[target] if task.is_classification else None

    try:
        train, rest = train_test_split(
            frame, test_size=holdout, random_state=cfg.seed, stratify=stratify(frame)
        )
        val, test = train_test_split(
            rest,
            test_size=cfg.test_fraction / holdout,
            random_state=cfg.seed,
            stratify=stratify(rest),
        )
    except ValueError as err:  # e.g. a class too rare to appear in every part
        raise DataError(source, "stratified split", str(err), column=target) from err
    return Splits(train=train, val=val, test=test)


def _by_time(frame: pd.DataFrame, cfg: SplitConfig, source: str) -> Splits:
    """Oldest rows train, the next validate, the most recent test (stable for equal times)."""
    column = cfg.time_column
    if column not in frame:
        raise DataError(
            source, "time column present", "data.split.time_column is not in the table", column
        )
    order = pd.to_datetime(frame[column], errors="coerce").sort_values(kind="stable").index
    ordered = frame.loc[order]
    n_test = round(len(frame) * cfg.test_fraction)
    n_val = round(len(frame) * cfg.val_fraction)
    n_train = len(frame) - n_val - n_test
    return Splits(
        train=ordered.iloc[:n_train],
        val=ordered.iloc[n_train : n_train + n_val],
        test=ordered.iloc[n_train + n_val :],
    )


def check_no_leakage(splits: Splits, spec: SchemaSpec, source: str) -> None:
    """Refuse a split where the same row (every column but ids) is in two parts."""
    columns = [c for c in splits.train.columns if c not in spec.names(Role.id)]
    keys = {
        name: set(pd.util.hash_pandas_object(part[columns], index=False))
        for name, part in (("train", splits.train), ("val", splits.val), ("test", splits.test))
    }
    for first, second in (("train", "val"), ("train", "test"), ("val", "test")):
        shared = keys[first] & keys[second]
        if shared:
            raise DataError(
                source,
                "no row in two splits",
                f"{len(shared)} identical row(s) in both {first} and {second}; remove duplicates "
                "or set allow_duplicate_rows in the schema",
            )
