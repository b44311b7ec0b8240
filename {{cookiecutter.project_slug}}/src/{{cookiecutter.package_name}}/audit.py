"""The ML Test Score self-audit: ``python -m {{ cookiecutter.package_name }}.audit`` (``make audit``).

Breck et al. 2017 (D1-D7, M1-M7, I1-I7, Mo1-Mo7): ``configs/audit.yaml`` says what the project
does about each of the 28 tests, and this stage checks the evidence, not the claim
(``reports.audit``): it runs every named test and reads every named file, so a line whose
evidence is gone or failing drops to 0 and says why. It prints the table and the score, writes
``audit.json`` next to the run log and records an ``audit`` MLflow run (P6) with the section
totals and the score as metrics and the JSON as an artifact.

Exit codes: 0 when the audit ran, whatever the score (the score is information, not a gate);
2 when the config cannot be read (an unknown id, a missing test, a malformed piece of evidence).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import hydra
from omegaconf import DictConfig, OmegaConf

from .config import CONFIG_DIR, HYDRA_VERSION_BASE, AuditConfig
from .errors import one_line_errors

if TYPE_CHECKING:
    from .reports.audit import AuditReport


def audit(cfg: DictConfig) -> AuditReport:
    """Audit the project under ``paths.root`` against ``audit.tests``; the report, recorded."""
    from .data.io import write_text
    from .reports.audit import audit as run_audit
    from .reports.audit import check_config, render
    from .tracking.runs import tracked_run

    settings = OmegaConf.to_object(cfg.audit)
    assert isinstance(settings, AuditConfig)
    output = Path(cfg.paths.output_dir)
    with tracked_run(cfg, stage="audit", run_name="audit") as run:
        check_config(settings.tests)
        report = run_audit(settings.tests, Path(cfg.paths.root))
        text = report.to_json()
        write_text(output / "audit.json", text)
        run.log_text(text, "audit/audit.json")
        run.log_metrics(report.metrics())
        run.set_tags({"audit.score": f"{report.score:g}"})
    print(render(report), end="")
    print(f"audit.json: {output / 'audit.json'}")
    return report


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="audit")
@one_line_errors
def main(cfg: DictConfig) -> None:
    """Hydra entry point: exit 0 when the audit ran, 2 when its config cannot be read."""
    audit(cfg)


if __name__ == "__main__":
    main()
