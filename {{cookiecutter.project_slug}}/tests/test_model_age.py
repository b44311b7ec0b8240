"""ML Test Score Mo4, the model is not too stale: ``monitor`` reports the reference model's age
and a model older than ``monitor.max_model_age_days`` is a finding (exit 4).

MLflow cannot back-date a run, so the clock is what the tests move: ``model_age`` and
``monitor`` take ``now``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import mlflow
import pytest

from {{ cookiecutter.package_name }}.data.sample import (
    write_sample,
)
from {{ cookiecutter.package_name }}.errors import (
    EXIT_FINDINGS,
)
from {{ cookiecutter.package_name }}.monitor import (
    main,
    monitor,
)
from {{ cookiecutter.package_name }}.monitoring.age import (
    model_age,
    trained_at,
)

TRAINED = datetime(2026, 1, 1, 12, 0).astimezone()


@pytest.mark.parametrize(("days", "stale"), [(29.9, False), (30, False), (30.1, True)])
def test_a_model_is_stale_only_past_the_limit(days: float, stale: bool) -> None:
    """The age is the time since training in days; only an age above the limit is stale, and
    then the line says which setting it broke and what to do."""
    age = model_age(TRAINED, 30, now=TRAINED + timedelta(days=days))
    assert age.days == pytest.approx(days) and age.stale is stale
    assert age.trained_at == TRAINED.isoformat(timespec="seconds")
    assert ("older than monitor.max_model_age_days=30: retrain" in age.line()) is stale


def test_monitor_flags_a_stale_reference_model(
    champion: tuple, champion_run: mlflow.entities.Run, tmp_path: Path
) -> None:
    """A clean batch checked 31 days after the champion was trained alerts for the model's age
    alone: in the verdict, the JSON report (age, limit, stale) and the run's metrics."""
    compose, _ = champion
    task = compose().data.task
    clean = write_sample(tmp_path / "clean.csv", 300, 1, task, labelled=False)
    output = tmp_path / "out"
    cfg = compose(f"monitor.input={clean}", f"paths.output_dir={output}", stage="monitor")
    trained = trained_at(champion_run.info.run_id)
    assert trained.timestamp() * 1000 == pytest.approx(champion_run.info.end_time, abs=1)
    report = monitor(cfg, now=trained + timedelta(days=31))
    (alert,) = report.alerts
    assert alert.startswith("reference model trained 31.0 days ago") and "retrain" in alert
    saved = json.loads((output / "monitor.json").read_text(encoding="utf-8"))["model_age"]
    assert saved == {
        "trained_at": trained.isoformat(timespec="seconds"),
        "days": pytest.approx(31),
        "max_days": 30,
        "stale": True,
    }
    client = mlflow.MlflowClient(mlflow.get_tracking_uri())
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    run = client.search_runs(  # the newest: other tests monitor against this champion too
        [experiment.experiment_id], "tags.stage = 'monitor'", order_by=["start_time DESC"]
    )[0]
    assert run.data.metrics["monitor/model_age_days"] == pytest.approx(31)


def test_a_stale_model_exits_4(
    champion: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """From the entry point: a limit the champion (trained minutes ago) already exceeds is a
    finding, exit 4, named in the console report."""
    compose, _ = champion
    clean = write_sample(tmp_path / "clean.csv", 300, 1, compose().data.task, labelled=False)
    cfg = compose(f"monitor.input={clean}", "monitor.max_model_age_days=0", stage="monitor")
    with pytest.raises(SystemExit) as exited:
        main.__wrapped__(cfg)
    assert exited.value.code == EXIT_FINDINGS
    assert "older than monitor.max_model_age_days=0: retrain it" in capsys.readouterr().out
