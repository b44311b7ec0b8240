"""The steps of one training run, in the order :func:`~..train.train` takes them.

Each step is a plain function of the config, what earlier steps made, and the run that
records it (P6); ``train()`` is the path of a run and this module is how each step is done.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import pandas as pd
import torch
from omegaconf import DictConfig, OmegaConf

from ..data.features import FeaturePipeline
from ..data.io import write_text
from ..data.load import Source, load_validated
from ..data.schema import SchemaSpec, check_slices, load_contract
from ..data.split import Splits, split_frame
from ..data.tensors import TargetEncoding, Tensors, to_tensors
from ..evaluation.gate import baseline_delta, require_beats_baseline
from ..evaluation.metrics import compute_metrics, evaluate, model_outputs, outcome_plot, prefixed
from ..evaluation.slices import record_slices, slice_metrics
from ..models import ClosedFormModel, Model, build_model, fit_baseline
from ..monitoring.profile import Profile
from ..serving.predictor import Predictor, canary, log_predictor
from ..tracking.runs import RunRecorder, config_hash
from .checkpoint import CheckpointFile, TrainState
from .loop import EpochCallback, History, Hooks, train_network

log = logging.getLogger(__name__)
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Prepared:
    """The checked data of a run and everything fitted on its training split only."""

    spec: SchemaSpec
    splits: Splits
    features: FeaturePipeline
    encoding: TargetEncoding
    tensors: dict[str, Tensors]


def resumable(cfg: DictConfig) -> tuple[CheckpointFile, TrainState | None]:
    """This config's checkpoint file, and its saved state when ``train.resume`` asks for it."""
    checkpoint = CheckpointFile.for_config(
        cfg.paths.checkpoint_dir, cfg.model.name, config_hash(cfg)
    )
    found = cfg.train.resume and checkpoint.path.is_file()
    return checkpoint, checkpoint.load() if found else None


def prepare_data(cfg: DictConfig, run: RunRecorder) -> Prepared:
    """P2 and F1: the table checked against its contract (a failed check stops the run), split,
    and the features and target encoding fitted on the training split."""
    data, task = cfg.data, cfg.data.task
    spec = load_contract(data.schema, data.target, task)
    check_slices(list(data.slices), spec, data.schema)
    frame = load_validated(Source(data.path, "train", task=task), spec, run)
    splits = split_frame(frame, spec, data.target, task, data.split, source=data.path)
    features = FeaturePipeline.fit(splits.train, spec, data.features.rare_min_count)
    run.log_text(features.to_json(), "features/pipeline.json")
    for column, values in features.rare_values().items():
        log.info(
            "F1: %s: %s seen < %d times, mapped to __other__",
            column,
            values,
            data.features.rare_min_count,
        )
    encoding = TargetEncoding.fit(splits.train[data.target], task)
    tensors = {
        name: to_tensors(getattr(splits, name), data.target, encoding, features, data.path)
        for name in SPLITS
    }
    return Prepared(spec, splits, features, encoding, tensors)


def follow(cfg: DictConfig, resume: TrainState | None) -> dict[str, float]:
    """A torchrun rank other than 0: the same data and the same network, trained in step with
    rank 0 (DDP), with nothing recorded or written (rank 0 records the run); no metrics."""
    from .distributed import Unrecorded

    quiet = cast("RunRecorder", Unrecorded())
    fit_model(cfg, prepare_data(cfg, quiet), quiet, None, resume)
    return {}


def reference(data: Prepared) -> Model:
    """P1: the trivial baseline every model is measured against, fitted in closed form."""
    return fit_baseline(data.encoding, data.tensors["train"])


def fit_model(
    cfg: DictConfig,
    data: Prepared,
    run: RunRecorder,
    checkpoint: CheckpointFile | None,
    resume: TrainState | None,
    on_epoch: EpochCallback | None = None,
) -> Model:
    """``cfg.model``, fitted as it says it must be: in closed form, or by the training loop
    with a checkpoint after every epoch (none: a torchrun rank other than 0) and the curves and
    advice recorded (T1-T7); ``on_epoch`` sees each epoch's losses after they are logged."""
    train, encoding = data.tensors["train"], data.encoding
    torch.manual_seed(cfg.train.seed)
    model = build_model(cfg.model, encoding.task, train.x.shape[1], encoding.n_outputs)
    if isinstance(model, ClosedFormModel):
        return model.fit(train.x, encoding.fit_targets(train.y)).eval()

    def logged(epoch: int, losses: dict[str, float]) -> None:
        run.log_epoch(epoch, losses)
        if on_epoch is not None:
            on_epoch(epoch, losses)

    saved = replace(checkpoint, run_id=run.run_id) if checkpoint else None  # None: not rank 0
    hooks = Hooks(logged, saved, resume)
    fitted, history = train_network(model, encoding, train, data.tensors["val"], cfg.train, hooks)
    report_training(run, history, cfg.train.lr)
    return fitted


def report_training(run: RunRecorder, history: History, lr: float) -> None:
    """T1-T7: the schedule actually used (the batch size ``train.batch_size: null`` picked,
    the epochs ``train.steps`` gave) as tags, the advisor's verdict on the loss curve, and the
    learning curves as a plot."""
    from ..evaluation import plots
    from .advisor import advise_run

    run.set_tags(
        {
            "train.batch_size_used": history.batch_size,
            "train.epochs_planned": history.epochs,
            "train.epochs_run": len(history.train_loss),
        }
    )
    advice = advise_run(history, lr)
    run.log_advice(advice, history.train_loss)
    log.info("%s", advice.line())
    figure = plots.learning_curves(history.train_loss, history.val_loss, history.best_epoch)
    run.log_figure(figure, "plots/learning_curves.png")


def score(
    cfg: DictConfig, model: Model, baseline: Model, data: Prepared, run: RunRecorder
) -> dict[str, float]:
    """P3 and M6: validation and test metrics overall and per slice, the baseline's beside them
    with the difference (``delta/``), and the validation picture; then the gate (P1): a
    competing model that does not beat the baseline ends the run FAILED."""
    task, encoding = data.encoding.task, data.encoding
    metrics = evaluate(baseline, encoding, data.tensors["val"], "baseline/val")
    for name in ("val", "test"):
        split = data.tensors[name]
        outputs, y = model_outputs(model, encoding, split.x), split.y.numpy()
        metrics |= prefixed(compute_metrics(task, y, outputs), name)
        rows = slice_metrics(task, getattr(data.splits, name), list(cfg.data.slices), y, outputs)
        record_slices(run, name, rows, task)
    metrics |= baseline_delta(metrics)
    run.log_metrics(metrics)
    run.log_figure(*outcome_plot(model, encoding, data.tensors["val"]))
    if model.competes and cfg.train.require_beats_baseline:
        require_beats_baseline(metrics, task, cfg.train.baseline_margin, cfg.model.name)
    return metrics


def package(
    cfg: DictConfig, model: Model, data: Prepared, run: RunRecorder
) -> tuple[str, Predictor]:
    """Log the model as a pyfunc that takes raw rows, with its feature pipeline, encoding,
    contract and reference profile (P4); load it back and check it through the serving path
    (the canary). Returns its URI and the served predictor."""
    meta = {
        "model": OmegaConf.to_container(cfg.model, resolve=True, enum_to_str=True),
        "data": cfg.data.name,
        "task": data.encoding.task.value,
        "target": cfg.data.target,
        "split": OmegaConf.to_container(cfg.data.split, resolve=True),
        "slices": list(cfg.data.slices),
    }
    profile = Profile.of(data.splits.train, data.features)  # P4: what `monitor` compares with
    run.log_text(profile.to_json(), "monitoring/reference_profile.json")
    predictor = Predictor(model, data.features, data.encoding, data.spec, profile, meta)
    unlabelled = {
        name: getattr(data.splits, name).drop(columns=cfg.data.target) for name in ("val", "test")
    }
    uri = log_predictor(predictor, unlabelled["val"].head(5))
    served = canary(uri, predictor, unlabelled["test"])
    run.set_tags({"canary": "passed"})
    return uri, served


def write_outputs(cfg: DictConfig, metrics: dict[str, float], features: FeaturePipeline) -> None:
    """The metrics and fitted pipeline as plain files, for people and scripts that skip MLflow."""
    output = Path(cfg.paths.output_dir)
    write_text(output / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    write_text(output / "feature_pipeline.json", features.to_json())


def promote(
    cfg: DictConfig, run: RunRecorder, uri: str, served: Predictor, rows: pd.DataFrame
) -> None:
    """I4: register the served model; it becomes ``champion`` only if it beats the current one
    on the same rows (:func:`~..tracking.registry.register`). If the run fails after this, the
    alias goes back (the run's undo step), so it never points at a FAILED run."""
    from ..tracking.registry import Rule, register, undo

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
