"""Undo a promotion: ``python -m {{ cookiecutter.package_name }}.rollback`` (``make rollback``, I7).

Moves the registry alias ``champion`` of ``tracking.model_name`` back to the version it replaced
and marks the demoted version ``rolled_back``. Run it again to step further back. Recorded as
an MLflow run (stage ``rollback``) with both versions, so every change of what serves is
written down (P6).
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from .config import CONFIG_DIR, HYDRA_VERSION_BASE
from .errors import PipelineError, exit_bad_input


def rollback(cfg: DictConfig) -> tuple[str, str]:
    """Move ``champion`` back one step; return the ``(from, to)`` versions."""
    from . import registry
    from .tracking import tracked_run

    with tracked_run(cfg, stage="rollback", run_name="rollback") as run:
        demoted, restored = registry.rollback(cfg.tracking.model_name)
        run.set_tags({"rollback.from": demoted, "rollback.to": restored})
    return demoted, restored


@hydra.main(version_base=HYDRA_VERSION_BASE, config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    """Hydra entry point: exit 2 when there is nothing to roll back to."""
    try:
        demoted, restored = rollback(cfg)
    except PipelineError as err:
        exit_bad_input(err)
    print(f"{cfg.tracking.model_name}: champion moved from v{demoted} back to v{restored}")


if __name__ == "__main__":
    main()
