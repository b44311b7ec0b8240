"""Check a new batch for drift: ``python -m {{ cookiecutter.package_name }}.monitor monitor.input=batch.csv``.

P4, F4, ML Test Score Mo2. The batch is validated with the serving form of the reference
model's contract (no target), with every new, missing or retyped column since training named;
then every feature is compared with the model's training profile (``monitoring.drift``),
deciding with the thresholds in ``configs/monitor/``. It writes ``drift.json`` and the console
table next to the run log, a PNG per drifted feature, and records a ``monitor`` MLflow run
linked to the reference run, with metrics per feature.

Exit codes (for cron or CI): 0 no drift, 4 drift, 2 invalid input or a reference that does not
exist.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import EXIT_DRIFT, PipelineError, exit_bad_input

if TYPE_CHECKING:
    from .monitoring.drift import DriftReport

log = logging.getLogger(__name__)


def monitor(cfg: DictConfig) -> DriftReport:
    """The drift report of ``monitor.input`` against ``monitor.reference``'s training profile.

    Raises :class:`~.errors.PipelineError` for a missing reference or a batch that breaks the
    contract (the run is then FAILED). Drift itself is a finding, not a failure: the run
    finishes and the report says what drifted.
    """
    from .data.load import inspect_table
    from .data.validation import DataValidationError
    from .evaluation.plots import distribution_shift
    from .monitoring.drift import detect_drift
    from .monitoring.report import render, to_json
    from .serving import open_model
    from .tracking import tracked_run

    settings = cfg.monitor
    output = Path(cfg.paths.output_dir)
    with tracked_run(cfg, stage="monitor", run_name="monitor") as run:
        predictor, uri, trained_by = open_model(
            run, settings.reference, cfg.tracking.model_name, role="reference"
        )
        frame, checked = inspect_table(
            settings.input, predictor.spec, run, "monitor", serving=True, reference_run=trained_by
        )
        for warning in checked.warnings:  # F4: schema changes since training, by name
            log.warning("%s: %s", warning.column or settings.input, warning.check)
        if not checked.ok:
            raise DataValidationError(checked)
        report = detect_drift(frame, predictor.profile, predictor.features, settings)
        text, summary = to_json(report, uri), render(report)
        output.mkdir(parents=True, exist_ok=True)
        (output / "drift.json").write_text(text, encoding="utf-8")
        (output / "drift.txt").write_text(summary, encoding="utf-8")
        run.log_text(text, "drift/drift.json")
        run.log_text(summary, "drift/drift.txt")
        for name in report.drifted_features:
            shares = report.distributions[name]
            figure = distribution_shift(name, shares.labels, shares.reference, shares.current)
            figure.savefig(output / f"drift_{name}.png", dpi=100)
            run.log_figure(figure, f"drift/{name}.png")
        run.log_metrics(
            {f"drift/{c.feature}/{c.effect_name}": c.effect for c in report.checks}
            | {"drift/features_drifted": len(report.drifted_features)}
        )
        run.set_tags(
            {
                "drift.verdict": "drift" if report.drifted else "clean",
                "drift.features": ",".join(report.drifted_features),
            }
        )
    print(summary, end="")
    return report


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    """Hydra entry point: exit 0 (clean), 4 (drift) or 2 (invalid input, missing reference)."""
    try:
        report = monitor(cfg)
    except PipelineError as err:
        exit_bad_input(err)
    sys.exit(EXIT_DRIFT if report.drifted else 0)


if __name__ == "__main__":
    main()
