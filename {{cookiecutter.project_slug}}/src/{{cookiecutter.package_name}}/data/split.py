"""Deterministic, seeded train/validation/test splits (stratified for classification)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sklearn.model_selection import train_test_split

from ..config import SplitConfig, Task
from ..errors import DataError


@dataclass(frozen=True)
class Splits:
    """The three disjoint parts of one table."""

    train: pd.DataFrame
    val: pd.DataFrame
    test: pd.DataFrame


def split_frame(
    frame: pd.DataFrame, target: str, task: Task, cfg: SplitConfig, source: str = "<table>"
) -> Splits:
    """Split ``frame`` the same way every time for the same ``cfg.seed``.

    Classification splits are stratified on ``target`` so rare classes appear in every part.
    """
    holdout = cfg.val_fraction + cfg.test_fraction
    if not (cfg.val_fraction > 0.0 and cfg.test_fraction > 0.0 and holdout < 1.0):
        raise ValueError(
            "data.split: val_fraction and test_fraction must be positive and sum below 1, "
            f"got {cfg.val_fraction} and {cfg.test_fraction}"
        )

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
