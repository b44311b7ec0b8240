"""A feature column's life: it must be described (F2), it is added by config alone (ML Test
Score D6), and every training run weighs what it is worth to the model (D2).

One training run on the sample with a planted column of pure noise, added the way a user adds a
feature (a column in the data, an entry in the schema, no code), serves the D2 and D6 tests.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.exceptions import MlflowException
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.config import (
    CONFIG_DIR,
    Task,
)
from {{ cookiecutter.package_name }}.data.features import (
    FeaturePipeline,
)
from {{ cookiecutter.package_name }}.data.report import (
    DataValidationError,
)
from {{ cookiecutter.package_name }}.data.sample import (
    generate,
)
from {{ cookiecutter.package_name }}.data.schema import (
    ColumnSpec,
    dump_schema,
    load_schema,
)
from {{ cookiecutter.package_name }}.data.validation import (
    check_frame,
)
from {{ cookiecutter.package_name }}.errors import (
    EXIT_BAD_INPUT,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)
from {{ cookiecutter.package_name }}.validate import (
    main as validate_main,
)

SCHEMA = CONFIG_DIR.parent / "schemas" / "sample.yaml"
TASK = Task("{{ cookiecutter.task }}")  # the shipped schema's
NOISE = "lucky_number"
ROWS = 1000  # 150 validation rows: enough for the ranking below to be far outside its noise
# Per task, the columns the sample's target is computed from with the largest effects
# (``data/sample.py``, ``_target``): each must be worth more to the model than pure noise.
INFORMATIVE = {
    Task.binary_classification: ["contract", "tenure_months", "support_calls_90d"],
    Task.multiclass_classification: ["monthly_spend_usd", "tenure_months", "contract"],
    Task.regression: ["monthly_spend_usd", "tenure_months"],
}


@pytest.fixture(scope="module")
def with_noise(
    tmp_path_factory: pytest.TempPathFactory, compose_in: Callable[..., DictConfig]
) -> tuple[DictConfig, mlflow.entities.Run]:
    """The config and the finished run of one training on the sample plus ``NOISE``, a column
    of random numbers unrelated to the target, declared in a copy of the shipped schema."""
    directory = tmp_path_factory.mktemp("added-column")
    frame = generate(ROWS, 0, TASK)
    frame[NOISE] = np.random.default_rng(1).normal(size=len(frame)).round(4)
    data, schema = directory / "with_noise.csv", directory / "with_noise.yaml"
    frame.to_csv(data, index=False)
    spec = load_schema(SCHEMA)
    spec.columns[NOISE] = ColumnSpec(description="A random draw, unrelated to the customer")
    schema.write_text(dump_schema(spec), encoding="utf-8")
    cfg = compose_in(directory, "added-column", f"data.path={data}", f"data.schema={schema}")
    train(cfg)
    client = mlflow.MlflowClient(mlflow.get_tracking_uri())
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    (run,) = client.search_runs([experiment.experiment_id])
    return cfg, run


def test_a_pure_noise_feature_ranks_below_every_informative_one(with_noise: tuple) -> None:
    """D2: the run logs ``importance/<column>`` for every input column and the ranked table;
    the planted noise is worth less than each column the target depends on, and about nothing."""
    cfg, run = with_noise
    importance = {
        key.removeprefix("importance/"): value
        for key, value in run.data.metrics.items()
        if key.startswith("importance/")
    }
    assert set(importance) == {*load_schema(cfg.data.schema).features}
    informative = INFORMATIVE[TASK]
    assert all(importance[NOISE] < importance[name] for name in informative), importance
    assert abs(importance[NOISE]) < 0.2 * min(importance[name] for name in informative)
    table = mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/importance/permutation.csv")
    ranked = [line.split(",")[1] for line in table.splitlines()[1:]]
    assert ranked == sorted(importance, key=lambda name: -importance[name])


def test_column_groups_follow_the_matrix_columns() -> None:
    """D2 shuffles an input column as the block of matrix columns made from it: the blocks
    tile the matrix in order and each holds only its own column's features."""
    spec = load_schema(SCHEMA)
    features = FeaturePipeline.fit(generate(400, 0, TASK), spec, 5)
    groups = features.column_groups()
    assert set(groups) == set(spec.features)
    positions = [i for block in groups.values() for i in block]
    assert positions == list(range(len(features.feature_names)))
    for name, block in groups.items():
        names = [features.feature_names[i] for i in block]
        assert all(n == name or n.startswith((f"{name}__", f"{name}=")) for n in names), names


def test_a_column_added_by_config_reaches_the_served_model(with_noise: tuple) -> None:
    """D6: a column added to the data and the schema, and nothing else, is a feature of the
    fitted pipeline and a required input of the served model: a request without it is refused
    naming it, by MLflow's signature and by the contract the model carries."""
    cfg, run = with_noise
    served = mlflow.pyfunc.load_model(f"runs:/{run.info.run_id}/model")
    predictor = served.unwrap_python_model().predictor
    assert NOISE in predictor.features.feature_names
    assert NOISE in served.metadata.get_input_schema().input_names()
    rows = generate(40, 2, TASK).drop(columns=cfg.data.target)
    rows[NOISE] = 0.5
    assert len(served.predict(rows)) == len(rows)
    without = rows.drop(columns=NOISE)
    with pytest.raises(MlflowException, match=f"missing inputs.*{NOISE}"):
        served.predict(without)  # MLflow's signature enforcement
    with pytest.raises(DataValidationError) as refused:
        check_frame(without, predictor.spec, "<request>", serving=True)  # the contract
    assert NOISE in {p.column for p in refused.value.report.failures}


@pytest.mark.parametrize("entry", ["", "    description: '   '\n"], ids=["missing", "blank"])
def test_an_undescribed_column_stops_the_stage_in_one_line(
    entry: str,
    compose_cfg: Callable[..., DictConfig],
    small_sample: Callable[..., Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """F2: a schema column with no description, or a blank one, stops the stage with exit 2
    and one ``error:`` line naming the schema file, the column and the failed check."""
    lines = SCHEMA.read_text(encoding="utf-8").splitlines(keepends=True)
    at = lines.index("    description: Customer age\n")
    schema = tmp_path / "undescribed.yaml"
    schema.write_text("".join([*lines[:at], entry, *lines[at + 1 :]]), encoding="utf-8")
    cfg = compose_cfg(f"data.path={small_sample()}", f"data.schema={schema}", stage="validate")
    with pytest.raises(SystemExit) as exited:
        validate_main.__wrapped__(cfg)
    assert exited.value.code == EXIT_BAD_INPUT
    (line,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert line.startswith(f"error: {schema}, column 'age_years': check '"), line
    assert "description" in line
