"""P6 for many runs at once: a sweep is one parent MLflow run with every trial nested under it.

Two engines launch trials, and both end here:

* a Hydra multirun (``python -m {{ cookiecutter.package_name }}.train -m model=linear,mlp``,
  ``make sweep``), with any launcher (the basic one, the parallel joblib one in
  ``configs/hydra/launcher/parallel.yaml``, a cluster's). :class:`SweepTracking` opens the
  parent run before the jobs start and writes the summary when they are done;
* ``python -m {{ cookiecutter.package_name }}.tune``, Optuna on a database-backed study.

The parent run's id reaches every trial through the environment (:data:`SWEEP_ENV`), which the
processes a launcher starts inherit. A trial that fails is written down (its run FAILED with
the reason, and its outcome beside its Hydra output) and the sweep goes on; the parent ends
with ``sweep/summary.md`` (every trial, failed ones with their reason, the best one against
the baseline), ``sweep/trials.csv`` and ``sweep/val_loss.png`` (every trial's validation-loss
curve on one plot, T3-T7). Trials never move the champion alias: they run side by side, so
promote the best one by training it on its own (the summary gives the command).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from ..reports.markdown import table

if TYPE_CHECKING:
    from mlflow import MlflowClient

SWEEP_ENV = "ML_PIPELINE_SWEEP_RUN"  # the parent run of the sweep this process runs a trial of
OUTCOME_FILE = "outcome.json"  # beside each multirun job's Hydra output
CURVE = "val/loss"  # logged after every epoch by the training loop


def parent_run() -> str | None:
    """The id of the sweep's parent run when this process runs a trial of one, else None."""
    return os.environ.get(SWEEP_ENV) or None


@dataclass
class Trial:
    """One trial as the summary lists it: the settings that made it, how it ended and why."""

    number: int
    settings: str
    status: str  # FINISHED, FAILED, PRUNED (tune) or KILLED
    run_id: str | None = None
    reason: str = ""
    exit_code: int = 0


@dataclass(frozen=True)
class Job:
    """A Hydra multirun job: its number, the overrides that make it, its output directory."""

    number: int
    settings: str
    output: Path


def multirun_job() -> Job | None:
    """This process's Hydra multirun job; None outside one (a single run, or a test calling a
    stage function directly)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hydra = HydraConfig.get()
    if hydra.mode != RunMode.MULTIRUN:
        return None
    settings = " ".join(shlex.quote(override) for override in hydra.overrides.task)
    return Job(hydra.job.num, settings, Path(hydra.runtime.output_dir))


def last_run_id() -> str | None:
    """The run this process started last (a launcher may run several jobs in one process)."""
    from mlflow import last_active_run

    run = last_active_run()
    return run.info.run_id if run else None


def run_as_trial(job: Job, call: Callable[[], object]) -> None:
    """Run one multirun job so that the sweep goes on whatever happens to it: a failure is
    printed (one line for bad input, the traceback for a bug), its run is already FAILED with
    the reason, and how it ended is written beside its Hydra output for the summary (a job
    that failed before its MLflow run started is listed too)."""
    from ..errors import PipelineError, first_line, print_error

    before = last_run_id()
    try:
        returned = call()  # a stage's exit code, if it has one (monitor's findings)
        code, reason = returned if isinstance(returned, int) else 0, ""
    except PipelineError as err:
        print_error(err, f"job {job.number} ({job.settings}): ")
        code, reason = err.exit_code, str(err).splitlines()[0]
    except Exception as err:  # a bug: its traceback, and the other trials still run
        traceback.print_exc()
        code, reason = 1, f"{type(err).__name__}: {first_line(err)}"
    run_id = last_run_id()
    status = "FINISHED" if code == 0 else "FAILED"
    run_id = run_id if run_id != before else None
    trial = Trial(job.number, job.settings, status, run_id, reason, code)
    job.output.mkdir(parents=True, exist_ok=True)
    (job.output / OUTCOME_FILE).write_text(json.dumps(asdict(trial)), encoding="utf-8")


def read_outcomes(sweep_dir: Path) -> list[Trial]:
    """Every job's outcome under a multirun's directory, in job order."""
    trials = [
        Trial(**json.loads(path.read_text(encoding="utf-8")))
        for path in sweep_dir.glob(f"*/{OUTCOME_FILE}")
    ]
    return sorted(trials, key=lambda trial: trial.number)


def open_sweep(cfg: DictConfig, name: str, tags: dict[str, str]) -> str:
    """Create the experiment and the sweep's parent run, before any trial starts (SQLite races
    on its first migration when parallel jobs each try), and hand its id to every trial this
    process launches."""
    from mlflow import MlflowClient

    from .runs import git_state
    from .store import prepare, resolve_tracking_uri

    root = Path(cfg.paths.root)
    experiment_id = prepare(cfg.tracking, root)
    client = MlflowClient(resolve_tracking_uri(cfg.tracking.uri, root))
    all_tags = {"stage": "sweep", "data.name": cfg.data.name, **git_state(root), **tags}
    run = client.create_run(experiment_id, run_name=name, tags=all_tags)
    os.environ[SWEEP_ENV] = run.info.run_id
    return run.info.run_id


@dataclass
class Summary:
    """What the parent run ends with: one row per trial, the best trial and the baseline."""

    rows: list[dict[str, Any]]
    metric: str  # the primary validation metric, e.g. val/log_loss
    best: dict[str, Any] | None

    def markdown(self) -> str:
        """The trials as a markdown table, the best against its baseline, failures' reasons."""
        heads = ["trial", "settings", "status", self.metric, "baseline", "epochs", "reason"]
        cells = [
            [f"{c:.4f}" if isinstance(c, float) else c for c in (row.get(h, "") for h in heads)]
            for row in self.rows
        ]
        return "\n".join([table(heads, cells), "", self.verdict()]) + "\n"

    def verdict(self) -> str:
        """One line on the best trial, or why there is none."""
        if self.best is None:
            return "No trial finished: see each trial's reason above."
        best, baseline = self.best[self.metric], self.best.get("baseline")
        against = f" (baseline {baseline:.4f})" if isinstance(baseline, float) else ""
        settings = self.best["settings"]
        return (
            f"Best: trial {self.best['trial']} ({settings or 'defaults'}): {self.metric} = "
            f"{best:.4f}{against}. To make it a champion candidate, train it alone:\n"
            f"  python -m {{ cookiecutter.package_name }}.train {settings}"
        )


def summarize(client: MlflowClient, trials: Sequence[Trial], metric: str) -> Summary:
    """Each trial's final ``metric`` and its baseline's, read back from its run; the best is
    the finished trial with the best ``metric``."""
    from ..evaluation.metrics import better_sign

    rows = []
    for trial in trials:
        row: dict[str, Any] = {"trial": trial.number, "settings": trial.settings}
        row |= {"status": trial.status, "reason": trial.reason, "run_id": trial.run_id or ""}
        if trial.run_id:
            run = client.get_run(trial.run_id)
            row["status"] = "PRUNED" if trial.status == "PRUNED" else run.info.status
            row["reason"] = trial.reason or run.data.tags.get("failure.reason", "")
            row["epochs"] = run.data.tags.get("train.epochs_run", "")
            if metric in run.data.metrics:
                row[metric] = run.data.metrics[metric]
            if f"baseline/{metric}" in run.data.metrics:
                row["baseline"] = run.data.metrics[f"baseline/{metric}"]
        rows.append(row)
    sign = better_sign(metric.removeprefix("val/"))
    finished = [r for r in rows if r["status"] == "FINISHED" and metric in r]
    best = max(finished, key=lambda r: sign * r[metric], default=None)
    return Summary(rows, metric, best)


def curves_plot(client: MlflowClient, trials: Sequence[Trial]) -> Any:
    """One figure with every trial's validation-loss curve, labelled by its settings, so rates,
    optimizers and batch sizes compare at a glance (T3-T7)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    for trial in trials:
        history = client.get_metric_history(trial.run_id, CURVE) if trial.run_id else []
        if history:
            steps = [point.step + 1 for point in sorted(history, key=lambda p: p.step)]
            values = [point.value for point in sorted(history, key=lambda p: p.step)]
            label = f"{trial.number}: {trial.settings or 'defaults'}"
            axes.plot(steps, values, marker="." if len(steps) < 30 else None, label=label[:60])
    axes.set(xlabel="epoch", ylabel=CURVE, title="Validation loss of every trial")
    if axes.lines:
        axes.set_yscale("log")
        axes.legend(fontsize="small")
    return figure


def close_sweep(client: MlflowClient, parent: str, trials: Sequence[Trial], metric: str) -> Summary:
    """Write the summary on the parent run and end it: FINISHED when a trial finished,
    FAILED (with the reason) when none did."""
    import matplotlib.pyplot as plt

    summary = summarize(client, trials, metric)
    client.log_text(parent, summary.markdown(), "sweep/summary.md")
    header = ["trial", "settings", "status", metric, "baseline", "epochs", "reason", "run_id"]
    lines = [",".join(header)] + [
        ",".join(json.dumps(row.get(key, "")) for key in header) for row in summary.rows
    ]
    client.log_text(parent, "\n".join(lines) + "\n", "sweep/trials.csv")
    figure = curves_plot(client, trials)
    client.log_figure(parent, figure, "sweep/val_loss.png")
    plt.close(figure)
    failed = sum(row["status"] != "FINISHED" for row in summary.rows)
    client.set_tag(parent, "sweep.trials", str(len(summary.rows)))
    client.set_tag(parent, "sweep.failed", str(failed))
    if summary.best is not None:
        client.set_tag(parent, "sweep.best_run", summary.best["run_id"])
        client.log_metric(parent, f"best/{metric}", summary.best[metric])
        client.set_terminated(parent, "FINISHED")
    else:
        client.set_tag(parent, "failure.reason", "no trial finished")
        client.set_terminated(parent, "FAILED")
    return summary


def primary_metric(cfg: DictConfig) -> str:
    """The validation metric the sweep ranks trials by (the P1 gate's)."""
    from ..config import Task
    from ..evaluation.metrics import PRIMARY_METRIC

    return f"val/{PRIMARY_METRIC[Task(cfg.data.task)]}"


class SweepTracking(Callback):
    """Hydra callback (``configs/hydra/default.yaml``): around a multirun, open the parent run
    before any job starts and, once all are done, write the summary, end the parent and exit
    with the first failed trial's code (0 when every trial finished)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = str(config.hydra.sweep.dir)
        command = " ".join(shlex.quote(o) for o in config.hydra.overrides.task)
        name = f"sweep-{Path(sweep_dir).name}"
        open_sweep(config, name, {"sweep.dir": sweep_dir, "sweep.command": command})

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from mlflow import MlflowClient

        from .store import resolve_tracking_uri

        parent = os.environ.pop(SWEEP_ENV)
        trials = read_outcomes(Path(str(config.hydra.sweep.dir)))
        uri = resolve_tracking_uri(config.tracking.uri, Path(config.paths.root))
        summary = close_sweep(MlflowClient(uri), parent, trials, primary_metric(config))
        print(f"\nSweep {parent}: {len(trials)} trial(s)\n\n{summary.markdown()}")
        failed = [trial.exit_code for trial in trials if trial.exit_code]
        if failed:
            sys.exit(failed[0])
