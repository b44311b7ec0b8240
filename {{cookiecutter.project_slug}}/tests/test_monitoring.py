"""Feature monitoring (P4, F4, Mo2): the reference profile, each kind of drift, the stage.

The statistics are tested on the project's own sample generator: a second sample from the same
process must not alert, and each planted shift must alert on its feature and only there.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import OmegaConf

from {{ cookiecutter.package_name }}.config import (
    CONFIG_DIR,
    MonitorConfig,
    Task,
)
from {{ cookiecutter.package_name }}.data.features import (
    FeaturePipeline,
)
from {{ cookiecutter.package_name }}.data.sample import (
    generate,
    write_sample,
)
from {{ cookiecutter.package_name }}.data.schema import (
    load_schema,
)
from {{ cookiecutter.package_name }}.data.validation import (
    DataValidationError,
)
from {{ cookiecutter.package_name }}.errors import (
    EXIT_BAD_INPUT,
    EXIT_DRIFT,
    PipelineError,
)
from {{ cookiecutter.package_name }}.monitor import (
    main,
    monitor,
)
from {{ cookiecutter.package_name }}.monitoring.drift import (
    detect_drift,
)
from {{ cookiecutter.package_name }}.monitoring.profile import (
    Profile,
)

THRESHOLDS = OmegaConf.structured(MonitorConfig(input="unused"))
TASK = Task.binary_classification  # the features are the same for every task


@pytest.fixture(scope="module")
def reference() -> tuple[FeaturePipeline, Profile]:
    """A feature pipeline and profile fitted on 4,000 training rows of the sample."""
    spec = load_schema(CONFIG_DIR.parent / "schemas" / "customers.yaml")
    frame = generate(4000, 0, TASK)
    features = FeaturePipeline.fit(frame, spec, 5)
    return features, Profile.of(frame, features)


def drifted(reference: tuple[FeaturePipeline, Profile], batch: pd.DataFrame) -> list[str]:
    features, profile = reference
    return detect_drift(batch, profile, features, THRESHOLDS).drifted_features


def batch(rows: int = 2000, seed: int = 1) -> pd.DataFrame:
    return generate(rows, seed, TASK)


def test_the_profile_is_readable_json_of_fixed_size(reference: tuple) -> None:
    """Every feature is profiled; the profile round-trips through JSON; its size depends on
    features and bins, not on rows (no copy of the training data)."""
    features, profile = reference
    assert set(profile.numeric) == set(features.numeric)
    assert set(profile.categorical) == set(features.categorical)
    again = Profile.from_json(profile.to_json())
    assert again == profile
    calls = profile.numeric["support_calls_90d"]
    assert calls.missing > 0  # F3: -1 means "not recorded" and counts as missing
    assert calls.min >= 0
    assert sum(calls.counts) + calls.missing == calls.rows == 4000
    region = profile.categorical["region"]
    assert region.rare == ["antarctica"] and region.counts["antarctica"] == region.other == 3
    small = Profile.of(generate(400, 0, TASK), features).to_json()
    assert len(profile.to_json()) < 1.5 * len(small)


def test_a_batch_from_the_same_process_does_not_alert(reference: tuple) -> None:
    assert drifted(reference, batch()) == []


def test_a_huge_batch_does_not_flag_a_trivial_shift(reference: tuple) -> None:
    """With 50,000 reference rows and 200,000 new ones, a 4 % rise in spend is statistically
    significant, but far from practically significant: no alert."""
    features, _ = reference
    profile = Profile.of(generate(50_000, 0, TASK), features)
    frame = batch(200_000)
    frame["monthly_spend_usd"] *= 1.04
    report = detect_drift(frame, profile, features, THRESHOLDS)
    (spend,) = [
        c for c in report.checks if c.feature == "monthly_spend_usd" and c.check == "distribution"
    ]
    assert spend.p_adjusted < THRESHOLDS.alpha and spend.effect < THRESHOLDS.psi
    assert report.drifted_features == []


def shift_mean(frame: pd.DataFrame) -> None:
    frame["age_years"] = (frame["age_years"] + 9.0).clip(upper=90)


def change_scale(frame: pd.DataFrame) -> None:
    spend = frame["monthly_spend_usd"]
    frame["monthly_spend_usd"] = (spend.median() + (spend - spend.median()) * 2.5).clip(lower=0)


def change_category_mix(frame: pd.DataFrame) -> None:
    frame["contract"] = np.where(np.arange(len(frame)) % 3 == 0, "month-to-month", "two-year")


def add_new_category(frame: pd.DataFrame) -> None:
    frame.loc[frame.index[::10], "device"] = "smartwatch"


def raise_missing_rate(frame: pd.DataFrame) -> None:
    frame.loc[frame.index[::4], "monthly_spend_usd"] = np.nan


def leave_training_range(frame: pd.DataFrame) -> None:
    frame.loc[frame.index[::20], "support_calls_90d"] = 60


@pytest.mark.parametrize(
    ("plant", "feature"),
    [
        (shift_mean, "age_years"),
        (change_scale, "monthly_spend_usd"),
        (change_category_mix, "contract"),
        (add_new_category, "device"),
        (raise_missing_rate, "monthly_spend_usd"),
        (leave_training_range, "support_calls_90d"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_each_planted_shift_alerts_on_its_feature_only(
    reference: tuple, plant: Callable[[pd.DataFrame], None], feature: str
) -> None:
    frame = batch()
    plant(frame)
    assert drifted(reference, frame) == [feature]


def test_the_right_check_names_the_shift(reference: tuple) -> None:
    """The report says which check fired: a missing-rate jump is not called a distribution
    change, and a new category is named."""
    features, profile = reference
    frame = batch()
    raise_missing_rate(frame)
    add_new_category(frame)
    report = detect_drift(frame, profile, features, THRESHOLDS)
    fired = {(c.feature, c.check) for c in report.checks if c.drifted}
    assert ("monthly_spend_usd", "missing rate") in fired
    assert ("device", "new categories") in fired
    (new,) = [c for c in report.checks if c.feature == "device" and c.check == "new categories"]
    assert "smartwatch" in new.detail


def test_monitor_on_the_clean_and_the_drifted_batch(champion: tuple, tmp_path: Path) -> None:
    """The stage, as ``make monitor`` runs it: the clean batch passes (run FINISHED, verdict
    clean); the shipped drifted batch names its three drifted features, writes their plots and
    the JSON report, and logs per-feature metrics linked to the reference run."""
    compose, _ = champion
    task = compose().data.task
    clean = write_sample(tmp_path / "clean.csv", 500, 1, task, labelled=False)
    report = monitor(compose(f"monitor.input={clean}"))
    assert not report.drifted
    shifted = write_sample(tmp_path / "drifted.csv", 500, 2, task, labelled=False, drifted=True)
    cfg = compose(f"monitor.input={shifted}", f"paths.output_dir={tmp_path / 'out'}")
    report = monitor(cfg)
    assert report.drifted
    assert sorted(report.drifted_features) == ["contract", "device", "monthly_spend_usd"]
    saved = json.loads((tmp_path / "out" / "drift.json").read_text())
    assert saved["drifted_features"] == report.drifted_features
    assert {p.name for p in (tmp_path / "out").glob("*.png")} == {
        f"drift_{name}.png" for name in report.drifted_features
    }
    client = MlflowClient(mlflow.get_tracking_uri())
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    (run, _) = client.search_runs(
        [experiment.experiment_id], "tags.stage = 'monitor'", order_by=["start_time DESC"]
    )
    assert run.data.tags["drift.verdict"] == "drift"
    assert run.data.tags["reference.run_id"]
    assert run.data.metrics["drift/monthly_spend_usd/psi"] > THRESHOLDS.psi


def test_exit_codes_are_as_documented(
    champion: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """0 when clean, 4 on drift, 2 for a batch that breaks the contract (a new column is named)
    and 2 for a reference that does not exist."""
    compose, _ = champion
    task = compose().data.task
    clean = write_sample(tmp_path / "clean.csv", 300, 1, task, labelled=False)
    shifted = write_sample(tmp_path / "drifted.csv", 300, 2, task, labelled=False, drifted=True)
    frame = pd.read_csv(clean)
    frame["coupon_code"] = "XMAS"
    renamed = tmp_path / "renamed.csv"
    frame.to_csv(renamed, index=False)
    for path, reference, code in (
        (clean, "champion", 0),
        (shifted, "champion", EXIT_DRIFT),
        (renamed, "champion", EXIT_BAD_INPUT),
        (clean, "no-such-alias", EXIT_BAD_INPUT),
    ):
        cfg = compose(f"monitor.input={path}", f"monitor.reference={reference}")
        with pytest.raises(SystemExit) as exited:
            main.__wrapped__(cfg)
        assert exited.value.code == code, (path.name, reference)
    err = capsys.readouterr().err
    assert "coupon_code" in err
    assert "no-such-alias" in err


def test_a_missing_column_is_named_as_a_schema_change(champion: tuple, tmp_path: Path) -> None:
    """F4: a batch without a column the model was trained on fails validation naming it, and
    the schema comparison with the training run names it too."""
    compose, _ = champion
    frame = pd.read_csv(write_sample(tmp_path / "b.csv", 300, 1, compose().data.task, False))
    missing = tmp_path / "missing.csv"
    frame.drop(columns="tenure_months").to_csv(missing, index=False)
    with pytest.raises(DataValidationError) as caught:
        monitor(compose(f"monitor.input={missing}"))
    report = caught.value.report
    assert "tenure_months" in {p.column for p in report.failures}
    assert any("missing column 'tenure_months'" in w.check for w in report.warnings)


def test_a_reference_that_does_not_exist_is_a_clear_error(champion: tuple) -> None:
    compose, _ = champion
    cfg = compose("monitor.reference=0123456789abcdef0123456789abcdef")
    with pytest.raises(PipelineError, match="0123456789abcdef0123456789abcdef") as caught:
        monitor(cfg)
    assert caught.value.check == "model exists"
