"""ML Test Score Mo6: ``serve_check`` holds the served model to the latency and memory budget
in ``configs/serve.yaml``.

The verdict is tested with measurements given to it, never with the clock (a timed test fails
on a busy machine and passes on a slow model); the command is tested for what it records and
how it exits, with a budget no model can meet.
"""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

from {{ cookiecutter.package_name }}.data.sample import (
    write_sample,
)
from {{ cookiecutter.package_name }}.errors import (
    EXIT_FINDINGS,
)
from {{ cookiecutter.package_name }}.serve_check import (
    main,
)
from {{ cookiecutter.package_name }}.serving.budget import (
    Budget,
    Measurements,
    over_budget,
)

BUDGET = Budget(p95_ms=100, ms_per_row=1, mib=1000)
WITHIN = Measurements(
    one_row_p50_ms=40, one_row_p95_ms=100, batch_ms_per_row=1, batch_rows=500, peak_mib=1000
)


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({}, []),
        ({"one_row_p95_ms": 100.5}, ["one-row p95 latency 100.5 ms > serve.budget_p95_ms=100"]),
        ({"batch_ms_per_row": 1.2}, ["1.2 ms a row in a batch of 500 > serve.budget_ms_per_row=1"]),
        ({"peak_mib": 1500}, ["peak memory 1500 MiB > serve.budget_mib=1000"]),
        ({"one_row_p50_ms": 99}, []),  # the budget is on the p95, not the median
    ],
)
def test_over_budget_names_each_budget_exceeded(changed: dict, expected: list[str]) -> None:
    """A measurement at its budget is within it; each one above is one line naming its
    setting; the others stay silent."""
    measured = Measurements(**{**WITHIN.__dict__, **changed})
    assert over_budget(measured, BUDGET) == expected


def test_every_budget_exceeded_is_reported() -> None:
    measured = Measurements(1, 101, 2, 500, 1001)
    assert [line.split(" > ")[1] for line in over_budget(measured, BUDGET)] == [
        "serve.budget_p95_ms=100",
        "serve.budget_ms_per_row=1",
        "serve.budget_mib=1000",
    ]


def test_serve_check_records_and_exits_4_over_budget(
    champion: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The champion measured on new rows: a FINISHED ``serve_check`` run with the ``serve/*``
    metrics and the verdict tag, then, over budget, one ``error:`` line naming the model, the
    check and the setting, and exit 4."""
    compose, _ = champion
    rows = write_sample(tmp_path / "new.csv", 40, 1, compose().data.task, labelled=False)
    cfg = compose(
        f"data.new_rows={rows}",
        "serve.check_requests=5",
        "serve.budget_p95_ms=0.000001",
        "serve.budget_ms_per_row=1000000",  # only the p95 budget can fail, however busy the
        "serve.budget_mib=1000000",  # machine: the line below names exactly one setting
        stage="serve",
    )
    with pytest.raises(SystemExit) as exited:
        main.__wrapped__(cfg)
    assert exited.value.code == EXIT_FINDINGS
    (line,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert "champion" in line and "check 'serving budget (Mo6)' failed: one-row p95" in line
    assert line.endswith("> serve.budget_p95_ms=1e-06"), line
    client = mlflow.MlflowClient(mlflow.get_tracking_uri())
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    (run,) = client.search_runs([experiment.experiment_id], "tags.stage = 'serve_check'")
    assert run.info.status == "FINISHED" and run.data.tags["serve.budget"] == "over"
    metrics = run.data.metrics
    assert metrics["serve/batch_rows"] == 40
    assert 0 < metrics["serve/one_row_p50_ms"] <= metrics["serve/one_row_p95_ms"]
    assert metrics["serve/batch_ms_per_row"] > 0 and metrics["serve/peak_mib"] > 0
