"""Any column name a CSV or Parquet file can hold works in every stage (issue: a ``/`` in a
column name crashed ``monitor`` writing its plot): files, plot names, MLflow metric keys,
params and artifacts all take ``a/b``, ``x y``, ``rate (%)``, ``métrique``, ``"q"``, ``.hidden``,
and category values such as ``${no}`` stay text in the contract the model carries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, OmegaConf

from {{ cookiecutter.package_name }}.evaluate import (
    evaluate,
)
from {{ cookiecutter.package_name }}.monitor import (
    monitor,
)
from {{ cookiecutter.package_name }}.predict import (
    predict,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)
from {{ cookiecutter.package_name }}.validate import (
    validate,
)

TARGET = "label (y/n)"
SLICES = ["a/b", "métrique", '"q"']


def table(rows: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """A learnable binary table whose column names (and some category values) are awkward."""
    rng = np.random.default_rng(seed)
    ab = rng.normal(0.0, 1.0, rows) + shift
    xy = rng.normal(5.0, 2.0, rows)
    rate = rng.uniform(0.0, 100.0, rows)
    rate[rng.random(rows) < 0.05] = np.nan
    metric = rng.choice(["é", "ü/2", "x y"], rows)
    logit = 2.0 * (ab - shift) - 0.3 * (xy - 5.0) + (metric == "é")
    return pd.DataFrame(
        {
            "id": np.arange(seed * 10_000, seed * 10_000 + rows),
            "a/b": ab.round(4),
            "x y": xy.round(4),
            "rate (%)": rate.round(2),
            "métrique": metric,
            '"q"': rng.choice(["yes", "${no}"], rows),  # not an interpolation: plain text
            ".hidden": rng.exponential(1.0, rows).round(4),
            TARGET: np.where(rng.random(rows) < 1.0 / (1.0 + np.exp(-logit)), "oui", "non"),
        }
    )


def schema() -> dict:
    number = {"description": "a number", "kind": "float"}
    return {
        "columns": {
            "id": {"description": "row id", "kind": "integer", "role": "id", "unique": True},
            "a/b": number,
            "x y": number,
            "rate (%)": {**number, "nullable": True, "unit": "%", "min": 0, "max": 100},
            "métrique": {"description": "a category", "kind": "category"},
            '"q"': {"description": "quoted", "kind": "category", "categories": ["\\${no}", "yes"]},
            ".hidden": {**number, "min": 0},
            TARGET: {"description": "the label", "kind": "category", "role": "target"},
        }
    }


@pytest.fixture
def awkward(compose_cfg: Callable[..., DictConfig], tmp_path: Path) -> Callable[..., DictConfig]:
    """Configs on the awkward table (400 rows) and its schema."""
    path = tmp_path / "awkward.csv"
    table(400, 0).to_csv(path, index=False)
    contract = tmp_path / "awkward.yaml"
    OmegaConf.save(OmegaConf.create(schema()), contract)
    slices = ",".join(f"'{name}'" for name in SLICES)
    data = [
        f"data.path={path}",
        f"data.schema={contract}",
        "data.task=binary_classification",
        f"data.target='{TARGET}'",
        f"data.slices=[{slices}]",
    ]
    return lambda *overrides, stage="train": compose_cfg(*data, *overrides, stage=stage)


def test_every_stage_takes_any_column_name(
    awkward: Callable[..., DictConfig], tmp_path: Path
) -> None:
    """validate, train (slices, plots, model), predict, evaluate and monitor (a drifted batch,
    so a plot per drifted feature) all finish, and column names reach MLflow intact or made
    safe, never refused."""
    cfg = awkward()
    assert "passed" in validate(awkward(stage="validate"))
    metrics = train(cfg)
    assert metrics["delta/log_loss"] > 0
    client = MlflowClient(mlflow.get_tracking_uri())
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    (trained,) = client.search_runs([experiment.experiment_id], "tags.stage = 'train'")
    keys = set(trained.data.metrics)
    assert any(key.startswith("slice/val/métrique/") for key in keys)
    assert any(key.startswith("slice/val/a/b/") for key in keys)
    assert trained.data.params["data.target"] == TARGET

    batch = tmp_path / "batch.csv"
    table(200, 1).drop(columns=TARGET).to_csv(batch, index=False)
    output = tmp_path / "predictions.parquet"
    predict(awkward(f"predict.input={batch}", f"predict.output={output}", stage="predict"))
    assert len(pd.read_parquet(output)) == 200
    assert evaluate(awkward(stage="evaluate"))

    shifted = tmp_path / "shifted.csv"
    drifted = table(300, 2, shift=3.0).drop(columns=TARGET)
    drifted[".hidden"] *= 4.0
    drifted.to_csv(shifted, index=False)
    out = tmp_path / "monitor"
    report = monitor(
        awkward(f"monitor.input={shifted}", f"paths.output_dir={out}", stage="monitor")
    )
    assert {"a/b", ".hidden"} <= set(report.drift.drifted_features)
    plots = sorted(p.name for p in out.glob("*.png"))
    assert len(plots) == len(report.drift.drifted_features)
    assert all(not name.startswith(".") and "/" not in name for name in plots)
