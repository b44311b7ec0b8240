"""P6: every run is written down with its provenance, and failures are recorded as FAILED."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import mlflow
import pytest
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig

from {{ cookiecutter.package_name }}.tracking.runs import (
    config_hash,
    file_name,
    flatten,
    git_state,
    tracked_run,
)
from {{ cookiecutter.package_name }}.tracking.store import (
    TrackingConfigError,
    prepare,
    resolve_tracking_uri,
)


def test_default_uri_is_sqlite_under_the_root_whatever_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without config or environment the store is <root>/mlflow.db, from any directory."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    assert resolve_tracking_uri(None, Path("/srv/project")) == "sqlite:////srv/project/mlflow.db"


def test_relative_sqlite_uri_is_resolved_against_the_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sqlite:///x.db`` means <root>/x.db, not <cwd>/x.db."""
    monkeypatch.chdir(tmp_path)
    uri = resolve_tracking_uri("sqlite:///stores/x.db", Path("/srv/project"))
    assert uri == "sqlite:////srv/project/stores/x.db"


def test_environment_overrides_default_and_config_overrides_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Precedence: tracking.uri, then $MLFLOW_TRACKING_URI, then the default."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.example:5000")
    assert resolve_tracking_uri(None, Path("/p")) == "http://tracking.example:5000"
    assert resolve_tracking_uri("sqlite:////p/other.db", Path("/p")) == "sqlite:////p/other.db"


@pytest.mark.parametrize("uri", ["./mlruns", "file:///tmp/mlruns", "mlruns"])
def test_file_store_is_refused(uri: str) -> None:
    """The ./mlruns file store is refused with a message that says what to use instead."""
    with pytest.raises(TrackingConfigError, match="sqlite"):
        resolve_tracking_uri(uri, Path("/p"))


def test_a_moved_or_copied_project_is_refused_with_what_to_do(
    tmp_path: Path, tracking_uri: str
) -> None:
    """MLflow stores artifact locations as absolute paths: a copy of a project would write its
    artifacts into the original. The copy's store is refused, naming both places and the fix;
    the original keeps working."""
    original, copy = tmp_path / "original", tmp_path / "copy"
    original.mkdir()
    shutil.copyfile(tracking_uri.removeprefix("sqlite:///"), original / "mlflow.db")
    settings = SimpleNamespace(uri=None, experiment="moved")
    with pytest.MonkeyPatch.context() as env:
        env.delenv("MLFLOW_TRACKING_URI", raising=False)
        env.setattr(mlflow, "set_tracking_uri", lambda uri: None)  # leave the session's store
        prepare(settings, original)
        shutil.copytree(original, copy)
        with pytest.raises(TrackingConfigError) as caught:
            prepare(settings, copy)
        prepare(settings, original)
    message = str(caught.value)
    assert caught.value.check == "artifacts beside the store"
    assert str(original / "mlartifacts") in message and str(copy / "mlartifacts") in message
    assert "moved or copied" in message and "\n" not in message


def test_flatten_names_nested_keys_with_dots() -> None:
    """Nested config becomes dotted MLflow params; over-long values are cut to MLflow's limit."""
    flat = flatten({"train": {"seed": 0}, "data": dict(split=dict(seed=42)), "long": "x" * 7000})
    assert flat["train.seed"] == "0" and flat["data.split.seed"] == "42"
    assert len(flat["long"]) == 6000


def test_config_hash_ignores_paths_and_tracking(compose_cfg: Callable[..., DictConfig]) -> None:
    """Where outputs go does not change the hash; what is computed does."""
    base = config_hash(compose_cfg())
    assert config_hash(compose_cfg("paths.output_dir=/elsewhere")) == base
    assert config_hash(compose_cfg("tracking.experiment=other")) == base
    assert config_hash(compose_cfg("train.seed=123")) != base


def test_successful_run_records_provenance(
    compose_cfg: Callable[..., DictConfig], tracking_uri: str
) -> None:
    """A run carries stage, git and config-hash tags, flattened params and the config artifact,
    stored in ``mlartifacts/`` beside the database (never in the project for a test store)."""
    cfg = compose_cfg("train.seed=7")
    with tracked_run(cfg, stage="unit") as run:
        run.log_metrics({"loss": 1.0}, step=0)
        run.log_metrics({"loss": 0.5}, step=1)
    client = MlflowClient(mlflow.get_tracking_uri())
    record = client.get_run(run.run_id)
    assert record.info.status == "FINISHED"
    database = Path(tracking_uri.removeprefix("sqlite:///"))
    assert record.info.artifact_uri.startswith((database.parent / "mlartifacts").as_uri())
    tags = record.data.tags
    assert tags["stage"] == "unit"
    assert tags["config.hash"] == config_hash(cfg)
    assert {"git.commit", "git.dirty"} <= set(tags)
    assert record.data.params["train.seed"] == "7"
    artifacts = {a.path for a in client.list_artifacts(run.run_id, "config")}
    assert artifacts == {"config/resolved.yaml", "config/overrides.yaml"}
    history = client.get_metric_history(run.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5)]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_state_names_uncommitted_specs_and_only_them(tmp_path: Path) -> None:
    """M1: ``git.unreviewed`` lists what changed under configs/, schemas/ and src/ since the
    commit, new files included, and nothing else (data, outputs); ``none`` when they are
    committed; ``unknown`` outside a git checkout."""
    import subprocess

    assert git_state(tmp_path)["git.unreviewed"] == "unknown"
    for rel in ("configs/train.yaml", "src/a.py", "data/rows.csv"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("a: 1\n")
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    for command in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-qm", "specs"]):
        subprocess.run(["git", "-C", str(tmp_path), *command], check=True)
    assert git_state(tmp_path)["git.unreviewed"] == "none"
    (tmp_path / "configs/train.yaml").write_text("a: 2\n")
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas/new.yaml").write_text("columns: {}\n")
    (tmp_path / "data/rows.csv").write_text("changed\n")
    state = git_state(tmp_path)
    assert state["git.unreviewed"] == "configs/train.yaml, schemas/new.yaml"
    assert state["git.dirty"] == "true"


def test_failing_run_is_recorded_failed_with_reason(
    compose_cfg: Callable[..., DictConfig], only_run: Callable[..., mlflow.entities.Run]
) -> None:
    """An exception ends the run FAILED, tags the reason, stores the traceback, and re-raises."""
    cfg = compose_cfg()
    with pytest.raises(RuntimeError, match="upstream table vanished"), tracked_run(cfg, "unit"):
        raise RuntimeError("upstream table vanished")
    record = only_run(cfg)
    assert record.info.status == "FAILED"
    assert record.data.tags["failure.reason"] == "RuntimeError: upstream table vanished"
    text = (
        Path(
            mlflow.artifacts.download_artifacts(run_id=record.info.run_id, artifact_path="failure")
        )
        .joinpath("traceback.txt")
        .read_text()
    )
    assert "upstream table vanished" in text and "Traceback" in text
    assert mlflow.active_run() is None


def test_metrics_are_sent_in_batches(
    compose_cfg: Callable[..., DictConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """2,500 metric values go out in 3 ``log_batch`` calls, never one call per value."""
    calls: list[int] = []
    original = MlflowClient.log_batch

    def counting(self: MlflowClient, run_id: str, metrics=(), **kwargs: object) -> None:
        if metrics:  # params go through log_batch too; only metric batches count here
            calls.append(len(metrics))
        original(self, run_id, metrics=metrics, **kwargs)

    monkeypatch.setattr(MlflowClient, "log_batch", counting)
    with tracked_run(compose_cfg(), "unit") as run:
        for step in range(500):
            run.log_metrics({f"m{i}": float(step) for i in range(5)}, step=step)
    assert sum(calls) == 2500
    assert len(calls) == 3


NAMES = ["a/b", "x y", "rate (%)", "rate [%]", "métrique", '"q"', ".hidden"]


def test_metric_keys_from_column_names_are_made_safe(
    compose_cfg: Callable[..., DictConfig], only_run: Callable[..., mlflow.entities.Run]
) -> None:
    """Columns or categories such as ``rate (%)`` in metric keys are stored, not refused, and
    two names that differ only in refused characters stay two metrics."""
    cfg = compose_cfg()
    with tracked_run(cfg, "unit") as run:
        run.log_metrics({f"drift/{name}/shift": float(i) for i, name in enumerate(NAMES)})
    stored = only_run(cfg).data.metrics
    assert sorted(stored.values()) == [float(i) for i in range(len(NAMES))]
    assert stored["drift/métrique/shift"] == NAMES.index("métrique")
    assert stored["drift/x y/shift"] == NAMES.index("x y")


def test_file_names_from_column_names_are_plain_and_distinct() -> None:
    """Any column name gives a plain, visible file name, and distinct names stay distinct."""
    names = [file_name(name) for name in NAMES]
    assert len(set(names)) == len(NAMES)
    for name in names:
        assert "/" not in name and not name.startswith(".") and " " not in name
    assert file_name("age_years") == "age_years"


def test_a_server_that_does_not_answer_is_refused_before_any_work(
    compose_cfg: Callable[..., DictConfig],
) -> None:
    """``tracking=server`` at an address where nothing listens: one error naming the URI and
    the check, raised before the data is read or any run starts (MLflow alone would retry for
    minutes)."""
    import socket

    from {{ cookiecutter.package_name }}.train import (
        train,
    )

    with socket.socket() as probe:  # a free port: bound, then released, so nothing listens
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    cfg = compose_cfg("tracking=server", f"tracking.uri={url}")
    with pytest.raises(TrackingConfigError, match=rf"^{url}: check 'server reachable' failed"):
        train(cfg)
    assert not Path(cfg.paths.output_dir).exists() or not any(Path(cfg.paths.output_dir).iterdir())
