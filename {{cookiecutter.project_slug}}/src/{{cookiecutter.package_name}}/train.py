"""Train a model: ``python -m {{ cookiecutter.package_name }}.train [hydra overrides]``.

``train(cfg)`` is the path of one run, step by step (``training/steps.py`` says how each step
is done); ``main`` is the thin Hydra entry point around it, so tests call ``train`` on a config
from ``compose()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import one_line_errors

if TYPE_CHECKING:
    from .training.loop import EpochCallback


def train(cfg: DictConfig, on_epoch: EpochCallback | None = None) -> dict[str, float]:
    """Fit ``cfg.model`` on the training split and return its validation and test metrics.

    Every step runs inside one MLflow run (P6): a failure anywhere leaves it FAILED, before any
    model is registered. A model that passes the baseline gate (P1) is logged as a pyfunc that
    takes raw rows, loaded back and checked through the serving path (the canary), and, as the
    run's last step, registered and made ``champion`` only if it beats the current one on the
    same rows (I4). A trial of a sweep stops before registering: its trials run side by side.
    ``on_epoch`` sees each epoch's losses as they are logged (``tune`` prunes with it). Under
    torchrun only rank 0 records and returns the metrics; the other ranks return ``{}``.
    """
    from .tracking.runs import tracked_run  # heavy imports wait for work: `--help` is instant
    from .tracking.sweep import parent_run
    from .training import steps
    from .training.distributed import joined

    checkpoint, resume = steps.resumable(cfg)
    run_name, resume_run = f"train-{cfg.model.name}", resume and resume.run_id
    with joined() as shard:  # under torchrun: other ranks train in step, recording nothing
        if not shard.main:
            return steps.follow(cfg, resume)
        with tracked_run(cfg, "train", run_name, resume_run=resume_run) as run:
            if cfg.train.resume and resume is None:
                checkpoint.load()  # raises "no checkpoint", inside the run: it ends FAILED
            data = steps.prepare_data(cfg, run)  # P2: stops on bad data; F1: fit on train only
            baseline = steps.reference(data)  # P1
            model = steps.fit_model(cfg, data, run, checkpoint, resume, on_epoch)
            metrics, sliced = steps.score(cfg, model, baseline, data, run)  # P3, M6; P1 gate
            steps.weigh_features(model, data, run)  # D2: what each input column is worth
            uri, served = steps.package(cfg, model, data, run)  # the canary: served as logged
            steps.write_outputs(cfg, metrics, data.features)
            if model.competes and not parent_run():  # last: only a run that succeeded promotes
                steps.promote(cfg, run, uri, served, data.splits.val, sliced)  # (no trial)
    checkpoint.remove()
    return metrics


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="train")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: run :func:`train` and print its metrics."""
    from .tracking.summary import print_metrics

    metrics = train(cfg)
    if metrics:  # under torchrun, rank 0 prints them
        print_metrics(metrics, cfg)


if __name__ == "__main__":
    main()
