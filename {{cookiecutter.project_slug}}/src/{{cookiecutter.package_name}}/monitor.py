"""Monitor a batch of new rows: ``python -m {{ cookiecutter.package_name }}.monitor monitor.input=batch.csv``.

P4, F4, ML Test Score Mo2. The batch is compared with the training profile of a reference model
(``monitor.reference``, the champion of this data's lineage by default) and reported whole: a
monitor is never blinded by the data it monitors. Rows that break the model's contract are
findings (column, check, rows, examples), not a refusal; drift is checked on every feature the
batch has (``monitoring.drift``, thresholds in ``configs/monitor.yaml``); new, missing or retyped
columns since training are named (F4). It writes ``monitor.json`` and the console report next to
the run log, a PNG per drifted feature, ``report.html`` (the whole report as one self-contained
page to open and share), and records a ``monitor`` MLflow run linked to the reference run, with
metrics per feature.

Exit codes (for cron or CI):

* 0: nothing to report;
* 4: findings: drift, contract violations, missing feature columns, new columns a strict
  contract does not allow, or a reference model older than ``monitor.max_model_age_days``
  (Mo4; the report says which);
* 2: nothing could be checked: no input set, no such file, a file that cannot be read, or a
  reference model that does not exist.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import EXIT_FINDINGS, one_line_errors

if TYPE_CHECKING:
    from .monitoring.report import MonitorReport

log = logging.getLogger(__name__)


def monitor(cfg: DictConfig, now: datetime | None = None) -> MonitorReport:
    """The report of ``monitor.input`` against ``monitor.reference``'s training profile, and
    the reference model's age at ``now`` (the current time unless a test passes a clock).

    Raises :class:`~.errors.PipelineError` only when nothing can be checked (the run is then
    FAILED). Findings are not failures: the run finishes and the report says what it found.
    """
    from .data.io import required_input
    from .data.load import Inspection, Source
    from .data.validation import STRUCTURE
    from .monitoring.age import model_age, trained_at
    from .monitoring.drift import BatchCounts
    from .monitoring.report import MonitorReport, record
    from .serving.predictor import open_model
    from .tracking.runs import tracked_run

    settings = cfg.monitor
    output = Path(cfg.paths.output_dir)
    with tracked_run(cfg, stage="monitor", run_name="monitor") as run:
        source = required_input(settings.input, "monitor.input")
        predictor, uri, trained_by = open_model(
            run, settings.reference, cfg.tracking.model_name, role="reference"
        )
        spec = predictor.spec
        batch = Source(source, "monitor", "monitor.input", serving=True, contract=uri)
        inspection = Inspection(batch, spec, run, settings.chunk_rows, reference_run=trained_by)
        counts = BatchCounts(predictor.profile, predictor.features)
        for piece in inspection:  # a file of any size, one piece in memory at a time
            counts.add(piece)
        checked = inspection.report
        limit = settings.max_model_age_days  # Mo4; a model logged outside a run has no age
        age = model_age(trained_at(trained_by), limit, now) if trained_by else None
        report = MonitorReport(
            file=str(source),
            reference=uri,
            drift=counts.report(settings),
            violations=[p for p in checked.failures if p.check not in STRUCTURE.values()],
            schema_changes=checked.schema_changes,
            new_columns=[c for c in checked.columns if c not in spec.columns],
            strict=spec.strict,
            model_age=age,
        )
        summary = record(report, run, output, rows=counts.rows)
    print(summary, end="")
    return report


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="monitor")
@one_line_errors
def main(cfg: DictConfig) -> int:
    """Hydra entry point: exit 0 (nothing to report), 4 (findings) or 2 (nothing checked)."""
    return EXIT_FINDINGS if monitor(cfg).alert else 0


if __name__ == "__main__":
    main()
