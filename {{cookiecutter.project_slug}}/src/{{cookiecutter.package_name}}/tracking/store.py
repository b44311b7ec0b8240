"""Where runs are written: the one place that decides the MLflow store of this project.

* The tracking URI never depends on the working directory or on Hydra's output directory:
  ``tracking.uri`` from the config, else ``$MLFLOW_TRACKING_URI``, else
  ``sqlite:///<project root>/mlflow.db``. Relative sqlite paths are resolved against the root.
  The ``./mlruns`` file store is refused, and so is a moved or copied project whose store
  still points its artifacts at the original folder.
* :func:`prepare` creates the experiment once, before any fan-out (SQLite races on its first
  migration when parallel jobs each try).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ..config import project_root
from ..errors import PipelineError

DB_NAME = "mlflow.db"
ARTIFACT_DIR = "mlartifacts"


class TrackingConfigError(PipelineError):
    """The tracking configuration cannot work (the refused file store, a moved project)."""


def rooted(uri: str, root: Path) -> str:
    """A ``sqlite:///`` URI with a relative path, made absolute against the project root (any
    other URI as it is): the same store from whatever directory a command runs in."""
    location = uri.removeprefix("sqlite:///")
    if uri.startswith("sqlite:///") and location != ":memory:" and not Path(location).is_absolute():
        return f"sqlite:///{(root / location).resolve()}"
    return uri


def resolve_tracking_uri(configured: str | None, root: Path | None = None) -> str:
    """Config beats ``$MLFLOW_TRACKING_URI`` beats ``sqlite:///<root>/mlflow.db``."""
    root = (root or project_root()).resolve()
    uri = configured or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root / DB_NAME}"
    if uri.startswith("sqlite:///"):
        return rooted(uri, root)
    if "://" not in uri or uri.startswith("file:"):
        raise TrackingConfigError(
            "tracking.uri",
            "not the file store",
            f"{uri!r} is MLflow's file store, which this project does not use; use "
            f"sqlite:///{DB_NAME} (resolved against the project root) or an http(s) server",
        )
    return uri


def artifact_location(uri: str) -> str | None:
    """A local sqlite store keeps artifacts in ``mlartifacts/`` beside its database file (so the
    default store uses ``<root>/mlartifacts``); a server decides for itself."""
    if not uri.startswith("sqlite:///"):
        return None
    database = Path(uri[len("sqlite:///") :])
    return (database.parent / ARTIFACT_DIR).as_uri() if database.is_absolute() else None


def check_not_moved(uri: str, experiment: str, location: str) -> None:
    """Refuse a local store whose experiment keeps its artifacts beside another copy of the
    database: MLflow records artifact locations as absolute paths, so a moved or copied
    project would quietly write every new artifact into the original place."""
    expected = artifact_location(uri)
    if expected is None or not location.startswith("file:") or location == expected:
        return
    raise TrackingConfigError(
        uri,
        "artifacts beside the store",
        f"experiment {experiment!r} keeps its artifacts in {location}, not beside this database "
        f"({expected}): the project was moved or copied. Work in the original folder, or give "
        "this copy a store of its own (move mlflow.db and mlartifacts/ aside; the runs stay in "
        "the original), or set tracking.uri to the original database",
    )


# MLflow's HTTP client retries a failed request 7 times with doubling waits (minutes per call)
# by default; a stage fails in seconds instead. The environment still decides when it says.
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
HEALTH_TIMEOUT = 5.0  # seconds to answer /health before a stage gives up, before any work


def check_server(uri: str) -> None:
    """Refuse a tracking server that does not answer, before any work starts: one line naming
    it, within seconds (MLflow itself would retry for minutes)."""
    import urllib.error
    import urllib.request

    for key, value in HTTP_DEFAULTS.items():
        os.environ.setdefault(key, value)
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=HEALTH_TIMEOUT):
            return
    except urllib.error.HTTPError:
        return  # it answers (behind a proxy that guards /health, say): MLflow takes it from here
    except (OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise TrackingConfigError(
            uri,
            "server reachable",
            f"no answer ({reason}); start it (`make mlflow-server`) or fix tracking.uri "
            "($MLFLOW_TRACKING_URI for tracking=server)",
        ) from err


def prepare(tracking: Any, root: Path | None = None) -> str:
    """Point MLflow at the store and create the experiment once; return the experiment id.

    Call this before fanning out (Hydra multirun, parallel jobs): creating the experiment (and,
    for a new SQLite file, migrating its schema) from many processes at once races.
    """
    uri = resolve_tracking_uri(tracking.uri, root)
    if uri.startswith(("http://", "https://")):
        check_server(uri)
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name(tracking.experiment)
    if experiment is not None:
        check_not_moved(uri, experiment.name, experiment.artifact_location)
        return experiment.experiment_id
    try:
        return client.create_experiment(tracking.experiment, artifact_location(uri))
    except MlflowException:  # another process created it between our two calls
        experiment = client.get_experiment_by_name(tracking.experiment)
        if experiment is None:
            raise
        return experiment.experiment_id
