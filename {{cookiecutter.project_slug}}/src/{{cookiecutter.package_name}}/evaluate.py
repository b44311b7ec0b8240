"""Score a model on a split: ``python -m {{ cookiecutter.package_name }}.evaluate [evaluate.model=champion]``.

The model is named by registry alias, run id or URI. The data (``data.path``) is checked against
the model's own contract, split again with the settings the model was trained with (so
``test`` is the split it never saw), and scored overall and per slice (M6). The result is its
own MLflow run (stage ``evaluate``), linked to the model and to the run that trained it.
"""

from __future__ import annotations

import logging

import hydra
from omegaconf import DictConfig, OmegaConf

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import one_line_errors

log = logging.getLogger(__name__)


def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Metrics of ``evaluate.model`` on ``evaluate.split`` of ``data.path``, as ``<split>/<name>``."""
    from .data.load import Source, load_validated
    from .data.split import split_frame
    from .evaluation.metrics import compute_metrics, prefixed
    from .evaluation.slices import record_slices, slice_columns, slice_metrics
    from .serving.predictor import open_model
    from .tracking.runs import tracked_run

    split = cfg.evaluate.split.value
    with tracked_run(cfg, stage="evaluate", run_name=f"evaluate-{cfg.evaluate.model}") as run:
        predictor, uri, _ = open_model(run, cfg.evaluate.model, cfg.tracking.model_name)
        run.set_tags({"evaluate.split": split})
        target, task, spec = predictor.meta["target"], predictor.task, predictor.spec
        source = Source(cfg.data.path, "evaluate", task=task, contract=uri)
        frame = load_validated(source, spec, run)
        trained_split = OmegaConf.create(predictor.meta["split"])
        part = getattr(split_frame(frame, spec, target, task, trained_split, cfg.data.path), split)
        outputs, _ = predictor.outputs(part)
        y = predictor.encoding.encode(part[target], cfg.data.path).numpy()
        metrics = prefixed(compute_metrics(task, y, outputs), split)
        run.log_metrics(metrics)
        columns = slice_columns(list(cfg.data.slices), spec)  # M7: sensitive ones too
        rows = slice_metrics(task, part, columns, y, outputs)
        record_slices(run, split, rows, task)
    return metrics


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="evaluate")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: print the metrics; a missing model or bad data exits 2."""
    from .tracking.summary import print_metrics

    print_metrics(evaluate(cfg), cfg, f"{cfg.evaluate.model} on {cfg.evaluate.split.value}")


if __name__ == "__main__":
    main()
