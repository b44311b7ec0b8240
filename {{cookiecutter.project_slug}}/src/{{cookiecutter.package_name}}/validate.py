"""Validate a table against its schema: ``python -m {{ cookiecutter.package_name }}.validate [data.path=...]``.

Reads the table ``validate.chunk_rows`` rows at a time, so a file of any size fits in memory,
and reports what the whole table showed. Prints every problem at once (file, column, check, rows, examples), writes the report as JSON
and text next to Hydra's run log, records it as an MLflow run (stage ``validate``), and exits 0
when the data is clean and 2 when it is not (``make validate``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import one_line_errors

log = logging.getLogger(__name__)


def validate(cfg: DictConfig) -> str:
    """Validate ``cfg.data.path`` against ``cfg.data.schema``; return the rendered report.

    Raises :class:`~{{ cookiecutter.package_name }}.data.report.DataValidationError` (with
    the full report) when any check fails; the MLflow run is then FAILED with the report attached.
    """
    from .data.load import Inspection, Source
    from .data.report import write_report
    from .data.schema import check_slices, load_contract
    from .tracking.runs import tracked_run

    data = cfg.data
    with tracked_run(cfg, stage="validate", run_name="validate") as run:
        spec = load_contract(data.schema, data.target, data.task)
        check_slices(list(data.slices), spec, data.schema)
        source = Source(data.path, "validate", task=data.task)
        inspection = Inspection(source, spec, run, cfg.validate.chunk_rows, data.reference_run)
        for _ in inspection:  # a file of any size, one piece in memory at a time
            pass
        report = inspection.report
        write_report(report, Path(cfg.paths.output_dir))
        run.log_metrics(
            {
                "validation/failures": len(report.failures),
                "validation/warnings": len(report.warnings),
            }
        )
        report.raise_if_failed()
    return report.render()


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="validate")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: print the report; exit 2 when the data breaks its contract."""
    print(validate(cfg))


if __name__ == "__main__":
    main()
