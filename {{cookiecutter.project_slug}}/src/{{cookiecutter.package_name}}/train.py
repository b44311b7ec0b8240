"""Train a model: ``python -m {{ cookiecutter.package_name }}.train [hydra overrides]``.

``train(cfg)`` is the whole pipeline as plain function calls; ``main`` is the thin Hydra entry
point around it, so tests call ``train`` on a config from ``compose()``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import PipelineError, exit_bad_input

log = logging.getLogger(__name__)


def train(cfg: DictConfig) -> dict[str, float]:
    """Fit ``cfg.model`` on the training split and return its validation and test metrics.

    Every step runs inside one MLflow run (P6): a failure anywhere leaves it FAILED.
    """
    # Heavy imports (torch, pandas, mlflow) wait until work starts, so `--help` is instant.
    import torch

    from .data.features import FeaturePipeline
    from .data.load import load_validated
    from .data.schema import load_contract
    from .data.split import split_frame
    from .data.tensors import TargetEncoding, to_tensors
    from .evaluation import plots
    from .evaluation.gate import baseline_delta, require_beats_baseline
    from .evaluation.metrics import evaluate, outcome_plot
    from .models import build_model, fit_baseline
    from .tracking import tracked_run
    from .training.advisor import advise
    from .training.loop import train_network

    data, task = cfg.data, cfg.data.task
    with tracked_run(cfg, stage="train", run_name=f"train-{cfg.model.name}") as run:
        spec = load_contract(data.schema, data.target, task)
        frame = load_validated(data.path, spec, run, context="train")  # stops here on bad data
        splits = split_frame(frame, spec, data.target, task, data.split, source=data.path)
        features = FeaturePipeline.fit(splits.train, spec, data.features.rare_min_count)
        run.log_text(features.to_json(), "features/pipeline.json")
        log_rare_values(features.rare_values(), data.features.rare_min_count)
        encoding = TargetEncoding.fit(splits.train[data.target], task)
        parts = {
            name: to_tensors(part, data.target, encoding, features, data.path)
            for name, part in (("train", splits.train), ("val", splits.val), ("test", splits.test))
        }
        baseline = fit_baseline(task, encoding.n_outputs, *parts["train"])
        model = baseline
        if cfg.model.name != "baseline":
            torch.manual_seed(cfg.train.seed)
            net = build_model(cfg.model, task, parts["train"][0].shape[1], encoding.n_outputs)
            model, history = train_network(
                net, task, *parts["train"], *parts["val"], cfg.train, on_epoch=run.log_epoch
            )
            advice = advise(
                history.train_loss, cfg.train.lr, cfg.train.batch_size, history.stopped_early
            )
            run.log_advice(advice, history.train_loss)
            log.info("%s", advice.line())
            run.log_figure(
                plots.learning_curves(history.train_loss, history.val_loss, history.best_epoch),
                "plots/learning_curves.png",
            )
        metrics = evaluate(model, task, *parts["val"], "val") | evaluate(
            model, task, *parts["test"], "test"
        )
        metrics |= evaluate(baseline, task, *parts["val"], "baseline/val")
        metrics |= baseline_delta(metrics, task)
        run.log_metrics(metrics)
        run.log_figure(*outcome_plot(model, task, *parts["val"], encoding.classes))
        if cfg.model.name != "baseline" and cfg.train.require_beats_baseline:
            require_beats_baseline(metrics, task, cfg.train.baseline_margin, cfg.model.name)
        write_json(metrics, Path(cfg.paths.output_dir) / "metrics.json")
        Path(cfg.paths.output_dir, "feature_pipeline.json").write_text(features.to_json())
    return metrics


def log_rare_values(rare: dict[str, list[str]], min_count: int) -> None:
    """F1: say which training categories were too rare to keep their own feature."""
    for column, values in rare.items():
        log.info("F1: %s: %s seen < %d times, mapped to __other__", column, values, min_count)


def write_json(payload: dict[str, float], path: Path) -> None:
    """Write ``payload`` next to Hydra's run log, for people and scripts that skip MLflow."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    """Hydra entry point: run :func:`train`, turn input errors into one line and exit code 2."""
    from .reporting import print_metrics

    try:
        metrics = train(cfg)
    except PipelineError as err:
        exit_bad_input(err)
    print_metrics(metrics, cfg)


if __name__ == "__main__":
    main()
