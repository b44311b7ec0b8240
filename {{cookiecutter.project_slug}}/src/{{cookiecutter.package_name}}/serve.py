"""Serve a model over HTTP: ``python -m {{ cookiecutter.package_name }}.serve`` (``make serve``).

Runs ``mlflow models serve`` on the model ``serve.model`` names in this data's lineage
(``tracking.model_name``, the champion by default), against this project's tracking store,
with the project's own environment (``--env-manager local``). Requests are raw rows, checked
against the model's contract before anything is predicted. A model that does not exist is one
line and exit 2, before any server starts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import PipelineError, first_line, one_line_errors


def serve_command(cfg: DictConfig) -> tuple[str, list[str], dict[str, str]]:
    """The model URI, and the ``mlflow models serve`` command line and environment that serve
    it; checks first that the model exists."""
    import mlflow
    from mlflow.exceptions import MlflowException

    from .tracking.registry import model_uri
    from .tracking.store import resolve_tracking_uri

    tracking = resolve_tracking_uri(cfg.tracking.uri, Path(cfg.paths.root))
    mlflow.set_tracking_uri(tracking)
    uri = model_uri(cfg.serve.model, cfg.tracking.model_name)
    try:
        mlflow.models.get_model_info(uri)
    except (MlflowException, OSError) as err:
        detail = first_line(err)
        raise PipelineError(uri, "model exists", f"{detail}; train one with `make train`") from err
    command = [sys.executable, "-m", "mlflow", "models", "serve", "-m", uri]
    command += ["--env-manager", "local", "--host", cfg.serve.host, "--port", str(cfg.serve.port)]
    # MLflow starts ``uvicorn`` by name: find the one installed beside this interpreter, also
    # when the environment is not activated (``make`` runs ``.venv/bin/python`` directly).
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return uri, command, {**os.environ, "PATH": path, "MLFLOW_TRACKING_URI": tracking}


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="serve")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: replace this process with the MLflow server."""
    uri, command, env = serve_command(cfg)
    print(f"serving {uri} on http://{cfg.serve.host}:{cfg.serve.port}/invocations")
    sys.stdout.flush()
    os.execve(sys.executable, command, env)


if __name__ == "__main__":
    main()
