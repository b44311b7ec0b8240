"""Mo3, F1, F3: one feature pipeline, fitted on training rows, identical at serving time."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.data.features import (
    MISSING,
    OTHER,
    FeaturePipeline,
)
from {{ cookiecutter.package_name }}.data.io import (
    read_table,
)
from {{ cookiecutter.package_name }}.data.schema import (
    load_contract,
)
from {{ cookiecutter.package_name }}.data.split import (
    split_frame,
)
from {{ cookiecutter.package_name }}.errors import (
    PipelineError,
)


@pytest.fixture
def fitted(compose_cfg: Callable[..., DictConfig], small_sample: Callable[..., Path]):
    """A pipeline fitted on the training split of a small sample, and that split's parts."""
    path = small_sample(rows=1000)
    cfg = compose_cfg(f"data.path={path}")
    spec = load_contract(cfg.data.schema, cfg.data.target, cfg.data.task)
    frame = read_table(path)
    splits = split_frame(frame, spec, cfg.data.target, cfg.data.task, cfg.data.split)
    return FeaturePipeline.fit(splits.train, spec, 5), splits, spec, cfg, path


def test_training_and_serving_paths_give_identical_matrices(fitted, tmp_path: Path) -> None:
    """Parity: the validation rows through the in-memory fitted pipeline, and the same raw rows
    read back from a CSV without the target through a pipeline reloaded from its JSON, give
    bit-identical feature matrices."""
    pipeline, splits, _, cfg, _ = fitted
    training_path, _ = pipeline.transform(splits.val)
    served_rows = tmp_path / "serve.csv"
    splits.val.drop(columns=[cfg.data.target]).to_csv(served_rows, index=False)
    reloaded = FeaturePipeline.from_json(pipeline.to_json())
    serving_path, _ = reloaded.transform(read_table(served_rows))
    assert training_path.dtype == np.float32
    np.testing.assert_array_equal(training_path, serving_path)
    assert training_path.shape == (len(splits.val), len(pipeline.feature_names))


def test_only_schema_features_are_used(fitted) -> None:
    """Ids, the time column and the target never become features."""
    pipeline, _, spec, cfg, _ = fitted
    used = set(pipeline.numeric) | set(pipeline.categorical)
    assert used == set(spec.features)
    assert not {"customer_id", "signup_date", cfg.data.target} & used


def test_magic_value_becomes_missing_with_an_indicator(fitted) -> None:
    """F3: -1 support calls is imputed with the median of real values and flagged, never fed
    to the model as minus one."""
    pipeline, splits, *_ = fitted
    feature = pipeline.numeric["support_calls_90d"]
    real = splits.train["support_calls_90d"][splits.train["support_calls_90d"] != -1]
    assert feature.median == pytest.approx(real.median())
    rows = pd.DataFrame(splits.train.iloc[:2]).copy()
    rows["support_calls_90d"] = [-1, feature.median]
    matrix, _ = pipeline.transform(rows)
    column = pipeline.feature_names.index("support_calls_90d")
    indicator = pipeline.feature_names.index("support_calls_90d__missing")
    assert matrix[0, column] == matrix[1, column]
    assert list(matrix[:, indicator]) == [1.0, 0.0]


def test_rare_and_unseen_categories_share_the_other_bucket(fitted) -> None:
    """F1: a region seen under 5 times in training goes to __other__, as does one never seen,
    which is also counted; missing devices get their own bucket."""
    pipeline, splits, *_ = fitted
    region = pipeline.categorical["region"]
    assert "antarctica" in region.rare
    assert "antarctica" not in region.vocabulary
    assert OTHER in region.vocabulary
    assert MISSING in pipeline.categorical["device"].vocabulary
    rows = pd.DataFrame(splits.train.iloc[:3]).copy()
    rows["region"] = ["antarctica", "atlantis", "north"]
    matrix, stats = pipeline.transform(rows)
    other = pipeline.feature_names.index(f"region={OTHER}")
    assert list(matrix[:, other]) == [1.0, 1.0, 0.0]
    assert stats.unseen["region"] == 1


def test_numbers_are_standardised_on_training_rows(fitted) -> None:
    """Scaling uses training statistics: the training matrix has mean 0 and std 1 per number."""
    pipeline, splits, *_ = fitted
    matrix, _ = pipeline.transform(splits.train)
    for name in ("tenure_months", "age_years"):
        column = matrix[:, pipeline.feature_names.index(name)]
        assert abs(column.mean()) < 1e-4
        assert column.std() == pytest.approx(1.0, rel=1e-3)


def test_saved_pipeline_is_plain_json(fitted) -> None:
    """The persisted form is data (no pickle), and a future format is refused, not guessed."""
    pipeline, *_ = fitted
    raw = json.loads(pipeline.to_json())
    assert set(raw) == {"numeric", "categorical", "rare_min_count", "version"}
    raw["version"] = 99
    with pytest.raises(PipelineError, match="format 99 is not 1: retrain"):
        FeaturePipeline.from_json(json.dumps(raw))
