"""Train a model: ``python -m {{ cookiecutter.package_name }}.train [hydra overrides]``.

``train(cfg)`` is the whole pipeline as plain function calls; ``main`` is the thin Hydra entry
point around it, so tests call ``train`` on a config from ``compose()``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import one_line_errors

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, float]:
    """Fit ``cfg.model`` on the training split and return its validation and test metrics.

    Every step runs inside one MLflow run (P6): a failure anywhere leaves it FAILED, before any
    model is registered. A model that passes the baseline gate (P1) is logged as a pyfunc that
    takes raw rows, loaded back and checked through the serving path (the canary), and, as the
    run's last step, registered and made ``champion`` only if it beats the current one on the
    same rows (I4).
    """
    # Heavy imports (torch, pandas, mlflow) wait until work starts, so `--help` is instant.
    import torch

    from .data.features import FeaturePipeline
    from .data.io import write_text
    from .data.load import load_validated
    from .data.schema import check_slices, load_contract
    from .data.split import split_frame
    from .data.tensors import TargetEncoding, to_tensors
    from .evaluation.gate import baseline_delta, require_beats_baseline
    from .evaluation.metrics import compute_metrics, evaluate, model_outputs, outcome_plot, prefixed
    from .evaluation.slices import slice_metrics
    from .models import build_model, fit_baseline
    from .monitoring.profile import Profile
    from .serving.predictor import Predictor, canary, log_predictor
    from .tracking.runs import config_hash, tracked_run
    from .training.checkpoint import CheckpointFile
    from .training.loop import train_network

    data, task = cfg.data, cfg.data.task
    checkpoint = CheckpointFile.for_config(
        cfg.paths.checkpoint_dir, cfg.model.name, config_hash(cfg)
    )
    resume = checkpoint.load() if cfg.train.resume and checkpoint.path.is_file() else None
    with tracked_run(
        cfg, "train", f"train-{cfg.model.name}", resume_run=resume and resume["run_id"]
    ) as run:
        if cfg.train.resume and resume is None:
            checkpoint.load()  # raises "no checkpoint", inside the run so that it ends FAILED
        spec = load_contract(data.schema, data.target, task)
        check_slices(list(data.slices), spec, data.schema)
        frame = load_validated(data.path, spec, run, "train", task=task)  # stops on bad data
        splits = split_frame(frame, spec, data.target, task, data.split, source=data.path)
        features = FeaturePipeline.fit(splits.train, spec, data.features.rare_min_count)
        run.log_text(features.to_json(), "features/pipeline.json")
        log_rare_values(features.rare_values(), data.features.rare_min_count)
        encoding = TargetEncoding.fit(splits.train[data.target], task)
        parts = {
            name: to_tensors(getattr(splits, name), data.target, encoding, features, data.path)
            for name in ("train", "val", "test")
        }
        baseline = fit_baseline(task, encoding.n_outputs, *parts["train"])
        model: torch.nn.Module = baseline
        if cfg.model.name != "baseline":
            torch.manual_seed(cfg.train.seed)
            net = build_model(cfg.model, task, parts["train"][0].shape[1], encoding.n_outputs)
            model, history = train_network(
                net,
                task,
                *parts["train"],
                *parts["val"],
                cfg.train,
                on_epoch=run.log_epoch,
                checkpoint=replace(checkpoint, run_id=run.run_id),
                resume=resume,
            )
            report_training(run, history, cfg.train)
        metrics = evaluate(baseline, task, *parts["val"], "baseline/val")
        for name in ("val", "test"):
            x, y = parts[name]
            outputs = model_outputs(model, task, x)
            metrics |= prefixed(compute_metrics(task, y.numpy(), outputs), name)
            rows = slice_metrics(task, getattr(splits, name), list(data.slices), y.numpy(), outputs)
            run.log_slices(name, rows, task)
        metrics |= baseline_delta(metrics)
        run.log_metrics(metrics)
        run.log_figure(*outcome_plot(model, task, *parts["val"], encoding.classes))
        if cfg.model.name != "baseline" and cfg.train.require_beats_baseline:
            require_beats_baseline(metrics, task, cfg.train.baseline_margin, cfg.model.name)
        meta = {
            "model": OmegaConf.to_container(cfg.model, resolve=True, enum_to_str=True),
            "data": data.name,
            "task": task.value,
            "target": data.target,
            "split": OmegaConf.to_container(data.split, resolve=True),
            "slices": list(data.slices),
        }
        profile = Profile.of(splits.train, features)  # P4: what `monitor` compares batches with
        run.log_text(profile.to_json(), "monitoring/reference_profile.json")
        predictor = Predictor(model, features, encoding, spec, profile, meta)
        example = splits.val.drop(columns=data.target).head(5)
        uri = log_predictor(predictor, example)
        served = canary(uri, predictor, splits.test.drop(columns=data.target))
        run.set_tags({"canary": "passed"})
        output = Path(cfg.paths.output_dir)  # for people and scripts that skip MLflow
        write_text(output / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True) + "\n")
        write_text(output / "feature_pipeline.json", features.to_json())
        if cfg.model.name != "baseline":  # the last step: only a run that succeeded promotes
            promote(run, uri, served, splits.val, cfg)
    checkpoint.remove()
    return metrics


def report_training(run: Any, history: Any, train_cfg: DictConfig) -> None:
    """T1-T7: the schedule actually used (the batch size ``train.batch_size: null`` picked,
    the epochs ``train.steps`` gave) as tags, the advisor's verdict on the loss curve, and the
    learning curves as a plot."""
    from .evaluation import plots
    from .training.advisor import advise_run

    run.set_tags(
        {
            "train.batch_size_used": history.batch_size,
            "train.epochs_planned": history.epochs,
            "train.epochs_run": len(history.train_loss),
        }
    )
    advice = advise_run(history, train_cfg.lr)
    run.log_advice(advice, history.train_loss)
    log.info("%s", advice.line())
    run.log_figure(
        plots.learning_curves(history.train_loss, history.val_loss, history.best_epoch),
        "plots/learning_curves.png",
    )


def promote(run: Any, uri: str, served: Any, rows: Any, cfg: DictConfig) -> None:
    """I4: register the served model; it becomes ``champion`` only if it beats the current one
    on the same rows (:func:`~.registry.register`). If the run fails after this, the alias
    goes back (the run's undo step), so it never points at a FAILED run."""
    from .tracking.registry import Rule, register, undo

    name = cfg.tracking.model_name
    rule = Rule(cfg.train.promote_min_rows, cfg.train.promote_alpha)
    outcome = register(uri, name, served, rows, cfg.data.target, rule)
    run.on_failure(lambda: undo(name, outcome))
    run.set_tags(
        {
            "registry.version": outcome.version,
            "registry.champion": str(outcome.promoted).lower(),
            "registry.reason": outcome.reason,
        }
        | outcome.tags
    )
    verdict = "is the new champion" if outcome.promoted else "stays a challenger"
    log.info("registered %s v%s: %s (%s)", name, outcome.version, verdict, outcome.reason)


def log_rare_values(rare: dict[str, list[str]], min_count: int) -> None:
    """F1: say which training categories were too rare to keep their own feature."""
    for column, values in rare.items():
        log.info("F1: %s: %s seen < %d times, mapped to __other__", column, values, min_count)


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="config")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: run :func:`train` and print its metrics."""
    from .tracking.summary import print_metrics

    print_metrics(train(cfg), cfg)


if __name__ == "__main__":
    main()
