"""Serve, predict, evaluate, promote (I4, I7): the trained model used the way users use it.

One linear model is trained once for the session (the ``champion`` fixture) and registered as
``champion`` of its own registered model; the tests load it by alias like ``make predict`` and
``make evaluate`` do.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.data.report import (
    DataValidationError,
)
from {{ cookiecutter.package_name }}.data.sample import (
    write_sample,
)
from {{ cookiecutter.package_name }}.data.schema import (
    Role,
    as_labels,
)
from {{ cookiecutter.package_name }}.errors import (
    BelowBaselineError,
    DataError,
    PipelineError,
)
from {{ cookiecutter.package_name }}.evaluate import (
    evaluate,
)
from {{ cookiecutter.package_name }}.monitor import (
    monitor,
)
from {{ cookiecutter.package_name }}.predict import (
    main as predict_main,
)
from {{ cookiecutter.package_name }}.predict import (
    predict,
)
from {{ cookiecutter.package_name }}.rollback import (
    rollback as rollback_stage,
)
from {{ cookiecutter.package_name }}.serving.predictor import (
    Predictor,
)
from {{ cookiecutter.package_name }}.tracking.registry import (
    CHAMPION,
)
from {{ cookiecutter.package_name }}.tracking.runs import (
    tracked_run,
)
from {{ cookiecutter.package_name }}.train import (
    train,
)

NAME = "champion-model"  # conftest.CHAMPION_NAME: the model the `champion` fixture trains


def labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Each value as the label the contract compares (``16.0`` and ``16`` alike), missing as
    ``<missing>``: rows read back from JSON compare with rows read from CSV."""
    return frame.apply(as_labels).fillna("<missing>")


def new_batch(cfg: DictConfig, path: Path, rows: int = 60) -> Path:
    """Unlabelled rows, as they arrive for scoring."""
    return write_sample(path, rows, 7, cfg.data.task, labelled=False)


def served_predictions(request: Path, output: Path) -> list:
    """The champion's answer to a CSV ``request`` through MLflow's own scoring path
    (``mlflow.models.predict`` in this environment: what ``mlflow models serve`` runs)."""
    mlflow.models.predict(
        model_uri=f"models:/{NAME}@{CHAMPION}",
        input_path=str(request),
        content_type="csv",
        output_path=str(output),
        env_manager="local",
    )
    return json.loads(output.read_text())["predictions"]


def last_run(cfg: DictConfig, stage: str, order: str = "DESC") -> mlflow.entities.Run:
    """The latest run of ``stage`` in the config's experiment (``order="ASC"``: the first)."""
    client = MlflowClient(mlflow.get_tracking_uri())
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    runs = client.search_runs(
        [experiment.experiment_id], f"tags.stage = '{stage}'", order_by=[f"start_time {order}"]
    )
    return runs[0]


def test_the_model_is_registered_as_champion(champion: tuple) -> None:
    """The first model to pass the gate becomes ``champion``; its run says so."""
    compose, _ = champion
    cfg = compose()
    version = MlflowClient(mlflow.get_tracking_uri()).get_model_version_by_alias(NAME, CHAMPION)
    run = last_run(cfg, "train", order="ASC")  # the champion fixture's, before any other test
    assert version.run_id == run.info.run_id
    assert run.data.tags["registry.champion"] == "true"


def test_the_logged_model_takes_raw_rows_like_predict(champion: tuple, tmp_path: Path) -> None:
    """The pyfunc model answers raw rows (no target, CSV types) exactly as ``predict`` does;
    its signature names the raw columns and it carries an input example."""
    compose, _ = champion
    batch = new_batch(compose(), tmp_path / "batch.csv")
    output = tmp_path / "predictions.csv"
    cfg = compose(f"predict.input={batch}", f"predict.output={output}", stage="predict")
    assert predict(cfg) == output
    written = pd.read_csv(output)
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@{CHAMPION}")
    raw = pd.read_csv(batch)
    served = model.predict(raw)
    assert len(served) == len(raw) == len(written)
    assert written["customer_id"].tolist() == raw["customer_id"].tolist()
    assert written["prediction"].astype(str).tolist() == served["prediction"].astype(str).tolist()
    numbers = [c for c in served.columns if c != "prediction"] or ["prediction"]
    np.testing.assert_allclose(written[numbers].to_numpy(float), served[numbers].to_numpy(float))
    assert model.metadata.get_input_schema().input_names() == list(raw.columns)
    assert model.metadata.saved_input_example_info is not None
    run = last_run(cfg, "predict")
    assert run.info.status == "FINISHED"
    assert run.data.metrics["predict/rows"] == len(raw)
    assert any(key.startswith("predict/unseen/") for key in run.data.metrics)


def test_the_logged_example_holds_no_ids_no_sensitive_values_and_no_real_row(
    champion: tuple,
) -> None:
    """D5: the input example logged with the champion (anyone who reads the registry sees it)
    has placeholders for the id column and the sensitive column (M7), none of the table's ids,
    and no row of the table on the other columns; the served model still takes it."""
    compose, _ = champion
    table = pd.read_csv(compose().data.path)
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@{CHAMPION}")
    example = model.input_example
    spec = model.unwrap_python_model().predictor.spec
    assert spec.names(Role.id) == ["customer_id"] and spec.sensitive == ["age_years"]
    assert list(example.columns) == model.metadata.get_input_schema().input_names()
    assert not set(example["customer_id"]) & set(table["customer_id"])
    assert example["age_years"].isna().all()  # nullable: left missing, no one's age
    shared = [c for c in example.columns if c not in ("customer_id", "age_years")]
    logged, rows = (labels(frame[shared]) for frame in (example, table))  # 16.0 is 16
    assert not set(logged.apply(tuple, axis=1)) & set(rows.apply(tuple, axis=1))
    for column in shared:  # each value is still a real value of its column
        assert set(logged[column]) <= set(rows[column])
    assert len(model.predict(example)) == len(example)


def test_predict_refuses_rows_that_break_the_contract(champion: tuple, tmp_path: Path) -> None:
    """Mo2: a missing column and an out-of-range value are both named; nothing is written
    and the run is FAILED."""
    compose, _ = champion
    frame = pd.read_csv(new_batch(compose(), tmp_path / "batch.csv"))
    frame = frame.drop(columns="region")
    frame.loc[0, "age_years"] = 150.0
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    output = tmp_path / "predictions.csv"
    cfg = compose(f"predict.input={bad}", f"predict.output={output}", stage="predict")
    with pytest.raises(DataValidationError) as caught:
        predict(cfg)
    assert {p.column for p in caught.value.report.failures} == {"region", "age_years"}
    assert f"against the contract of models:/{NAME}@{CHAMPION}" in str(caught.value)
    assert not output.exists()
    assert not list(tmp_path.glob(".*partial"))
    run = last_run(cfg, "predict")
    assert run.info.status == "FAILED"
    assert "region" in run.data.tags["failure.reason"]


def test_predict_refuses_an_output_it_cannot_write(champion: tuple, tmp_path: Path) -> None:
    """An unsupported output extension fails before any work, naming the file."""
    compose, _ = champion
    batch = new_batch(compose(), tmp_path / "batch.csv")
    cfg = compose(
        f"predict.input={batch}", f"predict.output={tmp_path / 'out.txt'}", stage="predict"
    )
    with pytest.raises(DataError, match=r"out\.txt"):
        predict(cfg)
    assert last_run(cfg, "predict").info.status == "FAILED"


def test_a_missing_predict_input_names_predict_input(champion: tuple, tmp_path: Path) -> None:
    """The file to score is ``predict.input``, not the training data: the message says which
    setting to fix, and nothing is loaded or written."""
    compose, _ = champion
    output = tmp_path / "scored.csv"
    cfg = compose(
        f"predict.input={tmp_path / 'absent.csv'}", f"predict.output={output}", stage="predict"
    )
    with pytest.raises(DataError) as caught:
        predict(cfg)
    assert str(caught.value).endswith("no such file; fix predict.input")
    assert "data.path" not in str(caught.value)
    assert not output.exists()


def no_space(self: pd.DataFrame, path: Path, *args: object, **kwargs: object) -> None:
    """A disk that fills up half way through the file."""
    Path(path).write_text("customer_id,prediction\n1,", encoding="utf-8")
    raise OSError(errno.ENOSPC, "No space left on device")


def read_only(self: pd.DataFrame, path: Path, *args: object, **kwargs: object) -> None:
    """A directory the process may not write in (the tests may run as root, which may)."""
    raise PermissionError(errno.EACCES, "Permission denied", str(path))


@pytest.mark.parametrize("failure", ["full disk", "read-only", "a directory", "under a file"])
def test_a_failed_write_is_one_line_and_leaves_nothing_behind(
    champion: tuple,
    tmp_path: Path,
    failure: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every way writing predictions can fail ends with one ``error:`` line naming the file,
    exit 2 and a FAILED run, leaves no partial file, and the output already there intact."""
    compose, _ = champion
    batch = new_batch(compose(), tmp_path / "batch.csv")
    output = tmp_path / "out" / "scored.csv"
    output.parent.mkdir()
    output.write_text("the previous predictions\n")
    if failure == "full disk":
        monkeypatch.setattr(pd.DataFrame, "to_csv", no_space)
    elif failure == "read-only":
        monkeypatch.setattr(pd.DataFrame, "to_csv", read_only)
    elif failure == "a directory":
        output.unlink()
        output.mkdir()
    else:
        output = output / "scored.csv"  # its parent is the existing file
    cfg = compose(f"predict.input={batch}", f"predict.output={output}", stage="predict")
    with pytest.raises(SystemExit) as exited:
        predict_main.__wrapped__(cfg)
    assert exited.value.code == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(output) in errors[0] and "writable output" in errors[0]
    assert "fix predict.output" in errors[0]
    assert last_run(cfg, "predict").info.status == "FAILED"
    assert sorted(p.name for p in tmp_path.rglob("*partial*")) == []
    previous = tmp_path / "out" / "scored.csv"
    assert previous.is_dir() or previous.read_text() == "the previous predictions\n"


@pytest.mark.parametrize("rows", ["1 row", "2 rows", "uniform rows"])
def test_a_request_of_one_row_is_answered(champion: tuple, tmp_path: Path, rows: str) -> None:
    """Table-level checks (not constant, unique ids, no duplicate rows) never apply to a request:
    one row, two rows and rows that are all alike are scored by ``predict``, by the pyfunc and
    by MLflow's own scoring path (what ``mlflow models serve`` runs)."""
    compose, _ = champion
    frame = pd.read_csv(new_batch(compose(), tmp_path / "batch.csv"))
    frame = {"1 row": frame.head(1), "2 rows": frame.head(2)}.get(rows, frame.head(4))
    if rows == "uniform rows":
        frame = pd.concat([frame.head(1)] * 4, ignore_index=True)  # same region, same id
    request = tmp_path / "request.csv"
    frame.to_csv(request, index=False)
    output = tmp_path / "scored.csv"
    predict(compose(f"predict.input={request}", f"predict.output={output}", stage="predict"))
    assert len(pd.read_csv(output)) == len(frame)
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@{CHAMPION}")
    assert len(model.predict(pd.read_csv(request))) == len(frame)
    assert len(served_predictions(request, tmp_path / "served.json")) == len(frame)


def test_a_reference_run_without_a_model_says_so(champion: tuple, tmp_path: Path) -> None:
    """Every stage names the model it loads; a run that logged no model (a ``validate`` run, say)
    named as a reference is refused as that, not as a failed artifact download."""
    compose, _ = champion
    with tracked_run(compose(), "validate") as run:
        pass
    batch = new_batch(compose(), tmp_path / "batch.csv")
    with pytest.raises(PipelineError) as caught:
        monitor(
            compose(f"monitor.reference={run.run_id}", f"monitor.input={batch}", stage="monitor")
        )
    assert f"run {run.run_id} (stage validate) logged no model" in str(caught.value)


def test_the_served_model_refuses_a_bad_request(champion: tuple, tmp_path: Path) -> None:
    """What ``mlflow models serve`` loads refuses bad requests by name: a missing column in
    MLflow's signature check, a value that breaks the contract in the contract check itself
    (the column and the check, exactly as ``predict`` names them)."""
    compose, _ = champion
    raw = pd.read_csv(new_batch(compose(), tmp_path / "batch.csv"))
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@{CHAMPION}")
    with pytest.raises(mlflow.exceptions.MlflowException, match=r"missing inputs \['contract'\]"):
        model.predict(raw.drop(columns="contract"))
    raw.loc[raw.index[:2], "age_years"] = 150.0
    with pytest.raises(DataValidationError) as caught:
        model.predict(raw)
    (failure,) = caught.value.report.failures
    assert failure.column == "age_years" and "in_range" in failure.check and failure.rows == 2


def test_evaluate_by_alias_reproduces_the_test_metrics(champion: tuple) -> None:
    """``evaluate`` on the champion re-splits the data as training did: its test metrics are
    the training run's, recorded as a separate run linked to it, with slices (M6)."""
    compose, trained = champion
    cfg = compose(stage="evaluate")
    metrics = evaluate(cfg)
    assert metrics == pytest.approx({k: v for k, v in trained.items() if k.startswith("test/")})
    run = last_run(cfg, "evaluate")
    assert run.info.status == "FINISHED"
    assert run.data.tags["model.run_id"] == last_run(cfg, "train", order="ASC").info.run_id
    path = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="slices")
    rows = json.loads(Path(path, "test.json").read_text())["slices"]
    assert {row["column"] for row in rows} == {*cfg.data.slices, "age_years"}  # M7: sensitive
    assert sum(row["rows"] for row in rows if row["column"] == "contract") == len(
        pd.read_csv(cfg.data.path)
    ) - round(len(pd.read_csv(cfg.data.path)) * (1 - cfg.data.split.test_fraction))


def test_evaluate_an_unknown_model_fails_clearly(champion: tuple) -> None:
    """An alias that does not exist names the model URI; the evaluate run is FAILED."""
    compose, _ = champion
    cfg = compose("evaluate.model=nonexistent", stage="evaluate")
    with pytest.raises(PipelineError, match=f"models:/{NAME}@nonexistent"):
        evaluate(cfg)
    assert last_run(cfg, "evaluate").info.status == "FAILED"


def test_a_model_below_baseline_leaves_the_champion_alone(champion: tuple) -> None:
    """P1, I4: a model forced below the baseline ends FAILED, registers nothing, and the
    champion alias does not move."""
    compose, _ = champion
    client = MlflowClient(mlflow.get_tracking_uri())
    before = client.get_model_version_by_alias(NAME, CHAMPION).version
    versions = len(client.search_model_versions(f"name = '{NAME}'"))
    cfg = compose("train.baseline_margin=1e9")
    with pytest.raises(BelowBaselineError):
        train(cfg)
    assert last_run(cfg, "train").info.status == "FAILED"
    assert client.get_model_version_by_alias(NAME, CHAMPION).version == before
    assert len(client.search_model_versions(f"name = '{NAME}'")) == versions


def test_rollback_with_no_champion_fails_the_run(champion: tuple) -> None:
    """``make rollback`` on an empty registry: a clear error and a FAILED rollback run."""
    compose, _ = champion
    cfg = compose("tracking.model_name=never-trained", stage="rollback")
    with pytest.raises(PipelineError, match="no champion"):
        rollback_stage(cfg)
    assert last_run(cfg, "rollback").info.status == "FAILED"


def test_mlflow_models_predict_gives_the_same_predictions(
    champion: tuple, tmp_path: Path, tracking_uri: str
) -> None:
    """The logged model through MLflow's own scoring path (``mlflow.models.predict`` with the
    local environment: MLflow parses the CSV and scores it as ``mlflow models predict`` and
    ``mlflow models serve`` do) gives ``predict``'s numbers for the same rows."""
    compose, _ = champion
    batch = new_batch(compose(), tmp_path / "batch.csv")
    ours = tmp_path / "ours.csv"
    predict(compose(f"predict.input={batch}", f"predict.output={ours}", stage="predict"))
    served = pd.DataFrame(served_predictions(batch, tmp_path / "theirs.json"))
    written = pd.read_csv(ours)
    numbers = [c for c in served.columns if c != "prediction"] or ["prediction"]
    np.testing.assert_allclose(written[numbers].to_numpy(float), served[numbers].to_numpy(float))
    assert written["prediction"].astype(str).tolist() == served["prediction"].astype(str).tolist()


def test_a_model_saved_in_an_older_format_says_to_retrain(champion: tuple, tmp_path: Path) -> None:
    """A ``model.json`` from before the target encoding was saved with the model (no format
    version) is refused with one clear error naming the file and the check, never a KeyError."""
    model = mlflow.pyfunc.load_model(f"models:/{NAME}@{CHAMPION}")
    saved = model.unwrap_python_model().predictor.save(tmp_path / "predictor")
    meta = json.loads((saved / "model.json").read_text())
    assert Predictor.load(saved).encoding.task.value == meta["task"]  # the current format loads
    for key in ("version", "target_encoding"):
        del meta[key]
    (saved / "model.json").write_text(json.dumps(meta | {"classes": []}))
    with pytest.raises(PipelineError) as caught:
        Predictor.load(saved)
    assert caught.value.file == "model.json" and caught.value.check == "format version"
    assert "retrain" in str(caught.value)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_predict_in_pieces_writes_what_one_piece_would(
    champion: tuple, tmp_path: Path, suffix: str
) -> None:
    """Scored ``predict.chunk_rows`` rows at a time (here 7: many pieces, the last one short),
    from a CSV or a Parquet file with several row groups, the output is the table that one
    piece for the whole file gives, and the run counts every row."""
    compose, _ = champion
    raw = pd.read_csv(new_batch(compose(), tmp_path / "batch.csv"))
    batch = tmp_path / f"batch{suffix}"
    if suffix == ".csv":
        raw.to_csv(batch, index=False)
    else:
        raw.to_parquet(batch, index=False, row_group_size=50)
    outputs = {}
    for rows in (7, len(raw)):
        output = tmp_path / f"predictions-{rows}{suffix}"
        cfg = compose(
            f"predict.input={batch}", f"predict.output={output}", f"predict.chunk_rows={rows}",
            stage="predict",
        )  # fmt: skip
        predict(cfg)
        outputs[rows] = pd.read_csv(output) if suffix == ".csv" else pd.read_parquet(output)
        assert last_run(cfg, "predict").data.metrics["predict/rows"] == len(raw)
    pd.testing.assert_frame_equal(outputs[7], outputs[len(raw)])
    assert outputs[7]["customer_id"].tolist() == raw["customer_id"].tolist()


def test_a_bad_row_in_a_late_piece_writes_nothing(champion: tuple, tmp_path: Path) -> None:
    """A row far into the file that breaks the contract stops the pieces before it from being
    written: the output that was there stays as it was, no partial file is left, and the
    error names the file, the column and the check."""
    compose, _ = champion
    frame = pd.read_csv(new_batch(compose(), tmp_path / "batch.csv"))
    frame.loc[len(frame) - 3, "age_years"] = 150.0  # in the last piece
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    output = tmp_path / "predictions.csv"
    output.write_text("what was there before\n")
    cfg = compose(
        f"predict.input={bad}", f"predict.output={output}", "predict.chunk_rows=10",
        stage="predict",
    )  # fmt: skip
    with pytest.raises(DataValidationError) as caught:
        predict(cfg)
    assert (caught.value.file, caught.value.column) == (str(bad), "age_years")
    assert output.read_text() == "what was there before\n"
    assert not list(tmp_path.glob(".*partial"))
    assert last_run(cfg, "predict").info.status == "FAILED"
