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
from ..evaluation.gate import (
    Verdict,
    baseline_delta,
    require_beats_baseline,
    review_gate,
    slice_gate,
)
from ..evaluation.metrics import (
    PRIMARY_METRIC,
    compute_metrics,
    evaluate,
    model_outputs,
    outcome_plot,
    prefixed,
)
from ..evaluation.slices import record_slices, slice_columns, slice_metrics
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
    run.set_tags({f"split.{name}.rows": len(getattr(splits, name)) for name in SPLITS})
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


@dataclass(frozen=True)
class Sliced:
    """M6: one split's slices (:func:`~..evaluation.slices.slice_metrics`) and the whole
    split's primary metric, which each slice's gap is taken from."""

    rows: list[dict]
    whole: float


def score(
    cfg: DictConfig, model: Model, baseline: Model, data: Prepared, run: RunRecorder
) -> tuple[dict[str, float], Sliced]:
    """P3 and M6: validation and test metrics overall and per slice, the baseline's beside them
    with the difference (``delta/``), and the validation picture; then the gate (P1): a
    competing model that does not beat the baseline ends the run FAILED. Returns the metrics
    and the validation slices (the slice gate's input: :func:`gates`)."""
    task, encoding = data.encoding.task, data.encoding
    metrics = evaluate(baseline, encoding, data.tensors["val"], "baseline/val")
    columns = slice_columns(list(cfg.data.slices), data.spec)  # M7: sensitive ones too
    sliced = {}
    for name in ("val", "test"):
        split = data.tensors[name]
        outputs, y = model_outputs(model, encoding, split.x), split.y.numpy()
        metrics |= prefixed(compute_metrics(task, y, outputs), name)
        sliced[name] = slice_metrics(task, getattr(data.splits, name), columns, y, outputs)
        record_slices(run, name, sliced[name], task)
    metrics |= baseline_delta(metrics)
    run.log_metrics(metrics)
    run.log_figure(*outcome_plot(model, encoding, data.tensors["val"]))
    if model.competes and cfg.train.require_beats_baseline:
        require_beats_baseline(metrics, task, cfg.train.baseline_margin, cfg.model.name)
    return metrics, Sliced(sliced["val"], metrics[f"val/{PRIMARY_METRIC[task]}"])


def weigh_features(model: Model, data: Prepared, run: RunRecorder) -> None:
    """ML Test Score D2: the permutation importance of every input column on the validation
    split, as the metrics ``importance/<column>`` (how much the primary metric worsens when the
    column is shuffled) and the table ``importance/permutation.csv``; a column the model does
    not use (no rise) is named in the log, to be dropped or explained."""
    from ..evaluation.importance import importance_table, permutation_importance

    found = permutation_importance(model, data.encoding, data.features, data.tensors["val"])
    run.log_metrics({f"importance/{item.feature}": item.mean for item in found})
    run.log_text(importance_table(found, data.encoding), "importance/permutation.csv")
    unused = [item.feature for item in found if item.mean <= 0]
    if unused and model.competes:
        log.info("D2: shuffling %s costs the model nothing on validation", ", ".join(unused))


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
        "slices": slice_columns(list(cfg.data.slices), data.spec),
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
    cfg: DictConfig,
    run: RunRecorder,
    uri: str,
    served: Predictor,
    rows: pd.DataFrame,
    sliced: Sliced | None = None,
) -> None:
    """I4: register the served model; it becomes ``champion`` only if it passes the gates
    (:func:`gates`) and beats the current one on the same rows
    (:func:`~..tracking.registry.register`). Its model card, built from what the run recorded
    and ``card``'s words (P6), becomes the version's description and the run's
    ``model_card.md`` and ``model_card.html``. If the run fails after this, the alias goes back
    (the run's undo step), so it never points at a FAILED run."""
    from ..tracking.card import record_card
    from ..tracking.registry import Rule, register, undo

    name = cfg.tracking.model_name
    rule = Rule(cfg.train.promote_min_rows, cfg.train.promote_alpha)
    verdicts = gates(cfg, run, served, rows, sliced)
    refusals = [verdict.refusal for verdict in verdicts if verdict.refusal]
    outcome = register(uri, name, served, rows, cfg.data.target, rule, refusals)
    run.on_failure(lambda: undo(name, outcome))
    run.set_tags(
        {
            "registry.version": outcome.version,
            "registry.champion": str(outcome.promoted).lower(),
            "registry.reason": outcome.reason,
        }
        | outcome.tags
    )
    record_card(run, name, outcome.version, cfg.card)  # P6: what it is, how good, its limits
    verdict = "is the new champion" if outcome.promoted else "stays a challenger"
    log.info("registered %s v%s: %s (%s)", name, outcome.version, verdict, outcome.reason)


def gates(
    cfg: DictConfig,
    run: RunRecorder,
    served: Predictor,
    rows: pd.DataFrame,
    sliced: Sliced | None = None,
) -> list[Verdict]:
    """The gates before promotion, each recorded as ``gate.*`` tags: M6 and M7, every slice of
    the validation split ``rows`` scored through the served model, none worse than the whole by
    more than ``train.max_slice_gap``; M1, no uncommitted change under configs/, schemas/ or
    src/ when the run started (its ``git.unreviewed`` tag). ``sliced``: those slices already
    scored by :func:`score` on the same rows (the canary has shown that the served model
    answers as the trained one), so a training run scores them once."""
    task, target = served.task, cfg.data.target
    if sliced is None:
        outputs = served.outputs(rows.drop(columns=[target]))[0]
        y = served.encoding.encode(rows[target]).numpy()
        columns = slice_columns(list(cfg.data.slices), served.spec)
        whole = compute_metrics(task, y, outputs)[PRIMARY_METRIC[task]]
        sliced = Sliced(slice_metrics(task, rows, columns, y, outputs), whole)
    limit = cfg.train.max_slice_gap
    sliced_verdict = slice_gate(sliced.rows, sliced.whole, task, limit, served.spec.sensitive)
    state = run.client.get_run(run.run_id).data.tags.get("git.unreviewed", "unknown")
    reviewed = review_gate(state, cfg.train.allow_dirty_promotion)
    for verdict in (sliced_verdict, reviewed):
        run.set_tags(verdict.tags)
    return [sliced_verdict, reviewed]
