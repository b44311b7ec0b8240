"""P6, write down every experiment, especially the failures (with ``store``, ``registry`` and
``summary``, the only code that talks to MLflow).

* :func:`tracked_run` tags each run with its git commit, dirty tree, stage and config hash,
  logs the resolved config as params and artifacts, and on any exception ends the run FAILED
  with the reason as a tag and the traceback as an artifact.
* Metrics are buffered and sent with ``log_batch`` (1,000 single ``log_metric`` calls cost
  about 48 times one batch; see ``benchmarks/RESULTS.md`` in the template).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import subprocess
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import mlflow
import mlflow.artifacts
import mlflow.data
from mlflow.entities import Metric
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from omegaconf import DictConfig, OmegaConf

from ..config import project_root
from ..errors import PipelineError
from .store import prepare
from .sweep import parent_run

if TYPE_CHECKING:
    import pandas as pd

    from ..data.report import ValidationReport
    from ..data.schema import SchemaSpec

MAX_BATCH = 1000  # MLflow's limit on metrics per log_batch call
MAX_PARAM_LENGTH = 6000
UNSAFE_KEY = re.compile(r"[^\w.\- :/]+")  # MLflow accepts word characters and . - space : /
UNSAFE_FILE = re.compile(r"[^\w.\-]+")  # what a file or artifact name keeps of a column name
# What a training run computes from; paths and tracking say where, not what, so the same
# experiment hashes the same on every machine.
HASHED_GROUPS = ("data", "model", "train")
# Says how to run, not what: not hashed (a resumed run keeps its checkpoint) and not a param.
RESUME_KEY = "resume"


def _tagged(safe: str, original: str) -> str:
    """``safe`` plus a short digest of ``original``, so two names that differ only in the
    characters that were replaced (``rate (%)``, ``rate [%]``) never meet."""
    return f"{safe}-{hashlib.sha256(original.encode('utf-8')).hexdigest()[:6]}"


def metric_key(key: str) -> str:
    """``key`` as MLflow accepts it: characters it refuses (from column names or category
    values, e.g. ``rate (%)`` or ``"q"``) become ``_``, tagged with a digest when any was."""
    safe = UNSAFE_KEY.sub("_", key)
    return safe if safe == key else _tagged(safe, key)


def file_name(name: str) -> str:
    """A file or artifact name made from any column name (``a/b``, ``x y``, ``.hidden``):
    only word characters, ``.`` and ``-``, never hidden, tagged with a digest when changed."""
    safe = UNSAFE_FILE.sub("_", name)[:80]
    if safe.startswith("."):
        safe = "_" + safe
    return safe if safe == name else _tagged(safe, name)


def flatten(node: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested keys become dotted names (``train.seed``); values over MLflow's limit are cut."""
    flat: dict[str, str] = {}
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)[:MAX_PARAM_LENGTH]
    return flat


def config_hash(cfg: DictConfig) -> str:
    """A short hash of what the run computes: its data, model and training settings."""
    hashed = {
        key: OmegaConf.to_container(cfg[key], resolve=True, enum_to_str=True)
        for key in HASHED_GROUPS
        if key in cfg
    }
    if isinstance(hashed.get("train"), dict):
        hashed["train"] = {k: v for k, v in hashed["train"].items() if k != RESUME_KEY}
    text = json.dumps(hashed, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# M1: what a model is made from, so what must be committed (reviewed) before it may serve.
REVIEWED_DIRS = ("configs", "schemas", "src")
UNREVIEWED_SHOWN = 5


def git_state(root: Path | None = None) -> dict[str, str]:
    """The commit, whether the working tree is dirty, and (``git.unreviewed``, M1) the files
    under :data:`REVIEWED_DIRS` changed or added since it, ``none`` when there are none;
    ``unknown`` outside a git checkout or without git."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root or project_root()), *args],
                capture_output=True,
                text=True,
                check=True,
                timeout=10,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    # --untracked-files=all: a new config or schema nobody committed counts (ignored files not)
    changed = git("status", "--porcelain", "--untracked-files=all", "--", *REVIEWED_DIRS)
    return {
        "git.commit": commit.strip() if commit else "unknown",
        "git.dirty": "unknown" if status is None else str(bool(status.strip())).lower(),
        "git.unreviewed": "unknown" if changed is None else unreviewed(changed),
    }


def unreviewed(porcelain: str) -> str:
    """``git status --porcelain`` lines as the tag ``git.unreviewed``: ``none``, or the first
    few paths and how many more."""
    paths = [line[3:] for line in porcelain.splitlines() if line.strip()]
    if not paths:
        return "none"
    shown = ", ".join(paths[:UNREVIEWED_SHOWN])
    more = len(paths) - UNREVIEWED_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def hydra_overrides() -> list[str]:
    """The command-line overrides of the current Hydra job (empty under ``compose()``)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    return list(HydraConfig.get().overrides.task)


@dataclass
class RunRecorder:
    """The handle a stage gets inside :func:`tracked_run`: buffered metrics, one batch per flush."""

    run_id: str
    client: MlflowClient
    pending: list[Metric] = field(default_factory=list)
    undo: list[Callable[[], None]] = field(default_factory=list)
    epochs_sent: int = 0  # what the store has of the curves, should it stop answering

    def on_failure(self, step: Callable[[], None]) -> None:
        """Run ``step`` if the run fails from here on: how a stage takes back what it did
        outside the run (for example, moving the ``champion`` alias)."""
        self.undo.append(step)

    def log_metrics(self, values: Mapping[str, float], step: int = 0) -> None:
        """Queue ``values`` for ``step``; they are sent in batches, not one call each. Keys are
        made safe with :func:`metric_key` (column names and category values end up in them)."""
        now = int(time.time() * 1000)
        self.pending.extend(
            Metric(metric_key(key), float(v), now, step) for key, v in values.items()
        )
        if len(self.pending) >= MAX_BATCH:
            self.flush()

    def log_text(self, text: str, artifact_file: str) -> None:
        """Store ``text`` as an artifact of this run (a report, a fitted pipeline, ...)."""
        mlflow.log_text(text, artifact_file)

    def training_fingerprint(self, run_id: str) -> tuple[dict[str, Any], str | None]:
        """F4: the fingerprint of the data run ``run_id`` trained on, and its schema hash."""
        try:
            trained_on = mlflow.artifacts.load_dict(f"runs:/{run_id}/data/train_fingerprint.json")
            schema = self.client.get_run(run_id).data.tags.get("schema.hash")
        except MlflowException as err:
            raise PipelineError(
                f"runs:/{run_id}", "reference run has a training fingerprint", err.message
            ) from err
        return trained_on, schema

    def log_data(
        self,
        frame: pd.DataFrame,
        report: ValidationReport,
        spec: SchemaSpec,
        context: str,
        fingerprint: Mapping[str, Any],
        streamed: bool = False,
    ) -> None:
        """Record what a stage read: the validation report (P2), the feature list with meanings
        and units (F2), and the schema and data fingerprints (F4), as tags and artifacts. For
        a table read in pieces (``streamed``: ``frame`` is its first), the dataset MLflow
        records carries the whole table's digest, not the piece's profile."""
        from ..data.validation import describe_features

        mlflow.log_text(report.to_json(), f"validation/{context}.json")
        mlflow.log_text(report.render(), f"validation/{context}.txt")
        mlflow.log_dict(describe_features(spec), "features.json")
        mlflow.log_dict(dict(fingerprint), f"data/{context}_fingerprint.json")
        mlflow.set_tags(
            {
                "schema.hash": spec.fingerprint(),
                f"data.{context}.digest": fingerprint["digest"],
                f"data.{context}.rows": str(fingerprint["rows"]),
                f"validation.{context}": "passed" if report.ok else "failed",
            }
        )
        with warnings.catch_warnings():  # MLflow's hints about int columns and source types
            warnings.simplefilter("ignore", UserWarning)
            name = Path(report.file).name
            if streamed:
                from mlflow.data.dataset_source_registry import resolve_dataset_source
                from mlflow.data.meta_dataset import MetaDataset

                source = resolve_dataset_source(report.file)
                dataset = MetaDataset(source, name=name, digest=fingerprint["digest"])
            else:
                dataset = mlflow.data.from_pandas(frame, source=report.file, name=name)
            log_input(dataset, context)

    def log_advice(self, advice: Any, losses: list[float]) -> None:
        """The training advisor's verdict (T1-T7) as tags and a short markdown artifact."""
        mlflow.set_tags({"advisor.verdict": advice.verdict, "advisor.practice": advice.practice})
        mlflow.log_text(advice.markdown(losses), "advisor.md")

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Tag this run (links to other runs and models, outcomes)."""
        mlflow.set_tags({key: str(value) for key, value in tags.items()})

    def log_figure(self, figure: Any, artifact_file: str, saved: Path | None = None) -> None:
        """Store a matplotlib figure as a PNG artifact, then free it. ``saved``: the file it was
        already written to (named like ``artifact_file``), logged as is rather than drawn
        again (drawing is most of a plot's cost)."""
        import matplotlib.pyplot as plt

        if saved is None:
            mlflow.log_figure(figure, artifact_file)
        else:
            mlflow.log_artifact(str(saved), str(Path(artifact_file).parent))
        plt.close(figure)

    def log_epoch(self, epoch: int, values: Mapping[str, float]) -> None:
        """One epoch's metrics, sent at once as one batch (the UI shows curves as they grow)."""
        self.log_metrics(values, step=epoch)
        self.flush()
        self.epochs_sent = epoch + 1

    def flush(self) -> None:
        """Send every queued metric in as few ``log_batch`` calls as MLflow allows."""
        while self.pending:
            batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
            self.client.log_batch(self.run_id, metrics=batch)


def log_input(dataset: Any, context: str, attempts: int = 5) -> None:
    """``mlflow.log_input``, safe when parallel trials log the same table at once: MLflow's SQL
    store creates a dataset's row on first use by looking, then inserting, so all but one of
    them hit the unique constraint (measured: 6 of 8 parallel jobs failed). By then the row
    exists, and another try links it."""
    for attempt in range(1, attempts + 1):
        try:
            mlflow.log_input(dataset, context=context)
            return
        except MlflowException as err:
            if "unique constraint" not in str(err).lower() or attempt == attempts:
                raise
            time.sleep(0.05 * attempt)


@contextmanager
def tracked_run(
    cfg: DictConfig, stage: str, run_name: str | None = None, resume_run: str | None = None
) -> Iterator[RunRecorder]:
    """Run one pipeline stage inside an MLflow run that is always closed with the truth.

    ``resume_run`` reopens that (interrupted) run instead of starting a new one.

    Success ends the run FINISHED; any exception ends it FAILED (KILLED for Ctrl-C) with the
    reason in the ``failure.reason`` tag and the traceback in ``failure/traceback.txt``, then
    re-raises so the caller exits non-zero.
    """
    root = Path(cfg.paths.root)
    experiment_id = prepare(cfg.tracking, root)
    tags = {"stage": stage, "config.hash": config_hash(cfg), **git_state(root)}
    tags["data.name"] = cfg.data.name
    tags["mlflow.source.git.commit"] = tags["git.commit"]
    if resume_run:
        run = mlflow.start_run(run_id=resume_run)
        mlflow.set_tags(tags | {"resumed": "true"})
    else:  # a trial of a sweep is nested under the sweep's run
        parent, start = parent_run(), mlflow.start_run
        run = start(experiment_id=experiment_id, run_name=run_name, tags=tags, parent_run_id=parent)
    recorder = RunRecorder(run.info.run_id, MlflowClient(mlflow.get_tracking_uri()))
    try:
        resolved = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
        assert isinstance(resolved, dict)
        params = flatten(resolved)
        params.pop(f"train.{RESUME_KEY}", None)
        if resume_run:  # params are write-once: keep the first attempt's, record what moved
            before = recorder.client.get_run(resume_run).data.params
            moved = {k: [before[k], v] for k, v in params.items() if before.get(k, v) != v}
            mlflow.log_dict(moved, "config/resume_changes.json")
            params = {k: v for k, v in params.items() if k not in before}
        mlflow.log_params(params)
        mlflow.log_dict(resolved, "config/resolved.yaml")
        mlflow.log_dict({"overrides": hydra_overrides()}, "config/overrides.yaml")
        yield recorder
        recorder.flush()
        mlflow.end_run("FINISHED")
    except BaseException as err:
        # Ctrl-C, or a stop asked for (a pruned trial says so with its run_status): KILLED.
        status = "KILLED" if isinstance(err, KeyboardInterrupt) else "FAILED"
        status = getattr(err, "run_status", status)
        reason = f"{type(err).__name__}: {err}"
        try:
            _record_failure(recorder, status, reason[:5000], traceback.format_exc())
        except Exception as lost:  # the store itself stopped answering
            raise store_lost(cfg, stage, recorder, lost) from err
        raise


def store_lost(
    cfg: DictConfig, stage: str, recorder: RunRecorder, lost: Exception
) -> PipelineError:
    """What a person needs when the tracking store stops answering in the middle of a run:
    what it holds of the run, what it does not, and what is kept on this machine."""
    from ..errors import first_line

    kept = [f"this run's log directory {cfg.paths.output_dir}"]
    checkpoints = Path(cfg.paths.checkpoint_dir)
    if stage == "train" and any(checkpoints.glob("*.pt")):
        kept.append(f"its checkpoint in {checkpoints} (train.resume=true continues the same run)")
    sent = f" and {recorder.epochs_sent} epoch(s) of curves" if recorder.epochs_sent else ""
    detail = first_line(lost)
    detail = "connection refused" if "Connection refused" in detail else detail[:200]
    return PipelineError(
        mlflow.get_tracking_uri(),
        "store answers",
        f"it stopped answering during the {stage} run ({detail}). Recorded there: run "
        f"{recorder.run_id} with its params{sent}. Not recorded: the rest, the run's end and "
        f"its outputs (it stays RUNNING there). Kept here: {'; '.join(kept)}",
    )


def _record_failure(recorder: RunRecorder, status: str, reason: str, trace: str) -> None:
    """Take back what the stage asked to (newest first), then record the failure on the run
    through the client (never the fluent API, which would start a new run if this one had
    already ended) and end it with ``status``."""
    client, run_id = recorder.client, recorder.run_id
    try:
        for step in reversed(recorder.undo):
            try:
                step()
            except Exception as err:  # a failed undo is recorded, the others still run
                reason += f"; undo failed: {type(err).__name__}: {err}"
        with contextlib.suppress(Exception):  # what failed may be the store itself
            recorder.flush()
        client.set_tag(run_id, "failure.reason", reason[:5000])
        client.log_text(run_id, trace, "failure/traceback.txt")
    finally:
        if mlflow.active_run() is not None:
            mlflow.end_run(status)
        else:
            client.set_terminated(run_id, status)
