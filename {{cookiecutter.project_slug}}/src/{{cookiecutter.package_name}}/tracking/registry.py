"""The model registry: which model serves, how it got there and how to undo it (I4, I7).

Every model that passes the baseline gate and the canary (it was loaded back through the
serving path and answered like in training) is registered as a new version of
``tracking.model_name``. The alias ``champion`` moves to it only when it beats the current
champion *on the same rows*: its own validation split, scored by each model through its own
serving path (contract, features, network), compared row by row with a paired one-sided t-test
(:func:`compare`); a split too small to tell two models apart promotes nothing (:class:`Rule`).
The version it replaced is written on the new version as the tag ``champion.previous``, so
:func:`rollback` can move the alias back one step, and again (I7); :func:`undo` takes a
promotion back when the run that made it fails afterwards. Everything that loads a model
(``evaluate``, ``predict``, ``monitor``, ``serve``) names it by alias, by run id, or by URI
through :func:`model_uri`, and :func:`describe_model` says what that resolves to.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mlflow
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ..errors import PipelineError

if TYPE_CHECKING:
    from ..serving.predictor import Predictor

CHAMPION = "champion"
PREVIOUS = "champion.previous"
RUN_ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Rule:
    """When a challenger may replace the champion (``train.promote_min_rows``,
    ``train.promote_alpha``)."""

    min_rows: int = 20
    alpha: float = 0.05


@dataclass(frozen=True)
class Comparison:
    """Two models on the same rows: mean per-row loss of each (log loss, or squared error),
    their difference (challenger minus champion: negative is better), its 95 % confidence
    interval and the one-sided p-value that the challenger is better."""

    rows: int
    loss: str
    challenger: float
    champion: float
    low: float
    high: float
    p_value: float

    @property
    def difference(self) -> float:
        return self.challenger - self.champion

    def better(self, alpha: float) -> bool:
        return self.difference < 0 and self.p_value < alpha

    def describe(self, champion: str) -> str:
        return (
            f"mean {self.loss} on the same {self.rows} rows: {self.challenger:.6g} against "
            f"champion {champion}'s {self.champion:.6g} (difference {self.difference:+.3g}, "
            f"95 % CI [{self.low:+.3g}, {self.high:+.3g}], one-sided p = {self.p_value:.3g})"
        )

    def tags(self) -> dict[str, str]:
        return {
            "promotion.rows": str(self.rows),
            "promotion.difference": f"{self.difference:.6g}",
            "promotion.ci_low": f"{self.low:.6g}",
            "promotion.ci_high": f"{self.high:.6g}",
            "promotion.p_value": f"{self.p_value:.6g}",
        }


@dataclass(frozen=True)
class Promotion:
    """What registering one model did: its version, whether it became the champion, why, the
    version it replaced (to undo it) and the figures behind the decision."""

    version: str
    promoted: bool
    reason: str
    previous: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


class CannotCompareError(Exception):
    """The champion cannot score the challenger's rows (another contract, target or task)."""


def model_uri(reference: str, model_name: str) -> str:
    """``champion`` (any alias) -> ``models:/<name>@champion``; a run id -> ``runs:/<id>/model``;
    a URI (``models:/...``, ``runs:/...``) is used as it is."""
    if ":/" in reference:
        return reference
    if RUN_ID.fullmatch(reference):
        return f"runs:/{reference}/model"
    return f"models:/{model_name}@{reference}"


MODELS_URI = re.compile(r"models:/(?P<name>[^@/]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")
RUNS_URI = re.compile(r"runs:/(?P<run>[0-9a-f]{32})/")


def describe_model(uri: str) -> str:
    """``uri`` with what it resolves to, for logs and errors: ``models:/x@champion (x v3, run
    <id>)``. Raises :class:`PipelineError` saying exactly what is missing: no such registered
    model, no such alias or version, no such run, or a run that logged no model (a ``validate``
    run named as a monitoring reference, say)."""
    client = MlflowClient(mlflow.get_tracking_uri())
    if match := MODELS_URI.match(uri):
        name, alias, version = match["name"], match["alias"], match["version"]
        try:
            client.get_registered_model(name)
        except MlflowException as err:
            raise PipelineError(
                uri, "model exists", f"no registered model {name!r}; train one with `make train`"
            ) from err
        try:
            found = (
                client.get_model_version_by_alias(name, alias)
                if alias
                else client.get_model_version(name, version)
            )
        except MlflowException as err:
            versions = sorted(
                int(v.version) for v in client.search_model_versions(f"name='{name}'")
            )
            what = f"alias {alias!r}" if alias else f"version {version}"
            raise PipelineError(
                uri, "model exists", f"{name!r} has no {what} (versions: {versions or 'none'})"
            ) from err
        return f"{uri} ({name} v{found.version}, run {found.run_id})"
    if match := RUNS_URI.match(uri):
        try:
            run = client.get_run(match["run"])
        except MlflowException as err:
            raise PipelineError(uri, "model exists", f"no run {match['run']}") from err
        if not run.outputs or not run.outputs.model_outputs:
            stage = run.data.tags.get("stage", "?")
            raise PipelineError(
                uri,
                "model exists",
                f"run {match['run']} (stage {stage}) logged no model; name a training run, a "
                "registry alias or a models:/ URI",
            )
    return uri


def _champion(client: MlflowClient, name: str) -> ModelVersion | None:
    try:
        return client.get_model_version_by_alias(name, CHAMPION)
    except MlflowException:
        return None


def compare(
    challenger: Predictor, champion: Predictor, rows: pd.DataFrame, target: str
) -> Comparison:
    """Score both models on ``rows`` (with their ``target``), each through its own serving
    path, and compare their per-row losses with a paired t-test (scipy)."""
    from scipy import stats

    from ..errors import DataError
    from ..evaluation.metrics import PRIMARY_METRIC, row_losses

    task = challenger.task
    if champion.task is not task:
        raise CannotCompareError(f"the champion predicts {champion.task.value}, not {task.value}")
    features = rows.drop(columns=[target])
    checked, report = champion.check(features, "<validation split>")
    if not report.ok:
        first = report.failures[0]
        raise CannotCompareError(
            f"its contract refuses these rows: {first.column!r} {first.check!r}"
        )
    try:
        y_champion = champion.encoding.encode(rows[target]).numpy()
    except DataError as err:
        raise CannotCompareError(f"it does not know every class here ({err.detail})") from err
    y = challenger.encoding.encode(rows[target]).numpy()
    ours = row_losses(task, y, challenger.outputs(features)[0])
    theirs = row_losses(task, y_champion, champion.outputs(checked)[0])
    both = stats.ttest_rel(ours, theirs)
    one_sided = stats.ttest_rel(ours, theirs, alternative="less")
    low, high = both.confidence_interval(0.95)
    p_value = float(one_sided.pvalue)
    loss = "squared error" if task.value == "regression" else PRIMARY_METRIC[task].replace("_", " ")
    return Comparison(
        rows=len(rows),
        loss=loss,
        challenger=float(ours.mean()),
        champion=float(theirs.mean()),
        low=float(low),
        high=float(high),
        p_value=1.0 if math.isnan(p_value) else p_value,  # identical losses: not better
    )


def register(
    model: str,
    name: str,
    challenger: Predictor,
    rows: pd.DataFrame,
    target: str,
    rule: Rule,
    refusals: list[str] | None = None,
) -> Promotion:
    """Register ``model`` (a model URI of ``challenger``) under ``name``; make it ``champion``
    when no gate refused it (``refusals``: why each failed gate keeps the alias, M1 and M6),
    ``rows`` (its validation split, with ``target``) are enough to decide and it beats the
    current champion on them (or there is none yet)."""
    client = MlflowClient(mlflow.get_tracking_uri())
    version = str(mlflow.register_model(model, name).version)
    if refusals:
        return Promotion(version, False, "; ".join(refusals))
    champion = _champion(client, name)
    if len(rows) < rule.min_rows:
        return Promotion(
            version,
            False,
            f"the validation split has {len(rows)} rows, fewer than train.promote_min_rows = "
            f"{rule.min_rows}: too few to tell models apart, so the champion stays",
        )
    if champion is None:
        client.set_registered_model_alias(name, CHAMPION, version)
        return Promotion(version, True, "the first champion of this lineage")
    label = f"v{champion.version}"
    try:
        served = mlflow.pyfunc.load_model(f"models:/{name}/{champion.version}")
        comparison = compare(challenger, served.unwrap_python_model().predictor, rows, target)
    except CannotCompareError as err:
        return Promotion(version, False, f"cannot compare with champion {label}: {err}")
    tags = comparison.tags() | {"promotion.champion": champion.version}
    described = comparison.describe(label)
    if not comparison.better(rule.alpha):
        why = f"not better at train.promote_alpha = {rule.alpha}"
        return Promotion(version, False, f"{described}: {why}", tags=tags)
    client.set_model_version_tag(name, version, PREVIOUS, str(champion.version))
    client.set_registered_model_alias(name, CHAMPION, version)
    return Promotion(version, True, described, previous=str(champion.version), tags=tags)


def undo(name: str, promotion: Promotion) -> None:
    """Take ``promotion`` back: the alias returns to the version it replaced (or is removed
    when there was none), so it never points at a model whose run then failed."""
    if not promotion.promoted:
        return
    client = MlflowClient(mlflow.get_tracking_uri())
    if promotion.previous is None:
        client.delete_registered_model_alias(name, CHAMPION)
    else:
        client.set_registered_model_alias(name, CHAMPION, promotion.previous)
    client.set_model_version_tag(name, promotion.version, "promotion.undone", "true")


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
