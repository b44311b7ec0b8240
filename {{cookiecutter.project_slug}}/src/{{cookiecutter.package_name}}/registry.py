"""The model registry: which model serves, how it got there and how to undo it (I4, I7).

Every model that passes the baseline gate is registered as a new version of
``tracking.model_name``. The alias ``champion`` moves to it only when it also beats the current
champion on the primary validation metric (I4); the version it replaced is written on the new
version as the tag ``champion.previous``, so :func:`rollback` can move the alias back one step,
and again (I7). Everything that loads a model (``evaluate``, ``predict``, ``mlflow models
serve``) names it by alias, by run id, or by URI through :func:`model_uri`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from .errors import PipelineError

CHAMPION = "champion"
PREVIOUS = "champion.previous"
RUN_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Promotion:
    """What registering one model did: its version, and whether it became the champion."""

    version: str
    promoted: bool
    reason: str


def model_uri(reference: str, model_name: str) -> str:
    """``champion`` (any alias) -> ``models:/<name>@champion``; a run id -> ``runs:/<id>/model``;
    a URI (``models:/...``, ``runs:/...``) is used as it is."""
    if ":/" in reference:
        return reference
    if RUN_ID.fullmatch(reference):
        return f"runs:/{reference}/model"
    return f"models:/{model_name}@{reference}"


def _champion(client: MlflowClient, name: str) -> ModelVersion | None:
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def _better(value: float, than: float, lower_is_better: bool) -> bool:
    return value < than if lower_is_better else value > than


def register(model: str, name: str, metric: str, value: float, lower_is_better: bool) -> Promotion:
    """Register ``model`` (a model URI) under ``name``, tagged with its validation ``metric``;
    make it ``champion`` when that beats the current champion's tag (or there is none yet)."""
    client = MlflowClient(mlflow.get_tracking_uri())
    version = str(mlflow.register_model(model, name).version)
    client.set_model_version_tag(name, version, metric, str(value))
    champion = _champion(client, name)
    if champion is not None:
        previous = float(champion.tags.get(metric, "nan"))
        if not math.isnan(previous) and not _better(value, previous, lower_is_better):
            return Promotion(
                version,
                False,
                f"{metric} {value:.4f} does not beat champion v{champion.version} ({previous:.4f})",
            )
        client.set_model_version_tag(name, version, PREVIOUS, str(champion.version))
    client.set_registered_model_alias(name, CHAMPION, version)
    was = f"v{champion.version}" if champion else "none"
    return Promotion(version, True, f"{metric} {value:.4f}; previous champion: {was}")


def rollback(name: str) -> tuple[str, str]:
    """Move ``champion`` back to the version it replaced; return ``(from, to)`` versions."""
    client = MlflowClient(mlflow.get_tracking_uri())
    uri = f"models:/{name}@{CHAMPION}"
    champion = _champion(client, name)
    if champion is None:
        raise PipelineError(uri, "champion exists", "no champion to roll back; run `make train`")
    previous = champion.tags.get(PREVIOUS)
    if not previous:
        raise PipelineError(
            uri, "previous champion exists", f"v{champion.version} was the first champion"
        )
    client.set_registered_model_alias(name, CHAMPION, previous)
    client.set_model_version_tag(name, champion.version, "rolled_back", "true")
    return str(champion.version), previous
