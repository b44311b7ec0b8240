"""The project's own data, as ``configs/config.yaml`` selects it (P1, P2).

Every other test runs on the bundled sample; these two read the configured table, so a team
sees at ``make test`` that its data still honours its contract and that the pipeline still
learns from it. They skip, saying why, when the table is not there (a fresh clone).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig
from sklearn.model_selection import train_test_split

from {{ cookiecutter.package_name }}.data.io import (
    read_table,
)
from {{ cookiecutter.package_name }}.evaluation.metrics import (
    PRIMARY_METRIC,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)
from {{ cookiecutter.package_name }}.validate import (
    validate,
)

SUBSET_ROWS = 1000  # enough to learn from, small enough to train in about a second


@pytest.fixture
def own_data(tmp_path: Path, compose_in: Callable[..., DictConfig]) -> Callable[..., DictConfig]:
    """Configs on the project's configured data (outputs and runs under ``tmp_path``, never in
    the project's own store); skips when its table does not exist."""
    name = f"own-data-{tmp_path.name}"

    def _compose(*overrides: str, stage: str = "train") -> DictConfig:
        return compose_in(tmp_path, name, *overrides, data="", stage=stage)

    data = _compose().data
    if not Path(data.path).is_file():
        hint = "`make data` writes it" if data.name == "sample" else "put the table there"
        pytest.skip(f"data={data.name}: data.path {data.path} does not exist ({hint})")
    return _compose


def test_own_data_honours_its_contract(own_data: Callable[..., DictConfig]) -> None:
    """The configured table passes its schema (every failure is listed if it does not)."""
    assert "passed" in validate(own_data(stage="validate"))


def test_a_short_run_on_a_stratified_subset_beats_the_baseline(
    own_data: Callable[..., DictConfig], tmp_path: Path
) -> None:
    """A short training run on at most 1,000 rows (stratified by class) finishes, and the model
    beats the trivial baseline (``train`` fails the run if it does not)."""
    cfg = own_data()
    frame = read_table(cfg.data.path)
    if len(frame) > SUBSET_ROWS:
        labels = frame[cfg.data.target] if cfg.data.task.is_classification else None
        counts = labels.value_counts() if labels is not None else None
        stratify = labels if counts is not None and counts.min() >= 2 else None
        frame, _ = train_test_split(
            frame, train_size=SUBSET_ROWS, random_state=0, stratify=stratify
        )
    subset = tmp_path / f"subset{Path(cfg.data.path).suffix}"
    (frame.to_csv if subset.suffix == ".csv" else frame.to_parquet)(subset, index=False)
    metrics = train(own_data(f"data.path={subset}", "train.steps=300"))
    assert metrics[f"delta/{PRIMARY_METRIC[cfg.data.task]}"] > 0
