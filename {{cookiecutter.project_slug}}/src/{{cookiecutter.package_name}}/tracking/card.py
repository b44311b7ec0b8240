"""The model card of a model (P6): what it is for, what it learnt from, how good it is and where
not to trust it, built from what its training run recorded.

One function, :func:`build_card`, makes the card from a run: ``train`` calls it when it
registers a model (the card becomes the run's ``model_card.md`` and ``model_card.html`` and the
registered version's description, which the MLflow UI shows on the version's page), and
``make card`` calls it on any model, so a model registered before cards existed gets one too.
Only the intended use and the limitations are written by people (``configs/card/default.yaml``);
every number is the run's own: the task, the data config, the contract file and its hash, the
data fingerprint and rows per split (F4), each feature's meaning and unit (F2), the metrics with
the baseline's beside them (P1, P3), the slices with their gaps (M6), the training advisor's
verdict (T1-T7) and the training profile ``monitor`` compares batches with (P4). What a run did
not record (an older run, a model fitted in closed form) is said so, never left out silently.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import mlflow.models
from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from ..config import Task, project_root
from ..errors import PipelineError
from ..evaluation.metrics import PRIMARY_METRIC
from ..evaluation.slices import render
from ..reports.markdown import table
from .registry import CHAMPION, MODELS_URI, RUNS_URI, describe_model, model_uri

if TYPE_CHECKING:
    from .runs import RunRecorder

SPLITS = ("train", "val", "test")
SETTLED = frozenset({"converged", "stopped_early"})  # advisor verdicts that need no change (T1)
# MLflow's SQL stores keep a version's description in a VARCHAR(5000) (PostgreSQL enforces it).
DESCRIPTION_LIMIT = 5000
NOT_RECORDED = "not recorded by this run"


@dataclass(frozen=True)
class Card:
    """A model card: its ``title``, one-line ``verdict`` (``ok``: nothing on it needs a person's
    attention) and the card itself as ``markdown``."""

    title: str
    verdict: str
    ok: bool
    markdown: str

    def html(self) -> str:
        """The card as one self-contained page, its verdict as the banner."""
        from ..reports import html

        body = html.markdown(self.markdown.split("\n\n", 2)[2])  # title, verdict: the page's
        return html.page(self.title, self.verdict, body, self.ok)

    def description(self, run_id: str) -> str:
        """The card as a registered version's description: whole when it fits the store's
        limit, else its first sections that fit and where the whole card is."""
        if len(self.markdown) <= DESCRIPTION_LIMIT:
            return self.markdown
        note = (
            f"\n\n*The whole card: artifact `model_card.md` of run `{run_id}`, or "
            f'`make card ARGS="card.model={run_id}"`.*\n'
        )
        kept = ""
        for section in self.markdown.split("\n## "):
            longer = f"{kept}\n## {section}" if kept else section
            if len(longer) + len(note) > DESCRIPTION_LIMIT:
                break
            kept = longer
        return kept.rstrip() + note


def resolve(reference: str, model_name: str) -> tuple[str, ModelVersion | None]:
    """The training run of the model ``reference`` names (alias, run id or URI, as for
    ``evaluate.model``) and its registered version (``None``: never registered). A reference to
    nothing, or to a run that logged no model, raises :class:`PipelineError` naming it."""
    uri = model_uri(reference, model_name)
    described = describe_model(uri)
    client = MlflowClient(mlflow.get_tracking_uri())
    if match := MODELS_URI.match(uri):
        name, alias = match["name"], match["alias"]
        found = (
            client.get_model_version_by_alias(name, alias)
            if alias
            else client.get_model_version(name, match["version"])
        )
        return found.run_id, found
    if match := RUNS_URI.match(uri):
        run_id = match["run"]
    else:  # another model URI (models:/m-<id>): its metadata names the run that logged it
        try:
            run_id = mlflow.models.get_model_info(uri).run_id
        except (MlflowException, OSError) as err:
            raise PipelineError(described, "model exists", str(err).splitlines()[0]) from err
    versions = client.search_model_versions(f"run_id='{run_id}'")
    ours = [v for v in versions if v.name == model_name] or versions
    return run_id, max(ours, key=lambda v: int(v.version)) if ours else None


def build_card(run: Run, version: ModelVersion | None, text: Any) -> Card:
    """The card of the model ``run`` trained (registered as ``version``, if it is), with the
    intended use and limitations of ``text`` (a ``card`` config). A run that is not one of this
    project's training runs raises :class:`PipelineError`."""
    recorded = _Recorded(run)
    if "data.task" not in recorded.params:
        raise PipelineError(
            f"runs:/{recorded.run_id}",
            "trained by this project",
            f"run {recorded.run_id} (stage {recorded.tags.get('stage', '?')}) has no data.task "
            "param: name a training run of this project, a registry alias or a models:/ URI",
        )
    task = Task(recorded.params["data.task"])
    label = _label(run, version)
    verdict, ok = _verdict(recorded, task, version, label)
    title = f"Model card: {label}"
    sections = [
        f"# {title}\n\n**{verdict}**",
        _model(recorded, version),
        _intended_use(recorded, task, text),
        _data(recorded),
        _features(recorded),
        _metrics(recorded, task),
        _slices(recorded, task),
        _training(recorded),
        _drift_reference(recorded),
        _limitations(text),
    ]
    return Card(title, verdict, ok, "\n\n".join(sections) + "\n")


def record_card(run: RunRecorder, name: str, version: str, text: Any) -> Card:
    """When ``train`` registers ``name`` v``version``: its card, built from what ``run`` has
    recorded so far, stored on the run (``model_card.md``, ``model_card.html``) and as the
    version's description."""
    run.flush()  # the metrics still queued belong on the card
    client = run.client
    card = build_card(client.get_run(run.run_id), client.get_model_version(name, version), text)
    run.log_text(card.markdown, "model_card.md")
    run.log_text(card.html(), "model_card.html")
    client.update_model_version(name, version, description=card.description(run.run_id))
    return card


class _Recorded:
    """What one run recorded: params, tags, metrics, and its artifacts, read on demand."""

    def __init__(self, run: Run) -> None:
        from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

        self.run_id = run.info.run_id
        self.params: Mapping[str, str] = run.data.params
        self.tags: Mapping[str, str] = run.data.tags
        self.metrics: Mapping[str, float] = run.data.metrics
        # The run's own artifact store, asked directly: a ``runs:/`` URI would look the run up
        # again for every file (measured: 40 times slower, and a progress bar for each).
        self.artifacts = get_artifact_repository(run.info.artifact_uri)

    def text(self, path: str) -> str | None:
        """The artifact ``path`` of the run, or ``None`` when the run has none."""
        with tempfile.TemporaryDirectory() as directory, _no_progress_bars():
            try:
                local = self.artifacts.download_artifacts(path, directory)
                return Path(local).read_text(encoding="utf-8")
            except (MlflowException, OSError):
                return None

    def json(self, path: str) -> Any:
        text = self.text(path)
        return None if text is None else json.loads(text)


@contextmanager
def _no_progress_bars() -> Iterator[None]:
    """MLflow draws a progress bar for every artifact it downloads: noise on a card's console."""
    key = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    before = os.environ.get(key)
    os.environ[key] = "false"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def _facts(rows: list[list[str]]) -> str:
    """Named facts as a markdown list: ``- **name**: value``."""
    return "\n".join(f"- **{name}**: {value}" for name, value in rows)


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def _label(run: Run, version: ModelVersion | None) -> str:
    if version is None:
        return f"run {run.info.run_id} (not registered)"
    role = "champion" if CHAMPION in (version.aliases or []) else "challenger"
    return f"{version.name} v{version.version} ({role})"


def _verdict(
    recorded: _Recorded, task: Task, version: ModelVersion | None, label: str
) -> tuple[str, bool]:
    """One line for the banner, and whether nothing on it needs attention: a model that beats
    the baseline (P1), whose training settled (T1) and that was not taken back (I4, I7)."""
    primary = PRIMARY_METRIC[task]
    delta = recorded.metrics.get(f"delta/{primary}")
    problems = []
    if delta is None:
        said = f"no baseline comparison recorded for val {primary}"
        problems.append(said)
    elif delta > 0:
        said = f"beats the baseline on val {primary} by {delta:.4g}"
    else:
        said = f"does not beat the baseline on val {primary} ({delta:+.4g})"
        problems.append(said)
    advice = recorded.tags.get("advisor.verdict")
    if advice is None:
        said += "; advisor: no training curve (fitted in closed form)"
    else:
        said += f"; advisor: {advice} ({recorded.tags.get('advisor.practice', '?')})"
        if advice not in SETTLED:
            problems.append(f"advisor: {advice}")
    tags = version.tags if version is not None else {}
    for tag, what in (("rolled_back", "rolled back"), ("promotion.undone", "promotion undone")):
        if tags.get(tag) == "true":
            said += f"; {what}"
            problems.append(what)
    return f"{label}: {said}", not problems


def _model(recorded: _Recorded, version: ModelVersion | None) -> str:
    params, tags = recorded.params, recorded.tags
    rows = [
        ["model", f"{params.get('model.name', '?')} (`{params.get('model._target_', '?')}`)"],
        ["training run", f"`{recorded.run_id}`"],
        ["git commit", f"`{tags.get('git.commit', '?')}` (dirty: {tags.get('git.dirty', '?')})"],
        ["config hash", f"`{tags.get('config.hash', '?')}`"],
    ]
    if version is None:
        rows.insert(0, ["registered", "no (a sweep's trial, or a run whose registration failed)"])
    else:
        aliases = ", ".join(version.aliases or []) or "none"
        rows.insert(0, ["registered", f"`{version.name}` v{version.version} (aliases: {aliases})"])
        reason = tags.get("registry.reason")
        if reason:
            rows.insert(1, ["promotion (I4)", reason])
    return "## Model\n\n" + _facts(rows)


def _intended_use(recorded: _Recorded, task: Task, text: Any) -> str:
    target = recorded.params.get("data.target", "?")
    return (
        f"## Intended use\n\n{text.intended_use.strip()}\n\n"
        f"Task: {task.value}, predicting `{target}`."
    )


def _data(recorded: _Recorded) -> str:
    """The data config, the contract and its hash, the data fingerprint and rows per split (F4)."""
    params, tags = recorded.params, recorded.tags
    schema = params.get("data.schema", "?")
    with contextlib.suppress(ValueError):  # a contract outside the project: its full path
        schema = str(Path(schema).relative_to(project_root()))
    rows = [
        ["data config", f"`{params.get('data.name', '?')}` (`{params.get('data.path', '?')}`)"],
        ["contract (schema file)", f"`{schema}`"],
        ["schema hash (F4)", f"`{tags.get('schema.hash', NOT_RECORDED)}`"],
        [
            "data fingerprint (F4)",
            f"`{tags.get('data.train.digest', NOT_RECORDED)}` over "
            f"{tags.get('data.train.rows', '?')} rows",
        ],
    ]
    for split in SPLITS:
        rows.append([f"{split} rows", tags.get(f"split.{split}.rows", NOT_RECORDED)])
    seed, by_time = params.get("data.split.seed", "?"), params.get("data.split.time_column")
    how = f"by time (`{by_time}`)" if by_time not in (None, "None") else f"random, seed {seed}"
    rows.append(["split", how])
    return "## Data\n\n" + _facts(rows)


def _features(recorded: _Recorded) -> str:
    """F2: every feature with its meaning and unit, as the contract states them."""
    features = recorded.json("features.json")
    if not features:
        return f"## Features (F2)\n\nThe feature list is {NOT_RECORDED}."
    rows = [[f["name"], f["kind"], f.get("unit") or "", f["description"]] for f in features]
    return "## Features (F2)\n\n" + table(["feature", "kind", "unit", "description"], rows)


def _metrics(recorded: _Recorded, task: Task) -> str:
    """P1, P3: each validation metric beside the trivial baseline's on the same rows."""
    metrics, primary = recorded.metrics, PRIMARY_METRIC[task]
    names = sorted(
        (k.removeprefix("baseline/val/") for k in metrics if k.startswith("baseline/val/")),
        key=lambda name: (name != primary, name),
    )
    if not names:
        return f"## Metrics (P1, P3)\n\nMetrics are {NOT_RECORDED}."
    rows = [
        [
            name,
            _number(metrics.get(f"val/{name}")),
            _number(metrics[f"baseline/val/{name}"]),
            _number(metrics.get(f"delta/{name}"), signed=True),
            _number(metrics.get(f"test/{name}")),
        ]
        for name in names
    ]
    header = ["metric", "validation", "baseline (validation)", "better by", "test"]
    return (
        "## Metrics (P1, P3)\n\n"
        + table(header, rows)
        + f"\n\nThe baseline is the trivial model (class prior or mean) on the same validation "
        f"rows; *better by* is positive when the model is better. Primary metric: `{primary}`."
    )


def _slices(recorded: _Recorded, task: Task) -> str:
    """M6: each slice's primary metric and its gap to the whole split (negative is worse)."""
    columns = recorded.params.get("data.slices", "[]")
    parts = ["## Slices (M6)"]
    for split in ("val", "test"):
        found = recorded.json(f"slices/{split}.json")
        if found is None:
            parts.append(f"{split}: slices {NOT_RECORDED}.")
            continue
        if not found["slices"]:
            parts.append(f"{split}: no slices (data.slices is {columns}).")
            continue
        parts.append(f"{split}, worst first in each column:\n\n" + render(found["slices"], task))
    return "\n\n".join(parts)


def _training(recorded: _Recorded) -> str:
    """T1-T7: the advisor's verdict on the loss curve and the schedule it judged."""
    tags = recorded.tags
    verdict = tags.get("advisor.verdict")
    if verdict is None:
        return "## Training (T1-T7)\n\nNo training curve: the model was fitted in closed form."
    advice = recorded.text("advisor.md") or ""
    said = next((line for line in advice.splitlines() if line.startswith("**")), None)
    line = said or f"**{verdict}** ({tags.get('advisor.practice', '?')})"
    epochs = f"{tags.get('train.epochs_run', '?')} of {tags.get('train.epochs_planned', '?')}"
    batch = tags.get("train.batch_size_used", "?")
    return f"## Training (T1-T7)\n\n{line}\n\nEpochs run: {epochs}; batch size: {batch}."


def _drift_reference(recorded: _Recorded) -> str:
    """P4: the training profile ``monitor`` compares new batches with."""
    profile = recorded.json("monitoring/reference_profile.json")
    if profile is None:
        return f"## Drift reference (P4)\n\nThe training profile is {NOT_RECORDED}."
    numeric, categorical = profile.get("numeric", {}), profile.get("categorical", {})
    rows = next((p["rows"] for p in [*numeric.values(), *categorical.values()]), "?")
    return (
        "## Drift reference (P4)\n\n"
        f"`make monitor` compares each batch with this model's training profile: "
        f"{len(numeric)} numeric and {len(categorical)} categorical features over {rows} "
        "training rows, stored inside the model and on this run as "
        "`monitoring/reference_profile.json`. Monitor against this model: "
        f'`make monitor ARGS="monitor.reference={recorded.run_id}"`.'
    )


def _limitations(text: Any) -> str:
    items = [f"- {item.strip()}" for item in text.limitations] or ["- none written down"]
    return "## Known limitations\n\n" + "\n".join(items)
